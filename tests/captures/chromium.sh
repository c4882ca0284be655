#!/usr/bin/env bash
# Records Debian's Chromium opening an HTTPS page over TCP and over QUIC, for
# what nDPI 4.2's captures lack: post-quantum ClientHellos (a 1,216-byte
# X25519MLKEM768 key share, so the hello spans two TCP segments) and QUIC
# v1 Initials (Chrome splits its hello into many CRYPTO frames across
# them).  The output is committed (tests/captures/local/); run this again
# only to record a newer browser.  Needs root, chromium, tcpdump, ethtool,
# openssl and tshark; everything happens on the loopback of a private
# network namespace, with every name mapped to 127.0.0.1.
#
# Writes local/chromium.pcap and local/chromium.pcap.flows: one line per
# hello, "proto client server master name", as tshark reads it.
#
# usage: chromium.sh   (as root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/local
mkdir -p "$out"

if [ "${1:-}" != --inside ]; then
	for tool in chromium tcpdump ethtool openssl tshark unshare; do
		command -v $tool >/dev/null || {
			echo "chromium.sh: $tool is missing" >&2
			exit 1
		}
	done
	exec unshare --net "$0" --inside
fi

work=$(mktemp -d)
pids=()
trap '[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$work"' EXIT
cd "$work"

# Ethernet's MTU, and no offloads: tcpdump on lo would otherwise see one
# 2 kB "segment" where a real link carries two.
ip link set lo mtu 1500 up
ethtool -K lo tso off gso off gro off tx off >/dev/null

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout key.pem -out cert.pem -days 1 -subj /CN=example.test \
	-addext subjectAltName=DNS:*.example.test 2>/dev/null
openssl s_server -accept 443 -cert cert.pem -key key.pem -www -quiet \
	>/dev/null 2>&1 &
pids+=($!)
# A UDP sink on 443: without it the port-unreachable reply ends Chrome's
# QUIC handshake after its first packet.
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 443))
while True:
    s.recv(65536)' &
pids+=($!)
tcpdump -i lo -U -s 0 -w capture.pcap 'tcp port 443 or udp port 443' \
	2>/dev/null &
pids+=($!)
sleep 1

browse() {
	local profile
	profile=$(mktemp -d)
	timeout 20 chromium --headless=new --no-sandbox --disable-gpu \
		--user-data-dir="$profile" --no-first-run \
		--host-resolver-rules="MAP * 127.0.0.1" \
		--ignore-certificate-errors "$@" --dump-dom >/dev/null 2>&1 || true
	rm -rf "$profile"
}
browse https://tls.example.test/
browse --enable-quic --origin-to-force-quic-on=quic.example.test:443 \
	https://quic.example.test/
sleep 1
kill "${pids[@]}"
wait || true
pids=()

cp capture.pcap "$out/chromium.pcap"
# tshark opens QUIC Initials (their keys derive from the packet itself).
{
	tshark -r capture.pcap -Y 'tls.handshake.type == 1 && tcp' -T fields \
		-e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
		-e tls.handshake.extensions_server_name 2>/dev/null |
		awk -F'\t' '{ printf "TCP\t%s:%s\t%s:%s\tTLS\t%s\n", $1, $2, $3, $4, $5 }'
	tshark -r capture.pcap -Y 'tls.handshake.extensions_server_name && udp' \
		-T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
		-e tls.handshake.extensions_server_name 2>/dev/null |
		awk -F'\t' '{ printf "UDP\t%s:%s\t%s:%s\tQUIC\t%s\n", $1, $2, $3, $4, $5 }'
} | sort -u >"$out/chromium.pcap.flows"
echo "chromium.sh: $(wc -l <"$out/chromium.pcap.flows") hellos in $out/chromium.pcap"
