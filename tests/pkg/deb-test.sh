#!/usr/bin/env bash
# The Debian packages install, build the module through DKMS, run, survive a
# kernel upgrade and purge without a trace, in a Debian chroot (no VM: DKMS
# builds against the headers, nothing is loaded).
#
#   1. `make deb` (scripts/deb.sh) builds nfring-dkms and nfring.
#   2. A cached chroot of SUITE (debootstrap minbase + linux-headers-amd64,
#      kmod and systemd; the packages ours depend on, dkms among them, waiting
#      in apt's cache) is overlaid with a scratch layer, so every run
#      starts from the same state and the cache is never written.
#   3. In it: file list, `apt install ./nfring-dkms_*.deb ./nfring_*.deb`,
#      DKMS status and the module (modinfo), the programs, the example
#      instance's settings, the modprobe guard and its documented undo, the
#      unit (`systemd-analyze verify`, enable, and a boot of the chroot
#      with systemd-nspawn that starts it in its sandbox), then purge and
#      autoremove: the file list must be the one from before.
#   4. A kernel upgrade: reinstall, install the newer headers of
#      SUITE-security (downloaded into the cache), DKMS must build for them
#      (the header_postinst.d hook), and a purge removes every module.
#      Then, with both kernels' headers present, an install must build for
#      both, as on a host whose running kernel is a third one.
#
# The cache: ${XDG_CACHE_HOME:-~/.cache}/nfring/pkg-test/SUITE/
#   chroot/     the chroot (its apt sources: SUITE only)
#   kver        its headers' kernel release
#   upgrade/    SUITE-security's newer linux-headers-amd64 and what it
#               pulls in, as .deb files; upgrade-kver their release (empty
#               when the security archive has no newer kernel ABI)
#   done        the cache's format (cache_format below) once complete
# NFRING_PKG_TEST_REFRESH=1 rebuilds it.
#
# usage: deb-test.sh [SUITE...]   SUITE: bookworm (default), trixie
# Exit 77 (CTest: skipped) when not root: debootstrap and chroot need it.
set -euo pipefail
set -E
trap 'echo "FAIL: deb-test:$LINENO: $BASH_COMMAND exited $?" >&2' ERR
cd "$(dirname "$0")/../.."
repo=$PWD

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm)
for s in "${suites[@]}"; do
	case "$s" in
	bookworm | trixie) ;;
	*)
		echo "deb-test: unknown suite '$s' (expected bookworm or trixie)" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "deb-test: SKIP: debootstrap, chroot and mount need root"
	exit 77
fi
for tool in debootstrap dpkg-buildpackage dh_dkms systemd-nspawn; do
	command -v "$tool" >/dev/null || {
		echo "deb-test: $tool missing; run scripts/deps.sh" >&2
		exit 1
	}
done

