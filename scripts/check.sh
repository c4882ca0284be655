#!/usr/bin/env bash
# `make check`: install what is missing, build everything, build the VM
# image, then run every test (unit and VM) in one CTest run.  Prints the time
# of each phase and one summary.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a phases=()
now() { date +%s.%N; }
phase() {
	local name=$1
	shift
	echo "==> $name"
	local t0 rc=0
	t0=$(now)
	"$@" || rc=$?
	phases+=("$(printf '%-10s %6.1f s' "$name" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")")
	return $rc
}

phase deps scripts/deps.sh
phase build make --no-print-directory all test-modules
phase vm-image make --no-print-directory vm-image
# Debian 13 and unstable: their chroots (cached), modules and VM images.
phase vm-suites make --no-print-directory vm-suites
# The unit tests again under ASan+UBSan and TSan (the ring stress test is
# what TSan is for); CTest runs them as unit.asan / unit.tsan.
sanitizer_build() {
	local kind
	for kind in address thread; do
		cmake -S . -B "build/sanitize-$kind" -DNFRING_SANITIZE=$kind >/dev/null
		cmake --build "build/sanitize-$kind" -j "$(nproc)" --target nfring_unit_tests
	done
	cmake --build build/sanitize-address -j "$(nproc)" --target nfring_nfq_tests
}
phase sanitizers sanitizer_build
# libFuzzer needs clang: a separate small build of the L7 parsers.
fuzz_build() {
	cmake -S tests/fuzz -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ >/dev/null
	cmake --build build/fuzz -j "$(nproc)"
}
phase fuzz-build fuzz_build

timings=build/vm/timings.log
rm -f "$timings"
rc=0
junit=$PWD/build/ctest-junit.xml
rm -f "$junit"
phase tests bash -c "cd build && ctest --output-on-failure --output-junit '$junit'" || rc=$?

echo
echo "==> phase times"
printf '    %s\n' "${phases[@]}"
if [ -s "$timings" ]; then
	# One line per kernel: the suite each one ran, and its time.
	awk '{ k = $5; n[k]++; boot[k] += $3; run[k] += $4; accel = $2 }
	     END { for (k in n)
	             printf "    VM runs on %s: %d (%s), boot %.1f s on average, %.1f s in all\n",
	                    k, n[k], accel, boot[k] / n[k], boot[k] + run[k] }' "$timings" | sort
fi
# One plain closing line with the counts, whatever printed before it.
if [ -f "$junit" ]; then
	suite=$(tr '\n\t' '  ' < "$junit" | grep -o '<testsuite [^>]*' || true)
	count() { echo "$suite" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
	total=$(count tests) failed=$(count failures) skipped=$(count skipped)
	echo "check: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit $rc
