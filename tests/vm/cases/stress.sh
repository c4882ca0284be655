# Hostile-peer stress: nfring-hostile attacks queue 0 for STRESS_SECONDS
# (default 20; `make stress` runs 180) under a UDP flood and TCP traffic,
# while a background loop flaps the box's links and deletes and re-adds its
# base chain and table; then it dies by SIGKILL with packets in flight.
# Afterwards a normal worker must bind the same queue and deliver a fresh
# batch completely, its counters must balance exactly, and rmmod must
# succeed.  Prints the figures: packets, hostile writes, kernel reports,
# memory delta (printed, not bounded here: the soak bounds it).
source /tests/lib.sh

STRESS_SECONDS=${STRESS_SECONDS:-20}
STRESS_SEED=${STRESS_SEED:-$(( (RANDOM << 15) | RANDOM ))}
FRESH=1000
BG_PIDS=
HOSTILE_PID=

cleanup() {
	touch /tmp/stress.stop
	local p
	[ -z "$HOSTILE_PID" ] || kill -KILL "$HOSTILE_PID" 2>/dev/null || true
	for p in $BG_PIDS; do
		wait "$p" 2>/dev/null || true
	done
	peer_stop KILL >/dev/null
	topo_down
}
trap cleanup EXIT

# The queue rules: the flood's UDP, and both directions of iperf3's TCP.
RULES="udp dport 9000 queue num 0
		tcp dport 5201 queue num 0
		tcp sport 5201 queue num 0"

# ---- background load: each loop ends by itself once /tmp/stress.stop exists

# Links down and up (each flushes the packets queued through it), the base
# chain deleted and re-added, the table deleted and re-added (each removes
# the hook, which flushes the queue), and the counters read meanwhile.
flap_loop() {
	local n=0
	while [ ! -e /tmp/stress.stop ]; do
		n=$((n + 1))
		case $((RANDOM % 4)) in
		0) ip -n box link set b1 down
		   sleep "0.$((RANDOM % 5))"
		   ip -n box link set b1 up ;;
		1) ip -n box link set b0 down
		   sleep "0.$((RANDOM % 5))"
		   ip -n box link set b0 up ;;
		2) ip netns exec box nft "flush chain inet nfring_test forward; delete chain inet nfring_test forward" || true
		   sleep "0.$((RANDOM % 5))"
		   ip netns exec box nft -f - <<NFT || box_rules "$RULES"
add chain inet nfring_test forward { type filter hook forward priority 0; policy accept; }
add rule inet nfring_test forward udp dport 9000 queue num 0
add rule inet nfring_test forward tcp dport 5201 queue num 0
add rule inet nfring_test forward tcp sport 5201 queue num 0
NFT
		   ;;
		3) ip netns exec box nft delete table inet nfring_test
		   sleep "0.$((RANDOM % 5))"
		   box_rules "$RULES" ;;
		esac
		ip netns exec box cat /proc/net/nfring > /dev/null
		echo "$n" > /tmp/flaps
		sleep "0.$((RANDOM % 10))"
	done
}

# ---- set-up and the memory baseline ---------------------------------------
modprobe nfring
topo_up
box_rules "$RULES"
ping_ok 2 || fail "client cannot reach the server"
rm -f /tmp/stress.stop /tmp/blast.log /tmp/iperf.log /tmp/iperf.runs /tmp/flaps
mem_settle
mem_before=$(mem_read /tmp/slabinfo.before)

# ---- the attack -----------------------------------------------------------
echo "stress: ${STRESS_SECONDS}s, seed $STRESS_SEED"
# A UDP flood of mixed sizes, and iperf3 through the queue.
udp_flood_loop /tmp/stress.stop 2 64 1500 200 1400 & BG_PIDS+=" $!"
iperf3_loop /tmp/stress.stop 3 & BG_PIDS+=" $!"
flap_loop & BG_PIDS+=" $!"
ip netns exec box nfring-hostile --queue 0 --seconds "$STRESS_SECONDS" \
	--seed "$STRESS_SEED" --die --progress 30 > /tmp/hostile.out 2>&1 &
