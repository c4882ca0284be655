# L7 rules on messages that span segments, through the real kernel path:
# browser-sized post-quantum ClientHellos (1.8 KB) split at chosen offsets,
# server_name in the second segment, hellos spread over many TLS records,
# HTTP requests whose Host header comes in a later segment; a QUIC client's
# post-quantum hello in Initials over two datagrams; content and regex
# matches split across segments (Hyperscan in stream mode).  The worker
# holds the first pieces until the message is complete, then answers them
# all; a message that never completes gets the --undecided action.
source /tests/lib.sh
trap 'worker_stop KILL; sed "s/^/    worker: /" /tmp/worker.log; tcp_serve_stop; topo_down' EXIT
modprobe nfring
topo_up
# Both directions are queued, so the worker also sees the server's ACKs.
box_rules "meta l4proto tcp queue num 0
	udp dport 9000 queue num 0"
tcp_serve 80 443
cat > /tmp/dpi.rules <<'RULES'
drop tls.sni blocked.example
drop tls.sni *.blocked.example
drop http.host blocked.example
drop quic.sni *.blocked.example
drop tcp dport 80 content "X-Evil-Token"
drop tcp dport 80 regex "^GET /admin[0-9]+\.php"
accept
RULES
worker_start --rules /tmp/dpi.rules --queue 0 --undecided drop --hold-ms 400

# tcp_try KIND PORT ARG OPTIONS...: "yes" if the server answered.
tcp_try() {
	local kind=$1 port=$2 arg=$3
	shift 3
	if ip netns exec client nfring-tcp "$kind" 10.0.2.2 "$port" "$arg" \
		--timeout-ms 1500 "$@" >/dev/null; then
		echo yes
	else
		echo no
	fi
}

for split in 1 5 6 9 100 517 1000 1448 1780; do
	expect_eq "PQ hello, SNI blocked.example, split at $split" \
		"$(tcp_try tls-pq 443 blocked.example --split "$split")" no
	expect_eq "PQ hello, SNI fine.example, split at $split" \
		"$(tcp_try tls-pq 443 fine.example --split "$split")" yes
done
expect_eq "PQ hello, server_name last, in the second segment" \
	"$(tcp_try tls-pq 443 www.blocked.example --sni-last --split 1448)" no
expect_eq "PQ hello in 64-byte TLS records, 3 segments" \
	"$(tcp_try tls-pq 443 a.blocked.example --records 64 --split 700,1400)" no
expect_eq "PQ hello in 64-byte TLS records, allowed name" \
	"$(tcp_try tls-pq 443 ok.example --records 64 --split 700,1400)" yes
expect_eq "PQ hello cut into 1-byte first segment and 3 more" \
	"$(tcp_try tls-pq 443 blocked.example --split 1,2,3)" no

expect_eq "HTTP, Host in the second segment" \
	"$(tcp_try http 80 blocked.example --split 20)" no
expect_eq "HTTP, allowed Host in the second segment" \
	"$(tcp_try http 80 www.example.com --split 20)" yes
expect_eq "HTTP, absolute-form target wins over Host" \
	"$(tcp_try raw 80 $'GET http://blocked.example/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n')" no
expect_eq "HTTP, bare LF line ends" \
	"$(tcp_try raw 80 $'GET / HTTP/1.1\nHost: blocked.example\n\n')" no

# Patterns never hold: the segment that completes the match is dropped,
# so the server never gets the whole request.
evil=$'GET /x HTTP/1.1\r\nX-Evil-Token: 1\r\nHost: www.example.com\r\n\r\n'
for split in 18 22 28; do
	expect_eq "HTTP, content split at $split" \
		"$(tcp_try raw 80 "$evil" --split "$split")" no
done
expect_eq "HTTP, regex split across 3 segments" \
	"$(tcp_try raw 80 $'GET /admin42.php HTTP/1.1\r\nHost: www.example.com\r\n\r\n' --split 3,9)" no
expect_eq "HTTP, the regex anchors at the stream's start only" \
	"$(tcp_try raw 80 $'GET /x HTTP/1.1\r\nReferer: GET /admin42.php\r\nHost: www.example.com\r\n\r\n' --split 20)" yes

# A hello that never completes: held, then the undecided action (drop).
expect_eq "an incomplete hello is dropped after --hold-ms" \
	"$(tcp_try raw 443 $'\x16\x03\x01\x10')" no

# quic_try SNI: how many of the flight's two datagrams reach the server
# (port 9000, the receiver's: the inspector does not look at ports).
quic_try() {
	recv_start 2 2000
	ip netns exec client nfring-udp send 10.0.2.2 9000 1 --quic "$1" >/dev/null
	recv_wait
	echo "$GOT"
}
expect_eq "QUIC v1 PQ hello over 2 datagrams, SNI video.blocked.example" \
	"$(quic_try video.blocked.example)" 0
expect_eq "QUIC v1 PQ hello over 2 datagrams, SNI fine.example" \
	"$(quic_try fine.example)" 2

worker_stop TERM
expect_eq "worker exit status after SIGTERM" "$WORKER_RC" 0
sed 's/^/    /' /tmp/worker.log
held=$(worker_stat held)
[ "$held" -gt 0 ] || fail "no packet was ever held (held $held)"
pass "held $held packets until their message completed"
[ "$(worker_stat undecided)" -ge 1 ] || fail "the incomplete hello was not given up on"
expect_eq "conflicting retransmissions" "$(worker_stat conflicts)" 0
expect_eq "bad checksums" "$(worker_stat bad_checksum)" 0

tcp_serve_stop
topo_down
trap - EXIT
rmmod nfring
pass "dpi reassembly"
