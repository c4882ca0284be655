// nfring-testpeer: the VM tests' worker.  Binds one queue through the
// userspace library and answers packets in the ways the tests need: every
// verdict, marks, mangled payloads, out-of-order answers, holding packets
// (ring full, crash with packets in flight), and a hostile mode that
// scribbles over the shared rings before behaving again.
//
// It is a test tool, not the product: the DPI worker is nfring-worker.
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <random>
#include <string>
#include <string_view>
#include <sys/ioctl.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include "nfring/queue.hpp"

namespace
{

std::atomic<bool> stop_requested{false};

void on_signal(int)
{
	stop_requested = true;
}

struct options {
	nfring::bind_options bind;
	std::uint32_t verdict = NFRING_ACCEPT;
	bool set_mark = false;
	std::uint32_t mark = 0;
	std::string mangle_from, mangle_to;
	enum { fifo, reverse, random } order = fifo;
	std::uint32_t batch = 1;
	long count = -1;   // exit after this many verdicts
	bool hold = false; // never answer
	long garbage_after = -1;
	long idle_exit_ms = -1;
	std::string ready_file;
	// Written raw into the user page (hostile values included).
	std::uint32_t wake_batch = 0, wake_usecs = 0;
	// Hostile mangles: bytes poked into the frame, then MANGLE with
	// mangle_len bytes (-1: the captured length).
	std::vector<std::pair<std::uint32_t, std::uint8_t>> pokes;
	long mangle_len = -1;
	bool bad_flags = false;  // an unknown verdict flag on every answer
	bool print_desc = false; // one line per packet: pf, hook, hw_protocol
	// Bind with every kind of metadata and print it, one line per packet.
	bool print_meta = false;
};

[[noreturn]] void usage(int rc)
{
	std::fprintf(
	        rc ? stderr : stdout,
	        "usage: nfring-testpeer [options]\n"
	        "  --queue N           queue number (0-65535, default 0)\n"
	        "  --ring N            ring entries (power of two, default "
	        "256)\n"
	        "  --copy N            bytes copied per packet (default 2048)\n"
	        "  --fail-open         accept when the ring is full\n"
	        "  --default V         accept|drop for packets left in flight\n"
	        "  --verdict V         accept|drop|repeat (default accept)\n"
	        "  --mark N            set this mark with each verdict\n"
	        "  --mangle FROM:TO    replace FROM by TO in UDP payloads\n"
	        "  --order O           fifo|reverse|random within a batch\n"
	        "  --batch N           answer in batches of N (flushed when "
	        "idle)\n"
	        "  --count N           exit after N verdicts\n"
	        "  --hold              consume packets, never answer\n"
	        "  --garbage-after N   after N packets, scribble over the "
	        "rings,\n"
	        "                      then recover and answer normally\n"
	        "  --idle-exit MS      exit after MS ms without packets\n"
	        "  --ready FILE        create FILE once bound\n"
	        "  --wake-batch N      wake coalescing hints, written as "
	        "given\n"
	        "  --wake-usecs N      (see nfring_user_page; default 0: "
	        "off)\n"
	        "  --poke OFF=VAL      write byte VAL at frame offset OFF, then "
	        "MANGLE\n"
	        "                      (repeatable; no checksum is fixed)\n"
	        "  --mangle-len N      MANGLE with new_len N, frame as is or "
	        "poked\n"
	        "  --bad-flags         answer with an unknown verdict flag\n"
	        "  --print-desc        print pf, hook and hw_protocol of each "
	        "packet\n"
	        "  --print-meta        bind with METADATA, CONNTRACK and UID_GID "
	        "and print\n"
	        "                      each packet's nfring_rx_meta\n");
	std::exit(rc);
}

long arg_number(const char *opt, const char *v, long max)
{
	char *end = nullptr;
	errno = 0;
	const long n = std::strtol(v, &end, 0);
	if (errno || *end || n < 0 || n > max) {
		std::fprintf(stderr,
		             "nfring-testpeer: %s '%s': expected 0..%ld\n", opt,
		             v, max);
		std::exit(2);
	}
	return n;
}

std::uint32_t parse_verdict(const char *opt, std::string_view v)
{
	if (v == "accept")
		return NFRING_ACCEPT;
	if (v == "drop")
		return NFRING_DROP;
	if (v == "repeat")
		return NFRING_REPEAT;
	std::fprintf(stderr,
	             "nfring-testpeer: %s '%.*s': expected accept, drop or "
	             "repeat\n",
	             opt, static_cast<int>(v.size()), v.data());
	std::exit(2);
}

options parse(int argc, char **argv)
{
	options o;
	o.bind.ring_entries = 256;
	for (int i = 1; i < argc; i++) {
		const std::string_view a = argv[i];
		auto val = [&]() -> const char * {
			if (i + 1 >= argc) {
				std::fprintf(
				        stderr,
				        "nfring-testpeer: %s needs a value\n",
				        argv[i]);
				std::exit(2);
			}
			return argv[++i];
		};
		if (a == "-h" || a == "--help")
			usage(0);
		else if (a == "--queue")
			o.bind.queue_num = static_cast<std::uint16_t>(
			        arg_number("--queue", val(), 65535));
		else if (a == "--ring")
			o.bind.ring_entries = static_cast<std::uint32_t>(
			        arg_number("--ring", val(), 1L << 30));
		else if (a == "--copy")
			o.bind.copy_range = static_cast<std::uint32_t>(
			        arg_number("--copy", val(), 1L << 30));
		else if (a == "--fail-open")
			o.bind.fail_open = true;
		else if (a == "--default")
			o.bind.default_verdict =
			        parse_verdict("--default", val());
		else if (a == "--verdict")
			o.verdict = parse_verdict("--verdict", val());
		else if (a == "--mark") {
			o.set_mark = true;
			o.mark = static_cast<std::uint32_t>(
			        arg_number("--mark", val(), 0xffffffffL));
		} else if (a == "--mangle") {
			const std::string m = val();
			const auto colon = m.find(':');
			if (colon == std::string::npos || colon == 0) {
				std::fprintf(stderr,
				             "nfring-testpeer: --mangle '%s': "
				             "expected FROM:TO\n",
				             m.c_str());
				std::exit(2);
			}
			o.mangle_from = m.substr(0, colon);
			o.mangle_to = m.substr(colon + 1);
		} else if (a == "--order") {
			const std::string_view v = val();
			if (v == "fifo")
				o.order = options::fifo;
			else if (v == "reverse")
				o.order = options::reverse;
			else if (v == "random")
				o.order = options::random;
			else {
				std::fprintf(
				        stderr,
				        "nfring-testpeer: --order '%s': "
				        "expected fifo, reverse or random\n",
				        argv[i]);
				std::exit(2);
			}
		} else if (a == "--batch")
			o.batch = static_cast<std::uint32_t>(std::max(
			        1L, arg_number("--batch", val(), 65536)));
		else if (a == "--count")
			o.count = arg_number("--count", val(), 1L << 40);
		else if (a == "--hold")
			o.hold = true;
		else if (a == "--garbage-after")
			o.garbage_after =
			        arg_number("--garbage-after", val(), 1L << 20);
		else if (a == "--wake-batch")
			o.wake_batch = static_cast<std::uint32_t>(
			        arg_number("--wake-batch", val(), 0xffffffffL));
		else if (a == "--wake-usecs")
			o.wake_usecs = static_cast<std::uint32_t>(
			        arg_number("--wake-usecs", val(), 0xffffffffL));
		else if (a == "--idle-exit")
			o.idle_exit_ms =
			        arg_number("--idle-exit", val(), 1L << 30);
		else if (a == "--ready")
			o.ready_file = val();
		else if (a == "--poke") {
			const std::string m = val();
			const auto eq = m.find('=');
			if (eq == std::string::npos) {
				std::fprintf(stderr,
				             "nfring-testpeer: --poke '%s': "
				             "expected OFFSET=BYTE\n",
				             m.c_str());
				std::exit(2);
			}
			o.pokes.emplace_back(
			        static_cast<std::uint32_t>(arg_number(
			                "--poke offset", m.substr(0, eq).c_str(),
			                65535)),
			        static_cast<std::uint8_t>(arg_number(
			                "--poke byte", m.substr(eq + 1).c_str(),
			                255)));
		} else if (a == "--mangle-len")
			o.mangle_len = arg_number("--mangle-len", val(), 1L << 30);
		else if (a == "--bad-flags")
			o.bad_flags = true;
		else if (a == "--print-desc")
			o.print_desc = true;
		else if (a == "--print-meta") {
			o.print_meta = true;
			o.bind.metadata = o.bind.conntrack = o.bind.uid_gid = true;
		}
		else {
			std::fprintf(
			        stderr,
			        "nfring-testpeer: unknown option '%s'; see "
			        "--help\n",
			        argv[i]);
			std::exit(2);
		}
	}
	return o;
}

std::uint16_t csum_fold(std::uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum);
}

