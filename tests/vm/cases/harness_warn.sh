# Harness self-test: load a module that WARNs.  The case itself succeeds;
# the harness (run with --expect-kernel-complaint) must still spot the
# warning in the kernel log, proving that real tests fail on one.
source /tests/lib.sh
modprobe nfring_test_warn
pass "loaded the warning module"
