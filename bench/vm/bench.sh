# The benchmark matrix, run inside the test VM in one boot so that every
# ratio compares like with like (`make bench` boots it).  Topology:
# client (generator) -> box (FORWARD, one `queue num 0` rule) -> server
# (sink).  nfring and nfnetlink_queue cannot be loaded together: the nfring
# modes run first, then nfring is unloaded and nfnetlink_queue loaded, and
# each run checks which handler is active.  Results: /results/latest.json
# and /results/summary.txt (copied to bench/results/ on the host).
source /tests/lib.sh
trap 'pkill -f nfring-worker; pkill -f nfring-nfq-consumer; topo_down' EXIT

RUNS=${NFRING_BENCH_RUNS:-3}
SECS=${NFRING_BENCH_SECONDS:-3}
SIZES="64 1500"
LAT_SAMPLES=${NFRING_BENCH_LAT_SAMPLES:-5000}
mkdir -p /results
printf 'accept\n' > /tmp/accept.rules

accel=kvm
grep -q "QEMU TCG" /proc/cpuinfo && accel=tcg
total=$(( 5 * 2 * RUNS ))
done_runs=0
t_start=$(date +%s)

progress() {
	local now elapsed eta
	now=$(date +%s)
	elapsed=$((now - t_start))
	eta=0
	[ "$done_runs" -gt 0 ] && eta=$(( elapsed * (total - done_runs) / done_runs ))
	printf '[%2d/%d] %-16s %5s B run %d/%d  (elapsed %ds, about %ds left)\n' \
		"$((done_runs + 1))" "$total" "$1" "$2" "$3" "$RUNS" "$elapsed" "$eta"
}

# cpu_ticks: "user system softirq total_busy" summed over all CPUs.
cpu_ticks() {
	awk '/^cpu / { print $2 + $3, $4, $7 + $8, $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

need_handler() { # nfring|nfnetlink_queue
	grep -q "^$1 " /proc/modules || fail "expected $1 to be the queue handler"
}

CONS_PID=
start_consumer() { # MODE
	case $1 in
	noqueue) box_rules "udp dport 9000 counter" ;;
	*) box_rules "udp dport 9000 queue num 0" ;;
	esac
	case $1 in
	nfqueue) need_handler nfnetlink_queue
		ip netns exec box nfring-nfq-consumer --queue 0 --batch 1 > /tmp/cons.out & CONS_PID=$! ;;
	nfqueue_batch) need_handler nfnetlink_queue
		ip netns exec box nfring-nfq-consumer --queue 0 --batch 32 > /tmp/cons.out & CONS_PID=$! ;;
	nfring) need_handler nfring
		ip netns exec box nfring-worker --rules /tmp/accept.rules --queue 0 2> /tmp/cons.out & CONS_PID=$! ;;
	nfring_busypoll) need_handler nfring
		ip netns exec box nfring-worker --busy-poll --rules /tmp/accept.rules --queue 0 2> /tmp/cons.out & CONS_PID=$! ;;
	noqueue) CONS_PID= ;;
	esac
	sleep 0.5
}

# ctx_switches PID: voluntary + involuntary over all threads.
ctx_switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}

queue_drops() { # MODE
	case $1 in
	nfring*) ip netns exec box awk '$1 == "0" { print $13 + $14 }' /proc/net/nfring ;;
	nfqueue*) ip netns exec box awk '$1 == "0" { print $6 + $7 }' /proc/net/netfilter/nfnetlink_queue ;;
	*) echo 0 ;;
	esac
}

stop_consumer() {
	CTX=0 DROPS=0 SYSCALLS=0 CPKTS=0
	[ -n "$CONS_PID" ] || return 0
	CTX=$(ctx_switches "$CONS_PID")
	kill -TERM "$CONS_PID"
	wait "$CONS_PID" || true
	CONS_PID=
	SYSCALLS=$(awk '{ for (i = 1; i < NF; i++) if ($i == "syscalls") print $(i + 1) }' /tmp/cons.out | tail -n1)
	CPKTS=$(awk '{ for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }' /tmp/cons.out | tail -n1)
}