std::uint32_t csum_add(std::uint32_t sum, const std::uint8_t *p,
                       std::size_t len)
{
	for (std::size_t i = 0; i + 1 < len; i += 2)
		sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += static_cast<std::uint32_t>(p[len - 1] << 8);
	return sum;
}

// Rewrites an IPv4/UDP packet in place (buffer of room bytes) replacing
// the first `from` in its payload by `to`.  Fixes lengths and both
// checksums.  Returns the new length, or 0 if the packet does not apply.
std::uint32_t mangle_udp(std::uint8_t *pkt, std::uint32_t len,
                         std::uint32_t room, const std::string &from,
                         const std::string &to)
{
	if (len < 28 || (pkt[0] >> 4) != 4 || pkt[9] != IPPROTO_UDP)
		return 0;
	const std::uint32_t ihl = (pkt[0] & 0xf) * 4u;
	if (ihl < 20 || len < ihl + 8)
		return 0;
	std::uint8_t *udp = pkt + ihl;
	std::uint8_t *data = udp + 8;
	const std::uint32_t data_len = len - ihl - 8;
	const std::string_view payload(reinterpret_cast<char *>(data),
	                               data_len);
	const auto at = payload.find(from);
	if (at == std::string_view::npos)
		return 0;
	const std::uint32_t new_len = len - from.size() + to.size();
	if (new_len > room || new_len > 0xffff)
		return 0;
	std::memmove(data + at + to.size(), data + at + from.size(),
	             data_len - at - from.size());
	std::memcpy(data + at, to.data(), to.size());

	pkt[2] = static_cast<std::uint8_t>(new_len >> 8);
	pkt[3] = static_cast<std::uint8_t>(new_len);
	pkt[10] = pkt[11] = 0;
	const std::uint16_t ipsum = csum_fold(csum_add(0, pkt, ihl));
	pkt[10] = static_cast<std::uint8_t>(ipsum >> 8);
	pkt[11] = static_cast<std::uint8_t>(ipsum);

	const std::uint32_t udp_len = new_len - ihl;
	udp[4] = static_cast<std::uint8_t>(udp_len >> 8);
	udp[5] = static_cast<std::uint8_t>(udp_len);
	udp[6] = udp[7] = 0;
	std::uint32_t sum = csum_add(0, pkt + 12, 8); // addresses
	sum += IPPROTO_UDP + udp_len;
	sum = csum_add(sum, udp, udp_len);
	std::uint16_t usum = csum_fold(sum);
	if (!usum)
		usum = 0xffff;
	udp[6] = static_cast<std::uint8_t>(usum >> 8);
	udp[7] = static_cast<std::uint8_t>(usum);
	return new_len;
}

