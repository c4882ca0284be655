#include "nfring/verdict_engine.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <netinet/in.h>

#include "nfring/packet.hpp"

namespace nfring
{

namespace
{

std::string addr_str(const packet_view &p, const ip_addr &a)
{
	char buf[INET6_ADDRSTRLEN];
	if (p.family == 4)
		inet_ntop(AF_INET, &a[12], buf, sizeof(buf));
	else
		inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
	return buf;
}

const char *action_name(const rule_action &a)
{
	switch (a.kind) {
	case action_kind::accept:
		return "accept";
	case action_kind::drop:
		return "drop";
	case action_kind::bypass:
		return "bypass";
	default:
		return "mark";
	}
}

// Fields of nothing: what a packet without a flow slot shows the rules.
const l7_state no_fields{};

} // namespace

verdict_engine::verdict_engine(const verdict_options &opts,
                               std::uint32_t ring_entries,
                               std::vector<std::unique_ptr<filter>> filters,
                               packet_bytes bytes, std::uint16_t queue_num)
    : opts_(opts), filters_(std::move(filters)), bytes_(std::move(bytes)),
      queue_num_(queue_num), flows_(opts.flow_max, opts.flow_idle),
      insp_(opts.inspect), extra_(insp_.capacity())
{
	// Held packets keep their frames: leave most of the ring to traffic
	// that is decided at once.
	const std::size_t total =
	        opts.hold_total ? opts.hold_total
	                        : std::max<std::size_t>(ring_entries / 4, 1);
	held_pool_.resize(total);
	held_free_.reserve(total);
	for (std::size_t i = total; i-- > 0;)
		held_free_.push_back(static_cast<std::uint32_t>(i));
	holding_.reserve(extra_.size());
	c_.filter_hits.assign(filters_.size(), 0);
}

void verdict_engine::set_rules(std::shared_ptr<const ruleset> rules,
                               std::vector<nfring_verdict> &out,
                               clock::time_point now)
{
	rules_ = std::move(rules);
	// The new scanner is made before the old one goes, so the inspector
	// sees a different one and closes the old streams.
	std::unique_ptr<l7::pattern_scanner> old = std::move(scanner_);
	if (rules_->patterns())
		scanner_ = std::make_unique<l7::pattern_scanner>(
		        rules_->patterns());
	insp_.set_rules(rules_, scanner_.get());
	old.reset();
	// Decisions of the old rules do not hold under the new ones.
	flows_.clear();
	for (auto &e : extra_)
		e.decision = none;
	c_.rule_hits.assign(rules_->rules().size(), 0);
	const std::vector<std::uint32_t> slots = holding_;
	for (std::uint32_t s : slots)
		rejudge(s, out, now);
}

l7::pattern_scanner *verdict_engine::scan_for(const packet_view &pkt,
                                              const l7::pattern_hits *stream,
                                              bool in_stream)
{
	if (!scanner_)
		return nullptr;
	scanner_->begin_packet(pkt.payload, !in_stream, stream);
	return scanner_.get();
}

void verdict_engine::apply(const rule_action &a, nfring_verdict &v,
                           bool final)
{
	switch (a.kind) {
	case action_kind::accept:
		v.verdict = NFRING_ACCEPT;
		c_.accepted++;
		break;
	case action_kind::bypass:
		v.verdict = NFRING_ACCEPT;
		c_.accepted++;
		// Only a decision nothing later can overturn: a bypassed
		// flow is never seen again, so bypassing on a SYN or on an
		// unacknowledged hello would let what follows pass unjudged.
		if (final && opts_.bypass) {
			v.flags |= NFRING_VF_BYPASS;
			c_.bypassed++;
		}
		break;
	case action_kind::drop:
		v.verdict = NFRING_DROP;
		c_.dropped++;
		break;
	case action_kind::mark:
		v.verdict = NFRING_ACCEPT;
		v.flags = NFRING_VF_SET_MARK;
		v.mark = a.mark;
		c_.marked++;
		break;
	}
}

void verdict_engine::log_event(const packet_view &pkt, const rule_action &a,
                               std::uint32_t line, log_reason why,
                               l7_field field, const l7_state *st)
{
	flow_event e;
	e.unix_ns = static_cast<std::uint64_t>(
	        std::chrono::duration_cast<std::chrono::nanoseconds>(
	                std::chrono::system_clock::now().time_since_epoch())
	                .count());
	e.queue = queue_num_;
	e.family = pkt.family;
	e.proto = pkt.proto;
	e.src = pkt.src;
	e.dst = pkt.dst;
	e.sport = pkt.sport;
	e.dport = pkt.dport;
	e.line = line;
	e.reason = why;
	e.action = a.kind;
	e.mark = a.mark;
	e.field = field;
	if (st)
		e.set_fields(*st);
	log_->push(e); // counted by the queue when full
}

void verdict_engine::emit_rule(const nfring_rx_desc &d, const packet_view *pkt,
                               std::size_t idx, bool cached,
                               std::vector<nfring_verdict> &out,
                               const l7_state *st, bool final)
{
	const rule &r = rules_->rules()[idx];
	nfring_verdict v{};
	v.id = d.id;
	c_.rule_hits[idx]++;
	apply(r.action, v, final);
	out.push_back(v);
	if (r.action.log && !cached && pkt && log_) {
		log_event(*pkt, r.action, r.line, log_reason::rule, r.field,
		          st);
		return;
	}
	if (r.action.log && !cached && pkt)
		std::fprintf(stderr,
		             "nfring-worker: queue %u: %s:%u '%s' -> %s proto "
		             "%u %s:%u -> %s:%u\n",
		             queue_num_, rules_->source().c_str(), r.line,
		             r.text.c_str(), action_name(r.action), pkt->proto,
		             addr_str(*pkt, pkt->src).c_str(), pkt->sport,
		             addr_str(*pkt, pkt->dst).c_str(), pkt->dport);
}

void verdict_engine::emit_action(const nfring_rx_desc &d, const rule_action &a,
                                 std::vector<nfring_verdict> &out, bool final)
{
	nfring_verdict v{};
	v.id = d.id;
	apply(a, v, final);
	out.push_back(v);
}

void verdict_engine::emit_code(const nfring_rx_desc &d, const packet_view *pkt,
                               std::uint32_t code,
                               std::vector<nfring_verdict> &out)
{
	if (code < rules_->rules().size()) {
		// A rule's code is in the flow cache only once nothing can
		// contradict it (acknowledged, see observe's caller).
		emit_rule(d, pkt, code, true, out, nullptr, true);
		return;
	}
	emit_action(d,
	            code == code_inconsistent ? opts_.inconsistent
	                                      : opts_.undecided,
	            out);
}

bool verdict_engine::hold(std::uint32_t slot, const nfring_rx_desc &d,
                          clock::time_point now)
{
	slot_extra &e = extra_[slot];
	if (held_free_.empty() || e.count >= opts_.hold_packets)
		return false;
	const std::uint32_t h = held_free_.back();
	held_free_.pop_back();
	held_pool_[h] = {d, none};
	if (e.count == 0) {
		e.head = h;
		e.since = now;
		holding_.push_back(slot);
		insp_.set_pinned(slot, true);
	} else {
		held_pool_[e.tail].next = h;
	}
	e.tail = h;
	e.count++;
	held_count_++;
	c_.held++;
	return true;
}

void verdict_engine::drop_holding(std::uint32_t slot)
{
	slot_extra &e = extra_[slot];
	if (e.count == 0)
		return;
	for (std::uint32_t h = e.head; h != none;) {
		const std::uint32_t next = held_pool_[h].next;
		held_free_.push_back(h);
		h = next;
	}
	held_count_ -= e.count;
	e.head = e.tail = none;
	e.count = 0;
	holding_.erase(std::find(holding_.begin(), holding_.end(), slot));
	insp_.set_pinned(slot, false);
}

void verdict_engine::finish(std::uint32_t slot, std::uint32_t code,
                            const nfring_rx_desc *also, const packet_view *pkt,
                            std::vector<nfring_verdict> &out,
                            clock::time_point now)
{
	if (code == code_inconsistent)
		c_.inconsistent++;
	else
		c_.undecided++;
	flows_.remember(insp_.key(slot), code, now);
	if (log_) {
		// The packet at hand, or else the first one held: its
		// addresses say who the client was.
		std::optional<packet_view> first;
		if (!pkt && extra_[slot].head != none)
			first = parse_packet(
			        bytes_(held_pool_[extra_[slot].head].d));
		if (const packet_view *p = pkt     ? pkt
		                           : first ? &*first
		                                   : nullptr)
			log_event(*p,
			          code == code_inconsistent ? opts_.inconsistent
			                                    : opts_.undecided,
			          0,
			          code == code_inconsistent
			                  ? log_reason::inconsistent
			                  : log_reason::undecided,
			          l7_field::none, &insp_.state(slot));
	}
	slot_extra &e = extra_[slot];
	// Held packets came first: answer them first.
	for (std::uint32_t h = e.head; h != none; h = held_pool_[h].next)
		emit_code(held_pool_[h].d, nullptr, code, out);
	drop_holding(slot);
	if (also)
		emit_code(*also, pkt, code, out);
	e = slot_extra{};
	insp_.release(slot);
}

void verdict_engine::decide_in_slot(std::uint32_t slot, const nfring_rx_desc &d,
                                    const packet_view &pkt, const l7_state &st,
                                    bool in_stream,
                                    std::vector<nfring_verdict> &out,
                                    clock::time_point now)
{
	slot_extra &e = extra_[slot];
	if (e.decision != none && e.decision < rules_->rules().size()) {
		// The flow's payload rule decided: the rest of the flow
		// follows it, as a cached flow does.
		c_.flow_hits++;
		emit_rule(d, &pkt, e.decision, true, out);
		return;
	}
	const match_result m = rules_->match(
	        pkt, st, scan_for(pkt, insp_.hits(slot), in_stream));
	if (m.pending) {
		if (!hold(slot, d, now))
			finish(slot, code_undecided, &d, &pkt, out, now);
		return;
	}
	emit_rule(d, &pkt, m.index, false, out, &st);
	if (insp_.decided(slot) && rules_->rules()[m.index].inspects_payload())
		e.decision = static_cast<std::uint32_t>(m.index);
}

void verdict_engine::rejudge(std::uint32_t slot,
                             std::vector<nfring_verdict> &out,
                             clock::time_point now)
{
	slot_extra &e = extra_[slot];
	if (e.count == 0)
		return;
	// Detach the list: a packet judged again may be held again.
	std::uint32_t h = e.head;
	const auto since = e.since;
	const std::uint32_t count = e.count;
	e.head = e.tail = none;
	e.count = 0;
	held_count_ -= count;
	holding_.erase(std::find(holding_.begin(), holding_.end(), slot));
	insp_.set_pinned(slot, false);
	const flow_key key = insp_.key(slot);
	while (h != none) {
		const std::uint32_t next = held_pool_[h].next;
		const nfring_rx_desc d = held_pool_[h].d;
		held_free_.push_back(h);
		h = next;
		c_.released++;
		const auto pkt = parse_packet(bytes_(d));
		if (!insp_.in_use(slot) || !(insp_.key(slot) == key)) {
			// The flow was given up on meanwhile.
			emit_code(d, nullptr, code_undecided, out);
			continue;
		}
		if (!pkt) {
			emit_rule(d, nullptr, rules_->rules().size() - 1, true,
			          out);
			continue;
		}
		l7_state &st = insp_.state(slot);
		const bool saved = st.can_wait;
		st.can_wait = true; // it brought the message's bytes
		// Held packets are the client's: in the stream if it scans.
		decide_in_slot(slot, d, *pkt, st, insp_.hits(slot) != nullptr,
		               out, now);
		if (insp_.in_use(slot))
			st.can_wait = saved;
	}
	if (insp_.in_use(slot) && extra_[slot].count)
		extra_[slot].since = since;
}

void verdict_engine::judge(const nfring_rx_desc &d, clock::time_point now,
                           std::vector<nfring_verdict> &out)
{
	c_.packets++;
	const auto bytes = bytes_(d);
	const auto pkt = parse_packet(bytes);
	if (pkt) {
		for (std::size_t i = 0; i < filters_.size(); i++) {
			const auto a = filters_[i]->inspect(*pkt);
			if (!a)
				continue;
			c_.filter_hits[i]++;
			// A filter's bypass is its own promise about the
			// flow.
			emit_action(d, *a, out, true);
			if (a->log)
				std::fprintf(
				        stderr,
				        "nfring-worker: queue %u: filter %.*s "
				        "-> %s\n",
				        queue_num_,
				        static_cast<int>(
				                filters_[i]->name().size()),
				        filters_[i]->name().data(),
				        action_name(*a));
			return;
		}
	}
	if (!pkt) {
		// Nothing to inspect (no copy, or not IP): the default rule.
		c_.unparsed++;
		emit_rule(d, nullptr, rules_->rules().size() - 1, true, out);
		return;
	}
	const flow_key key = flow_key::of(*pkt);
	// A client's SYN opens a new connection, even on the ports of one
	// that was decided: it must not inherit that decision (a client could
	// reconnect from the same port with another name).  A decision is
	// cached only after the server acknowledged data, so this is never a
	// retransmission of the decided connection's SYN.
	if (pkt->proto == IPPROTO_TCP && pkt->tcp_syn && !pkt->tcp_ack)
		flows_.forget(key);
	if (const auto hit = flows_.lookup(key, now)) {
		if (*hit != code_no_l7) {
			c_.flow_hits++;
			emit_code(d, &*pkt, *hit, out);
			return;
		}
		// Inspected and let go: rules per packet, no L7 fields.  Its
		// fields are never read again, so only patterns can change
		// the answer.
		emit_rule(d, &*pkt,
		          rules_->match(*pkt, no_fields,
		                        scan_for(*pkt, nullptr, false))
		                  .index,
		          false, out, nullptr,
		          !(scanner_ && rules_->patterns_apply(*pkt)));
		return;
	}
	const bool checksum_final =
	        !(d.flags & NFRING_RX_CSUM_NOTREADY) && d.cap_len == d.pkt_len;
	const bool tcp_fields =
	        pkt->proto == IPPROTO_TCP && rules_->reads_tcp_l7();
	const bool tcp_l7 = tcp_fields || (pkt->proto == IPPROTO_TCP &&
	                                   scanner_ && rules_->tcp_patterns());
	const bool quic_l7 = pkt->proto == IPPROTO_UDP && rules_->reads_quic();
	inspector::observation ob;
	if (tcp_l7)
		ob = insp_.observe_tcp(*pkt, key, checksum_final, now);
	else if (quic_l7)
		ob = insp_.observe_udp(*pkt, key, checksum_final, now);
	// A UDP flow that is not QUIC is judged per datagram (below).
	if (tcp_l7 ||
	    (quic_l7 && (ob.slot != inspector::no_slot || ob.overflow))) {
		if (ob.slot == inspector::no_slot) {
			// Patterns alone do not need the slot: without one,
			// they are matched per packet.
			if (ob.overflow && (tcp_fields || quic_l7)) {
				// No room to follow this flow.
				c_.undecided++;
				flows_.remember(key, code_undecided, now);
				emit_code(d, &*pkt, code_undecided, out);
			} else {
				emit_rule(d, &*pkt,
				          rules_->match(*pkt, *ob.state,
				                        scan_for(*pkt, nullptr,
				                                 false))
				                  .index,
				          false, out);
			}
			return;
		}
		if (ob.fresh)
			extra_[ob.slot] = slot_extra{};
		if (ob.inconsistent || ob.overflow) {
			finish(ob.slot,
			       ob.inconsistent ? code_inconsistent
			                       : code_undecided,
			       &d, &*pkt, out, now);
			return;
		}
		decide_in_slot(ob.slot, d, *pkt, *ob.state, ob.in_stream, out,
		               now);
		if (!insp_.in_use(ob.slot) || !insp_.decided(ob.slot))
			return;
		if (extra_[ob.slot].count)
			rejudge(ob.slot, out, now);
		if (insp_.in_use(ob.slot) && insp_.acknowledged(ob.slot) &&
		    extra_[ob.slot].count == 0) {
			// Nothing can contradict the decision any more.
			const std::uint32_t dec = extra_[ob.slot].decision;
			flows_.remember(key, dec != none ? dec : code_no_l7,
			                now);
			extra_[ob.slot] = slot_extra{};
			insp_.release(ob.slot);
		}
		return;
	}
	// One packet is the whole message: DNS over UDP, datagrams' content.
	const l7_state *st = &no_fields;
	// Parsed only when a rule asks for DNS names: the hot path of a
	// ruleset without them stays header matching.
	if (pkt->proto == IPPROTO_UDP && rules_->reads_dns()) {
		payload_fields(*pkt, scratch_);
		st = &scratch_;
	}
	const std::size_t idx =
	        rules_->match(*pkt, *st, scan_for(*pkt, nullptr, false)).index;
	emit_rule(d, &*pkt, idx, false, out, st, headers_decide(*pkt));
	// Not remembered for the flow: each datagram is a message of its own,
	// so a resolver's first query (or a harmless first datagram) must not
	// vouch for the next one on the same ports.
}

void verdict_engine::expire_holds(clock::time_point now,
                                  std::vector<nfring_verdict> &out)
{
	for (std::size_t k = 0; k < holding_.size();) {
		const std::uint32_t s = holding_[k];
		if (now - extra_[s].since >= opts_.hold_time)
			finish(s, code_undecided, nullptr, nullptr, out, now);
		else
			k++;
	}
}

void verdict_engine::tick(clock::time_point now,
                          std::vector<nfring_verdict> &out)
{
	expire_holds(now, out);
	flows_.expire(now);
	insp_.expire(now,
	             [&](std::uint32_t s) { return extra_[s].count != 0; });
}

std::optional<verdict_engine::clock::time_point>
verdict_engine::next_deadline() const
{
	std::optional<clock::time_point> t;
	for (std::uint32_t s : holding_) {
		const auto due = extra_[s].since + opts_.hold_time;
		if (!t || due < *t)
			t = due;
	}
	return t;
}

void verdict_engine::release_all(std::vector<nfring_verdict> &out)
{
	const auto now = clock::now();
	while (!holding_.empty())
		finish(holding_.back(), code_undecided, nullptr, nullptr, out,
		       now);
}

} // namespace nfring
