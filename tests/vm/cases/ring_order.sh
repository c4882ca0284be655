# Verdicts returned in reverse and in random order within batches all
# apply: every packet arrives, and the receiver sees them reordered.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

for order in reverse random; do
	peer_start --queue 0 --batch 16 --order "$order"
	recv_start 128 8000
	send_udp 128
	recv_wait
	expect_eq "$order: received" "$GOT" 128
	settle 0 accepted 128
	expect_eq "$order: accepted" "$(qstat 0 accepted)" 128
	expect_eq "$order: invalid" "$(qstat 0 invalid)" 0
	expect_eq "$order: in_flight" "$(qstat 0 in_flight)" 0
	[ "$REORDERED" -gt 0 ] || { peer_stop; fail "$order: nothing arrived out of order"; }
	pass "$order: $REORDERED of 128 arrived after a later packet"
	peer_stop
done
topo_down
trap - EXIT
rmmod nfring