class peer
{
public:
	explicit peer(const options &o) : o_(o), q_(o.bind), rng_(12345)
	{
		q_.set_wake_coalescing(o.wake_batch, o.wake_usecs);
	}

	int run();

private:
	void flush();
	void scribble_and_recover();
	void answer(const nfring_rx_desc &d, std::uint32_t k);
	void print_meta(const nfring_rx_desc &d) const;

	const options &o_;
	nfring::queue q_;
	std::vector<nfring_rx_desc> pending_;
	std::mt19937 rng_;
	long seen_ = 0, answered_ = 0, batches_ = 0, max_batch_ = 0;
	bool scribbled_ = false;
};

// "meta valid V ct_info I ct_status S ct_mark M ct_id C uid U gid G
// priority P physin X physout Y hw ADDR vlan T": the fields without their
// valid bit print as "-".
void peer::print_meta(const nfring_rx_desc &d) const
{
	const nfring_rx_meta *m = q_.meta(d);
	if (!m) {
		std::printf("meta none\n");
		return;
	}
	const auto field = [](bool valid, unsigned long v, const char *fmt) {
		char b[24] = "-";
		if (valid)
			std::snprintf(b, sizeof(b), fmt, v);
		return std::string(b);
	};
	std::string hw = "-";
	if (m->valid & NFRING_META_HWADDR) {
		hw.clear();
		for (unsigned i = 0; i < m->hwaddr_len && i < sizeof(m->hwaddr); i++) {
			char b[4];
			std::snprintf(b, sizeof(b), "%s%02x", i ? ":" : "",
			              m->hwaddr[i]);
			hw += b;
		}
	}
	const bool ct = m->valid & NFRING_META_CT;
	const bool ids = m->valid & NFRING_META_UID_GID;
	std::printf("meta valid 0x%x ct_info %s ct_status %s ct_mark %s ct_id %s "
	            "uid %s gid %s priority %u physin %u physout %u hw %s vlan %s\n",
	            m->valid, field(ct, m->ct_info, "%lu").c_str(),
	            field(ct, m->ct_status, "0x%lx").c_str(),
	            field(ct, m->ct_mark, "0x%lx").c_str(),
	            field(m->valid & NFRING_META_CT_ID, m->ct_id, "%lu").c_str(),
	            field(ids, m->uid, "%lu").c_str(),
	            field(ids, m->gid, "%lu").c_str(), m->priority,
	            m->physindev, m->physoutdev, hw.c_str(),
	            field(m->valid & NFRING_META_VLAN, m->vlan_tci, "%lu").c_str());
}

