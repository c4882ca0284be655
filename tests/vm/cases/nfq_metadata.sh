# Packet metadata as nfnetlink_queue reports it (NFRING_BIND_METADATA):
#  - through libnetfilter_queue over nfring, to an ordinary program
#    (nfring-nfq-meta, linked against libnetfilter_queue.so.1): devices,
#    the link-layer source of a received packet, and with
#    NFQA_CFG_F_UID_GID the uid and gid of a local sender;
#  - through nfring's own API (nfring-testpeer --print-meta): conntrack
#    state, status, mark and id, and skb priority.
# Every expected value comes from somewhere else: ip link for indexes and
# addresses, setpriv for the ids, nft for the marks and priority.
# Bridge ports (physindev/physoutdev) are checked in local_out_bridge.sh.
source /tests/lib.sh
META_PID=
cleanup() {
	[ -n "$META_PID" ] && kill "$META_PID" 2>/dev/null
	peer_stop KILL >/dev/null 2>&1
	topo_down
}
trap cleanup EXIT
modprobe nfring
topo_up
NFQ_LIB=/usr/lib/x86_64-linux-gnu/nfring

ifindex() { # NS DEV
	ip -n "$1" -o link show "$2" | awk -F': ' '{ print $1 }'
}
mac() { # NS DEV
	ip -n "$1" -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | awk '{ print $2 }'
}

# meta_start NS ARGS...: nfring-nfq-meta over nfring in NS, once bound.
meta_start() {
	local ns=$1 i
	shift
	: > /tmp/meta.out
	ip netns exec "$ns" env LD_LIBRARY_PATH=$NFQ_LIB \
		nfring-nfq-meta "$@" > /tmp/meta.out 2>&1 &
	META_PID=$!
	for i in $(seq 100); do
		grep -q '^bound' /tmp/meta.out && return 0
		sleep 0.05
	done
	fail "nfring-nfq-meta $* did not bind: $(cat /tmp/meta.out)"
}

meta_wait() {
	local i
	for i in $(seq 100); do
		kill -0 "$META_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill "$META_PID" 2>/dev/null && fail "nfring-nfq-meta saw too few packets: $(cat /tmp/meta.out)"
	wait "$META_PID" || fail "nfring-nfq-meta exited with $?: $(cat /tmp/meta.out)"
	META_PID=
}

# field FILE TAG NAME: the distinct values of NAME on the TAG lines.
field() {
	awk -v t="$2" -v f="$3" '$1 == t {
		for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) }' "$1" |
		sort -u | tr '\n' ' ' | sed 's/ $//'
}

# --- a forwarded packet, through libnetfilter_queue ------------------------
box_rules "udp dport 9000 queue num 2"
meta_start box --queue 2 --count 3
recv_start 3 5000
send_udp 3 meta
recv_wait
meta_wait
expect_eq "forwarded: arrived" "$GOT" 3
expect_eq "forwarded: packets the program saw" "$(grep -c '^pkt' /tmp/meta.out)" 3
expect_eq "forwarded: nfq_get_indev" "$(field /tmp/meta.out pkt indev)" "$(ifindex box b0)"
expect_eq "forwarded: nfq_get_outdev" "$(field /tmp/meta.out pkt outdev)" "$(ifindex box b1)"
expect_eq "forwarded: nfq_get_packet_hw (the client's address)" \
	"$(field /tmp/meta.out pkt hw)" "$(mac client c0)"
expect_eq "forwarded: no socket, no nfq_get_uid" "$(field /tmp/meta.out pkt uid)" "-"
expect_eq "forwarded: no bridge, no nfq_get_physindev" "$(field /tmp/meta.out pkt physindev)" 0
pass "forwarded: devices and link-layer source as nfnetlink_queue gives them"

# --- a local sender's uid and gid (NFQA_CFG_F_UID_GID) ---------------------
ip netns exec client nft -f - <<'NFT'
table inet nfring_test {
	chain out {
		type filter hook output priority 0; policy accept;
		udp dport 9001 queue num 3
	}
}
NFT
for flags in --uid-gid ""; do
	meta_start client --queue 3 --count 3 $flags
	ip netns exec client setpriv --reuid 4242 --regid 4343 --clear-groups \
		nfring-udp send 10.0.2.2 9001 3 >/dev/null
	meta_wait
	expect_eq "local out $flags: packets the program saw" "$(grep -c '^pkt' /tmp/meta.out)" 3
	expect_eq "local out: sent, so no link-layer source" "$(field /tmp/meta.out pkt hw)" "-"
	if [ -n "$flags" ]; then
		expect_eq "local out --uid-gid: nfq_get_uid" "$(field /tmp/meta.out pkt uid)" 4242
		expect_eq "local out --uid-gid: nfq_get_gid" "$(field /tmp/meta.out pkt gid)" 4343
	else
		expect_eq "local out without the flag: no uid" "$(field /tmp/meta.out pkt uid)" "-"
	fi
done
pass "NFQA_CFG_F_UID_GID: the sender's uid 4242 and gid 4343, absent without the flag"

# --- conntrack and priority, through nfring's own API ----------------------
box_rules "udp dport 9000 ct mark set 0x1234 meta priority set 1:2 queue num 0"
peer_start --queue 0 --print-desc --print-meta
recv_start 6 5000
send_udp 3 flowA --interval-us 20000  # one socket, one flow
send_udp 3 flowB --interval-us 20000  # another socket and port: another flow
recv_wait
settle 0 accepted 6
peer_stop >/dev/null
grep '^meta' /tmp/peer.out | sed 's/^/    /'
expect_eq "ct: arrived" "$GOT" 6
expect_eq "ct: packets with metadata" "$(grep -c '^meta valid' /tmp/peer.out)" 6
expect_eq "ct: mark set by nft" "$(field /tmp/peer.out meta ct_mark)" 0x1234
# IP_CT_NEW (2): no reply was seen in either flow.
expect_eq "ct: state" "$(field /tmp/peer.out meta ct_info)" 2
expect_eq "ct: priority set by nft (1:2)" "$(field /tmp/peer.out meta priority)" $(( 0x10002 ))
ids_a=$(grep '^meta' /tmp/peer.out | head -3 | awk '{ for (i = 2; i < NF; i++) if ($i == "ct_id") print $(i + 1) }' | sort -u)
ids_b=$(grep '^meta' /tmp/peer.out | tail -3 | awk '{ for (i = 2; i < NF; i++) if ($i == "ct_id") print $(i + 1) }' | sort -u)
[ "$(wc -w <<<"$ids_a")" = 1 ] && [ "$ids_a" != - ] ||
	fail "the first flow's packets carry ct ids '$ids_a', expected one id"
[ "$(wc -w <<<"$ids_b")" = 1 ] && [ "$ids_b" != - ] ||
	fail "the second flow's packets carry ct ids '$ids_b', expected one id"
[ "$ids_a" != "$ids_b" ] || fail "two flows share ct id $ids_a"
# Later packets of a flow find its entry confirmed (IPS_CONFIRMED, 0x8).
confirmed=$(grep '^meta' /tmp/peer.out | awk '{ for (i = 2; i < NF; i++) if ($i == "ct_status") print $(i + 1) }' |
	while read -r st; do (( st & 0x8 )) && echo y; done | grep -c y || true)
[ "$confirmed" -ge 4 ] || fail "only $confirmed of 6 packets saw a confirmed entry"
pass "conntrack: mark 0x1234, state NEW, one id per flow ($ids_a, $ids_b), $confirmed confirmed; priority 0x10002"

topo_down
trap - EXIT
rmmod nfring
