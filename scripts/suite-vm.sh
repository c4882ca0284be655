#!/usr/bin/env bash
# Build nfring.ko (and the harness's test module) for a newer Debian suite's
# kernel, in that suite's chroot with its own compiler, and the test VM
# image for that kernel: the suite's own Debian image boots it.
#
# usage: suite-vm.sh SUITE [OUT]
#   SUITE  trixie or sid (scripts/suite-kernel.sh prepares and caches it)
#   OUT    default build/vm/SUITE; receives
#            kver, vmlinuz (link into the cache), initramfs.cpio.gz,
#            kmod/nfring.ko, kmod/nfring_test_warn.ko, build.log
# run-vm.sh boots it with NFRING_VM_KERNEL_DIR=OUT.  The userspace programs
# copied into the image are the host's build/bin (Debian 12 binaries run on
# any of these kernels).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
suite=${1:?usage: suite-vm.sh SUITE [OUT]}
out=${2:-build/vm/$suite}

cache=$(scripts/suite-kernel.sh "$suite")
kver=$(cat "$cache/kver")
root=$cache/chroot
log() { echo "suite-vm[$suite]: $*" >&2; }

mkdir -p "$out/kmod"
out=$(cd "$out" && pwd)

# A fresh copy of the module sources inside the chroot, built there.
src=$root/build/nfring
rm -rf "$src"
mkdir -p "$src/tests/vm"
cp -r "$top/kernel" "$top/abi" "$src/"
cp -r "$top/tests/vm/modules" "$src/tests/vm/"
find "$src" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
	-o -name Module.symvers -o -name modules.order \) -delete

# objtool (7.x) reads /proc/self; mounted only while building.
cleanup() {
	mountpoint -q "$root/proc" 2>/dev/null && umount "$root/proc" || true
}
trap cleanup EXIT
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
build_in_root() {
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
		make -C "/usr/src/linux-headers-$kver" M="$1" \
		CONFIG_DEBUG_INFO_BTF_MODULES= modules
}
log "building nfring.ko for $kver in the $suite chroot"
# kernel/Kbuild builds with -Werror: any compiler warning fails here.
if ! { build_in_root /build/nfring/kernel &&
	build_in_root /build/nfring/tests/vm/modules; } >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	log "module build failed (full log: $out/build.log)"
	exit 1
fi
cleanup
cp "$src/kernel/nfring.ko" "$src/tests/vm/modules/nfring_test_warn.ko" "$out/kmod/"
echo "$kver" >"$out/kver"
ln -sfn "$cache/vmlinuz" "$out/vmlinuz"

log "VM image for $kver"
NFRING_MODROOT=$cache/modroot tests/vm/mkinitramfs.sh \
	"$out/initramfs.cpio.gz" "$kver" build/bin \
	"$out/kmod/nfring.ko" "$out/kmod/nfring_test_warn.ko"
