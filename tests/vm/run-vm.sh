#!/usr/bin/env bash
# Boot the test VM (Debian's own kernel, matching the headers nfring.ko was
# built against) with the initramfs from mkinitramfs.sh, run one test case
# inside, and pass its exit status back.  The run fails, with the kernel log
# shown, when the guest kernel logged a warning, oops, BUG, lockdep report or
# similar, or is tainted by anything but an out-of-tree/unsigned module.
#
# usage: run-vm.sh [--expect-kernel-complaint] INITRAMFS CASE
#        run-vm.sh --shell INITRAMFS
#
# Environment:
#   NFRING_KVER     kernel version (default: scripts/kver.sh)
#   NFRING_VM_KERNEL_DIR  boot the kernel of this folder (vmlinuz, kver), as
#                   scripts/debug-kernel.sh makes it, instead of /boot's
#   NFRING_VM_INITRAMFS   use this image instead of INITRAMFS (the image
#                   built for that kernel)
#   NFRING_ACCEL    kvm or tcg, skipping the probe
#   NFRING_VM_TIMEOUT  seconds the whole run may take (default 300)
#   NFRING_VM_APPEND   extra kernel command line words, e.g. " X=1" (they
#                      become environment variables of the case)
#   NFRING_VM_OUT      folder that receives the files the case left in
#                      /results inside the guest
#   NFRING_VM_TIMINGS  file to which "CASE ACCEL BOOT_S CASE_S KVER" is appended
#   NFRING_VM_VERBOSE=1  stream the guest console instead of showing it only
#                        on failure
set -euo pipefail

orig_args=("$@")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

mode=case expect_complaint=0
while [ $# -gt 0 ]; do
	case "$1" in
	--shell) mode=shell; shift ;;
	--expect-kernel-complaint) expect_complaint=1; shift ;;
	*) break ;;
	esac
done
initramfs=${1:?usage: run-vm.sh [--shell] INITRAMFS [CASE]}
case_name=${2:-}
[ "$mode" = shell ] || [ -n "$case_name" ] || { echo "run-vm: no test case given" >&2; exit 2; }

if [ -n "${NFRING_VM_KERNEL_DIR:-}" ]; then
	kver=$(cat "$NFRING_VM_KERNEL_DIR/kver")
	kernel=$NFRING_VM_KERNEL_DIR/vmlinuz
	initramfs=${NFRING_VM_INITRAMFS:-$initramfs}
else
	kver=$("$top/scripts/kver.sh")
	kernel=/boot/vmlinuz-$kver
fi
timeout_s=${NFRING_VM_TIMEOUT:-300}
# KVM hangs in early boot on some hosts; a guest that has not reached /init
# by then is declared hung.  TCG with 2 vCPUs needs about 4-7 s on an idle
# host, but three times that when the host's two cores are busy (seen with
# builds running beside the tests), so TCG gets a longer watchdog.
boot_watchdog_s=${NFRING_BOOT_WATCHDOG:-25}

[ -r "$kernel" ] || { echo "run-vm: $kernel missing; run scripts/deps.sh" >&2; exit 2; }
[ -r "$initramfs" ] || { echo "run-vm: initramfs $initramfs missing; run 'make vm-image'" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "run-vm: qemu-system-x86_64 missing; run scripts/deps.sh" >&2; exit 2; }

# The probe's verdict is a property of this host and its kernel, not of the
# checkout, so it lives in the user's cache and survives 'make clean'.
cache_dir=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/nfring
accel_cache=$cache_dir/accel-$(uname -r)-$(qemu-system-x86_64 --version | awk 'NR == 1 { print $4 }')

work=$(mktemp -d)
qemu_pid=
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

append="console=ttyS0,115200 tsc=reliable panic=-1 oops=panic loglevel=4"
[ "$mode" = shell ] && append+=" nfringvm_shell=1" || append+=" nfringvm_case=$case_name"
# Extra NAME=value words reach the guest's /init (and the case) as
# environment variables: the kernel passes unknown parameters on.
append+="${NFRING_VM_APPEND:-}"

qemu_args() {
	local accel=$1
	local cpu=max
	[ "$accel" = kvm ] && cpu=host
	printf '%s\n' -accel "$accel" -cpu "$cpu" -smp 2 -m 2048 \
		-nodefaults -display none -no-reboot \
		-kernel "$kernel" -initrd "$initramfs" -append "$append"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "$mode" = shell ]; then
	accel=${NFRING_ACCEL:-$(cat "$accel_cache" 2>/dev/null || echo tcg)}
	echo "vm: booting $kver ($accel); 'exit' powers the VM off"
	mapfile -t args < <(qemu_args "$accel")
	exec qemu-system-x86_64 "${args[@]}" -serial mon:stdio -serial null
