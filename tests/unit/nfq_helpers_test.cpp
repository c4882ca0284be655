// The packet helpers and message builders of libnetfilter_queue over
// nfring against Debian's own libnetfilter_queue1, run side by side on the
// same packets: every result must be byte for byte the real library's.
// The real one is dlopen'ed with RTLD_DEEPBIND so that its calls between
// its own functions stay inside it.
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <utility>
#include <cstring>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <string>
#include <vector>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv4.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv6.h>
#include <libnetfilter_queue/libnetfilter_queue_tcp.h>
#include <libnetfilter_queue/libnetfilter_queue_udp.h>
#include <libnetfilter_queue/pktbuff.h>
}

#include "nfq_helpers.hpp"

namespace
{

#ifndef NFRING_REAL_LIBNFQ
#define NFRING_REAL_LIBNFQ "libnetfilter_queue.so.1"
#endif

// The real library's functions, by the names of ours.
struct real_lib {
	void *dl = nullptr;
	template <class F> F *get(const char *name)
	{
		return reinterpret_cast<F *>(::dlsym(dl, name));
	}
	real_lib()
	{
		dl = ::dlopen(NFRING_REAL_LIBNFQ,
		              RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
	}
};

real_lib &real()
{
	static real_lib r;
	return r;
}

#define REAL(fn) (real().get<decltype(fn)>(#fn))

std::vector<std::uint8_t> ipv4_tcp(const std::string &payload,
                                   std::uint16_t frag = 0)
{
	std::vector<std::uint8_t> p(20 + 20 + payload.size());
	auto *ip = reinterpret_cast<iphdr *>(p.data());
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0x28;
	ip->tot_len = htons(static_cast<std::uint16_t>(p.size()));
	ip->id = htons(0x1234);
	ip->frag_off = htons(frag);
	ip->ttl = 63;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = htonl(0x0a000001);
	ip->daddr = htonl(0xc0a80102);
	auto *tcp = reinterpret_cast<tcphdr *>(p.data() + 20);
	tcp->source = htons(40000);
	tcp->dest = htons(80);
	tcp->seq = htonl(1000);
	tcp->ack_seq = htonl(2000);
	tcp->doff = 5;
	tcp->ack = 1;
	tcp->psh = 1;
	tcp->window = htons(512);
	std::memcpy(p.data() + 40, payload.data(), payload.size());
	return p;
}

std::vector<std::uint8_t> ipv4_udp(const std::string &payload)
{
	std::vector<std::uint8_t> p(20 + 8 + payload.size());
	auto *ip = reinterpret_cast<iphdr *>(p.data());
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(static_cast<std::uint16_t>(p.size()));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(0x0a000001);
	ip->daddr = htonl(0x0a000002);
	auto *udp = reinterpret_cast<udphdr *>(p.data() + 20);
	udp->source = htons(5353);
	udp->dest = htons(53);
	udp->len = htons(static_cast<std::uint16_t>(8 + payload.size()));
	std::memcpy(p.data() + 28, payload.data(), payload.size());
	return p;
}

// IPv6, with a hop-by-hop header (8 bytes) before the transport if hbh.
std::vector<std::uint8_t> ipv6(std::uint8_t proto, const std::string &payload,
                               bool hbh = false)
{
	const std::size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	const std::size_t ext = hbh ? 8 : 0;
	std::vector<std::uint8_t> p(40 + ext + l4 + payload.size());
	auto *ip6 = reinterpret_cast<ip6_hdr *>(p.data());
	ip6->ip6_flow = htonl(6u << 28 | 0x12u << 20 | 0xabcde);
	ip6->ip6_plen = htons(static_cast<std::uint16_t>(p.size() - 40));
	ip6->ip6_nxt = hbh ? std::uint8_t{IPPROTO_HOPOPTS} : proto;
	ip6->ip6_hlim = 64;
	inet_pton(AF_INET6, "2001:db8::1", &ip6->ip6_src);
	inet_pton(AF_INET6, "2001:db8::2", &ip6->ip6_dst);
	if (hbh) {
		p[40] = proto; // next header, length 0 (8 bytes), PadN
		p[42] = 1;
		p[43] = 4;
	}
	std::uint8_t *t = p.data() + 40 + ext;
	if (proto == IPPROTO_TCP) {
		auto *tcp = reinterpret_cast<tcphdr *>(t);
		tcp->source = htons(40001);
		tcp->dest = htons(443);
		tcp->doff = 5;
		tcp->syn = 1;
	} else {
		auto *udp = reinterpret_cast<udphdr *>(t);
		udp->source = htons(1000);
		udp->dest = htons(443);
		udp->len = htons(static_cast<std::uint16_t>(8 + payload.size()));
	}
	std::memcpy(t + l4, payload.data(), payload.size());
	return p;
}

std::vector<std::uint8_t> bytes(pkt_buff *b, bool real_lib)
{
	auto *data = real_lib ? REAL(pktb_data)(b) : pktb_data(b);
	auto len = real_lib ? REAL(pktb_len)(b) : pktb_len(b);
	return {data, data + len};
}

struct NfqHelpers : ::testing::Test {
	void SetUp() override
	{
		if (!real().dl)
			GTEST_SKIP() << "Debian's libnetfilter_queue1 is not "
			                "installed (scripts/deps.sh installs it)";
	}
};

TEST_F(NfqHelpers, Ipv4TcpMangleMatchesTheRealLibrary)
{
	const std::string req = "GET /foo HTTP/1.1\r\nHost: a\r\n\r\n";
	for (const std::string rep : {"barbaz", "b", "xyz"}) {
		auto pkt = ipv4_tcp(req);
		pkt_buff *ours = pktb_alloc(AF_INET, pkt.data(), pkt.size(), 64);
		pkt_buff *theirs =
		        REAL(pktb_alloc)(AF_INET, pkt.data(), pkt.size(), 64);
		ASSERT_TRUE(ours && theirs);
		iphdr *a = nfq_ip_get_hdr(ours);
		iphdr *b = REAL(nfq_ip_get_hdr)(theirs);
		ASSERT_TRUE(a && b);
		EXPECT_EQ(nfq_ip_set_transport_header(ours, a),
		          REAL(nfq_ip_set_transport_header)(theirs, b));
		tcphdr *ta = nfq_tcp_get_hdr(ours);
		tcphdr *tb = REAL(nfq_tcp_get_hdr)(theirs);
		ASSERT_TRUE(ta && tb);
		EXPECT_EQ(nfq_tcp_get_payload_len(ta, ours),
		          REAL(nfq_tcp_get_payload_len)(tb, theirs));
		EXPECT_EQ(std::memcmp(nfq_tcp_get_payload(ta, ours),
		                      REAL(nfq_tcp_get_payload)(tb, theirs),
		                      req.size()),
		          0);
		EXPECT_EQ(nfq_tcp_mangle_ipv4(ours, 5, 3, rep.data(), rep.size()),
		          REAL(nfq_tcp_mangle_ipv4)(theirs, 5, 3, rep.data(),
		                                    rep.size()));
		EXPECT_EQ(bytes(ours, false), bytes(theirs, true)) << rep;
		EXPECT_EQ(pktb_mangled(ours), REAL(pktb_mangled)(theirs));
		EXPECT_EQ(pktb_tailroom(ours), REAL(pktb_tailroom)(theirs));
		char sa[256], sb[256];
		EXPECT_EQ(nfq_ip_snprintf(sa, sizeof(sa), a),
		          REAL(nfq_ip_snprintf)(sb, sizeof(sb), b));
		EXPECT_STREQ(sa, sb);
		// The same text.  libnetfilter_queue 1.0.5 returns the length
		// of the last piece it printed; ours returns the whole length,
		// as snprintf does.
		const int n = nfq_tcp_snprintf(sa, sizeof(sa), ta);
		EXPECT_EQ(n, static_cast<int>(std::strlen(sa)));
		REAL(nfq_tcp_snprintf)(sb, sizeof(sb), tb);
		EXPECT_STREQ(sa, sb);
		pktb_free(ours);
		REAL(pktb_free)(theirs);
	}
}

TEST_F(NfqHelpers, MangleBeyondTheTailroomFailsAlike)
{
	auto pkt = ipv4_tcp("hello");
	pkt_buff *ours = pktb_alloc(AF_INET, pkt.data(), pkt.size(), 2);
	pkt_buff *theirs = REAL(pktb_alloc)(AF_INET, pkt.data(), pkt.size(), 2);
	nfq_ip_set_transport_header(ours, nfq_ip_get_hdr(ours));
	REAL(nfq_ip_set_transport_header)(theirs, REAL(nfq_ip_get_hdr)(theirs));
	const char rep[] = "a much longer text";
	EXPECT_EQ(nfq_tcp_mangle_ipv4(ours, 0, 5, rep, sizeof(rep) - 1),
	          REAL(nfq_tcp_mangle_ipv4)(theirs, 0, 5, rep, sizeof(rep) - 1));
	EXPECT_EQ(bytes(ours, false), bytes(theirs, true));
	pktb_free(ours);
	REAL(pktb_free)(theirs);
}

TEST_F(NfqHelpers, Ipv4UdpMangleMatchesTheRealLibrary)
{
	auto pkt = ipv4_udp("example query payload");
	pkt_buff *ours = pktb_alloc(AF_INET, pkt.data(), pkt.size(), 32);
	pkt_buff *theirs = REAL(pktb_alloc)(AF_INET, pkt.data(), pkt.size(), 32);
	nfq_ip_set_transport_header(ours, nfq_ip_get_hdr(ours));
	REAL(nfq_ip_set_transport_header)(theirs, REAL(nfq_ip_get_hdr)(theirs));
	udphdr *ua = nfq_udp_get_hdr(ours);
	udphdr *ub = REAL(nfq_udp_get_hdr)(theirs);
	ASSERT_TRUE(ua && ub);
	EXPECT_EQ(nfq_udp_get_payload_len(ua, ours),
	          REAL(nfq_udp_get_payload_len)(ub, theirs));
	EXPECT_EQ(nfq_udp_mangle_ipv4(ours, 8, 5, "answer!", 7),
	          REAL(nfq_udp_mangle_ipv4)(theirs, 8, 5, "answer!", 7));
	EXPECT_EQ(bytes(ours, false), bytes(theirs, true));
	char sa[128], sb[128];
	EXPECT_EQ(nfq_udp_snprintf(sa, sizeof(sa), ua),
	          REAL(nfq_udp_snprintf)(sb, sizeof(sb), ub));
	EXPECT_STREQ(sa, sb);
	pktb_free(ours);
	REAL(pktb_free)(theirs);
}

TEST_F(NfqHelpers, Ipv6MatchesTheRealLibrary)
{
	for (std::uint8_t proto : {IPPROTO_TCP, IPPROTO_UDP}) {
		auto pkt = ipv6(proto, "some payload bytes");
		pkt_buff *ours = pktb_alloc(AF_INET6, pkt.data(), pkt.size(), 16);
		pkt_buff *theirs =
		        REAL(pktb_alloc)(AF_INET6, pkt.data(), pkt.size(), 16);
		ip6_hdr *a = nfq_ip6_get_hdr(ours);
		ip6_hdr *b = REAL(nfq_ip6_get_hdr)(theirs);
		ASSERT_TRUE(a && b);
		EXPECT_EQ(nfq_ip6_set_transport_header(ours, a, proto),
		          REAL(nfq_ip6_set_transport_header)(theirs, b, proto));
		EXPECT_EQ(pktb_transport_header(ours) - pktb_network_header(ours),
		          REAL(pktb_transport_header)(theirs) -
		                  REAL(pktb_network_header)(theirs));
		if (proto == IPPROTO_TCP) {
			EXPECT_EQ(nfq_tcp_mangle_ipv6(ours, 5, 7, "PAYLOADS", 8),
			          REAL(nfq_tcp_mangle_ipv6)(theirs, 5, 7,
			                                    "PAYLOADS", 8));
		} else {
			EXPECT_EQ(nfq_udp_mangle_ipv6(ours, 5, 7, "PAY", 3),
			          REAL(nfq_udp_mangle_ipv6)(theirs, 5, 7, "PAY",
			                                    3));
		}
		EXPECT_EQ(bytes(ours, false), bytes(theirs, true));
		// The same up to the traffic class, which libnetfilter_queue
		// 1.0.5 prints from the unconverted word (see below).
		char sa[256], sb[256];
		nfq_ip6_snprintf(sa, sizeof(sa), a);
		REAL(nfq_ip6_snprintf)(sb, sizeof(sb), b);
		const std::string ours_text = sa, theirs_text = sb;
		EXPECT_EQ(ours_text.substr(0, ours_text.find(" TC=")),
		          theirs_text.substr(0, theirs_text.find(" TC=")));
		EXPECT_NE(ours_text.find("TC=0x12 HOPLIMIT=64 FLOWLBL=703710 "),
		          std::string::npos)
		        << ours_text;
		pktb_free(ours);
		REAL(pktb_free)(theirs);
	}
}

// Where libnetfilter_queue 1.0.5 is wrong, ours is not: its walk over
// IPv6 extension headers stops at the first one (the transport header is
// left on the hop-by-hop header), and it does not return when the target
// is absent.  Not run against it for that reason.
TEST(NfqHelpersOwn, Ipv6ExtensionHeadersAreWalked)
{
	for (std::uint8_t proto : {IPPROTO_TCP, IPPROTO_UDP}) {
		auto pkt = ipv6(proto, "payload", true);
		pkt_buff *b = pktb_alloc(AF_INET6, pkt.data(), pkt.size(), 0);
		ip6_hdr *h = nfq_ip6_get_hdr(b);
		ASSERT_NE(h, nullptr);
		EXPECT_EQ(nfq_ip6_set_transport_header(b, h, IPPROTO_ICMPV6), 0);
		ASSERT_EQ(nfq_ip6_set_transport_header(b, h, proto), 1);
		EXPECT_EQ(pktb_transport_header(b) - pktb_network_header(b), 48);
		pktb_free(b);
	}
	// A later fragment has no transport header.
	auto pkt = ipv6(IPPROTO_UDP, "payload");
	std::vector<std::uint8_t> frag(pkt.begin(), pkt.begin() + 40);
	frag[6] = IPPROTO_FRAGMENT;
	frag.insert(frag.end(), {IPPROTO_UDP, 0, 0x01, 0x00, 0, 0, 0, 1});
	frag.resize(frag.size() + 16);
	pkt_buff *b = pktb_alloc(AF_INET6, frag.data(), frag.size(), 0);
	EXPECT_EQ(nfq_ip6_set_transport_header(b, nfq_ip6_get_hdr(b),
	                                       IPPROTO_UDP),
	          0);
	pktb_free(b);
}

// Headers that claim more than the packet holds: nothing is read or
// pointed past the buffer.
TEST(NfqHelpersOwn, LyingHeadersStayInsideTheBuffer)
{
	// ihl 15 with tot_len 20: the checksum has nothing to sum.
	std::vector<std::uint8_t> p(80, 0);
	auto *ip = reinterpret_cast<iphdr *>(p.data());
	ip->version = 4;
	ip->ihl = 15;
	ip->tot_len = htons(20);
	ip->protocol = IPPROTO_TCP;
	pkt_buff *b = pktb_alloc(AF_INET, p.data(), p.size(), 0);
	iphdr *h = nfq_ip_get_hdr(b);
	ASSERT_NE(h, nullptr);
	ASSERT_EQ(nfq_ip_set_transport_header(b, h), 0);
	tcphdr *t = nfq_tcp_get_hdr(b);
	ASSERT_NE(t, nullptr);
	nfq_tcp_compute_checksum_ipv4(t, h);
	pktb_free(b);

	// A bridge frame whose IPv4 header claims 32 bytes of 20.
	std::vector<std::uint8_t> f(14 + 20, 0);
	f[12] = 0x08;
	f[14] = 0x48;
	f[16] = 0;
	f[17] = 20;
	b = pktb_alloc(AF_BRIDGE, f.data(), f.size(), 0);
	ASSERT_NE(b, nullptr);
	auto *h2 = reinterpret_cast<iphdr *>(pktb_network_header(b));
	EXPECT_EQ(nfq_ip_set_transport_header(b, h2), -1);
	EXPECT_EQ(nfq_tcp_get_hdr(b), nullptr);
	pktb_free(b);
}

TEST_F(NfqHelpers, LaterFragmentsAndShortPacketsAlike)
{
	auto frag = ipv4_tcp("x", 100); // offset 100 * 8
	pkt_buff *ours = pktb_alloc(AF_INET, frag.data(), frag.size(), 0);
	pkt_buff *theirs = REAL(pktb_alloc)(AF_INET, frag.data(), frag.size(), 0);
	EXPECT_EQ(nfq_ip_set_transport_header(ours, nfq_ip_get_hdr(ours)),
	          REAL(nfq_ip_set_transport_header)(
	                  theirs, REAL(nfq_ip_get_hdr)(theirs)));
	char sa[256], sb[256];
	nfq_ip_snprintf(sa, sizeof(sa), nfq_ip_get_hdr(ours));
	REAL(nfq_ip_snprintf)(sb, sizeof(sb), REAL(nfq_ip_get_hdr)(theirs));
	EXPECT_STREQ(sa, sb);
	pktb_free(ours);
	REAL(pktb_free)(theirs);

	// Cut short: no room for the header it claims.
	auto pkt = ipv4_tcp("hello");
	ours = pktb_alloc(AF_INET, pkt.data(), 30, 0);
	theirs = REAL(pktb_alloc)(AF_INET, pkt.data(), 30, 0);
	EXPECT_EQ(nfq_ip_get_hdr(ours) == nullptr,
	          REAL(nfq_ip_get_hdr)(theirs) == nullptr);
	pktb_free(ours);
	REAL(pktb_free)(theirs);
}

TEST_F(NfqHelpers, BufferArithmeticAndBridgeFramesAlike)
{
	std::vector<std::uint8_t> frame(14, 0);
	frame[12] = 0x08; // IPv4
	auto ip = ipv4_udp("abc");
	frame.insert(frame.end(), ip.begin(), ip.end());
	// libnetfilter_queue 1.0.5 compares the EtherType unconverted, so
	// it refuses this IPv4 frame and takes one whose type bytes are
	// swapped; ours takes the real thing.  The arithmetic is compared
	// on the frame each accepts.
	pkt_buff *ours = pktb_alloc(AF_BRIDGE, frame.data(), frame.size(), 10);
	EXPECT_EQ(REAL(pktb_alloc)(AF_BRIDGE, frame.data(), frame.size(), 10),
	          nullptr);
	std::swap(frame[12], frame[13]);
	pkt_buff *theirs =
	        REAL(pktb_alloc)(AF_BRIDGE, frame.data(), frame.size(), 10);
	EXPECT_EQ(pktb_alloc(AF_BRIDGE, frame.data(), frame.size(), 10), nullptr);
	std::swap(frame[12], frame[13]);
	ASSERT_TRUE(ours && theirs);
	EXPECT_EQ(pktb_network_header(ours) - pktb_mac_header(ours),
	          REAL(pktb_network_header)(theirs) -
	                  REAL(pktb_mac_header)(theirs));
	EXPECT_EQ(pktb_tailroom(ours), REAL(pktb_tailroom)(theirs));
	pktb_put(ours, 4);
	REAL(pktb_put)(theirs, 4);
	EXPECT_EQ(pktb_tailroom(ours), REAL(pktb_tailroom)(theirs));
	pktb_pull(ours, 14);
	REAL(pktb_pull)(theirs, 14);
	EXPECT_EQ(pktb_len(ours), REAL(pktb_len)(theirs));
	// After a pull, libnetfilter_queue 1.0.5 still counts the pulled
	// bytes as tailroom (its room less the length), so its pktb_mangle
	// may write past its buffer; ours counts what is left after the
	// data: 10 extra less the 4 put.
	EXPECT_EQ(pktb_tailroom(ours), 6u);
	EXPECT_EQ(REAL(pktb_tailroom)(theirs), 20u);
	pktb_trim(ours, 20);
	REAL(pktb_trim)(theirs, 20);
	pktb_push(ours, 14);
	REAL(pktb_push)(theirs, 14);
	EXPECT_EQ(pktb_len(ours), REAL(pktb_len)(theirs));
	EXPECT_EQ(pktb_tailroom(ours), REAL(pktb_tailroom)(theirs));
	EXPECT_EQ(pktb_data(ours) - pktb_mac_header(ours),
	          REAL(pktb_data)(theirs) - REAL(pktb_mac_header)(theirs));
	pktb_free(ours);
	REAL(pktb_free)(theirs);

	frame[12] = 0x08;
	frame[13] = 0x06; // ARP: refused by both
	EXPECT_EQ(pktb_alloc(AF_BRIDGE, frame.data(), frame.size(), 0), nullptr);
	EXPECT_EQ(errno, EPROTONOSUPPORT);
}

TEST_F(NfqHelpers, MessageBuildersWriteTheSameBytes)
{
	alignas(8) char a[512] = {}, b[512] = {};
	auto build = [](char *buf, bool real_lib) {
		auto put = real_lib ? REAL(nfq_nlmsg_put) : nfq_nlmsg_put;
		nlmsghdr *nlh = put(buf, NFQNL_MSG_CONFIG, 7);
		(real_lib ? REAL(nfq_nlmsg_cfg_put_cmd) : nfq_nlmsg_cfg_put_cmd)(
		        nlh, AF_INET, NFQNL_CFG_CMD_BIND);
		(real_lib ? REAL(nfq_nlmsg_cfg_put_params)
		          : nfq_nlmsg_cfg_put_params)(nlh, NFQNL_COPY_PACKET,
		                                      0xffff);
		(real_lib ? REAL(nfq_nlmsg_cfg_put_qmaxlen)
		          : nfq_nlmsg_cfg_put_qmaxlen)(nlh, 4096);
		nlmsghdr *v = put(buf + 256, NFQNL_MSG_VERDICT, 7);
		(real_lib ? REAL(nfq_nlmsg_verdict_put) : nfq_nlmsg_verdict_put)(
		        v, 42, NF_ACCEPT);
		(real_lib ? REAL(nfq_nlmsg_verdict_put_mark)
		          : nfq_nlmsg_verdict_put_mark)(v, 0xbeef);
		(real_lib ? REAL(nfq_nlmsg_verdict_put_pkt)
		          : nfq_nlmsg_verdict_put_pkt)(v, "abcde", 5);
		return std::pair{nlh->nlmsg_len, v->nlmsg_len};
	};
	const auto la = build(a, false);
	const auto lb = build(b, true);
	EXPECT_EQ(la, lb);
	EXPECT_EQ(std::memcmp(a, b, la.first), 0);
	EXPECT_EQ(std::memcmp(a + 256, b + 256, la.second), 0);
}

TEST_F(NfqHelpers, ParsingAPacketMessageFindsTheSameAttributes)
{
	// A packet message as nfnetlink_queue sends it, with one attribute
	// too short for its type at the end of a second copy.
	alignas(8) char buf[512] = {};
	nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 3);
	auto attr = [&](std::uint16_t type, const void *data, std::size_t len) {
		auto *na = reinterpret_cast<nlattr *>(buf + NLMSG_ALIGN(nlh->nlmsg_len));
		na->nla_type = type;
		na->nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + len);
		std::memcpy(buf + NLMSG_ALIGN(nlh->nlmsg_len) + NLA_HDRLEN, data, len);
		nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) +
		                 static_cast<std::uint32_t>(NLA_ALIGN(NLA_HDRLEN + len));
	};
	nfqnl_msg_packet_hdr ph{htonl(9), htons(0x0800), 1};
	attr(NFQA_PACKET_HDR, &ph, sizeof(ph));
	const std::uint32_t mark = htonl(5), dev = htonl(2);
	attr(NFQA_MARK, &mark, 4);
	attr(NFQA_IFINDEX_INDEV, &dev, 4);
	attr(NFQA_PAYLOAD, "0123456789", 10);
	attr(40, &mark, 4); // unknown to both: skipped
	std::array<nlattr *, NFQA_MAX + 1> ours{}, theirs{};
	EXPECT_EQ(nfq_nlmsg_parse(nlh, ours.data()),
	          REAL(nfq_nlmsg_parse)(nlh, theirs.data()));
	EXPECT_EQ(ours, theirs);

	const std::uint16_t short_mark = 1;
	attr(NFQA_MARK, &short_mark, 2);
	ours.fill(nullptr);
	theirs.fill(nullptr);
	EXPECT_EQ(nfq_nlmsg_parse(nlh, ours.data()),
	          REAL(nfq_nlmsg_parse)(nlh, theirs.data()));
}

} // namespace
