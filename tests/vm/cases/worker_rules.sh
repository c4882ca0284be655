# nfring-worker with examples/dpi.rules on `queue num 0` for all TCP and UDP
# forwarded by the box: each rule type blocks what it names and lets the
# rest through; marks reach later rules; the flow table answers the rest
# of a dropped TLS flow without parsing again.
source /tests/lib.sh
trap 'worker_stop KILL; sed "s/^/    worker: /" /tmp/worker.log; tcp_serve_stop; topo_down' EXIT
modprobe nfring
topo_up
box_rules "meta l4proto { tcp, udp } queue num 0"
tcp_serve 80 443
worker_start --rules /examples/dpi.rules --queue 0

expect_eq "TLS, SNI www.blocked.example" "$(client_tcp tls 443 www.blocked.example)" no
expect_eq "TLS, SNI blocked.example (not below it)" "$(client_tcp tls 443 blocked.example)" yes
expect_eq "TLS, SNI www.example.com" "$(client_tcp tls 443 www.example.com)" yes
expect_eq "HTTP, Host evil.example.org" "$(client_tcp http 80 evil.example.org)" no
expect_eq "HTTP, Host www.example.com" "$(client_tcp http 80 www.example.com)" yes
marks_before=$(marked_count)
expect_eq "HTTP, Host video.example.net" "$(client_tcp http 80 video.example.net)" yes
[ "$(marked_count)" -gt "$marks_before" ] || fail "video.example.net packets were not marked 7"
pass "mark 7 seen by a later rule: $(( $(marked_count) - marks_before )) packets"

recv_start 1 2000
ip netns exec client nfring-udp send 10.0.2.2 9000 1 --dns ads.example.com >/dev/null
# Port 9000 has the receiver; the DNS name decides, not the port.
recv_wait
expect_eq "DNS query ads.example.com" "$GOT" 0
recv_start 1 3000
ip netns exec client nfring-udp send 10.0.2.2 9000 1 --dns www.example.com >/dev/null
recv_wait
expect_eq "DNS query www.example.com" "$GOT" 1

ip netns exec server nfring-udp recv 9999 10 2000 > /tmp/recv9999.out &
rpid=$!
sleep 0.3
ip netns exec client nfring-udp send 10.0.2.2 9999 5 "an EVIL payload" >/dev/null
ip netns exec client nfring-udp send 10.0.2.2 9999 5 "a fine payload" >/dev/null
wait $rpid || true
expect_eq "UDP 9999: only the payloads without EVIL arrive" \
	"$(awk '$1 == "received" { print $2 }' /tmp/recv9999.out)" 5

worker_stop TERM
expect_eq "worker exit status after SIGTERM" "$WORKER_RC" 0
sed 's/^/    /' /tmp/worker.log
grep -q '"field":"tls.sni","sni":"www.blocked.example"' /tmp/worker.log ||
	fail "the SNI rule did not log a JSON line"
hits=$(worker_stat flow_hits)
[ "$hits" -gt 0 ] || fail "the flow table answered nothing (flow_hits $hits)"
pass "flow table answered $hits packets of decided flows"

tcp_serve_stop
topo_down
trap - EXIT
rmmod nfring
pass "worker rules"
