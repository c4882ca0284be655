#!/usr/bin/env python3
"""The names nfring's DPI must find in the public captures, as a TSV.

usage: expected.py [CAPTURES] [-o FILE]

CAPTURES is what scripts/captures.sh made (default build/captures): nDPI
4.2's regression captures in pcap/ and ndpiReader's results for them in
result/NAME.out, and the captures recorded here (tests/captures/local/)
with tshark's reading of them in result/NAME.flows (one hello per line:
proto, client, server, master protocol, name).  Writes (to FILE or stdout)
one row per flow for which a name was read:

    capture  field  name  client  server  variant  status

field    tls.sni, http.host, dns.qname or quic.sni
name     the name, lower case, as ndpiReader printed it (see truncation)
client   the endpoint that sent the flow's first message, ip:port
server   the other one ([v6]:port for IPv6)
variant  more about the message: for TLS "pq" (a key share for
         X25519MLKEM768, 0x11ec), "pq-draft" (X25519Kyber768Draft00,
         0x6399) and "split" (the ClientHello spans TCP segments); for
         HTTP "split" (the Host line is past the first segment); for DNS
         "udp" or "tcp"; for QUIC the version ("v1", "v2", "draft-29",
         "v2-draft", "mvfst-27", "Q046", "T051", ...).  Comma-separated;
         "-" when there is nothing to say.
status   "ok" when the client's first bytes are in the capture and carry
         the name; otherwise why the flow does not count (below).

Mapping.  ndpiReader prints "[Hostname/SNI: NAME]", one name per flow,
whatever the protocol; the field is chosen by the flow's master protocol
in "[proto: MASTER.APP/...]": TLS over TCP is tls.sni, HTTP is http.host,
DNS (UDP or TCP) is dns.qname and QUIC is quic.sni.  Names of every other
protocol (LLMNR, mDNS, NetBIOS, DHCP, STUN, SMTP, DTLS, ...) are left out.

Each flow is then checked against the capture itself (pcapfile.py), since
ndpiReader also fills the name from places a middlebox reading a client's
first bytes cannot use.  A row is "ok" when:
  tls.sni    one side's TCP stream starts with a whole ClientHello whose
             server_name is the name;
  http.host  one side's stream starts with a request whose Host header,
             without its port, is the name;
  dns.qname  one side sent a query (QR clear) for the name;
  quic.sni   one side sent a long-header packet of QUIC v1, v2 or
             draft-29.  Its Initial is encrypted and is not opened here;
             nDPI 4.2 reads QUIC names only from client Initials.
Other statuses, each a reason the flow does not count:
  tunnelled           inside GTP or CAPWAP (ndpiReader strips those)
  not-at-outer-ip     no such 5-tuple in the outer IP headers (IP-in-IP)
  no-first-message    no side starts with a ClientHello or a request: the
                      capture began mid-flow, or TLS follows STARTTLS
  hello-incomplete    the ClientHello's segments are not all captured
  name-not-in-hello   the hello has no server_name (ndpiReader took a
                      certificate's name)
  name-differs        the client's message names something else (a later
                      request's Host, a name made printable with '?')
  response-only       DNS: only responses were captured
  quic-version        QUIC drafts other than 29, Facebook's mvfst and the
                      draft of v2: real Initials, but versions an engine
                      may refuse
  gquic               Google QUIC (Q0xx, T0xx): not IETF QUIC
score.py counts only "ok" unless told otherwise (--also).

Truncation.  nDPI 4.2 keeps the last 79 bytes of a longer name.  When the
client's message holds a longer name ending in ndpiReader's, the row
carries the full name from the message.
"""

import argparse
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapfile  # noqa: E402

FIELDS = {"TLS": "tls.sni", "HTTP": "http.host", "DNS": "dns.qname",
          "QUIC": "quic.sni"}
NDPI_NAME_MAX = 79

