# Flow bypass: a `bypass` rule has the module set the conntrack bypass mark
# on a flow whose decision is final (NFRING_VF_BYPASS), and the nft rule
# `ct mark and M == M accept` before the queue rule passes the rest of the
# flow without an upcall.  The same traffic runs with --bypass-mark 0
# (bypass only accepts) and with the default mark; the upcalls (the
# module's `enqueued`) must drop, while every datagram still arrives and a
# blocked name is still blocked: the flow of a TLS hello is bypassed only
# after the server acknowledged it.
source /tests/lib.sh
trap 'worker_stop KILL; sed "s/^/    worker: /" /tmp/worker.log; tcp_serve_stop; topo_down' EXIT
modprobe nfring
topo_up
M=0x80000000
# Two queue rules, not an anonymous set: 6.1's nf_tables warns about its
# own set lookup under PROVE_RCU (nft_set_lookup, "RCU-list traversed in
# non-reader section"), which would fail the case on the debug kernel.
box_rules "ct mark and $M == $M counter accept
		meta l4proto tcp queue num 0
		meta l4proto udp queue num 0"
cat > /tmp/bypass.rules <<'RULES'
drop tls.sni www.blocked.example
bypass tcp dport 443
bypass udp dport 9000
accept
RULES
tcp_serve 443

FLOWS=10 PER_FLOW=50
# one_round MARK: the traffic of one round; sets UPCALLS and BYPASSED.
one_round() {
	worker_start --rules /tmp/bypass.rules --queue 0 --bypass-mark "$1"
	local before flows_before
	before=$(qstat 0 enqueued)
	flows_before=$(qstat 0 bypass_flows)
	recv_start $(( FLOWS * PER_FLOW )) 20000
	local f
	for f in $(seq "$FLOWS"); do
		# One socket per run of nfring-udp: a flow each.
		send_udp "$PER_FLOW" --interval-us 2000
	done
	recv_wait
	expect_eq "datagrams delivered (--bypass-mark $1)" "$GOT" $(( FLOWS * PER_FLOW ))
	expect_eq "TLS, SNI www.example.com (--bypass-mark $1)" \
		"$(client_tcp tls 443 www.example.com)" yes
	expect_eq "TLS, SNI www.blocked.example (--bypass-mark $1)" \
		"$(client_tcp tls 443 www.blocked.example)" no
	UPCALLS=$(( $(qstat 0 enqueued) - before ))
	BYPASSED=$(( $(qstat 0 bypass_flows) - flows_before ))
	expect_eq "bypass verdicts without a conntrack entry" "$(qstat 0 bypass_no_ct)" 0
	worker_stop TERM
	expect_eq "worker exit status" "$WORKER_RC" 0
	sed 's/^/    /' /tmp/worker.log
}

one_round 0
off=$UPCALLS
expect_eq "flows bypassed with --bypass-mark 0" "$BYPASSED" 0
# Conntrack entries of round one must not carry over.
ip netns exec box nft flush ruleset
sleep 0.2
box_rules "ct mark and $M == $M counter accept
		meta l4proto tcp queue num 0
		meta l4proto udp queue num 0"
one_round $M
on=$UPCALLS
# Ten UDP flows and one allowed TLS connection.
[ "$BYPASSED" -ge $(( FLOWS + 1 )) ] ||
	fail "flows bypassed: $BYPASSED, expected at least $(( FLOWS + 1 ))"
[ "$(worker_stat bypassed)" -ge $(( FLOWS + 1 )) ] ||
	fail "the worker counted $(worker_stat bypassed) bypass verdicts"
passed=$(ip netns exec box nft list chain inet nfring_test forward |
	awk '/ct mark/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
[ $(( on * 4 )) -le "$off" ] ||
	fail "bypass did not cut upcalls enough: $on with it, $off without"
pass "upcalls for $FLOWS UDP flows of $PER_FLOW datagrams and 2 TLS connections: $off without bypass, $on with it ($(awk -v a="$off" -v b="$on" 'BEGIN { printf "%.1f", a / b }')x fewer); $BYPASSED flows bypassed; $passed packets passed by the ct mark rule"

tcp_serve_stop
topo_down
trap - EXIT
rmmod nfring
pass "bypass"
