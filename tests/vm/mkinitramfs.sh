#!/usr/bin/env bash
# Build the test VM's initramfs: busybox, bash, nft, ip, kmod, iperf3, the
# project's binaries with their shared libraries, the kernel modules the
# tests need (with depmod), nfring.ko, and the VM test cases.
#
# usage: mkinitramfs.sh OUT.cpio.gz KVER BIN_DIR [EXTRA.ko ...]
#   BIN_DIR  every executable in it is copied to /usr/local/bin (may be empty)
#   EXTRA.ko modules placed in /lib/modules/KVER/extra (nfring.ko and the
#            harness's own test modules)
# Environment:
#   NFRING_MODROOT  root under which lib/modules/KVER lives (default /; the
#                   debug kernel's modules_install output)
set -euo pipefail

out=$1 kver=$2 bindir=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
modroot=${NFRING_MODROOT:-}
moddir=${modroot%/}/lib/modules/$kver

# Modules the VM tests load, by name; dependencies are resolved below.
KMODS=(
	veth nf_tables nft_queue nft_ct nf_conntrack nfnetlink_queue
	nft_chain_nat nf_nat nft_reject_inet nf_reject_ipv4 nf_reject_ipv6
	bridge nft_meta_bridge br_netfilter
	pktgen
)
# Modules that newer kernels folded into another one (nft_objref is part of
# nf_tables.ko since 6.2): taken when the kernel still has them.
KMODS_IF_PRESENT=(nft_objref)

# Host programs the test scripts use.  Real ip/modprobe/nft are needed:
# busybox's applets lack nft support and kmod features.  iperf3 is the
# benchmark's TCP workload; ping is iputils' (busybox's lacks -R); tcpreplay
# puts real captures on the wire (tests/vm/cases/dpi_replay.sh).
# dhcpoptinj and thc-ipv6's fragrouter6 are unmodified NFQUEUE programs from
# Debian's archive that run over libnetfilter_queue over nfring
# (tests/vm/cases/nfq_programs.sh).
PROGS=(bash nft ip kmod ss stty setsid setpriv iperf3 ping tcpreplay
	dhcpoptinj atk6-fragrouter6)

root=$(mktemp -d)
chmod 0755 "$root"  # mktemp made it 0700: other users must reach /usr
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,run,tests,lib/modules/"$kver"/extra}
cp /bin/busybox "$root/bin/busybox"

# copy_with_libs FILE DEST: the file plus every shared library ldd names,
# at the same paths so the dynamic loader finds them.
copy_with_libs() {
	local f=$1 dest=$2 lib
	install -D -m 0755 "$f" "$root$dest"
	while read -r lib; do
		[ -n "$lib" ] && [ -e "$lib" ] || continue
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done < <(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true)
}

for p in "${PROGS[@]}"; do
	path=$(command -v "$p") || { echo "mkinitramfs: $p not installed; run scripts/deps.sh" >&2; exit 1; }
	copy_with_libs "$(readlink -f "$path")" "/usr/bin/$p"
done
for t in modprobe insmod rmmod lsmod depmod modinfo; do
	ln -sf kmod "$root/usr/bin/$t"
	# The kernel autoloads modules (veth, nft expressions) via /sbin/modprobe.
	ln -sf /usr/bin/kmod "$root/sbin/$t"
done

if [ -d "$bindir" ]; then
	for f in "$bindir"/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		copy_with_libs "$f" "/usr/local/bin/$(basename "$f")"
	done
fi

# libnetfilter_queue over nfring, built beside BIN_DIR (BIN_DIR/../lib/nfq),
# into the directory the package installs it to.
nfqdir=$bindir/../lib/nfq
if [ -e "$nfqdir/libnetfilter_queue.so.1" ]; then
	mkdir -p "$root/usr/lib/x86_64-linux-gnu/nfring"
	cp -a "$nfqdir"/libnetfilter_queue.so.1* "$root/usr/lib/x86_64-linux-gnu/nfring/"
	copy_with_libs "$(readlink -f "$nfqdir/libnetfilter_queue.so.1")" \
		"/usr/lib/x86_64-linux-gnu/nfring/$(basename "$(readlink -f "$nfqdir/libnetfilter_queue.so.1")")"
fi

# Kernel modules: the closure of KMODS as modprobe resolves it on the host.
deps=$(
	for m in "${KMODS[@]}"; do
		modprobe -d "${modroot:-/}" -S "$kver" --show-depends "$m" || exit 1
	done
	for m in "${KMODS_IF_PRESENT[@]}"; do
		modprobe -d "${modroot:-/}" -S "$kver" --show-depends "$m" 2>/dev/null || true
	done
) || { echo "mkinitramfs: a module the tests need is missing for $kver" >&2; exit 1; }
mapfile -t kos < <(awk '$1 == "insmod" { print $2 }' <<<"$deps" | sort -u)
for ko in "${kos[@]}"; do
	install -D -m 0644 "$ko" "$root/lib/modules/$kver/${ko#"$moddir"/}"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$moddir/$f" ] && cp "$moddir/$f" "$root/lib/modules/$kver/"
done
for ko in "$@"; do
	install -m 0644 "$ko" "$root/lib/modules/$kver/extra/"
done
depmod -b "$root" "$kver"

install -m 0755 "$here/init" "$root/init"
cp "$here/lib.sh" "$here/kernel-reports.ere" "$root/tests/"
cp "$here"/cases/*.sh "$root/tests/"
# The benchmark's guest script runs like a case (nfringvm_case=bench).
cp "$here"/../../bench/vm/*.sh "$root/tests/"
mkdir -p "$root/examples"
cp "$here"/../../examples/*.rules "$root/examples/"
echo "root:x:0:0:root:/root:/bin/bash" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
: > "$root/etc/nsswitch.conf"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
