// nfring-bindcheck: every way to misuse the device's setup ioctls and
// mmap gets its documented errno, and a correct bind still works after.
// Runs inside the test VM with nfring.ko loaded; exits 1 on any mismatch.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <sys/ioctl.h>
#include <csignal>
#include <sys/mman.h>
#include <linux/userfaultfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "nfring.h"

namespace
{

int failures = 0;

void expect_errno(const char *what, int rc, int want)
{
	const int got = rc < 0 ? errno : 0;
	if (got == want) {
		std::printf("ok: %s -> %s\n", what,
		            want ? std::strerror(want) : "success");
		return;
	}
	std::printf("FAIL: %s -> %s, expected %s\n", what,
	            got ? std::strerror(got) : "success",
	            want ? std::strerror(want) : "success");
	failures++;
}

int open_dev()
{
	const int fd = open(NFRING_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		std::perror("open " NFRING_DEVICE_PATH);
		std::exit(1);
	}
	return fd;
}

nfring_bind good_bind(std::uint16_t queue)
{
	nfring_bind b{};
	b.size = sizeof(b);
	b.queue_num = queue;
	b.ring_entries = 64;
	b.copy_range = 128;
	b.default_verdict = NFRING_DROP;
	return b;
}

int bind_with(const std::function<void(nfring_bind &)> &change)
{
	const int fd = open_dev();
	nfring_bind b = good_bind(40);
	change(b);
	const int rc = ioctl(fd, NFRING_IOC_BIND, &b);
	const int err = errno;
	close(fd);
	errno = err;
	return rc;
}

} // namespace

