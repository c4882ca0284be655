# Unmodified NFQUEUE programs over nfring: each is an ordinary binary
# linked against libnetfilter_queue.so.1, run with LD_LIBRARY_PATH naming
# libnetfilter_queue over nfring (as nfring-nfq-run does).  Nothing is
# recompiled:
#  - nfring-nfq-consumer, the benchmark's NFQUEUE baseline (per-packet and
#    batch verdicts, a poll-driven loop, nfnl_rcvbufsiz, setsockopt);
#  - dhcpoptinj from Debian's archive, which injects DHCP options into the
#    requests it is given and returns them with their verdict (nfring's
#    mangle path);
#  - thc-ipv6's atk6-fragrouter6 from Debian's archive, which drops the
#    IPv6 packets it is given and sends them again in fragments.
source /tests/lib.sh
CONSUMER_PID= DHCP_PID= NC_PID= FRAG_PID=
cleanup() {
	for p in $CONSUMER_PID $DHCP_PID $NC_PID $FRAG_PID; do
		kill "$p" 2>/dev/null || true
	done
	topo_down
}
trap cleanup EXIT
modprobe nfring
topo_up
NFQ_LIB=/usr/lib/x86_64-linux-gnu/nfring
[ -e "$NFQ_LIB/libnetfilter_queue.so.1" ] || fail "libnetfilter_queue over nfring is not in the image"

# Each program resolves libnetfilter_queue.so.1 to ours (the dynamic
# loader's own listing; there is no ldd in the guest).
for prog in /usr/local/bin/nfring-nfq-consumer "$(command -v dhcpoptinj)" \
	"$(command -v atk6-fragrouter6)"; do
	libs=$(LD_TRACE_LOADED_OBJECTS=1 LD_LIBRARY_PATH=$NFQ_LIB "$prog")
	grep -q "libnetfilter_queue.so.1 => $NFQ_LIB/libnetfilter_queue.so.1" <<<"$libs" ||
		fail "$prog does not load libnetfilter_queue over nfring: $libs"
done

# consumer_start QUEUE ARGS...: the benchmark's consumer over nfring in the
# box, once it says it is bound.
consumer_start() {
	local q=$1 i
	shift
	: > /tmp/consumer.out
	ip netns exec box env LD_LIBRARY_PATH=$NFQ_LIB \
		nfring-nfq-consumer --queue "$q" "$@" > /tmp/consumer.out 2>&1 &
	CONSUMER_PID=$!
	for i in $(seq 100); do
		grep -q "^bound $q" /tmp/consumer.out && return 0
		sleep 0.05
	done
	fail "consumer $* did not bind queue $q: $(cat /tmp/consumer.out)"
}

# --- the benchmark's NFQUEUE consumer ---------------------------------------
for batch in 1 32; do
	box_rules "udp dport 9000 queue num 0"
	consumer_start 0 --batch $batch
	recv_start 2000 20000
	send_udp 2000 "nfq$batch" --interval-us 200
	recv_wait
	settle 0 in_flight 0
	kill -TERM "$CONSUMER_PID"
	wait "$CONSUMER_PID" || fail "consumer exited with $?: $(cat /tmp/consumer.out)"
	CONSUMER_PID=
	seen=$(awk '$1 == "packets" { print $2 }' /tmp/consumer.out)
	expect_eq "batch $batch: arrived" "$GOT" 2000
	expect_eq "batch $batch: payloads intact" "$BAD" 0
	expect_eq "batch $batch: the program saw every packet" "$seen" 2000
	pass "batch $batch: $(tail -1 /tmp/consumer.out)"
done

# --- dhcpoptinj: DHCP requests come back with an option added --------------
# udhcpc in the client broadcasts DISCOVERs from a packet socket; the box's
# prerouting queues them to dhcpoptinj, which adds option 12 (host name
# "nfring") and accepts; a listener on port 67 in the box keeps what arrives.
ip netns exec box nft flush ruleset
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		udp dport 67 queue num 5
	}
}
NFT
ip netns exec box env LD_LIBRARY_PATH=$NFQ_LIB \
	dhcpoptinj -f -d -c -q 5 -o 0c6e6672696e67 > /tmp/dhcp.log 2>&1 &
DHCP_PID=$!
for i in $(seq 100); do
	[ "$(qstat 5 pid)" != none ] && break
	sleep 0.05
done
[ "$(qstat 5 pid)" != none ] || fail "dhcpoptinj did not bind queue 5: $(cat /tmp/dhcp.log)"
ip netns exec box nfring-udp recv 67 1 8000 --hex > /tmp/dhcp.out &
NC_PID=$!
sleep 0.3
ip netns exec client busybox udhcpc -i c0 -n -q -t 3 -T 1 -s /bin/true >/dev/null 2>&1 || true
wait "$NC_PID" || true
NC_PID=
got=$(awk '$1 == "datagram" { print $2; exit }' /tmp/dhcp.out)
[ -n "$got" ] || fail "no DHCP request reached the box's listener; dhcpoptinj said: $(cat /tmp/dhcp.log)"
case "$got" in
*0c066e6672696e67*) pass "dhcpoptinj's option 12 is in the request that arrived" ;;
*) fail "the request arrived without the injected option: $got; dhcpoptinj said: $(cat /tmp/dhcp.log)" ;;
esac
mangled=$(qstat 5 mangled)
[ "$mangled" -ge 1 ] || fail "no verdict replaced a packet (mangled $mangled)"
settle 5 in_flight 0
expect_eq "queue 5: nothing left in flight" "$(qstat 5 in_flight)" 0
pass "dhcpoptinj: $(qstat 5 enqueued) queued, $mangled replaced with their new payload"
kill -TERM "$DHCP_PID"; wait "$DHCP_PID" 2>/dev/null || true; DHCP_PID=

