# Hostile MANGLE verdicts against packets the stack has already validated.
# Each must be refused (mangle_failed, packet dropped) without the kernel
# noticing anything: a shrink below an IPv4 header with options (ping -R,
# ihl 15: this panicked the kernel in __skb_checksum), a rewritten Record
# Route length (a stack overflow in __ip_options_echo), ihl, tot_len,
# fragment bits, protocol; IPv6 payload length, next header, a shrink
# below the fixed header.  Allowed rewrites (DF) still work.  A verdict
# naming a live packet with an unknown flag drops it at once.
#
# MANGLE_ONLY=WORD (on the kernel command line, via NFRING_VM_APPEND) runs
# only the cases whose name contains WORD (underscores for spaces): to see
# each trigger on its own against an older module.
source /tests/lib.sh
selected() { [ -z "${MANGLE_ONLY:-}" ] || [[ "$1" == *"${MANGLE_ONLY//_/ }"* ]]; }
trap 'peer_stop KILL >/dev/null; topo_down' EXIT
modprobe nfring
topo_up
ip -n client addr add fd00:1::2/64 dev c0 nodad
ip -n box addr add fd00:1::1/64 dev b0 nodad

# Echo requests to the box itself are queued at INPUT.
ip netns exec box nft -f - <<'NFT'
table inet nfring_test {
	chain input {
		type filter hook input priority 0; policy accept;
		icmp type echo-request queue num 0
		icmpv6 type echo-request queue num 0
	}
}
NFT

# ping_case NAME PING_ARGS (with the address) EXPECT_REPLIES COUNTER PEER_ARGS...: three echo
# requests answered by a peer with PEER_ARGS; COUNTER (mangled or
# mangle_failed) must reach 3 and the replies must be as expected.
ping_case() {
	local name=$1 pargs=$2 want=$3 counter=$4
	shift 4
	selected "$name" || return 0
	peer_start --queue 0 "$@"
	local replies
	replies=$( (ip netns exec client ping $pargs -c 3 -W 1 -i 0.3 -n 2>/dev/null || true) |
		awk '/packets transmitted/ { print $4 }')
	settle 0 "$counter" 3
	[ "$(qstat 0 "$counter")" = 3 ] || { ip netns exec box cat /proc/net/nfring; cat /tmp/peer.out; }
	expect_eq "$name: $counter" "$(qstat 0 "$counter")" 3
	expect_eq "$name: replies" "${replies:-0}" "$want"
	expect_eq "$name: in_flight" "$(qstat 0 in_flight)" 0
	peer_stop >/dev/null
}

rr="-R 10.0.1.1" v4="10.0.1.1" v6="-6 fd00:1::1"
# The IPv4 echo request with Record Route: ihl 15, 60-byte header.
ping_case "shrink to 20 bytes below a 60-byte header" "$rr" 0 mangle_failed --mangle-len 20
ping_case "shrink into the options" "$rr" 0 mangle_failed --mangle-len 40
ping_case "Record Route length 255" "$rr" 0 mangle_failed --poke 21=255
ping_case "Record Route pointer 255" "$rr" 0 mangle_failed --poke 22=255
ping_case "ihl 15 -> 6" "$rr" 0 mangle_failed --poke 0=0x46
ping_case "ihl 5 -> 15 (no options)" "$v4" 0 mangle_failed --poke 0=0x4f
ping_case "tot_len not the new length" "$v4" 0 mangle_failed --mangle-len 60
ping_case "more-fragments bit set" "$v4" 0 mangle_failed --poke 6=0x60
ping_case "protocol changed" "$v4" 0 mangle_failed --poke 9=17
ping_case "version 6 in an IPv4 packet" "$v4" 0 mangle_failed --poke 0=0x65
# DF may change; the stack does not check the IP checksum again at INPUT.
ping_case "DF cleared (allowed)" "$v4" 3 mangled --poke 6=0x00

# IPv6 echo requests (no extension headers): 40-byte fixed header.
ping_case "IPv6 shrink below the fixed header" "$v6" 0 mangle_failed --mangle-len 30
ping_case "IPv6 payload length" "$v6" 0 mangle_failed --poke 5=0x01
ping_case "IPv6 next header" "$v6" 0 mangle_failed --poke 6=17
ping_case "IPv6 jumbogram length 0" "$v6" 0 mangle_failed --poke 4=0 --poke 5=0
ping_case "IPv6 hop limit (allowed)" "$v6" 3 mangled --poke 7=9

# IPv6 UDP with a Destination Options header (bytes 40-47), at INPUT.
ip netns exec box nft add rule inet nfring_test input udp dport 9000 queue num 0
dstopts_case() { # NAME COUNTER PEER_ARGS...
	local name=$1 counter=$2
	shift 2
	selected "$name" || return 0
	peer_start --queue 0 "$@"
	ip netns exec client nfring-udp send fd00:1::1 9000 3 --dstopts >/dev/null
	settle 0 "$counter" 3
	expect_eq "$name: $counter" "$(qstat 0 "$counter")" 3
	expect_eq "$name: in_flight" "$(qstat 0 in_flight)" 0
	peer_stop >/dev/null
}
dstopts_case "IPv6 extension header: PadN length" mangle_failed --poke 43=2
dstopts_case "IPv6 extension header: its next header" mangle_failed --poke 40=6
dstopts_case "IPv6 shrink into the extension header" mangle_failed --mangle-len 44
dstopts_case "IPv6 UDP payload after the extension header (allowed)" mangled --poke 60=0x41

# A verdict that names a live packet but carries an unknown flag drops
# that packet now; it must not stay in flight until release.
if selected "unknown flag"; then
	box_rules "udp dport 9000 queue num 0"
	peer_start --queue 0 --bad-flags
	recv_start 10 3000
	send_udp 10
	recv_wait
	settle 0 dropped 10
	expect_eq "unknown flag: received" "$GOT" 0
	expect_eq "unknown flag: in_flight" "$(qstat 0 in_flight)" 0
	expect_eq "unknown flag: dropped" "$(qstat 0 dropped)" 10
	expect_eq "unknown flag: invalid" "$(qstat 0 invalid)" 10
	peer_stop
fi

topo_down
trap - EXIT
rmmod nfring
pass "hostile mangles refused"
