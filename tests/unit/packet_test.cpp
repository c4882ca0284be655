// Packet parsing: fields of IPv4/IPv6 TCP/UDP packets, and no reads past
// the captured bytes whatever the headers claim.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <span>

#include "nfring/packet.hpp"
#include "packet_builder.hpp"

TEST(Packet, Ipv4UdpFieldsAndPayload)
{
	const auto b = test::ipv4(IPPROTO_UDP, "10.0.1.2", 5353, "10.0.2.2", 53,
	                          "query");
	const auto p = nfring::parse_packet(b);
	ASSERT_TRUE(p);
	EXPECT_EQ(p->family, 4);
	EXPECT_EQ(p->proto, IPPROTO_UDP);
	EXPECT_EQ(p->sport, 5353);
	EXPECT_EQ(p->dport, 53);
	EXPECT_EQ(p->src[15], 2);
	EXPECT_EQ(p->src[10], 0xff) << "IPv4 is stored v4-mapped";
	EXPECT_EQ(test::text(p->payload), "query");
}

TEST(Packet, Ipv4TcpFlagsAndPayload)
{
	const auto b = test::ipv4(IPPROTO_TCP, "1.2.3.4", 40000, "5.6.7.8", 443,
	                          "hello", 0x02);
	const auto p = nfring::parse_packet(b);
	ASSERT_TRUE(p);
	EXPECT_TRUE(p->tcp_syn);
	EXPECT_EQ(p->dport, 443);
	EXPECT_EQ(test::text(p->payload), "hello");
}

TEST(Packet, Ipv6UdpFields)
{
	const auto b =
	        test::ipv6(IPPROTO_UDP, "fd00::1", 1000, "fd00::2", 53, "q");
	const auto p = nfring::parse_packet(b);
	ASSERT_TRUE(p);
	EXPECT_EQ(p->family, 6);
	EXPECT_EQ(p->dst[15], 2);
	EXPECT_EQ(p->dport, 53);
	EXPECT_EQ(test::text(p->payload), "q");
}

TEST(Packet, TruncatedCaptureKeepsPortsWithinBytes)
{
	const auto b = test::ipv4(IPPROTO_UDP, "10.0.0.1", 1, "10.0.0.2", 2,
	                          "0123456789");
	// copy_range cut the packet after 3 payload bytes.
	const auto p = nfring::parse_packet(std::span(b).first(20 + 8 + 3));
	ASSERT_TRUE(p);
	EXPECT_EQ(test::text(p->payload), "012");
}

TEST(Packet, EveryPrefixParsesWithoutOverrun)
{
	// Under ASan, any read past the prefix is a failure.
	for (const auto &b :
	     {test::ipv4(IPPROTO_TCP, "1.1.1.1", 1, "2.2.2.2", 2, "abc"),
	      test::ipv6(IPPROTO_UDP, "::1", 1, "::2", 2, "abc")}) {
		for (std::size_t n = 0; n <= b.size(); n++) {
			std::vector<std::byte> copy(b.begin(), b.begin() + n);
			const auto p = nfring::parse_packet(copy);
			if (p) {
				EXPECT_LE(p->payload.size(), n);
			}
		}
	}
}

TEST(Packet, HeaderLengthsBeyondCaptureAreRejected)
{
	auto b = test::ipv4(IPPROTO_TCP, "1.1.1.1", 1, "2.2.2.2", 2, "x");
	b[0] = std::byte{0x4f}; // IHL 60 bytes > 41 captured
	EXPECT_FALSE(nfring::parse_packet(b));
	b = test::ipv4(IPPROTO_TCP, "1.1.1.1", 1, "2.2.2.2", 2, "x");
	b[32] = std::byte{0xf0}; // TCP data offset 60
	const auto p = nfring::parse_packet(b);
	ASSERT_TRUE(p);
	EXPECT_FALSE(p->has_ports);
	EXPECT_TRUE(p->payload.empty());
}

TEST(Packet, NonFirstFragmentHasNoPorts)
{
	auto b = test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2", 2, "x");
	test::put16(b, 6, 0x0010); // fragment offset 16
	const auto p = nfring::parse_packet(b);
	ASSERT_TRUE(p);
	EXPECT_FALSE(p->has_ports);
}

TEST(Packet, NotIpIsRejected)
{
	std::vector<std::byte> b(40, std::byte{0x55});
	EXPECT_FALSE(nfring::parse_packet(b));
	EXPECT_FALSE(nfring::parse_packet({}));
}