fi

# boot ACCEL: start QEMU in the background; sets qemu_pid.
boot() {
	local accel=$1
	: > "$work/console"
	: > "$work/report"
	mapfile -t args < <(qemu_args "$accel")
	qemu-system-x86_64 "${args[@]}" \
		-serial "file:$work/console" -serial "file:$work/report" \
		</dev/null >"$work/qemu.out" 2>&1 &
	qemu_pid=$!
}

# wait_booted: 0 when the guest's /init ran, 1 when the watchdog fired or
# QEMU exited first.
wait_booted() {
	local deadline=$(( $(date +%s) + boot_watchdog_s ))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		grep -q NFRING-BOOTED "$work/console" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

stop_qemu() {
	kill -KILL "$qemu_pid" 2>/dev/null || true
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
}

t0=$(now)
accel=${NFRING_ACCEL:-$(cat "$accel_cache" 2>/dev/null || true)}
if [ -z "$accel" ]; then
	# Probe once: KVM if /dev/kvm opens and a guest actually boots with it.
	accel=tcg
	if [ -w /dev/kvm ]; then
		boot kvm
		if wait_booted; then
			accel=kvm
		else
			echo "vm: KVM guest failed or did not reach /init within ${boot_watchdog_s}s ($(tail -n1 "$work/qemu.out" 2>/dev/null)); using TCG from now on"
			stop_qemu
		fi
	fi
	mkdir -p "$cache_dir"
	echo "$accel" > "$accel_cache"
fi
attempt=${NFRING_VM_ATTEMPT:-1}
[ "$accel" = tcg ] && boot_watchdog_s=${NFRING_BOOT_WATCHDOG:-60}
if [ -z "$qemu_pid" ]; then
	boot "$accel"
	if ! wait_booted; then
		# Before /init no module of ours is loaded: a kernel that oopses
		# or hangs there failed in its own boot.  Under TCG, Debian's 6.12
		# now and then hits a stale int3 from its own boot-time code
		# patching (sched_clock_cpu, from an initcall), and 6.1 once sat
		# silent past the watchdog on a loaded CI host: boot again, at
		# most twice, saying so, as for reports logged before /init (below).
		early=$(tr -d '\r' < "$work/console" | grep -Ef "$here/kernel-reports.ere" || true)
		if [ "$attempt" -lt 3 ]; then
			if [ -n "$early" ]; then
				echo "vm: the kernel crashed during its own boot, before /init (attempt $attempt); booting again:"
				echo "$early" | head -n 5 | sed 's/^/    /'
			else
				echo "vm: the kernel did not reach /init within ${boot_watchdog_s}s (attempt $attempt, $accel); booting again; its console ended with:"
				tr -d '\r' < "$work/console" | tail -n 5 | sed 's/^/    /'
			fi
			stop_qemu
			rm -rf "$work"
			NFRING_VM_ATTEMPT=$((attempt + 1)) exec "$0" "${orig_args[@]}"
		fi
		echo "vm: guest did not reach /init ($accel, ${boot_watchdog_s}s); console:" >&2
		tail -n 60 "$work/console" >&2
		cat "$work/qemu.out" >&2
		exit 1
	fi
fi
t_boot=$(elapsed "$t0")

[ "${NFRING_VM_VERBOSE:-0}" = 1 ] && tail -n +1 -f "$work/console" --pid="$qemu_pid" &

t1=$(now)
deadline=$(( $(date +%s) + timeout_s ))
while kill -0 "$qemu_pid" 2>/dev/null; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "vm: case '$case_name' timed out after ${timeout_s}s; console:" >&2
		tail -n 80 "$work/console" >&2
		exit 1
	fi
	sleep 0.2
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
t_case=$(elapsed "$t1")

tr -d '\r' < "$work/report" > "$work/report.txt"
tr -d '\r' < "$work/console" > "$work/console.txt"

show_console() {
	echo "----- guest console ($case_name) -----"
	cat "$work/console.txt"
	echo "----- end of guest console -----"
}

if ! grep -q '^NFRING-RC=' "$work/report.txt"; then
	echo "vm: guest ended without reporting a result (crash or panic?)" >&2
	show_console >&2
	exit 1
fi
rc=$(sed -n 's/^NFRING-RC=//p' "$work/report.txt")
if [ -n "${NFRING_VM_OUT:-}" ] && grep -q '^NFRING-RESULTS-BEGIN$' "$work/report.txt"; then
	mkdir -p "$NFRING_VM_OUT"
	sed -n '/^NFRING-RESULTS-BEGIN$/,/^NFRING-RESULTS-END$/p' "$work/report.txt" |
		sed '1d;$d' | base64 -d | tar -C "$NFRING_VM_OUT" -xf -
	echo "vm: results saved in $NFRING_VM_OUT"
fi
taint=$(sed -n 's/^NFRING-TAINT=//p' "$work/report.txt")
sed -n '/^NFRING-DMESG-BEGIN$/,/^NFRING-DMESG-END$/p' "$work/report.txt" |
	sed '1d;$d' > "$work/dmesg"

# A report logged before /init ran comes from the kernel's own boot, not
# from the case (no module of ours is loaded yet).  The debug kernel under
# TCG sometimes logs a KASAN wild-memory-access in early IRQ handling
# there; boot again, at most twice, saying so, rather than fail the case.
boot_reports=$(awk '/nfring-vm: \/init started/ { exit } { print }' "$work/dmesg" |
	grep -Ef "$here/kernel-reports.ere" || true)
if [ -n "$boot_reports" ] && [ "$attempt" -lt 3 ]; then
	echo "vm: the kernel reported a problem during its own boot, before /init (attempt $attempt); booting again:"
	echo "$boot_reports" | sed 's/^/    /'
	rm -rf "$work"
	NFRING_VM_ATTEMPT=$((attempt + 1)) exec "$0" "${orig_args[@]}"
fi

# What counts as the kernel complaining.  Taint bits 12 (O, out-of-tree) and
# 13 (E, unsigned module) are expected for nfring.ko; any other bit is not.
# The patterns are in kernel-reports.ere, shared with the cases (lib.sh).
# Lockdep, KASAN, KFENCE and UBSAN reports start with BUG:/WARNING:/UBSAN:;
# a debug kernel's banners ("RCU lockdep checking is enabled", "kasan:
# KernelAddressSanitizer initialized") are not reports.  kmemleak reports
# reach the log through the guest's /init (see init).
complaints=$(grep -nEf "$here/kernel-reports.ere" "$work/dmesg" || true)
bad_taint=$(( ${taint:-0} & ~((1 << 12) | (1 << 13)) ))
if [ "$bad_taint" -ne 0 ]; then
	complaints+=$'\n'"kernel tainted: ${taint} (unexpected bits $(printf '0x%x' "$bad_taint"))"
fi

echo "vm: $kver accel=$accel boot ${t_boot}s case ${t_case}s exit $rc"
if [ -n "${NFRING_VM_TIMINGS:-}" ]; then
	echo "$case_name $accel $t_boot $t_case $kver" >> "$NFRING_VM_TIMINGS"
fi

if [ "$expect_complaint" = 1 ]; then
	if [ -n "$complaints" ]; then
		echo "vm: kernel complaint detected, as expected:"
		echo "$complaints" | sed 's/^/    /'
		exit 0
	fi
	echo "vm: expected a kernel complaint but the log is clean" >&2
	show_console >&2
	exit 1
fi

if [ -n "$complaints" ]; then
	echo "vm: FAIL: the kernel log shows problems:" >&2
	echo "$complaints" | sed 's/^/    /' >&2
	echo "----- guest kernel log -----" >&2
	cat "$work/dmesg" >&2
	echo "----- end of guest kernel log -----" >&2
	[ "${NFRING_VM_VERBOSE:-0}" = 1 ] || show_console >&2
	exit 1
fi
if [ "$rc" != 0 ]; then
	echo "vm: FAIL: case '$case_name' exited $rc" >&2
	[ "${NFRING_VM_VERBOSE:-0}" = 1 ] || show_console >&2
	# A crashed test program leaves its trace here (segfault at ... ip ...).
	echo "----- end of the guest kernel log -----" >&2
	tail -n 30 "$work/dmesg" >&2
	exit 1
fi
# The case's own lines (what it checked), without the boot noise.
[ "${NFRING_VM_VERBOSE:-0}" = 1 ] || sed -n '/^NFRING-BOOTED$/,$p' "$work/console.txt" | sed '1d'
exit 0
