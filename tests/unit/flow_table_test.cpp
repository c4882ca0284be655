// The flow table: both directions share an entry, idle entries expire,
// and the size bound holds by evicting the least recently used flow.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "nfring/flow_table.hpp"
#include "packet_builder.hpp"

namespace
{

nfring::flow_key key(const char *src, std::uint16_t sport, const char *dst,
                     std::uint16_t dport)
{
	const auto b = test::ipv4(IPPROTO_TCP, src, sport, dst, dport);
	return nfring::flow_key::of(*nfring::parse_packet(b));
}

using namespace std::chrono_literals;

} // namespace

TEST(FlowTable, BothDirectionsShareOneEntry)
{
	EXPECT_EQ(key("10.0.0.1", 1234, "10.0.0.2", 443),
	          key("10.0.0.2", 443, "10.0.0.1", 1234));
	EXPECT_FALSE(key("10.0.0.1", 1234, "10.0.0.2", 443) ==
	             key("10.0.0.1", 1235, "10.0.0.2", 443));
}

TEST(FlowTable, RemembersAndRefreshes)
{
	nfring::flow_table t(16, 10s);
	const auto now = nfring::flow_table::clock::now();
	const auto k = key("1.1.1.1", 1, "2.2.2.2", 2);
	EXPECT_FALSE(t.lookup(k, now));
	t.remember(k, 3, now);
	EXPECT_EQ(t.lookup(k, now + 5s), 3u);
	// The lookup at +5s refreshed it: still there at +14s.
	EXPECT_EQ(t.lookup(k, now + 14s), 3u);
	EXPECT_FALSE(t.lookup(k, now + 25s)) << "idle beyond the timeout";
	EXPECT_EQ(t.size(), 0u);
}

TEST(FlowTable, ExpireDropsOnlyIdleEntries)
{
	nfring::flow_table t(16, 10s);
	const auto now = nfring::flow_table::clock::now();
	t.remember(key("1.1.1.1", 1, "2.2.2.2", 2), 0, now);
	t.remember(key("1.1.1.1", 3, "2.2.2.2", 4), 0, now + 8s);
	EXPECT_EQ(t.expire(now + 12s), 1u);
	EXPECT_EQ(t.size(), 1u);
	EXPECT_EQ(t.expire(now + 30s), 1u);
	EXPECT_EQ(t.size(), 0u);
}

TEST(FlowTable, BoundEvictsLeastRecentlyUsed)
{
	nfring::flow_table t(3, 60s);
	const auto now = nfring::flow_table::clock::now();
	for (std::uint16_t p = 1; p <= 3; p++)
		t.remember(key("1.1.1.1", p, "2.2.2.2", 80), p, now);
	// Touch flow 1 so that flow 2 is now the oldest.
	EXPECT_TRUE(t.lookup(key("1.1.1.1", 1, "2.2.2.2", 80), now + 1s));
	t.remember(key("1.1.1.1", 4, "2.2.2.2", 80), 4, now + 2s);
	EXPECT_EQ(t.size(), 3u);
	EXPECT_EQ(t.evictions(), 1u);
	EXPECT_FALSE(t.lookup(key("1.1.1.1", 2, "2.2.2.2", 80), now + 2s));
	EXPECT_TRUE(t.lookup(key("1.1.1.1", 1, "2.2.2.2", 80), now + 2s));
	EXPECT_TRUE(t.lookup(key("1.1.1.1", 4, "2.2.2.2", 80), now + 2s));
}
