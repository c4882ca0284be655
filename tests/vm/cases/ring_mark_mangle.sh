# set-mark is visible to a later rule; repeat re-runs the hook; mangled payloads (same length,
# longer, shorter) arrive changed and valid (UDP checksum verified by the
# receiving stack).
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

peer_start --queue 0 --mark 7
recv_start 30 5000
send_udp 30
recv_wait
expect_eq "marked: received" "$GOT" 30
settle 0 marked 30
expect_eq "marked (module)" "$(qstat 0 marked)" 30
expect_eq "mark 7 seen by the later nft rule" "$(marked_count)" 30
peer_stop

# Repeat: the hook runs again.  The worker marks the packet 7 with the
# repeat, so on the second pass the rule no longer queues it.
box_rules "meta mark != 7 udp dport 9000 queue num 0"
peer_start --queue 0 --verdict repeat --mark 7
recv_start 25 5000
send_udp 25
recv_wait
expect_eq "repeat: received" "$GOT" 25
settle 0 repeated 25
expect_eq "repeat: repeated" "$(qstat 0 repeated)" 25
expect_eq "repeat: enqueued (once each)" "$(qstat 0 enqueued)" 25
expect_eq "repeat: mark 7 seen after the re-run hook" "$(marked_count)" 25
peer_stop
box_rules "udp dport 9000 queue num 0"

mangle_case() { # FROM:TO SENT EXPECTED
	peer_start --queue 0 --mangle "$1"
	recv_start 20 5000 "$3"
	send_udp 20 "$2"
	recv_wait
	expect_eq "mangle $1: received" "$GOT" 20
	expect_eq "mangle $1: payload not as expected" "$BAD" 0
	settle 0 mangled 20
	expect_eq "mangle $1: mangled" "$(qstat 0 mangled)" 20
	expect_eq "mangle $1: mangle_failed" "$(qstat 0 mangle_failed)" 0
	peer_stop
}
mangle_case "hello:HELLO" "hello nfring" "HELLO nfring"
mangle_case "nfring:nfring, grown in userspace" "hello nfring" "hello nfring, grown in userspace"
mangle_case "hello :" "hello nfring" "nfring"

topo_down
trap - EXIT
rmmod nfring
pass "mark and mangle"
