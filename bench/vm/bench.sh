# The benchmark matrix, run inside the test VM in one boot so that every
# ratio compares like with like (`make bench` boots it).  Topology:
# client (generator) -> box (FORWARD, one `queue num 0` rule) -> server
# (sink).  nfring and nfnetlink_queue cannot be loaded together: the nfring
# modes run first, then nfring is unloaded and nfnetlink_queue loaded, and
# each run checks which handler is active.  Results: /results/latest.json
# and /results/summary.txt (copied to bench/results/ on the host).
#
# Three workloads, each with its own section of latest.json:
#   throughput/latency  UDP from nfring-blast (sendmmsg) to a recvmmsg sink,
#                       64 and 1500 B, and a UDP ping-pong; every mode.
#   pktgen              the kernel's pktgen injects UDP into the box's
#                       client-facing veth (xmit_mode netif_receive), so the
#                       generator is not the bottleneck; the server's nft
#                       counts and drops what arrives.
#   tcp                 iperf3 bulk TCP, client -> server.
#
# The NFQUEUE modes run one program, nfring-nfq-consumer (bench/tools),
# linked against libnetfilter_queue.so.1.  nfqueue and nfqueue_batch load
# the system's library, over nfnetlink_queue; nfqueue_over_nfring and
# nfqueue_batch_over_nfring run the same binary with the same flags, with
# LD_LIBRARY_PATH naming libnetfilter_queue over nfring (userspace/nfq,
# which mkinitramfs.sh installs in $NFQ_LIB), so they belong to the nfring
# phase.  nfring-nfq-run does the same, but is not in the image and names
# the build's install prefix.
source /tests/lib.sh
trap 'pkill -f nfring-worker; pkill -f nfring-nfq-consumer; pkill -x iperf3; topo_down' EXIT

RUNS=${NFRING_BENCH_RUNS:-3}
SECS=${NFRING_BENCH_SECONDS:-3}
SIZES="64 1500"
# Comma-separated (it comes on the kernel command line): 64,1500.
PKTGEN_SIZES=$(echo "${NFRING_BENCH_PKTGEN_SIZES:-64,1500}" | tr , ' ')
LAT_SAMPLES=${NFRING_BENCH_LAT_SAMPLES:-5000}
mkdir -p /results
printf 'accept\n' > /tmp/accept.rules
NFQ_LIB=/usr/lib/x86_64-linux-gnu/nfring
[ -e "$NFQ_LIB/libnetfilter_queue.so.1" ] ||
	fail "libnetfilter_queue over nfring missing from the VM image ($NFQ_LIB)"
# The consumer must resolve the library to ours (the loader's own listing;
# there is no ldd in the guest), or the *_over_nfring modes would measure
# the system's library failing to bind.
nfq_libs=$(LD_TRACE_LOADED_OBJECTS=1 LD_LIBRARY_PATH=$NFQ_LIB nfring-nfq-consumer)
grep -q "libnetfilter_queue.so.1 => $NFQ_LIB/libnetfilter_queue.so.1" <<<"$nfq_libs" ||
	fail "nfring-nfq-consumer does not load $NFQ_LIB/libnetfilter_queue.so.1: $nfq_libs"
# The demo's DPI rules (mkinitramfs.sh copies examples/*.rules here).
DPI_RULES=/examples/dpi.rules
[ -r "$DPI_RULES" ] || fail "$DPI_RULES missing from the VM image"
command -v iperf3 >/dev/null ||
	fail "iperf3 missing from the VM image (scripts/deps.sh, then make vm-image)"

