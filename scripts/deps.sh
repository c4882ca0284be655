#!/usr/bin/env bash
# Install every Debian 12 package nfring needs to build, test, demo and
# benchmark.  This list is the single source of truth: the Makefile, CI and
# the Vagrant provisioner all call this script and keep no list of their own.
#
# Idempotent and quick when everything is present (one dpkg-query, no apt).
#
# usage: deps.sh                  what build, check, demo and bench need
#        deps.sh --debug-kernel   also what building the debug test kernel
#                                 needs (make check-debug)
set -euo pipefail

PACKAGES=(
		# toolchain and build; clang and its runtime for the libFuzzer build
	build-essential cmake pkg-config git clang libclang-rt-14-dev python3
	# the module: kbuild against the headers, and the matching image that the
	# test VM boots (both metapackages track the same Debian 6.1 ABI)
	linux-headers-amd64 linux-image-amd64 kmod
	# userspace libraries
	liburing-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
	libnetfilter-queue-dev libmnl-dev
	# libcrypto: the DPI worker removes QUIC Initial protection (AES, HKDF)
	libssl-dev
	# the VM harness and the network inside it
	qemu-system-x86 qemu-utils busybox-static cpio zstd
	nftables iproute2 iptables
	# real ping (-R, IP options) for the hostile-mangle tests
	iputils-ping
	# the benchmark's TCP workload (copied into the VM image) and its plots
	iperf3 gnuplot-nox
	# real captures replayed into the VM's filtering namespace
	tcpreplay
	# unmodified NFQUEUE programs run over libnetfilter_queue over nfring
	# in the VM (tests/vm/cases/nfq_programs.sh)
	dhcpoptinj thc-ipv6
	# the development VM definition is checked with `vagrant validate`
	vagrant
	# the newer suites' build chroots (scripts/suite-kernel.sh) and the
	# package test's (tests/pkg): their packages never touch the host's apt
	debootstrap
	# `make deb`: dpkg-buildpackage, debhelper and its DKMS addon (dh_dkms)
	dpkg-dev debhelper dh-dkms
	# the package test boots its chroot with systemd-nspawn to run the unit
	systemd-container
)

# Every content and regex match in one multi-pattern pass: Hyperscan, which
# needs SSSE3; on a CPU without it, Vectorscan (same API and libhs.pc; the
# two packages conflict, so exactly one is installed).
if grep -qw ssse3 /proc/cpuinfo 2>/dev/null; then
	PACKAGES+=(libhyperscan-dev)
else
	PACKAGES+=(libvectorscan-dev)
fi

# Debian's own 6.1 source, and what building a kernel from it takes.
DEBUG_KERNEL_PACKAGES=(linux-source-6.1 flex bison bc libelf-dev libssl-dev rsync)
if [ "${1:-}" = --debug-kernel ]; then
	PACKAGES+=("${DEBUG_KERNEL_PACKAGES[@]}")
elif [ -n "${1:-}" ]; then
	echo "deps: unknown option '$1' (expected --debug-kernel or nothing)" >&2
	exit 2
fi

missing=()
status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" \
	2>/dev/null || true)
for p in "${PACKAGES[@]}"; do
	if ! grep -qE "^${p} ii" <<<"$status"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root:" >&2
	echo "  sudo sh -c '$cmd'" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