mirror=${NFRING_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${NFRING_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
cache_top=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nfring/pkg-test
mkdir -p "$cache_top"
# One run at a time per machine: runs share the cache.
exec 9>"$cache_top/lock"
flock 9

log() { echo "deb-test: $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
declare -a times=()

# chroot_run ROOT CMD...: a clean environment, as apt and dpkg expect.
chroot_run() {
	local root=$1
	shift
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

# --- the cached chroot -----------------------------------------------------

# Bumped whenever prepare_suite changes what the cache holds, so that an
# older cache is made anew instead of being trusted.
cache_format=2

prepare_suite() {
	local suite=$1 cache=$cache_top/$1
	local root=$cache/chroot
	if [ "$(cat "$cache/done" 2>/dev/null)" = "$cache_format" ] &&
		[ "${NFRING_PKG_TEST_REFRESH:-0}" != 1 ]; then
		return 0
	fi
	log "$suite: preparing the chroot cache in $cache (once per machine)"
	rm -rf "$cache"
	mkdir -p "$cache"
	# /proc only while apt runs in it; teardown unmounts it on any exit.
	prep_root=$root
	debootstrap --variant=minbase "$suite" "$root" "$mirror" \
		>"$cache/debootstrap.log" 2>&1 || {
		tail -n 20 "$cache/debootstrap.log" >&2
		fail "$suite: debootstrap failed (log: $cache/debootstrap.log)"
	}
	# The archive may be a snapshot past its Release files' Valid-Until;
	# signatures are still checked.
	cat >"$root/etc/apt/apt.conf.d/90deb-test" <<-'EOF'
		Acquire::Check-Valid-Until "false";
		APT::Install-Recommends "false";
		APT::Install-Suggests "false";
	EOF
	mount -t proc proc "$root/proc"
	# A host with the headers of its kernel, kmod (which a kernel image
	# needs) and systemd (the unit's manager, and systemd-analyze).  What
	# our packages depend on is only downloaded: apt must install it from
	# their Depends, and the purge check sees it go again.  (Should they
	# gain a dependency not listed here, apt fetches it in the test.)
	{ chroot_run "$root" apt-get -q update &&
		chroot_run "$root" apt-get -q -y install linux-headers-amd64 kmod systemd; } \
		>"$cache/apt.log" 2>&1 || {
		tail -n 20 "$cache/apt.log" >&2
		fail "$suite: installing the chroot's packages failed (log: $cache/apt.log)"
	}
	headers_kver "$root" >"$cache/kver"
	chroot_run "$root" apt-get -q clean
	chroot_run "$root" apt-get -q -y --download-only install dkms liburing2 procps \
		>>"$cache/apt.log" 2>&1 || fail "$suite: downloading dkms, liburing2, procps failed"
	mkdir -p "$cache/deps"
	mv "$root"/var/cache/apt/archives/*.deb "$cache/deps/"
	# A host runs the kernel it has headers for, whose modules.dep and other
	# depmod indexes exist; DKMS's depmod rewrites them.  Make them here,
	# so that the purge check sees ours and not depmod's first run.
	chroot_run "$root" depmod "$(cat "$cache/kver")" >>"$cache/apt.log" 2>&1

	# The newer kernel ABI of the security archive, if it has one, fetched
	# now so that the upgrade needs no network later.  The chroot's own
	# sources stay the suite's alone.
	local list=$root/etc/apt/sources.list.d/nfring-security.list
	echo "deb $security_mirror $suite-security main" >"$list"
	{ chroot_run "$root" apt-get -q update &&
		chroot_run "$root" apt-get -q -y --download-only install \
			linux-headers-amd64; } >>"$cache/apt.log" 2>&1 || {
		tail -n 20 "$cache/apt.log" >&2
		fail "$suite: fetching $suite-security's headers failed (log: $cache/apt.log)"
	}
	mkdir -p "$cache/upgrade"
	local upkver=
	if compgen -G "$root/var/cache/apt/archives/linux-headers-amd64_*.deb" >/dev/null; then
		mv "$root"/var/cache/apt/archives/*.deb "$cache/upgrade/"
		upkver=$(dpkg-deb -f "$cache"/upgrade/linux-headers-amd64_*.deb Depends |
			grep -oE 'linux-headers-[^ ,]+-amd64' | head -n1 |
			sed 's/^linux-headers-//')
		[ "$upkver" != "$(cat "$cache/kver")" ] || upkver=
	fi
	[ -n "$upkver" ] || rm -f "$cache"/upgrade/*.deb
	echo "$upkver" >"$cache/upgrade-kver"
	rm -f "$list"
	chroot_run "$root" apt-get -q update >>"$cache/apt.log" 2>&1
	chroot_run "$root" apt-get -q clean
	# Where apt finds them without the network (the overlay makes the
	# test's copy).
	mv "$cache"/deps/*.deb "$root/var/cache/apt/archives/"
	rmdir "$cache/deps"
	teardown
	echo "$cache_format" >"$cache/done"
	log "$suite: cache ready: headers $(cat "$cache/kver"), upgrade to ${upkver:-none}"
}

# headers_kver ROOT: the kernel release linux-headers-amd64 depends on.
headers_kver() {
	local kver
	kver=$(chroot_run "$1" dpkg-query -W -f='${Depends}' linux-headers-amd64 |
		grep -oE 'linux-headers-[^ ,]+-amd64' | head -n1 | sed 's/^linux-headers-//')
	# build is an absolute link, so look from inside.
	[ -n "$kver" ] && chroot_run "$1" test -e "/lib/modules/$kver/build/Makefile" ||
		fail "no headers of the chroot's kernel in $1 ('$kver')"
	echo "$kver"
}

# --- one suite's test ----------------------------------------------------------

# file_list ROOT: every path in the chroot but the state apt and dpkg keep
# (package lists, status, caches, logs) and scratch folders.
file_list() {
	chroot "$1" find / -xdev \( -path /proc -o -path /dev -o -path /run \
		-o -path /tmp -o -path /var/tmp -o -path /var/log \
		-o -path /var/lib/apt -o -path /var/lib/dpkg \
		-o -path /var/cache/apt -o -path /var/cache/debconf \
		-o -path /var/cache/ldconfig \) -prune -o -print | LC_ALL=C sort
}

# module_file ROOT KVER: DKMS's copy of nfring.ko for KVER (maybe compressed).
module_file() {
	find "$1/lib/modules/$2" -name 'nfring.ko*' -path '*/updates/*' 2>/dev/null | head -n1
}

# check_module ROOT KVER: DKMS says installed, and the module is ours, for KVER.
check_module() {
	local root=$1 kver=$2 ko rel
	chroot_run "$root" dkms status -m nfring -v "$version" -k "$kver" |
		grep -q ": installed" ||
		fail "dkms status for $kver: '$(chroot_run "$root" dkms status -m nfring)'"
	ok "dkms status: nfring/$version, $kver: installed"
	ko=$(module_file "$root" "$kver")
	[ -n "$ko" ] || fail "no nfring.ko* under /lib/modules/$kver/updates"
	rel=${ko#"$root"}
	expect_modinfo "$root" "$rel" name nfring
	expect_modinfo "$root" "$rel" version "$version"
	expect_modinfo "$root" "$rel" vermagic "$kver"
	ok "$rel is nfring $version for $kver"
}

# expect_modinfo ROOT KO FIELD VALUE: the field's first word is VALUE.
expect_modinfo() {
	local got
	got=$(chroot_run "$1" modinfo -F "$3" "$2" | awk 'NR == 1 { print $1 }')
	[ "$got" = "$4" ] || fail "modinfo -F $3 $2: got '$got', expected '$4'"
}

run_suite() {
	local suite=$1 cache=$cache_top/$1 t
	local kver upkver
	kver=$(cat "$cache/kver")
	upkver=$(cat "$cache/upgrade-kver")

	scratch=$(mktemp -d /var/tmp/nfring-deb-test.XXXXXX)
	root=$scratch/root
	mkdir -p "$scratch/upper" "$scratch/work" "$root"
	mount -t overlay overlay -o "lowerdir=$cache/chroot,upperdir=$scratch/upper,workdir=$scratch/work" "$root"
	mount -t proc proc "$root/proc"
	mkdir -p "$root/tmp/debs"
	cp "${debs[@]}" "$root/tmp/debs/"
	# Kept after the run, for a look at what apt, dpkg and DKMS said.
	local apt_log=$repo/build/deb-test/$suite-apt.log
	mkdir -p "${apt_log%/*}"
	: >"$apt_log"

	# -- install --------------------------------------------------------------
	file_list "$root" >"$scratch/before.txt"
	installed "$root" >"$scratch/packages-before.txt"
	t=$(now)
	chroot_run "$root" sh -c 'apt-get -q -y install /tmp/debs/nfring-dkms_*.deb /tmp/debs/nfring_*.deb' \
		>"$apt_log" 2>&1 || {
		tail -n 40 "$apt_log" >&2
		fail "$suite: apt install of the packages failed (log: $apt_log)"
	}
	times+=("$(printf '%-8s install + DKMS build  %6s s' "$suite" "$(secs "$t")")")
	ok "apt install ./nfring-dkms_*.deb ./nfring_*.deb"
	check_module "$root" "$kver"
	[ -f "$root/usr/src/nfring-$version/dkms.conf" ] || fail "no /usr/src/nfring-$version/dkms.conf"

	# -- the programs and the example instance --------------------------------
	chroot_run "$root" nfring-worker --help | grep -q '^usage: nfring-worker' ||
		fail "nfring-worker --help"
	chroot_run "$root" nfringctl --help | grep -q '^usage: nfringctl' ||
		fail "nfringctl --help"
	ok "nfring-worker --help, nfringctl --help"
	# The instance's settings as the unit passes them (plain VAR="value"
	# lines read the same by sh and by systemd's EnvironmentFile=).
	local out
	out=$(chroot_run "$root" sh -c '. /etc/nfring/example.conf &&
		nfring-worker --check --rules "$NFRING_RULES" $NFRING_OPTIONS' 2>&1) ||
		fail "example instance's --check: $out"
	grep -q '^nfring-worker: /etc/nfring/example.rules: [1-9][0-9]* rules$' <<<"$out" ||
		fail "example instance's --check said: $out"
	ok "example instance: $out"
	printf 'drop udp dport\n' >"$root/tmp/bad.rules"
	if out=$(chroot_run "$root" nfring-worker --check --rules /tmp/bad.rules 2>&1); then
		fail "--check accepted a bad rules file: $out"
	fi
	ok "a bad rules file fails --check: $out"

	# -- boot-time module files ---------------------------------------------------
	grep -qx nfring "$root/usr/lib/modules-load.d/nfring.conf" ||
		fail "modules-load.d/nfring.conf does not load nfring"
	chroot_run "$root" modprobe --showconfig | grep -qx 'install nfnetlink_queue /bin/false' ||
		fail "modprobe's configuration lacks the nfnetlink_queue guard"
	ok "modprobe --showconfig: install nfnetlink_queue /bin/false"
	# The undo that modprobe.d/nfring.conf documents: an empty file of the
	# same name in /etc.
	: >"$root/etc/modprobe.d/nfring.conf"
	if chroot_run "$root" modprobe --showconfig | grep -q 'install nfnetlink_queue'; then
		fail "an empty /etc/modprobe.d/nfring.conf does not lift the guard"
	fi
	rm "$root/etc/modprobe.d/nfring.conf"
	ok "an empty /etc/modprobe.d/nfring.conf lifts the guard"

	# -- the unit -------------------------------------------------------------
	# verify loads the instance as systemd would and complains about
	# anything it does not accept (unknown settings, missing programs).
	out=$(chroot_run "$root" systemd-analyze verify nfring-worker@example.service 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify complained: $out"
	ok "systemd-analyze verify nfring-worker@example.service: clean"
	chroot_run "$root" systemctl enable nfring-worker@example.service >>"$apt_log" 2>&1
	[ -L "$root/etc/systemd/system/multi-user.target.wants/nfring-worker@example.service" ] ||
		fail "systemctl enable made no symlink"
	ok "systemctl enable nfring-worker@example"
	t=$(now)
	boot_check "$root"
	times+=("$(printf '%-8s boot + unit          %6s s' "$suite" "$(secs "$t")")")

	# -- purge: the same files as before ----------------------------------------
	t=$(now)
	purge "$root" "$apt_log" "$kver"
	times+=("$(printf '%-8s purge                %6s s' "$suite" "$(secs "$t")")")
	# Autoremove keeps a dependency that an installed package recommends
	# (dkms's dpkg-dev, make, xz-utils are recommended by the compiler the
	# headers need).  An admin who wants them gone purges them by name; so
	# does the test, for the comparison to see only what ours leave.
	local kept
	kept=$(installed "$root" | comm -13 "$scratch/packages-before.txt" -)
	if [ -n "$kept" ]; then
		# shellcheck disable=SC2086 # one word per package
		chroot_run "$root" apt-get -q -y purge $kept >>"$apt_log" 2>&1
		ok "purged the dependencies autoremove kept: $(tr '\n' ' ' <<<"$kept")"
	fi
	file_list "$root" >"$scratch/after.txt"
	if ! diff -u "$scratch/before.txt" "$scratch/after.txt" >"$scratch/diff.txt"; then
		head -n 40 "$scratch/diff.txt" >&2
		fail "$suite: the purge left the chroot different (+ added, - removed)"
	fi
	ok "purge: $(wc -l <"$scratch/before.txt") paths, the same as before the install"

	# -- a kernel upgrade ---------------------------------------------------------
	if [ -z "$upkver" ]; then
		log "$suite: SKIP kernel upgrade: $suite-security has no newer kernel ABI than $kver"
	else
		t=$(now)
		chroot_run "$root" sh -c 'apt-get -q -y install /tmp/debs/nfring-dkms_*.deb /tmp/debs/nfring_*.deb' \
			>>"$apt_log" 2>&1 || fail "$suite: reinstall failed (log: $apt_log)"
		mkdir -p "$root/tmp/upgrade"
		cp "$cache"/upgrade/*.deb "$root/tmp/upgrade/"
		chroot_run "$root" sh -c 'apt-get -q -y install /tmp/upgrade/*.deb' \
			>>"$apt_log" 2>&1 || {
			tail -n 40 "$apt_log" >&2
			fail "$suite: installing the headers of $upkver failed"
		}
		times+=("$(printf '%-8s upgrade + 2 builds   %6s s' "$suite" "$(secs "$t")")")
		ok "headers of $upkver installed over $kver"
		# A host keeps its previous kernel when autoremove runs (apt's
		# kernel hook protects the running one, which here is the host's):
		# keep the old headers for the two-kernel install below.
		chroot_run "$root" sh -c "apt-mark manual \$(dpkg-query -W -f '\${Package}\n' 'linux-headers-${kver%-amd64}*')" \
			>>"$apt_log" 2>&1
		check_module "$root" "$upkver"
		check_module "$root" "$kver"
		purge "$root" "$apt_log" "$upkver"
		no_nfring_left "$root" "the purge after the upgrade"

		# -- every kernel with headers --------------------------------------
		# Both kernels have headers now.  DKMS's own postinst builds for
		# the running kernel and the newest one with a /boot/config; in a
		# chroot, where the host's kernel is not installed, it builds for
		# every kernel instead.  A directory for the host's kernel (without
		# headers) makes it act as on a real host, where it would build
		# nothing here: both modules must come from nfring-dkms's postinst.
		t=$(now)
		local host_kernel
		host_kernel=$root/lib/modules/$(uname -r)
		mkdir "$host_kernel"
		chroot_run "$root" sh -c 'apt-get -q -y install /tmp/debs/nfring-dkms_*.deb /tmp/debs/nfring_*.deb' \
			>>"$apt_log" 2>&1 || fail "$suite: install with two kernels failed (log: $apt_log)"
		times+=("$(printf '%-8s 2 kernels at install %6s s' "$suite" "$(secs "$t")")")
		ok "installed with the headers of $kver and $upkver present"
		check_module "$root" "$kver"
		check_module "$root" "$upkver"
		purge "$root" "$apt_log" "$kver"
		rmdir "$host_kernel"
		no_nfring_left "$root" "the purge with two kernels"
	fi
	teardown
}

# boot_check ROOT: the unit run by systemd in its sandbox.  The chroot
# boots with systemd-nspawn, on an overlay of its own so that the boot's
# state (journal, machine-id) stays out of the purge check.  The chroot has
# no nfring module, hence no /dev/nfring, so the worker must get exactly
# that far: its rules read (ProtectSystem=strict), its io_uring probe
# passed (SystemCallFilter, MemoryDenyWriteExecute), its counters created
# in /dev/shm, and then fail to open the device, saying so.
boot_check() {
	local boot=$scratch/boot pid1='' journal
	mkdir -p "$boot/upper" "$boot/work" "$boot/root"
	mount -t overlay overlay \
		-o "lowerdir=$1,upperdir=$boot/upper,workdir=$boot/work" "$boot/root"
	boot_root=$boot/root
	# A container has no CAP_NET_ADMIN unless given; the unit keeps only
	# that one.  No registration with machined: the host may run no systemd.
	timeout 180 systemd-nspawn -q -D "$boot_root" --boot --register=no \
		--keep-unit --capability=CAP_NET_ADMIN --console=pipe \
		>"$scratch/console.log" 2>&1 &
	nspawn_pid=$!
	# timeout → systemd-nspawn → the container's systemd (its PID 1).
	for _ in $(seq 100); do
		pid1=$(pgrep -x systemd -P "$(pgrep -x systemd-nspawn -P "$nspawn_pid" || echo 0)" || true)
		[ -z "$pid1" ] || break
		sleep 0.1
	done
	[ -n "$pid1" ] || fail "systemd-nspawn started no container: $(tail -n 5 "$scratch/console.log")"
	# Booted: "running", or "degraded" (a container lacks what some boot
	# units want).  Until its bus is up, systemctl cannot even ask.
	local state=
	for _ in $(seq 600); do
		state=$(nsenter -t "$pid1" -a systemctl is-system-running 2>/dev/null || true)
		case "$state" in running | degraded) break ;; esac
		sleep 0.1
	done
	case "$state" in
	running | degraded) ;;
	*) fail "the container did not boot (state '$state'): $(tail -n 5 "$scratch/console.log")" ;;
	esac
	nsenter -t "$pid1" -a systemctl start nfring-worker@example.service
	for _ in $(seq 100); do
		journal=$(nsenter -t "$pid1" -a journalctl -u nfring-worker@example.service \
			-o cat --no-pager 2>/dev/null || true)
		grep -q 'open /dev/nfring' <<<"$journal" && break
		sleep 0.1
	done
	grep -qE '^nfring-worker: /etc/nfring/example.rules: [0-9]+ rules$' <<<"$journal" &&
		grep -q '^nfring-worker: io_uring: opcodes' <<<"$journal" &&
		grep -q '^nfring-worker: open /dev/nfring (is nfring.ko loaded?.*: No such file or directory$' <<<"$journal" ||
		fail "the worker under systemd did not get to opening /dev/nfring:"$'\n'"$journal"
	ok "nfring-worker@example under systemd: rules read, io_uring set up, then no /dev/nfring (no module here)"
	nsenter -t "$pid1" -a systemctl poweroff >/dev/null 2>&1 || true
	wait "$nspawn_pid" || true
	nspawn_pid=
	unmount "$boot_root"
	boot_root=
}

# no_nfring_left ROOT WHAT: no file named after nfring anywhere it could be.
no_nfring_left() {
	local left
	# (/var/lib/dkms itself is gone once autoremove purged dkms.)
	left=$({ find "$1/lib/modules" "$1/usr/src" "$1/var/lib/dkms" \
		"$1/etc" "$1/usr/lib" "$1/usr/bin" "$1/usr/sbin" \
		-name '*nfring*' 2>/dev/null || true; } | sed "s|^$1||")
	[ -z "$left" ] || fail "$2 left: $left"
	ok "$2: no nfring file left for either kernel"
}

# installed ROOT: the installed packages' names, sorted.
installed() {
	chroot_run "$1" dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' |
		awk '$1 == "ii" { print $2 }' | LC_ALL=C sort
}

# purge ROOT LOG KVER: what an admin does to remove nfring for good.
purge() {
	chroot_run "$1" apt-get -q -y purge nfring nfring-dkms >>"$2" 2>&1 || {
		tail -n 40 "$2" >&2
		fail "apt purge failed"
	}
	chroot_run "$1" apt-get -q -y autoremove --purge >>"$2" 2>&1
	[ ! -e "$1/var/lib/dkms/nfring" ] || fail "/var/lib/dkms/nfring is left"
	[ -z "$(module_file "$1" "$3")" ] || fail "nfring.ko for $3 is left"
	ok "apt purge nfring nfring-dkms; apt autoremove --purge"
}

# unmount DIR: a process that just exited may hold a mount a moment longer.
unmount() {
	local try
	for try in 1 2 3 4; do
		umount "$1" 2>/dev/null && return 0
		echo "deb-test: $1 busy (try $try), again in 1 s" >&2
		sleep 1
	done
	umount "$1"
}

# Unmount what prepare_suite or run_suite mounted, drop the scratch layer.
prep_root=
scratch=
root=
nspawn_pid=
boot_root=
lib_root=
teardown() {
	if [ -n "$lib_root" ]; then
		rm -rf "$lib_root"
		lib_root=
	fi
	if [ -n "$nspawn_pid" ]; then
		kill "$nspawn_pid" 2>/dev/null || true
		wait "$nspawn_pid" 2>/dev/null || true
		nspawn_pid=
	fi
	if [ -n "$boot_root" ]; then
		if mountpoint -q "$boot_root"; then unmount "$boot_root"; fi
		boot_root=
	fi
	if [ -n "$prep_root" ]; then
		if mountpoint -q "$prep_root/proc"; then umount "$prep_root/proc"; fi
		prep_root=
	fi
	[ -n "$scratch" ] || return 0
	if mountpoint -q "$root/proc"; then unmount "$root/proc"; fi
	if mountpoint -q "$root"; then unmount "$root"; fi
	rm -rf "$scratch"
	scratch=
}
trap teardown EXIT

# --- main --------------------------------------------------------------------

t=$(now)
log "make deb"
make --no-print-directory -C "$repo" deb >/dev/null
times+=("$(printf '%-8s make deb             %6s s' all "$(secs "$t")")")
version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
debs=("$repo/build/deb/nfring-dkms_${version}_all.deb" "$repo/build/deb/nfring_${version}_amd64.deb")
for d in "${debs[@]}"; do
	[ -f "$d" ] || fail "make deb did not produce $d"
done

# The library as packaged: the example worker builds from the package's
# files alone (headers, libnfring.a, nfring.pc), not from the source tree.
t=$(now)
lib_root=$(mktemp -d /var/tmp/nfring-deb-lib.XXXXXX)
dpkg-deb -x "${debs[1]}" "$lib_root"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
# The sysroot prefixes nfring.pc's paths; liburing.pc comes from the host.
flags=$(PKG_CONFIG_SYSROOT_DIR=$lib_root \
	PKG_CONFIG_PATH=$lib_root/usr/lib/$multiarch/pkgconfig \
	pkg-config --cflags --libs nfring) || fail "pkg-config nfring failed"
# shellcheck disable=SC2086 # flags are words
c++ -std=c++20 -Wall -Wextra -Werror -o "$lib_root/example-filter" \
	"$lib_root/usr/share/doc/nfring/examples/custom_filter.cpp" $flags ||
	fail "the example worker does not build against the installed library"
teardown
ok "examples/custom_filter.cpp builds against the package's headers and libnfring.a (pkg-config nfring)"
times+=("$(printf '%-8s library example      %6s s' all "$(secs "$t")")")

for suite in "${suites[@]}"; do
	t=$(now)
	prepare_suite "$suite"
	times+=("$(printf '%-8s chroot cache         %6s s' "$suite" "$(secs "$t")")")
	run_suite "$suite"
	log "$suite: PASS"
done
echo "deb-test: times"
printf '    %s\n' "${times[@]}"
