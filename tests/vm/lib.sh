# Helpers shared by the VM test cases (sourced by bash inside the VM).
set -euo pipefail
# Say which command failed when set -e ends a case.
set -E
trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND exited $?" >&2' ERR

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "PASS: $*"
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', expected '$3'"
	fi
	echo "ok: $1 = $2"
}

# proc_field FILE KEY: value of the "KEY value" line in FILE.
proc_field() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# Three namespaces joined by veth pairs, the filtering box in the middle:
#   client (10.0.1.2) -- box (10.0.1.1 | 10.0.2.1) -- server (10.0.2.2)
# Packets from client to server cross the box's FORWARD hook.
topo_up() {
	local ns
	for ns in client box server; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add c0 netns client type veth peer name b0 netns box
	ip link add s0 netns server type veth peer name b1 netns box
	ip -n client addr add 10.0.1.2/24 dev c0
	ip -n box addr add 10.0.1.1/24 dev b0
	ip -n box addr add 10.0.2.1/24 dev b1
	ip -n server addr add 10.0.2.2/24 dev s0
	for dev in client:c0 box:b0 box:b1 server:s0; do
		ip -n "${dev%%:*}" link set "${dev#*:}" up
	done
	ip -n client route add default via 10.0.1.1
	ip -n server route add default via 10.0.2.1
	ip netns exec box sysctl -qw net.ipv4.ip_forward=1
}

