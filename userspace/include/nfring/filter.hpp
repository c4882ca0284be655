// Your own inspection code in the worker's filter chain.
//
// Each queue thread owns its filters (made by the factories in
// worker_options::filters), so a filter may keep state without locks.
// Filters run in order on every parsed packet before the rules file; the
// first that returns an action decides, and nullopt passes the packet on.
// Decisions of filters are per packet: a filter that wants per-flow memory
// keeps it itself (flow_key::of(pkt) gives the flow).
//
//     class drop_large_udp : public nfring::filter {
//     public:
//             std::string_view name() const override { return "large-udp"; }
//             std::optional<nfring::rule_action>
//             inspect(const nfring::packet_view &p) override
//             {
//                     if (p.proto == IPPROTO_UDP && p.payload.size() > 512)
//                             return
//                             nfring::rule_action{nfring::action_kind::drop};
//                     return std::nullopt;
//             }
//     };
//     opts.filters.push_back([] { return std::make_unique<drop_large_udp>();
//     });
//
// examples/custom_filter.cpp is a complete worker built this way.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "nfring/packet.hpp"
#include "nfring/rules.hpp"

namespace nfring
{

class filter
{
public:
	virtual ~filter() = default;
	// Shown in logs and counters.
	virtual std::string_view name() const = 0;
	// The verdict for this packet, or nullopt to let the next filter (and
	// finally the rules) decide.  Called on the worker's hot path: no
	// blocking, no syscalls.
	virtual std::optional<rule_action> inspect(const packet_view &pkt) = 0;
};

using filter_factory = std::function<std::unique_ptr<filter>()>;

} // namespace nfring
