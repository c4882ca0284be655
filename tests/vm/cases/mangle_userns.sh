# A queue bound from a user namespace other than the initial one (root
# there has CAP_NET_ADMIN only over its own netns) may not MANGLE: the
# stack would trust bytes written by an unprivileged user.  The packets
# are dropped and counted in mangle_failed; plain verdicts still work.
source /tests/lib.sh
modprobe nfring
# Load nf_tables and nft_queue from the initial namespace: a user
# namespace cannot autoload modules.
ip netns add warm
ip netns exec warm nft add table inet t
ip netns exec warm nft add chain inet t c '{ type filter hook output priority 0; }'
ip netns exec warm nft add rule inet t c udp dport 1 queue num 0
ip netns del warm

cat > /tmp/userns.sh <<'INNER'
set -euo pipefail
ip link set lo up
nft add table inet t
nft add chain inet t out '{ type filter hook output priority 0; }'
nft add rule inet t out udp dport 9000 queue num 0
run() { # PEER_ARGS...
	rm -f /tmp/u.ready
	nfring-testpeer --ready /tmp/u.ready "$@" > /tmp/u.peer 2>&1 &
	peer=$!
	for i in $(seq 100); do [ -e /tmp/u.ready ] && break; sleep 0.05; done
	nfring-udp recv 9000 5 2000 > /tmp/u.recv &
	recv=$!
	sleep 0.3
	nfring-udp send 127.0.0.1 9000 5 "hello nfring" >/dev/null
	wait $recv || true
	awk '$1 == "queue" { for (i = 1; i <= NF; i++) c[$i] = i; next }
	     ("queue" in c) && $1 == 0 { print "mangled", $c["mangled"], "mangle_failed", $c["mangle_failed"], "accepted", $c["accepted"] }' /proc/net/nfring
	awk '$1 == "received" { print "received", $2 }' /tmp/u.recv
	kill $peer; wait $peer || true
}
echo "uid in namespace: $(id -u)"
run --mangle hello:HELLO
run
INNER
out=$(unshare -Urn bash /tmp/userns.sh 2>&1) || { echo "$out"; fail "user namespace run failed"; }
echo "$out" | sed 's/^/    /'
first=$(echo "$out" | grep '^mangled' | sed -n 1p)
second_recv=$(echo "$out" | grep '^received' | sed -n 2p)
expect_eq "mangle from a user namespace" "$first" "mangled 0 mangle_failed 5 accepted 0"
expect_eq "plain accept from a user namespace" "$second_recv" "received 5"
rmmod nfring
pass "no MANGLE from a non-initial user namespace"
