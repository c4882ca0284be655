# Who a queue belongs to: its ring memory is charged to the binder's
# memory cgroup, and /proc/net/nfring shows the binder's PID as the
# reader's PID namespace numbers it.
source /tests/lib.sh
modprobe nfring
mkdir -p /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null || true
[ -f /sys/fs/cgroup/cgroup.controllers ] || fail "no cgroup2"
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/worker

# 32768 frames of 2048 bytes: 64 MiB of frames, plus the rings.
before=$(cat /sys/fs/cgroup/worker/memory.current)
rm -f /tmp/peer.ready
bash -c 'echo $$ > /sys/fs/cgroup/worker/cgroup.procs;
	exec nfring-testpeer --ready /tmp/peer.ready --queue 5 --ring 32768 --copy 2048 --hold' &
pid=$!
for i in $(seq 200); do [ -e /tmp/peer.ready ] && break; sleep 0.05; done
[ -e /tmp/peer.ready ] || fail "peer did not bind"
during=$(cat /sys/fs/cgroup/worker/memory.current)
charged=$(( (during - before) / 1048576 ))
echo "memory.current: before $before, bound $during (+$charged MiB)"
[ "$charged" -ge 64 ] || fail "ring memory not charged to the cgroup: +$charged MiB, expected >= 64"
pass "64 MiB of frames charged to the worker's cgroup (+$charged MiB)"
expect_eq "global PID in /proc/net/nfring" "$(awk '$1 == 5 { print $2 }' /proc/net/nfring)" "$pid"
kill $pid; wait $pid || true
after=$(cat /sys/fs/cgroup/worker/memory.current)
echo "memory.current after release: $after"
[ $(( (after - before) / 1048576 )) -lt 8 ] || fail "charge not released: $after"

# In a PID namespace the binder is PID 1 or close to it.
cat > /tmp/pidns.sh <<'INNER'
nfring-testpeer --ready /tmp/peer2.ready --queue 6 --hold &
p=$!
for i in $(seq 100); do [ -e /tmp/peer2.ready ] && break; sleep 0.05; done
echo "inner pid $p shown $(awk '$1 == 6 { print $2 }' /proc/net/nfring)"
kill $p; wait $p
INNER
out=$(unshare -pf --mount-proc bash /tmp/pidns.sh 2>&1)
echo "    $out"
inner=$(echo "$out" | awk '/^inner pid/ { print $3 }')
shown=$(echo "$out" | awk '/^inner pid/ { print $5 }')
[ -n "$inner" ] || fail "the PID namespace run printed nothing"
expect_eq "PID shown inside the PID namespace" "$shown" "$inner"

rmmod nfring
pass "queue ownership"
