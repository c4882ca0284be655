// libnetfilter_queue over nfring: handles, queues and their settings, and
// the bind each queue makes on first use.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/epoll.h>
#include <system_error>
#include <unistd.h>

#include "nfq_internal.hpp"

#define NFQ_EXPORT extern "C" __attribute__((visibility("default")))

// libnetfilter_queue's global error value: set, as there, when a request
// to the kernel fails.
extern "C" {
__attribute__((visibility("default"))) int nfq_errno = 0;
}

namespace nfring::nfq
{

ring_opener &opener()
{
	static ring_opener o;
	return o;
}

namespace
{

std::atomic<std::uint64_t> next_tag{1};

// Is queue `num` bound by someone in this network namespace?  The module's
// /proc/net/nfring lists every bound queue, one line each, number first.
bool queue_taken(std::uint16_t num)
{
	std::ifstream in("/proc/net/nfring");
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream ls(line);
		unsigned long n;
		if (ls >> n && n == num)
			return true;
	}
	return false;
}

// NFQUEUE's copy range for a mode and a requested range (the kernel's
// nfqnl_set_mode): the payload limit nfq_get_payload will report.
std::uint32_t copy_limit_for(std::uint8_t mode, std::uint32_t range)
{
	// 0xffff less an attribute header: NFQNL_MAX_COPY_RANGE.
	constexpr std::uint32_t max_range = 0xffff - 4;
	if (mode != NFQNL_COPY_PACKET)
		return 0;
	if (range == 0 || range > max_range)
		return max_range;
	return range;
}

} // namespace

void set_ring_opener(ring_opener o)
{
	opener() = std::move(o);
}

std::unique_ptr<nfring::queue> open_ring(const nfring::bind_options &o)
{
	if (opener())
		return opener()(o);
	return std::make_unique<nfring::queue>(o);
}

bool debug_enabled()
{
	static const bool on = std::getenv("NFRING_NFQ_DEBUG") != nullptr;
	return on;
}

int bind_if_needed(nfq_handle *h, queue_state &q)
{
	if (q.ring)
		return 0;
	if (q.bind_error)
		return q.bind_error; // said once already
	nfring::bind_options o;
	o.queue_num = q.num;
	o.copy_range = q.copy_limit = copy_limit_for(q.want.mode, q.want.range);
	// The ring holds what the queue may hold, as a power of two.
	std::uint32_t want = std::clamp<std::uint32_t>(
	        q.want.maxlen, NFRING_MIN_RING_ENTRIES, NFRING_MAX_RING_ENTRIES);
	o.ring_entries = std::bit_ceil(want);
	if (o.ring_entries > NFRING_MAX_RING_ENTRIES)
		o.ring_entries = NFRING_MAX_RING_ENTRIES;
	// Frames are the copy range rounded up: keep within the module's
	// limit by holding fewer packets, as a shorter queue would.
	const std::uint64_t frame = (o.copy_range + NFRING_FRAME_ALIGN - 1) /
	                            NFRING_FRAME_ALIGN * NFRING_FRAME_ALIGN;
	while (frame && o.ring_entries > NFRING_MIN_RING_ENTRIES &&
	       frame * o.ring_entries > NFRING_MAX_FRAMES_BYTES)
		o.ring_entries /= 2;
	o.fail_open = q.want.flags & NFQA_CFG_F_FAIL_OPEN;
	// Without NFQA_CFG_F_GSO, nfnetlink_queue segments GSO packets and
	// finishes checksums left to the device before the copy; so does the
	// module when asked.
	o.normalize = !(q.want.flags & NFQA_CFG_F_GSO);
	// The attributes nfnetlink_queue adds to every packet (bridge ports,
	// link-layer source) and those the program asked for.
	o.metadata = true;
	o.conntrack = q.want.flags & NFQA_CFG_F_CONNTRACK;
	o.uid_gid = q.want.flags & NFQA_CFG_F_UID_GID;
	// What the kernel does with NFQUEUE's packets when the socket goes.
	o.default_verdict = NFRING_DROP;
	try {
		q.ring = open_ring(o);
		const std::uint32_t entries = q.ring->layout().ring_entries;
		q.packets.assign(entries, in_flight{});
		q.ids.reset(entries);
	} catch (const std::system_error &e) {
		const int err = e.code().value();
		std::fprintf(stderr, "nfring (libnetfilter_queue): queue %u: %s: %s\n",
		             q.num, e.what(),
		             nfring::explain_bind_error(err, o).c_str());
		q.ring.reset();
		return q.bind_error = err ? err : EIO;
	} catch (const std::bad_alloc &) {
		q.ring.reset();
		return q.bind_error = ENOMEM;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfring (libnetfilter_queue): queue %u: %s\n",
		             q.num, e.what());
		q.ring.reset();
		return q.bind_error = EIO;
	}
	q.frame_size = q.ring->layout().frame_size;
	q.copy_limit = std::min(q.copy_limit, q.frame_size);
	q.head = q.tail = -1;
	q.live = 0;
	// Keep the kernel waking the fd at every packet: the program may
	// poll the fd on its own at any time, and only an empty wait queue
	// makes the wake-up free.
	q.ring->prepare_sleep();
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.u32 = q.num;
	if (::epoll_ctl(h->epfd, EPOLL_CTL_ADD, q.ring->poll_fd(), &ev) < 0) {
		const int err = errno;
		q.ring.reset();
		return err;
	}
	return 0;
}