// Writes the verdict for d into the k-th reserved slot.
void peer::answer(const nfring_rx_desc &d, std::uint32_t k)
{
	nfring_verdict &v = q_.verdicts().slot(k);
	v = nfring_verdict{};
	v.id = d.id;
	v.verdict = o_.verdict;
	if (o_.set_mark) {
		v.flags |= NFRING_VF_SET_MARK;
		v.mark = o_.mark;
	}
	if (!o_.mangle_from.empty() && d.cap_len == d.pkt_len) {
		auto frame = q_.frame(d);
		const std::uint32_t n = mangle_udp(
		        reinterpret_cast<std::uint8_t *>(frame.data()),
		        d.cap_len, static_cast<std::uint32_t>(frame.size()),
		        o_.mangle_from, o_.mangle_to);
		if (n) {
			v.flags |= NFRING_VF_MANGLE;
			v.new_len = n;
		}
	}
	if (!o_.pokes.empty() || o_.mangle_len >= 0) {
		auto frame = q_.frame(d);
		for (const auto &[off, byte] : o_.pokes)
			if (off < frame.size())
				frame[off] = static_cast<std::byte>(byte);
		v.flags |= NFRING_VF_MANGLE;
		v.new_len = o_.mangle_len >= 0
		                    ? static_cast<std::uint32_t>(o_.mangle_len)
		                    : d.cap_len;
	}
	if (o_.bad_flags)
		v.flags |= 0x80000000u;
	answered_++;
}

void peer::flush()
{
	if (!pending_.empty()) {
		batches_++;
		max_batch_ = std::max<long>(max_batch_,
		                            static_cast<long>(pending_.size()));
	}
	if (o_.order == options::reverse)
		std::reverse(pending_.begin(), pending_.end());
	else if (o_.order == options::random)
		std::shuffle(pending_.begin(), pending_.end(), rng_);
	// One publish (and at most one kick) per batch.
	auto &vr = q_.verdicts();
	std::uint32_t k = 0;
	for (const auto &d : pending_) {
		while (vr.reserve(k + 1) < k + 1) {
			// The kernel has not consumed earlier verdicts yet.
			q_.submit_verdicts(k);
			k = 0;
			std::this_thread::sleep_for(
			        std::chrono::microseconds(100));
		}
		answer(d, k++);
	}
	if (k)
		q_.submit_verdicts(k);
	pending_.clear();
}

