# nfring: the one entry point.  `make help` lists the targets.
#
# The module builds with kbuild against the Debian 6.1 headers chosen by
# scripts/kver.sh; userspace builds with CMake into $(BUILD).

BUILD   ?= build
KVER    ?= $(shell scripts/kver.sh 2>/dev/null)
JOBS    ?= $(shell nproc)
VM_IMAGE := $(BUILD)/vm/initramfs.cpio.gz
# Module BTF needs the kernel's vmlinux, which the headers package lacks.
KBUILD_ARGS := KVER=$(KVER) CONFIG_DEBUG_INFO_BTF_MODULES=

.PHONY: all help deps module test-modules userspace vm-image vm-suites check demo \
	debug-kernel check-debug stress soak \
	bench trace-rtt vm-shell load unload deb clean captures-score captures-replay

all: module userspace

help:
	@echo "make            build nfring.ko and the userspace programs"
	@echo "make check      install deps, build, run unit and VM tests (the test command)"
	@echo "                on Debian 12's 6.1, Debian 13's 6.12 and unstable's newest kernel"
	@echo "make vm-suites  build nfring.ko and the VM image for Debian 13 and unstable"
	@echo "                (KERNEL_SUITES=\"trixie sid\"; chroots cached per machine)"
	@echo "make demo       boot the test VM and show nfring working (see README)"
	@echo "make check-debug  the VM suite, stress and soak on a debug kernel"
	@echo "                (KASAN, lockdep, kmemleak...; built once, cached)"
	@echo "make debug-kernel   build that kernel only"
	@echo "make captures-score  DPI recall on real captures (docs/captures.md;"
	@echo "                downloads nDPI's test captures from Debian's archive once)"
	@echo "make captures-replay  the same captures replayed by tcpreplay through the"
	@echo "                worker in the VM: recall, and CPU per packet of the DPI"
	@echo "make bench      microbenchmarks, then nfring vs NFQUEUE in the VM"
	@echo "                (nfringctl status shows live counters; see README)"
	@echo "make trace-rtt  ftrace breakdown of one idle round trip, no queue vs nfring"
	@echo "make stress     hostile peer under a flood, STRESS_SECONDS=180 (VM)"
	@echo "make soak       10 minutes at saturation, SOAK_SECONDS=600 (VM)"
	@echo "make vm-shell   interactive shell in the test VM (nfring.ko inside)"
	@echo "make load       load nfring.ko on this host (needs module support)"
	@echo "make unload     unload it again"
	@echo "make deb        Debian packages nfring-dkms and nfring into build/deb/"
	@echo "                (see docs/packaging.md)"
	@echo "make deps       install the Debian packages (as root)"
	@echo "make clean      remove build output"

deps:
	scripts/deps.sh

captures-score: userspace
	scripts/captures-score.sh $(BUILD)

captures-replay: vm-image
	scripts/captures-replay.sh $(BUILD)

check-kver:
	@test -n "$(KVER)" || { scripts/kver.sh; exit 1; }

module: check-kver
	$(MAKE) -C kernel $(KBUILD_ARGS)

# Test-only modules (the harness's self-test); never loaded outside the VM.
test-modules: check-kver
	$(MAKE) -C /lib/modules/$(KVER)/build M=$(CURDIR)/tests/vm/modules \
		CONFIG_DEBUG_INFO_BTF_MODULES= modules

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD)

userspace: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

vm-image: module test-modules userspace
	tests/vm/mkinitramfs.sh $(VM_IMAGE) $(KVER) $(BUILD)/bin \
		kernel/nfring.ko tests/vm/modules/nfring_test_warn.ko

# The newer Debian kernels the VM suite also runs on: each suite's module
# is built in a debootstrap chroot of that suite (cached per machine) and
# its own Debian image boots (scripts/suite-kernel.sh, scripts/suite-vm.sh).
KERNEL_SUITES ?= trixie sid

vm-suites: userspace
	@for s in $(KERNEL_SUITES); do scripts/suite-vm.sh $$s || exit 1; done

check:
	scripts/check.sh

demo:
	scripts/demo.sh

# The debug kernel is cached per machine (see scripts/debug-kernel.sh).
debug-kernel:
	scripts/deps.sh --debug-kernel
	scripts/debug-kernel.sh

check-debug: debug-kernel all test-modules vm-image
	scripts/check-debug.sh

# Microbenchmarks, then nfring vs NFQUEUE in one VM boot (bench/results/).
bench: all
	scripts/bench.sh

trace-rtt: all
	scripts/trace-rtt.sh

# The long runs of the stress and soak cases (make check runs the stress
# case for 20 s and not the soak).  The durations reach the guest on the
# kernel command line; the VM's time limit grows with them.
STRESS_SECONDS ?= 180
SOAK_SECONDS   ?= 600

stress: vm-image
	NFRING_VM_APPEND=" STRESS_SECONDS=$(STRESS_SECONDS)" \
	NFRING_VM_TIMEOUT=$$(( $(STRESS_SECONDS) + 420 )) \
		tests/vm/run-vm.sh $(VM_IMAGE) stress

soak: vm-image
	NFRING_VM_APPEND=" SOAK_SECONDS=$(SOAK_SECONDS)" \
	NFRING_VM_TIMEOUT=$$(( $(SOAK_SECONDS) + 600 )) \
		tests/vm/run-vm.sh $(VM_IMAGE) soak

vm-shell: vm-image
	tests/vm/run-vm.sh --shell $(VM_IMAGE)

load: module userspace
	$(BUILD)/bin/nfringctl load --module kernel/nfring.ko

unload: userspace
	$(BUILD)/bin/nfringctl unload

# Debian packages of this tree (a copy of it is built in build/deb/src).
deb:
	scripts/deb.sh

clean:
	-$(MAKE) -C kernel clean $(KBUILD_ARGS)
	-$(MAKE) -C /lib/modules/$(KVER)/build M=$(CURDIR)/tests/vm/modules clean
	rm -rf $(BUILD)
