# nfring-worker under traffic: SIGHUP reloads the rules atomically (a bad
# file keeps the old ones), SIGTERM stops after answering everything in
# flight, and two queues with fanout are served by two threads.  No packet
# is lost or left without a verdict.
source /tests/lib.sh
trap 'worker_stop KILL; topo_down' EXIT
modprobe nfring
topo_up
box_rules "udp dport 9000 queue num 0"

# --- SIGHUP under traffic -------------------------------------------------
printf 'drop udp dport 9000\naccept\n' > /tmp/hup.rules
worker_start --rules /tmp/hup.rules --queue 0
recv_start 400 15000
ip netns exec client nfring-udp send 10.0.2.2 9000 400 "reload" --interval-us 5000 >/dev/null &
spid=$!
sleep 0.5
printf 'drop udp dport\n' > /tmp/hup.rules      # broken: must be refused
kill -HUP "$WORKER_PID"
sleep 0.3
grep -q "SIGHUP: /tmp/hup.rules:1: .*keeping the old rules" /tmp/worker.log ||
	fail "bad rules file was not refused: $(cat /tmp/worker.log)"
pass "bad rules file refused, old rules kept"
printf 'accept\n' > /tmp/hup.rules
kill -HUP "$WORKER_PID"
wait "$spid"
recv_wait
settle 0 in_flight 0
enq=$(qstat 0 enqueued) acc=$(qstat 0 accepted) drp=$(qstat 0 dropped)
expect_eq "every queued packet got a verdict (enqueued = accepted + dropped)" "$enq" "$((acc + drp))"
expect_eq "enqueued = sent" "$enq" 400
expect_eq "arrived = accepted" "$GOT" "$acc"
[ "$drp" -gt 0 ] && [ "$acc" -gt 0 ] || fail "reload did not switch rules mid-stream (accepted $acc dropped $drp)"
pass "reload mid-stream: $drp dropped by the old rules, $acc accepted by the new"
worker_stop TERM
expect_eq "exit status" "$WORKER_RC" 0

# --- SIGTERM under traffic ------------------------------------------------
printf 'accept\n' > /tmp/all.rules
worker_start --rules /tmp/all.rules --queue 0
recv_start 400 15000
ip netns exec client nfring-udp send 10.0.2.2 9000 400 "stop" --interval-us 3000 >/dev/null &
spid=$!
sleep 0.6
worker_stop TERM
wait "$spid"
recv_wait
expect_eq "exit status after SIGTERM under traffic" "$WORKER_RC" 0
seen=$(worker_stat packets)
[ "$seen" -gt 0 ] && [ "$seen" -lt 400 ] || fail "worker saw $seen packets; expected it to stop mid-stream"
expect_eq "every packet the worker took arrived (none stuck or defaulted)" "$GOT" "$seen"
pass "SIGTERM mid-stream: $seen answered and delivered, the rest found no worker"

# --- two queues, fanout ---------------------------------------------------
box_rules "udp dport 9000 queue num 0-1 fanout"
worker_start --rules /tmp/all.rules --queues 0-1
recv_start 200 15000
ip netns exec client taskset -c 0 nfring-udp send 10.0.2.2 9000 100 "cpu0" --interval-us 2000 >/dev/null &
p0=$!
ip netns exec client taskset -c 1 nfring-udp send 10.0.2.2 9000 100 "cpu1" --interval-us 2000 >/dev/null &
p1=$!
wait $p0 $p1
recv_wait
expect_eq "fanout: arrived" "$GOT" 200
q0=$(qstat 0 accepted) q1=$(qstat 1 accepted)
expect_eq "fanout: accepted over both queues" "$((q0 + q1))" 200
[ "$q0" -gt 0 ] && [ "$q1" -gt 0 ] || fail "fanout used one queue only ($q0 / $q1)"
pass "fanout: queue 0 took $q0, queue 1 took $q1"
worker_stop TERM
expect_eq "exit status" "$WORKER_RC" 0
grep -E "queue [01]: packets" /tmp/worker.log | sed 's/^/    /'

topo_down
trap - EXIT
rmmod nfring
pass "worker signals and fanout"
