#!/usr/bin/env bash
# Print the kernel version nfring builds for and the test VM boots: the
# newest version for which both the headers (kbuild) and the image (vmlinuz
# plus modules) are installed.  NFRING_KVER overrides the choice.
set -euo pipefail
if [ -n "${NFRING_KVER:-}" ]; then
	echo "$NFRING_KVER"
	exit 0
fi
best=
for build in /lib/modules/*/build; do
	[ -e "$build/Makefile" ] || continue
	v=$(basename "$(dirname "$build")")
	[ -f "/boot/vmlinuz-$v" ] || continue
	[ -f "/lib/modules/$v/modules.dep" ] || continue
	best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n1)
done
if [ -z "$best" ]; then
	echo "kver: no kernel with both headers and image installed;" \
		"run scripts/deps.sh" >&2
	exit 1
fi
echo "$best"
