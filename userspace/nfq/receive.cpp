// libnetfilter_queue over nfring: packets reaching the program.  recv()
// and its relatives on a handle's fd take a packet off the rings, here in
// the program's process, with no system call while packets wait; only an
// empty ring makes them sleep (epoll_wait on the fd).  nfq_handle_packet()
// then calls the queue's callback.
//
// This library is loaded before libc (it is a dependency of the program,
// or LD_PRELOADed), so its recv, recvfrom, recvmsg and read are the ones
// the program calls.  They serve the handles' fds and pass every other fd
// to libc.
#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nfq_internal.hpp"

#define NFQ_EXPORT extern "C" __attribute__((visibility("default")))

namespace nfring::nfq
{

namespace
{

// The handles' fds.  The recv family checks `count` first, so other fds
// cost one load while no handle is open, and a look at the fds used so far
// while one is (never at the handles themselves: another thread may be
// closing one).
constexpr std::size_t max_handles = 4096;
// fd + 1 of each handle, 0 for a free slot.
std::array<std::atomic<int>, max_handles> fds{};
std::array<std::atomic<nfq_handle *>, max_handles> handles{};
std::atomic<std::size_t> count{0}, used{0};
std::mutex registry_lock;

template <class F> F real(const char *name)
{
	return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

using recv_fn = ssize_t (*)(int, void *, std::size_t, int);
using recvfrom_fn = ssize_t (*)(int, void *, std::size_t, int, sockaddr *,
                                socklen_t *);
using recvmsg_fn = ssize_t (*)(int, msghdr *, int);
using read_fn = ssize_t (*)(int, void *, std::size_t);

} // namespace

nfq_handle *handle_of_fd(int fd)
{
	if (count.load(std::memory_order_acquire) == 0 || fd < 0)
		return nullptr;
	const std::size_t n = used.load(std::memory_order_acquire);
	for (std::size_t i = 0; i < n; i++)
		if (fds[i].load(std::memory_order_acquire) == fd + 1)
			return handles[i].load(std::memory_order_acquire);
	return nullptr;
}

void register_fd(nfq_handle *h)
{
	std::lock_guard lk(registry_lock);
	for (std::size_t i = 0; i < max_handles; i++)
		if (!handles[i].load()) {
			handles[i].store(h, std::memory_order_release);
			fds[i].store(h->epfd + 1, std::memory_order_release);
			if (used.load() <= i)
				used.store(i + 1, std::memory_order_release);
			count.fetch_add(1, std::memory_order_release);
			return;
		}
	// More handles than slots: recv on this one goes to libc and fails.
	std::fprintf(stderr, "nfring (libnetfilter_queue): more than %zu "
	                     "handles open; recv on the new one will fail\n",
	             max_handles);
}

void unregister_fd(nfq_handle *h)
{
	std::lock_guard lk(registry_lock);
	for (std::size_t i = 0; i < max_handles; i++)
		if (handles[i].load() == h) {
			fds[i].store(0, std::memory_order_release);
			handles[i].store(nullptr, std::memory_order_release);
			count.fetch_sub(1, std::memory_order_release);
		}
}

bool take_packet(nfq_handle *h, record &out, bool consume,
                 std::optional<std::uint16_t> only)
{
	const std::size_t n = h->queues.size();
	for (std::size_t k = 0; k < n; k++) {
		queue_state &q = *h->queues[(h->next_queue + k) % n];
		if (only && q.num != *only)
			continue;
		if (!q.ring || q.ring->rx().peek(1) == 0)
			continue;
		const nfring_rx_desc d = q.ring->rx().at(0);
		const std::uint32_t entries = q.packets.size();
		if (d.frame >= entries || q.packets[d.frame].live) {
			// Not a frame the module could hand out now.  Never
			// seen; counted rather than trusted.
			q.ring->rx().release(1);
			q.unknown_ids++;
			k--; // the same queue again
			continue;
		}
		const std::uint32_t id = q.next_id;
		if (consume) {
			q.ring->rx().release(1);
			in_flight &p = q.packets[d.frame];
			p.desc = d;
			p.id = q.next_id++;
			p.live = true;
			p.prev = q.tail;
			p.next = -1;
			if (q.tail >= 0)
				q.packets[q.tail].next =
				        static_cast<std::int32_t>(d.frame);
			else
				q.head = static_cast<std::int32_t>(d.frame);
			q.tail = static_cast<std::int32_t>(d.frame);
			q.ids.insert(p.id, d.frame);
			q.live++;
			q.received++;
		}

		std::memset(&out, 0, sizeof(out));
		out.nlh.nlmsg_len = sizeof(record);
		out.nlh.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
		out.gen.nfgen_family = d.pf;
		out.gen.version = NFNETLINK_V0;
		out.gen.res_id = htons(q.num);
		out.magic = record_magic;
		out.id = id;
		out.frame = d.frame;
		out.queue_num = q.num;
		out.handle_tag = h->tag;
		out.hdr.packet_id = htonl(id);
		out.hdr.hw_protocol = d.hw_protocol;
		out.hdr.hook = d.hook;
		// The next call starts after this queue: no queue starves.
		if (consume)
			h->next_queue = (h->next_queue + k + 1) % n;
		return true;
	}
	return false;
}

namespace
{

bool any_bound(nfq_handle *h)
{
	for (auto &q : h->queues)
		if (q->ring)
			return true;
	return false;
}

// After epoll_wait was interrupted by a signal handler: would a socket's
// recv have been restarted?  It is when every handler the program
// installed has SA_RESTART (signal() sets it); one without it makes recv
// fail with EINTR, which programs use to leave their loop.
bool restart_after_signal()
{
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct sigaction sa{};
		if (::sigaction(sig, nullptr, &sa) != 0)
			continue;
		if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

// recv() on a handle's fd: one record, or -1 with errno.  A packet leaves
// its ring only when it is returned whole: a peek or a buffer too small
// for a record leaves it there, and the fd readable.
ssize_t receive(nfq_handle *h, void *buf, std::size_t len, int flags)
{
	for (;;) {
		{
			std::lock_guard lk(h->lock);
			h->fd_given = true;
			if (int err = bind_all(h); err && !any_bound(h))
				return fail(err);
			const bool peek = flags & MSG_PEEK;
			const bool fits = len >= sizeof(record);
			record r;
			if (take_packet(h, r, !peek && fits, h->peeked)) {
				// A short buffer: the packet waits for a
				// larger one (netlink would have cut the
				// message and lost the packet).
				if (!fits)
					return fail(ENOBUFS);
				std::memcpy(buf, &r, sizeof(record));
				h->peeked = peek ? std::optional(r.queue_num)
				                 : std::nullopt;
				return sizeof(record);
			}
			h->peeked.reset();
		}
		if (flags & MSG_DONTWAIT)
			return fail(EAGAIN);
		// Only an empty ring gets here: the fd's flags cost a call
		// only then.
		const int fl = ::fcntl(h->epfd, F_GETFL);
		if (fl >= 0 && (fl & O_NONBLOCK))
			return fail(EAGAIN);
		int timeout = -1;
		{
			std::lock_guard lk(h->lock);
			if (h->rcvtimeo_us > 0)
				timeout = static_cast<int>(std::clamp<long>(
				        h->rcvtimeo_us / 1000, 1, INT_MAX));
		}
		epoll_event ev[8];
		const int n = ::epoll_wait(h->epfd, ev, 8, timeout);
		if (n == 0)
			return fail(EAGAIN);
		if (n < 0) {
			if (errno == EINTR && restart_after_signal())
				continue;
			return -1;
		}
		// A transport whose wake-up is an event (the tests'
		// shared-memory peer) must consume it; the device's
		// readiness is the ring itself.
		std::lock_guard lk(h->lock);
		for (auto &q : h->queues)
			if (q->ring)
				q->ring->ack_wakeup();
	}
}

// A netlink peer address: the kernel (port 0), as recvfrom reports for
// nfnetlink_queue's messages.
void kernel_address(sockaddr *addr, socklen_t *addrlen)
{
	if (!addr || !addrlen)
		return;
	sockaddr_nl nl{};
	nl.nl_family = AF_NETLINK;
	std::memcpy(addr, &nl, std::min<socklen_t>(*addrlen, sizeof(nl)));
	*addrlen = sizeof(nl);
}

} // namespace

} // namespace nfring::nfq

using nfring::nfq::fail;
using nfring::nfq::handle_of_fd;
using nfring::nfq::record;

NFQ_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (nfq_handle *h = handle_of_fd(fd))
		return nfring::nfq::receive(h, buf, len, flags);
	static const auto next = nfring::nfq::real<nfring::nfq::recv_fn>("recv");
	return next(fd, buf, len, flags);
}

NFQ_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                            struct sockaddr *addr, socklen_t *addrlen)
{
	if (nfq_handle *h = handle_of_fd(fd)) {
		const ssize_t n = nfring::nfq::receive(h, buf, len, flags);
		if (n >= 0)
			nfring::nfq::kernel_address(addr, addrlen);
		return n;
	}
	static const auto next =
	        nfring::nfq::real<nfring::nfq::recvfrom_fn>("recvfrom");
	return next(fd, buf, len, flags, addr, addrlen);
}