FLOW_RE = re.compile(r"^\s+\d+\s+(TCP|UDP)\s+(\S+)\s+<?->\s+(\S+)\s+(.*)$")
PROTO_RE = re.compile(r"\[proto: (?:([A-Za-z]+):)?[0-9.]+/([^\]]+)\]")
NAME_RE = re.compile(r"\[Hostname/SNI: (.*?)\](?=\[|$)")


def result_flows(path):
    """(proto, src, dst, master, tunnel, name) for each named flow."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = FLOW_RE.match(line.rstrip("\n"))
            if not m:
                continue
            proto, src, dst, rest = m.groups()
            p = PROTO_RE.search(rest)
            n = NAME_RE.search(rest)
            if not p or not n:
                continue
            master = p.group(2).split(".")[0]
            yield (proto, pcapfile.parse_endpoint(src),
                   pcapfile.parse_endpoint(dst), master, p.group(1),
                   n.group(1))


def listed_flows(path):
    """The same from a .flows file (tests/captures/chromium.sh)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if len(cells) != 5 or line.startswith("#"):
                continue
            proto, src, dst, master, name = cells
            yield (proto, pcapfile.parse_endpoint(src),
                   pcapfile.parse_endpoint(dst), master, None, name.lower())


def matches(found, name):
    """found (from the packet, lower case) is ndpiReader's name: equal, or
    longer and ending in nDPI's 79-byte tail."""
    if found == name:
        return True
    return len(name) == NDPI_NAME_MAX and found.endswith(name)


# --- TLS -------------------------------------------------------------------

def client_hello(stream, ends):
    """(hello body or None if incomplete, segments it spans), or None when
    the stream does not start with a handshake record holding a
    ClientHello."""
    if len(stream) < 6 or stream[0] != 0x16 or stream[1] != 3 or stream[5] != 1:
        return None
    handshake = bytearray()
    at = 0
    need = None
    while len(stream) - at >= 5 and stream[at] == 0x16:
        length = struct.unpack_from(">H", stream, at + 3)[0]
        fragment = stream[at + 5:at + 5 + length]
        handshake += fragment
        at += 5 + length
        if len(fragment) < length:
            break
        if need is None and len(handshake) >= 4:
            need = 4 + int.from_bytes(handshake[1:4], "big")
        if need is not None and len(handshake) >= need:
            segments = next(i for i, e in enumerate(ends) if e >= at) + 1
            return bytes(handshake[4:need]), segments
    return None, 0


def hello_fields(body):
    """(server_name or None, key share groups) of a ClientHello body."""
    at = 2 + 32
    at += 1 + body[at]  # session id
    at += 2 + struct.unpack_from(">H", body, at)[0]  # cipher suites
    at += 1 + body[at]  # compression methods
    sni, groups = None, []
    if at + 2 > len(body):
        return sni, groups
    end = min(len(body), at + 2 + struct.unpack_from(">H", body, at)[0])
    at += 2
    while at + 4 <= end:
        etype, elen = struct.unpack_from(">HH", body, at)
        ext = body[at + 4:at + 4 + elen]
        at += 4 + elen
        if etype == 0 and len(ext) >= 5 and ext[2] == 0:
            nlen = struct.unpack_from(">H", ext, 3)[0]
            sni = ext[5:5 + nlen].decode("latin-1").lower()
        elif etype == 51 and len(ext) >= 2:
            i = 2
            while i + 4 <= len(ext):
                group, klen = struct.unpack_from(">HH", ext, i)
                groups.append(group)
                i += 4 + klen
    return sni, groups