# The modes of each workload, in the two phases (nfring loaded, then
# nfnetlink_queue loaded).
UDP_MODES_NFRING="noqueue nfring nfring_busypoll nfring_dpi nfqueue_over_nfring nfqueue_batch_over_nfring"
UDP_MODES_NFQ="nfqueue nfqueue_batch"
PG_MODES_NFRING="noqueue nfring nfqueue_batch_over_nfring nfqueue_over_nfring"
PG_MODES_NFQ="nfqueue_batch nfqueue"
TCP_MODES_NFRING="noqueue nfring nfqueue_batch_over_nfring nfqueue_over_nfring"
TCP_MODES_NFQ="nfqueue_batch nfqueue"

accel=kvm
grep -q "QEMU TCG" /proc/cpuinfo && accel=tcg
words() { echo $#; }
total=$(( ( $(words $UDP_MODES_NFRING $UDP_MODES_NFQ) * $(words $SIZES) +
	    $(words $PG_MODES_NFRING $PG_MODES_NFQ) * $(words $PKTGEN_SIZES) +
	    $(words $TCP_MODES_NFRING $TCP_MODES_NFQ) ) * RUNS ))
done_runs=0
t_start=$(date +%s)

progress() { # LABEL SIZE RUN
	local now elapsed eta
	now=$(date +%s)
	elapsed=$((now - t_start))
	eta=0
	[ "$done_runs" -gt 0 ] && eta=$(( elapsed * (total - done_runs) / done_runs ))
	printf '[%2d/%d] %-32s %7s run %d/%d  (elapsed %ds, about %ds left)\n' \
		"$((done_runs + 1))" "$total" "$1" "${2:+$2 B}" "$3" "$RUNS" "$elapsed" "$eta"
}

# cpu_ticks: "user system softirq total_busy" summed over all CPUs.
cpu_ticks() {
	awk '/^cpu / { print $2 + $3, $4, $7 + $8, $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

need_handler() { # nfring|nfnetlink_queue
	grep -q "^$1 " /proc/modules || fail "expected $1 to be the queue handler"
}

# The counters of queue 0 the nfring-phase modes read from the box's
# /proc/net/nfring.  Packets the queue handler dropped or let past without
# queueing: ring_full, fail_open (as before: a full ring), and
# normalize_failed (a checksum it could not finish: the packet is dropped;
# only libnetfilter_queue over nfring binds with NFRING_BIND_NORMALIZE).
NFRING_DROP_COLS="ring_full fail_open normalize_failed"

# nfring_stat COLUMN...: the sum of those counters of queue 0 in the box's
# /proc/net/nfring, found by the header's names (0 when it is not bound).
nfring_stat() {
	ip netns exec box awk -v cols="$*" '
		$1 == "queue" && $2 == "pid" { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		("queue" in idx) && $1 == "0" {
			n = split(cols, c, " ")
			for (i = 1; i <= n; i++) s += $idx[c[i]]
		}
		END { print s + 0 }' /proc/net/nfring
}

# nfring_need_columns COLUMN...: fail unless /proc/net/nfring names them all
# (nfring_stat would read a missing one as the queue number).
nfring_need_columns() {
	local missing
	missing=$(ip netns exec box awk -v cols="$*" '
		$1 == "queue" && $2 == "pid" {
			for (i = 1; i <= NF; i++) have[$i] = 1
			n = split(cols, c, " ")
			for (i = 1; i <= n; i++) if (!(c[i] in have)) printf " %s", c[i]
			found = 1
		}
		END { if (!found) printf " (no header line)" }' /proc/net/nfring)
	[ -z "$missing" ] || fail "/proc/net/nfring lacks the columns:$missing"
}

# UDP ports of the saturation and ping-pong traffic.  nfring_dpi sends both
# to 9999, the port of the DPI rules' payload signature (`udp dport 9999
# content "EVIL"`): every datagram then goes through the whole rule list --
# the TLS/HTTP rules (skipped for UDP), the DNS-name rule (the DNS parser
# runs on the payload and finds no query), the content search over the
# whole payload (nfring-blast sends 'x' bytes, the ping-pong "ping N": no
# match) -- and is decided by the last line, the default `accept`.  That
# rule does not look at the payload, so the flow table does not remember
# it: each packet is matched afresh.
udp_port() { [ "$1" = nfring_dpi ] && echo 9999 || echo 9000; }
ping_port() { [ "$1" = nfring_dpi ] && echo 9999 || echo 9001; }

# qrule MODE MATCH: the box's rule for MATCH (counted without a queue,
# queued to queue 0 otherwise).
qrule() {
	case $1 in
	noqueue) echo "$2 counter" ;;
	*) echo "$2 queue num 0" ;;
	esac
}

CONS_PID=
CONS_MODE=
# CONS_CPU: when set, the consumer is pinned to that CPU (the pktgen runs
# keep it off the generator's CPU 0, for every mode alike).
CONS_CPU=
start_consumer() { # MODE [RULES]: RULES default to the UDP saturation rule
	box_rules "${2:-$(qrule "$1" "udp dport $(udp_port "$1")")}"
	local pin=
	[ -z "$CONS_CPU" ] || pin="taskset -c $CONS_CPU"
	CONS_MODE=$1
	# ip netns exec, taskset and env each exec the next: CONS_PID is the
	# consumer's own PID (ctx_switches, kill, the binder's PID below).
	case $1 in
	nfqueue_over_nfring) need_handler nfring
		ip netns exec box $pin env LD_LIBRARY_PATH=$NFQ_LIB nfring-nfq-consumer --queue 0 --batch 1 > /tmp/cons.out & CONS_PID=$!
		nfring_bound_by_consumer "$1" ;;
	nfqueue_batch_over_nfring) need_handler nfring
		ip netns exec box $pin env LD_LIBRARY_PATH=$NFQ_LIB nfring-nfq-consumer --queue 0 --batch 32 > /tmp/cons.out & CONS_PID=$!
		nfring_bound_by_consumer "$1" ;;
	nfqueue) need_handler nfnetlink_queue
		ip netns exec box $pin nfring-nfq-consumer --queue 0 --batch 1 > /tmp/cons.out & CONS_PID=$! ;;
	nfqueue_batch) need_handler nfnetlink_queue
		ip netns exec box $pin nfring-nfq-consumer --queue 0 --batch 32 > /tmp/cons.out & CONS_PID=$! ;;
	nfring) need_handler nfring
		ip netns exec box $pin nfring-worker --rules /tmp/accept.rules --queue 0 2> /tmp/cons.out & CONS_PID=$! ;;
	nfring_busypoll) need_handler nfring
		ip netns exec box $pin nfring-worker --busy-poll --rules /tmp/accept.rules --queue 0 2> /tmp/cons.out & CONS_PID=$! ;;
	nfring_dpi) need_handler nfring
		ip netns exec box $pin nfring-worker --rules "$DPI_RULES" --queue 0 2> /tmp/cons.out & CONS_PID=$! ;;
	noqueue) CONS_PID= ;;
	esac
	sleep 0.5
}

