"""score.py on hand-made pairs of TSVs.

Run: python3 -m unittest discover -s tests/captures
"""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402

EXPECTED = """\
capture\tfield\tname\tclient\tserver\tvariant\tstatus
a.pcap\ttls.sni\twww.example.com\t10.0.0.1:40000\t93.184.216.34:443\tpq,split\tok
a.pcap\ttls.sni\tcdn.example.com\t10.0.0.1:40002\t93.184.216.35:443\t-\tok
a.pcap\thttp.host\texample.org\t[2001:db8::1]:50000\t[2001:db8::80]:80\t-\tok
a.pcap\tdns.qname\texample.net\t10.0.0.1:5353\t10.0.0.53:53\tudp\tok
b.pcap\tquic.sni\tquic.example.com\t10.0.0.2:6000\t10.0.0.3:443\tv1\tok
b.pcap\tquic.sni\tgoogle.com\t10.0.0.2:6002\t10.0.0.3:443\tQ046\tgquic
b.pcap\ttls.sni\tmid.example.com\t10.0.0.2:7000\t10.0.0.3:443\t-\tno-first-message
"""

# Every ok flow, spelled differently: no header, upper case, a trailing
# dot, another IPv6 spelling, endpoints swapped, an extra column.
EXTRACTED_ALL = """\
a.pcap\ttls.sni\tWWW.EXAMPLE.COM\t10.0.0.1:40000\t93.184.216.34:443
a.pcap\ttls.sni\tcdn.example.com.\t93.184.216.35:443\t10.0.0.1:40002\textra
a.pcap\thttp.host\texample.org\t[2001:DB8:0:0::1]:50000\t[2001:db8::80]:80
a.pcap\tdns.qname\texample.net\t10.0.0.1:5353\t10.0.0.53:53
b.pcap\tquic.sni\tquic.example.com\t10.0.0.2:6000\t10.0.0.3:443
"""


class ScoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.expected = self.write("expected.tsv", EXPECTED)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_score(self, extracted, *options):
        path = self.write("extracted.tsv", extracted)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = score.main([self.expected, path] + list(options))
        return rc, out.getvalue()

    def test_every_ok_flow_found_passes(self):
        rc, out = self.run_score(EXTRACTED_ALL)
        self.assertEqual(rc, 0, out)
        self.assertIn("tls.sni    recall 1.0000 (2/2)", out)
        self.assertIn("quic.sni   recall 1.0000 (1/1)", out)
        self.assertNotIn("miss", out)

    def test_a_miss_below_the_threshold_fails_and_is_listed(self):
        lines = EXTRACTED_ALL.splitlines(keepends=True)
        rc, out = self.run_score("".join(lines[1:]))
        self.assertEqual(rc, 1, out)
        self.assertIn("tls.sni    recall 0.5000 (1/2)  BELOW 0.99", out)
        self.assertIn("miss a.pcap www.example.com 10.0.0.1:40000", out)
        self.assertIn("score: recall below 0.99 for tls.sni", out)

    def test_the_wrong_name_on_the_flow_is_a_miss_that_shows_it(self):
        wrong = EXTRACTED_ALL.replace("WWW.EXAMPLE.COM", "www.example.co")
        rc, out = self.run_score(wrong, "--min-recall", "0.5")
        self.assertEqual(rc, 0, out)
        self.assertIn("got www.example.co", out)

    def test_flows_without_the_first_bytes_are_not_counted(self):
        # Neither the gQUIC nor the mid-flow TLS flow is extracted, and
        # neither lowers recall.
        rc, out = self.run_score(EXTRACTED_ALL)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("google.com", out)
        self.assertNotIn("mid.example.com", out)

    def test_also_counts_a_status(self):
        rc, out = self.run_score(EXTRACTED_ALL, "--also", "gquic")
        self.assertEqual(rc, 1, out)
        self.assertIn("quic.sni   recall 0.5000 (1/2)", out)
        self.assertIn("Q046", out)

    def test_fields_limits_what_is_scored(self):
        only_dns = "".join(l for l in EXTRACTED_ALL.splitlines(True)
                           if "dns.qname" in l)
        rc, out = self.run_score(only_dns, "--fields", "dns.qname")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("tls.sni", out)

    def test_rows_without_endpoints_match_by_name_once(self):
        names = ("a.pcap\ttls.sni\twww.example.com\n"
                 "a.pcap\ttls.sni\twww.example.com\n")
        rc, out = self.run_score(names, "--fields", "tls.sni")
        self.assertEqual(rc, 1, out)
        self.assertIn("(1/2)", out)  # cdn.example.com was not given

    def test_a_field_with_no_counted_flow_is_reported_not_failed(self):
        self.expected = self.write("expected.tsv", EXPECTED.splitlines()[0]
                                   + "\n")
        rc, out = self.run_score("")
        self.assertEqual(rc, 0, out)
        self.assertIn("tls.sni    no counted flows", out)

    def test_variants_are_broken_down(self):
        rc, out = self.run_score(EXTRACTED_ALL)
        self.assertIn("pq           1/1", out)
        self.assertIn("split        1/1", out)


if __name__ == "__main__":
    unittest.main()
