#!/usr/bin/env bash
# `make bench`: microbenchmarks on the host, then the nfring vs NFQUEUE
# matrix in one boot of the test VM (bench/vm/bench.sh), saved to
# bench/results/ and printed with the target ratios (bench/report.py).
#
# NFRING_BENCH_RUNS, NFRING_BENCH_SECONDS, NFRING_BENCH_LAT_SAMPLES and
# NFRING_BENCH_PKTGEN_SIZES (defaults 3, 3, 5000, 64,1500) are passed to
# the guest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make --no-print-directory vm-image >/dev/null

echo "==> microbenchmarks (host)"
build/bench/nfring_micro_bench --benchmark_out=bench/results/micro.json \
	--benchmark_out_format=json

echo
echo "==> nfring vs NFQUEUE in the test VM (one boot; takes a few minutes)"
append=
for v in NFRING_BENCH_RUNS NFRING_BENCH_SECONDS NFRING_BENCH_LAT_SAMPLES \
	NFRING_BENCH_PKTGEN_SIZES; do
	[ -n "${!v:-}" ] && append+=" $v=${!v}"
done
NFRING_VM_APPEND="$append" NFRING_VM_OUT=bench/results NFRING_VM_TIMEOUT=1800 \
	NFRING_VM_VERBOSE=1 tests/vm/run-vm.sh build/vm/initramfs.cpio.gz bench
echo
python3 bench/report.py bench/results/latest.json | tee bench/results/summary.txt
bench/plot.sh bench/results/latest.json
