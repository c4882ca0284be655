#!/usr/bin/env bash
# Vagrant provisioner: the same dependency script as `make check` and CI,
# then a hint when the kernel that nfring builds for is not the one running.
set -euo pipefail
cd /nfring
scripts/deps.sh
want=$(scripts/kver.sh)
if [ "$(uname -r)" != "$want" ]; then
	echo "provision: kernel $want is installed but $(uname -r) is running;" \
		"run 'vagrant reload' so that 'make load' can load nfring.ko"
fi
