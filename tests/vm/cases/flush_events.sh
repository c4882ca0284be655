# Packets in flight are released when their output link goes down, when
# the queueing hook is removed (nft flush), and when the namespace that
# holds them is deleted while the worker runs.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

# Link down: b1 is the output device of the held packets.
peer_start --queue 0 --ring 64 --hold
send_udp 10
settle 0 in_flight 10
expect_eq "held" "$(qstat 0 in_flight)" 10
ip -n box link set b1 down
settle 0 flushed 10
expect_eq "link down: flushed" "$(qstat 0 flushed)" 10
expect_eq "link down: in_flight" "$(qstat 0 in_flight)" 0
ip -n box link set b1 up
peer_stop

# Hook removal: flushing the ruleset unregisters the forward hook.
peer_start --queue 0 --ring 64 --hold
send_udp 10
settle 0 in_flight 10
ip netns exec box nft flush ruleset
settle 0 flushed 10
expect_eq "hook removed: flushed" "$(qstat 0 flushed)" 10
expect_eq "hook removed: in_flight" "$(qstat 0 in_flight)" 0
peer_stop

# Namespace deletion with packets in flight: the worker keeps the netns
# alive; when it dies the packets get the default verdict and the netns
# (with its veth ends) goes away cleanly.
box_rules "udp dport 9000 queue num 0"
peer_start --queue 0 --ring 64 --hold --default accept
send_udp 10
settle 0 in_flight 10
ip netns del box
peer_stop KILL >/dev/null
gone=
for i in $(seq 100); do
	if ! ip -n client link show c0 >/dev/null 2>&1; then
		gone=1
		break
	fi
	sleep 0.1
done
[ -n "$gone" ] || fail "the box namespace was not destroyed after the worker died"
pass "netns destroyed after the worker died with packets in flight"

topo_down
trap - EXIT
rmmod nfring || fail "rmmod"
pass "flush events"
