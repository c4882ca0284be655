# Packets queued with `queue num 0` reach the worker through the ring;
# accepted ones arrive intact, dropped ones do not, and every counter
# matches the traffic exactly.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

peer_start --queue 0 --verdict accept
recv_start 50 5000 "hello nfring"
send_udp 50 "hello nfring"
recv_wait
expect_eq "accepted: received" "$GOT" 50
expect_eq "accepted: payload mismatches" "$BAD" 0
settle 0 accepted 50
expect_eq "enqueued" "$(qstat 0 enqueued)" 50
expect_eq "accepted" "$(qstat 0 accepted)" 50
expect_eq "dropped" "$(qstat 0 dropped)" 0
expect_eq "in_flight" "$(qstat 0 in_flight)" 0
expect_eq "invalid" "$(qstat 0 invalid)" 0
expect_eq "ring_full" "$(qstat 0 ring_full)" 0
peer_stop

peer_start --queue 0 --verdict drop
recv_start 20 1500
send_udp 20
recv_wait
expect_eq "dropped: received" "$GOT" 0
settle 0 dropped 20
expect_eq "enqueued" "$(qstat 0 enqueued)" 20
expect_eq "dropped" "$(qstat 0 dropped)" 20
expect_eq "accepted" "$(qstat 0 accepted)" 0
expect_eq "in_flight" "$(qstat 0 in_flight)" 0
peer_stop

ip netns exec box nft flush ruleset
topo_down
trap - EXIT
rmmod nfring
pass "accept and drop through the rings"
