#!/usr/bin/env bash
# `make deb`: build the Debian packages nfring-dkms and nfring from this
# working tree into build/deb/.
#
# dpkg-buildpackage builds inside the source tree and writes the packages
# into its parent folder.  To touch neither this checkout (obj-*/, debian/
# state) nor its parent, it runs on a copy of the tree's files in
# build/deb/src/nfring-VERSION, whose parent is build/deb/src; the results
# are then moved up to build/deb/.  The copy holds what git tracks plus
# untracked files it does not ignore, so uncommitted edits are packaged
# just as `make` would build them.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/deb
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
src=$out/src/nfring-$version

for tool in dpkg-buildpackage dh dh_dkms; do
	command -v "$tool" >/dev/null || {
		echo "deb: $tool missing; run scripts/deps.sh" >&2
		exit 1
	}
done

rm -rf "$out"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			# Deleted but not yet committed: nothing to copy.
			[ -e "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi

log=$out/build.log
echo "deb: dpkg-buildpackage in $src (log: $log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deb: dpkg-buildpackage failed; full log in $log, tree in $src" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out"/
rm -rf "$out/src"
ls -1 "$out"/*.deb
