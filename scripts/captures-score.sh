#!/usr/bin/env bash
# Recall of the DPI on real captures (docs/captures.md): the names
# nfring-pcap-names finds, through the worker's own inspector, against the
# names an established DPI engine found in the same traffic.
#
# usage: captures-score.sh [BUILD] [score.py options]
#   FIELDS (default tls.sni,http.host,dns.qname,quic.sni) and MIN_RECALL
#   (default 0.99) are passed to score.py; it exits non-zero below it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
out=$build/captures
scripts/captures.sh "$out"
python3 tests/captures/expected.py "$out" -o "$out/expected.tsv"
tool=$build/bin/nfring-pcap-names
[ -x "$tool" ] || { echo "captures-score: $tool missing; run make" >&2; exit 2; }
shopt -s nullglob
"$tool" "$out"/pcap/* > "$out/extracted.tsv" \
	2> >(sed 's/^/    /' >&2)
python3 tests/captures/score.py "$out/expected.tsv" "$out/extracted.tsv" \
	--fields "${FIELDS:-tls.sni,http.host,dns.qname,quic.sni}" \
	--min-recall "${MIN_RECALL:-0.99}" "$@"
