# nfringctl: load refuses beside nfnetlink_queue and installs its modprobe
# rule, status shows the kernel's counters beside the worker's live stats
# (text and JSON), unload refuses while a worker holds the module.
source /tests/lib.sh
trap 'worker_stop KILL; topo_down' EXIT

modprobe nfnetlink_queue
out=$(nfringctl load 2>&1) && fail "load succeeded beside nfnetlink_queue"
echo "$out" | grep -q "nfnetlink_queue is loaded" || fail "load: $out"
pass "load refused: $out"
rmmod nfnetlink_queue

nfringctl load
grep -q '^install nfnetlink_queue /bin/false' /etc/modprobe.d/nfring-blocks-nfnetlink_queue.conf ||
	fail "modprobe rule not installed"
topo_up
box_rules "udp dport 9000 queue num 0"
worker_start --rules /examples/dpi.rules --queue 0
recv_start 30 5000
send_udp 30
recv_wait
expect_eq "received" "$GOT" 30
sleep 1.2   # the worker publishes its stats once a second

status=$(ip netns exec box nfringctl status)
echo "$status" | sed 's/^/    /'
echo "$status" | awk '$1 == "0" && $2 == "pid" { found = 1 } END { exit !found }' ||
	fail "status has no row for queue 0"
row=$(echo "$status" | awk '$1 == "0"')
# Kernel side: enqueued 30 accepted 30; worker side: 30 packets.
[ "$(echo "$row" | awk '{ print $5 }')" = 30 ] || fail "kernel enqueued in status: $row"
[ "$(echo "$row" | awk '{ print $14 }')" = 30 ] || fail "worker packets in status: $row"
echo "$status" | grep -q "queue 0 rule hits:.*line 10: 30" || fail "rule hits missing"
json=$(ip netns exec box nfringctl status --json)
echo "$json" | grep -q '"enqueued": 30' || fail "json: $json"
echo "$json" | grep -q '"packets": 30' || fail "json: $json"
pass "status shows kernel and worker counters (text and JSON)"

out=$(nfringctl unload 2>&1) && fail "unload succeeded under a running worker"
pass "unload refused while the worker runs: $out"
worker_stop TERM
ls /dev/shm | grep -q nfring-worker && fail "the worker left its stats segment behind"
topo_down
trap - EXIT
nfringctl unload
[ -e /etc/modprobe.d/nfring-blocks-nfnetlink_queue.conf ] && fail "modprobe rule left behind"
pass "nfringctl load, status, unload"
