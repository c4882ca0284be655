// libnetfilter_queue over nfring: the state behind the opaque handles of
// <libnetfilter_queue/libnetfilter_queue.h>.
//
// A program written for NFQUEUE opens a handle, creates queues on it, and
// then loops: recv() on nfq_fd(), nfq_handle_packet() on what recv gave,
// one callback per packet, nfq_set_verdict*() from the callback or later.
// Here each queue is an nfring binding (its own /dev/nfring file and
// rings), and the handle's fd is an epoll instance over those files, so
// the program's poll/select/epoll on it works unchanged.  recv() (and
// read, recvfrom, recvmsg) on that fd is answered by this library, which
// is loaded before libc: it takes one packet off a ring and writes a small
// netlink-shaped record naming it; nfq_handle_packet() dispatches records.
// The payload is never copied: nfq_get_payload points into the frame.
//
// Ids: NFQUEUE numbers packets 1, 2, 3... per queue (32 bits, wrapping),
// and a batch verdict means "every packet up to this id".  nfring ids are
// (generation << 32 | frame) and verdicts come in any order.  Each queue
// keeps, per frame, the packet's NFQUEUE id and its descriptor, a list of
// the packets in flight in id order (for batch verdicts), and a hash from
// id to frame (for single verdicts).  At most ring_entries packets are in
// flight, so all of it is sized once at bind.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netlink.h>
}

#include "nfring.h"
#include "nfring/queue.hpp"

// libnfnetlink's handle is opaque to programs; they only pass it to
// nfnl_fd() and nfnl_rcvbufsiz().  The first member is the fd, as in
// libnfnetlink, so that even its own nfnl_fd() reads the right one if a
// program resolves that symbol from the real libnfnetlink.
struct nfnl_handle {
	int fd;
	nfq_handle *owner;
};

namespace nfring::nfq
{

// Sequence comparison of NFQUEUE ids, as the kernel does for batch
// verdicts: a is at or before b when b - a, as a signed 32-bit value, is
// not negative.
inline bool id_at_or_before(std::uint32_t a, std::uint32_t b)
{
	return static_cast<std::int32_t>(b - a) >= 0;
}

// id -> frame, open addressing with linear probing and backward-shift
// deletion; capacity a power of two at least twice the entries.
class id_index
{
public:
	void reset(std::uint32_t entries);
	void insert(std::uint32_t id, std::uint32_t frame);
	// The frame of id, or nullopt.
	std::optional<std::uint32_t> find(std::uint32_t id) const;
	void erase(std::uint32_t id);

private:
	static constexpr std::uint32_t empty = 0xffffffffu;
	std::size_t home(std::uint32_t id) const
	{
		// Fibonacci hashing: consecutive ids spread over the table.
		return (id * 2654435769u) >> shift_;
	}
	struct slot {
		std::uint32_t id;
		std::uint32_t frame; // empty: free
	};
	std::vector<slot> slots_;
	std::uint32_t mask_ = 0;
	unsigned shift_ = 32;
};

// One packet handed to the program and not yet answered.
struct in_flight {
	nfring_rx_desc desc{};
	std::uint32_t id = 0;
	// Neighbours in id order (frame numbers), -1 at the ends.
	std::int32_t prev = -1, next = -1;
	bool live = false;
};

// The record recv() writes: a netlink message header and nfgenmsg (what
// nfq_handle_packet's callback receives), then what identifies the packet.
// nfq_get_msg_packet_hdr() points into it, as it points into the netlink
// message in libnetfilter_queue.
struct record {
	nlmsghdr nlh;
	nfgenmsg gen;
	std::uint32_t magic;
	std::uint32_t id;
	std::uint32_t frame;
	std::uint32_t queue_num;
	std::uint64_t handle_tag;
	nfqnl_msg_packet_hdr hdr;
	std::uint8_t pad[1];
};
inline constexpr std::uint32_t record_magic = 0x6e66716eu; // "nfqn"

// What the program asked for (nfq_set_mode, _maxlen, _flags).
struct settings {
	std::uint8_t mode = NFQNL_COPY_NONE;
	std::uint32_t range = 0;
	std::uint32_t maxlen = 1024; // NFQUEUE's default queue length
	std::uint32_t flags = 0;
};

struct queue_state {
	nfq_q_handle *qh = nullptr;
	std::uint16_t num = 0;
	nfq_callback *cb = nullptr;
	void *cb_data = nullptr;

