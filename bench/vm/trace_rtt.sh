# Where an idle round trip's time goes (`make trace-rtt` boots it): the
# same UDP ping-pong as the benchmark, with ftrace on a few functions and
# the scheduler's switch events, for no queue and the sleeping nfring
# worker.  Prints the median time from each step to the next over the
# traced round trips.  Tracing adds its own cost to every traced event,
# so compare steps, not totals, with the benchmark's figures.
source /tests/lib.sh
WPID=
trap '[ -z "$WPID" ] || kill "$WPID"; topo_down' EXIT
T=/sys/kernel/tracing
grep -q " $T " /proc/mounts || mount -t tracefs nodev $T
N=${NFRING_TRACE_PINGS:-300}
mkdir -p /results

topo_up
modprobe nfring
printf 'accept\n' > /tmp/accept.rules

trace_mode() { # MODE
	local mode=$1
	case $mode in
	noqueue) box_rules "udp dport 9001 counter" ;;
	nfring) box_rules "udp dport 9001 queue num 0"
		ip netns exec box nfring-worker --rules /tmp/accept.rules --queue 0 2>/dev/null &
		WPID=$!
		sleep 0.5 ;;
	esac
	ip netns exec server nfring-pingpong server 9001 60 > /dev/null &
	local srv=$!
	sleep 0.3
	echo 0 > $T/tracing_on
	echo > $T/trace
	echo function > $T/current_tracer
	printf '%s\n' udp_sendmsg nfring_outfn nfring_dev_poll \
		__x64_sys_io_uring_enter nfring_dev_write_iter nf_reinject \
		__udp_enqueue_schedule_skb > $T/set_ftrace_filter
	echo 1 > $T/events/sched/sched_switch/enable
	# Worker functions as NAME:OFFSET pairs (scripts/trace-rtt.sh takes
	# them from the host's nm): uprobes mark their entries.
	local uprobes=${NFRING_TRACE_UPROBES:-} p
	: > $T/uprobe_events
	if [ -n "$uprobes" ]; then
		for p in ${uprobes//,/ }; do
			echo "p:u_${p%%:*} $(command -v nfring-worker):${p#*:}" >> $T/uprobe_events
		done
		echo 1 > $T/events/uprobes/enable
	fi
	echo 1 > $T/tracing_on
	ip netns exec client nfring-pingpong client 10.0.2.2 9001 "$N" 2000 > /dev/null
	echo 0 > $T/tracing_on
	echo 0 > $T/events/sched/sched_switch/enable
	[ -z "$uprobes" ] || echo 0 > $T/events/uprobes/enable
	cp $T/trace /results/trace_$mode.txt
	echo nop > $T/current_tracer
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true
	if [ -n "$WPID" ]; then
		kill "$WPID"; wait "$WPID" 2>/dev/null || true
		WPID=
	fi
	# A round trip starts at the client's udp_sendmsg; each later marker
	# is the first of its kind after the previous one.
	awk -v mode="$mode" -v srv="$srv" '
		function mark(name, t) {
			if (!inrt) return
			if (name in seen) return
			seen[name] = 1; step[++ns] = name; ts[ns] = t
		}
		function flush(   i, k) {
			if (!inrt || ns < 2) return
			for (i = 2; i <= ns; i++) {
				k = step[i - 1] " -> " step[i]
				if (!(k in idx)) { idx[k] = ++nk; key[nk] = k }
				d[k, ++cnt[k]] = (ts[i] - ts[i - 1]) * 1e6
			}
			tot[++nt] = (ts[ns] - ts[1]) * 1e6
		}
		/^#/ { next }
		{
			t = ""
			for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) { t = substr($i, 1, length($i) - 1); break }
			if (t == "") next
			server = ($1 ~ ("-" srv "$"))
			if ($0 ~ /udp_sendmsg/ && $1 ~ /pingpon/ && !server) {
				flush(); delete seen; ns = 0; inrt = 1
				mark("client send", t); next
			}
			if ($0 ~ /nfring_outfn/) mark("box: queued", t)
			else if ($0 ~ /sched_switch/ && $0 ~ /next_comm=nfring-worker/) mark("worker on CPU", t)
			else if ($0 ~ / u_[a-z]+:/) { match($0, / u_[a-z]+:/); mark(substr($0, RSTART + 1, RLENGTH - 2), t) }
			else if ($0 ~ /nfring_dev_poll/ && ("worker on CPU" in seen)) mark("worker: poll re-check", t)
			else if ($0 ~ /io_uring_enter/ && ("worker on CPU" in seen)) mark("worker: enter (kick+sleep)", t)
			else if ($0 ~ /nfring_dev_write_iter/) mark("kick", t)
			else if ($0 ~ /nf_reinject/) mark("reinject", t)
			else if ($0 ~ /__udp_enqueue_schedule_skb/ && !("server socket" in seen)) mark("server socket", t)
			else if ($0 ~ /sched_switch/ && $0 ~ /next_comm=nfring-pingpon/ && ("server socket" in seen) && !("server on CPU" in seen)) mark("server on CPU", t)
			else if ($0 ~ /udp_sendmsg/ && server) mark("server reply", t)
			else if ($0 ~ /__udp_enqueue_schedule_skb/ && ("server reply" in seen)) mark("client socket", t)
			else if ($0 ~ /sched_switch/ && $0 ~ /next_comm=nfring-pingpon/ && ("client socket" in seen)) mark("client on CPU", t)
		}
		function median(k, n,   a, i, j, x) {
			for (i = 1; i <= n; i++) a[i] = d[k, i]
			for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
			return a[int((n + 1) / 2)]
		}
		END {
			flush()
			printf "%s: %d round trips traced\n", mode, nt
			for (i = 1; i <= nk; i++) {
				k = key[i]
				if (cnt[k] * 4 < nt) continue	# rare orderings
				printf "  %-36s %7.1f us  (n=%d)\n", k, median(k, cnt[k]), cnt[k]
			}
			for (i = 1; i <= nt; i++) d["total", i] = tot[i]
			printf "  %-36s %7.1f us\n", "first to last step", median("total", nt)
		}' /results/trace_$mode.txt | tee -a /results/trace_rtt.txt
}

: > /results/trace_rtt.txt
trace_mode noqueue
trace_mode nfring
ip netns exec box nft flush ruleset
topo_down
trap - EXIT
