# The worker dies with packets in flight while the base chain that queued
# them is deleted.  Unbinding gives those packets their default verdict
# (accept here); a chain deleted meanwhile must still flush them, never
# let them be reinjected with a stale hook index, which skips the chain
# after it (a drop chain here: nothing may reach the server) or WARNs in
# nf_reinject.  Several rounds, with the deletion at different moments of
# the unbind.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up

# The chain after the queue holds 400 rules that do not match before its
# drop: each default verdict costs a walk through them, which keeps the
# unbind busy long enough for the deletion to land in the middle of it.
rules() {
	ip netns exec box nft flush ruleset
	{
		echo "table inet nfring_test {"
		echo "	chain to_worker {"
		echo "		type filter hook forward priority 0; policy accept;"
		echo "		udp dport 9000 queue num 0"
		echo "	}"
		echo "	chain drop_after {"
		echo "		type filter hook forward priority 10; policy accept;"
		for i in $(seq 400); do echo "		udp dport 1 udp sport $i counter"; done
		echo "		udp dport 9000 counter drop"
		echo "	}"
		echo "}"
	} | ip netns exec box nft -f -
}

# The deletion is prepared before the kill (nft already started, waiting
# for its input on a FIFO) and sent the moment the queue leaves
# /proc/net/nfring, which is when unbinding begins.
held=3000
for round in 1 2 3; do
	rules
	peer_start --queue 0 --ring 4096 --hold --default accept
	recv_start "$held" 6000
	send_udp "$held"
	settle 0 in_flight "$held"
	expect_eq "round $round: held" "$(qstat 0 in_flight)" "$held"
	rm -f /tmp/nft.fifo
	mkfifo /tmp/nft.fifo
	ip netns exec box nft -f /tmp/nft.fifo &
	nft_pid=$!
	kill -KILL "$PEER_PID"
	ip netns exec box bash -c 'while grep -qE "^ +0 " /proc/net/nfring; do :; done
		echo "delete chain inet nfring_test to_worker" > /tmp/nft.fifo'
	wait "$nft_pid" || fail "nft delete chain"
	wait "$PEER_PID" 2>/dev/null || true
	PEER_PID=
	recv_wait
	expect_eq "round $round: packets past the drop chain" "$GOT" 0
done

topo_down
trap - EXIT
rmmod nfring
pass "no packet reinjected past a deleted chain during unbind"
