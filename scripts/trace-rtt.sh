#!/usr/bin/env bash
# `make trace-rtt`: where an idle round trip's time goes, no queue against
# the sleeping nfring worker, from ftrace in one boot of the test VM
# (bench/vm/trace_rtt.sh).  Entries of the worker's main functions are
# marked with uprobes at offsets read here from the binary's symbols.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory all vm-image >/dev/null
probes=
while read -r addr _ name; do
	case $name in
	*queue_worker::handle_completions*) short=completions ;;
	*queue_worker::process_batch*) short=batch ;;
	nfring::parse_packet*) short=parse ;;
	nfring::ruleset::match*) short=match ;;
	nfring::flow_table::lookup*) short=flow_lookup ;;
	*queue_worker::choose_wake_mode*) short=wake_mode ;;
	*queue_worker::kick_if_due*) short=kick_due ;;
	*) continue ;;
	esac
	probes+="${probes:+,}$short:0x$addr"
done < <(nm -C build/bin/nfring-worker | awk '$2 == "T" { a = $1; $1 = ""; $2 = ""; print a, "T", substr($0, 3) }')
mkdir -p build/trace-rtt
NFRING_VM_APPEND=" NFRING_TRACE_UPROBES=$probes" NFRING_VM_OUT=build/trace-rtt \
	NFRING_VM_TIMEOUT=600 tests/vm/run-vm.sh build/vm/initramfs.cpio.gz trace_rtt
cat build/trace-rtt/trace_rtt.txt
echo "(raw traces: build/trace-rtt/trace_*.txt)"
