# The worker killed with SIGKILL while packets are in flight: the module
# applies the default verdict to each, nothing leaks, rmmod succeeds.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

for dv in drop accept; do
	peer_start --queue 0 --ring 64 --hold --default "$dv"
	want=0
	[ "$dv" = accept ] && want=30
	recv_start 30 8000
	send_udp 30
	settle 0 in_flight 30
	expect_eq "$dv: in_flight before the kill" "$(qstat 0 in_flight)" 30
	peer_stop KILL >/dev/null
	recv_wait
	expect_eq "default $dv after SIGKILL: received" "$GOT" "$want"
	expect_eq "queue released" "$(qstat 0 in_flight)" none
done

# With the worker gone the queue number has no listener again.
box_rules "udp dport 9000 queue num 0 bypass"
recv_start 5 5000
send_udp 5
recv_wait
expect_eq "bypass after the worker died: received" "$GOT" 5

topo_down
trap - EXIT
rmmod nfring || fail "rmmod after a crashed worker"
pass "crash with packets in flight"
