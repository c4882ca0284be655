# set-mark is visible to a later rule; mangled payloads (same length,
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