topo_down() {
	local ns
	for ns in client box server; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# ping_ok COUNT: does client reach server through the box?
ping_ok() {
	ip netns exec client ping -c "$1" -W 1 -i 0.2 -q 10.0.2.2 >/dev/null 2>&1
}

# qstat QUEUE COLUMN: one counter of QUEUE from /proc/net/nfring in the
# box's namespace ("none" when the queue is not bound).
qstat() {
	ip netns exec box awk -v q="$1" -v col="$2" '
		$1 == "queue" && $2 == "pid" { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		("queue" in idx) && $1 == q { print $idx[col]; found = 1 }
		END { if (!found) print "none" }' /proc/net/nfring
}

# box_rules NFT...: replace the box's ruleset with a forward chain holding
# the given rules, plus a later chain that counts marked packets.
box_rules() {
	ip netns exec box nft flush ruleset
	ip netns exec box nft -f - <<NFT
table inet nfring_test {
	counter marked { }
	chain forward {
		type filter hook forward priority 0; policy accept;
		$*
	}
	chain after {
		type filter hook forward priority 10; policy accept;
		meta mark 7 counter name marked
	}
}
NFT
}

# marked_count: packets with mark 7 seen after the queue chain.
marked_count() {
	ip netns exec box nft list counter inet nfring_test marked |
		awk '$1 == "packets" { print $2 }'
}

PEER_PID=
# peer_start ARGS...: run nfring-testpeer in the box, wait until it is bound.
peer_start() {
	rm -f /tmp/peer.ready
	ip netns exec box nfring-testpeer --ready /tmp/peer.ready "$@" \
		> /tmp/peer.out 2>&1 &
	PEER_PID=$!
	local i
	for i in $(seq 100); do
		[ -e /tmp/peer.ready ] && return 0
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat /tmp/peer.out >&2
	fail "nfring-testpeer did not bind ($*)"
}

# peer_stop [SIGNAL]: stop the peer (TERM by default) and show its summary.
peer_stop() {
	[ -n "$PEER_PID" ] || return 0
	kill -"${1:-TERM}" "$PEER_PID" 2>/dev/null || true
	wait "$PEER_PID" 2>/dev/null || true
	PEER_PID=
	sed 's/^/    /' /tmp/peer.out
}

RECV_PID=
# recv_start COUNT TIMEOUT_MS [PAYLOAD]: UDP receiver on server:9000.
recv_start() {
	rm -f /tmp/recv.out
	ip netns exec server nfring-udp recv 9000 "$@" > /tmp/recv.out &
	RECV_PID=$!
	local i
	for i in $(seq 100); do
		grep -q listening /tmp/recv.out 2>/dev/null && return 0
		sleep 0.05
	done
	fail "UDP receiver did not start"
}

# recv_wait: wait for the receiver; sets GOT, BAD (mismatched payloads)
# and REORDERED.
recv_wait() {
	wait "$RECV_PID" || true
	RECV_PID=
	GOT=$(awk '$1 == "received" { print $2 }' /tmp/recv.out)
	BAD=$(awk '$1 == "received" { print $4 }' /tmp/recv.out)
	REORDERED=$(awk '$1 == "received" { print $6 }' /tmp/recv.out)
	[ -n "$GOT" ] || fail "UDP receiver printed no result: $(cat /tmp/recv.out)"
}

# send_udp COUNT [PAYLOAD] [--interval-us N]: client -> server:9000.
send_udp() {
	local n=$1
	shift
	ip netns exec client nfring-udp send 10.0.2.2 9000 "$n" "$@" >/dev/null
}

# settle QUEUE COLUMN VALUE: wait up to 5 s for a counter to reach VALUE.
settle() {
	local i
	for i in $(seq 100); do
		[ "$(qstat "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
	done
	return 0
}

WORKER_PID=
# worker_start ARGS...: nfring-worker in the box, waits until it serves.
worker_start() {
	: > /tmp/worker.log
	ip netns exec box nfring-worker "$@" 2>/tmp/worker.log &
	WORKER_PID=$!
	local i
	for i in $(seq 200); do
		grep -q "serving" /tmp/worker.log && return 0
		kill -0 "$WORKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat /tmp/worker.log >&2
	fail "nfring-worker did not start ($*)"
}

# worker_stop [SIGNAL]: stop the worker; sets WORKER_RC.
worker_stop() {
	[ -n "$WORKER_PID" ] || return 0
	kill -"${1:-TERM}" "$WORKER_PID" 2>/dev/null || true
	WORKER_RC=0
	wait "$WORKER_PID" 2>/dev/null || WORKER_RC=$?  # no "Killed" job notice
	WORKER_PID=
}

# worker_stat NAME: a counter from the worker's exit summary.
worker_stat() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' /tmp/worker.log
}

TCP_PIDS=
# tcp_serve PORT...: TCP servers in the server namespace.
tcp_serve() {
	local p
	for p in "$@"; do
		ip netns exec server nfring-tcp serve "$p" > "/tmp/tcp.$p" &
		TCP_PIDS+=" $!"
	done
	for p in "$@"; do
		for i in $(seq 100); do
			grep -q listening "/tmp/tcp.$p" 2>/dev/null && break
			sleep 0.05
		done
	done
}

tcp_serve_stop() {
	local p
	for p in $TCP_PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	TCP_PIDS=
}

# client_tcp KIND PORT ARG: one request from the client; "yes" if answered.
client_tcp() {
	if ip netns exec client nfring-tcp "$1" 10.0.2.2 "$2" "$3" --timeout-ms 1500 >/dev/null; then
		echo yes
	else
		echo no
	fi
}

# kernel_reports: how many lines of the kernel log look like a report (the
# same patterns run-vm.sh fails a case on, so a case can print the count).
kernel_reports() {
	dmesg | grep -cEf /tests/kernel-reports.ere || true
}

# mem_settle: give freed memory back before a reading: page cache and
# dentries dropped, RCU-deferred frees given time to run, and every slab
# cache's empty and per-CPU slabs released (/sys/kernel/slab/*/shrink).
mem_settle() {
	local f
	sync
	echo 3 > /proc/sys/vm/drop_caches
	sleep 2
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 > "$f" 2>/dev/null || true
	done
	echo 3 > /proc/sys/vm/drop_caches
	sleep 1
}

# mem_read FILE: save /proc/slabinfo as FILE and print
# "slab_kb sunreclaim_kb vmalloc_kb slab_objects_kb": /proc/meminfo's Slab,
# SUnreclaim and VmallocUsed, and the bytes of the objects in use in every
# slab cache (active_objs * objsize, which page retention cannot inflate).
mem_read() {
	cp /proc/slabinfo "$1"
	awk '$1 == "Slab:" { s = $2 } $1 == "SUnreclaim:" { u = $2 }
		$1 == "VmallocUsed:" { v = $2 } END { printf "%d %d %d ", s, u, v }' /proc/meminfo
	awk 'NR > 2 { b += $2 * $4 } END { printf "%d\n", b / 1024 }' "$1"
}

# mem_report BEFORE AFTER SLABINFO_BEFORE SLABINFO_AFTER: print the readings
# of mem_read and their growth, and the slab caches that grew most.  Sets
# MEM_DSLAB MEM_DSUNRECL MEM_DVMALLOC MEM_DOBJ (KiB).
mem_report() {
	local b=($1) a=($2)
	MEM_DSLAB=$((a[0] - b[0])) MEM_DSUNRECL=$((a[1] - b[1]))
	MEM_DVMALLOC=$((a[2] - b[2])) MEM_DOBJ=$((a[3] - b[3]))
	printf '  %-22s %10s %10s %10s\n' "KiB" before after delta
	printf '  %-22s %10d %10d %+10d\n' Slab "${b[0]}" "${a[0]}" "$MEM_DSLAB" \
		SUnreclaim "${b[1]}" "${a[1]}" "$MEM_DSUNRECL" \
		VmallocUsed "${b[2]}" "${a[2]}" "$MEM_DVMALLOC" \
		"slab objects in use" "${b[3]}" "${a[3]}" "$MEM_DOBJ"
	echo "  slab caches that grew most (KiB of objects in use):"
	awk 'FNR > 2 { kb = $2 * $4 / 1024 }
		FNR > 2 && FNR == NR { before[$1] = kb; next }
		FNR > 2 { d = kb - before[$1]; if (d > 0) printf "    %-28s %9.1f\n", $1, d }' \
		"$3" "$4" | sort -k2 -rn | head -n 5
}

# Background load for the stress and soak cases.  Each loop runs until
# the file STOP exists.
# udp_flood_loop STOP BURST_SECONDS SIZE...: nfring-blast bursts of each
# size from the client to server:9000 (log: /tmp/blast.log).
udp_flood_loop() {
	local stop=$1 secs=$2 size
	shift 2
	while [ ! -e "$stop" ]; do
		for size in "$@"; do
			ip netns exec client nfring-blast send 10.0.2.2 9000 "$size" "$secs" \
				>> /tmp/blast.log 2>&1 || true
		done
	done
}

# iperf3_loop STOP RUN_SECONDS: iperf3 runs client -> server:5201, each
# bounded (connections break when links flap or the worker dies; log:
# /tmp/iperf.log, one line per run in /tmp/iperf.runs).
iperf3_loop() {
	local stop=$1 secs=$2 srv
	while [ ! -e "$stop" ]; do
		ip netns exec server timeout $((secs + 20)) iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
		srv=$!
		sleep 0.5
		ip netns exec client timeout $((secs + 15)) iperf3 -c 10.0.2.2 -p 5201 -t "$secs" \
			--connect-timeout 3000 -f m >> /tmp/iperf.log 2>&1 || true
		echo "iperf3 run" >> /tmp/iperf.runs
		kill "$srv" 2>/dev/null || true
		wait "$srv" 2>/dev/null || true
	done
}

# sink_rules: the server counts and drops UDP to port 9000 before any
# socket (no ICMP back); sink_count reads the counter.
sink_rules() {
	ip netns exec server nft flush ruleset
	ip netns exec server nft -f - <<'NFT'
table inet sink {
	counter delivered { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		udp dport 9000 counter name delivered drop
	}
}
NFT
}

sink_count() {
	ip netns exec server nft list counter inet sink delivered |
		awk '$1 == "packets" { print $2 }'
}
