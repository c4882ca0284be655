"""expected.py on a synthesized capture and result file: the checks that
decide whether a name ndpiReader printed came from the client's first
bytes.

Run: python3 -m unittest discover -s tests/captures
"""

import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expected  # noqa: E402

CLIENT = bytes([10, 0, 0, 1])
SERVER = bytes([10, 0, 0, 2])


def ipv4(proto, src, dst, l4):
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64,
                         proto, 0, src, dst)
    return header + l4


def tcp(src, sport, dst, dport, seq, flags, payload=b""):
    l4 = struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags,
                     65535, 0, 0) + payload
    return ipv4(6, src, dst, l4)


def udp(src, sport, dst, dport, payload):
    return ipv4(17, src, dst,
                struct.pack(">HHHH", sport, dport, 8 + len(payload), 0)
                + payload)


def pcap(packets):
    """Raw IP (101), little-endian, microseconds."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    for i, p in enumerate(packets):
        out += struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)) + p
    return out


def client_hello(sni, groups):
    def ext(etype, body):
        return struct.pack(">HH", etype, len(body)) + body

    sni_ext = b""
    if sni is not None:
        name = sni.encode()
        sni_ext = ext(0, struct.pack(">HBH", len(name) + 3, 0, len(name))
                      + name)
    shares = b"".join(struct.pack(">HH", g, n) + b"\x00" * n
                      for g, n in groups)
    key_share = ext(51, struct.pack(">H", len(shares)) + shares)
    exts = sni_ext + key_share
    body = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x02\x13\x01"
            + b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def dns_query(name, response=False):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split("."))
    flags = 0x8180 if response else 0x0100
    return struct.pack(">HHHHHH", 1, flags, 1, 0, 0, 0) + q + b"\x00" \
        + b"\x00\x01\x00\x01"


PROTOCOLS = {"91": "TLS", "5": "DNS", "7": "HTTP"}


def result_line(n, proto, src, dst, master, name):
    """A flow as ndpiReader 4.2 prints it (fields it has left out)."""
    return ("\t%d\t%s %s <-> %s [proto: %s/%s][Encrypted][cat: Web/5]"
            "[Hostname/SNI: %s][Plen Bins: 0]\n"
            % (n, proto, src, dst, master, PROTOCOLS[master], name))


class ExpectedTest(unittest.TestCase):
    def rows(self, packets, lines):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.pcap")
            r = os.path.join(d, "x.pcap.out")
            with open(p, "wb") as f:
                f.write(pcap(packets))
            with open(r, "w") as f:
                f.write("".join(lines))
            return list(expected.capture_rows(p, r))

    def test_pq_hello_in_two_segments_is_ok_and_marked(self):
        hello = client_hello("pq.example.com", [(0x11EC, 1216), (0x1D, 32)])
        cut = 1000
        packets = [
            tcp(CLIENT, 40000, SERVER, 443, 99, 0x02),
            tcp(SERVER, 443, CLIENT, 40000, 500, 0x12),
            # The second half first: the stream is put back in order.
            tcp(CLIENT, 40000, SERVER, 443, 100 + cut, 0x18, hello[cut:]),
            tcp(CLIENT, 40000, SERVER, 443, 100, 0x10, hello[:cut]),
        ]
        rows = self.rows(packets, [result_line(
            1, "TCP", "10.0.0.2:443", "10.0.0.1:40000", "91",
            "pq.example.com")])
        self.assertEqual(rows, [("tls.sni", "pq.example.com",
                                 "10.0.0.1:40000", "10.0.0.2:443",
                                 "pq,split", "ok")])

    def test_hello_missing_a_segment_is_incomplete(self):
        hello = client_hello("pq.example.com", [(0x11EC, 1216)])
        packets = [tcp(CLIENT, 40000, SERVER, 443, 100, 0x18, hello[:1000])]
        rows = self.rows(packets, [result_line(
            1, "TCP", "10.0.0.1:40000", "10.0.0.2:443", "91",
            "pq.example.com")])
        self.assertEqual(rows[0][5], "hello-incomplete")

    def test_name_from_a_certificate_is_not_counted(self):
        hello = client_hello(None, [(0x1D, 32)])
        packets = [tcp(CLIENT, 40000, SERVER, 443, 100, 0x18, hello)]
        rows = self.rows(packets, [result_line(
            1, "TCP", "10.0.0.1:40000", "10.0.0.2:443", "91",
            "cert.example.com")])
        self.assertEqual(rows[0][5], "name-not-in-hello")

    def test_dns_query_is_ok_and_a_lone_response_is_not(self):
        packets = [
            udp(CLIENT, 5353, SERVER, 53, dns_query("Example.NET")),
            udp(SERVER, 53, CLIENT, 5354, dns_query("other.net", True)),
        ]
        rows = self.rows(packets, [
            result_line(1, "UDP", "10.0.0.1:5353", "10.0.0.2:53", "5",
                        "example.net"),
            result_line(2, "UDP", "10.0.0.2:53", "10.0.0.1:5354", "5",
                        "other.net"),
        ])
        self.assertEqual(rows[0], ("dns.qname", "example.net",
                                   "10.0.0.1:5353", "10.0.0.2:53", "udp",
                                   "ok"))
        self.assertEqual(rows[1][5], "response-only")

    def test_http_host_without_its_port(self):
        request = b"GET / HTTP/1.1\r\nHost: WWW.Example.ORG:8080\r\n\r\n"
        packets = [tcp(CLIENT, 40000, SERVER, 8080, 1, 0x18, request)]
        rows = self.rows(packets, [result_line(
            1, "TCP", "10.0.0.1:40000", "10.0.0.2:8080", "7",
            "www.example.org")])
        self.assertEqual(rows[0][1], "www.example.org")
        self.assertEqual(rows[0][5], "ok")

    def test_truncated_name_is_replaced_by_the_full_one(self):
        long_name = "a" * 70 + ".example.com"  # 82 bytes; nDPI keeps 79
        hello = client_hello(long_name, [(0x1D, 32)])
        packets = [tcp(CLIENT, 40000, SERVER, 443, 100, 0x18, hello)]
        rows = self.rows(packets, [result_line(
            1, "TCP", "10.0.0.1:40000", "10.0.0.2:443", "91",
            long_name[-79:])])
        self.assertEqual(rows[0][1], long_name)
        self.assertEqual(rows[0][5], "ok")


if __name__ == "__main__":
    unittest.main()
