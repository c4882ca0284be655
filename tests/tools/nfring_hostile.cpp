// nfring-hostile: a hostile peer for the stress test (tests/vm/cases/
// stress.sh).  It binds a queue through the raw ABI -- the library would
// not let it misbehave -- and for --seconds attacks everything a process
// that holds the device can reach, while packets flow:
//
//  - an answerer thread reads the real RX descriptors and answers some
//    packets correctly and others with replayed or stale ids, random
//    verdict values, unknown flags, marks without their flag, and MANGLE
//    with odd lengths over frames whose IP header it has rewritten;
//  - scribbler threads write random and stale values into every field of
//    the USER region (indices far ahead and behind, flags, wake hints,
//    pads), into verdict slots (with ids sniffed from the RX ring) and
//    into frames, and kick at random;
//  - a mapper thread maps, unmaps and remaps the regions with wrong
//    offsets, sizes, protections and flags, and tries to write the
//    read-only KERNEL region by other means;
//  - a prober thread binds twice, binds the same queue from another file,
//    binds with bad structs, binds side queues and drops them with their
//    mappings still live, and issues every ioctl, write and poll;
//  - a forked child (replaced every few seconds) re-maps the regions
//    through its inherited file and scribbles on them too.
//
// The phases alternate between chaos and short calm spells in which only
// correct verdicts are written, so that the kernel's real paths keep
// running.  With --die the process ends with SIGKILL (or abort()) while
// packets are in flight; the stress test then checks that a normal worker
// can bind and that every packet arrives.  Whatever the kernel refuses is
// expected; what it accepts that it should refuse is counted as
// "unexpected", printed, and makes the exit status 1.
//
// Every store into shared memory goes through std::atomic_ref: the
// threads race each other on purpose, and the kernel reads the same
// bytes, so plain stores would be data races in C++ terms too.  The child
// only calls async-signal-safe functions and never allocates, as a child
// of a multi-threaded process must.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <mutex>
#include <new>
#include <poll.h>
#include <random>
#include <string>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "nfring.h"

namespace
{

constexpr auto relaxed = std::memory_order_relaxed;

// ---- output ---------------------------------------------------------------

// One line, one write(2): safe from every thread and from the child (no
// stdio lock that a thread may have held at fork time).
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = std::vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	n = std::clamp(n, 0, static_cast<int>(sizeof(line)) - 2);
	line[n] = '\n';
	[[maybe_unused]] ssize_t w = ::write(STDOUT_FILENO, line, n + 1);
}

