// libnetfilter_queue over nfring: verdicts.  NFQUEUE ids are mapped to
// frames (see nfq_internal.hpp), each verdict goes onto the queue's
// verdict ring, and the module is kicked only when its reinject work went
// idle.  Under load a verdict costs no system call.
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/netfilter.h>

#include "nfq_internal.hpp"

#define NFQ_EXPORT extern "C" __attribute__((visibility("default")))

namespace nfring::nfq
{

void id_index::reset(std::uint32_t entries)
{
	std::uint32_t cap = 16;
	while (cap < 2 * entries)
		cap *= 2;
	slots_.assign(cap, slot{0, empty});
	mask_ = cap - 1;
	shift_ = 32 - static_cast<unsigned>(__builtin_ctz(cap));
}

void id_index::insert(std::uint32_t id, std::uint32_t frame)
{
	std::size_t i = home(id);
	while (slots_[i].frame != empty)
		i = (i + 1) & mask_;
	slots_[i] = slot{id, frame};
}

std::optional<std::uint32_t> id_index::find(std::uint32_t id) const
{
	if (slots_.empty())
		return std::nullopt;
	for (std::size_t i = home(id);; i = (i + 1) & mask_) {
		if (slots_[i].frame == empty)
			return std::nullopt;
		if (slots_[i].id == id)
			return slots_[i].frame;
	}
}

void id_index::erase(std::uint32_t id)
{
	if (slots_.empty())
		return;
	std::size_t i = home(id);
	while (slots_[i].frame != empty && slots_[i].id != id)
		i = (i + 1) & mask_;
	if (slots_[i].frame == empty)
		return;
	// Backward shift: move later members of the probe run into the
	// hole when the hole lies between their home and where they are.
	for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
		if (slots_[j].frame == empty)
			break;
		const std::size_t h = home(slots_[j].id);
		const bool movable = ((j - h) & mask_) >= ((j - i) & mask_);
		if (movable) {
			slots_[i] = slots_[j];
			i = j;
		}
	}
	slots_[i].frame = empty;
}