# nfring_bound_by_consumer MODE: wait until the consumer is the binder of
# queue 0 in /proc/net/nfring (the library binds at nfq_fd()).  One that
# loaded the system's library instead would fail to bind and exit.
nfring_bound_by_consumer() {
	local _
	for _ in $(seq 100); do
		[ "$(qstat 0 pid)" = "$CONS_PID" ] && return 0
		kill -0 "$CONS_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "$1: nfring-nfq-consumer (PID $CONS_PID) did not bind queue 0 over nfring: $(cat /tmp/cons.out); /proc/net/nfring: $(ip netns exec box cat /proc/net/nfring)"
}

# ctx_switches PID: voluntary + involuntary over all threads.
ctx_switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# queue_drops MODE: read while the consumer still holds the queue.  The
# *_over_nfring pattern comes before nfqueue*, which would match it.
queue_drops() { # MODE
	case $1 in
	nfring* | *_over_nfring) nfring_stat $NFRING_DROP_COLS ;;
	nfqueue*) ip netns exec box awk '$1 == "0" { print $6 + $7 }' /proc/net/netfilter/nfnetlink_queue ;;
	*) echo 0 ;;
	esac
}

# cons_field NAME: the value after NAME in the consumer's last summary.
cons_field() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' /tmp/cons.out | tail -n1
}