// Hostile worker: garbage in the verdict ring and in every index and flag
// we can write; the kernel must survive and count what it rejects.  Then
// put the indices back where they belong and answer the held packets.
void peer::scribble_and_recover()
{
	auto *up = q_.user_page();
	const std::uint32_t entries = q_.verdicts().entries();
	std::uniform_int_distribution<std::uint32_t> u32;
	for (std::uint32_t i = 0; i < entries; i++) {
		auto *bytes = reinterpret_cast<std::uint32_t *>(
		        &q_.verdicts().slot(i));
		for (std::size_t w = 0; w < sizeof(nfring_verdict) / 4; w++)
			bytes[w] = u32(rng_);
	}
	const std::uint32_t honest_prod = q_.verdicts().produced();
	// A producer far ahead, then a plausible one over garbage entries.
	std::atomic_ref<std::uint32_t>(up->vr_producer)
	        .store(honest_prod + 0x40000000u, std::memory_order_release);
	std::atomic_ref<std::uint32_t>(up->rx_consumer)
	        .store(u32(rng_), std::memory_order_release);
	up->flags = u32(rng_);
	up->resv0 = u32(rng_);
	::ioctl(q_.fd(), NFRING_IOC_KICK);
	std::this_thread::sleep_for(std::chrono::milliseconds(200));

	auto kernel_consumer = [this] {
		auto *kp = const_cast<nfring_kernel_page *>(q_.kernel_page());
		return std::atomic_ref<std::uint32_t>(kp->vr_consumer)
		        .load(std::memory_order_acquire);
	};
	std::atomic_ref<std::uint32_t>(up->vr_producer)
	        .store(kernel_consumer() + entries / 2,
	               std::memory_order_release);
	::ioctl(q_.fd(), NFRING_IOC_KICK);
	std::this_thread::sleep_for(std::chrono::milliseconds(200));

	// Recover: our own indices back, flags sane.
	const std::uint32_t kcons2 = kernel_consumer();
	up->flags = 0;
	up->resv0 = 0;
	q_.verdicts().resync(kcons2);
	q_.rx().resync(q_.rx().consumed());
	std::printf("testpeer: scribbled over the rings, resynced at %u\n",
	            kcons2);
	std::fflush(stdout);
	scribbled_ = true;
}

int peer::run()
{
	if (!o_.ready_file.empty()) {
		const int fd = ::open(o_.ready_file.c_str(),
		                      O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0)
			::close(fd);
	}
	long idle_ms = 0;
	while (!stop_requested) {
		if (o_.count >= 0 && answered_ >= o_.count)
			break;
		const std::uint32_t n = q_.rx().peek(64);
		const bool awaiting_garbage =
		        o_.garbage_after >= 0 && !scribbled_;
		if (!n) {
			// A partial batch waits a little for more packets, so
			// that --order has something to reorder.
			const bool partial =
			        !pending_.empty() && !awaiting_garbage;
			if (q_.wait(partial ? 20 : 50)) {
				idle_ms = 0;
				continue;
			}
			if (partial) {
				flush();
				continue;
			}
			idle_ms += 50;
			if (o_.idle_exit_ms >= 0 && idle_ms >= o_.idle_exit_ms)
				break;
			continue;
		}
		idle_ms = 0;
		for (std::uint32_t i = 0; i < n; i++) {
			pending_.push_back(q_.rx().at(i));
			const auto &d = pending_.back();
			if (o_.print_desc)
				std::printf("desc pf %u hook %u hw_protocol "
				            "0x%04x len %u\n",
				            d.pf, d.hook, ntohs(d.hw_protocol),
				            d.pkt_len);
			if (o_.print_meta)
				print_meta(d);
		}
		q_.rx().release(n);
		seen_ += n;
		if (o_.hold) {
			pending_.clear();
			continue;
		}
		if (o_.garbage_after >= 0 && !scribbled_ &&
		    seen_ >= o_.garbage_after)
			scribble_and_recover();
		if (pending_.size() >= o_.batch &&
		    !(o_.garbage_after >= 0 && !scribbled_))
			flush();
	}
	if (!o_.hold)
		flush();
	const nfring_stats st = q_.stats();
	std::printf("testpeer: seen %ld answered %ld batches %ld max_batch %ld "
	            "kicks %llu polls %llu "
	            "kernel enqueued %llu accepted %llu dropped %llu "
	            "invalid %llu in_flight %llu\n",
	            seen_, answered_, batches_, max_batch_,
	            static_cast<unsigned long long>(q_.kicks()),
	            static_cast<unsigned long long>(q_.polls()),
	            static_cast<unsigned long long>(st.enqueued),
	            static_cast<unsigned long long>(st.accepted),
	            static_cast<unsigned long long>(st.dropped),
	            static_cast<unsigned long long>(st.invalid),
	            static_cast<unsigned long long>(st.in_flight));
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	const options o = parse(argc, argv);
	struct sigaction sa {
	};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	try {
		peer p(o);
		return p.run();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfring-testpeer: %s\n", e.what());
		return 1;
	}
}
