#include "nfring/inspector.hpp"

#include <algorithm>

namespace nfring
{

namespace
{

bool pending(const l7_state &st)
{
	using l7::status;
	return st.tls == status::need_more || st.http == status::need_more ||
	       st.dns == status::need_more || st.quic == status::need_more;
}

// What a flow without a slot shows the rules: nothing known, nothing to
// wait for.
const l7_state nothing{};

} // namespace

inspector::inspector(const inspect_options &opts)
    : opts_(opts), slots_(std::max<std::size_t>(opts.flows, 1)),
      // Not value-initialised: pages are touched only as slots use them.
      buffers_(new std::byte[slots_.size() * opts.stream_bytes])
{
	opts_.flows = slots_.size();
	quic_states_.resize(slots_.size());
	free_.reserve(slots_.size());
	for (std::size_t i = slots_.size(); i-- > 0;)
		free_.push_back(static_cast<std::uint32_t>(i));
	map_.reserve(slots_.size());
	pstreams_.resize(slots_.size());
}

inspector::~inspector() { set_rules(nullptr, nullptr); }

void inspector::set_rules(std::shared_ptr<const ruleset> rules,
                          l7::pattern_scanner *scanner)
{
	rules_ = std::move(rules);
	tcp_fields_ = !rules_ || rules_->reads_tcp_l7();
	if (scanner != scanner_) {
		for (pattern_stream &p : pstreams_) {
			if (p.stream)
				scanner_->close_stream(p.stream);
			p.stream = nullptr;
		}
		scanner_ = scanner;
		for (pattern_stream &p : pstreams_)
			p.hits.resize(scanner_ ? scanner_->set().size() : 0);
	}
	const bool tcp_patterns = scanner_ && rules_ && rules_->tcp_patterns();
	for (std::uint32_t i = 0; i < slots_.size(); i++) {
		slot &s = slots_[i];
		if (!s.used || s.quic)
			continue;
		// The client's view is gone: scan if any pattern may apply.
		s.scans = tcp_patterns;
		s.scanned = 0;
		pstreams_[i].hits.clear();
		if (s.stream.has_buffer())
			scan_new_bytes(i);
	}
}

void inspector::unlink(std::uint32_t i)
{
	slot &s = slots_[i];
	if (s.lru_prev != no_slot)
		slots_[s.lru_prev].lru_next = s.lru_next;
	else
		lru_head_ = s.lru_next;
	if (s.lru_next != no_slot)
		slots_[s.lru_next].lru_prev = s.lru_prev;
	else
		lru_tail_ = s.lru_prev;
	s.lru_prev = s.lru_next = no_slot;
}

void inspector::touch(std::uint32_t i, clock::time_point now)
{
	slots_[i].last_seen = now;
	if (lru_head_ == i)
		return;
	unlink(i);
	slot &s = slots_[i];
	s.lru_next = lru_head_;
	if (lru_head_ != no_slot)
		slots_[lru_head_].lru_prev = i;
	lru_head_ = i;
	if (lru_tail_ == no_slot)
		lru_tail_ = i;
}

std::uint32_t inspector::acquire(const flow_key &key, clock::time_point now)
{
	if (free_.empty()) {
		// The least recently seen flow whose packets nobody holds.
		std::uint32_t victim = lru_tail_;
		while (victim != no_slot && slots_[victim].pinned)
			victim = slots_[victim].lru_prev;
		if (victim == no_slot)
			return no_slot;
		release(victim);
		c_.evicted++;
	}
	const std::uint32_t i = free_.back();
	free_.pop_back();
	slot &s = slots_[i];
	s.key = key;
	s.used = true;
	s.pinned = s.inconsistent = s.overflow = s.ended = s.acked = false;
	s.settled = s.scans = false;
	s.decided_len = s.scanned = 0;
	s.quic = false;
	s.state.reset();
	map_.emplace(key, i);
	s.lru_prev = s.lru_next = no_slot;
	touch(i, now);
	c_.slots_used++;
	return i;
}

void inspector::release(std::uint32_t i)
{
	slot &s = slots_[i];
	if (!s.used)
		return;
	unlink(i);
	map_.erase(s.key);
	s.used = false;
	s.pinned = false;
	s.stream.reset();
	s.state.reset();
	if (s.quic && quic_states_[i])
		quic_states_[i]->reset();
	if (s.scans) {
		if (pstreams_[i].stream)
			scanner_->reset_stream(pstreams_[i].stream);
		pstreams_[i].hits.clear();
	}
	s.scans = false;
	s.quic = false;
	free_.push_back(i);
}

void inspector::clear()
{
	for (std::uint32_t i = 0; i < slots_.size(); i++)
		release(i);
}

void inspector::set_pinned(std::uint32_t i, bool pinned)
{
	slots_[i].pinned = pinned;
}

const flow_key &inspector::key(std::uint32_t i) const
{
	return slots_[i].key;
}

bool inspector::decided(std::uint32_t i) const
{
	return !pending(slots_[i].state) && !scanning(slots_[i]);
}

const l7::pattern_hits *inspector::hits(std::uint32_t i) const
{
	return slots_[i].scans ? &pstreams_[i].hits : nullptr;
}

// Is the slot still scanning its client's stream?  Until the window is
// full or the client ended, unless every pattern has been seen.
bool inspector::scanning(const slot &s) const
{
	if (!s.scans || s.ended || s.stream.window_full())
		return false;
	const auto i = static_cast<std::size_t>(&s - slots_.data());
	return pstreams_[i].hits.count() < scanner_->set().size();
}

// Scans what became contiguous since the last scan.
void inspector::scan_new_bytes(std::uint32_t i)
{
	slot &s = slots_[i];
	const auto bytes = s.stream.contiguous();
	if (!s.scans || bytes.size() <= s.scanned)
		return;
	pattern_stream &p = pstreams_[i];
	if (!p.stream)
		p.stream = scanner_->open_stream();
	if (!p.stream) {
		// Out of memory: this flow is matched per packet.
		s.scans = false;
		return;
	}
	scanner_->scan_stream(p.stream, bytes.subspan(s.scanned), p.hits);
	s.scanned = static_cast<std::uint32_t>(bytes.size());
}

void inspector::settle(slot &s)
{
	if (s.settled || pending(s.state) || scanning(s))
		return;
	s.settled = true;
	s.decided_len = static_cast<std::uint32_t>(s.stream.contiguous().size());
	// Nothing read, nothing a retransmission could contradict.
	if (!s.decided_len)
		s.acked = true;
}

bool inspector::acknowledged(std::uint32_t i) const
{
	return slots_[i].acked;
}

void inspector::run_parsers(slot &s, bool at_end)
{
	using l7::status;
	l7_state &st = s.state;
	const auto bytes = s.stream.contiguous();
	if (st.tls == status::need_more)
		st.tls = l7::parse_tls_stream(bytes, st.hello, scratch_,
		                              opts_.stream_bytes);
	if (st.http == status::need_more)
		st.http = l7::parse_http_request(bytes, st.http_host);
	if (st.dns == status::need_more)
		st.dns = l7::parse_dns_tcp(bytes, st.qnames);
	if (at_end) {
		// The client stopped sending: a message it never finished
		// is one the server never read either.
		for (status *p : {&st.tls, &st.http, &st.dns})
			if (*p == status::need_more)
				*p = status::no;
	}
}

// The flow's slot; or, when the packet may begin one (`start`), a new
// slot (fresh set).  no_slot when there is none; then fresh means that
// every slot was busy (an overflow, counted).
std::uint32_t inspector::slot_for(const flow_key &key, clock::time_point now,
                                  bool start, bool &fresh)
{
	if (auto it = map_.find(key); it != map_.end()) {
		touch(it->second, now);
		return it->second;
	}
	if (!start)
		return no_slot;
	const std::uint32_t i = acquire(key, now);
	if (i == no_slot)
		c_.overflow++;
	fresh = true;
	return i;
}

// May this packet's payload count?  Not when it was copied in part
// (--copy below the packet's size: the rest would be a gap forever, so the
// flow is given up on), nor when its checksum fails (the receiver drops
// it, so it must not decide anything).
bool inspector::usable(const packet_view &pkt, bool checksum_final, slot &s,
                       observation &ob)
{
	if (pkt.l4.size() < pkt.l4_len) {
		s.overflow = ob.overflow = true;
		c_.truncated++;
		return false;
	}
	if (checksum_final) {
		if (auto ok = l4_checksum_ok(pkt); ok && !*ok) {
			c_.bad_checksum++;
			return false;
		}
	}
	return true;
}

inspector::observation inspector::observe_tcp(const packet_view &pkt,
                                              const flow_key &key,
                                              bool checksum_final,
                                              clock::time_point now)
{
	bool fresh = false;
	if (pkt.tcp_syn && !pkt.tcp_ack) {
		// A SYN on a slot that followed another connection on these
		// ports (one picked up in its middle, from the other side, or
		// one whose bytes were seen already): a new connection, and
		// a new slot, unless the caller holds packets of the old one.
		if (const auto it = map_.find(key); it != map_.end()) {
			const slot &old = slots_[it->second];
			const bool same_client = pkt.src == old.client &&
			                         pkt.sport == old.client_port;
			if (!old.pinned && !old.quic &&
			    (!same_client || !old.stream.contiguous().empty()))
				release(it->second);
		}
	}
	// Nothing to learn from a flow's middle without payload.
	const std::uint32_t i =
	        slot_for(key, now, pkt.tcp_syn || !pkt.payload.empty(), fresh);
	if (i == no_slot)
		return {&nothing, no_slot, false, fresh};
	if (fresh) {
		slot &s = slots_[i];
		// A SYN-ACK seen first is the server's: its ACK number is
		// where the client's bytes start.
		const bool server_first = pkt.tcp_syn && pkt.tcp_ack;
		s.client = server_first ? pkt.dst : pkt.src;
		s.client_port = server_first ? pkt.dport : pkt.sport;
		s.stream.start(server_first  ? pkt.ack
		               : pkt.tcp_syn ? pkt.seq + 1
		                             : pkt.seq,
		               opts_.stream_segments);
		if (tcp_fields_) {
			s.state.tls = s.state.http = l7::status::need_more;
			if (pkt.sport == 53 || pkt.dport == 53)
				s.state.dns = l7::status::need_more;
		}
		if (scanner_ && rules_->tcp_patterns()) {
			// Scan only if a pattern rule may see the client's
			// packets (a server seen first: assume one may).
			s.scans = server_first || rules_->patterns_apply(pkt);
			s.scanned = 0;
		}
	}
	slot &s = slots_[i];
	s.state.can_wait = false;
	observation ob{&s.state, i, s.inconsistent, s.overflow, fresh};
	const bool from_client =
	        pkt.src == s.client && pkt.sport == s.client_port;
	ob.hits = hits(i);
	ob.in_stream = from_client && s.scans;
	if (!from_client) {
		if (pkt.tcp_ack && s.settled && !s.acked) {
			const std::uint32_t off = s.stream.offset_of(pkt.ack);
			s.acked = off >= s.decided_len && off < 0x80000000u;
		}
		return ob;
	}
	if (pkt.tcp_syn && !pkt.tcp_ack && !s.stream.has_buffer())
		// A retransmitted SYN, perhaps with a new ISN.
		s.stream.start(pkt.seq + 1, opts_.stream_segments);
	if (!pkt.payload.empty() && !s.inconsistent && !s.overflow) {
		if (!pkt.tcp_ack && !pkt.tcp_syn) {
			c_.no_ack_flag++;
			return ob;
		}
		if (!usable(pkt, checksum_final, s, ob))
			return ob;
		if (!s.stream.has_buffer())
			s.stream.lend({buffers_.get() + i * opts_.stream_bytes,
			               opts_.stream_bytes});
		const std::uint32_t seq = pkt.seq + (pkt.tcp_syn ? 1 : 0);
		switch (s.stream.feed(seq, pkt.payload)) {
		case tcp_stream::fed::conflict:
			s.inconsistent = ob.inconsistent = true;
			c_.conflicts++;
			return ob;
		case tcp_stream::fed::too_scattered:
			s.overflow = ob.overflow = true;
			c_.too_scattered++;
			return ob;
		case tcp_stream::fed::outside:
		case tcp_stream::fed::no_buffer:
			c_.out_of_window++;
			return ob;
		case tcp_stream::fed::duplicate:
			break;
		case tcp_stream::fed::stored:
			if (pending(s.state))
				run_parsers(s, false);
			scan_new_bytes(i);
			break;
		}
		if (pending(s.state)) {
			if (s.stream.window_full()) {
				s.overflow = ob.overflow = true;
				c_.too_long++;
				return ob;
			}
			s.state.can_wait = true;
		}
	}
	// The end of the client's bytes, once nothing is missing before it
	// (a FIN that overtook a segment is not the end yet).
	const std::uint32_t fin_at = s.stream.offset_of(
	        pkt.seq + (pkt.tcp_syn ? 1 : 0) +
	        static_cast<std::uint32_t>(pkt.payload.size()));
	const bool fin_here =
	        pkt.tcp_fin && fin_at <= s.stream.contiguous().size();
	if (fin_here || pkt.tcp_rst) {
		s.ended = true;
		if (pending(s.state)) {
			run_parsers(s, true);
			s.state.can_wait = false;
		}
	}
	settle(s);
	return ob;
}

inspector::observation inspector::observe_udp(const packet_view &pkt,
                                              const flow_key &key,
                                              bool checksum_final,
                                              clock::time_point now)
{
	namespace quic = l7::quic;
	bool fresh = false;
	const std::uint32_t i = slot_for(
	        key, now, quic::looks_like_client_initial(pkt.payload), fresh);
	if (i == no_slot)
		return {&nothing, no_slot, false, fresh};
	if (fresh) {
		slot &s = slots_[i];
		s.quic = true;
		s.client = pkt.src;
		s.client_port = pkt.sport;
		s.state.quic = l7::status::need_more;
		if (!quic_)
			quic_ = std::make_unique<quic::initial_decoder>();
		if (!quic_states_[i])
			quic_states_[i] = std::make_unique<quic::initial_state>(
			        opts_.stream_bytes);
		c_.quic_flows++;
	}
	slot &s = slots_[i];
	s.state.can_wait = false;
	observation ob{&s.state, i, s.inconsistent, s.overflow, fresh};
	const bool from_client =
	        pkt.src == s.client && pkt.sport == s.client_port;
	if (!from_client || s.state.quic != l7::status::need_more ||
	    s.inconsistent || s.overflow)
		return ob;
	if (!usable(pkt, checksum_final, s, ob))
		return ob;
	quic::initial_state &qs = *quic_states_[i];
	switch (quic_->feed(pkt.payload, qs)) {
	case quic::status::complete:
		s.state.quic = l7::parse_client_hello(qs.client_hello(),
		                                      s.state.hello);
		if (s.state.quic == l7::status::need_more) // cannot be
			s.state.quic = l7::status::no;
		// No acknowledgment to wait for: QUIC's are encrypted.
		s.acked = true;
		break;
	case quic::status::need_more:
		s.state.can_wait = true;
		break;
	case quic::status::invalid:
		if (qs.inconsistent()) {
			s.inconsistent = ob.inconsistent = true;
			c_.conflicts++;
		} else if (qs.failed()) {
			s.state.quic = l7::status::no;
			s.acked = true;
		} else {
			// A datagram that does not open with this flow's keys:
			// the server cannot read it either.
			c_.quic_rejected++;
		}
		break;
	case quic::status::not_quic:
		c_.quic_rejected++;
		break;
	}
	return ob;
}

} // namespace nfring