# stop_consumer: sets CTX, SYSCALLS (the consumer's system calls over its
# life) and CPKTS (the packets it saw).
#
# nfring-worker and nfring-nfq-consumer count their own calls.  Over
# nfnetlink_queue each of the consumer's calls (poll, recv, verdict) is one
# system call.  Over nfring, libnetfilter_queue answers recv from the rings
# (MSG_DONTWAIT: an empty ring is EAGAIN, no epoll_wait) and puts verdicts
# on the verdict ring, kicking the module with one write only when its
# reinject work went idle.  Its system calls are then the consumer's polls
# plus the kicks, which the module counts per queue (read before the
# consumer unbinds; a kick by its last batch flush, at exit, is missed).
stop_consumer() {
	CTX=0 DROPS=0 SYSCALLS=0 CPKTS=0
	[ -n "$CONS_PID" ] || return 0
	CTX=$(ctx_switches "$CONS_PID")
	local kicks=0
	case $CONS_MODE in
	*_over_nfring) kicks=$(nfring_stat kicks) ;;
	esac
	kill -TERM "$CONS_PID"
	wait "$CONS_PID" || true
	CONS_PID=
	SYSCALLS=$(cons_field syscalls)
	CPKTS=$(cons_field packets)
	case $CONS_MODE in
	*_over_nfring)
		local polls
		polls=$(cons_field poll_calls)
		SYSCALLS=$(( ${polls:-0} + kicks ))
		echo "    over nfring: ${CPKTS:-0} packets; system calls: ${polls:-0} polls + $kicks kicks; from the rings without one: $(cons_field recv_calls) recv, $(cons_field verdict_calls) verdict calls"
		;;
	esac
}

# dpi_decided WHAT SENT DELIVERED: after an nfring_dpi run, show which rule
# lines decided (the worker's exit summary) and fail unless the default
# `accept` (the last line) decided every packet the worker saw -- i.e. the
# traffic went past every DPI rule, and none of them dropped it.
dpi_decided() {
	local hits last
	hits=$(grep -E '\.rules:[0-9]+ hits [0-9]+' /tmp/cons.out || true)
	[ -n "$hits" ] || fail "nfring_dpi: the worker's summary lists no rule hits: $(cat /tmp/cons.out)"
	last=$(echo "$hits" | tail -n1 | awk '{ print $3 }')
	echo "    dpi $1: sent $2, delivered $3 ($(awk -v s="$2" -v d="$3" 'BEGIN { printf "%.3f", (s > 0 ? d / s : 0) }') of sent); worker saw ${CPKTS:-0}, decided by:"
	echo "$hits" | awk '$3 > 0 { sub(/^ +/, ""); print "      " $0 }'
	[ "${CPKTS:-0}" -gt 0 ] || fail "nfring_dpi: the worker saw no packets"
	[ "$last" = "$CPKTS" ] ||
		fail "nfring_dpi: the default accept decided $last of $CPKTS packets: $hits"
}