int bind_all(nfq_handle *h)
{
	int first = 0;
	for (auto &q : h->queues)
		if (int err = bind_if_needed(h, *q); err && !first)
			first = err;
	return first;
}

} // namespace nfring::nfq

using nfring::nfq::bind_all;
using nfring::nfq::fail;
using nfring::nfq::queue_state;

NFQ_EXPORT struct nfq_handle *nfq_open(void)
{
	// Where libnetfilter_queue would fail to open its netlink socket.
	if (!nfring::nfq::opener() && ::access(NFRING_DEVICE_PATH, F_OK) != 0) {
		const int err = errno;
		std::fprintf(stderr,
		             "nfring (libnetfilter_queue): %s: %s (is nfring.ko "
		             "loaded?)\n",
		             NFRING_DEVICE_PATH, std::strerror(err));
		fail(err);
		return nullptr;
	}
	auto *h = new (std::nothrow) nfq_handle;
	if (!h) {
		fail(ENOMEM);
		return nullptr;
	}
	h->epfd = ::epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0) {
		const int err = errno;
		delete h;
		fail(err);
		return nullptr;
	}
	h->nfnl.fd = h->epfd;
	h->nfnl.owner = h;
	h->tag = nfring::nfq::next_tag.fetch_add(1);
	nfring::nfq::register_fd(h);
	return h;
}

// A handle over a libnfnetlink handle the program opened itself: that is
// a netlink socket to nfnetlink_queue, which nfring replaces.
NFQ_EXPORT struct nfq_handle *nfq_open_nfnl(struct nfnl_handle *)
{
	fail(EOPNOTSUPP);
	return nullptr;
}

NFQ_EXPORT int nfq_close(struct nfq_handle *h)
{
	if (!h)
		return fail(EINVAL);
	nfring::nfq::unregister_fd(h);
	{
		std::lock_guard lk(h->lock);
		if (nfring::nfq::debug_enabled())
			for (auto &q : h->queues)
				std::fprintf(stderr,
				             "nfring (libnetfilter_queue): queue %u: "
				             "%llu received, %llu answered, %llu "
				             "verdicts for unknown ids, %llu kicks\n",
				             q->num,
				             (unsigned long long)q->received,
				             (unsigned long long)q->answered,
				             (unsigned long long)q->unknown_ids,
				             (unsigned long long)q->kicks);
		for (auto &q : h->queues)
			delete q->qh;
		// Closing each binding drops what is still in flight, as
		// nfnetlink_queue does when its socket closes.
		h->queues.clear();
	}
	::close(h->epfd);
	delete h;
	return 0;
}

NFQ_EXPORT struct nfnl_handle *nfq_nfnlh(struct nfq_handle *h)
{
	return h ? &h->nfnl : nullptr;
}

NFQ_EXPORT int nfq_fd(struct nfq_handle *h)
{
	if (!h)
		return fail(EINVAL);
	// The program is done configuring once it asks for the fd.
	std::lock_guard lk(h->lock);
	h->fd_given = true;
	if (int err = bind_all(h))
		return fail(err);
	return h->epfd;
}

// Protocol families bind to the handler of the kernel, which is nfring's
// module: nothing to do, as on kernels since 3.8.
NFQ_EXPORT int nfq_bind_pf(struct nfq_handle *h, uint16_t)
{
	return h ? 0 : fail(EINVAL);
}

NFQ_EXPORT int nfq_unbind_pf(struct nfq_handle *h, uint16_t)
{
	return h ? 0 : fail(EINVAL);
}

NFQ_EXPORT struct nfq_q_handle *nfq_create_queue(struct nfq_handle *h,
                                                 uint16_t num,
                                                 nfq_callback *cb, void *data)
{
	if (!h) {
		fail(EINVAL);
		return nullptr;
	}
	std::lock_guard lk(h->lock);
	for (auto &q : h->queues)
		if (q->num == num) {
			fail(EBUSY);
			return nullptr;
		}
	// nfnetlink_queue refuses a queue another socket has bound; so do
	// we, now, although the ring is bound only on first use.
	if (nfring::nfq::queue_taken(num)) {
		std::fprintf(stderr,
		             "nfring (libnetfilter_queue): queue %u is already "
		             "bound by another process in this network "
		             "namespace\n",
		             num);
		fail(EBUSY);
		return nullptr;
	}
	try {
		auto q = std::make_unique<queue_state>();
		q->num = num;
		q->cb = cb;
		q->cb_data = data;
		q->qh = new nfq_q_handle{h, q.get()};
		auto *qh = q->qh;
		h->queues.push_back(std::move(q));
		// A program that already has the fd (and may be waiting on
		// it) gets the new queue bound now, with NFQUEUE's defaults;
		// its settings can then only shrink (see reconfigure).
		if (h->fd_given) {
			if (int err = nfring::nfq::bind_if_needed(h, *h->queues.back())) {
				delete qh;
				h->queues.pop_back();
				fail(err);
				return nullptr;
			}
		}
		return qh;
	} catch (const std::bad_alloc &) {
		fail(ENOMEM);
		return nullptr;
	}
}

