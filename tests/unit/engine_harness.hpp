// A verdict engine fed packets directly, without a queue, and a TCP
// connection's packets: what the engine's and the patterns' tests share.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "nfring/verdict_engine.hpp"
#include "packet_builder.hpp"

namespace test
{

using bytes = std::vector<std::byte>;
using nfring::verdict_engine;
using nfring::verdict_options;
using nfring::ruleset;

inline verdict_options small()
{
	verdict_options o;
	o.inspect.flows = 64; // the tests use a few flows each
	return o;
}

class harness
{
public:
	explicit harness(const std::string &rules, verdict_options o = small())
	    : eng_(
	              o, 1024, {},
	              [this](const nfring_rx_desc &d) {
		              return std::span<const std::byte>(pkts_.at(d.id));
	              },
	              0)
	{
		load(rules);
	}

	void load(const std::string &rules)
	{
		eng_.set_rules(std::make_shared<const ruleset>(
		                       ruleset::parse(rules, "test.rules")),
		               out_, now_);
	}

	std::uint64_t send(const bytes &p, std::uint16_t flags = 0)
	{
		const std::uint64_t id = next_++;
		pkts_[id] = p;
		nfring_rx_desc d{};
		d.id = id;
		d.pkt_len = d.cap_len = static_cast<std::uint32_t>(p.size());
		d.flags = flags;
		eng_.judge(d, now_, out_);
		return id;
	}

	// The verdict given to id so far; nullopt while it is held.
	std::optional<std::uint32_t> verdict(std::uint64_t id) const
	{
		std::optional<std::uint32_t> v;
		for (const auto &x : out_) {
			if (x.id != id)
				continue;
			EXPECT_FALSE(v) << "id " << id << " answered twice";
			v = x.verdict;
		}
		return v;
	}

	// The flags (NFRING_VF_*) of id's verdict; 0 while it is held.
	std::uint32_t flags(std::uint64_t id) const
	{
		for (const auto &x : out_)
			if (x.id == id)
				return x.flags;
		return 0;
	}

	void advance(std::chrono::milliseconds d)
	{
		now_ += d;
		eng_.expire_holds(now_, out_);
	}

	verdict_engine &eng() { return eng_; }
	std::size_t answered() const { return out_.size(); }

private:
	std::map<std::uint64_t, bytes> pkts_;
	std::uint64_t next_ = 1;
	std::vector<nfring_verdict> out_;
	verdict_engine::clock::time_point now_ = verdict_engine::clock::now();
	verdict_engine eng_;
};

// One TCP connection from 10.0.0.1:40000 to 10.0.0.2:443.
struct conn {
	harness &h;
	std::uint32_t isn = 7000;
	std::uint16_t dport = 443;
	std::uint64_t syn()
	{
		return h.send(test::tcp4("10.0.0.1", 40000, "10.0.0.2", dport,
		                         isn, 0, {}, 0x02));
	}
	// Client bytes at stream offset off.
	std::uint64_t data(std::size_t off, std::span<const std::byte> b,
	                   std::uint8_t flags = 0x18)
	{
		std::string s(reinterpret_cast<const char *>(b.data()),
		              b.size());
		return h.send(
		        test::tcp4("10.0.0.1", 40000, "10.0.0.2", dport,
		                   isn + 1 + static_cast<std::uint32_t>(off), 1,
		                   s, flags));
	}
	std::uint64_t data(std::size_t off, std::string_view s,
	                   std::uint8_t flags = 0x18)
	{
		return data(
		        off,
		        std::span<const std::byte>(
		                reinterpret_cast<const std::byte *>(s.data()),
		                s.size()),
		        flags);
	}
	// The server acknowledges the client's first n bytes.
	std::uint64_t server_ack(std::size_t n)
	{
		return h.send(test::tcp4(
		        "10.0.0.2", dport, "10.0.0.1", 40000, 1,
		        isn + 1 + static_cast<std::uint32_t>(n), {}, 0x10));
	}
};

} // namespace test
