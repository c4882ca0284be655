# nfring.ko loads into the booted kernel, registers as netfilter's queue
# handler (device, /proc/net/nfring, packets reach its outfn), holds off
# nfnetlink_queue while loaded, and unloads cleanly.
source /tests/lib.sh
trap topo_down EXIT

modprobe nfring
grep -q '^nfring ' /proc/modules || fail "nfring not in /proc/modules"
[ -c /dev/nfring ] || fail "/dev/nfring is not a character device"
expect_eq "device mode" "$(stat -c %a /dev/nfring)" 600
grep -q '^queue_handler registered$' /proc/net/nfring || fail "/proc/net/nfring: $(cat /proc/net/nfring)"
# The userspace library talks to it (ioctl through /dev/nfring).
info=$(nfringctl info) || fail "nfringctl info: $info"
echo "$info" | grep -q '^compatible yes$' || fail "nfringctl info: $info"
pass "nfringctl info: $(echo "$info" | tr '\n' ' ')"

# Only one queue handler can exist: nfnetlink_queue must refuse to load.
if modprobe nfnetlink_queue 2>/tmp/nfq.err; then
	fail "nfnetlink_queue loaded while nfring is active"
fi
grep -q '^nfnetlink_queue ' /proc/modules && fail "nfnetlink_queue in /proc/modules"
pass "nfnetlink_queue refused while nfring is loaded"

# Packets really go to nfring's handler.  With no worker bound, a queue
# behaves as NFQUEUE's does: bypass accepts, no bypass drops.
topo_up
ping_ok 1 || fail "no connectivity before any queue rule"
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	chain box_forward {
		type filter hook forward priority 0; policy accept;
		ip daddr 10.0.2.2 icmp type echo-request queue num 3 bypass
	}
}
NFT
ping_ok 3 || fail "queue ... bypass with no worker did not accept"
bypassed=$(ip netns exec box awk '$1 == "no_worker" { print $2 }' /proc/net/nfring)
[ "$bypassed" -ge 3 ] 2>/dev/null || fail "box no_worker after bypass: '$bypassed'"
pass "bypass with no worker accepts ($bypassed packets seen by nfring)"
# Counters are per network namespace, like queue numbers.
expect_eq "init netns no_worker" "$(proc_field /proc/net/nfring no_worker)" 0

ip netns exec box nft flush ruleset
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	chain box_forward {
		type filter hook forward priority 0; policy accept;
		ip daddr 10.0.2.2 icmp type echo-request queue num 3
	}
}
NFT
if ping_ok 2; then
	fail "queue without bypass and no worker let packets through"
fi
pass "no bypass with no worker drops"
ip netns exec box nft flush ruleset
topo_down
trap - EXIT

rmmod nfring || fail "rmmod nfring"
[ -e /dev/nfring ] && fail "/dev/nfring still present after rmmod"
[ -e /proc/net/nfring ] && fail "/proc/net/nfring still present after rmmod"

# And the reverse: with nfnetlink_queue active, nfring must refuse.
modprobe nfnetlink_queue || fail "nfnetlink_queue does not load after nfring left"
if modprobe nfring 2>/tmp/nfring.err; then
	fail "nfring loaded while nfnetlink_queue is active"
fi
dmesg | grep -q 'nfnetlink_queue is loaded' || fail "no clear message for the conflict"
pass "nfring refused while nfnetlink_queue is loaded, with a message"
rmmod nfnetlink_queue
pass "load, register, unload"