int main()
{
	struct bad_bind {
		const char *what;
		std::function<void(nfring_bind &)> change;
		int err;
	};
	const std::vector<bad_bind> cases = {
	        {"ring_entries not a power of two",
	         [](nfring_bind &b) { b.ring_entries = 100; }, EINVAL},
	        {"ring_entries below the minimum",
	         [](nfring_bind &b) { b.ring_entries = 4; }, EINVAL},
	        {"ring_entries above the maximum",
	         [](nfring_bind &b) { b.ring_entries = 65536; }, EINVAL},
	        {"copy_range above the maximum",
	         [](nfring_bind &b) { b.copy_range = 65536; }, EINVAL},
	        {"unknown bind flag", [](nfring_bind &b) { b.flags = 1u << 7; },
	         EINVAL},
	        {"non-zero resv0", [](nfring_bind &b) { b.resv0 = 1; }, EINVAL},
	        {"default verdict repeat",
	         [](nfring_bind &b) { b.default_verdict = NFRING_REPEAT; },
	         EINVAL},
	        {"size smaller than the struct",
	         [](nfring_bind &b) { b.size = 16; }, EINVAL},
	        {"frames larger than the limit",
	         [](nfring_bind &b) {
		         b.ring_entries = 32768;
		         b.copy_range = 65535;
	         },
	         E2BIG},
	        {"no packet bytes (copy_range 0)",
	         [](nfring_bind &b) { b.copy_range = 0; }, 0},
	        {"conntrack metadata without METADATA",
	         [](nfring_bind &b) { b.flags = NFRING_BIND_CONNTRACK; }, EINVAL},
	        {"uid/gid metadata without METADATA",
	         [](nfring_bind &b) { b.flags = NFRING_BIND_UID_GID; }, EINVAL},
	        {"METADATA with conntrack and uid/gid",
	         [](nfring_bind &b) {
		         b.flags = NFRING_BIND_METADATA | NFRING_BIND_CONNTRACK |
		                   NFRING_BIND_UID_GID;
	         },
	         0},
	};
	for (const auto &c : cases)
		expect_errno(c.what, bind_with(c.change), c.err);

	// A newer, larger struct: zeroes past ours are fine, anything else
	// is a feature this kernel does not have; absurd sizes are refused.
	{
		alignas(8) unsigned char big[8192] = {};
		nfring_bind b = good_bind(43);
		b.size = sizeof(b) + 64;
		std::memcpy(big, &b, sizeof(b));
		int fd = open_dev();
		expect_errno("larger struct with zero tail",
		             ioctl(fd, NFRING_IOC_BIND, big), 0);
		close(fd);
		// The kernel wrote its own size back: restore ours.
		std::memcpy(big, &b, sizeof(b));
		big[sizeof(b) + 8] = 1;
		fd = open_dev();
		expect_errno("larger struct with non-zero tail",
		             ioctl(fd, NFRING_IOC_BIND, big), E2BIG);
		close(fd);
		big[sizeof(b) + 8] = 0;
		b.size = 8192;
		std::memcpy(big, &b, sizeof(b));
		fd = open_dev();
		expect_errno("struct size above a page",
		             ioctl(fd, NFRING_IOC_BIND, big), E2BIG);
		close(fd);
	}

	// A program built against the first, 96-byte struct (and its ioctl
	// number) still binds, and nothing past its struct is written.  It
	// cannot ask for metadata: there is no room for meta_off.
	{
		alignas(8) unsigned char v1[sizeof(nfring_bind)];
		std::memset(v1, 0xa5, sizeof(v1));
		nfring_bind b = good_bind(44);
		b.size = NFRING_BIND_SIZE_V1;
		std::memcpy(v1, &b, NFRING_BIND_SIZE_V1);
		int fd = open_dev();
		expect_errno("first-version struct under NFRING_IOC_BIND_V1",
		             ioctl(fd, NFRING_IOC_BIND_V1, v1), 0);
		nfring_bind back;
		std::memcpy(&back, v1, sizeof(back));
		if (back.size != NFRING_BIND_SIZE_V1 || back.frame_size != 128 ||
		    v1[NFRING_BIND_SIZE_V1] != 0xa5) {
			std::printf("FAIL: first-version bind answered size %u "
			            "frame_size %u, byte past it %#x\n",
			            back.size, back.frame_size,
			            v1[NFRING_BIND_SIZE_V1]);
			failures++;
		}
		close(fd);
		// A struct that claims more than the command number encodes
		// gets no more than the number says written back.
		std::memset(v1, 0xa5, sizeof(v1));
		b.size = sizeof(nfring_bind);
		std::memcpy(v1, &b, NFRING_BIND_SIZE_V1);
		fd = open_dev();
		expect_errno("size 104 under NFRING_IOC_BIND_V1",
		             ioctl(fd, NFRING_IOC_BIND_V1, v1), 0);
		std::memcpy(&back, v1, sizeof(back));
		if (back.size != NFRING_BIND_SIZE_V1 ||
		    v1[NFRING_BIND_SIZE_V1] != 0xa5) {
			std::printf("FAIL: BIND_V1 with size 104 answered size %u, "
			            "byte past the 96 %#x\n",
			            back.size, v1[NFRING_BIND_SIZE_V1]);
			failures++;
		}
		close(fd);
		b.size = NFRING_BIND_SIZE_V1;
		b.flags = NFRING_BIND_METADATA;
		std::memcpy(v1, &b, NFRING_BIND_SIZE_V1);
		fd = open_dev();
		expect_errno("METADATA in a first-version struct",
		             ioctl(fd, NFRING_IOC_BIND_V1, v1), EINVAL);
		close(fd);
	}

	// meta_off: 0 without METADATA; with it, an array of one
	// nfring_rx_meta per frame inside the mappable kernel region.
	for (const bool with_meta : {false, true}) {
		nfring_bind b = good_bind(45);
		b.flags = with_meta ? NFRING_BIND_METADATA : 0;
		b.meta_off = 12345; // out only: overwritten
		int mfd = open_dev();
		const int rc = ioctl(mfd, NFRING_IOC_BIND, &b);
		expect_errno(with_meta ? "bind with METADATA" : "bind without METADATA",
		             rc, 0);
		const std::uint64_t end =
		        b.meta_off + std::uint64_t{b.ring_entries} * sizeof(nfring_rx_meta);
		if (rc == 0 && with_meta &&
		    (b.meta_off < b.rx_desc_off + b.ring_entries * sizeof(nfring_rx_desc) ||
		     b.meta_off % 8 || end > b.kernel_size)) {
			std::printf("FAIL: meta_off %llu (array end %llu) outside the "
			            "kernel region of %llu bytes\n",
			            (unsigned long long)b.meta_off,
			            (unsigned long long)end,
			            (unsigned long long)b.kernel_size);
			failures++;
		} else if (rc == 0 && !with_meta && b.meta_off != 0) {
			std::printf("FAIL: meta_off %llu without METADATA\n",
			            (unsigned long long)b.meta_off);
			failures++;
		} else if (rc == 0 && with_meta) {
			void *k = mmap(nullptr, b.kernel_size, PROT_READ, MAP_SHARED,
			               mfd, static_cast<off_t>(b.kernel_off));
			if (k == MAP_FAILED) {
				std::printf("FAIL: mmap of the kernel region: %s\n",
				            std::strerror(errno));
				failures++;
			} else {
				const auto *m = reinterpret_cast<const nfring_rx_meta *>(
				        static_cast<const char *>(k) + b.meta_off);
				// Nothing queued yet: the array is zeroed.
				if (m[b.ring_entries - 1].valid != 0) {
					std::printf("FAIL: metadata of an unused frame is not zero\n");
					failures++;
				}
				munmap(k, b.kernel_size);
			}
		}
		close(mfd);
	}

	// Before binding there are no rings to touch.
	int fd = open_dev();
	expect_errno("kick before bind", ioctl(fd, NFRING_IOC_KICK), ENXIO);
	nfring_stats st{};
	st.size = sizeof(st);
	expect_errno("stats before bind", ioctl(fd, NFRING_IOC_STATS, &st),
	             ENXIO);
	void *p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect_errno("mmap before bind", p == MAP_FAILED ? -1 : 0, ENXIO);

	nfring_bind b = good_bind(41);
	// The bypass mark (was resv1): accepted, and left as given.
	b.ct_bypass_mark = 0x40000000;
	expect_errno("bind queue 41", ioctl(fd, NFRING_IOC_BIND, &b), 0);
	if (b.ct_bypass_mark != 0x40000000) {
		std::printf("FAIL: ct_bypass_mark came back as 0x%x\n",
		            b.ct_bypass_mark);
		failures++;
	}
	nfring_bind again = good_bind(42);
	expect_errno("second bind on one file",
	             ioctl(fd, NFRING_IOC_BIND, &again), EALREADY);
	const int other = open_dev();
	nfring_bind same = good_bind(41);
	expect_errno("queue 41 from another file",
	             ioctl(other, NFRING_IOC_BIND, &same), EBUSY);
	close(other);

	p = mmap(nullptr, b.kernel_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	         static_cast<off_t>(b.kernel_off));
	expect_errno("kernel region mapped writable", p == MAP_FAILED ? -1 : 0,
	             EPERM);
	p = mmap(nullptr, b.user_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
	         static_cast<off_t>(b.user_off));
	expect_errno("private mapping", p == MAP_FAILED ? -1 : 0, EINVAL);
	p = mmap(nullptr, b.user_size + 4096, PROT_READ | PROT_WRITE,
	         MAP_SHARED, fd, static_cast<off_t>(b.user_off));
	expect_errno("mapping past the region", p == MAP_FAILED ? -1 : 0,
	             EINVAL);
	p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0x30000000);
	expect_errno("unknown region offset", p == MAP_FAILED ? -1 : 0, EINVAL);

	void *k = mmap(nullptr, b.kernel_size, PROT_READ, MAP_SHARED, fd,
	               static_cast<off_t>(b.kernel_off));
	expect_errno("kernel region read-only", k == MAP_FAILED ? -1 : 0, 0);
	if (k != MAP_FAILED) {
		expect_errno("kernel region cannot become writable",
		             mprotect(k, b.kernel_size, PROT_READ | PROT_WRITE),
		             EACCES);
		munmap(k, b.kernel_size);
	}
	expect_errno("stats after bind", ioctl(fd, NFRING_IOC_STATS, &st), 0);
	if (st.queue_num != 41) {
		std::printf("FAIL: stats name queue %u, expected 41\n",
		            st.queue_num);
		failures++;
	}
	// The ABI says the kernel fills at most .size bytes: an older,
	// smaller struct gets its prefix and the size filled.
	{
		struct {
			nfring_stats st;
			unsigned char guard[8];
		} small{};
		small.st.size = 16;
		std::memset(small.guard, 0xa5, sizeof(small.guard));
		expect_errno("stats with a 16-byte struct",
		             ioctl(fd, NFRING_IOC_STATS, &small.st), 0);
		if (small.st.size != 16 || small.st.queue_num != 41 ||
		    small.st.enqueued != 0) {
			std::printf("FAIL: 16-byte stats: size %u queue %u\n",
			            small.st.size, small.st.queue_num);
			failures++;
		}
		// A program built before normalize_failed was appended
		// uses the 128-byte struct's command number.
		small = {};
		small.st.size = 128;
		std::memset(small.guard, 0xa5, sizeof(small.guard));
		expect_errno("stats by the 128-byte struct's number",
		             ioctl(fd, NFRING_IOC_STATS_V1, &small.st), 0);
		if (small.st.size != 128 || small.st.queue_num != 41 ||
		    small.st.normalize_failed != 0) {
			std::printf("FAIL: 128-byte stats: size %u queue %u\n",
			            small.st.size, small.st.queue_num);
			failures++;
		}
		// ...and one built before the bypass counters, with the
		// 136-byte struct's number: any size the number encodes.
		std::memset(&small, 0xa5, sizeof(small));
		small.st.size = 136;
		expect_errno("stats by the 136-byte struct's number",
		             ioctl(fd,
		                   _IOC(_IOC_READ | _IOC_WRITE, NFRING_IOC_MAGIC,
		                        0x03, 136),
		                   &small.st),
		             0);
		if (small.st.size != 136 || small.st.queue_num != 41 ||
		    small.st.bypass_flows != 0xa5a5a5a5a5a5a5a5ULL) {
			std::printf("FAIL: 136-byte stats: size %u queue %u, "
			            "bytes past .size touched: %s\n",
			            small.st.size, small.st.queue_num,
			            small.st.bypass_flows != 0xa5a5a5a5a5a5a5a5ULL
			                    ? "yes"
			                    : "no");
			failures++;
		}
		// The direction is part of the number: read-only is not STATS.
		expect_errno("stats with a read-only command number",
		             ioctl(fd,
		                   _IOC(_IOC_READ, NFRING_IOC_MAGIC, 0x03,
		                        sizeof(nfring_stats)),
		                   &small.st),
		             ENOTTY);
		nfring_info info{};
		info.size = 8;
		info.features = ~0ULL;
		expect_errno("info with an 8-byte struct",
		             ioctl(fd, NFRING_IOC_INFO, &info), 0);
		if (info.size != 8 || info.abi_version != NFRING_ABI_VERSION ||
		    info.features != ~0ULL) {
			std::printf("FAIL: 8-byte info: size %u abi %u, bytes "
			            "past .size touched: %s\n",
			            info.size, info.abi_version,
			            info.features != ~0ULL ? "yes" : "no");
			failures++;
		}
		info.size = 2;
		expect_errno("info with a size too small for .size",
		             ioctl(fd, NFRING_IOC_INFO, &info), EINVAL);
	}

	// Mappings are not inherited across fork: a child must not be able
	// to write into the rings of the worker that forked it.
	{
		void *u = mmap(nullptr, b.user_size, PROT_READ | PROT_WRITE,
		               MAP_SHARED, fd, static_cast<off_t>(b.user_off));
		expect_errno("user region mapped", u == MAP_FAILED ? -1 : 0, 0);
		if (u != MAP_FAILED) {
			const pid_t child = fork();
			if (child == 0) {
				// Dies with SIGSEGV if the mapping is gone.
				static_cast<volatile std::uint32_t *>(u)[0] = 1;
				_exit(0);
			}
			int status = 0;
			waitpid(child, &status, 0);
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
				std::printf("ok: forked child has no mapping of the "
				            "rings (SIGSEGV)\n");
			} else {
				std::printf("FAIL: forked child wrote into the "
				            "rings (status 0x%x)\n",
				            status);
				failures++;
			}
			munmap(u, b.user_size);
		}
	}
	// userfaultfd must not take the rings for anonymous memory: 6.1
	// registers such a vma and then WARNs on UFFDIO_ZEROPAGE/COPY.
	{
		void *u = mmap(nullptr, b.user_size, PROT_READ | PROT_WRITE,
		               MAP_SHARED, fd, static_cast<off_t>(b.user_off));
		const int uffd = static_cast<int>(
		        syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
		if (uffd < 0 && errno == ENOSYS) {
			std::printf("skip: no userfaultfd in this kernel\n");
		} else if (uffd < 0 || u == MAP_FAILED) {
			std::printf("FAIL: userfaultfd or mmap: %s\n",
			            std::strerror(errno));
			failures++;
		} else {
			uffdio_api api{};
			api.api = UFFD_API;
			expect_errno("userfaultfd API", ioctl(uffd, UFFDIO_API, &api),
			             0);
			uffdio_register reg{};
			reg.range.start = reinterpret_cast<std::uintptr_t>(u);
			reg.range.len = b.user_size;
			reg.mode = UFFDIO_REGISTER_MODE_MISSING;
			const int rc = ioctl(uffd, UFFDIO_REGISTER, &reg);
			expect_errno("userfaultfd on the user region", rc, EINVAL);
			if (rc == 0) {
				// What a hostile worker would do next.
				madvise(u, 4096, MADV_DONTNEED);
				uffdio_zeropage zp{};
				zp.range.start = reg.range.start;
				zp.range.len = 4096;
				ioctl(uffd, UFFDIO_ZEROPAGE, &zp);
			}
			close(uffd);
		}
		if (u != MAP_FAILED)
			munmap(u, b.user_size);
	}
	expect_errno("kick after bind", ioctl(fd, NFRING_IOC_KICK), 0);
	expect_errno("unknown ioctl", ioctl(fd, _IO(NFRING_IOC_MAGIC, 0x7f)),
	             ENOTTY);
	close(fd);

	// Released: the number is free again.
	fd = open_dev();
	b = good_bind(41);
	expect_errno("queue 41 again after release",
	             ioctl(fd, NFRING_IOC_BIND, &b), 0);
	close(fd);

	std::printf("bindcheck: %d failures\n", failures);
	return failures ? 1 : 0;
}
