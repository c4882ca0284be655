#!/usr/bin/env bash
# The DPI on real traffic, through the real kernel path: the public
# captures (scripts/captures.sh) made Ethernet (tests/captures/to_ether.py),
# replayed by tcpreplay inside the test VM into the namespace whose
# prerouting hook queues them to nfring-worker (tests/vm/cases/dpi_replay.sh).
# Prints the worker's CPU per packet with accept-all rules and with L7
# rules, and the recall of the names it logged, scored against those nDPI
# found (tests/captures/score.py; docs/captures.md).
#
# usage: captures-replay.sh [BUILD]
#   needs BUILD/vm/initramfs.cpio.gz (make vm-image).  REPLAY_PPS (default
#   4000) is tcpreplay's rate; FIELDS and MIN_RECALL (default 0.97) go to
#   score.py, which exits non-zero below it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=$build/captures
image=$build/vm/initramfs.cpio.gz
[ -f "$image" ] || { echo "captures-replay: $image missing; run make vm-image" >&2; exit 2; }
scripts/captures.sh "$out"
python3 tests/captures/expected.py "$out" -o "$out/expected.tsv"
rm -rf "$out/stage"
mkdir -p "$out/stage/captures"
python3 tests/captures/to_ether.py "$out/expected.tsv" "$out/pcap" \
	"$out/stage/captures" > "$out/to_ether.txt"
echo "captures-replay: $(tail -n 1 "$out/to_ether.txt" | tr '\t' ' ')"
# The captures ride in a second cpio archive after the test image's: the
# kernel unpacks both into one root.
(cd "$out/stage" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out/captures.cpio.gz"
cat "$image" "$out/captures.cpio.gz" > "$build/vm/replay.cpio.gz"
rm -rf "$out/stage" "$out/vm"
NFRING_VM_OUT=$out/vm NFRING_VM_TIMEOUT=${NFRING_VM_TIMEOUT:-1200} \
	NFRING_VM_APPEND=" REPLAY_PPS=${REPLAY_PPS:-4000}" \
	tests/vm/run-vm.sh "$build/vm/replay.cpio.gz" dpi_replay
echo
echo "Worker CPU per packet, replayed captures (same packets, same rate):"
awk -F'\t' 'NR > 1 { ns[$1] = $4; printf "  %-11s %7d packets  %6d ns/packet\n", $1, $2, $4 }
	END { if (ns["accept_all"] > 0) printf "  L7 rules / accept-all: %.2fx\n", ns["l7_rules"] / ns["accept_all"] }' \
	"$out/vm/cost.tsv"
python3 tests/captures/from_flow_log.py "$out/vm/windows.tsv" "$out/vm/flows.json" \
	-o "$out/extracted-vm.tsv"
python3 tests/captures/score.py "$out/expected.tsv" "$out/extracted-vm.tsv" \
	--fields "${FIELDS:-tls.sni,http.host,dns.qname,quic.sni}" \
	--min-recall "${MIN_RECALL:-0.97}"