# One throughput run; appends a line to /tmp/runs:
# mode size sent_pps delivered_pps cpu_us user_us sys_us softirq_us syscalls_per_pkt ctx_per_pkt drops
one_run() { # MODE SIZE
	local mode=$1 size=$2
	local port
	port=$(udp_port "$mode")
	start_consumer "$mode"
	ip netns exec server nfring-blast sink "$port" $((SECS + 2)) > /tmp/sink.out &
	local sink=$!
	sleep 0.3
	read -r u0 s0 q0 b0 < <(cpu_ticks)
	local sent
	sent=$(ip netns exec client nfring-blast send 10.0.2.2 "$port" "$size" "$SECS")
	read -r u1 s1 q1 b1 < <(cpu_ticks)
	sleep 0.3
	local drops
	drops=$(queue_drops "$mode")
	wait "$sink"
	stop_consumer
	local rcvd
	rcvd=$(awk '$1 == "received" { print $2 }' /tmp/sink.out)
	[ "$mode" = nfring_dpi ] && dpi_decided "UDP $size B" "$(echo "$sent" | awk '{ print $2 }')" "$rcvd"
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
	local port
	port=$(ping_port "$1")
	start_consumer "$1" "$(qrule "$1" "udp dport $port")"
	ip netns exec server nfring-pingpong server "$port" 60 > /dev/null &
	local srv=$!
	sleep 0.3
	local out
	out=$(ip netns exec client nfring-pingpong client 10.0.2.2 "$port" "$LAT_SAMPLES")
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true
	stop_consumer
	[ "$1" = nfring_dpi ] && dpi_decided "ping-pong" "$LAT_SAMPLES" \
		"$(echo "$out" | awk '{ print $2 }')"
	echo "$1 $out" >> /tmp/lat
}

: > /tmp/runs
: > /tmp/lat
: > /tmp/pg
: > /tmp/tcp
# runs LABEL RUN_FN MODE SIZES: RUNS runs of RUN_FN MODE SIZE per size.
runs() {
	local size r
	for size in $4; do
		for r in $(seq "$RUNS"); do
			progress "$1" "$size" "$r"
			"$2" "$3" "$size"
		done
	done
}

# matrix MODE...: every size and run of each mode, then its latency.
matrix() {
	local mode
	for mode in "$@"; do
		runs "$mode" one_run "$mode" "$SIZES"
		echo "[lat] $mode: $LAT_SAMPLES round trips"
		latency "$mode"
	done
	ip netns exec box nft flush ruleset
}

# ---- pktgen: a generator that is not the bottleneck ----------------------
# pktgen (per netns: /proc/net/pktgen of the box) builds UDP packets from
# 10.0.1.2:9 to 10.0.2.2:9000 with the box's own b0 MAC as destination and
# hands them to b0's receive path (xmit_mode netif_receive) from its kernel
# thread on CPU 0: they enter the box like packets from the client, cross
# FORWARD (the `queue num 0` rule) and leave through b1 to the server,
# whose prerouting chain counts and drops them (no socket, no ICMP, no
# userspace sink to become the bottleneck).
#
# count 0 (no limit): a run is stopped by "stop" after SECS seconds, and
# pktgen's result line gives the injected count and the elapsed time.
# clone_skb must be 0 in this mode (a new skb per packet), and burst is 1:
# a forwarded skb is still in flight (queued, or in the server's backlog)
# when netif_receive_skb returns, so pktgen could not reuse it anyway, and
# with burst > 1 an skb freed meanwhile by the CPU that reinjects it would be
# reused after forwarding changed it.
PG=/proc/net/pktgen
# pg FILE COMMAND: one pktgen command, written inside the box's netns.
pg() {
	ip netns exec box bash -c 'echo "$2" > "$1"' pg "$PG/$1" "$2" ||
		fail "pktgen: '$2' > $1: $(ip netns exec box grep Result "$PG/$1")"
}

pktgen_setup() {
	modprobe pktgen
	local mac
	mac=$(ip netns exec box cat /sys/class/net/b0/address)
	pg kpktgend_0 "rem_device_all"
	pg kpktgend_0 "add_device b0"
	local c
	for c in "count 0" "clone_skb 0" "xmit_mode netif_receive" "burst 1" \
		"delay 0" "dst_mac $mac" "dst_min 10.0.2.2" "dst_max 10.0.2.2" \
		"src_min 10.0.1.2" "src_max 10.0.1.2" "udp_src_min 9" "udp_src_max 9" \
		"udp_dst_min 9000" "udp_dst_max 9000"; do
		pg b0 "$c"
	done
	# The box learns the server's MAC before the first run.
	ping_ok 2 || fail "client cannot reach the server"
}

