// Decides each packet's verdict for one queue thread: the custom filters,
// then the rules, with the flow cache and L7 inspection (inspector.hpp).
//
// A packet whose verdict hangs on a message not yet complete (the second
// segment of a ClientHello, say) is held: its verdict is not written yet.
// nfring takes verdicts in any order, so the kernel simply keeps the packet
// until the message completes; then every held packet of the flow is judged
// again and answered.  Holding is bounded per flow (hold_packets), for all
// flows (hold_total, against the ring's frames) and in time (hold_time);
// past a bound the flow gets the `undecided` action.  A flow whose stream
// contradicts itself (inspector.hpp) gets the `inconsistent` action.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nfring.h"
#include "nfring/filter.hpp"
#include "nfring/flow_log.hpp"
#include "nfring/flow_table.hpp"
#include "nfring/inspector.hpp"
#include "nfring/rules.hpp"

namespace nfring
{

struct verdict_options {
	inspect_options inspect;
	std::chrono::milliseconds hold_time{500};
	std::size_t hold_packets = 32; // per flow
	std::size_t hold_total = 0;    // all flows; 0: a quarter of the ring
	rule_action undecided{action_kind::accept};
	rule_action inconsistent{action_kind::drop};
	std::size_t flow_max = 65536;
	std::chrono::seconds flow_idle{60};
	// The queue was bound with a conntrack bypass mark: `bypass` rules
	// send NFRING_VF_BYPASS.  Otherwise they only accept.
	bool bypass = false;
};

struct verdict_counters {
	std::uint64_t packets = 0, accepted = 0, dropped = 0, marked = 0;
	std::uint64_t flow_hits = 0, unparsed = 0;
	std::uint64_t held = 0, released = 0, undecided = 0;
	std::uint64_t inconsistent = 0;
	// Verdicts that asked the kernel to bypass their flow (the kernel
	// counts the flows: nfring_stats.bypass_flows).
	std::uint64_t bypassed = 0;
	std::vector<std::uint64_t> rule_hits;   // per rule of the current set
	std::vector<std::uint64_t> filter_hits; // per custom filter
};

class verdict_engine
{
public:
	using clock = std::chrono::steady_clock;
	// The bytes of a packet the kernel still holds for us (its frame).
	using packet_bytes = std::function<std::span<const std::byte>(
	        const nfring_rx_desc &)>;

	verdict_engine(const verdict_options &opts, std::uint32_t ring_entries,
	               std::vector<std::unique_ptr<filter>> filters,
	               packet_bytes bytes, std::uint16_t queue_num);

	// New rules: cached decisions are forgotten and held packets judged
	// again (appending what is decided now to out).
	void set_rules(std::shared_ptr<const ruleset> rules,
	               std::vector<nfring_verdict> &out, clock::time_point now);
	const ruleset &rules() const { return *rules_; }

	// Judges one packet; appends its verdict unless it is held, and the
	// verdicts of held packets that it decided.
	void judge(const nfring_rx_desc &d, clock::time_point now,
	           std::vector<nfring_verdict> &out);

	// Held packets past hold_time get the undecided action.
	void expire_holds(clock::time_point now,
	                  std::vector<nfring_verdict> &out);
	// expire_holds, and idle flows are forgotten (once a second).
	void tick(clock::time_point now, std::vector<nfring_verdict> &out);
	// When the oldest hold runs out, if any packet is held.
	std::optional<clock::time_point> next_deadline() const;
	// Stopping: every held packet gets the undecided action.
	void release_all(std::vector<nfring_verdict> &out);

	// Events of rules marked `log` and of flows given up on go to this
	// queue (flow_log.hpp); without one, rule logs are text on stderr.
	void set_log(flow_log_queue *log) { log_ = log; }

