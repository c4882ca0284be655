# A full ring drops by default and accepts with fail-open, counted either
# way; the default verdict applies to what was held when the worker exits.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

# Drops: 8 frames held, the other 12 find the ring full.
peer_start --queue 0 --ring 8 --hold --default drop
recv_start 20 2000
send_udp 20
recv_wait
expect_eq "full, drop: received" "$GOT" 0
settle 0 enqueued 8
expect_eq "enqueued" "$(qstat 0 enqueued)" 8
expect_eq "ring_full" "$(qstat 0 ring_full)" 12
expect_eq "fail_open" "$(qstat 0 fail_open)" 0
expect_eq "in_flight" "$(qstat 0 in_flight)" 8
peer_stop

# Fail-open: the 12 are accepted at once; the 8 held ones are accepted by
# the default verdict when the worker exits.
peer_start --queue 0 --ring 8 --hold --fail-open --default accept
recv_start 20 8000
send_udp 20
settle 0 fail_open 12
expect_eq "enqueued" "$(qstat 0 enqueued)" 8
expect_eq "fail_open" "$(qstat 0 fail_open)" 12
expect_eq "ring_full" "$(qstat 0 ring_full)" 0
expect_eq "in_flight" "$(qstat 0 in_flight)" 8
peer_stop
recv_wait
expect_eq "fail-open plus default accept: received" "$GOT" 20
expect_eq "queue gone after exit" "$(qstat 0 enqueued)" none

topo_down
trap - EXIT
rmmod nfring
pass "ring full"
