#!/usr/bin/env bash
# Prepare (once per machine) a newer Debian suite's kernel for nfring: a
# build chroot with that suite's headers and compiler, and the suite's own
# kernel image unpacked for the test VM.
#
# Debian 13's headers need gcc-14 and kbuild tools linked against glibc
# >= 2.38, unstable's need gcc-16; Debian 12 has neither.  So each suite gets
# a debootstrap chroot with its own apt configuration (sources, keyring and
# state all inside the chroot).  The host's apt and packages are never
# touched: nothing of a newer suite is installed or mixed on the host.
#
# The result is cached outside the repository, keyed by suite:
#   ${XDG_CACHE_HOME:-~/.cache}/nfring/suites/SUITE/
#     chroot/   minbase + make + linux-headers-<flavour>; modules build here
#     kver      the kernel release (uname -r) of those headers and the image
#     vmlinuz   the suite's kernel, from its Debian image package
#     modroot/  that package's modules: modroot/lib/modules/KVER (depmod'd)
# The kernel version is the one the suite carried when the cache was made;
# NFRING_SUITE_REFRESH=1 rebuilds the cache to pick up a newer one.
#
# usage: suite-kernel.sh SUITE          prepare if needed; print the folder
#        suite-kernel.sh --print SUITE  print the folder if ready; else fail
# SUITE: trixie (Debian 13, 6.12), sid (unstable, the newest released
# kernel) or experimental (unstable plus experimental's kernel, usually a
# release candidate).
set -euo pipefail

print_only=0
if [ "${1:-}" = --print ]; then
	print_only=1
	shift
fi
suite=${1:-}
case "$suite" in
trixie | sid) base=$suite ;;
experimental) base=sid ;;
*)
	echo "suite-kernel: unknown suite '${suite}' (expected trixie, sid or experimental)" >&2
	exit 2
	;;
esac
mirror=${NFRING_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nfring/suites/$suite

if [ -f "$cache/done" ] && [ "${NFRING_SUITE_REFRESH:-0}" != 1 ]; then
	echo "$cache"
	exit 0
fi
if [ "$print_only" = 1 ]; then
	echo "suite-kernel: $suite is not prepared; run scripts/suite-kernel.sh $suite" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "suite-kernel: debootstrap and chroot need root" >&2
	exit 1
fi
command -v debootstrap >/dev/null || {
	echo "suite-kernel: debootstrap missing; run scripts/deps.sh" >&2
	exit 1
}

log() { echo "suite-kernel[$suite]: $*" >&2; }
t0=$(date +%s)
root=$cache/chroot

# /proc inside the chroot only while apt runs; always unmounted again.
cleanup() {
	mountpoint -q "$root/proc" 2>/dev/null && umount "$root/proc" || true
}
trap cleanup EXIT

rm -rf "$cache"
mkdir -p "$cache"
log "debootstrap (minbase) into $root"
# The archive may be a snapshot whose Release files are past Valid-Until;
# signatures are still checked.
debootstrap --variant=minbase --include=make "$base" "$root" "$mirror" \
	>"$cache/debootstrap.log" 2>&1 || {
	tail -n 20 "$cache/debootstrap.log" >&2
	log "debootstrap failed (full log: $cache/debootstrap.log)"
	exit 1
}
cat >"$root/etc/apt/apt.conf.d/99nfring" <<'EOF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
mount -t proc proc "$root/proc"
# experimental is an add-on to unstable: its packages only when asked for.
target=()
if [ "$suite" = experimental ]; then
	echo "deb $mirror experimental main" \
		>"$root/etc/apt/sources.list.d/experimental.list"
	target=(-t experimental)
fi
in_root apt-get -q update >"$cache/apt.log" 2>&1
log "installing linux-headers-amd64 (and the suite's compiler)"
in_root apt-get -q -y "${target[@]}" install linux-headers-amd64 >>"$cache/apt.log" 2>&1 || {
	tail -n 20 "$cache/apt.log" >&2
	exit 1
}
# The metapackage depends on linux-headers-KVER.
kver=$(in_root dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	grep -oE 'linux-headers-[^ ,]+-amd64' | head -n1 | sed 's/^linux-headers-//')
[ -n "$kver" ] && [ -e "$root/usr/src/linux-headers-$kver/Makefile" ] || {
	log "could not find the headers' kernel release"
	exit 1
}
echo "$kver" >"$cache/kver"

# The image: one package on trixie; on newer suites linux-image-KVER pulls
# the kernel and its modules from linux-binary-KVER / linux-modules-KVER,
# and modules.builtin/.order from linux-base-KVER.
log "fetching the image of $kver"
mkdir -p "$root/var/tmp/nfring-image"
pkgs=$(in_root apt-cache depends --no-recommends --no-suggests "linux-image-$kver" |
	grep -oE 'linux-(binary|modules|base|image)-[^ ]+' | grep -xF \
		-e "linux-binary-$kver" -e "linux-modules-$kver" \
		-e "linux-base-$kver" | sort -u || true)
pkgs=$(printf 'linux-image-%s\n%s\n' "$kver" "$pkgs" | sort -u | tr '\n' ' ')
(cd "$root/var/tmp/nfring-image" &&
	chroot "$root" sh -c "cd /var/tmp/nfring-image && apt-get -q download $pkgs") \
	>>"$cache/apt.log" 2>&1 || {
	tail -n 20 "$cache/apt.log" >&2
	exit 1
}
mkdir -p "$cache/unpacked"
for deb in "$root"/var/tmp/nfring-image/*.deb; do
	dpkg-deb -x "$deb" "$cache/unpacked"
done
rm -rf "$root/var/tmp/nfring-image"

# /boot/vmlinuz-KVER, or /usr/lib/modules/KVER/vmlinuz on newer suites.
vmlinuz=$(find "$cache/unpacked" -type f \( -name "vmlinuz-$kver" -o \
	-path "*/lib/modules/$kver/vmlinuz" \) | head -n1)
[ -n "$vmlinuz" ] || { log "no vmlinuz-$kver in the image packages"; exit 1; }
mv "$vmlinuz" "$cache/vmlinuz"
moddir=$(find "$cache/unpacked" -type d -path "*/lib/modules/$kver" | head -n1)
[ -n "$moddir" ] || { log "no lib/modules/$kver in the image packages"; exit 1; }
mkdir -p "$cache/modroot/lib/modules"
mv "$moddir" "$cache/modroot/lib/modules/$kver"
rm -rf "$cache/unpacked"
# The packages leave modules.dep to their postinst; the host's depmod
# (kmod with xz and zstd) writes it.
depmod -b "$cache/modroot" "$kver"

cleanup
echo "$(($(date +%s) - t0))" >"$cache/prepare-seconds"
touch "$cache/done"
log "ready in $(cat "$cache/prepare-seconds") s: $kver"
echo "$cache"
