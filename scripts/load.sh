#!/usr/bin/env bash
# Load or unload nfring.ko on a host whose kernel can load modules (a normal
# Linux box or the Vagrant VM).  Refuses clearly when nfnetlink_queue holds
# netfilter's queue handler, and while nfring is loaded installs a
# modprobe.d rule so that no NFQUEUE program autoloads nfnetlink_queue.
#
# usage: load.sh load MODULE.ko | load.sh unload
set -euo pipefail

conf=/etc/modprobe.d/nfring-blocks-nfnetlink_queue.conf

need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "load: run as root (sudo make $1)" >&2; exit 1; }
}

case "${1:-}" in
load)
	ko=${2:?usage: load.sh load MODULE.ko}
	need_root load
	if [ ! -e /proc/modules ]; then
		echo "load: this kernel ($(uname -r)) has no module support;" \
			"use 'make vm-shell' or the Vagrant VM" >&2
		exit 1
	fi
	if [ "$(modinfo -F vermagic "$ko" | awk '{ print $1 }')" != "$(uname -r)" ]; then
		echo "load: $ko was built for $(modinfo -F vermagic "$ko" | awk '{ print $1 }')," \
			"this kernel is $(uname -r); rebuild with 'make KVER=$(uname -r)'" >&2
		exit 1
	fi
	if grep -q '^nfnetlink_queue ' /proc/modules; then
		echo "load: nfnetlink_queue is loaded and owns netfilter's queue handler;" \
			"stop its users and run 'rmmod nfnetlink_queue' first" >&2
		exit 1
	fi
	echo "install nfnetlink_queue /bin/false  # nfring is netfilter's queue handler; see 'make unload'" > "$conf"
	modprobe nfnetlink
	insmod "$ko"
	echo "load: nfring loaded; /dev/nfring and /proc/net/nfring are ready"
	;;
unload)
	need_root unload
	if grep -q '^nfring ' /proc/modules 2>/dev/null; then
		rmmod nfring
	fi
	rm -f "$conf"
	echo "load: nfring unloaded; nfnetlink_queue may load again"
	;;
*)
	echo "usage: load.sh load MODULE.ko | load.sh unload" >&2
	exit 2
	;;
esac
