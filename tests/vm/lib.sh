# Helpers shared by the VM test cases (sourced by bash inside the VM).
set -euo pipefail

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "PASS: $*"
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', expected '$3'"
	fi
	echo "ok: $1 = $2"
}

# proc_field FILE KEY: value of the "KEY value" line in FILE.
proc_field() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# Three namespaces joined by veth pairs, the filtering box in the middle:
#   client (10.0.1.2) -- box (10.0.1.1 | 10.0.2.1) -- server (10.0.2.2)
# Packets from client to server cross the box's FORWARD hook.
topo_up() {
	local ns
	for ns in client box server; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add c0 netns client type veth peer name b0 netns box
	ip link add s0 netns server type veth peer name b1 netns box
	ip -n client addr add 10.0.1.2/24 dev c0
	ip -n box addr add 10.0.1.1/24 dev b0
	ip -n box addr add 10.0.2.1/24 dev b1
	ip -n server addr add 10.0.2.2/24 dev s0
	for dev in client:c0 box:b0 box:b1 server:s0; do
		ip -n "${dev%%:*}" link set "${dev#*:}" up
	done
	ip -n client route add default via 10.0.1.1
	ip -n server route add default via 10.0.2.1
	ip netns exec box sysctl -qw net.ipv4.ip_forward=1
}

topo_down() {
	local ns
	for ns in client box server; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# ping_ok COUNT: does client reach server through the box?
ping_ok() {
	ip netns exec client ping -c "$1" -W 1 -i 0.2 -q 10.0.2.2 >/dev/null 2>&1
}
