# Bad bind parameters and misuse of the device each give their documented
# errno; without CAP_NET_ADMIN the device does not open; the library's
# messages name the bad value and what is allowed.
source /tests/lib.sh
modprobe nfring
nfring-bindcheck

out=$(nfring-testpeer --ring 100 2>&1) && fail "ring 100 accepted"
echo "$out" | grep -q "ring_entries 100 (a power of two, 8..32768)" ||
	fail "message for ring 100: $out"
pass "library explains: $out"
out=$(nfring-testpeer --ring 32768 --copy 65535 2>&1) && fail "huge frames accepted"
echo "$out" | grep -q "exceeds 256 MiB" || fail "message for E2BIG: $out"
pass "library explains: $out"

# An unprivileged user cannot open the device at all (mode 0600) ...
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups nfringctl info 2>&1) &&
	fail "nobody opened /dev/nfring"
echo "$out" | grep -q "needs CAP_NET_ADMIN.*Permission denied" || fail "nobody: $out"
pass "unprivileged open refused: $out"
# ... and root without CAP_NET_ADMIN is refused by the module itself.
out=$(setpriv --bounding-set=-net_admin --inh-caps=-net_admin nfringctl info 2>&1) &&
	fail "root without CAP_NET_ADMIN opened /dev/nfring"
echo "$out" | grep -q "needs CAP_NET_ADMIN.*Operation not permitted" || fail "no cap: $out"
pass "open without CAP_NET_ADMIN refused: $out"
rmmod nfring
