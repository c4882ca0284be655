"""Reads pcap and pcapng files and groups their TCP and UDP packets by flow.

The Python twin of tests/tools/pcap_reader.cpp, for expected.py, which uses
it to check where a name in nDPI's results came from.  Standard library
only; files are untrusted, so a damaged file ends the packets early rather
than raising past the caller.
"""

import ipaddress
import struct

PCAPNG_SHB = 0x0A0D0D0A


class CaptureError(Exception):
    pass


def frames(data):
    """Yields (linktype, frame bytes) for each frame of a pcap or pcapng file."""
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng_frames(data)
        return
    if len(data) < 24:
        raise CaptureError("neither pcap nor pcapng")
    magic = data[:4]
    if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    elif magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    else:
        raise CaptureError("neither pcap nor pcapng")
    linktype = struct.unpack_from(order + "I", data, 20)[0] & 0xFFFF
    pos = 24
    while len(data) - pos >= 16:
        caplen = struct.unpack_from(order + "I", data, pos + 8)[0]
        if caplen > len(data) - pos - 16:
            return
        yield linktype, data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen


def _pcapng_frames(data):
    pos = 0
    order = "<"
    linktypes = []
    while len(data) - pos >= 12:
        if data[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
            bom = data[pos + 8:pos + 12]
            if bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            elif bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            else:
                return
            linktypes = []
        btype, length = struct.unpack_from(order + "II", data, pos)
        if length < 12 or length % 4 or length > len(data) - pos:
            return
        body = data[pos + 8:pos + length - 4]
        pos += length
        if btype == 1 and len(body) >= 8:
            linktypes.append(struct.unpack_from(order + "H", body, 0)[0])
        elif btype in (2, 6) and len(body) >= 20:
            if btype == 6:
                ifc = struct.unpack_from(order + "I", body, 0)[0]
            else:
                ifc = struct.unpack_from(order + "H", body, 0)[0]
            caplen = struct.unpack_from(order + "I", body, 12)[0]
            if ifc >= len(linktypes) or caplen > len(body) - 20:
                return
            yield linktypes[ifc], body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and linktypes:
            orig = struct.unpack_from(order + "I", body, 0)[0]
            yield linktypes[0], body[4:4 + orig]


def _ether(etype, rest):
    while etype in (0x8100, 0x88A8, 0x9100) and len(rest) >= 4:
        etype = struct.unpack_from(">H", rest, 2)[0]
        rest = rest[4:]
    if etype == 0x8864 and len(rest) >= 8:
        ppp = struct.unpack_from(">H", rest, 6)[0]
        return {0x0021: rest[8:], 0x0057: rest[8:]}.get(ppp)
    if etype in (0x0800, 0x86DD):
        return rest
    return None


def ip_packet(linktype, frame):
    """The IP packet in a frame, or None; the same link types as the C++ reader."""
    if linktype == 1 and len(frame) >= 14:
        return _ether(struct.unpack_from(">H", frame, 12)[0], frame[14:])
    if linktype in (0, 108) and len(frame) >= 4:
        return frame[4:]
    if linktype in (12, 14, 101, 228, 229):
        return frame
    if linktype == 113 and len(frame) >= 16:
        return _ether(struct.unpack_from(">H", frame, 14)[0], frame[16:])
    if linktype == 276 and len(frame) >= 20:
        return _ether(struct.unpack_from(">H", frame, 0)[0], frame[20:])
    if linktype == 9:
        if frame[:2] == b"\xff\x03":
            frame = frame[2:]
        if frame[:2] in (b"\x00\x21", b"\x00\x57"):
            return frame[2:]
        if frame[:1] in (b"\x21", b"\x57"):
            return frame[1:]
    return None


class Packet:
    """One TCP or UDP packet: endpoints as (ipaddress, port) pairs."""

    __slots__ = ("number", "proto", "src", "dst", "seq", "flags", "payload")

    def __init__(self, number, proto, src, dst, seq, flags, payload):
        self.number = number
        self.proto = proto
        self.src = src
        self.dst = dst
        self.seq = seq
        self.flags = flags
        self.payload = payload


def _transport(number, proto, src, dst, l4):
    if proto == 6 and len(l4) >= 20:
        sport, dport, seq = struct.unpack_from(">HHI", l4, 0)
        offset = (l4[12] >> 4) * 4
        if offset < 20:
            return None
        return Packet(number, "TCP", (src, sport), (dst, dport), seq,
                      l4[13], l4[offset:])
    if proto == 17 and len(l4) >= 8:
        sport, dport, length = struct.unpack_from(">HHH", l4, 0)
        payload = l4[8:length] if length >= 8 else l4[8:]
        return Packet(number, "UDP", (src, sport), (dst, dport), 0, 0,
                      payload)
    return None


def decode(number, ip):
    """A Packet for an unfragmented (or first-fragment) TCP/UDP packet."""
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from(">H", ip, 2)[0]
        if ihl < 20 or struct.unpack_from(">H", ip, 6)[0] & 0x1FFF:
            return None
        end = total if ihl <= total <= len(ip) else len(ip)
        return _transport(number, ip[9], ipaddress.IPv4Address(ip[12:16]),
                          ipaddress.IPv4Address(ip[16:20]), ip[ihl:end])
    if version == 6 and len(ip) >= 40:
        plen = struct.unpack_from(">H", ip, 4)[0]
        end = 40 + plen if plen and 40 + plen <= len(ip) else len(ip)
        nxt, at = ip[6], 40
        # Hop-by-hop, routing, fragment and destination options headers.
        while nxt in (0, 43, 44, 60) and at + 8 <= end:
            if nxt == 44:
                if struct.unpack_from(">H", ip, at + 2)[0] & 0xFFF8:
                    return None
                length = 8
            else:
                length = (ip[at + 1] + 1) * 8
            nxt, at = ip[at], at + length
        return _transport(number, nxt, ipaddress.IPv6Address(ip[8:24]),
                          ipaddress.IPv6Address(ip[24:40]), ip[at:end])
    return None


def flow_key(proto, a, b):
    return (proto, frozenset((a, b)))


def packets_by_flow(path, wanted):
    """{flow_key: [Packet, ...]} in capture order, for the keys in wanted."""
    with open(path, "rb") as f:
        data = f.read()
    flows = {}
    try:
        for number, (linktype, frame) in enumerate(frames(data), 1):
            p = decode(number, ip_packet(linktype, frame))
            if p is None:
                continue
            key = flow_key(p.proto, p.src, p.dst)
            if key in wanted:
                flows.setdefault(key, []).append(p)
    except (struct.error, IndexError, ValueError):
        pass  # a damaged file ends its packets here
    return flows


def tcp_stream(packets, src, limit=65536):
    """The first bytes src sent in a TCP flow, in sequence order.

    Returns (bytes, ends): ends[i] is the stream offset where the i-th
    segment that contributed ended, so a message's segment count can be
    told.  The stream starts after src's SYN if the capture has it, else at
    src's first segment with data.
    """
    start = None
    for p in packets:
        if p.src == src and p.flags & 0x02:
            start = (p.seq + 1) & 0xFFFFFFFF
            break
    segments = [p for p in packets if p.src == src and p.payload]
    if not segments:
        return b"", []
    if start is None:
        start = segments[0].seq
    out = bytearray()
    ends = []
    progress = True
    while progress and len(out) < limit:
        progress = False
        for p in segments:
            rel = (p.seq - start) & 0xFFFFFFFF
            if rel >= 0x80000000:
                continue  # before the start: a retransmission of the SYN's
            if rel <= len(out) < rel + len(p.payload):
                out += p.payload[len(out) - rel:]
                ends.append(len(out))
                progress = True
                break
    return bytes(out[:limit]), ends


def endpoint(ep):
    addr, port = ep
    if addr.version == 6:
        return "[%s]:%d" % (addr, port)
    return "%s:%d" % (addr, port)


def parse_endpoint(text):
    """'1.2.3.4:80' or '[2001:db8::1]:80' to (ipaddress, port)."""
    host, _, port = text.rpartition(":")
    return ipaddress.ip_address(host.strip("[]")), int(port)
