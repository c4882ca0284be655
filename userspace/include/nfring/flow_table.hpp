// Remembers the verdict decided for a flow (5-tuple, both directions), so
// that once a payload rule matched, the rest of the flow gets the same
// answer without parsing again.  Bounded: at most max_flows entries (the
// least recently used one is evicted to make room), each forgotten after
// idle_timeout without packets.  Memory: about 120 bytes per entry.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

#include "nfring/packet.hpp"

namespace nfring
{

struct flow_key {
	ip_addr a{}, b{}; // ordered so that both directions give one key
	std::uint16_t pa = 0, pb = 0;
	std::uint8_t proto = 0;

	static flow_key of(const packet_view &p);
	bool operator==(const flow_key &) const = default;
};

struct flow_key_hash {
	std::size_t operator()(const flow_key &k) const noexcept;
};

class flow_table
{
public:
	using clock = std::chrono::steady_clock;

	flow_table(std::size_t max_flows, std::chrono::seconds idle_timeout);

	// The rule index remembered for this flow, refreshing its idle timer.
	std::optional<std::uint32_t> lookup(const flow_key &k,
	                                    clock::time_point now);
	void remember(const flow_key &k, std::uint32_t rule_index,
	              clock::time_point now);
	// Drops entries idle for longer than the timeout; returns how many.
	std::size_t expire(clock::time_point now);
	void forget(const flow_key &k);
	void clear();

	std::size_t size() const { return map_.size(); }
	std::size_t max_flows() const { return max_; }
	std::uint64_t evictions() const { return evictions_; }

private:
	struct entry {
		flow_key key;
		std::uint32_t rule_index;
		clock::time_point last_seen;
	};
	using lru_list = std::list<entry>; // front: most recently used

	std::size_t max_;
	std::chrono::seconds idle_;
	lru_list lru_;
	std::unordered_map<flow_key, lru_list::iterator, flow_key_hash> map_;
	std::uint64_t evictions_ = 0;
};

} // namespace nfring
