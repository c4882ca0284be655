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

# traffic LABEL COUNT TIMEOUT_MS EXPECTED_ARRIVALS [PAYLOAD_AFTER]:
# send COUNT "hello" datagrams and show what arrived.
traffic() {
	recv_start "$2" "$3" ${5:+"$5"}
	send_udp "$2" "hello"
	recv_wait
	printf '  %-44s sent %3d  arrived %3d  payload changed %3d\n' \
		"$1" "$2" "$GOT" "$(( ${5:+GOT - BAD} + 0 ))"
	[ "$GOT" = "$4" ] && [ "$BAD" = 0 ] || fail "$1: expected $4 arrivals"
}
echo
echo "== no worker bound: bypass accepts"
traffic "no worker, bypass" 20 3000 20

echo "== a worker answers accept through the rings"
peer_start --queue 0 --verdict accept
traffic "worker: accept" 200 8000 200
peer_stop >/dev/null

echo "== a worker answers drop"
peer_start --queue 0 --verdict drop
traffic "worker: drop" 50 2000 0
peer_stop >/dev/null

echo "== a worker rewrites the payload (hello -> HELLO)"
peer_start --queue 0 --mangle hello:HELLO
traffic "worker: mangle" 20 5000 20 "HELLO"
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
