#!/usr/bin/env bash
# `make check-debug`: the whole VM suite on the debug kernel (KASAN,
# KFENCE, UBSAN, lockdep, PROVE_RCU, debug objects, kmemleak; see
# scripts/debug-kernel.sh), then the hostile-peer stress test and the soak.
# Every case fails on any kernel report, kmemleak's included (the guest
# scans after each case).  Not part of `make check`: it takes about
# three quarters of an hour on 2 cores, the first time plus the kernel.
#
# Environment: STRESS_SECONDS (default 180), SOAK_SECONDS (default 600),
#   NFRING_DEBUG_CASES  a space-separated subset of the suite's test names
#                       (e.g. "vm.load_unload"), or "none"
#   NFRING_DEBUG_LONG=0 skip the long stress and soak runs
set -euo pipefail
cd "$(dirname "$0")/.."

dk=$(scripts/debug-kernel.sh)
kver=$(cat "$dk/kver")
echo "check-debug: kernel $kver ($dk), built in $(cat "$dk/build-seconds") s"

# nfring.ko and the harness's test module, built against the debug
# kernel in a copy of their sources (kbuild writes next to the sources).
out=build/debug
rm -rf "$out/kmod" && mkdir -p "$out/kmod"
cp -r kernel "$out/kmod/kernel"
cp -r abi "$out/kmod/abi"
cp -r tests/vm/modules "$out/kmod/testmod"
make -s -C "$dk/obj" M="$PWD/$out/kmod/kernel" modules
make -s -C "$dk/obj" M="$PWD/$out/kmod/testmod" modules
NFRING_MODROOT=$dk/modroot tests/vm/mkinitramfs.sh "$out/initramfs.cpio.gz" \
	"$kver" build/bin "$out/kmod/kernel/nfring.ko" \
	"$out/kmod/testmod/nfring_test_warn.ko"

export NFRING_VM_KERNEL_DIR=$dk NFRING_VM_INITRAMFS=$PWD/$out/initramfs.cpio.gz
# KASAN and lockdep slow everything down; the debug kernel boots in ~20 s.
export NFRING_BOOT_WATCHDOG=90 NFRING_VM_TIMEOUT=1800
export NFRING_VM_TIMINGS=$PWD/$out/timings.log
rm -f "$NFRING_VM_TIMINGS"

# The suite's VM tests, exactly as CTest would run them.
mapfile -t tests < <(cd build && ctest --show-only=json-v1 -L vm-deb12 |
	python3 -c '
import json, sys, shlex
for t in json.load(sys.stdin)["tests"]:
    print(t["name"] + "\t" + " ".join(shlex.quote(a) for a in t["command"]))')

passed=0 failed=0
declare -a failures=()
run_case() { # NAME COMMAND...
	local name=$1
	shift
	echo "==> $name"
	if "$@" > "$out/$name.log" 2>&1; then
		passed=$((passed + 1))
		grep -E '^(PASS|stress|soak|kmemleak)' "$out/$name.log" | sed 's/^/    /' || true
	else
		failed=$((failed + 1))
		failures+=("$name")
		tail -n 60 "$out/$name.log" | sed 's/^/    /'
	fi
}
for t in "${tests[@]}"; do
	name=${t%%$'\t'*}
	cmd=${t#*$'\t'}
	if [ -n "${NFRING_DEBUG_CASES:-}" ] && [[ " $NFRING_DEBUG_CASES " != *" $name "* ]]; then
		continue
	fi
	eval "run_case $name $cmd"
done

image=build/vm/initramfs.cpio.gz
if [ "${NFRING_DEBUG_LONG:-1}" != 0 ]; then
	NFRING_VM_APPEND=" STRESS_SECONDS=${STRESS_SECONDS:-180}" \
		run_case debug.stress tests/vm/run-vm.sh "$image" stress
	NFRING_VM_APPEND=" SOAK_SECONDS=${SOAK_SECONDS:-600}" \
		run_case debug.soak tests/vm/run-vm.sh "$image" soak
fi

echo
awk '{ n++; boot += $3; run += $4 }
     END { if (n) printf "check-debug: %d VM runs, boot %.1f s on average, cases %.1f s in all\n", n, boot / n, run }' \
	"$NFRING_VM_TIMINGS" 2>/dev/null || true
echo "check-debug: $passed passed, $failed failed${failures:+ (${failures[*]})}"
[ "$failed" -eq 0 ]
