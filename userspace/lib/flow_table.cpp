#include "nfring/flow_table.hpp"

#include <cstring>

namespace nfring
{

flow_key flow_key::of(const packet_view &p)
{
	flow_key k;
	k.proto = p.proto;
	// Order the endpoints so that A->B and B->A land on one entry.
	const int c = std::memcmp(p.src.data(), p.dst.data(), p.src.size());
	const bool swap = c > 0 || (c == 0 && p.sport > p.dport);
	k.a = swap ? p.dst : p.src;
	k.b = swap ? p.src : p.dst;
	k.pa = swap ? p.dport : p.sport;
	k.pb = swap ? p.sport : p.dport;
	return k;
}

std::size_t flow_key_hash::operator()(const flow_key &k) const noexcept
{
	// FNV-1a over the key's fields.
	std::uint64_t h = 1469598103934665603ULL;
	auto mix = [&h](const void *p, std::size_t n) {
		const auto *b = static_cast<const unsigned char *>(p);
		for (std::size_t i = 0; i < n; i++) {
			h ^= b[i];
			h *= 1099511628211ULL;
		}
	};
	mix(k.a.data(), k.a.size());
	mix(k.b.data(), k.b.size());
	mix(&k.pa, sizeof(k.pa));
	mix(&k.pb, sizeof(k.pb));
	mix(&k.proto, sizeof(k.proto));
	return static_cast<std::size_t>(h);
}

flow_table::flow_table(std::size_t max_flows, std::chrono::seconds idle_timeout)
    : max_(max_flows ? max_flows : 1), idle_(idle_timeout)
{
	map_.reserve(max_);
}

std::optional<std::uint32_t> flow_table::lookup(const flow_key &k,
                                                clock::time_point now)
{
	const auto it = map_.find(k);
	if (it == map_.end())
		return std::nullopt;
	if (now - it->second->last_seen > idle_) {
		lru_.erase(it->second);
		map_.erase(it);
		return std::nullopt;
	}
	it->second->last_seen = now;
	lru_.splice(lru_.begin(), lru_, it->second);
	return it->second->rule_index;
}

void flow_table::remember(const flow_key &k, std::uint32_t rule_index,
                          clock::time_point now)
{
	const auto it = map_.find(k);
	if (it != map_.end()) {
		it->second->rule_index = rule_index;
		it->second->last_seen = now;
		lru_.splice(lru_.begin(), lru_, it->second);
		return;
	}
	if (map_.size() >= max_) {
		map_.erase(lru_.back().key);
		lru_.pop_back();
		evictions_++;
	}
	lru_.push_front({k, rule_index, now});
	map_.emplace(k, lru_.begin());
}

std::size_t flow_table::expire(clock::time_point now)
{
	// The LRU order is also idle order: stop at the first fresh entry.
	std::size_t n = 0;
	while (!lru_.empty() && now - lru_.back().last_seen > idle_) {
		map_.erase(lru_.back().key);
		lru_.pop_back();
		n++;
	}
	return n;
}

void flow_table::forget(const flow_key &k)
{
	const auto it = map_.find(k);
	if (it == map_.end())
		return;
	lru_.erase(it->second);
	map_.erase(it);
}

void flow_table::clear()
{
	map_.clear();
	lru_.clear();
}

} // namespace nfring