NFQ_EXPORT int nfq_destroy_queue(struct nfq_q_handle *qh)
{
	if (!qh)
		return fail(EINVAL);
	nfq_handle *h = qh->h;
	std::lock_guard lk(h->lock);
	auto it = std::find_if(h->queues.begin(), h->queues.end(),
	                       [&](auto &q) { return q->qh == qh; });
	if (it == h->queues.end())
		return fail(ENOENT);
	if ((*it)->ring)
		::epoll_ctl(h->epfd, EPOLL_CTL_DEL, (*it)->ring->poll_fd(),
		            nullptr);
	if (h->peeked == (*it)->num)
		h->peeked.reset();
	delete qh;
	h->queues.erase(it);
	h->next_queue = 0;
	return 0;
}

namespace
{

// Settings take effect at bind.  After it, a change the bound ring can
// honour (a smaller copy range or queue length) is applied to what the
// program sees; one it cannot (more bytes per packet than the frames
// hold, another FAIL_OPEN or GSO setting) is refused with EBUSY, since
// binding again would drop the packets in flight.
int reconfigure(nfq_q_handle *qh,
                const std::function<void(nfring::nfq::settings &)> &set)
{
	if (!qh)
		return fail(EINVAL);
	std::lock_guard lk(qh->h->lock);
	queue_state &q = *qh->q;
	nfring::nfq::settings next = q.want;
	set(next);
	if (q.ring) {
		const std::uint32_t limit =
		        nfring::nfq::copy_limit_for(next.mode, next.range);
		// The flags the binding was made with.
		constexpr std::uint32_t bound_flags =
		        NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO |
		        NFQA_CFG_F_CONNTRACK | NFQA_CFG_F_UID_GID;
		if (limit > q.frame_size ||
		    (next.flags & bound_flags) != (q.want.flags & bound_flags)) {
			std::fprintf(stderr,
			             "nfring (libnetfilter_queue): queue %u is "
			             "bound already; set its mode and flags "
			             "before nfq_fd() or the first recv\n",
			             q.num);
			return fail(EBUSY);
		}
		q.copy_limit = limit;
	}
	q.want = next;
	return 0;
}

} // namespace

NFQ_EXPORT int nfq_set_mode(struct nfq_q_handle *qh, uint8_t mode,
                            unsigned int range)
{
	if (mode > NFQNL_COPY_PACKET)
		return fail(EINVAL);
	return reconfigure(qh, [&](nfring::nfq::settings &s) {
		s.mode = mode;
		s.range = range;
	});
}

NFQ_EXPORT int nfq_set_queue_maxlen(struct nfq_q_handle *qh, uint32_t len)
{
	return reconfigure(qh,
	                   [&](nfring::nfq::settings &s) { s.maxlen = len; });
}

// Flags nfnetlink_queue knows.  FAIL_OPEN is the module's; without GSO the
// module segments GSO packets and finishes checksums left to the device
// (NFRING_BIND_NORMALIZE), as nfnetlink_queue does; UID_GID and CONNTRACK
// fill the module's metadata (the first for nfq_get_uid/gid; this API has
// no accessor for the second); SECCTX is accepted, and the attribute is
// absent, as for a packet without a security mark.
NFQ_EXPORT int nfq_set_queue_flags(struct nfq_q_handle *qh, uint32_t mask,
                                   uint32_t flags)
{
	if (mask & ~(NFQA_CFG_F_MAX - 1))
		return fail(EOPNOTSUPP);
	return reconfigure(qh, [&](nfring::nfq::settings &s) {
		s.flags = (s.flags & ~mask) | (flags & mask);
	});
}

// libnfnetlink's two calls on the handle, for programs that resolve them
// here (this library is loaded first).
NFQ_EXPORT int nfnl_fd(struct nfnl_handle *h)
{
	if (!h)
		return fail(EINVAL);
	return h->owner ? nfq_fd(h->owner) : h->fd;
}

// The ring, not a socket buffer, holds the packets: its size is the
// queue length.  The value is kept and read back, as setsockopt would.
NFQ_EXPORT unsigned int nfnl_rcvbufsiz(const struct nfnl_handle *h,
                                       unsigned int size)
{
	if (!h || !h->owner)
		return 0;
	std::lock_guard lk(h->owner->lock);
	h->owner->rcvbuf = static_cast<int>(std::min(size, 0x7fffffffu / 2)) * 2;
	return static_cast<unsigned int>(h->owner->rcvbuf);
}