double now_s()
{
	timespec ts{};
	::clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

void sleep_us(long us)
{
	timespec ts{us / 1000000, (us % 1000000) * 1000};
	::nanosleep(&ts, nullptr);
}

// ---- options --------------------------------------------------------------

enum class die_mode { none, kill, abort };

struct options {
	std::uint16_t queue = 0;
	std::uint32_t ring = 256;
	std::uint32_t copy = 2048;
	double seconds = 10;
	unsigned scribblers = 2;
	std::uint64_t seed = 0;
	bool seed_given = false;
	die_mode die = die_mode::none;
	bool fail_open = false;
	std::uint32_t default_verdict = NFRING_DROP;
	bool child = true;
	std::string ready_file;
	double progress = 30;
};

[[noreturn]] void usage(int rc)
{
	std::fprintf(
	        rc ? stderr : stdout,
	        "usage: nfring-hostile [options]\n"
	        "  --queue N          queue number (default 0)\n"
	        "  --ring N           ring entries (default 256)\n"
	        "  --copy N           copy range (default 2048)\n"
	        "  --seconds S        how long to attack (default 10)\n"
	        "  --scribblers N     scribbler threads (default 2)\n"
	        "  --seed N           PRNG seed (default: from the clock; "
	        "printed)\n"
	        "  --die[=abort]      end with SIGKILL (or abort()) while "
	        "packets are\n"
	        "                     in flight, instead of exiting\n"
	        "  --fail-open        bind with NFRING_BIND_FAIL_OPEN\n"
	        "  --default V        accept|drop for packets left in flight "
	        "(drop)\n"
	        "  --no-child         do not fork a scribbling child\n"
	        "  --ready FILE       create FILE once bound\n"
	        "  --progress S       print counters every S seconds "
	        "(default 30)\n"
	        "Prints 'hostile: writes N verdicts N kicks N mmaps N seconds "
	        "S ...';\n"
	        "exits 1 if the kernel accepted anything it must refuse.\n");
	std::exit(rc);
}

double arg_number(std::string_view opt, const char *v, double max)
{
	char *end = nullptr;
	errno = 0;
	const double n = std::strtod(v, &end);
	if (errno || *end || n < 0 || n > max) {
		std::fprintf(stderr,
		             "nfring-hostile: %.*s '%s': expected 0..%g\n",
		             static_cast<int>(opt.size()), opt.data(), v, max);
		std::exit(2);
	}
	return n;
}

options parse(int argc, char **argv)
{
	options o;
	for (int i = 1; i < argc; i++) {
		const std::string_view a = argv[i];
		auto val = [&]() -> const char * {
			if (i + 1 >= argc) {
				std::fprintf(
				        stderr,
				        "nfring-hostile: %s needs a value\n",
				        argv[i]);
				std::exit(2);
			}
			return argv[++i];
		};
		if (a == "-h" || a == "--help")
			usage(0);
		else if (a == "--queue")
			o.queue = static_cast<std::uint16_t>(
			        arg_number(a, val(), 65535));
		else if (a == "--ring")
			o.ring = static_cast<std::uint32_t>(
			        arg_number(a, val(), NFRING_MAX_RING_ENTRIES));
		else if (a == "--copy")
			o.copy = static_cast<std::uint32_t>(
			        arg_number(a, val(), NFRING_MAX_COPY_RANGE));
		else if (a == "--seconds")
			o.seconds = arg_number(a, val(), 1e6);
		else if (a == "--scribblers")
			o.scribblers =
			        static_cast<unsigned>(arg_number(a, val(), 64));
		else if (a == "--seed") {
			o.seed = std::strtoull(val(), nullptr, 0);
			o.seed_given = true;
		} else if (a == "--die")
			o.die = die_mode::kill;
		else if (a == "--die=abort")
			o.die = die_mode::abort;
		else if (a == "--die=kill")
			o.die = die_mode::kill;
		else if (a == "--fail-open")
			o.fail_open = true;
		else if (a == "--default") {
			const std::string_view v = val();
			if (v != "accept" && v != "drop")
				usage(2);
			o.default_verdict =
			        v == "accept" ? NFRING_ACCEPT : NFRING_DROP;
		} else if (a == "--no-child")
			o.child = false;
		else if (a == "--ready")
			o.ready_file = val();
		else if (a == "--progress")
			o.progress = arg_number(a, val(), 1e6);
		else {
			std::fprintf(stderr,
			             "nfring-hostile: unknown option '%s'; see "
			             "--help\n",
			             argv[i]);
			std::exit(2);
		}
	}
	return o;
}

// ---- randomness -----------------------------------------------------------

// One per thread (and per child), seeded from --seed and the thread's
// index, so a run's choices can be replayed as far as timing allows.
class prng
{
public:
	explicit prng(std::uint64_t seed) : g_(seed) {}

	std::uint64_t u64() { return g_(); }
	std::uint32_t u32() { return static_cast<std::uint32_t>(g_()); }
	// Uniform in [0, n); n > 0.
	std::uint32_t below(std::uint32_t n) { return u32() % n; }
	// True with probability pct/100.
	bool chance(unsigned pct) { return below(100) < pct; }
	template <class T> T pick(std::initializer_list<T> l)
	{
		return l.begin()[below(static_cast<std::uint32_t>(l.size()))];
	}

private:
	std::mt19937_64 g_;
};

std::uint64_t thread_seed(std::uint64_t seed, std::uint64_t k)
{
	return seed ^ (k * 0x9e3779b97f4a7c15ULL);
}

// ---- state shared with the child ------------------------------------------

// What the threads are doing; set by the main thread.
enum phase : int {
	chaos,  // everything at once
	calm,   // correct verdicts only, no scribbling: packets flow
	hold,   // no verdicts at all: packets pile up in flight
	finish, // every thread returns
};

// Lives in a MAP_SHARED anonymous page, so that the forked child sees the
// phase and adds its counts.  Lock-free atomics work across processes.
struct shared_state {
	std::atomic<int> phase{chaos};
	pid_t parent = 0;
	std::atomic<std::uint64_t> writes{0}, verdicts{0}, honest{0}, stale{0},
	        bad{0}, mangles{0}, kicks{0}, mmaps{0}, binds{0}, ioctls{0},
	        unexpected{0}, children{0}, child_map_failures{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

// A thread's own counts, added to shared_state now and then.
struct tally {
	std::uint64_t writes = 0, verdicts = 0, honest = 0, stale = 0, bad = 0,
	              mangles = 0, kicks = 0, mmaps = 0, binds = 0, ioctls = 0;

	void flush(shared_state &s)
	{
		s.writes += writes;
		s.verdicts += verdicts;
		s.honest += honest;
		s.stale += stale;
		s.bad += bad;
		s.mangles += mangles;
		s.kicks += kicks;
		s.mmaps += mmaps;
		s.binds += binds;
		s.ioctls += ioctls;
		*this = tally{};
	}
};

shared_state *shared;

int current_phase()
{
	return shared->phase.load(relaxed);
}

// The kernel let something through that it must refuse.  The first few
// are described; all are counted.
void unexpected(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void unexpected(const char *fmt, ...)
{
	if (shared->unexpected.fetch_add(1) >= 20)
		return;
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	say("hostile: UNEXPECTED: %s", what);
}

// rc/errno of a call that must fail (with want, or any errno if want is 0).
void expect_fail(const char *what, long rc, int want)
{
	const int err = errno;
	if (rc >= 0)
		unexpected("%s succeeded", what);
	else if (want && err != want)
		unexpected("%s failed with %s, expected %s", what,
		           std::strerror(err), std::strerror(want));
}

// ---- the shared regions -----------------------------------------------------

template <class T> T load(const T &v, std::memory_order o = relaxed)
{
	return std::atomic_ref<T>(const_cast<T &>(v)).load(o);
}

template <class T>
void store(T &v, std::type_identity_t<T> x, std::memory_order o = relaxed)
{
	std::atomic_ref<T>(v).store(x, o);
}

long page_size()
{
	static const long ps = ::sysconf(_SC_PAGESIZE);
	return ps;
}

// One bound file and its three mappings (any may be missing: a child
// whose mmap failed still kicks).
struct rings {
	nfring_bind b{};
	int fd = -1;
	const std::byte *kernel = nullptr;
	std::byte *user = nullptr;
	std::byte *frames = nullptr;

	std::uint32_t entries() const { return b.ring_entries; }
	std::uint32_t mask() const { return b.ring_entries - 1; }
	const nfring_kernel_page *kpage() const
	{
		return reinterpret_cast<const nfring_kernel_page *>(kernel);
	}
	nfring_user_page *upage() const
	{
		return reinterpret_cast<nfring_user_page *>(user);
	}
	const nfring_rx_desc *rx(std::uint32_t i) const
	{
		return reinterpret_cast<const nfring_rx_desc *>(kernel +
		                                                b.rx_desc_off) +
		       (i & mask());
	}
	nfring_verdict *vr(std::uint32_t i) const
	{
		return reinterpret_cast<nfring_verdict *>(user +
		                                          b.vr_desc_off) +
		       (i & mask());
	}
	// A frame as bytes; the index is masked, so a torn descriptor cannot
	// send us outside the mapping.
	std::uint8_t *frame(std::uint32_t f) const
	{
		return frames ? reinterpret_cast<std::uint8_t *>(frames) +
		                        static_cast<std::size_t>(f & mask()) *
		                                b.frame_size
		              : nullptr;
	}
};

// mmap one region of r; nullptr (errno set) on failure.
void *map_region(const rings &r, std::uint64_t off, std::size_t len, int prot)
{
	if (!len) {
		errno = EINVAL;
		return nullptr;
	}
	void *p = ::mmap(nullptr, len, prot, MAP_SHARED, r.fd,
	                 static_cast<off_t>(off));
	return p == MAP_FAILED ? nullptr : p;
}

// Maps all three regions at their full sizes.  Returns how many failed.
int map_all(rings &r)
{
	int failed = 0;
	r.kernel = static_cast<const std::byte *>(
	        map_region(r, r.b.kernel_off, r.b.kernel_size, PROT_READ));
	r.user = static_cast<std::byte *>(map_region(
	        r, r.b.user_off, r.b.user_size, PROT_READ | PROT_WRITE));
	r.frames = static_cast<std::byte *>(map_region(
	        r, r.b.frames_off, r.b.frames_size, PROT_READ | PROT_WRITE));
	failed += !r.kernel + !r.user + (r.b.frames_size && !r.frames);
	return failed;
}

void unmap_all(rings &r)
{
	if (r.kernel)
		::munmap(const_cast<std::byte *>(r.kernel), r.b.kernel_size);
	if (r.user)
		::munmap(r.user, r.b.user_size);
	if (r.frames)
		::munmap(r.frames, r.b.frames_size);
	r.kernel = nullptr;
	r.user = r.frames = nullptr;
}

nfring_rx_desc read_desc(const nfring_rx_desc *s)
{
	nfring_rx_desc d{};
	d.id = load(s->id);
	d.frame = load(s->frame);
	d.pkt_len = load(s->pkt_len);
	d.cap_len = load(s->cap_len);
	d.pf = load(s->pf);
	d.flags = load(s->flags);
	return d;
}

void write_verdict(nfring_verdict *slot, const nfring_verdict &v)
{
	store(slot->id, v.id);
	store(slot->verdict, v.verdict);
	store(slot->flags, v.flags);
	store(slot->mark, v.mark);
	store(slot->new_len, v.new_len);
}

void poke_bytes(std::uint8_t *dst, prng &rng, std::size_t n)
{
	for (std::size_t i = 0; i < n; i++)
		store(dst[i], static_cast<std::uint8_t>(rng.u32()));
}

// A kick by ioctl or by write(2), both documented.
void kick(int fd, prng &rng, tally &t)
{
	if (rng.chance(50)) {
		::ioctl(fd, NFRING_IOC_KICK);
	} else {
		static const char byte = 'k';
		[[maybe_unused]] ssize_t w = ::write(fd, &byte, 1);
	}
	t.kicks++;
}

nfring_stats read_stats(int fd)
{
	nfring_stats st{};
	st.size = sizeof(st);
	if (::ioctl(fd, NFRING_IOC_STATS, &st) < 0)
		st = nfring_stats{};
	return st;
}

// ---- scribbling (threads and child) ---------------------------------------

// One hostile store (or kick) into r.  frames_only: touch frames and kick,
// nothing that could answer a packet (the hold phase).
void scribble_once(const rings &r, prng &rng, tally &t, bool frames_only)
{
	const std::uint32_t n = r.entries();
	if (!r.user || !r.kernel) {
		if (r.fd >= 0)
			kick(r.fd, rng, t);
		return;
	}
	auto *up = r.upage();
	const auto *kp = r.kpage();
	const std::uint32_t rxp = load(kp->rx_producer);
	const std::uint32_t vrc = load(kp->vr_consumer);
	const unsigned op =
	        frames_only ? rng.pick({7u, 7u, 7u, 8u}) : rng.below(10);
	switch (op) {
	case 0: // the RX consumer: ahead, behind, a ring away, garbage
		store(up->rx_consumer,
		      rng.pick<std::uint32_t>({rng.u32(), rxp, rxp + 1, rxp - n,
		                               rxp - n - 1, rxp + n, 0u, ~0u}),
		      std::memory_order_release);
		break;
	case 1: // the verdict producer: over stale slots, or far off
		store(up->vr_producer,
		      rng.pick<std::uint32_t>({vrc + rng.below(n + 1), vrc - 1,
		                               vrc + n + 1, vrc + 0x80000000u,
		                               rng.u32(), vrc, vrc - n}),
		      std::memory_order_release);
		break;
	case 2:
		store(up->flags,
		      rng.pick<std::uint32_t>(
		              {0u, NFRING_UF_NEED_WAKEUP, rng.u32(), ~0u}));
		break;
	case 3:
		store(up->wake_batch,
		      rng.pick<std::uint32_t>(
		              {0u, 1u, 2u, n / 2, n, n * 4, ~0u, rng.u32()}));
		store(up->wake_usecs,
		      rng.pick<std::uint32_t>(
		              {0u, 1u, 1000u, NFRING_MAX_WAKE_USECS,
		               NFRING_MAX_WAKE_USECS + 1, ~0u, rng.u32()}));
		t.writes++;
		break;
	case 4: // reserved words and pads: must be ignored
		store(up->resv0, rng.u32());
		poke_bytes(up->pad0 + rng.below(sizeof(up->pad0)), rng, 1);
		poke_bytes(up->pad1 + rng.below(sizeof(up->pad1)), rng, 1);
		t.writes += 2;
		break;
	case 5: { // a verdict slot: garbage, or a live id with garbage
		nfring_verdict v{};
		v.id = rng.chance(50) ? load(r.rx(rng.u32())->id) : rng.u64();
		v.verdict = rng.pick<std::uint32_t>(
		        {0u, 1u, 2u, 3u, 4u, 5u, rng.u32()});
		v.flags = rng.pick<std::uint32_t>(
		        {0u, 1u, 2u, 3u, 4u, rng.u32()});
		v.mark = rng.chance(50) ? 0 : rng.u32();
		v.new_len = rng.pick<std::uint32_t>(
		        {0u, 1u, 20u, r.b.frame_size, r.b.frame_size + 1,
		         rng.u32()});
		write_verdict(r.vr(rng.u32()), v);
		break;
	}
	case 6: { // a plausible verdict for a sniffed id, then publish it
		nfring_verdict v{};
		v.id = load(r.rx(rxp - 1 - rng.below(n))->id);
		v.verdict =
		        rng.pick<std::uint32_t>({NFRING_ACCEPT, NFRING_DROP});
		if (rng.chance(30)) {
			v.flags = NFRING_VF_SET_MARK;
			v.mark = rng.u32();
		}
		write_verdict(r.vr(vrc), v);
		store(up->vr_producer, vrc + 1, std::memory_order_release);
		t.verdicts++;
		t.stale++;
		break;
	}
	case 7: { // frame bytes, mostly the IP header of a queued packet
		std::uint8_t *f =
		        r.frame(rng.chance(70) ? load(r.rx(rng.u32())->frame)
		                               : rng.u32());
		if (!f || !r.b.frame_size)
			break;
		const std::uint32_t off =
		        rng.chance(70)
		                ? rng.below(std::min(60u, r.b.frame_size))
		                : rng.below(r.b.frame_size);
		const std::uint32_t len =
		        std::min(1 + rng.below(16), r.b.frame_size - off);
		poke_bytes(f + off, rng, len);
		break;
	}
	case 8:
		kick(r.fd, rng, t);
		return;
	default: { // NEED_WAKEUP dance and a poll that returns at once
		store(up->flags, NFRING_UF_NEED_WAKEUP);
		std::atomic_thread_fence(std::memory_order_seq_cst);
		pollfd p{r.fd, POLLIN, 0};
		::poll(&p, 1, 0);
		t.ioctls++;
		break;
	}
	}
	t.writes++;
}

void scribbler_thread(const rings &r, std::uint64_t seed)
{
	prng rng(seed);
	tally t;
	for (int ph; (ph = current_phase()) != finish;) {
		if (ph != chaos) {
			t.flush(*shared);
			sleep_us(1000);
			continue;
		}
		const unsigned burst = 1 + rng.below(32);
		for (unsigned i = 0; i < burst; i++)
			scribble_once(r, rng, t, false);
		t.flush(*shared);
		sleep_us(rng.below(400));
	}
	t.flush(*shared);
}

// ---- the answerer ---------------------------------------------------------

class answerer
{
public:
	answerer(const rings &r, std::uint64_t seed)
	    : r_(r), rng_(seed), live_(r.entries()), answered_(r.entries()),
	      history_(1024)
	{
		cons_ = load(r.kpage()->rx_producer, std::memory_order_acquire);
		vprod_ =
		        load(r.kpage()->vr_consumer, std::memory_order_acquire);
	}

	void run();

private:
	bool reserve();
	void put(const nfring_verdict &v);
	bool emit(const nfring_verdict &v);
	void publish();
	void answer(const nfring_rx_desc &d, bool honest_only);
	void mangle(const nfring_rx_desc &d, nfring_verdict &v);
	void sweep(bool all);
	void guess_lost();

	const rings &r_;
	prng rng_;
	tally t_;
	std::uint32_t cons_ = 0;          // our RX consumer index
	std::uint32_t vprod_ = 0;         // our verdict producer index
	std::vector<std::uint64_t> live_; // last id seen per frame
	std::vector<bool> answered_;      // ...answered correctly
	std::vector<std::uint64_t> history_;
	std::size_t hist_pos_ = 0;
};

// Room for one verdict?  Follows the kernel when it skipped to (or back
// to) an index a scribbler wrote, as a recovering worker would.
bool answerer::reserve()
{
	const std::uint32_t kcons = load(r_.kpage()->vr_consumer,
	                                 std::memory_order_acquire); // (H)
	if (vprod_ - kcons > r_.entries())
		vprod_ = kcons;
	return vprod_ - kcons < r_.entries();
}

void answerer::put(const nfring_verdict &v)
{
	write_verdict(r_.vr(vprod_), v);
	vprod_++;
	t_.verdicts++;
}

bool answerer::emit(const nfring_verdict &v)
{
	if (!reserve())
		return false;
	put(v);
	return true;
}

void answerer::publish()
{
	auto *up = r_.upage();
	store(up->vr_producer, vprod_, std::memory_order_release); // (E)
	std::atomic_thread_fence(std::memory_order_seq_cst);       // (K2)
	if ((load(r_.kpage()->flags) & NFRING_KF_NEED_KICK) || rng_.chance(10))
		kick(r_.fd, rng_, t_);
}

// A MANGLE verdict for d: rewrite parts of its frame (mostly the IPv4
// header: ihl, total length, options, version, fragment fields, protocol,
// checksum) and pick a length among the odd ones.
void answerer::mangle(const nfring_rx_desc &d, nfring_verdict &v)
{
	const std::uint32_t fs = r_.b.frame_size;
	std::uint8_t *f = r_.frame(d.frame);
	const std::uint32_t cap = std::min(d.cap_len, fs);
	v.flags |= NFRING_VF_MANGLE;
	t_.mangles++;
	if (!f || !fs) {
		v.new_len = rng_.pick<std::uint32_t>({0u, 1u, 20u, 0xffffu});
		return;
	}
	const std::uint32_t ihl_bytes = (load(f[0]) & 0xf) * 4u;
	const unsigned edits = rng_.below(4);
	for (unsigned e = 0; e < edits; e++) {
		switch (rng_.below(10)) {
		case 0:
			store(f[0],
			      static_cast<std::uint8_t>((load(f[0]) & 0xf0) |
			                                rng_.below(16)));
			break;
		case 1: {
			const std::uint32_t tot = rng_.pick<std::uint32_t>(
			        {0u, 1u, 19u, 20u, cap - 1, cap + 1, cap + 100,
			         0xffffu, rng_.u32()});
			store(f[2], static_cast<std::uint8_t>(tot >> 8));
			store(f[3], static_cast<std::uint8_t>(tot));
			break;
		}
		case 2: // options: ihl 15 and option bytes that may lie
			if (fs >= 60) {
				store(f[0], std::uint8_t{0x4f});
				for (unsigned i = 20; i < 60; i++)
					store(f[i],
					      rng_.chance(30)
					              ? rng_.pick<std::uint8_t>(
					                        {0, 1, 7, 0x44,
					                         0x83, 0x89,
					                         0x94, 130})
					              : static_cast<
					                        std::uint8_t>(
					                        rng_.u32()));
			}
			break;
		case 3:
			store(f[0],
			      static_cast<std::uint8_t>((rng_.below(16) << 4) |
			                                (load(f[0]) & 0xf)));
			break;
		case 4: // fragment offset and flags
			if (fs >= 8)
				poke_bytes(f + 6, rng_, 2);
			break;
		case 5:
			if (fs >= 10)
				store(f[9], rng_.pick<std::uint8_t>(
				                    {1, 6, 17, 47, 58, 132,
				                     static_cast<std::uint8_t>(
				                             rng_.u32())}));
			break;
		case 6:
			poke_bytes(f, rng_, std::min(64u, fs));
			break;
		case 7:
			if (fs >= 12)
				poke_bytes(f + 10, rng_, 2);
			break;
		case 8: // the L4 header
			if (ihl_bytes < fs)
				poke_bytes(f + ihl_bytes, rng_,
				           std::min(20u, fs - ihl_bytes));
			break;
		default: // garbage past the packet, for a longer new_len
			if (cap < fs)
				poke_bytes(f + cap, rng_,
				           std::min(64u, fs - cap));
			break;
		}
		t_.writes++;
	}
	v.new_len = rng_.pick<std::uint32_t>(
	        {0u, 1 + rng_.below(60), cap, cap, ihl_bytes, fs, fs + 1,
	         0xffffu, 0x10000u, ~0u, rng_.u32(),
	         cap + rng_.below(fs - std::min(cap, fs) + 1), 20u, 21u, 28u});
}

// Answers one packet: correctly, or in one of the ways a broken or
// malicious worker would.  The honest choices keep traffic moving.
void answerer::answer(const nfring_rx_desc &d, bool honest_only)
{
	const std::uint32_t frame = d.frame & r_.mask();
	nfring_verdict v{};
	v.id = d.id;
	v.verdict = NFRING_ACCEPT;
	const unsigned roll = honest_only ? rng_.below(55) : rng_.below(100);
	bool honest = true;
	if (roll < 35) {
		// accept, and now and then take the flow out of the queue
		if (r_.b.ct_bypass_mark && rng_.chance(25))
			v.flags = NFRING_VF_BYPASS;
	} else if (roll < 43) {
		v.verdict = NFRING_DROP;
	} else if (roll < 52) {
		v.flags = NFRING_VF_SET_MARK;
		v.mark = rng_.u32();
	} else if (roll < 55) {
		// Mangle with the packet as it is: must work (unless a
		// scribbler got to the frame first).
		if (d.cap_len == d.pkt_len && !(d.flags & NFRING_RX_GSO)) {
			v.flags = NFRING_VF_MANGLE;
			v.new_len = d.cap_len;
		}
	} else if (roll < 56) {
		v.verdict = NFRING_REPEAT; // queued again by the same rule
	} else if (roll < 74) {
		mangle(d, v);
		if (rng_.chance(30)) {
			v.flags |= NFRING_VF_SET_MARK;
			v.mark = rng_.u32();
		}
		honest = false;
	} else if (roll < 82) {
		// A replayed id, with MANGLE and MARK and odd lengths.
		const std::uint64_t old = history_[rng_.below(
		        static_cast<std::uint32_t>(history_.size()))];
		v.id = rng_.pick<std::uint64_t>(
		        {old, old - (1ULL << 32), old + (1ULL << 32),
		         d.id - (1ULL << 32), d.id + (1ULL << 32)});
		v.flags = rng_.pick<std::uint32_t>({0u, NFRING_VF_SET_MARK,
		                                    NFRING_VF_MANGLE,
		                                    NFRING_VF_ALL});
		v.mark = v.flags & NFRING_VF_SET_MARK ? rng_.u32() : 0;
		v.new_len = v.flags & NFRING_VF_MANGLE
		                    ? rng_.pick<std::uint32_t>(
		                              {1u, 40u, r_.b.frame_size,
		                               r_.b.frame_size + 1, ~0u})
		                    : 0;
		t_.stale++;
		emit(v);
		v.id = d.id; // and the real answer, sometimes, after it
		if (rng_.chance(50))
			return;
	} else if (roll < 87) {
		v.verdict = rng_.pick<std::uint32_t>(
		        {2u, 3u, 5u, 6u, 0xffffu, 0x80000001u, 0x8001u,
		         (5u << 16) | 3u, rng_.u32()});
		honest = false;
	} else if (roll < 91) {
		if (rng_.chance(30)) {
			// Bypass with a verdict that is not accept: a dropped
			// packet must never open its flow.
			v.flags = NFRING_VF_BYPASS;
			v.verdict = rng_.pick({NFRING_DROP, NFRING_REPEAT});
		} else {
			v.flags = rng_.pick<std::uint32_t>(
			        {1u << 3, 1u << 31, ~0u,
			         rng_.u32() & ~NFRING_VF_ALL});
			if (!(v.flags & ~NFRING_VF_ALL))
				v.flags = 1u << 3;
		}
		honest = false;
	} else if (roll < 95) {
		// Fields that mean nothing without their flag.
		if (rng_.chance(50))
			v.mark = 1 + rng_.below(0xffff);
		else
			v.new_len = 1 + rng_.below(2000);
		honest = false;
	} else if (roll < 98) {
		v.id = rng_.pick<std::uint64_t>(
		        {d.id & 0xffffffffULL,
		         (d.id & ~0xffffffffULL) | r_.entries(),
		         d.id | 0xffffffffULL, rng_.u64(), 0ULL});
		honest = false;
	} else {
		emit(v); // the same id twice in one batch
		t_.stale++;
	}
	if (!emit(v))
		return;
	if (honest && v.id == d.id) {
		answered_[frame] = true;
		t_.honest++;
	} else if (!honest) {
		t_.bad++;
	}
}

// Answers every packet we saw whose answer may have been lost (a bad
// verdict, or a good one a scribbler hid from the kernel), so that no
// frame stays pinned by our own games.  Duplicates are counted invalid.
void answerer::sweep(bool all)
{
	for (std::uint32_t f = 0; f < r_.entries(); f++) {
		if (!live_[f] || (answered_[f] && !all))
			continue;
		nfring_verdict v{};
		v.id = live_[f];
		v.verdict = NFRING_ACCEPT;
		if (!emit(v))
			break;
		answered_[f] = true;
		t_.stale++;
	}
	publish();
}

// Packets whose descriptors we never read: the kernel overwrote them when
// it trusted a scribbled consumer index (a lap).  Their frames stay pinned
// until a verdict names them, even after a flush (a link flap) dropped the
// packet, and enough of them leave no frame for new packets.  Their ids
// are guessable: the frame's next generations after the last one we saw.
// Wrong guesses are counted invalid and skipped, as any stale id is.
void answerer::guess_lost()
{
	constexpr std::uint64_t guesses = 8;
	for (std::uint32_t f = 0; f < r_.entries(); f++) {
		const std::uint64_t gen = live_[f] >> 32;
		for (std::uint64_t k = 1; k <= guesses; k++) {
			if (((gen + k) & 0xffffffffu) == 0)
				continue; // generation 0 is never valid
			nfring_verdict v{};
			v.id = ((gen + k) & 0xffffffffu) << 32 | f;
			v.verdict = NFRING_ACCEPT;
			// The ring may be full: let the kernel take some.
			for (int tries = 0; !emit(v) && tries < 1000; tries++) {
				publish();
				kick(r_.fd, rng_, t_);
				sleep_us(1000);
			}
			t_.stale++;
		}
	}
	publish();
}

void answerer::run()
{
	auto *up = r_.upage();
	double next_sweep = now_s() + 0.1, next_full = now_s() + 1;
	bool hold_swept = false;
	for (int ph; (ph = current_phase()) != finish;) {
		// Entering the hold: answer everything outstanding once.  A
		// flush just before (a link flap, a chain deleted) leaves its
		// packets' frames orphaned until their verdicts come; with
		// none coming, a flushed full ring had no frame left, every new
		// packet found it full, and none piled up to die with (CI saw
		// 0 in flight on 6.12, and again on 6.1 with frames of packets
		// we never read: guess_lost).
		if (ph == hold && !hold_swept) {
			sweep(true);
			guess_lost();
			hold_swept = true;
		}
		const std::uint32_t prod =
		        load(r_.kpage()->rx_producer,
		             std::memory_order_acquire); // (B)
		// Lapped (the kernel trusted a scribbled consumer): the ring
		// holds the newest entries only.
		if (prod - cons_ > r_.entries())
			cons_ = prod - r_.entries();
		const std::uint32_t n = std::min(prod - cons_, 64u);
		if (!n) {
			// Holding: put back a consumer index a scribbler may
			// have left as garbage, or the ring looks full to the
			// kernel and nothing new ever arrives to be held.
			if (ph == hold)
				store(up->rx_consumer, cons_,
				      std::memory_order_release); // (C)
			const double now = now_s();
			if (ph != hold && now >= next_sweep) {
				sweep(now >= next_full);
				if (now >= next_full)
					next_full = now + 1;
				next_sweep = now + 0.1;
			}
			store(up->flags, NFRING_UF_NEED_WAKEUP);
			std::atomic_thread_fence(
			        std::memory_order_seq_cst); // (W1)
			if (load(r_.kpage()->rx_producer) == cons_) {
				pollfd p{r_.fd, POLLIN, 0};
				::poll(&p, 1, 2);
			}
			store(up->flags, 0u);
			t_.flush(*shared);
			continue;
		}
		nfring_rx_desc batch[64];
		for (std::uint32_t i = 0; i < n; i++)
			batch[i] = read_desc(r_.rx(cons_ + i));
		cons_ += n;
		store(up->rx_consumer, cons_, std::memory_order_release); // (C)
		for (std::uint32_t i = 0; i < n; i++) {
			const std::uint32_t f = batch[i].frame & r_.mask();
			live_[f] = batch[i].id;
			answered_[f] = false;
			history_[hist_pos_++ % history_.size()] = batch[i].id;
		}
		if (ph == hold)
			continue; // never answer: packets stay in flight
		for (std::uint32_t i = 0; i < n; i++)
			answer(batch[i], ph != chaos);
		publish();
		t_.flush(*shared);
	}
	t_.flush(*shared);
}

// ---- the mapper -----------------------------------------------------------

// Maps of its own (never the ones the other threads use, which a bad
// remap would pull from under them): wrong offsets, sizes, protections,
// MAP_PRIVATE, mremap, partial munmap, madvise, and writes to the
// read-only region by /proc/self/mem and process_vm_writev.
class mapper
{
public:
	mapper(const rings &r, std::uint64_t seed) : r_(r), rng_(seed) {}
	~mapper();
	void run();

private:
	struct extra {
		std::byte *addr;
		std::size_t len;
		bool writable;
		bool touchable; // pages still there (no madvise yet)
	};
	struct region {
		std::uint64_t off;
		std::size_t size;
		bool writable;
		const char *name;
	};
	region pick_region();
	void step();
	void drop(std::size_t i);

	const rings &r_;
	prng rng_;
	tally t_;
	std::vector<extra> maps_;
	int mem_fd_ = -1;
};

mapper::~mapper()
{
	while (!maps_.empty())
		drop(maps_.size() - 1);
	if (mem_fd_ >= 0)
		::close(mem_fd_);
}

mapper::region mapper::pick_region()
{
	const nfring_bind &b = r_.b;
	switch (rng_.below(r_.b.frames_size ? 3 : 2)) {
	case 0:
		return {b.kernel_off, b.kernel_size, false, "KERNEL"};
	case 1:
		return {b.user_off, b.user_size, true, "USER"};
	default:
		return {b.frames_off, b.frames_size, true, "FRAMES"};
	}
}

void mapper::drop(std::size_t i)
{
	::munmap(maps_[i].addr, maps_[i].len);
	maps_.erase(maps_.begin() + static_cast<std::ptrdiff_t>(i));
}

void mapper::step()
{
	const std::size_t ps = static_cast<std::size_t>(page_size());
	const region g = pick_region();
	const int rw = PROT_READ | PROT_WRITE;
	char what[160];
	t_.mmaps++;
	switch (rng_.below(14)) {
	case 0: { // a correct map of part or all of a region
		const std::size_t pages = g.size / ps;
		const std::size_t len =
		        (1 + rng_.below(static_cast<std::uint32_t>(pages))) *
		        ps;
		void *p =
		        map_region(r_, g.off, len, g.writable ? rw : PROT_READ);
		if (!p) {
			std::snprintf(what, sizeof(what),
			              "mmap of %zu bytes of %s (%s)", len,
			              g.name, std::strerror(errno));
			unexpected("%s", what);
			break;
		}
		maps_.push_back(
		        {static_cast<std::byte *>(p), len, g.writable, true});
		break;
	}
	case 1: // PROT_WRITE on the read-only region
		if (void *p = map_region(r_, r_.b.kernel_off, r_.b.kernel_size,
		                         rw)) {
			unexpected("KERNEL region mapped with PROT_WRITE");
			::munmap(p, r_.b.kernel_size);
		}
		break;
	case 2: { // ...or made writable afterwards
		void *p = map_region(r_, r_.b.kernel_off, r_.b.kernel_size,
		                     PROT_READ);
		if (!p)
			break;
		expect_fail("mprotect(PROT_WRITE) of the KERNEL region",
		            ::mprotect(p, r_.b.kernel_size, rw), 0);
		::munmap(p, r_.b.kernel_size);
		break;
	}
	case 3: { // MAP_PRIVATE: the kernel would not see our indices
		void *p = ::mmap(nullptr, g.size, g.writable ? rw : PROT_READ,
		                 MAP_PRIVATE, r_.fd, static_cast<off_t>(g.off));
		if (p != MAP_FAILED) {
			unexpected("MAP_PRIVATE mapping of %s", g.name);
			::munmap(p, g.size);
		}
		break;
	}
	case 4: { // longer than the region
		const std::size_t len = rng_.pick<std::size_t>(
		        {g.size + ps, g.size * 2, std::size_t{1} << 30});
		if (void *p = map_region(r_, g.off, len, PROT_READ)) {
			unexpected("mmap of %zu bytes of %s (size %zu)", len,
			           g.name, g.size);
			::munmap(p, len);
		}
		break;
	}
	case 5: { // at an offset that names no region
		std::uint64_t off = rng_.pick<std::uint64_t>(
		        {g.off + ps, g.off + g.size, 0x30000000ULL,
		         (rng_.u64() & 0xffffffffffULL) & ~(ps - 1)});
		if (off == r_.b.kernel_off || off == r_.b.user_off ||
		    off == r_.b.frames_off)
			off += ps;
		if (void *p = map_region(r_, off, ps, PROT_READ)) {
			unexpected("mmap at offset 0x%llx",
			           static_cast<unsigned long long>(off));
			::munmap(p, ps);
		}
		break;
	}
	case 6:
		if (!maps_.empty())
			drop(rng_.below(
			        static_cast<std::uint32_t>(maps_.size())));
		break;
	case 7: { // cut a page off either end
		if (maps_.empty())
			break;
		extra &m = maps_[rng_.below(
		        static_cast<std::uint32_t>(maps_.size()))];
		if (m.len < 2 * ps)
			break;
		if (rng_.chance(50)) {
			::munmap(m.addr, ps);
			m.addr += ps;
		} else {
			::munmap(m.addr + m.len - ps, ps);
		}
		m.len -= ps;
		break;
	}
	case 8: { // mremap: growing must fail, shrinking may work
		if (maps_.empty())
			break;
		extra &m = maps_[rng_.below(
		        static_cast<std::uint32_t>(maps_.size()))];
		void *p = ::mremap(m.addr, m.len, m.len + ps, MREMAP_MAYMOVE);
		if (p != MAP_FAILED) {
			unexpected("mremap grew a mapping past its region");
			m.addr = static_cast<std::byte *>(p);
			m.len += ps;
		}
		if (m.len >= 2 * ps) {
			p = ::mremap(m.addr, m.len, m.len - ps, 0);
			if (p != MAP_FAILED)
				m.len -= ps;
		}
		break;
	}
	case 9: { // mremap: move it elsewhere
		if (maps_.empty())
			break;
		extra &m = maps_[rng_.below(
		        static_cast<std::uint32_t>(maps_.size()))];
		void *to = ::mmap(nullptr, m.len, PROT_NONE,
		                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (to == MAP_FAILED)
			break;
		void *p = ::mremap(m.addr, m.len, m.len,
		                   MREMAP_MAYMOVE | MREMAP_FIXED, to);
		// On failure `to` may already be unmapped (MREMAP_FIXED clears
		// the target first) and reused by another thread: leave it.
		if (p != MAP_FAILED)
			m.addr = static_cast<std::byte *>(p);
		break;
	}
	case 10: { // advice; the pages may be gone after it: never touch
		if (maps_.empty())
			break;
		extra &m = maps_[rng_.below(
		        static_cast<std::uint32_t>(maps_.size()))];
		::madvise(m.addr, m.len,
		          rng_.pick({MADV_DONTNEED, MADV_WILLNEED, MADV_COLD,
		                     MADV_PAGEOUT, MADV_DONTFORK, MADV_DOFORK,
		                     MADV_REMOVE, MADV_FREE, MADV_WIPEONFORK,
		                     MADV_KEEPONFORK, MADV_SEQUENTIAL}));
		if (rng_.chance(50) && ::mlock(m.addr, m.len) == 0)
			::munlock(m.addr, m.len);
		m.touchable = false;
		break;
	}
	case 11: { // write the read-only region without a writable mapping
		if (mem_fd_ < 0)
			mem_fd_ = ::open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		const std::uint32_t junk = rng_.u32();
		const auto at = reinterpret_cast<std::uintptr_t>(r_.kernel) +
		                rng_.below(static_cast<std::uint32_t>(
		                        r_.b.kernel_size / 4)) *
		                        4;
		if (mem_fd_ >= 0)
			expect_fail("write to the KERNEL region via "
			            "/proc/self/mem",
			            ::pwrite(mem_fd_, &junk, sizeof(junk),
			                     static_cast<off_t>(at)),
			            0);
		iovec local{const_cast<std::uint32_t *>(&junk), sizeof(junk)};
		iovec remote{reinterpret_cast<void *>(at), sizeof(junk)};
		expect_fail("process_vm_writev to the KERNEL region",
		            ::process_vm_writev(::getpid(), &local, 1, &remote,
		                                1, 0),
		            0);
		break;
	}
	case 12: { // MAP_FIXED over one of ours, maybe at a wrong offset
		if (maps_.empty())
			break;
		const std::size_t i =
		        rng_.below(static_cast<std::uint32_t>(maps_.size()));
		const extra m = maps_[i];
		maps_.erase(maps_.begin() + static_cast<std::ptrdiff_t>(i));
		// Never longer than the old mapping: MAP_FIXED would replace
		// whatever lies after it (our rings, a thread's stack).
		const std::uint64_t off = rng_.chance(50) ? g.off : g.off + ps;
		void *p =
		        ::mmap(m.addr, m.len, PROT_READ, MAP_SHARED | MAP_FIXED,
		               r_.fd, static_cast<off_t>(off));
		if (p != MAP_FAILED && (off != g.off || m.len > g.size))
			unexpected("MAP_FIXED mmap of %s at +%llu len %zu",
			           g.name,
			           static_cast<unsigned long long>(off - g.off),
			           m.len);
		// A failed MAP_FIXED leaves a hole that another thread may
		// map into at once: unmap only what this call mapped.
		if (p != MAP_FAILED)
			::munmap(p, m.len);
		break;
	}
	default: { // touch what is still mapped: read, and write if allowed
		for (const extra &m : maps_) {
			if (!m.touchable)
				continue;
			if (m.writable) {
				const std::size_t at = rng_.below(
				        static_cast<std::uint32_t>(m.len));
				store(reinterpret_cast<std::uint8_t *>(
				              m.addr)[at],
				      static_cast<std::uint8_t>(rng_.u32()));
				t_.writes++;
			} else {
				(void)load(*reinterpret_cast<
				           const std::uint32_t *>(m.addr));
			}
		}
		std::uint8_t vec[16];
		for (const extra &m : maps_)
			::mincore(m.addr, std::min(m.len, 16 * ps), vec);
		break;
	}
	}
	while (maps_.size() > 24)
		drop(rng_.below(static_cast<std::uint32_t>(maps_.size())));
}

void mapper::run()
{
	while (current_phase() != finish) {
		step();
		t_.flush(*shared);
		sleep_us(rng_.below(3000));
	}
	t_.flush(*shared);
}

// ---- the prober -----------------------------------------------------------

int open_dev()
{
	return ::open(NFRING_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

nfring_bind good_bind(std::uint16_t queue, prng &rng)
{
	nfring_bind b{};
	b.size = sizeof(b);
	b.queue_num = queue;
	b.ring_entries = 8u << rng.below(8); // 8..1024
	b.copy_range = rng.pick({0u, 1u, 64u, 100u, 1500u, 2048u});
	b.default_verdict = rng.chance(50) ? NFRING_ACCEPT : NFRING_DROP;
	b.flags = rng.chance(50) ? NFRING_BIND_FAIL_OPEN : 0;
	return b;
}

// Binds, ioctls, writes and polls, right and wrong, on the main file and
// on files of its own.  Side queues (other numbers: no traffic) are bound,
// mapped, scribbled on and dropped with their mappings still live.
class prober
{
public:
	prober(const rings &r, std::uint16_t queue, std::uint64_t seed)
	    : r_(r), queue_(queue), rng_(seed)
	{
	}
	~prober();
	void run();

private:
	void step();
	void bad_bind();
	void side_bind();
	void side_drop(std::size_t i);

	const rings &r_;
	std::uint16_t queue_;
	prng rng_;
	tally t_;
	std::vector<rings> sides_;
};

prober::~prober()
{
	while (!sides_.empty())
		side_drop(0);
}

void prober::side_drop(std::size_t i)
{
	rings &s = sides_[i];
	// Either order: the mappings keep the file (and the queue) alive.
	if (rng_.chance(50)) {
		::close(s.fd);
		sleep_us(rng_.below(2000));
		unmap_all(s);
	} else {
		unmap_all(s);
		::close(s.fd);
	}
	sides_.erase(sides_.begin() + static_cast<std::ptrdiff_t>(i));
}

void prober::side_bind()
{
	if (sides_.size() >= 3) {
		side_drop(rng_.below(3));
		return;
	}
	rings s;
	s.fd = open_dev();
	if (s.fd < 0)
		return;
	s.b = good_bind(
	        static_cast<std::uint16_t>(queue_ + 1 + rng_.below(200)), rng_);
	t_.binds++;
	if (::ioctl(s.fd, NFRING_IOC_BIND, &s.b) < 0) {
		// Another side queue of ours (or the child's copy) holds it.
		if (errno != EBUSY)
			unexpected("bind of side queue %u: %s", s.b.queue_num,
			           std::strerror(errno));
		::close(s.fd);
		return;
	}
	map_all(s);
	const unsigned n = rng_.below(64);
	for (unsigned i = 0; i < n; i++)
		scribble_once(s, rng_, t_, false);
	sides_.push_back(s);
}

// Held by the prober across a bad bind and by the main thread across fork():
// a child forked in between would inherit the probe's file, keep its queue
// bound for the child's whole life, and turn the probe's expected EFAULT into
// a correct EBUSY (CI saw exactly that on 7.2).
std::mutex probe_fork_lock;

void prober::bad_bind()
{
	const std::lock_guard<std::mutex> no_fork(probe_fork_lock);
	const int fd = open_dev();
	if (fd < 0)
		return;
	const long ps = page_size();
	// Room for a struct that claims to be larger than ours.
	alignas(8) std::uint8_t buf[sizeof(nfring_bind) + 64] = {};
	auto *b = reinterpret_cast<nfring_bind *>(buf);
	*b = good_bind(static_cast<std::uint16_t>(queue_ + 1000), rng_);
	int want = EINVAL;
	void *arg = b;
	void *ro = nullptr;
	const char *what = "";
	switch (rng_.below(14)) {
	case 0:
		b->ring_entries = 100, what = "ring_entries 100";
		break;
	case 1:
		b->ring_entries = rng_.pick<std::uint32_t>(
		        {0u, 4u, NFRING_MAX_RING_ENTRIES * 2, 0x80000000u});
		what = "ring_entries out of range";
		break;
	case 2:
		b->copy_range = NFRING_MAX_COPY_RANGE + 1 + rng_.below(1000);
		what = "copy_range too large";
		break;
	case 3:
		b->default_verdict = rng_.pick({2u, 3u, 4u, ~0u});
		what = "default_verdict";
		break;
	case 4:
		b->flags = rng_.pick(
		        {1u << 1, 1u << 31, ~NFRING_BIND_ALL & rng_.u32()});
		if (!(b->flags & ~NFRING_BIND_ALL))
			b->flags = 1u << 5;
		what = "unknown bind flag";
		break;
	case 5:
		if (rng_.chance(50))
			b->resv0 = 1;
		else
			b->resv0 = 2;
		what = "non-zero resv";
		break;
	case 6:
		b->ring_entries = NFRING_MAX_RING_ENTRIES;
		b->copy_range = NFRING_MAX_COPY_RANGE;
		want = E2BIG, what = "frames too large";
		break;
	case 7:
		// Below the first version of the struct: any size from
		// NFRING_BIND_SIZE_V1 up is a struct the module knows.
		b->size = rng_.pick({0u, 4u, NFRING_BIND_SIZE_V1 - 1u});
		what = "size too small";
		break;
	case 8:
		b->size = static_cast<std::uint32_t>(ps + 1 + rng_.below(4096));
		want = E2BIG, what = "size above a page";
		break;
	case 9:
		b->size = sizeof(buf);
		buf[sizeof(nfring_bind) + rng_.below(64)] = 1;
		want = E2BIG, what = "non-zero bytes past the struct";
		break;
	case 10:
		arg = nullptr, want = EFAULT, what = "NULL struct";
		break;
	case 11: // a page we may not touch
		ro = ::mmap(nullptr, static_cast<std::size_t>(ps), PROT_NONE,
		            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		arg = ro, want = EFAULT, what = "struct on a PROT_NONE page";
		break;
	case 12: {
		// A valid struct on a read-only page: the bind succeeds in
		// the kernel, then the copy back fails, and the queue must be
		// torn down again -- which the next bind of the same number
		// proves.
		ro = ::mmap(nullptr, static_cast<std::size_t>(ps),
		            PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		            -1, 0);
		if (ro == MAP_FAILED) {
			::close(fd);
			return;
		}
		std::memcpy(ro, b, sizeof(*b));
		::mprotect(ro, static_cast<std::size_t>(ps), PROT_READ);
		arg = ro, want = EFAULT, what = "struct on a read-only page";
		break;
	}
	default: // every field random
		for (std::size_t i = 4; i < sizeof(nfring_bind); i++)
			buf[i] = static_cast<std::uint8_t>(rng_.u32());
		want = 0, what = "random struct";
		break;
	}
	t_.binds++;
	const int rc = ::ioctl(fd, NFRING_IOC_BIND, arg);
	const int err = errno;
	if (rc == 0 && want) {
		unexpected("bind with %s succeeded", what);
	} else if (rc < 0 && want && err != want) {
		unexpected("bind with %s: %s, expected %s", what,
		           std::strerror(err), std::strerror(want));
	} else if (rc < 0 &&
	           std::strcmp(what, "struct on a read-only page") == 0) {
		const int fd2 = open_dev();
		nfring_bind again = *static_cast<nfring_bind *>(ro);
		t_.binds++;
		if (fd2 >= 0 && ::ioctl(fd2, NFRING_IOC_BIND, &again) < 0 &&
		    errno != EBUSY)
			unexpected("bind after a failed copy-out: %s",
			           std::strerror(errno));
		if (fd2 >= 0)
			::close(fd2);
	}
	if (ro && ro != MAP_FAILED)
		::munmap(ro, static_cast<std::size_t>(ps));
	::close(fd);
}

void prober::step()
{
	char buf[4096] = {};
	t_.ioctls++;
	const std::uint32_t op = rng_.below(14);
	switch (op) {
	case 0: { // bind again on the bound file
		nfring_bind b = good_bind(queue_, rng_);
		t_.binds++;
		expect_fail("second bind on the same file",
		            ::ioctl(r_.fd, NFRING_IOC_BIND, &b), EALREADY);
		break;
	}
	case 1: { // the same queue from another file
		const int fd = open_dev();
		if (fd < 0)
			break;
		nfring_bind b = good_bind(queue_, rng_);
		t_.binds++;
		expect_fail("bind of a bound queue from another file",
		            ::ioctl(fd, NFRING_IOC_BIND, &b), EBUSY);
		::close(fd);
		break;
	}
	case 2: { // everything on a file that is not bound
		const int fd = open_dev();
		if (fd < 0)
			break;
		nfring_stats st{};
		st.size = sizeof(st);
		expect_fail("KICK on an unbound file",
		            ::ioctl(fd, NFRING_IOC_KICK), ENXIO);
		expect_fail("STATS on an unbound file",
		            ::ioctl(fd, NFRING_IOC_STATS, &st), ENXIO);
		expect_fail("write on an unbound file", ::write(fd, buf, 1),
		            ENXIO);
		void *p = ::mmap(nullptr, static_cast<std::size_t>(page_size()),
		                 PROT_READ, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			unexpected("mmap of an unbound file");
			::munmap(p, static_cast<std::size_t>(page_size()));
		}
		pollfd pf{fd, POLLIN, 0};
		::poll(&pf, 1, 0);
		::close(fd);
		break;
	}
	case 3:
		side_bind();
		break;
	case 4:
		if (!sides_.empty())
			side_drop(rng_.below(
			        static_cast<std::uint32_t>(sides_.size())));
		break;
	case 5:
		bad_bind();
		break;
	case 6:   // INFO and STATS with sizes small and large, bad pointers:
	case 7: { // at most .size bytes filled, refused below 4
		const bool info = op == 6;
		const std::size_t full =
		        info ? sizeof(nfring_info) : sizeof(nfring_stats);
		alignas(8) std::uint8_t mem[4160];
		std::memset(mem, 0xa5, sizeof(mem));
		const std::uint32_t asked = rng_.pick<std::uint32_t>(
		        {0u, 2u, 4u, 8u, static_cast<std::uint32_t>(full - 1),
		         static_cast<std::uint32_t>(full), 4096u});
		std::memcpy(mem, &asked, sizeof(asked));
		const bool null = rng_.chance(10);
		const long rc = ::ioctl(
		        r_.fd, info ? NFRING_IOC_INFO : NFRING_IOC_STATS,
		        null ? nullptr : mem);
		if (null || asked < 4) {
			if (rc == 0)
				unexpected("%s accepted size %u%s",
				           info ? "INFO" : "STATS", asked,
				           null ? " (NULL)" : "");
			break;
		}
		if (rc != 0) {
			unexpected("%s refused size %u: %s",
			           info ? "INFO" : "STATS", asked,
			           std::strerror(errno));
			break;
		}
		const std::size_t filled = std::min<std::size_t>(asked, full);
		std::uint32_t got;
		std::memcpy(&got, mem, sizeof(got));
		if (got != filled)
			unexpected("%s size %u came back as %u",
			           info ? "INFO" : "STATS", asked, got);
		for (std::size_t i = filled; i < sizeof(mem); i++)
			if (mem[i] != 0xa5) {
				unexpected("%s size %u: byte %zu written",
				           info ? "INFO" : "STATS", asked, i);
				break;
			}
		break;
	}
	case 8: { // commands that do not exist
		const unsigned long cmd = rng_.pick<unsigned long>(
		        {_IO(NFRING_IOC_MAGIC, 4 + rng_.below(250)),
		         _IOWR(NFRING_IOC_MAGIC, 4 + rng_.below(250), int),
		         _IOWR(NFRING_IOC_MAGIC, 1, std::uint64_t),
		         _IOR(NFRING_IOC_MAGIC, 3, nfring_stats), 0x5401});
		expect_fail("unknown ioctl", ::ioctl(r_.fd, cmd, buf), ENOTTY);
		break;
	}
	case 9:
		::ioctl(r_.fd, NFRING_IOC_KICK);
		t_.kicks++;
		break;
	case 10: { // kicks by write, writev and pwrite, of any length
		const std::size_t len =
		        rng_.pick<std::size_t>({0, 1, 8, sizeof(buf)});
		iovec iov[3] = {{buf, len}, {buf, 1}, {nullptr, 0}};
		switch (rng_.below(3)) {
		case 0:
			(void)!::write(r_.fd, buf, len);
			break;
		case 1:
			(void)!::writev(r_.fd, iov, 3);
			break;
		default:
			(void)!::pwrite(r_.fd, buf, len,
			                static_cast<off_t>(rng_.u32()));
			break;
		}
		t_.kicks++;
		break;
	}
	case 11:
		expect_fail("read of the device", ::read(r_.fd, buf, 64), 0);
		break;
	case 12: {
		pollfd pf{r_.fd,
		          static_cast<short>(rng_.pick(
		                  {POLLIN, POLLOUT, POLLIN | POLLPRI, 0xffff})),
		          0};
		::poll(&pf, 1, static_cast<int>(rng_.below(3)));
		break;
	}
	default: { // a second reference to the file, and flags on it
		const int fd = ::dup(r_.fd);
		if (fd < 0)
			break;
		const int fl = ::fcntl(fd, F_GETFL);
		::fcntl(fd, F_SETFL, fl ^ O_NONBLOCK);
		::lseek(fd, rng_.u32(), SEEK_SET);
		::ioctl(fd, NFRING_IOC_KICK);
		::fcntl(fd, F_SETFL, fl);
		::close(fd);
		t_.kicks++;
		break;
	}
	}
}

void prober::run()
{
	while (current_phase() != finish) {
		step();
		t_.flush(*shared);
		sleep_us(rng_.below(3000));
	}
	t_.flush(*shared);
}

// ---- the child ------------------------------------------------------------

// A forked child: maps the regions again through the file it inherited
// (its parent's mappings may not be copied to it: VM_DONTCOPY), and
// scribbles until its time is up.  It dies with its parent.  Async-signal
// -safe calls only; no allocation.
[[noreturn]] void child_main(rings r, std::uint64_t seed)
{
	::prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (::getppid() != shared->parent)
		::_exit(0);
	prng rng(seed);
	tally t;
	shared->child_map_failures += map_all(r);
	const double end = now_s() + 0.3 + rng.below(3000) / 1000.0;
	unsigned ops = 0;
	for (int ph; (ph = current_phase()) != finish && now_s() < end;) {
		if (ph == calm) {
			sleep_us(1000);
			continue;
		}
		scribble_once(r, rng, t, ph == hold);
		// Remap now and then while it still has the file, sometimes
		// first with a wrong size (which must fail).
		if (++ops % 64 == 0 && r.fd >= 0) {
			t.flush(*shared);
			unmap_all(r);
			if (rng.chance(20)) {
				t.mmaps++;
				if (map_region(r, r.b.user_off,
				               r.b.user_size + page_size(),
				               PROT_READ))
					unexpected("child mapped past USER");
			}
			shared->child_map_failures += map_all(r);
			t.mmaps += 3;
		}
		if (r.fd >= 0 && rng.chance(1)) {
			// From here on only its mappings hold the file.
			::close(r.fd);
			r.fd = -1;
		}
		sleep_us(100 + rng.below(400));
	}
	t.flush(*shared);
	::_exit(0);
}

// ---- main -----------------------------------------------------------------

int bind_queue(const options &o, rings &r)
{
	r.fd = open_dev();
	if (r.fd < 0) {
		std::fprintf(stderr, "nfring-hostile: open %s: %s\n",
		             NFRING_DEVICE_PATH, std::strerror(errno));
		return -1;
	}
	r.b.size = sizeof(r.b);
	r.b.queue_num = o.queue;
	r.b.ring_entries = o.ring;
	r.b.copy_range = o.copy;
	r.b.default_verdict = o.default_verdict;
	// Every enqueue-side option on: GSO segmentation and checksums, and
	// all the metadata, so that the flood runs through those paths too.
	r.b.flags = (o.fail_open ? NFRING_BIND_FAIL_OPEN : 0) |
	            NFRING_BIND_NORMALIZE | NFRING_BIND_METADATA |
	            NFRING_BIND_CONNTRACK | NFRING_BIND_UID_GID;
	// Bypass verdicts are part of the game where the kernel has them.
	r.b.ct_bypass_mark = 0x40000000;
	// A previous owner of the queue may still be releasing it.
	for (int tries = 0;; tries++) {
		nfring_bind b = r.b;
		if (::ioctl(r.fd, NFRING_IOC_BIND, &b) == 0) {
			r.b = b;
			break;
		}
		if (errno == EOPNOTSUPP && r.b.ct_bypass_mark) {
			r.b.ct_bypass_mark = 0;
			continue;
		}
		if (errno != EBUSY || tries >= 100) {
			std::fprintf(stderr,
			             "nfring-hostile: bind queue %u: %s\n",
			             o.queue, std::strerror(errno));
			return -1;
		}
		sleep_us(50000);
	}
	if (map_all(r)) {
		std::fprintf(stderr, "nfring-hostile: mmap: %s\n",
		             std::strerror(errno));
		return -1;
	}
	return 0;
}

// The kernel's counters, and whether they balance: every packet enqueued
// was accepted, dropped, repeated (and so enqueued again), flushed, or is
// still in flight.  Reads until a snapshot balances (a verdict being
// applied sits between in_flight and accepted for a moment).
bool balanced_stats(int fd, nfring_stats &st)
{
	for (int i = 0; i < 40; i++) {
		st = read_stats(fd);
		if (st.enqueued == st.accepted + st.dropped + st.repeated +
		                           st.flushed + st.in_flight)
			return true;
		sleep_us(50000);
	}
	return false;
}

void print_kernel(const char *tag, const nfring_stats &st, const char *balance)
{
	say("hostile: %s kernel enqueued %llu accepted %llu dropped %llu "
	    "repeated %llu flushed %llu in_flight %llu invalid %llu marked "
	    "%llu mangled %llu mangle_failed %llu ring_full %llu fail_open "
	    "%llu kicks %llu bypass_flows %llu bypass_no_ct %llu balance %s",
	    tag, static_cast<unsigned long long>(st.enqueued),
	    static_cast<unsigned long long>(st.accepted),
	    static_cast<unsigned long long>(st.dropped),
	    static_cast<unsigned long long>(st.repeated),
	    static_cast<unsigned long long>(st.flushed),
	    static_cast<unsigned long long>(st.in_flight),
	    static_cast<unsigned long long>(st.invalid),
	    static_cast<unsigned long long>(st.marked),
	    static_cast<unsigned long long>(st.mangled),
	    static_cast<unsigned long long>(st.mangle_failed),
	    static_cast<unsigned long long>(st.ring_full),
	    static_cast<unsigned long long>(st.fail_open),
	    static_cast<unsigned long long>(st.kicks),
	    static_cast<unsigned long long>(st.bypass_flows),
	    static_cast<unsigned long long>(st.bypass_no_ct), balance);
}

void print_summary(double seconds)
{
	const shared_state &s = *shared;
	say("hostile: writes %llu verdicts %llu kicks %llu mmaps %llu seconds "
	    "%.1f honest %llu stale %llu bad %llu mangles %llu binds %llu "
	    "ioctls %llu children %llu child_map_failures %llu unexpected "
	    "%llu",
	    static_cast<unsigned long long>(s.writes.load()),
	    static_cast<unsigned long long>(s.verdicts.load()),
	    static_cast<unsigned long long>(s.kicks.load()),
	    static_cast<unsigned long long>(s.mmaps.load()), seconds,
	    static_cast<unsigned long long>(s.honest.load()),
	    static_cast<unsigned long long>(s.stale.load()),
	    static_cast<unsigned long long>(s.bad.load()),
	    static_cast<unsigned long long>(s.mangles.load()),
	    static_cast<unsigned long long>(s.binds.load()),
	    static_cast<unsigned long long>(s.ioctls.load()),
	    static_cast<unsigned long long>(s.children.load()),
	    static_cast<unsigned long long>(s.child_map_failures.load()),
	    static_cast<unsigned long long>(s.unexpected.load()));
}

int run(const options &o)
{
	void *page =
	        ::mmap(nullptr, sizeof(shared_state), PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		std::perror("nfring-hostile: mmap");
		return 1;
	}
	shared = new (page) shared_state;
	shared->parent = ::getpid();

	rings r;
	if (bind_queue(o, r))
		return 1;
	say("hostile: seed %llu queue %u ring %u copy %u frame_size %u "
	    "scribblers %u child %s die %s",
	    static_cast<unsigned long long>(o.seed), o.queue, r.b.ring_entries,
	    o.copy, r.b.frame_size, o.scribblers, o.child ? "yes" : "no",
	    o.die == die_mode::none   ? "no"
	    : o.die == die_mode::kill ? "kill"
	                              : "abort");
	if (!o.ready_file.empty()) {
		const int fd = ::open(o.ready_file.c_str(),
		                      O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0)
			::close(fd);
	}

	std::vector<std::thread> threads;
	threads.emplace_back(
	        [&] { answerer(r, thread_seed(o.seed, 1)).run(); });
	for (unsigned i = 0; i < o.scribblers; i++)
		threads.emplace_back([&, i] {
			scribbler_thread(r, thread_seed(o.seed, 10 + i));
		});
	threads.emplace_back([&] { mapper(r, thread_seed(o.seed, 2)).run(); });
	threads.emplace_back(
	        [&] { prober(r, o.queue, thread_seed(o.seed, 3)).run(); });

	// The main thread sets the phases and keeps a child scribbling.
	prng rng(thread_seed(o.seed, 4));
	const double start = now_s(), end = start + o.seconds;
	double next_phase = start, next_progress = start + o.progress;
	pid_t child = -1;
	std::uint64_t child_no = 0;
	for (double now; (now = now_s()) < end;) {
		if (now >= next_phase) {
			const bool calm_next = current_phase() == chaos;
			shared->phase = calm_next ? calm : chaos;
			next_phase =
			        now + (calm_next ? 0.2 + rng.below(300) / 1e3
			                         : 0.7 + rng.below(1300) / 1e3);
		}
		if (child > 0 && ::waitpid(child, nullptr, WNOHANG) == child)
			child = -1;
		if (o.child && child < 0 && rng.chance(20)) {
			const std::uint64_t seed =
			        thread_seed(o.seed, 1000 + child_no++);
			{
				const std::lock_guard<std::mutex> quiet(
				        probe_fork_lock);
				child = ::fork();
			}
			if (child == 0)
				child_main(r, seed);
			if (child > 0)
				shared->children++;
		}
		if (o.progress > 0 && now >= next_progress) {
			next_progress = now + o.progress;
			print_summary(now - start);
			print_kernel("progress", read_stats(r.fd), "-");
		}
		sleep_us(20000);
	}

	if (o.die != die_mode::none) {
		// Stop answering, let packets pile up, then die in the middle
		// of everything else (mapper, prober and child keep going).
		shared->phase = hold;
		const std::uint32_t want = std::min(16u, r.b.ring_entries / 2);
		nfring_stats st{};
		// Up to 20 s: on a debug kernel, with links flapping and the
		// chain being re-created, 5 s once passed without a packet.
		for (int i = 0; i < 400 && st.in_flight < want; i++) {
			sleep_us(50000);
			st = read_stats(r.fd);
		}
		const bool ok = balanced_stats(r.fd, st);
		print_summary(now_s() - start);
		print_kernel("final", st, ok ? "ok" : "MISMATCH");
		say("hostile: dying by %s with %llu packets in flight",
		    o.die == die_mode::kill ? "SIGKILL" : "abort()",
		    static_cast<unsigned long long>(st.in_flight));
		if (o.die == die_mode::abort) {
			const rlimit no_core{0, 0};
			::setrlimit(RLIMIT_CORE, &no_core);
			std::abort();
		}
		::kill(::getpid(), SIGKILL);
		for (;;)
			::pause();
	}

	shared->phase = finish;
	for (auto &t : threads)
		t.join();
	if (child > 0) {
		::kill(child, SIGKILL);
		::waitpid(child, nullptr, 0);
	}
	nfring_stats st{};
	const bool ok = balanced_stats(r.fd, st);
	print_summary(now_s() - start);
	print_kernel("final", st, ok ? "ok" : "MISMATCH");
	return shared->unexpected.load() || !ok ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
	options o = parse(argc, argv);
	if (!o.seed_given)
		o.seed = static_cast<std::uint64_t>(
		        std::chrono::system_clock::now()
		                .time_since_epoch()
		                .count());
	// A child killed mid-write must not take us with it.
	std::signal(SIGPIPE, SIG_IGN);
	try {
		return run(o);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfring-hostile: %s\n", e.what());
		return 1;
	}
}
