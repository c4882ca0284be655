# What `make demo` shows today: nfring.ko loaded into a real 6.1 kernel as
# netfilter's queue handler, and a `queue num 0` rule on a forwarding box
# sending traffic to it.  With no worker yet (issue 4), queued packets are
# accepted with `bypass` and dropped without it, as NFQUEUE does.
source /tests/lib.sh
trap topo_down EXIT

echo "== loading nfring.ko"
modprobe nfring
nfringctl info
echo
echo "== client -> box (FORWARD: queue num 0 bypass) -> server"
topo_up
ip netns exec box nft -f - <<'NFT'
table inet demo {
	chain forward {
		type filter hook forward priority 0; policy accept;
		ip daddr 10.0.2.2 queue num 0 bypass
	}
}
NFT
ip netns exec box nft list ruleset
if ping_ok 5; then
	echo "ping client -> server: 5/5 replies (bypass: no worker bound, accepted)"
else
	fail "ping through the box failed with bypass"
fi
echo
echo "== the same rule without bypass"
ip netns exec box nft flush ruleset
ip netns exec box nft add table inet demo
ip netns exec box nft add chain inet demo forward '{ type filter hook forward priority 0; policy accept; }'
ip netns exec box nft add rule inet demo forward ip daddr 10.0.2.2 queue num 0
if ping_ok 3; then
	fail "packets passed a queue rule with no worker and no bypass"
fi
echo "ping client -> server: no replies (no worker bound, dropped)"
echo
echo "== /proc/net/nfring in the box's namespace"
ip netns exec box cat /proc/net/nfring
topo_down
trap - EXIT
rmmod nfring
echo
echo "demo: nfring.ko loaded, handled queued packets, and unloaded cleanly."
echo "demo: the ring data path and the DPI worker are not implemented yet."