pktgen_teardown() {
	pg pgctrl "reset"
	rmmod pktgen
	ip netns exec server nft flush ruleset
}

# One pktgen run; appends to /tmp/pg:
# mode size injected_pps delivered_pps cpu_us_per_pkt drops injected delivered
# consumer_syscalls_per_pkt
pktgen_run() { # MODE SIZE
	local mode=$1 size=$2
	CONS_CPU=1 start_consumer "$mode"
	sink_rules
	pg b0 "pkt_size $((size + 14))"   # Ethernet frame without FCS
	read -r u0 s0 q0 b0 < <(cpu_ticks)
	ip netns exec box bash -c "echo start > $PG/pgctrl" &
	local gen=$!
	sleep "$SECS"
	pg pgctrl stop
	wait "$gen" || true
	read -r u1 s1 q1 b1 < <(cpu_ticks)
	sleep 0.3
	local drops delivered res
	drops=$(queue_drops "$mode")
	delivered=$(ip netns exec server nft list counter inet sink delivered |
		awk '$1 == "packets" { print $2 }')
	# "Result: OK: 2001234(c2001000+d234) usec, 123456 (78byte,0frags)"
	# "  61728pps 38Mb/sec (38520000bps) errors: 0"
	res=$(ip netns exec box awk '/^Result: OK:/ { us = $3 + 0; n = $5 + 0 }
		/pps .*errors:/ { pps = $1 + 0 } END { if (us) print us, n, pps }' "$PG/b0")
	[ -n "$res" ] || fail "pktgen gave no result: $(ip netns exec box cat "$PG/b0")"
	stop_consumer
	echo "$mode $size $res ${delivered:-0} $((b1 - b0)) ${drops:-0} ${SYSCALLS:-0} ${CPKTS:-0}" |
	awk '{
		us = $3; n = $4; d = $6 > 0 ? $6 : 1
		printf "%s %s %.0f %.0f %.2f %d %d %d %.4f\n", $1, $2, $5, $6 * 1e6 / us,
			$7 * 10000 / d, $8, n, $6, ($10 > 0 ? $9 / $10 : 0)
	}' | tee -a /tmp/pg | awk '{ printf "    injected %d (%d pps), delivered %d (%d pps), %s us CPU per packet, %d queue drops\n", $7, $3, $8, $4, $5, $6 }'
	done_runs=$((done_runs + 1))
}

pktgen_matrix() { # MODE...
	local mode
	pktgen_setup
	for mode in "$@"; do
		runs "pktgen $mode" pktgen_run "$mode" "$PKTGEN_SIZES"
	done
	pktgen_teardown
}

