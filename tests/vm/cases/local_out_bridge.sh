# Packets queued at OUTPUT report their protocol (hw_protocol) like any
# other.  Packets of the bridge family, which nfring cannot queue yet,
# follow the rule's bypass flag as a queue without a listener does (pass
# with bypass, dropped without) and are counted as unsupported.  IPv4
# packets that br_netfilter passes through the inet hooks (containers on
# a bridge) are queued like any other, and dropped at reinject if their
# bridge port left the bridge meanwhile.
source /tests/lib.sh
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
ip -n box addr add fd00:1::1/64 dev b0 nodad
ip -n client addr add fd00:1::2/64 dev c0 nodad

ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	chain output {
		type filter hook output priority 0; policy accept;
		icmp type echo-request queue num 0
		icmpv6 type echo-request queue num 0
		udp dport 9000 queue num 0
	}
}
NFT
peer_start --queue 0 --print-desc
ip netns exec box ping -c 2 -W 1 -i 0.3 -q 10.0.1.2 >/dev/null || fail "IPv4 ping through OUTPUT"
ip netns exec box ping -6 -c 2 -W 1 -i 0.3 -q fd00:1::2 >/dev/null || fail "IPv6 ping through OUTPUT"
ip netns exec box nfring-udp send 10.0.1.2 9000 2 >/dev/null
settle 0 accepted 6
peer_stop >/dev/null
cat /tmp/peer.out | grep '^desc' | sed 's/^/    /'
expect_eq "IPv4 at OUTPUT: hw_protocol" "$(grep -c 'pf 2 hook 3 hw_protocol 0x0800' /tmp/peer.out)" 4
expect_eq "IPv6 at OUTPUT: hw_protocol" "$(grep -c 'pf 10 hook 3 hw_protocol 0x86dd' /tmp/peer.out)" 2

# A bridge in the box joining client and server in one subnet.
topo_down
for ns in client box server; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add c0 netns client type veth peer name b0 netns box
ip link add s0 netns server type veth peer name b1 netns box
ip -n box link add br0 type bridge
ip -n box link set b0 master br0
ip -n box link set b1 master br0
ip -n client addr add 10.0.9.2/24 dev c0
ip -n server addr add 10.0.9.3/24 dev s0
for d in client:c0 box:b0 box:b1 box:br0 server:s0; do ip -n ${d%%:*} link set ${d#*:} up; done
# Where br_netfilter is already there (built in, as in the debug kernel),
# it would take the IP packets off the bridge family's hooks: off for now.
for f in iptables ip6tables arptables; do
	ip netns exec box sysctl -qw net.bridge.bridge-nf-call-$f=0 2>/dev/null || true
done

bridge_case() { # BYPASS EXPECTED
	ip netns exec box nft flush ruleset
	ip netns exec box nft add table bridge t
	ip netns exec box nft add chain bridge t brfwd '{ type filter hook forward priority 0; }'
	ip netns exec box nft add rule bridge t brfwd ether type ip udp dport 9000 queue num 0 $1
	peer_start --queue 0
	rm -f /tmp/recv.out
	ip netns exec server nfring-udp recv 9000 10 3000 > /tmp/recv.out &
	local r=$!
	sleep 0.3
	ip netns exec client nfring-udp send 10.0.9.3 9000 10 >/dev/null
	wait $r || true
	expect_eq "bridged, queue ${1:-without bypass}: received" "$(awk '$1 == "received" { print $2 }' /tmp/recv.out)" "$2"
	expect_eq "bridged: unsupported" "$(qstat 0 unsupported)" 10
	peer_stop >/dev/null
}
bridge_case bypass 10
bridge_case "" 0

# br_netfilter: the bridged IPv4 traffic crosses the inet forward hook.
modprobe br_netfilter
ip netns exec box sysctl -qw net.bridge.bridge-nf-call-iptables=1
ip netns exec box nft flush ruleset
ip netns exec box nft add table inet t
ip netns exec box nft add chain inet t fw '{ type filter hook forward priority 0; }'
ip netns exec box nft add rule inet t fw udp dport 9000 queue num 0
peer_start --queue 0 --print-meta
rm -f /tmp/recv.out
ip netns exec server nfring-udp recv 9000 10 3000 > /tmp/recv.out &
r=$!
sleep 0.3
ip netns exec client nfring-udp send 10.0.9.3 9000 10 >/dev/null
wait $r || true
expect_eq "br_netfilter: received" "$(awk '$1 == "received" { print $2 }' /tmp/recv.out)" 10
expect_eq "br_netfilter: enqueued" "$(qstat 0 enqueued)" 10
expect_eq "br_netfilter: accepted" "$(qstat 0 accepted)" 10
peer_stop >/dev/null
# The bridge ports the packets crossed, as NFQA_IFINDEX_PHYSINDEV/OUTDEV.
ports() {
	awk -v f="$1" '$1 == "meta" { for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) }' /tmp/peer.out | sort -u
}
b0_index=$(ip -n box -o link show b0 | awk -F': ' '{ print $1 }')
b1_index=$(ip -n box -o link show b1 | awk -F': ' '{ print $1 }')
expect_eq "br_netfilter: metadata lines" "$(grep -c '^meta valid' /tmp/peer.out)" 10
expect_eq "br_netfilter: physindev (b0)" "$(ports physin)" "$b0_index"
expect_eq "br_netfilter: physoutdev (b1)" "$(ports physout)" "$b1_index"

# The port the packets came in by leaves the bridge while they wait.
peer_start --queue 0 --hold --default accept
ip netns exec server nfring-udp recv 9000 5 3000 > /tmp/recv.out &
r=$!
sleep 0.3
ip netns exec client nfring-udp send 10.0.9.3 9000 5 >/dev/null
settle 0 in_flight 5
expect_eq "br_netfilter: held" "$(qstat 0 in_flight)" 5
ip -n box link set b0 nomaster
peer_stop KILL >/dev/null
wait $r || true
expect_eq "br_netfilter: port left the bridge: received" "$(awk '$1 == "received" { print $2 }' /tmp/recv.out)" 0

topo_down
trap - EXIT
rmmod nfring
pass "OUTPUT hw_protocol, bridge family bypass, br_netfilter with its bridge ports"