NFQ_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (nfq_handle *h = handle_of_fd(fd)) {
		if (!msg || (msg->msg_iovlen && !msg->msg_iov))
			return fail(EFAULT);
		// One record into the first buffer large enough for it.
		for (std::size_t i = 0; i < msg->msg_iovlen; i++) {
			iovec &v = msg->msg_iov[i];
			if (v.iov_len < sizeof(record) && i + 1 < msg->msg_iovlen)
				continue;
			const ssize_t n = nfring::nfq::receive(
			        h, v.iov_base, v.iov_len, flags);
			if (n >= 0) {
				nfring::nfq::kernel_address(
				        static_cast<sockaddr *>(msg->msg_name),
				        &msg->msg_namelen);
				msg->msg_controllen = 0;
				msg->msg_flags = 0;
			}
			return n;
		}
		return fail(ENOBUFS);
	}
	static const auto next =
	        nfring::nfq::real<nfring::nfq::recvmsg_fn>("recvmsg");
	return next(fd, msg, flags);
}

NFQ_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	if (nfq_handle *h = handle_of_fd(fd))
		return nfring::nfq::receive(h, buf, len, 0);
	static const auto next = nfring::nfq::real<nfring::nfq::read_fn>("read");
	return next(fd, buf, len);
}

// The fortified forms (_FORTIFY_SOURCE, Debian's default build) that a
// program calls in place of recv, recvfrom and read when the buffer's size
// is known: glibc's go straight to its own recv, past ours.
extern "C" [[noreturn]] void __chk_fail(void);

