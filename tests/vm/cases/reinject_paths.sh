# What happens after a verdict, along the paths nfring's own reinject
# (kernels without an exported nf_reinject, 6.9 and later) takes besides
# "accept, next hook": a later queue rule takes the packet again (nf_queue
# from reinject); a later queue without a listener passes it with bypass
# and drops it without; conntrack's update and confirmation of accepted
# packets; a LOCAL_OUT packet whose mark verdict changes its routing keys is
# routed again (fwmark policy routing picks another way).
# The same case runs on 6.1, where the kernel's nf_reinject does it.
source /tests/lib.sh
PEER2_PID=
CLIENT_RECV_PID=
cleanup() {
	[ -z "$PEER2_PID" ] || kill -KILL "$PEER2_PID" 2>/dev/null || true
	[ -z "$CLIENT_RECV_PID" ] || kill -KILL "$CLIENT_RECV_PID" 2>/dev/null || true
	peer_stop KILL >/dev/null
	topo_down
}
trap cleanup EXIT
modprobe nfring
topo_up

# forward_rules LATER_RULE: queue 1 first, then LATER_RULE in a later chain.
forward_rules() {
	ip netns exec box nft flush ruleset
	ip netns exec box nft -f - <<NFT
table inet nfring_test {
	chain first {
		type filter hook forward priority 0; policy accept;
		udp dport 9000 queue num 1
	}
	chain later {
		type filter hook forward priority 10; policy accept;
		udp dport 9000 $1
	}
}
NFT
}

# 1. Two queues in a row: the verdict of queue 1 hands the packet to the
#    later chain, which queues it to queue 2.
forward_rules "queue num 2"
peer_start --queue 1
rm -f /tmp/peer2.ready
ip netns exec box nfring-testpeer --ready /tmp/peer2.ready --queue 2 \
	> /tmp/peer2.out 2>&1 &
PEER2_PID=$!
for _ in $(seq 100); do [ -e /tmp/peer2.ready ] && break; sleep 0.05; done
[ -e /tmp/peer2.ready ] || fail "second peer did not bind: $(cat /tmp/peer2.out)"
recv_start 20 3000
send_udp 20
recv_wait
expect_eq "queue 1 then queue 2: received" "$GOT" 20
settle 2 accepted 20
expect_eq "queue 1 enqueued" "$(qstat 1 enqueued)" 20
expect_eq "queue 1 accepted" "$(qstat 1 accepted)" 20
expect_eq "queue 2 enqueued" "$(qstat 2 enqueued)" 20
expect_eq "queue 2 accepted" "$(qstat 2 accepted)" 20
kill -TERM "$PEER2_PID"
wait "$PEER2_PID" || true
PEER2_PID=
pass "a later queue rule queues the reinjected packet again"

# 2. The later queue has no listener: bypass goes on to the next hook,
#    no bypass drops.
forward_rules "queue num 7 bypass"
recv_start 20 3000
send_udp 20
recv_wait
expect_eq "later queue 7 bypass, no listener: received" "$GOT" 20
forward_rules "queue num 7"
recv_start 10 1500
send_udp 10
recv_wait
expect_eq "later queue 7 without bypass, no listener: received" "$GOT" 0
peer_stop >/dev/null
pass "a later queue without a listener follows its bypass flag"

# 3. Conntrack tracks the flow, so its hook's update runs on every accept
#    (its return value changed meaning in 6.7; misread, packets would be
#    dropped or never confirmed).  Spaced out, each packet after the first
#    finds the flow confirmed.
peer_start --queue 1
ip netns exec box nft flush ruleset
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	counter confirmed { }
	chain first {
		type filter hook forward priority 0; policy accept;
		ct status confirmed udp dport 9000 counter name confirmed
		udp dport 9000 queue num 1
	}
}
NFT
recv_start 20 5000
send_udp 20 --interval-us 20000
recv_wait
expect_eq "conntrack on: received" "$GOT" 20
expect_eq "conntrack on: confirmed flow for those after the first" "$(ip netns exec box nft list counter inet nfring_test confirmed | awk '$1 == "packets" { print $2 }')" 19
peer_stop >/dev/null
pass "conntrack confirms flows whose packets went through the queue"

# 4. LOCAL_OUT reroute.  The box sends to 10.0.9.9, which both client and
#    server have on lo: the main table routes it to the client, packets
#    with mark 7 go to the server (table 7).  The queue's verdict sets the
#    mark, so only a reroute after the verdict sends them to the server.
ip -n client addr add 10.0.9.9/32 dev lo
ip -n server addr add 10.0.9.9/32 dev lo
ip -n box route add 10.0.9.9/32 via 10.0.1.2
ip -n box route add 10.0.9.9/32 via 10.0.2.2 table 7
ip -n box rule add fwmark 7 table 7
ip netns exec box nft flush ruleset
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	chain output {
		type filter hook output priority 0; policy accept;
		ip daddr 10.0.9.9 udp dport 9000 queue num 0
	}
}
NFT

# reroute_case PEER_ARGS EXPECT_SERVER EXPECT_CLIENT
reroute_case() {
	peer_start --queue 0 $1
	recv_start 20 3000
	rm -f /tmp/client-recv.out
	ip netns exec client nfring-udp recv 9000 20 3000 > /tmp/client-recv.out &
	CLIENT_RECV_PID=$!
	for _ in $(seq 100); do
		grep -q listening /tmp/client-recv.out 2>/dev/null && break
		sleep 0.05
	done
	ip netns exec box nfring-udp send 10.0.9.9 9000 20 >/dev/null
	recv_wait
	wait "$CLIENT_RECV_PID" || true
	CLIENT_RECV_PID=
	local client_got
	client_got=$(awk '$1 == "received" { print $2 }' /tmp/client-recv.out)
	expect_eq "LOCAL_OUT ${1:-plain accept}: server received" "$GOT" "$2"
	expect_eq "LOCAL_OUT ${1:-plain accept}: client received" "$client_got" "$3"
	peer_stop >/dev/null
}
# Without a mark the main table's way is kept (the case can tell).
reroute_case "" 0 20
reroute_case "--mark 7" 20 0
pass "a mark verdict at LOCAL_OUT reroutes the packet"
