#!/usr/bin/env python3
"""Turns the worker's JSON flow log from the VM replay into score.py's input.

usage: from_flow_log.py WINDOWS FLOWS [-o EXTRACTED]

WINDOWS (tests/vm/cases/dpi_replay.sh's windows.tsv) gives, for each
capture, the guest time (ns) its replay began; a flow line belongs to the
last capture begun before its "ts".  FLOWS holds one JSON object per line
(the worker's --log).  Writes capture, field, name, client, server: one row
per logged flow that names its field's value.
"""

import argparse
import bisect
import datetime
import json
import sys

# The log's field, and the key holding its value.
VALUE_KEY = {"tls.sni": "sni", "quic.sni": "sni", "http.host": "host",
             "dns.qname": "qname"}


def ts_ns(text):
    """'2026-12-02T18:03:00.123456Z' -> ns since the epoch."""
    day, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(day, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    micros = int((frac + "000000")[:6]) if frac else 0
    return int(t.timestamp()) * 10**9 + micros * 1000


def endpoint(addr, port):
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("windows")
    ap.add_argument("flows")
    ap.add_argument("-o", "--output")
    args = ap.parse_args(argv[1:])
    starts, names = [], []
    with open(args.windows, encoding="utf-8") as f:
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if len(cells) != 2 or cells[0] == "capture":
                continue
            starts.append(int(cells[1]))
            names.append(cells[0])
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    out.write("capture\tfield\tname\tclient\tserver\n")
    rows = bad = 0
    with open(args.flows, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                e = json.loads(line)
                field = e.get("field")
                value = e.get(VALUE_KEY.get(field, ""), "")
                at = bisect.bisect_right(starts, ts_ns(e["ts"])) - 1
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            if not value or at < 0:
                continue
            out.write("\t".join((names[at], field, value,
                                 endpoint(e["src"], e["sport"]),
                                 endpoint(e["dst"], e["dport"]))) + "\n")
            rows += 1
    if args.output:
        out.close()
    print("from_flow_log: %d names, %d unreadable lines" % (rows, bad),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