# --- thc-ipv6's fragrouter6: queued IPv6 datagrams leave as fragments ------
# The client queues its own UDP datagrams to the box (output hook, queue 0)
# to fragrouter6, which drops each and sends it again in 8-byte fragments
# from a packet socket (evasion method 64).  The box counts fragments before
# reassembly and receives every datagram whole.
ip -n client addr add fd00:1::2/64 dev c0 nodad
ip -n box addr add fd00:1::1/64 dev b0 nodad
ip netns exec client nft flush ruleset
ip netns exec client nft -f - <<'NFT'
table inet nfring_test {
	chain out {
		type filter hook output priority 0; policy accept;
		ip6 daddr fd00:1::1 udp dport 9000 queue num 0
	}
}
NFT
ip netns exec box nft flush ruleset
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	counter frags { }
	chain pre {
		type filter hook prerouting priority -500; policy accept;
		exthdr frag exists counter name frags
	}
}
NFT
ip netns exec box ping -6 -c 1 -W 2 fd00:1::2 >/dev/null 2>&1 || true  # neighbours known
ip netns exec client env LD_LIBRARY_PATH=$NFQ_LIB \
	atk6-fragrouter6 c0 64 > /tmp/frag.log 2>&1 &
FRAG_PID=$!
for i in $(seq 100); do
	ip netns exec client awk '$1 == "0" { found = 1 } END { exit !found }' /proc/net/nfring 2>/dev/null && break
	sleep 0.05
done
rm -f /tmp/recv6.out
ip netns exec box nfring-udp recv 9000 50 20000 "fragmented" > /tmp/recv6.out &
rpid=$!
sleep 0.3
ip netns exec client nfring-udp send fd00:1::1 9000 50 "fragmented" --interval-us 20000 >/dev/null
wait "$rpid"
got=$(awk '$1 == "received" { print $2 }' /tmp/recv6.out)
bad=$(awk '$1 == "received" { print $4 }' /tmp/recv6.out)
frags=$(ip netns exec box nft list counter inet nfring_test frags | awk '$1 == "packets" { print $2 }')
qlog=$(ip netns exec client cat /proc/net/nfring)
kill "$FRAG_PID" 2>/dev/null; wait "$FRAG_PID" 2>/dev/null || true; FRAG_PID=
[ "$got" = 50 ] || fail "fragrouter6: $got of 50 datagrams arrived ($frags fragments); fragrouter6 said: $(tail -20 /tmp/frag.log); client queue: $qlog"
expect_eq "fragrouter6: datagrams received whole" "$got" 50
expect_eq "fragrouter6: payloads intact" "$bad" 0
[ "${frags:-0}" -ge 100 ] || fail "the box saw ${frags:-0} fragments; fragrouter6 said: $(tail -5 /tmp/frag.log)"
pass "fragrouter6: 50 datagrams queued, dropped and sent again as $frags fragments"

# --- GSO packets: segmented unless the program sets NFQA_CFG_F_GSO ----------
# The box sends bulk TCP itself: at its output hook the stack's packets are
# GSO super-packets of up to 64 KiB.  Without NFQA_CFG_F_GSO the library
# binds with NFRING_BIND_NORMALIZE and the program must see MTU-sized
# segments (the module splits them, as nfnetlink_queue does); with it, the
# super-packets whole.  Either way the transfer completes, every segment
# having gone through its own verdict.
ip netns exec client nft flush ruleset
ip netns exec box nft flush ruleset
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 10.0.2.2 tcp dport 5201 queue num 1
	}
}
NFT
for flags in "" --gso; do
	consumer_start 1 --batch 1 $flags
	ip netns exec server iperf3 -s -1 > /tmp/iperf-s.log 2>&1 &
	srv=$!
	sleep 0.5
	ip netns exec box iperf3 -c 10.0.2.2 -n 4M > /tmp/iperf-c.log 2>&1 ||
		fail "TCP transfer through the consumer $flags failed: $(tail -5 /tmp/iperf-c.log); queue: $(cat /proc/net/nfring)"
	wait "$srv" || true
	settle 1 in_flight 0
	segmented=$(qstat 1 gso_segmented)
	failed=$(qstat 1 gso_failed)
	kill -TERM "$CONSUMER_PID"
	wait "$CONSUMER_PID" || fail "consumer $flags exited with $?: $(cat /tmp/consumer.out)"
	CONSUMER_PID=
	max_len=$(awk '$1 == "packets" { for (i = 1; i < NF; i++) if ($i == "max_len") print $(i + 1) }' /tmp/consumer.out)
	seen=$(awk '$1 == "packets" { print $2 }' /tmp/consumer.out)
	expect_eq "GSO $flags: segmentations that failed" "$failed" 0
	if [ -z "$flags" ]; then
		[ "$segmented" -ge 1 ] || fail "no GSO packet was segmented (the program saw $seen packets, the longest $max_len B)"
		[ "$max_len" -le 1500 ] || fail "the program saw a $max_len B packet on a 1500 B link: not segmented"
		pass "GSO: $segmented super-packets split; the program saw $seen packets of at most $max_len B"
	else
		expect_eq "GSO $flags: packets split" "$segmented" 0
		[ "$max_len" -gt 1500 ] || fail "with NFQA_CFG_F_GSO the longest packet was $max_len B: no super-packet arrived whole"
		pass "NFQA_CFG_F_GSO: $seen packets, super-packets whole (longest $max_len B)"
	fi
done
