# Soak: SOAK_SECONDS (default 600; `make soak`) at saturation -- pktgen
# injecting UDP into the box, a UDP flood from the client and iperf3 TCP,
# all through queue 0 -- served by nfring-worker with the demo DPI rules,
# which is reloaded (SIGHUP) every SOAK_RELOAD_SECONDS (30) and killed
# (SIGKILL) and restarted every SOAK_KILL_SECONDS (120; for runs shorter
# than two of those, a third of the run).  Lifetimes alternate between
# fail-closed and --fail-open.
#
# Counters, per worker lifetime (a queue's counters belong to one binding
# and vanish with it): just before each SIGKILL the worker is stopped
# (SIGSTOP), so that no verdict is being applied, and /proc/net/nfring must
# then balance exactly:
#     enqueued = accepted + dropped + repeated + flushed + in_flight
# with the ring-full drops and fail-open accepts counted apart (they never
# enter the ring).  The packets in flight at that moment are the ones the
# SIGKILL leaves to the module's default verdict, which it counts in
# accepted/dropped at release -- after the queue's line is gone from /proc,
# so that last step is not observable; what is checked is the balance right
# before it, with the in-flight packets counted as such.  The last lifetime
# ends cleanly: traffic stops, in_flight reaches 0, the balance is checked,
# then SIGTERM.
#
# Memory: /proc/meminfo Slab, SUnreclaim and VmallocUsed and the bytes of
# slab objects in use (/proc/slabinfo) are read after a warm-up and again
# after the traffic stopped and the worker exited, both times after
# mem_settle (caches dropped, RCU given time, slabs shrunk).  Bounds on the
# growth: slab objects in use and SUnreclaim SOAK_SLAB_BOUND_KB (4096 KiB:
# a leak of one nf_queue_entry+skb per ~10^4 packets of the ~10^7 a run
# moves would exceed it), VmallocUsed SOAK_VMALLOC_BOUND_KB (1024 KiB: half
# of one lifetime's rings, 2 MiB of frames alone, so one leaked binding
# fails it).
source /tests/lib.sh

SOAK_SECONDS=${SOAK_SECONDS:-600}
RELOAD_EVERY=${SOAK_RELOAD_SECONDS:-30}
KILL_EVERY=${SOAK_KILL_SECONDS:-120}
if [ -z "${SOAK_KILL_SECONDS:-}" ] && [ "$SOAK_SECONDS" -lt $((2 * KILL_EVERY)) ]; then
	KILL_EVERY=$((SOAK_SECONDS / 3))
	[ "$RELOAD_EVERY" -lt "$KILL_EVERY" ] || RELOAD_EVERY=$((KILL_EVERY / 2))
fi
SLAB_BOUND_KB=${SOAK_SLAB_BOUND_KB:-4096}
VMALLOC_BOUND_KB=${SOAK_VMALLOC_BOUND_KB:-1024}
RULES=/tmp/soak.rules
BG_PIDS=
PG_PID=

cleanup() {
	touch /tmp/soak.stop
	local p
	[ -z "$PG_PID" ] ||
		ip netns exec box bash -c "echo stop > $PG/pgctrl" 2>/dev/null || true
	for p in $BG_PIDS $PG_PID; do
		wait "$p" 2>/dev/null || true
	done
	worker_stop KILL
	topo_down
}
trap cleanup EXIT

# ---- traffic --------------------------------------------------------------
# pktgen as in bench/vm/bench.sh: UDP 10.0.1.2:9 -> 10.0.2.2:9000 handed to
# the box's b0 receive path from a kernel thread on CPU 0, no count limit.
PG=/proc/net/pktgen
pg() {
	ip netns exec box bash -c 'echo "$2" > "$1"' pg "$PG/$1" "$2" ||
		fail "pktgen: '$2' > $1: $(ip netns exec box grep Result "$PG/$1")"
}