HOSTILE_PID=$!
hrc=0
# (bash's "Killed" notice for the job goes to /dev/null; hrc says it)
wait "$HOSTILE_PID" 2>/dev/null || hrc=$?
HOSTILE_PID=
sed 's/^/    /' /tmp/hostile.out
[ "$hrc" = 137 ] || fail "nfring-hostile exited $hrc; expected death by SIGKILL (137)"
grep -q "^hostile: dying by SIGKILL with [1-9][0-9]* packets in flight" /tmp/hostile.out ||
	fail "nfring-hostile did not die with packets in flight"
summary=$(grep '^hostile: writes ' /tmp/hostile.out | tail -n1)
field() { echo "$summary" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
expect_eq "hostile: things the kernel accepted that it must refuse" "$(field unexpected)" 0
grep -q '^hostile: final kernel .* balance ok$' /tmp/hostile.out ||
	fail "the hostile queue's counters did not balance before its death"

# ---- recovery: stop the load, bring everything back -----------------------
touch /tmp/stress.stop
for p in $BG_PIDS; do
	wait "$p" 2>/dev/null || true
done
BG_PIDS=
ip -n box link set b0 up
ip -n box link set b1 up
box_rules "udp dport 9000 queue num 0"

# The dead peer's queue goes away once its last reference is gone (the
# forked child dies with it).
for i in $(seq 300); do
	[ "$(qstat 0 pid)" = none ] && break
	sleep 0.1
done
expect_eq "the dead peer's queue was released" "$(qstat 0 pid)" none
sleep 1	# stragglers of the flood, and routes after the flaps
ping_ok 3 || fail "client cannot reach the server after the stress"

# ---- a normal worker delivers a fresh batch -------------------------------
peer_start --queue 0 --ring 1024
recv_start "$FRESH" 20000 fresh
send_udp "$FRESH" fresh --interval-us 300
recv_wait
settle 0 in_flight 0
enq=$(qstat 0 enqueued) acc=$(qstat 0 accepted) drp=$(qstat 0 dropped)
rep=$(qstat 0 repeated) fl=$(qstat 0 flushed) inf=$(qstat 0 in_flight)
expect_eq "fresh batch received" "$GOT" "$FRESH"
expect_eq "fresh batch payloads intact (mismatched)" "$BAD" 0
expect_eq "fresh worker: enqueued" "$enq" "$FRESH"
expect_eq "fresh worker: enqueued = accepted + dropped + repeated + flushed + in_flight" \
	"$enq" "$((acc + drp + rep + fl + inf))"
expect_eq "fresh worker: accepted" "$acc" "$FRESH"
peer_stop

mem_settle
mem_after=$(mem_read /tmp/slabinfo.after)

# ---- figures --------------------------------------------------------------
udp_sent=$(awk '$1 == "sent" { n += $2 } END { print n + 0 }' /tmp/blast.log 2>/dev/null || echo 0)
tcp_runs=$(wc -l < /tmp/iperf.runs 2>/dev/null || echo 0)
tcp_mb=$(awk '/receiver$/ { for (i = 1; i < NF; i++) if ($(i + 1) == "MBytes") mb += $i } END { print mb + 0 }' /tmp/iperf.log 2>/dev/null || echo 0)
final=$(grep '^hostile: final kernel' /tmp/hostile.out)
kfield() { echo "$final" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
reports=$(kernel_reports)
echo "stress figures:"
echo "  seconds $STRESS_SECONDS seed $STRESS_SEED flaps $(cat /tmp/flaps 2>/dev/null || echo 0)"
echo "  packets: UDP flood sent $udp_sent, TCP runs $tcp_runs ($tcp_mb MB received);" \
	"hostile queue enqueued $(kfield enqueued), in flight at death $(kfield in_flight)," \
	"flushed $(kfield flushed), invalid verdicts $(kfield invalid), mangled $(kfield mangled)," \
	"mangle_failed $(kfield mangle_failed); fresh batch $GOT/$FRESH delivered"
echo "  hostile: writes $(field writes) verdicts $(field verdicts) kicks $(field kicks)" \
	"mmaps $(field mmaps) binds $(field binds) children $(field children)"
echo "  kernel reports: $reports"
echo "  memory:"
mem_report "$mem_before" "$mem_after" /tmp/slabinfo.before /tmp/slabinfo.after
[ "$reports" = 0 ] || fail "the kernel log shows $reports report lines"

rmmod nfring || fail "rmmod nfring after the stress"
pass "rmmod nfring"
topo_down
trap - EXIT
pass "hostile-peer stress, ${STRESS_SECONDS}s"
