#!/usr/bin/env bash
# `make demo`: install what is missing, build, boot the test VM and show
# traffic going through nfring's rings to a userspace program and back.
# Until the DPI worker exists the program is the test worker.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make --no-print-directory vm-image >/dev/null
exec tests/vm/run-vm.sh build/vm/initramfs.cpio.gz demo