# ---- TCP bulk: iperf3, client -> server ---------------------------------
# Both directions of the connections to port 5201 are queued (the data and
# the server's ACKs, and iperf3's control connection): a DPI box sees both
# sides of a flow, as the README's `meta l4proto { tcp, udp } queue` rule
# does, so each mode pays for the ACK stream too.
#
# veth does TSO/GSO, so the client's segments cross the box as GSO packets
# of up to 64 KB.  nfring's worker gets them whole (the first copy_range
# bytes) and they are reinjected unsegmented; nfnetlink_queue, for a
# consumer that does not set NFQA_CFG_F_GSO (libnetfilter_queue's default,
# ours), segments them first and queues every MTU-sized segment, and so
# does nfring for that consumer over libnetfilter_queue over nfring
# (NFRING_BIND_NORMALIZE): the *_over_nfring rows compare like with like.
# The queued_pkts field shows the difference.
tcp_run() { # MODE
	local mode=$1 i
	start_consumer "$mode" "$(qrule "$mode" "tcp dport 5201")
		$(qrule "$mode" "tcp sport 5201")"
	ip netns exec server iperf3 -s -1 -p 5201 > /tmp/iperf-s.out 2>&1 &
	local srv=$!
	for i in $(seq 50); do
		ip netns exec server ss -ltn 2>/dev/null | grep -q ':5201 ' && break
		sleep 0.1
	done
	read -r u0 s0 q0 b0 < <(cpu_ticks)
	ip netns exec client timeout $((SECS + 30)) iperf3 -c 10.0.2.2 -p 5201 \
		-t "$SECS" -f m --connect-timeout 5000 > /tmp/iperf.out 2>&1 || true
	read -r u1 s1 q1 b1 < <(cpu_ticks)
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	local drops
	drops=$(queue_drops "$mode")
	stop_consumer
	# "[  5]   0.00-3.00   sec   120 MBytes   335 Mbits/sec   12   sender"
	# "[  5]   0.00-3.04   sec   119 MBytes   330 Mbits/sec        receiver"
	local res
	res=$(awk '{
		for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") {
			if ($NF == "receiver") {
				rate = $(i - 1)
				for (j = 1; j < i; j++) if ($j ~ /^[0-9.]+-[0-9.]+$/) { split($j, t, "-"); secs = t[2] - t[1] }
			}
			if ($NF == "sender") retr = $(i + 1)
		}
	} END { if (rate != "") print rate, retr + 0, secs }' /tmp/iperf.out)
	if [ -z "$res" ]; then
		echo "    iperf3 through $mode gave no result:"
		sed 's/^/      /' /tmp/iperf.out | tail -n 15
		res="0 0 0"
	fi
	echo "$mode $res $((b1 - b0)) ${CPKTS:-0} ${drops:-0}" |
	awk '{
		mb = $2 * $4 / 8   # megabytes received
		printf "%s %.1f %d %.1f %d %d\n", $1, $2, $3, (mb > 0 ? $5 * 10000 / mb : 0), $6, $7
	}' | tee -a /tmp/tcp | awk '{ printf "    %.1f Mbit/s, %d retransmits, %.1f us CPU per MB, %d packets queued, %d queue drops\n", $2, $3, $4, $5, $6 }'
	done_runs=$((done_runs + 1))
}

tcp_matrix() { # MODE...
	local mode r
	for mode in "$@"; do
		for r in $(seq "$RUNS"); do
			progress "tcp $mode" "" "$r"
			tcp_run "$mode"
		done
	done
	ip netns exec box nft flush ruleset
}

topo_up
modprobe nfring
nfring_need_columns pid $NFRING_DROP_COLS kicks
matrix $UDP_MODES_NFRING
pktgen_matrix $PG_MODES_NFRING
tcp_matrix $TCP_MODES_NFRING
rmmod nfring
modprobe nfnetlink_queue
matrix $UDP_MODES_NFQ
pktgen_matrix $PG_MODES_NFQ
tcp_matrix $TCP_MODES_NFQ
rmmod nfnetlink_queue

