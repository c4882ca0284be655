#!/usr/bin/env bash
# `make demo`: install what is missing, build, boot the test VM, load
# nfring.ko, run nfring-worker with examples/dpi.rules and send real
# traffic through it (see tests/vm/cases/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make --no-print-directory vm-image >/dev/null
exec tests/vm/run-vm.sh build/vm/initramfs.cpio.gz demo