namespace
{

// The size of the netlink message libnetfilter_queue would have sent:
// what its nfq_set_verdict* return on success.
int message_size(bool mark, std::uint32_t data_len)
{
	int n = NLMSG_ALIGN(sizeof(nlmsghdr)) + NLMSG_ALIGN(sizeof(nfgenmsg)) +
	        NFA_ALIGN(NFA_LENGTH(sizeof(nfqnl_msg_verdict_hdr)));
	if (mark)
		n += NFA_ALIGN(NFA_LENGTH(sizeof(std::uint32_t)));
	if (data_len)
		n += NFA_ALIGN(NFA_LENGTH(data_len));
	return n;
}

bool verdict_supported(std::uint32_t v)
{
	// nfring answers accept, drop and repeat.  NF_QUEUE (to another
	// queue), NF_STOLEN and NF_STOP have no nfring verdict.
	return v == NF_ACCEPT || v == NF_DROP || v == NF_REPEAT;
}

void unlink(queue_state &q, std::uint32_t frame)
{
	in_flight &p = q.packets[frame];
	if (p.prev >= 0)
		q.packets[p.prev].next = p.next;
	else
		q.head = p.next;
	if (p.next >= 0)
		q.packets[p.next].prev = p.prev;
	else
		q.tail = p.prev;
	q.ids.erase(p.id);
	p.live = false;
	p.prev = p.next = -1;
	q.live--;
	q.answered++;
}

// One slot of the verdict ring.  There is always one: every in-flight
// packet owns a frame until the module has read its verdict, so verdicts
// waiting never outnumber the ring.
nfring_verdict *verdict_slot(queue_state &q)
{
	if (q.ring->verdicts().reserve(1) == 0)
		return nullptr;
	return &q.ring->verdicts().slot(0);
}

// submit_verdicts publishes first and then kicks; a kick that fails
// (which a bound device does not) leaves the verdicts published, to be
// read at the module's next pass, and must not unwind into C callers.
void publish(queue_state &q, std::uint32_t n)
{
	try {
		if (q.ring->submit_verdicts(n))
			q.kicks++;
	} catch (const std::system_error &) {
		q.kick_failures++;
	}
}

// Programs often give the packet back as it came ("accept, and here is
// the payload").  Replacing it with itself is no change, and the module
// refuses to replace some packets at all (GSO ones, and any from a queue
// bound in a user namespace), so such a verdict is sent without a new
// payload.  Unchanged: the whole packet, byte for byte from another
// buffer; or a GSO packet's own frame at its own length (a GSO packet
// cannot be replaced, so an edit in place could not take effect anyway).
bool payload_unchanged(queue_state &q, const nfring_rx_desc &d,
                       const unsigned char *buf, std::uint32_t len)
{
	if (len != d.pkt_len || d.cap_len != d.pkt_len || !q.frame_size)
		return false;
	const std::byte *f = q.ring->frame(d).data();
	if (reinterpret_cast<const std::byte *>(buf) == f)
		return d.flags & NFRING_RX_GSO;
	return std::memcmp(buf, f, len) == 0;
}

int set_verdict(nfq_q_handle *qh, std::uint32_t id, std::uint32_t verdict,
                bool set_mark, std::uint32_t mark, std::uint32_t data_len,
                const unsigned char *buf)
{
	if (!qh || !verdict_supported(verdict))
		return fail(EINVAL);
	std::lock_guard lk(qh->h->lock);
	queue_state &q = *qh->q;
	if (!q.ring)
		return fail(ENOENT);
	const auto frame = q.ids.find(id);
	if (!frame) {
		// nfnetlink_queue answers ENOENT too, in an error message
		// on the socket; here it comes back at once.
		q.unknown_ids++;
		return fail(ENOENT);
	}
	in_flight &p = q.packets[*frame];
	if (!p.live || p.id != id) {
		q.unknown_ids++;
		return fail(ENOENT);
	}
	nfring_verdict v{};
	v.id = p.desc.id;
	v.verdict = verdict;
	if (set_mark) {
		v.flags |= NFRING_VF_SET_MARK;
		v.mark = mark;
	}
	if (buf && data_len && !payload_unchanged(q, p.desc, buf, data_len)) {
		// A new payload goes into the packet's own frame: it must
		// have one and fit.
		if (!q.frame_size || data_len > q.frame_size)
			return fail(EINVAL);
		std::byte *f = q.ring->frame(p.desc).data();
		if (reinterpret_cast<const std::byte *>(buf) != f)
			std::memmove(f, buf, data_len);
		v.flags |= NFRING_VF_MANGLE;
		v.new_len = data_len;
	}
	nfring_verdict *slot = verdict_slot(q);
	if (!slot)
		return fail(EAGAIN);
	*slot = v;
	unlink(q, *frame);
	publish(q, 1);
	return message_size(set_mark, buf ? data_len : 0);
}

// Every packet in flight up to id, oldest first, as nfnetlink_queue's
// batch verdict.
int set_verdict_batch(nfq_q_handle *qh, std::uint32_t id,
                      std::uint32_t verdict, bool set_mark,
                      std::uint32_t mark)
{
	if (!qh || !verdict_supported(verdict))
		return fail(EINVAL);
	std::lock_guard lk(qh->h->lock);
	queue_state &q = *qh->q;
	if (!q.ring)
		return fail(ENOENT);
	std::uint32_t n = 0;
	while (q.head >= 0 &&
	       id_at_or_before(q.packets[q.head].id, id)) {
		const std::uint32_t room = q.ring->verdicts().reserve(n + 1);
		if (room <= n)
			break; // cannot happen: see verdict_slot
		const auto frame = static_cast<std::uint32_t>(q.head);
		nfring_verdict &v = q.ring->verdicts().slot(n);
		v = nfring_verdict{};
		v.id = q.packets[frame].desc.id;
		v.verdict = verdict;
		if (set_mark) {
			v.flags = NFRING_VF_SET_MARK;
			v.mark = mark;
		}
		unlink(q, frame);
		n++;
	}
	if (n == 0) {
		q.unknown_ids++;
		return fail(ENOENT);
	}
	publish(q, n);
	return message_size(set_mark, 0);
}

} // namespace

} // namespace nfring::nfq

NFQ_EXPORT int nfq_set_verdict(struct nfq_q_handle *qh, uint32_t id,
                               uint32_t verdict, uint32_t data_len,
                               const unsigned char *buf)
{
	return nfring::nfq::set_verdict(qh, id, verdict, false, 0, data_len,
	                                buf);
}

NFQ_EXPORT int nfq_set_verdict2(struct nfq_q_handle *qh, uint32_t id,
                                uint32_t verdict, uint32_t mark,
                                uint32_t data_len, const unsigned char *buf)
{
	return nfring::nfq::set_verdict(qh, id, verdict, true, mark, data_len,
	                                buf);
}

// Deprecated there: the mark is in network byte order.
NFQ_EXPORT int nfq_set_verdict_mark(struct nfq_q_handle *qh, uint32_t id,
                                    uint32_t verdict, uint32_t mark,
                                    uint32_t data_len,
                                    const unsigned char *buf)
{
	return nfring::nfq::set_verdict(qh, id, verdict, true, ntohl(mark),
	                                data_len, buf);
}

NFQ_EXPORT int nfq_set_verdict_batch(struct nfq_q_handle *qh, uint32_t id,
                                     uint32_t verdict)
{
	return nfring::nfq::set_verdict_batch(qh, id, verdict, false, 0);
}

NFQ_EXPORT int nfq_set_verdict_batch2(struct nfq_q_handle *qh, uint32_t id,
                                      uint32_t verdict, uint32_t mark)
{
	return nfring::nfq::set_verdict_batch(qh, id, verdict, true, mark);
}