	settings want; // applied at bind

	// Bound on first use (see bind_if_needed).
	std::unique_ptr<nfring::queue> ring;
	std::uint32_t frame_size = 0;
	std::uint32_t copy_limit = 0; // bytes nfq_get_payload reports at most
	std::vector<in_flight> packets; // by frame
	id_index ids;
	std::int32_t head = -1, tail = -1; // oldest and newest in flight
	std::uint32_t next_id = 1;
	std::uint32_t live = 0;
	// Counters, printed at nfq_close when NFRING_NFQ_DEBUG is set.
	std::uint64_t received = 0, answered = 0, unknown_ids = 0, kicks = 0;
	std::uint64_t kick_failures = 0;
	// The bind failed (said once on stderr); the queue gets no packets.
	int bind_error = 0;
};

// How queues reach their rings: /dev/nfring normally; tests substitute a
// shared-memory peer.
using ring_opener = std::function<std::unique_ptr<nfring::queue>(
        const nfring::bind_options &)>;
void set_ring_opener(ring_opener opener);
ring_opener &opener();
std::unique_ptr<nfring::queue> open_ring(const nfring::bind_options &o);

} // namespace nfring::nfq

struct nfq_handle {
	int epfd = -1;
	nfnl_handle nfnl{};
	std::uint64_t tag = 0; // tells this handle's records from others'
	std::mutex lock;       // queues, their tables and rings
	std::vector<std::unique_ptr<nfring::nfq::queue_state>> queues;
	std::size_t next_queue = 0; // round robin over queues in recv
	// The queue a MSG_PEEK looked at: the next plain recv takes the same
	// packet from it.  Peeking leaves the packet on its ring, so the fd
	// stays readable.
	std::optional<std::uint16_t> peeked;
	// Set once the program has the fd (nfq_fd, nfnl_fd) or has read from
	// it: from then on a new queue is bound when it is created.
	bool fd_given = false;
	// Socket options the program set on the fd, kept for getsockopt.
	int rcvbuf = 212992;
	long rcvtimeo_us = 0; // SO_RCVTIMEO; 0: none
};

struct nfq_q_handle {
	nfq_handle *h;
	nfring::nfq::queue_state *q;
};

// What the callback's nfq_data points to, for the accessors.
struct nfq_data {
	const nfring::nfq::record *rec;
	const nfring_rx_desc *desc;
	std::byte *frame; // null without a payload
	std::uint32_t payload_len;
	// The module's metadata for the packet (in the read-only kernel
	// region), or null when the queue has none.
	const nfring_rx_meta *meta;
	// What nfq_get_packet_hw() points to, built from meta on demand.
	nfqnl_msg_packet_hw hw;
};

namespace nfring::nfq
{

// Binds q's ring if it is not bound yet.  Caller holds h->lock.  Returns 0
// or an errno value (and prints why once on stderr).
int bind_if_needed(nfq_handle *h, queue_state &q);
// Every queue of h, bound; 0 or the first errno.
int bind_all(nfq_handle *h);

// The handle whose fd this is, or null (the recv family's fast check).
nfq_handle *handle_of_fd(int fd);
void register_fd(nfq_handle *h);
void unregister_fd(nfq_handle *h);

// The next packet of h's rings (round robin, or from queue `only`) as a
// record; false when they are all empty.  With consume, it is taken off
// its ring and handed to the program (it gets its id); without, it stays
// where it is and the record names the id it will get.  Caller holds
// h->lock.
bool take_packet(nfq_handle *h, record &out, bool consume,
                 std::optional<std::uint16_t> only = std::nullopt);

// Sets errno and libnetfilter_queue's nfq_errno; returns -1.
inline int fail(int err)
{
	errno = err;
	nfq_errno = err;
	return -1;
}

// NFRING_NFQ_DEBUG set: print one line per queue at close.
bool debug_enabled();

} // namespace nfring::nfq
