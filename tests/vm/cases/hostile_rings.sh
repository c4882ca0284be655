# Random garbage written into the verdict ring and every user-writable
# index and flag: the kernel survives (the harness fails on any warning),
# counts invalid entries, and the next well-formed verdicts work.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

peer_start --queue 0 --ring 64 --garbage-after 10
recv_start 10 8000
send_udp 10
recv_wait
expect_eq "held packets answered after the garbage: received" "$GOT" 10
invalid=$(qstat 0 invalid)
[ "$invalid" -gt 0 ] || fail "no invalid verdicts counted"
pass "kernel counted $invalid invalid verdict entries"

recv_start 40 8000
send_udp 40
recv_wait
expect_eq "after recovery: received" "$GOT" 40
settle 0 accepted 50
expect_eq "accepted" "$(qstat 0 accepted)" 50
expect_eq "in_flight" "$(qstat 0 in_flight)" 0
peer_stop
grep -q "scribbled" /tmp/peer.out || fail "the peer did not scribble"

topo_down
trap - EXIT
rmmod nfring
pass "hostile rings"