def check_tls(packets, ends_a, ends_b, name):
    for client, server in (ends_a, ends_b):
        stream, ends = pcapfile.tcp_stream(packets, client)
        found = client_hello(stream, ends)
        if found is None:
            continue
        body, segments = found
        if body is None:
            return client, server, name, "-", "hello-incomplete"
        try:
            sni, groups = hello_fields(body)
        except (IndexError, struct.error):
            return client, server, name, "-", "hello-incomplete"
        variant = []
        if 0x11EC in groups:
            variant.append("pq")
        if 0x6399 in groups:
            variant.append("pq-draft")
        if segments > 1:
            variant.append("split")
        variant = ",".join(variant) or "-"
        if sni is None:
            return client, server, name, variant, "name-not-in-hello"
        if not matches(sni, name):
            return client, server, name, variant, "name-differs"
        return client, server, sni, variant, "ok"
    return ends_a[0], ends_a[1], name, "-", "no-first-message"


# --- HTTP ------------------------------------------------------------------

REQUEST_RE = re.compile(rb"^[A-Z][A-Z_-]{1,15} [^ \r\n]+ HTTP/")
HOST_RE = re.compile(rb"\r?\nhost:[ \t]*([^\r\n]*)", re.IGNORECASE)


def request_host(stream):
    """(Host without its port, lower case, or None; offset past its line)."""
    head = stream.split(b"\r\n\r\n", 1)[0]
    m = HOST_RE.search(head)
    if not m:
        return None, 0
    host = m.group(1).strip().decode("latin-1").lower()
    if host.startswith("["):
        host = host[:host.find("]") + 1] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":")[0]
    return host, m.end()


def check_http(packets, ends_a, ends_b, name):
    for client, server in (ends_a, ends_b):
        stream, ends = pcapfile.tcp_stream(packets, client)
        if not REQUEST_RE.match(stream):
            continue
        host, end = request_host(stream)
        variant = "split" if ends and end > ends[0] else "-"
        if host is None or not matches(host, name):
            return client, server, name, variant, "name-differs"
        return client, server, host, variant, "ok"
    return ends_a[0], ends_a[1], name, "-", "no-first-message"


# --- DNS -------------------------------------------------------------------

def dns_question(msg):
    """(is_query, qname lower case) of a DNS message, or None."""
    if len(msg) < 12 or struct.unpack_from(">H", msg, 4)[0] == 0:
        return None
    labels, at, jumps = [], 12, 0
    while True:
        if at >= len(msg):
            return None
        n = msg[at]
        if n == 0:
            break
        if n & 0xC0 == 0xC0:
            if at + 1 >= len(msg) or jumps > 8:
                return None
            at, jumps = ((n & 0x3F) << 8) | msg[at + 1], jumps + 1
            continue
        if n & 0xC0 or at + 1 + n > len(msg):
            return None
        labels.append(msg[at + 1:at + 1 + n].decode("latin-1"))
        at += 1 + n
    return not msg[2] & 0x80, ".".join(labels).lower()


def check_dns(proto, packets, ends_a, ends_b, name):
    queries = []
    for p in packets:
        if proto == "UDP":
            q = dns_question(p.payload)
            if q:
                queries.append((p.src, p.dst, q))
    if proto == "TCP":
        for client, server in (ends_a, ends_b):
            stream, _ = pcapfile.tcp_stream(packets, client)
            at = 0
            while len(stream) - at >= 2:
                length = struct.unpack_from(">H", stream, at)[0]
                q = dns_question(stream[at + 2:at + 2 + length])
                if q:
                    queries.append((client, server, q))
                at += 2 + length
    asked = [(c, s, qname) for c, s, (is_query, qname) in queries if is_query]
    variant = proto.lower()
    for client, server, qname in asked:
        if matches(qname, name):
            return client, server, qname, variant, "ok"
    if asked:
        client, server, _ = asked[0]
        return client, server, name, variant, "name-differs"
    return ends_a[0], ends_a[1], name, variant, "response-only"


# --- QUIC ------------------------------------------------------------------