NFQ_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
                              int flags)
{
	if (len > buflen)
		__chk_fail();
	return recv(fd, buf, len, flags);
}

NFQ_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
                                  size_t buflen, int flags,
                                  struct sockaddr *addr, socklen_t *addrlen)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, addr, addrlen);
}

NFQ_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return read(fd, buf, len);
}

NFQ_EXPORT int nfq_handle_packet(struct nfq_handle *h, char *buf, int len)
{
	if (!h || !buf || len < 0)
		return fail(EINVAL);
	int off = 0;
	while (len - off >= static_cast<int>(sizeof(nlmsghdr))) {
		char *msg = buf + off;
		nlmsghdr nlh;
		std::memcpy(&nlh, msg, sizeof(nlh));
		if (nlh.nlmsg_len < sizeof(nlmsghdr) ||
		    nlh.nlmsg_len > static_cast<unsigned>(len - off))
			return fail(EINVAL);
		off += NLMSG_ALIGN(nlh.nlmsg_len);
		record r;
		if (nlh.nlmsg_len != sizeof(record))
			continue;
		std::memcpy(&r, msg, sizeof(r));
		if (r.magic != nfring::nfq::record_magic || r.handle_tag != h->tag)
			continue;
		nfq_q_handle *qh = nullptr;
		nfring_rx_desc desc{};
		nfq_data data{};
		{
			std::lock_guard lk(h->lock);
			for (auto &q : h->queues) {
				if (q->num != r.queue_num || !q->ring ||
				    r.frame >= q->packets.size())
					continue;
				const auto &p = q->packets[r.frame];
				// Answered already, or the frame holds
				// another packet now: an old buffer.
				if (!p.live || p.id != r.id)
					break;
				qh = q->qh;
				desc = p.desc;
				data.meta = q->ring->meta(desc);
				if (q->copy_limit) {
					data.frame = q->ring->frame(desc).data();
					data.payload_len =
					        std::min(desc.cap_len, q->copy_limit);
				}
				break;
			}
		}
		if (!qh || !qh->q->cb)
			continue;
		data.rec = reinterpret_cast<const record *>(msg);
		data.desc = &desc;
		auto *gen = reinterpret_cast<nfgenmsg *>(msg + sizeof(nlmsghdr));
		if (qh->q->cb(qh, gen, &data, qh->q->cb_data) < 0)
			return -1;
	}
	return 0;
}