pktgen_setup() {
	local mac c
	modprobe pktgen
	mac=$(ip netns exec box cat /sys/class/net/b0/address)
	pg kpktgend_0 "rem_device_all"
	pg kpktgend_0 "add_device b0"
	for c in "count 0" "clone_skb 0" "xmit_mode netif_receive" "burst 1" \
		"delay 0" "dst_mac $mac" "dst_min 10.0.2.2" "dst_max 10.0.2.2" \
		"src_min 10.0.1.2" "src_max 10.0.1.2" "udp_src_min 9" "udp_src_max 9" \
		"udp_dst_min 9000" "udp_dst_max 9000" "pkt_size 78"; do
		pg b0 "$c"
	done
}

pktgen_start() {
	ip netns exec box bash -c "echo start > $PG/pgctrl" &
	PG_PID=$!
}

# pktgen_stop: stops the generator; adds what it injected to PG_INJECTED.
PG_INJECTED=0
pktgen_stop() {
	local n
	pg pgctrl stop
	wait "$PG_PID" 2>/dev/null || true
	PG_PID=
	n=$(ip netns exec box awk '/^Result: OK:/ { print $5 + 0 }' "$PG/b0")
	PG_INJECTED=$((PG_INJECTED + ${n:-0}))
}

traffic_start() {
	rm -f /tmp/soak.stop
	pktgen_start
	udp_flood_loop /tmp/soak.stop 5 64 1500 & BG_PIDS+=" $!"
	iperf3_loop /tmp/soak.stop 20 & BG_PIDS+=" $!"
}

traffic_stop() {
	local p
	touch /tmp/soak.stop
	pktgen_stop
	for p in $BG_PIDS; do
		wait "$p" 2>/dev/null || true
	done
	BG_PIDS=
}

# ---- the worker's lifetimes -----------------------------------------------
LIFE=0
LIFE_START=0
HUPS=0
# Sums over lifetimes.
T_ENQ=0 T_ACC=0 T_DRP=0 T_REP=0 T_FL=0 T_INF=0 T_FULL=0 T_FOPEN=0 T_INV=0

life_start() {
	LIFE=$((LIFE + 1))
	LIFE_START=$(date +%s)
	HUPS=0
	LIFE_MODE=fail-closed
	local extra=
	if [ $((LIFE % 2)) = 0 ]; then
		LIFE_MODE=fail-open
		extra=--fail-open
	fi
	worker_start --rules "$RULES" --queue 0 $extra
}

# qline: queue 0's counters "enq acc drp rep fl inf full fopen inv".
qline() {
	ip netns exec box awk '
		$1 == "queue" && $2 == "pid" { for (i = 1; i <= NF; i++) c[$i] = i; next }
		("queue" in c) && $1 == "0" {
			print $c["enqueued"], $c["accepted"], $c["dropped"], $c["repeated"],
			      $c["flushed"], $c["in_flight"], $c["ring_full"], $c["fail_open"],
			      $c["invalid"]
		}' /proc/net/nfring
}

# quiet_qline: qline once the verdict side is idle (accepted, dropped and
# repeated unchanged over 0.3 s).
quiet_qline() {
	local a b i
	a=$(qline)
	for i in $(seq 20); do
		sleep 0.3
		b=$(qline)
		[ "$(echo "$a" | cut -d' ' -f2-4)" = "$(echo "$b" | cut -d' ' -f2-4)" ] && break
		a=$b
	done
	echo "$b"
}

