# `make demo`: nfring.ko in a real 6.1 kernel, nfring-worker with
# examples/dpi.rules answering `queue num 0` on a forwarding box, and real
# traffic from a client namespace to a server namespace: HTTP requests,
# TLS ClientHellos, DNS queries, UDP with and without a payload signature.
# Prints what was sent, what arrived and which rule decided; fails when
# allowed traffic does not arrive or blocked traffic does.
source /tests/lib.sh
trap 'worker_stop KILL; tcp_serve_stop; topo_down' EXIT

modprobe nfring
topo_up
box_rules "meta l4proto { tcp, udp } queue num 0"
tcp_serve 80 443
worker_start --rules /examples/dpi.rules --queue 0

echo "client 10.0.1.2 -> box (nft: meta l4proto { tcp, udp } queue num 0) -> server 10.0.2.2"
echo "rules: /examples/dpi.rules"
grep -v '^#' /examples/dpi.rules | sed '/^$/d; s/^/    /'
echo
printf '%-34s %-8s %-8s %s\n' "traffic" "expected" "arrived" "decided by"
printf '%-34s %-8s %-8s %s\n' "-------" "--------" "-------" "----------"

failures=0
# probe LABEL EXPECTED(yes|no) COMMAND...: run one exchange, report it.
probe() {
	local label=$1 want=$2 before got rule
	shift 2
	before=$(wc -l < /tmp/worker.log)
	got=$("$@")
	sleep 0.2   # let the worker log the decision
	# The worker logs JSON lines: "rule":"FILE:LINE"; show that line.
	rule=$(tail -n +"$((before + 1))" /tmp/worker.log |
		sed -n 's/.*"rule":"\([^"]*\):\([0-9]*\)".*/\1 \2/p' | head -n1 |
		while read -r file line; do
			printf 'line %s: %s' "$line" \
				"$(sed -n "${line}p" "$file" | sed 's/#.*//' | tr -s ' ')"
		done)
	[ -n "$rule" ] || rule="default: accept"
	printf '%-34s %-8s %-8s %s\n' "$label" "$want" "$got" "$rule"
	[ "$got" = "$want" ] || failures=$((failures + 1))
}

udp_probe() { # PORT PAYLOAD|--dns NAME
	local port=$1
	shift
	ip netns exec server nfring-udp recv "$port" 1 1500 > /tmp/probe.out &
	local rpid=$!
	sleep 0.2
	ip netns exec client nfring-udp send 10.0.2.2 "$port" 1 "$@" >/dev/null
	wait "$rpid" || true
	if [ "$(awk '$1 == "received" { print $2 }' /tmp/probe.out)" = 1 ]; then
		echo yes
	else
		echo no
	fi
}

probe "HTTP  Host: www.example.com" yes client_tcp http 80 www.example.com
probe "HTTP  Host: video.example.net" yes client_tcp http 80 video.example.net
probe "HTTP  Host: evil.example.org" no client_tcp http 80 evil.example.org
probe "TLS   SNI www.example.com" yes client_tcp tls 443 www.example.com
probe "TLS   SNI cdn.blocked.example" no client_tcp tls 443 cdn.blocked.example
probe "TLS   SNI blocked.example" yes client_tcp tls 443 blocked.example
probe "DNS   query www.example.com" yes udp_probe 5353 --dns www.example.com
probe "DNS   query ads.example.com" no udp_probe 5353 --dns ads.example.com
probe "UDP   :9999 'hello'" yes udp_probe 9999 "hello"
probe "UDP   :9999 'an EVIL payload'" no udp_probe 9999 "an EVIL payload"
probe "UDP   :9000 'EVIL' (other port)" yes udp_probe 9000 "EVIL"

echo
echo "packets marked 7 seen by a later nft rule: $(marked_count)"
echo
echo "== module counters (/proc/net/nfring in the box)"
ip netns exec box cat /proc/net/nfring | sed -n '/^queue /,$p'
worker_stop TERM
echo
echo "== worker counters"
sed -n '/: queue 0: packets/,$p' /tmp/worker.log | sed 's/^nfring-worker: //'
tcp_serve_stop
topo_down
trap - EXIT
rmmod nfring
echo
if [ "$failures" -ne 0 ]; then
	echo "demo: $failures exchanges did not go as the rules say"
	exit 1
fi
echo "demo: every allowed exchange arrived and every blocked one did not."