	std::size_t held() const { return held_count_; }
	std::size_t flows() const { return flows_.size(); }
	std::size_t inspected() const { return insp_.size(); }
	const verdict_counters &counters() const { return c_; }
	// Pattern scans (packets and stream pieces) and the bytes they read.
	std::uint64_t pattern_scans() const
	{
		return scanner_ ? scanner_->scans() : 0;
	}
	std::uint64_t pattern_bytes() const
	{
		return scanner_ ? scanner_->bytes_scanned() : 0;
	}
	const inspect_counters &inspect_stats() const
	{
		return insp_.counters();
	}
	std::size_t filter_count() const { return filters_.size(); }
	std::string_view filter_name(std::size_t i) const
	{
		return filters_[i]->name();
	}

private:
	// Flow cache values beyond rule indexes.
	static constexpr std::uint32_t code_no_l7 = 0xffffff00u;
	static constexpr std::uint32_t code_undecided = 0xffffff01u;
	static constexpr std::uint32_t code_inconsistent = 0xffffff02u;
	static constexpr std::uint32_t none = 0xffffffffu;

	struct held_packet {
		nfring_rx_desc d;
		std::uint32_t next;
	};
	struct slot_extra {
		std::uint32_t decision = none; // rule or code, once decided
		std::uint32_t head = none, tail = none, count = 0;
		clock::time_point since{};
	};

	// final: nothing the flow carries later can change this decision,
	// so a bypass action may take the flow out of the queue.
	void apply(const rule_action &a, nfring_verdict &v, bool final);
	void emit_rule(const nfring_rx_desc &d, const packet_view *pkt,
	               std::size_t idx, bool cached,
	               std::vector<nfring_verdict> &out,
	               const l7_state *st = nullptr, bool final = false);
	// Decided by headers alone for the whole flow?
	bool headers_decide(const packet_view &pkt) const
	{
		return !rules_->payload_decides(pkt.proto);
	}
	void log_event(const packet_view &pkt, const rule_action &a,
	               std::uint32_t line, log_reason why, l7_field field,
	               const l7_state *st);
	void emit_action(const nfring_rx_desc &d, const rule_action &a,
	                 std::vector<nfring_verdict> &out, bool final = false);
	void emit_code(const nfring_rx_desc &d, const packet_view *pkt,
	               std::uint32_t code, std::vector<nfring_verdict> &out);
	bool hold(std::uint32_t slot, const nfring_rx_desc &d,
	          clock::time_point now);
	// Gives up on a flow: its held packets and its later ones get code.
	void finish(std::uint32_t slot, std::uint32_t code,
	            const nfring_rx_desc *also, const packet_view *pkt,
	            std::vector<nfring_verdict> &out, clock::time_point now);
	// Judges again the packets held for a slot whose fields are decided.
	void rejudge(std::uint32_t slot, std::vector<nfring_verdict> &out,
	             clock::time_point now);
	void decide_in_slot(std::uint32_t slot, const nfring_rx_desc &d,
	                    const packet_view &pkt, const l7_state &st,
	                    bool in_stream, std::vector<nfring_verdict> &out,
	                    clock::time_point now);
	void drop_holding(std::uint32_t slot);

	verdict_options opts_;
	std::vector<std::unique_ptr<filter>> filters_;
	packet_bytes bytes_;
	std::uint16_t queue_num_;
	std::shared_ptr<const ruleset> rules_;
	flow_table flows_;
	// Every content and regex in one pass (null without any).  Declared
	// before insp_, so it outlives the inspector's streams it closes.
	std::unique_ptr<l7::pattern_scanner> scanner_;
	inspector insp_;
	std::vector<slot_extra> extra_;      // per inspector slot
	std::vector<held_packet> held_pool_; // hold_total entries
	std::vector<std::uint32_t> held_free_;
	std::vector<std::uint32_t> holding_; // slots with held packets
	std::size_t held_count_ = 0;
	l7_state scratch_; // per-packet fields (DNS over UDP)
	// Prepares the scanner for a packet and returns it (null without
	// patterns): its own payload is scanned if a rule asks, unless it is
	// part of a scanned stream, whose hits count too.
	l7::pattern_scanner *scan_for(const packet_view &pkt,
	                              const l7::pattern_hits *stream,
	                              bool in_stream);
	flow_log_queue *log_ = nullptr;
	verdict_counters c_;
};

} // namespace nfring
