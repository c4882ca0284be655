#!/usr/bin/env bash
# `make demo`: install what is missing, build, boot the test VM and show
# nfring in the kernel.  Until the worker exists (issue 4) the demo shows the
# module registering as netfilter's queue handler and handling queued
# traffic the way NFQUEUE does when nobody listens.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make --no-print-directory vm-image >/dev/null
exec tests/vm/run-vm.sh build/vm/initramfs.cpio.gz demo