# One throughput run; appends a line to /tmp/runs:
# mode size sent_pps delivered_pps cpu_us user_us sys_us softirq_us syscalls_per_pkt ctx_per_pkt drops
one_run() { # MODE SIZE
	local mode=$1 size=$2
	start_consumer "$mode"
	ip netns exec server nfring-blast sink 9000 $((SECS + 2)) > /tmp/sink.out &
	local sink=$!
	sleep 0.3
	read -r u0 s0 q0 b0 < <(cpu_ticks)
	local sent
	sent=$(ip netns exec client nfring-blast send 10.0.2.2 9000 "$size" "$SECS")
	read -r u1 s1 q1 b1 < <(cpu_ticks)
	sleep 0.3
	local drops
	drops=$(queue_drops "$mode")
	wait "$sink"
	stop_consumer
	local rcvd
	rcvd=$(awk '$1 == "received" { print $2 }' /tmp/sink.out)
	echo "$mode $size $sent $rcvd $((u1 - u0)) $((s1 - s0)) $((q1 - q0)) $((b1 - b0)) ${SYSCALLS:-0} $CTX ${drops:-0}" |
	awk -v secs="$SECS" '{
		# $3.. = "sent N seconds S pps P": fields 3-8
		sent = $4; spps = $8; rcvd = $9
		d = rcvd > 0 ? rcvd : 1
		printf "%s %s %.0f %.0f %.2f %.2f %.2f %.2f %.4f %.4f %d\n", $1, $2, spps, rcvd / secs,
			$13 * 10000 / d, $10 * 10000 / d, $11 * 10000 / d, $12 * 10000 / d,
			$14 / d, $15 / d, $16
	}' >> /tmp/runs
	done_runs=$((done_runs + 1))
}

latency() { # MODE
	start_consumer "$1"
	box_rules_for_ping "$1"
	ip netns exec server nfring-pingpong server 9001 60 > /dev/null &
	local srv=$!
	sleep 0.3
	local out
	out=$(ip netns exec client nfring-pingpong client 10.0.2.2 9001 "$LAT_SAMPLES")
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true
	stop_consumer
	echo "$1 $out" >> /tmp/lat
}

box_rules_for_ping() {
	case $1 in
	noqueue) box_rules "udp dport 9001 counter" ;;
	*) box_rules "udp dport 9001 queue num 0" ;;
	esac
}

: > /tmp/runs
: > /tmp/lat
# matrix MODE...: every size and run of each mode, then its latency.
matrix() {
	local mode size r
	for mode in "$@"; do
		for size in $SIZES; do
			for r in $(seq "$RUNS"); do
				progress "$mode" "$size" "$r"
				one_run "$mode" "$size"
			done
		done
		echo "[lat] $mode: $LAT_SAMPLES round trips"
		latency "$mode"
	done
	ip netns exec box nft flush ruleset
}

topo_up
modprobe nfring
matrix noqueue nfring nfring_busypoll
rmmod nfring
modprobe nfnetlink_queue
matrix nfqueue nfqueue_batch
rmmod nfnetlink_queue

# Median run (by delivered pps) of each mode and size, with min and max.
awk -v kernel="$(uname -r)" -v accel="$accel" -v runs="$RUNS" -v secs="$SECS" '
	FILENAME == "/tmp/runs" {
		k = $1 " " $2; n[k]++; row[k, n[k]] = $0; keys[k] = 1
		if (!(k in order)) { order[k] = ++nk; list[nk] = k }
		next
	}
	{ lat[$1] = $0; lorder[++nl] = $1 }
	END {
		printf "{ \"kernel\": \"%s\", \"accel\": \"%s\", \"vcpus\": 2, \"runs\": %d, \"seconds_per_run\": %d,\n", kernel, accel, runs, secs
		printf "  \"throughput\": ["
		for (i = 1; i <= nk; i++) {
			k = list[i]; m = n[k]
			# sort this key'"'"'s rows by delivered pps (field 4)
			for (a = 1; a <= m; a++) { split(row[k, a], f, " "); v[a] = f[4]; idx[a] = a }
			for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[idx[b]] < v[idx[a]]) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
			split(row[k, idx[int((m + 1) / 2)]], f, " ")
			mn = v[idx[1]]; mx = v[idx[m]]
			printf "%s\n    { \"mode\": \"%s\", \"size\": %d, \"sent_pps\": %d, \"delivered_pps\": %d, \"delivered_pps_min\": %d, \"delivered_pps_max\": %d, \"cpu_us_per_pkt\": %.2f, \"cpu_user_us\": %.2f, \"cpu_sys_us\": %.2f, \"cpu_softirq_us\": %.2f, \"syscalls_per_pkt\": %.4f, \"ctxsw_per_pkt\": %.4f, \"queue_drops\": %d }", (i > 1 ? "," : ""), f[1], f[2], f[3], f[4], mn, mx, f[5], f[6], f[7], f[8], f[9], f[10], f[11]
		}
		printf "\n  ],\n  \"latency\": ["
		for (i = 1; i <= nl; i++) {
			split(lat[lorder[i]], f, " ")
			printf "%s\n    { \"mode\": \"%s\", \"samples\": %d, \"lost\": %d, \"p50_us\": %s, \"p90_us\": %s, \"p99_us\": %s, \"p999_us\": %s }", (i > 1 ? "," : ""), f[1], f[3], f[5], f[7], f[9], f[11], f[13]
		}
		printf "\n  ]\n}\n"
	}' /tmp/runs /tmp/lat > /results/latest.json
cp /tmp/runs /results/runs.txt
cp /tmp/lat /results/latency.txt
echo
cat /results/latest.json
topo_down
trap - EXIT