# life_end HOW: check the balance, then end the lifetime with HOW (KILL or
# TERM).  KILL: the worker is stopped first and killed with the RX ring
# full.  TERM: the caller stopped the traffic; everything is answered.
life_end() {
	local how=$1 i line
	local n_hup
	n_hup=$(grep -c "SIGHUP: reloaded" /tmp/worker.log || true)
	if [ "$how" = KILL ]; then
		kill -STOP "$WORKER_PID"
		for i in $(seq 50); do
			! grep -qv '^T' <(cat /proc/"$WORKER_PID"/task/*/stat 2>/dev/null | awk '{ print $3 }') && break
			sleep 0.1
		done
	else
		for i in $(seq 200); do
			[ "$(qstat 0 in_flight)" = 0 ] && break
			sleep 0.1
		done
	fi
	line=$(quiet_qline)
	[ -n "$line" ] || fail "lifetime $LIFE: queue 0 is not bound"
	read -r enq acc drp rep fl inf full fopen inv <<< "$line"
	local secs=$(( $(date +%s) - LIFE_START ))
	echo "  lifetime $LIFE ($LIFE_MODE, ${secs}s, $HUPS reloads, ends by SIG$how):" \
		"enqueued $enq = accepted $acc + dropped $drp + repeated $rep + flushed $fl + in_flight $inf;" \
		"ring_full $full fail_open $fopen invalid $inv"
	expect_eq "lifetime $LIFE: enqueued = accepted + dropped + repeated + flushed + in_flight" \
		"$enq" "$((acc + drp + rep + fl + inf))"
	expect_eq "lifetime $LIFE: reloads logged" "$n_hup" "$HUPS"
	[ "$enq" -gt 0 ] || fail "lifetime $LIFE: no packet was queued"
	if [ "$LIFE_MODE" = fail-closed ]; then
		expect_eq "lifetime $LIFE: fail_open while fail-closed" "$fopen" 0
	fi
	if [ "$how" = KILL ] && [ "$inf" = 0 ]; then
		echo "  (note: nothing in flight at this kill)"
	fi
	if [ "$how" = TERM ]; then
		expect_eq "lifetime $LIFE: in_flight at the clean stop" "$inf" 0
	fi
	T_ENQ=$((T_ENQ + enq)) T_ACC=$((T_ACC + acc)) T_DRP=$((T_DRP + drp))
	T_REP=$((T_REP + rep)) T_FL=$((T_FL + fl)) T_INF=$((T_INF + inf))
	T_FULL=$((T_FULL + full)) T_FOPEN=$((T_FOPEN + fopen)) T_INV=$((T_INV + inv))
	worker_stop "$how"
	if [ "$how" = TERM ]; then
		expect_eq "lifetime $LIFE: exit status after SIGTERM" "$WORKER_RC" 0
	fi
	cat /tmp/worker.log >> /tmp/worker.all
	# The module releases the queue when the file's last reference goes.
	for i in $(seq 100); do
		[ "$(qstat 0 pid)" = none ] && return 0
		sleep 0.1
	done
	fail "lifetime $LIFE: queue 0 still bound after the worker exited"
}

# Reload with alternating contents, so that every reload is a real change.
reload() {
	if [ $((HUPS % 2)) = 0 ]; then
		sed 's/^accept$/drop udp dport 9998\naccept/' /examples/dpi.rules > "$RULES"
	else
		cp /examples/dpi.rules "$RULES"
	fi
	local before i
	before=$(grep -c "SIGHUP: reloaded" /tmp/worker.log || true)
	kill -HUP "$WORKER_PID"
	HUPS=$((HUPS + 1))
	for i in $(seq 100); do
		[ "$(grep -c "SIGHUP: reloaded" /tmp/worker.log || true)" -gt "$before" ] && return 0
		sleep 0.1
	done
	fail "lifetime $LIFE: the worker did not log reload $HUPS within 10 s"
}

# ---- set-up, warm-up, baseline ---------------------------------------------
[ -r /examples/dpi.rules ] || fail "/examples/dpi.rules missing from the VM image"
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0
		tcp dport 5201 queue num 0
		tcp sport 5201 queue num 0"
sink_rules
ping_ok 2 || fail "client cannot reach the server"
pktgen_setup
cp /examples/dpi.rules "$RULES"
: > /tmp/worker.all
: > /tmp/blast.log
: > /tmp/iperf.log

echo "soak: ${SOAK_SECONDS}s; reload every ${RELOAD_EVERY}s, kill every ${KILL_EVERY}s;" \
	"bounds: slab +${SLAB_BOUND_KB} KiB, vmalloc +${VMALLOC_BOUND_KB} KiB"
# Warm-up, so that caches the first packets and the first worker create
# (per-CPU pools, io_uring, slab caches) are in the baseline too.
worker_start --rules "$RULES" --queue 0
traffic_start
sleep 5
traffic_stop
worker_stop TERM
settle_none() {
	local i
	for i in $(seq 100); do
		[ "$(qstat 0 pid)" = none ] && return 0
		sleep 0.1
	done
}
settle_none
: > /tmp/blast.log
: > /tmp/iperf.log
PG_INJECTED=0
sink0=$(sink_count)
mem_settle
mem_before=$(mem_read /tmp/slabinfo.before)
nw0=$(ip netns exec box awk '$1 == "no_worker" { print $2 }' /proc/net/nfring)

# ---- the soak -------------------------------------------------------------
t0=$(date +%s)
end=$((t0 + SOAK_SECONDS))
life_start
traffic_start
next_reload=$((t0 + RELOAD_EVERY))
next_kill=$((t0 + KILL_EVERY))
while :; do
	now=$(date +%s)
	[ "$now" -lt "$end" ] || break
	if [ "$now" -ge "$next_kill" ] && [ $((end - now)) -gt 5 ]; then
		life_end KILL
		life_start
		next_kill=$((now + KILL_EVERY))
		next_reload=$(( $(date +%s) + RELOAD_EVERY ))
	elif [ "$now" -ge "$next_reload" ]; then
		reload
		next_reload=$((next_reload + RELOAD_EVERY))
	fi
	sleep 1
done
traffic_stop
life_end TERM
delivered=$(( $(sink_count) - sink0 ))

# ---- memory and figures ---------------------------------------------------
mem_settle
mem_after=$(mem_read /tmp/slabinfo.after)
nw1=$(ip netns exec box awk '$1 == "no_worker" { print $2 }' /proc/net/nfring)
udp_sent=$(awk '$1 == "sent" { n += $2 } END { print n + 0 }' /tmp/blast.log)
tcp_mb=$(awk '/receiver$/ { for (i = 1; i < NF; i++) if ($(i + 1) == "MBytes") mb += $i } END { print mb + 0 }' /tmp/iperf.log)
tcp_runs=$(grep -c 'receiver$' /tmp/iperf.log || true)
worker_pkts=$(awk '{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }' /tmp/worker.all)
reports=$(kernel_reports)
echo "soak figures:"
echo "  seconds $SOAK_SECONDS, worker lifetimes $LIFE ($((LIFE - 1)) killed)"
echo "  packets: pktgen injected $PG_INJECTED, UDP flood sent $udp_sent, UDP delivered $delivered," \
	"TCP $tcp_mb MB received in $tcp_runs iperf3 runs"
echo "  queue 0 over all lifetimes: enqueued $T_ENQ = accepted $T_ACC + dropped $T_DRP" \
	"+ repeated $T_REP + flushed $T_FL + in_flight at the kills $T_INF;" \
	"apart: ring_full $T_FULL fail_open $T_FOPEN; invalid $T_INV;" \
	"no worker bound $((nw1 - nw0)); worker packets (clean exits) $worker_pkts"
echo "  kernel reports: $reports"
echo "  memory:"
mem_report "$mem_before" "$mem_after" /tmp/slabinfo.before /tmp/slabinfo.after
expect_eq "over all lifetimes: enqueued = accepted + dropped + repeated + flushed + in_flight" \
	"$T_ENQ" "$((T_ACC + T_DRP + T_REP + T_FL + T_INF))"
[ "$reports" = 0 ] || fail "the kernel log shows $reports report lines"
[ "$MEM_DOBJ" -le "$SLAB_BOUND_KB" ] ||
	fail "slab objects in use grew by $MEM_DOBJ KiB (bound $SLAB_BOUND_KB)"
[ "$MEM_DSUNRECL" -le "$SLAB_BOUND_KB" ] ||
	fail "SUnreclaim grew by $MEM_DSUNRECL KiB (bound $SLAB_BOUND_KB)"
[ "$MEM_DVMALLOC" -le "$VMALLOC_BOUND_KB" ] ||
	fail "VmallocUsed grew by $MEM_DVMALLOC KiB (bound $VMALLOC_BOUND_KB)"
pass "memory growth within bounds"

pg pgctrl reset
rmmod pktgen
rmmod nfring || fail "rmmod nfring after the soak"
topo_down
trap - EXIT
pass "soak, ${SOAK_SECONDS}s"
