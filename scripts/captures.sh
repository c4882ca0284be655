#!/usr/bin/env bash
# Real client captures for the DPI tests: nDPI's regression pcaps and the
# results its ndpiReader prints for them, from Debian's ndpi source package
# (docs/captures.md says why this source and what it holds).
#
# The upstream tarball is fetched once by its exact pool path, checked
# against the sha256 recorded here, and cached; the selected captures and
# their result files are then unpacked into OUT (default build/captures):
#   OUT/pcap/NAME            the capture
#   OUT/result/NAME.out      ndpiReader's output for it (nDPI 4.2)
#   OUT/SOURCE               where they came from
# and the captures recorded here (tests/captures/local/, by chromium.sh
# there), with tshark's reading of them as OUT/result/NAME.flows.
# Nothing is unpacked again while OUT's stamp matches this script.
#
# Selected: every capture with a flow that ndpiReader found to be TLS, HTTP,
# DNS or QUIC, up to MAX_BYTES, plus the three browser sessions just above
# it.  Those without a host name (hellos without SNI, ESNI, QUIC v2's draft,
# fuzzed packets) are kept as inputs that must yield nothing and must not
# crash; tests/captures/expected.py picks the flows that count.
#
# usage: captures.sh [OUT]
set -euo pipefail
# OUT as the caller meant it, before moving to the top of the tree.
out=$(realpath -m "${1:-$(dirname "$0")/../build/captures}")
cd "$(dirname "$0")/.."

# Pinned: bookworm, trixie and sid all carry ndpi 4.2 with this tarball.
POOL=http://deb.debian.org/debian/pool/main/n/ndpi
TARBALL=ndpi_4.2.orig.tar.gz
SHA256=e54ce8fe13adc5d747be7553513657fae78f796e0bd459e122c280cc06ce4daf
TOP=nDPI-4.2
MAX_BYTES=$((5 * 1024 * 1024))
# Whole sessions of three browsers (5.0 to 5.7 MB): kept despite the limit.
ESSENTIAL="chrome.pcap firefox.pcap safari.pcap"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/nfring/captures
url=$POOL/$TARBALL
tarball=$cache/$TARBALL
# Any edit of this script (pin or selection) or of the local captures
# rebuilds OUT.
local=tests/captures/local
stamp="$TARBALL $(cat scripts/captures.sh "$local"/* | sha256sum | cut -d' ' -f1)"

if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
	echo "captures: $out is up to date ($(ls "$out/pcap" | wc -l) captures)"
	exit 0
fi

verify() {
	echo "$SHA256  $1" | sha256sum --check --status
}

mkdir -p "$cache"
if [ ! -f "$tarball" ] || ! verify "$tarball"; then
	echo "captures: downloading $url (121 MiB, once)"
	rm -f "$tarball.part"
	if ! curl --fail --location --silent --show-error --retry 3 \
		--output "$tarball.part" "$url"; then
		echo "captures: download failed: $url" >&2
		exit 1
	fi
	if ! verify "$tarball.part"; then
		echo "captures: $url does not have sha256 $SHA256" \
			"(got $(sha256sum <"$tarball.part" | cut -d' ' -f1))" >&2
		exit 1
	fi
	mv "$tarball.part" "$tarball"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The results are small: unpack all of them and pick from there.
tar -xzf "$tarball" -C "$work" "$TOP/tests/result" "$TOP/COPYING"
tar -tvzf "$tarball" "$TOP/tests/pcap" >"$work/pcaps"

# A result line whose master protocol is one of the four (GTP:/CAPWAP:
# prefixes mark tunnelled flows, left for expected.py to sort out).
selected=()
while read -r _ _ size _ _ path; do
	name=${path##*/}
	case $name in *.pcap | *.pcapng) ;; *) continue ;; esac
	result=$work/$TOP/tests/result/$name.out
	[ -f "$result" ] || continue
	grep -qE '\[proto: ([A-Z]+:)?[0-9.]+/(TLS|HTTP|DNS|QUIC)[].]' \
		"$result" || continue
	if [ "$size" -gt "$MAX_BYTES" ] && [[ " $ESSENTIAL " != *" $name "* ]]; then
		continue
	fi
	selected+=("$name")
done <"$work/pcaps"

if [ ${#selected[@]} -eq 0 ]; then
	echo "captures: no capture selected from $TARBALL" >&2
	exit 1
fi

printf "$TOP/tests/pcap/%s\n" "${selected[@]}" >"$work/list"
tar -xzf "$tarball" -C "$work" -T "$work/list"

rm -rf "$out"
mkdir -p "$out/pcap" "$out/result"
for name in "${selected[@]}"; do
	mv "$work/$TOP/tests/pcap/$name" "$out/pcap/"
	mv "$work/$TOP/tests/result/$name.out" "$out/result/"
done
for pcap in "$local"/*.pcap; do
	cp "$pcap" "$out/pcap/"
	cp "$pcap.flows" "$out/result/"
done
mv "$work/$TOP/COPYING" "$out/COPYING"
cat >"$out/SOURCE" <<EOF
nDPI 4.2 regression captures (tests/pcap) and ndpiReader results
(tests/result), from Debian's ndpi source package.
url: $url
sha256: $SHA256
license: the package's, LGPL-3.0-or-later (COPYING); no separate terms
are stated for the captures.

$(cd "$local" && ls *.pcap): recorded by tests/captures/chromium.sh
(Debian's Chromium on a private loopback), part of nfring.
EOF
echo "$stamp" >"$out/.stamp"
echo "captures: ${#selected[@]} captures from nDPI and $(ls "$local"/*.pcap | wc -l) local ones in $out"