# The median run of each point (by delivered pps, or Mbit/s for TCP), with
# the minimum and maximum of that figure.
awk -v kernel="$(uname -r)" -v accel="$accel" -v runs="$RUNS" -v secs="$SECS" '
	# add SECTION KEY LINE: one run of a point; points keep their order.
	function add(s, k, line) {
		if (!((s SUBSEP k) in n)) list[s, ++nk[s]] = k
		row[s, k, ++n[s, k]] = line
	}
	# median SECTION KEY FIELD: splits the median row into f; sets MN, MX.
	function median(s, k, fld,    m, a, b, t) {
		m = n[s, k]
		for (a = 1; a <= m; a++) { split(row[s, k, a], f, " "); v[a] = f[fld] + 0; idx[a] = a }
		for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[idx[b]] < v[idx[a]]) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
		MN = v[idx[1]]; MX = v[idx[m]]
		split(row[s, k, idx[int((m + 1) / 2)]], f, " ")
	}
	FILENAME == "/tmp/runs" { add("tp", $1 " " $2, $0); next }
	FILENAME == "/tmp/pg" { add("pg", $1 " " $2, $0); next }
	FILENAME == "/tmp/tcp" { add("tcp", $1, $0); next }
	{ lat[$1] = $0; lorder[++nl] = $1 }
	END {
		printf "{ \"kernel\": \"%s\", \"accel\": \"%s\", \"vcpus\": 2, \"runs\": %d, \"seconds_per_run\": %d,\n", kernel, accel, runs, secs
		printf "  \"throughput\": ["
		for (i = 1; i <= nk["tp"]; i++) {
			median("tp", list["tp", i], 4)
			printf "%s\n    { \"mode\": \"%s\", \"size\": %d, \"sent_pps\": %d, \"delivered_pps\": %d, \"delivered_pps_min\": %d, \"delivered_pps_max\": %d, \"cpu_us_per_pkt\": %.2f, \"cpu_user_us\": %.2f, \"cpu_sys_us\": %.2f, \"cpu_softirq_us\": %.2f, \"syscalls_per_pkt\": %.4f, \"ctxsw_per_pkt\": %.4f, \"queue_drops\": %d }", (i > 1 ? "," : ""), f[1], f[2], f[3], f[4], MN, MX, f[5], f[6], f[7], f[8], f[9], f[10], f[11]
		}
		printf "\n  ],\n  \"latency\": ["
		for (i = 1; i <= nl; i++) {
			split(lat[lorder[i]], f, " ")
			printf "%s\n    { \"mode\": \"%s\", \"samples\": %d, \"lost\": %d, \"p50_us\": %s, \"p90_us\": %s, \"p99_us\": %s, \"p999_us\": %s }", (i > 1 ? "," : ""), f[1], f[3], f[5], f[7], f[9], f[11], f[13]
		}
		# /tmp/pg: mode size injected_pps delivered_pps cpu_us_per_pkt drops injected delivered syscalls_per_pkt
		printf "\n  ],\n  \"pktgen\": ["
		for (i = 1; i <= nk["pg"]; i++) {
			median("pg", list["pg", i], 4)
			printf "%s\n    { \"mode\": \"%s\", \"size\": %d, \"injected_pps\": %d, \"delivered_pps\": %d, \"delivered_pps_min\": %d, \"delivered_pps_max\": %d, \"cpu_us_per_pkt\": %.2f, \"queue_drops\": %d, \"syscalls_per_pkt\": %.4f }", (i > 1 ? "," : ""), f[1], f[2], f[3], f[4], MN, MX, f[5], f[6], f[9]
		}
		# /tmp/tcp: mode mbit_s retransmits cpu_us_per_mb queued_pkts drops
		printf "\n  ],\n  \"tcp\": ["
		for (i = 1; i <= nk["tcp"]; i++) {
			median("tcp", list["tcp", i], 2)
			printf "%s\n    { \"mode\": \"%s\", \"mbit_s\": %.1f, \"mbit_s_min\": %.1f, \"mbit_s_max\": %.1f, \"retransmits\": %d, \"cpu_us_per_mb\": %.1f, \"queued_pkts\": %d, \"queue_drops\": %d }", (i > 1 ? "," : ""), f[1], f[2], MN, MX, f[3], f[4], f[5], f[6]
		}
		printf "\n  ]\n}\n"
	}' /tmp/runs /tmp/pg /tmp/tcp /tmp/lat > /results/latest.json
cp /tmp/runs /results/runs.txt
cp /tmp/lat /results/latency.txt
cp /tmp/pg /results/pktgen.txt
cp /tmp/tcp /results/tcp.txt
echo
cat /results/latest.json
topo_down
trap - EXIT