// Options a program sets on a netlink socket.  On a handle's fd they are
// kept (SO_RCVBUF, SO_RCVTIMEO) or have nothing to do (netlink's
// NETLINK_NO_ENOBUFS and the like: nothing is dropped from a ring for want
// of buffer space); unknown ones fail as they would on a socket.
NFQ_EXPORT int setsockopt(int fd, int level, int name, const void *val,
                          socklen_t len)
{
	nfq_handle *h = handle_of_fd(fd);
	if (!h) {
		using fn = int (*)(int, int, int, const void *, socklen_t);
		static const auto next = nfring::nfq::real<fn>("setsockopt");
		return next(fd, level, name, val, len);
	}
	std::lock_guard lk(h->lock);
	if (level == SOL_SOCKET &&
	    (name == SO_RCVBUF || name == SO_RCVBUFFORCE ||
	     name == SO_SNDBUF || name == SO_SNDBUFFORCE)) {
		int v;
		if (len < sizeof(v) || !val)
			return fail(EINVAL);
		std::memcpy(&v, val, sizeof(v));
		if (name == SO_RCVBUF || name == SO_RCVBUFFORCE)
			h->rcvbuf = std::clamp(v, 0, INT_MAX / 2) * 2;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_RCVTIMEO) {
		timeval tv{};
		if (len < sizeof(tv) || !val)
			return fail(EINVAL);
		std::memcpy(&tv, val, sizeof(tv));
		h->rcvtimeo_us = tv.tv_sec * 1000000L + tv.tv_usec;
		return 0;
	}
	if (level == SOL_NETLINK || level == SOL_SOCKET)
		return 0;
	return fail(ENOPROTOOPT);
}

NFQ_EXPORT int getsockopt(int fd, int level, int name, void *val,
                          socklen_t *len)
{
	nfq_handle *h = handle_of_fd(fd);
	if (!h) {
		using fn = int (*)(int, int, int, void *, socklen_t *);
		static const auto next = nfring::nfq::real<fn>("getsockopt");
		return next(fd, level, name, val, len);
	}
	if (!val || !len)
		return fail(EFAULT);
	std::lock_guard lk(h->lock);
	if (level == SOL_SOCKET && name == SO_RCVBUF && *len >= sizeof(int)) {
		std::memcpy(val, &h->rcvbuf, sizeof(int));
		*len = sizeof(int);
		return 0;
	}
	return fail(ENOPROTOOPT);
}
