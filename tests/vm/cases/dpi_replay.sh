# Real captures replayed through the worker, through the real kernel path:
# tcpreplay sends each capture (made Ethernet by tests/captures/to_ether.py,
# put in /captures by scripts/captures-replay.sh) from the client namespace
# into the box, whose prerouting hook queues every packet to the worker.
# Nothing is forwarded on: the box has no route for the captures' addresses
# and rp_filter drops them after the queue.
#
# Three passes over the same packets:
#   1. accept-all rules, replayed at top speed: the cost of the path and
#      the worker's basics;
#   2. rules reading TLS, HTTP, DNS and QUIC fields (reassembly, parsers,
#      QUIC Initial decryption, holding), at top speed: the DPI workload;
#   3. `accept log FIELD *` rules, one capture at a time with a rule reload
#      (which forgets every flow) between them, so that the JSON log says
#      which names the worker read from which capture (REPLAY_PPS, default
#      4000 packets a second).
# The worker's CPU time per packet in passes 1 and 2 and the log of pass 3
# go to /results; captures-replay.sh scores the names on the host.
source /tests/lib.sh
trap 'worker_stop KILL; tail -n 40 /tmp/worker.log | sed "s/^/    worker: /"; topo_down' EXIT
[ -d /captures ] && [ -n "$(ls /captures)" ] ||
	fail "no /captures: run through scripts/captures-replay.sh"
pps=${REPLAY_PPS:-4000}
mkdir -p /results
modprobe nfring
topo_up
# Frames from the captures carry this MAC as their destination; jumbo
# segments (captured before the sender's TSO cut them) need a large MTU.
ip -n box link set b0 address 02:00:00:00:d1:01
ip -n client link set c0 mtu 65535
ip -n box link set b0 mtu 65535
ip netns exec box sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.b0.rp_filter=1
ip netns exec box nft -f - <<'NFT'
table inet replay {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		iifname "b0" queue num 0
	}
}
NFT

mapfile -t caps < <(ls /captures)
echo "captures: ${#caps[@]}"

# cpu_ticks PID: user + system clock ticks of a process, threads included.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# replay_all: every capture, one tcpreplay run, as fast as it goes: the
# worker then runs in full batches, and its CPU per packet is the work per
# packet rather than the cost of waking up for each one.
replay_all() {
	# Three loops: /proc counts CPU in 10 ms ticks, and one loop is
	# about a hundred of them.
	ip netns exec client tcpreplay -q -i c0 --topspeed --loop 3 "${caps[@]/#//captures/}" \
		>/tmp/tcpreplay.log 2>&1 || { cat /tmp/tcpreplay.log; fail "tcpreplay failed"; }
}

# cost_pass NAME RULES: CPU per packet of the worker over one replay.
cost_pass() {
	local name=$1
	printf '%s\n' "$2" > "/tmp/$name.rules"
	# A ring that holds the whole burst: no packet lost to a full ring.
	worker_start --rules "/tmp/$name.rules" --queue 0 --copy 16384 --ring 8192
	local t0 t1
	t0=$(cpu_ticks "$WORKER_PID")
	replay_all
	sleep 1 # held packets time out (--hold-ms 500)
	t1=$(cpu_ticks "$WORKER_PID")
	worker_stop TERM
	expect_eq "$name: worker exit status" "$WORKER_RC" 0
	local pkts
	pkts=$(worker_stat packets)
	[ "$pkts" -gt 0 ] || fail "$name: the worker saw no packet"
	# /proc's ticks are USER_HZ, 100 on x86 (no getconf in the image).
	local hz=100 ns
	ns=$(( (t1 - t0) * 1000000000 / hz / pkts ))
	printf '%s\t%s\t%s\t%s\n' "$name" "$pkts" "$(( t1 - t0 ))" "$ns" >> /results/cost.tsv
	echo "$name: $pkts packets, $(( t1 - t0 )) ticks of $hz/s, $ns ns of worker CPU per packet"
	grep -E "^ *l7:|packets " /tmp/worker.log | sed 's/^/    /'
	cp /tmp/worker.log "/results/worker-$name.log"
}

printf 'pass\tpackets\tticks\tns_per_packet\n' > /results/cost.tsv
cost_pass accept_all "accept"
cost_pass l7_rules "drop tls.sni *.blocked.example
mark 3 tls.alpn h2
drop http.host blocked.example
drop dns.qname ads.example
drop quic.sni *.blocked.example
accept"

# Pass 3: names, capture by capture.
cat > /tmp/log.rules <<'RULES'
accept log tls.sni *
accept log http.host *
accept log dns.qname *
accept log quic.sni *
accept
RULES
worker_start --rules /tmp/log.rules --queue 0 --copy 65535 --log /results/flows.json
printf 'capture\tstart_ns\n' > /results/windows.tsv
reloads=0
for c in "${caps[@]}"; do
	# A reload forgets every flow: one capture's 5-tuples cannot hide
	# the next one's names behind a cached decision.
	kill -HUP "$WORKER_PID"
	reloads=$((reloads + 1))
	for _ in $(seq 100); do
		[ "$(grep -c 'SIGHUP: reloaded' /tmp/worker.log)" -ge "$reloads" ] && break
		sleep 0.02
	done
	# busybox's date has no %N: bash's clock, in microseconds.
	printf '%s\t%s000\n' "$c" "${EPOCHREALTIME/./}" >> /results/windows.tsv
	ip netns exec client tcpreplay -q -i c0 --pps "$pps" "/captures/$c" \
		>>/tmp/tcpreplay.log 2>&1 || fail "tcpreplay $c failed"
	sleep 0.6 # held flows decide, or time out, within this capture
done
worker_stop TERM
expect_eq "log pass: worker exit status" "$WORKER_RC" 0
cp /tmp/worker.log /results/worker-log.log
lines=$(wc -l < /results/flows.json)
[ "$lines" -gt 0 ] || fail "the log pass logged no flow"
pass "replayed ${#caps[@]} captures three times; $lines flows logged"

topo_down
trap - EXIT
rmmod nfring
