#!/usr/bin/env python3
"""Scores names a tool extracted from the captures against expected.py's.

usage: score.py EXPECTED EXTRACTED [--min-recall R] [--fields F,...]
                [--also STATUS,...] [--misses N]

EXPECTED is expected.py's TSV.  EXTRACTED has the same first columns,
capture, field, name, client, server (a header row and further columns are
optional), one row per name the tool found; a tool that cannot tell flows
apart may give only capture, field, name, and its rows then match by name
within the capture.

A flow counts when its status is "ok" (the client's first bytes are in the
capture and carry the name) or listed with --also.  It is found when the
tool gave the same name (case and a trailing dot aside) for the same
capture, field and pair of endpoints, in either order.  Prints recall per
field (and per variant within a field), the misses, and exits 1 when a
scored field's recall is below --min-recall (default 0.99); a field with
no counted flow is reported and not failed.
"""

import argparse
import collections
import ipaddress
import sys

FIELDS = ("tls.sni", "http.host", "dns.qname", "quic.sni")
EXPECTED_COLUMNS = ("capture", "field", "name", "client", "server",
                    "variant", "status")


def norm_name(name):
    return name.strip().rstrip(".").lower()


def norm_endpoint(text):
    """'1.2.3.4:80', '[2001:DB8:0::1]:80' -> one spelling; None if neither."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        return None
    try:
        return str(ipaddress.ip_address(host.strip("[]"))), int(port)
    except ValueError:
        return None


def read_tsv(path, columns):
    """Rows as dicts keyed by columns (or by the file's header row)."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        header = None
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if number == 1 and cells[0] == "capture":
                header = cells
                continue
            names = header or columns
            rows.append(dict(zip(names, cells)))
    return rows


def flow(row):
    a = norm_endpoint(row.get("client", ""))
    b = norm_endpoint(row.get("server", ""))
    if a is None or b is None:
        return None
    return frozenset((a, b))


def score(expected, extracted, fields, also):
    """{field: [counted, found, misses, {variant: [counted, found]}]}."""
    by_flow = collections.defaultdict(set)
    by_name = collections.Counter()
    for row in extracted:
        key = (row.get("capture", ""), row.get("field", ""))
        name = norm_name(row.get("name", ""))
        f = flow(row)
        if f is None:
            by_name[key + (name,)] += 1
        else:
            by_flow[key + (f,)].add(name)

    counted = set(("ok",) + tuple(also))
    results = {field: [0, 0, [], collections.defaultdict(lambda: [0, 0])]
               for field in fields}
    for row in expected:
        field = row.get("field")
        if field not in results or row.get("status", "ok") not in counted:
            continue
        key = (row["capture"], field)
        name = norm_name(row["name"])
        f = flow(row)
        found = f is not None and name in by_flow.get(key + (f,), ())
        if not found and by_name[key + (name,)] > 0:
            by_name[key + (name,)] -= 1
            found = True
        r = results[field]
        for variant in row.get("variant", "-").split(","):
            r[3][variant][0] += 1
            r[3][variant][1] += found
        r[0] += 1
        if found:
            r[1] += 1
        else:
            got = sorted(by_flow.get(key + (f,), ())) if f else []
            r[2].append((row, got))
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("expected")
    ap.add_argument("extracted")
    ap.add_argument("--min-recall", type=float, default=0.99)
    ap.add_argument("--fields", default=",".join(FIELDS),
                    help="fields to score (default: all four)")
    ap.add_argument("--also", default="",
                    help="statuses to count besides ok, e.g. quic-version")
    ap.add_argument("--misses", type=int, default=50,
                    help="misses listed per field (default 50)")
    args = ap.parse_args(argv)

    fields = [f for f in args.fields.split(",") if f]
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        ap.error("unknown field %s (known: %s)" % (unknown[0], ", ".join(FIELDS)))
    also = [s for s in args.also.split(",") if s]
    expected = read_tsv(args.expected, EXPECTED_COLUMNS)
    extracted = read_tsv(args.extracted, EXPECTED_COLUMNS[:5])
    results = score(expected, extracted, fields, also)

    failed = []
    for field in fields:
        total, found, misses, variants = results[field]
        if total == 0:
            print("%-10s no counted flows" % field)
            continue
        recall = found / total
        mark = "" if recall >= args.min_recall else "  BELOW %.2f" % args.min_recall
        print("%-10s recall %.4f (%d/%d)%s" % (field, recall, found, total, mark))
        for variant in sorted(variants):
            if variant != "-" or len(variants) > 1:
                vt, vf = variants[variant]
                print("%-10s   %-12s %d/%d" % ("", variant, vf, vt))
        if recall < args.min_recall:
            failed.append(field)
        for row, got in misses[:args.misses]:
            print("  miss %s %s %s -> %s [%s]%s" % (
                row["capture"], row["name"], row.get("client", "?"),
                row.get("server", "?"), row.get("variant", "-"),
                " got " + ",".join(got) if got else ""))
        if len(misses) > args.misses:
            print("  ... and %d more" % (len(misses) - args.misses))
    if failed:
        print("score: recall below %.2f for %s" % (args.min_recall,
                                                    ", ".join(failed)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
