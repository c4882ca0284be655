# What `make demo` shows today: nfring.ko in a real 6.1 kernel as
# netfilter's queue handler, a `queue num 0` rule on a forwarding box, and
# packets going through the rings to a userspace program and back.  The DPI
# worker (nfring-worker) does not exist yet; the program answering here is
# the test worker, nfring-testpeer.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT

echo "== loading nfring.ko"
modprobe nfring
nfringctl info
echo
echo "== client 10.0.1.2 -> box (FORWARD: queue num 0) -> server 10.0.2.2"
topo_up
box_rules "udp dport 9000 queue num 0 bypass"
ip netns exec box nft list chain inet nfring_test forward

show() { # WHAT SENT
	printf '  %-44s sent %3d  arrived %3d\n' "$1" "$2" "$GOT"
}
echo
echo "== no worker bound: bypass accepts"
recv_start 20 3000
send_udp 20 "hello"
recv_wait
show "no worker, bypass" 20
[ "$GOT" = 20 ] || fail "bypass with no worker"

echo "== a worker answers accept through the rings"
peer_start --queue 0 --verdict accept
recv_start 200 8000
send_udp 200 "hello"
recv_wait
show "worker: accept" 200
[ "$GOT" = 200 ] || fail "accepted traffic did not arrive"
peer_stop >/dev/null

echo "== a worker answers drop"
peer_start --queue 0 --verdict drop
recv_start 50 2000
send_udp 50 "hello"
recv_wait
show "worker: drop" 50
[ "$GOT" = 0 ] || fail "dropped traffic arrived"
peer_stop >/dev/null

echo "== a worker rewrites the payload (hello -> HELLO)"
peer_start --queue 0 --mangle hello:HELLO
recv_start 20 5000 "HELLO"
send_udp 20 "hello"
recv_wait
show "worker: mangle, arrived rewritten: $((GOT - BAD))" 20
[ "$GOT" = 20 ] && [ "$BAD" = 0 ] || fail "mangled traffic"
echo
echo "== /proc/net/nfring in the box's namespace (queue 0 of the last worker)"
ip netns exec box cat /proc/net/nfring
peer_stop >/dev/null

topo_down
trap - EXIT
rmmod nfring
echo
echo "demo: nfring.ko carried traffic through its rings and unloaded cleanly."
echo "demo: the io_uring DPI worker and its rules are not implemented yet."
