#!/usr/bin/env python3
"""Rewrites captures as Ethernet pcaps that tcpreplay can put on a veth.

usage: to_ether.py EXPECTED CAPTURES_DIR OUT_DIR

For each capture that holds a flow expected.py counts ("ok"), writes
OUT_DIR/NAME: every IP packet of it, in order, in an Ethernet frame from
02:00:00:00:d1:02 to 02:00:00:00:d1:01 (the MAC the VM case gives the
filtering namespace's interface, so the kernel takes the frames as its
own).  What the wire carried, as far as the capture shows it:

- Other link types (Linux cooked, raw IP, VLAN tags, PPPoE) become plain
  Ethernet.  Non-IP frames are left out.
- Checksums are computed again: a capture taken on the sender holds the
  blanks that checksum offload fills in later, and a receiver (and the
  worker's inspector) would drop such segments.  IPv4 fragments and IPv6
  with extension headers keep theirs.
- A packet cut short by the capture's snap length is left out (the kernel
  drops an IP packet shorter than its header says), and counted.

Prints one line per capture and the totals.  Standard library only.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapfile  # noqa: E402

DST_MAC = bytes.fromhex("02000000d101")
SRC_MAC = bytes.fromhex("02000000d102")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def fix_l4(proto, pseudo, l4):
    """l4 with its TCP or UDP checksum computed again (UDP's 0 kept)."""
    if proto == 6 and len(l4) >= 20:
        at = 16
    elif proto == 17 and len(l4) >= 8:
        at = 6
        if l4[6:8] == b"\0\0" and len(pseudo) == 12:
            return l4  # IPv4 UDP without a checksum
    else:
        return l4
    l4 = bytearray(l4)
    l4[at:at + 2] = b"\0\0"
    c = checksum(pseudo + bytes(l4))
    if proto == 17 and c == 0:
        c = 0xFFFF
    l4[at:at + 2] = struct.pack("!H", c)
    return bytes(l4)


def normalize(ip):
    """The packet as it was on the wire, or None when cut short."""
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        if total < ihl or len(ip) < total:
            return None
        ip = bytearray(ip[:total])  # padding off
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", checksum(bytes(ip[:ihl])))
        frag = struct.unpack_from("!H", ip, 6)[0]
        if frag & 0x3FFF:  # a fragment: its L4 sum spans the others
            return bytes(ip)
        proto = ip[9]
        l4 = bytes(ip[ihl:])
        pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, proto, len(l4))
        return bytes(ip[:ihl]) + fix_l4(proto, pseudo, l4)
    if version == 6 and len(ip) >= 40:
        total = 40 + struct.unpack_from("!H", ip, 4)[0]
        if len(ip) < total:
            return None
        ip = ip[:total]
        proto = ip[6]
        l4 = ip[40:]
        pseudo = ip[8:40] + struct.pack("!IxxxB", len(l4), proto)
        return ip[:40] + fix_l4(proto, pseudo, l4)
    return None


def write_pcap(path, frames):
    with open(path, "wb") as f:
        # Microsecond pcap, Ethernet, snap length 65535.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000,
                                len(frame), len(frame)))
            f.write(frame)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    expected, src, out = argv[1:]
    wanted = set()
    with open(expected, encoding="utf-8") as f:
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if len(cells) >= 7 and cells[6] == "ok":
                wanted.add(cells[0])
    os.makedirs(out, exist_ok=True)
    totals = [0, 0, 0]
    for name in sorted(wanted):
        path = os.path.join(src, name)
        if not os.path.exists(path):
            print("to_ether: %s: missing" % name, file=sys.stderr)
            continue
        frames = []
        cut = skipped = 0
        with open(path, "rb") as f:
            data = f.read()
        try:
            for linktype, frame in pcapfile.frames(data):
                ip = pcapfile.ip_packet(linktype, frame)
                if ip is None:
                    skipped += 1
                    continue
                wire = normalize(bytes(ip))
                if wire is None:
                    cut += 1
                    continue
                etype = b"\x08\x00" if wire[0] >> 4 == 4 else b"\x86\xdd"
                frames.append(DST_MAC + SRC_MAC + etype + wire)
        except pcapfile.CaptureError as e:
            print("to_ether: %s: %s" % (name, e), file=sys.stderr)
        write_pcap(os.path.join(out, name), frames)
        print("%s\t%d packets\t%d cut short\t%d not IP"
              % (name, len(frames), cut, skipped))
        totals[0] += len(frames)
        totals[1] += cut
        totals[2] += skipped
    print("total\t%d packets\t%d cut short\t%d not IP" % tuple(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
