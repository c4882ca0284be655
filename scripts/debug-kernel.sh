#!/usr/bin/env bash
# Build (once per machine) the debug test kernel: Debian's own 6.1 source
# (linux-source-6.1, the same version as the image the normal VM tests boot)
# with KASAN, KFENCE, UBSAN bounds, lockdep, PROVE_RCU(_LIST), atomic-sleep
# checks, debug objects, kmemleak and list debugging, configured from
# x86_64_defconfig plus tests/vm/debug-kernel/debug.config.
#
# The result is cached outside the repository, keyed by the source package
# version and a hash of the config fragment and this script, so it is built
# once per machine:
#   ${XDG_CACHE_HOME:-~/.cache}/nfring/debug-kernel/KEY/
#     vmlinuz   the kernel the VM boots
#     kver      its release string (uname -r)
#     obj/      the build tree; external modules build with
#               make -C obj M=DIR modules
#     modroot/  modules_install output (lib/modules/KVER/...)
#
# usage: debug-kernel.sh          build if needed; print the cache folder
#        debug-kernel.sh --print  print the folder if built; fail otherwise
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
fragment=$top/tests/vm/debug-kernel/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
if [ -z "$srcver" ] || [ ! -r "$tarball" ]; then
	echo "debug-kernel: linux-source-6.1 is not installed; run make debug-kernel" >&2
	exit 2
fi
# Bump when the build steps below change what gets built.
recipe=2
key=$srcver-$( (cat "$fragment"; echo "recipe $recipe") | sha256sum | cut -c1-12)
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nfring/debug-kernel/$key

if [ -f "$cache/done" ]; then
	echo "$cache"
	exit 0
fi
if [ "${1:-}" = --print ]; then
	echo "debug-kernel: not built yet for $key; run 'make debug-kernel'" >&2
	exit 1
fi

log() { echo "debug-kernel: $*" >&2; }
t0=$(date +%s)
rm -rf "$cache"
mkdir -p "$cache"
log "unpacking linux-source-6.1 $srcver into $cache/src"
mkdir -p "$cache/src"
tar -xJf "$tarball" -C "$cache/src" --strip-components=1

# Under TCG, 6.1's boot-time RCU-tasks self-tests (run with PROVE_RCU) hang
# about two boots in three at "Running RCU-tasks wait API self tests".
# They test RCU, not us: skip starting them and their late verification.
tasks=$cache/src/kernel/rcu/tasks.h
sed -i \
	-e 's/^\trcu_tasks_initiate_self_tests();$/\tif (0) rcu_tasks_initiate_self_tests(); \/* nfring: skipped under TCG *\//' \
	-e 's/^late_initcall(rcu_tasks_verify_schedule_work);$/static int (*nfring_unused_verify)(void) __maybe_unused = rcu_tasks_verify_schedule_work;/' \
	"$tasks"
grep -q 'nfring: skipped under TCG' "$tasks" && grep -q nfring_unused_verify "$tasks" ||
	{ log "could not disable the RCU-tasks self-tests in $tasks (source changed?)"; exit 1; }

obj=$cache/obj
mkdir -p "$obj"
make -s -C "$cache/src" O="$obj" x86_64_defconfig
"$cache/src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >/dev/null
make -s -C "$cache/src" O="$obj" olddefconfig
# Every option of the fragment must have survived olddefconfig (a typo or
# a missing dependency would silently drop a checker).
missing=0
while read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$obj/.config" || { log "config: '$line' did not stick"; missing=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		grep -q "^$opt=" "$obj/.config" && { log "config: '$opt' is still set"; missing=1; } ;;
	esac
done < "$fragment"
[ "$missing" = 0 ] || exit 1

log "building (this takes a while on 2 cores)"
make -C "$cache/src" O="$obj" -j "$(nproc)" bzImage modules >"$cache/build.log" 2>&1 ||
	{ tail -n 40 "$cache/build.log" >&2; exit 1; }
make -s -C "$cache/src" O="$obj" INSTALL_MOD_PATH="$cache/modroot" modules_install >/dev/null
cp "$obj/arch/x86/boot/bzImage" "$cache/vmlinuz"
make -s -C "$cache/src" O="$obj" kernelrelease > "$cache/kver"
echo $(( $(date +%s) - t0 )) > "$cache/build-seconds"
touch "$cache/done"
log "built $(cat "$cache/kver") in $(cat "$cache/build-seconds") s"
echo "$cache"