def quic_version(payload):
    """The version label of a client's first QUIC packet, or None."""
    if len(payload) < 5:
        return None
    first = payload[0]
    if first & 0x80:
        version = payload[1:5]
    elif first & 0x01 and first & 0x08 and len(payload) >= 13:
        version = payload[9:13]  # gQUIC public header: flags, CID, version
    else:
        return None
    if version[:1] in (b"Q", b"T") and version[1:].isdigit():
        return version.decode()
    v = int.from_bytes(version, "big")
    if v == 0:
        return None  # version negotiation, from a server
    if v & 0x0F0F0F0F == 0x0A0A0A0A:
        return "reserved"  # RFC 9000 15: forces version negotiation
    named = {0x00000001: "v1", 0x6B3343CF: "v2", 0xFF020000: "v2-draft-00",
             0x709A50C4: "v2-draft",
             0xFACEB001: "mvfst-22", 0xFACEB002: "mvfst-27",
             0xFACEB00E: "mvfst-exp"}
    if v in named:
        return named[v]
    if v >> 8 == 0xFF0000:
        return "draft-%d" % (v & 0xFF)
    return "0x%08x" % v


def check_quic(packets, ends_a, ends_b, name):
    client = None
    for p in packets:
        version = quic_version(p.payload)
        if version is None or (client and p.src != client):
            continue
        # The sender of the first long header is the client; a reserved
        # version only provokes negotiation, the next Initial has the name.
        client, server = p.src, p.dst
        if version == "reserved":
            continue
        if version in ("v1", "v2", "draft-29"):
            status = "ok"
        elif version[0] in "QT":
            status = "gquic"
        else:
            status = "quic-version"
        return client, server, name, version, status
    if client:
        return client, server, name, "reserved", "quic-version"
    return ends_a[0], ends_a[1], name, "-", "no-first-message"


# --- main ------------------------------------------------------------------

def capture_rows(pcap, result):
    named = []
    read = listed_flows if result.endswith(".flows") else result_flows
    for proto, src, dst, master, tunnel, name in read(result):
        field = FIELDS.get(master)
        if field is None or (master in ("TLS", "HTTP") and proto != "TCP") \
                or (master == "QUIC" and proto != "UDP"):
            continue
        named.append((proto, src, dst, field, tunnel, name))
    wanted = {pcapfile.flow_key(proto, src, dst)
              for proto, src, dst, _, _, _ in named}
    flows = pcapfile.packets_by_flow(pcap, wanted) if wanted else {}
    for proto, src, dst, field, tunnel, name in named:
        a, b = (src, dst), (dst, src)
        packets = flows.get(pcapfile.flow_key(proto, src, dst))
        if tunnel:
            row = (src, dst, name, "-", "tunnelled")
        elif not packets:
            row = (src, dst, name, "-", "not-at-outer-ip")
        elif field == "tls.sni":
            row = check_tls(packets, a, b, name)
        elif field == "http.host":
            row = check_http(packets, a, b, name)
        elif field == "dns.qname":
            row = check_dns(proto, packets, a, b, name)
        else:
            row = check_quic(packets, a, b, name)
        client, server, name, variant, status = row
        yield (field, name, pcapfile.endpoint(client),
               pcapfile.endpoint(server), variant, status)


def clean(text):
    return re.sub(r"[\t\r\n]", "?", text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("captures", nargs="?", default="build/captures")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    args = ap.parse_args()

    results = os.path.join(args.captures, "result")
    if not os.path.isdir(results):
        sys.exit("expected.py: no %s (run scripts/captures.sh)" % results)
    out = open(args.output, "w") if args.output else sys.stdout
    out.write("capture\tfield\tname\tclient\tserver\tvariant\tstatus\n")
    for entry in sorted(os.listdir(results)):
        capture, ext = os.path.splitext(entry)
        if ext not in (".out", ".flows"):
            continue
        pcap = os.path.join(args.captures, "pcap", capture)
        if not os.path.exists(pcap):
            continue
        for row in capture_rows(pcap, os.path.join(results, entry)):
            out.write("\t".join([capture] + [clean(c) for c in row]) + "\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
