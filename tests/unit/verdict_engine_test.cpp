// The verdict engine with L7 inspection: messages split across segments,
// out of order, across TLS records; holding, its bounds and time limit;
// validation (checksums, conflicting retransmissions); caching after the
// server's acknowledgment.  Packets are judged directly, without a queue.
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <string>

#include "engine_harness.hpp"
#include "nfring/verdict_engine.hpp"
#include "messages.hpp"
#include "packet_builder.hpp"
#include "quic_flight.hpp"
#include "tls_builder.hpp"

namespace
{

using namespace nfring;
using test::bytes;
using test::conn;
using test::harness;
using test::small;

constexpr const char *block_rules = "drop tls.sni blocked.example\n"
                                    "drop http.host blocked.example\n"
                                    "accept\n";

bytes hello_for(const std::string &sni, std::size_t record_max = 16384)
{
	test::hello_spec s;
	s.sni = sni;
	return test::client_hello_records(s, record_max);
}

TEST(VerdictEngine, PostQuantumHelloSplitAtEveryOffsetIsJudged)
{
	const bytes hello = hello_for("blocked.example");
	ASSERT_GT(hello.size(), 1500u) << "not the size of a PQ hello";
	for (std::size_t cut = 1; cut < hello.size(); cut++) {
		harness h(block_rules);
		conn c{h};
		EXPECT_EQ(h.verdict(c.syn()), NFRING_ACCEPT);
		const auto a = c.data(0, std::span(hello).first(cut));
		EXPECT_EQ(h.verdict(a), std::nullopt) << "cut " << cut;
		const auto b = c.data(cut, std::span(hello).subspan(cut));
		EXPECT_EQ(h.verdict(a), NFRING_DROP) << "cut " << cut;
		EXPECT_EQ(h.verdict(b), NFRING_DROP) << "cut " << cut;
		if (HasFailure())
			return;
	}
}

TEST(VerdictEngine, AllowedNameSplitAnywhereIsAccepted)
{
	const bytes hello = hello_for("fine.example");
	for (std::size_t cut : {1ul, 5ul, 6ul, 100ul, 1400ul}) {
		harness h(block_rules);
		conn c{h};
		c.syn();
		const auto a = c.data(0, std::span(hello).first(cut));
		const auto b = c.data(cut, std::span(hello).subspan(cut));
		EXPECT_EQ(h.verdict(a), NFRING_ACCEPT) << cut;
		EXPECT_EQ(h.verdict(b), NFRING_ACCEPT) << cut;
	}
}

TEST(VerdictEngine, ServerNameLastInTheSecondSegment)
{
	test::hello_spec s;
	s.sni = "blocked.example";
	s.sni_last = true;
	const bytes hello = test::client_hello_records(s);
	harness h(block_rules);
	conn c{h};
	c.syn();
	const auto a = c.data(0, std::span(hello).first(1448));
	const auto b = c.data(1448, std::span(hello).subspan(1448));
	EXPECT_EQ(h.verdict(a), NFRING_DROP);
	EXPECT_EQ(h.verdict(b), NFRING_DROP);
}

TEST(VerdictEngine, SegmentsOutOfOrder)
{
	const bytes hello = hello_for("blocked.example");
	harness h(block_rules);
	conn c{h};
	c.syn();
	const auto b = c.data(1000, std::span(hello).subspan(1000));
	EXPECT_EQ(h.verdict(b), std::nullopt);
	const auto a = c.data(0, std::span(hello).first(1000));
	EXPECT_EQ(h.verdict(a), NFRING_DROP);
	EXPECT_EQ(h.verdict(b), NFRING_DROP);
}

TEST(VerdictEngine, HelloAcrossRecordsAndSegments)
{
	// 100-byte records, sent as 300-byte segments.
	const bytes hello = hello_for("blocked.example", 100);
	harness h(block_rules);
	conn c{h};
	c.syn();
	std::vector<std::uint64_t> ids;
	for (std::size_t off = 0; off < hello.size(); off += 300)
		ids.push_back(c.data(
		        off, std::span(hello).subspan(
		                     off, std::min<std::size_t>(
		                                  300, hello.size() - off))));
	for (auto id : ids)
		EXPECT_EQ(h.verdict(id), NFRING_DROP) << id;
}

TEST(VerdictEngine, RetransmissionOfHeldBytesIsHeldToo)
{
	const bytes hello = hello_for("blocked.example");
	harness h(block_rules);
	conn c{h};
	c.syn();
	const auto a = c.data(0, std::span(hello).first(500));
	const auto again = c.data(0, std::span(hello).first(500));
	EXPECT_EQ(h.verdict(again), std::nullopt);
	const auto b = c.data(500, std::span(hello).subspan(500));
	for (auto id : {a, again, b})
		EXPECT_EQ(h.verdict(id), NFRING_DROP);
}

TEST(VerdictEngine, HoldTimesOutWithTheUndecidedAction)
{
	verdict_options o = small();
	o.hold_time = std::chrono::milliseconds(200);
	o.undecided = {action_kind::drop};
	harness h(block_rules, o);
	conn c{h};
	c.syn();
	const bytes hello = hello_for("fine.example");
	const auto a = c.data(0, std::span(hello).first(10));
	h.advance(std::chrono::milliseconds(150));
	EXPECT_EQ(h.verdict(a), std::nullopt);
	h.advance(std::chrono::milliseconds(60));
	EXPECT_EQ(h.verdict(a), NFRING_DROP);
	EXPECT_EQ(h.eng().held(), 0u);
	EXPECT_EQ(h.eng().counters().undecided, 1u);
	// The rest of the flow follows: the stream was never read whole.
	EXPECT_EQ(h.verdict(c.data(10, std::span(hello).subspan(10))),
	          NFRING_DROP);
}

TEST(VerdictEngine, TooManyHeldPacketsGiveUpOnTheFlow)
{
	verdict_options o = small();
	o.hold_packets = 3;
	harness h(block_rules, o);
	conn c{h};
	c.syn();
	const bytes hello = hello_for("blocked.example");
	std::vector<std::uint64_t> ids;
	for (std::size_t off = 0; off < 4; off++)
		ids.push_back(c.data(off, std::span(hello).subspan(off, 1)));
	for (auto id : ids)
		EXPECT_EQ(h.verdict(id), NFRING_ACCEPT) << id; // undecided
	EXPECT_EQ(h.eng().held(), 0u);
}

TEST(VerdictEngine, FakeWithBadChecksumDecidesNothing)
{
	harness h(block_rules);
	conn c{h};
	c.syn();
	const bytes good = hello_for("fine.example");
	std::string g(reinterpret_cast<const char *>(good.data()), good.size());
	bytes fake =
	        test::tcp4("10.0.0.1", 40000, "10.0.0.2", 443, c.isn + 1, 1, g);
	fake[40] ^= std::byte{0xff}; // the checksum no longer holds
	EXPECT_EQ(h.verdict(h.send(fake)), NFRING_ACCEPT);
	EXPECT_EQ(h.eng().inspect_stats().bad_checksum, 1u);
	const bytes real = hello_for("blocked.example");
	EXPECT_EQ(h.verdict(c.data(0, real)), NFRING_DROP);
}

TEST(VerdictEngine, ChecksumNotFinishedIsNotChecked)
{
	harness h(block_rules);
	conn c{h};
	c.syn();
	const bytes hello = hello_for("blocked.example");
	std::string s(reinterpret_cast<const char *>(hello.data()),
	              hello.size());
	bytes p =
	        test::tcp4("10.0.0.1", 40000, "10.0.0.2", 443, c.isn + 1, 1, s);
	p[36] = p[37] = std::byte{0}; // a CHECKSUM_PARTIAL packet's field
	EXPECT_EQ(h.verdict(h.send(p, NFRING_RX_CSUM_NOTREADY)), NFRING_DROP);
}

TEST(VerdictEngine, ConflictingRetransmissionGetsTheInconsistentAction)
{
	// A fake hello that never reaches the server (short TTL), then the
	// real one at the same sequence numbers.
	harness h(block_rules);
	conn c{h};
	c.syn();
	const bytes fake = hello_for("goodone.example");
	const bytes real = hello_for("blocked.example");
	ASSERT_EQ(fake.size(), real.size());
	EXPECT_EQ(h.verdict(c.data(0, fake)), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(c.data(0, real)), NFRING_DROP);
	EXPECT_EQ(h.eng().counters().inconsistent, 1u);
	EXPECT_EQ(h.verdict(c.data(real.size(), "GET")), NFRING_DROP);
}

TEST(VerdictEngine, DecisionIsCachedOnceTheServerAcknowledged)
{
	harness h(block_rules);
	conn c{h};
	c.syn();
	const bytes hello = hello_for("fine.example");
	EXPECT_EQ(h.verdict(c.data(0, hello)), NFRING_ACCEPT);
	EXPECT_EQ(h.eng().flows(), 0u);
	EXPECT_EQ(h.eng().inspected(), 1u);
	c.server_ack(10); // not all of it yet
	EXPECT_EQ(h.eng().flows(), 0u);
	c.server_ack(hello.size());
	EXPECT_EQ(h.eng().flows(), 1u);
	EXPECT_EQ(h.eng().inspected(), 0u);
}

TEST(VerdictEngine, HttpHostInTheSecondSegment)
{
	harness h(block_rules);
	conn c{h, 9000, 80};
	c.syn();
	const std::string req = "GET / HTTP/1.1\r\nUser-Agent: x\r\n"
	                        "Host: blocked.example\r\n\r\n";
	const auto a = c.data(0, std::string_view(req).substr(0, 20));
	EXPECT_EQ(h.verdict(a), std::nullopt);
	const auto b = c.data(20, std::string_view(req).substr(20));
	EXPECT_EQ(h.verdict(a), NFRING_DROP);
	EXPECT_EQ(h.verdict(b), NFRING_DROP);
}

TEST(VerdictEngine, FinAfterAnIncompleteMessageReleasesIt)
{
	harness h(block_rules);
	conn c{h, 9000, 80};
	c.syn();
	const auto a = c.data(0, "GET / HTTP/1.1\r\nHost: blo");
	EXPECT_EQ(h.verdict(a), std::nullopt);
	const auto fin = c.data(25, std::string_view(), 0x11);
	EXPECT_EQ(h.verdict(a), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(fin), NFRING_ACCEPT);
}

TEST(VerdictEngine, DnsOverTcpSeveralMessagesAndOneAcrossSegments)
{
	auto query = [](const std::string &name) {
		test::tls_writer w;
		w.u16(0); // length, patched below
		w.u16(0x1234);
		w.u16(0x0100);
		w.u16(1);
		w.u16(0);
		w.u16(0);
		w.u16(0);
		std::size_t start = 0;
		for (std::size_t dot;
		     (dot = name.find('.', start)) != std::string::npos;
		     start = dot + 1) {
			w.u8(static_cast<unsigned>(dot - start));
			w.str(name.substr(start, dot - start));
		}
		w.u8(static_cast<unsigned>(name.size() - start));
		w.str(name.substr(start));
		w.u8(0);
		w.u16(1);
		w.u16(1);
		w.patch(0, 2);
		return w.out;
	};
	harness h("drop dns.qname ads.example\naccept\n");
	conn c{h, 100, 53};
	c.syn();
	bytes two = query("fine.example");
	const bytes ads = query("ads.example");
	two.insert(two.end(), ads.begin(), ads.end());
	const auto a = c.data(0, std::span(two).first(two.size() - 5));
	EXPECT_EQ(h.verdict(a), NFRING_ACCEPT) << "first query decides";

	harness h2("drop dns.qname ads.example\naccept\n");
	conn c2{h2, 100, 53};
	c2.syn();
	bytes both = query("ads.example");
	const bytes fine = query("fine.example");
	both.insert(both.end(), fine.begin(), fine.end());
	const auto x = c2.data(0, std::span(both).first(3));
	EXPECT_EQ(h2.verdict(x), std::nullopt);
	const auto y = c2.data(3, std::span(both).subspan(3));
	EXPECT_EQ(h2.verdict(x), NFRING_DROP);
	EXPECT_EQ(h2.verdict(y), NFRING_DROP);
}

TEST(VerdictEngine, HandshakePacketsAreNeverHeld)
{
	harness h(block_rules);
	conn c{h};
	EXPECT_EQ(h.verdict(c.syn()), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(h.send(test::tcp4("10.0.0.2", 443, "10.0.0.1",
	                                      40000, 1, c.isn + 1, {}, 0x12))),
	          NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(h.send(test::tcp4("10.0.0.1", 40000, "10.0.0.2",
	                                      443, c.isn + 1, 2, {}, 0x10))),
	          NFRING_ACCEPT);
}

TEST(VerdictEngine, AlpnAndEchRules)
{
	test::hello_spec s;
	s.sni = "x.example";
	s.alpn = {"h2"};
	s.ech = true;
	const bytes hello = test::client_hello_records(s);
	{
		harness h("drop tls.alpn h2\naccept\n");
		conn c{h};
		c.syn();
		EXPECT_EQ(h.verdict(c.data(0, hello)), NFRING_DROP);
	}
	{
		harness h("drop tls.alpn http/1.1\naccept\n");
		conn c{h};
		c.syn();
		EXPECT_EQ(h.verdict(c.data(0, hello)), NFRING_ACCEPT);
	}
	{
		harness h("mark 5 tls.ech yes\naccept\n");
		conn c{h};
		c.syn();
		EXPECT_EQ(h.verdict(c.data(0, hello)), NFRING_ACCEPT);
		EXPECT_EQ(h.eng().counters().marked, 1u);
	}
}

TEST(VerdictEngine, ReloadJudgesHeldPacketsAgain)
{
	harness h(block_rules);
	conn c{h};
	c.syn();
	const bytes hello = hello_for("blocked.example");
	const auto a = c.data(0, std::span(hello).first(100));
	EXPECT_EQ(h.verdict(a), std::nullopt);
	h.load("accept\n"); // no rule reads L7 fields any more
	EXPECT_EQ(h.verdict(a), NFRING_ACCEPT);
	EXPECT_EQ(h.eng().held(), 0u);
}

TEST(VerdictEngine, ReleaseAllAnswersEveryHeldPacket)
{
	harness h(block_rules);
	conn c{h};
	c.syn();
	const bytes hello = hello_for("blocked.example");
	const auto a = c.data(0, std::span(hello).first(100));
	std::vector<nfring_verdict> out;
	h.eng().release_all(out);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0].id, a);
	EXPECT_EQ(h.eng().held(), 0u);
}

} // namespace

namespace
{

TEST(FlowLog, FormatsOneJsonLinePerEvent)
{
	nfring::flow_event e;
	e.unix_ns = 1764684001123456789ull; // 2025-12-02T14:00:01.123456Z
	e.queue = 3;
	e.family = 4;
	e.proto = IPPROTO_TCP;
	e.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 1, 2};
	e.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 2, 2};
	e.sport = 40000;
	e.dport = 443;
	e.line = 7;
	e.action = nfring::action_kind::drop;
	e.field = nfring::l7_field::tls_sni;
	nfring::l7_state st;
	st.tls = nfring::l7::status::done;
	st.hello.sni = "www.blocked.example";
	st.hello.alpn = {"h2", "http/1.1"};
	st.hello.ech = false;
	e.set_fields(st);
	EXPECT_EQ(nfring::flow_log::format(e, "/etc/nfring/a\"b.rules"),
	          "{\"ts\":\"2025-12-02T14:00:01.123456Z\",\"queue\":3,"
	          "\"proto\":\"tcp\",\"src\":\"10.0.1.2\",\"sport\":40000,"
	          "\"dst\":\"10.0.2.2\",\"dport\":443,"
	          "\"rule\":\"/etc/nfring/a\\\"b.rules:7\",\"action\":\"drop\","
	          "\"reason\":\"rule\",\"field\":\"tls.sni\","
	          "\"sni\":\"www.blocked.example\",\"alpn\":[\"h2\","
	          "\"http/1.1\"],\"ech\":false}");
}

TEST(FlowLog, AFullQueueDropsAndCounts)
{
	nfring::flow_log_queue q(4);
	nfring::flow_event e;
	int pushed = 0;
	for (int i = 0; i < 10; i++)
		pushed += q.push(e);
	EXPECT_LT(pushed, 10);
	EXPECT_EQ(q.dropped(), static_cast<std::uint64_t>(10 - pushed));
}

TEST(FlowLog, EngineLogsRuleAndUndecidedFlowsToTheFile)
{
	const std::string path = ::testing::TempDir() + "nfring-flow.log";
	std::remove(path.c_str());
	{
		nfring::flow_log log(path, "t.rules");
		verdict_options o = small();
		o.hold_time = std::chrono::milliseconds(100);
		harness h("drop log tls.sni blocked.example\naccept\n", o);
		h.eng().set_log(log.open_queue());
		conn c{h};
		c.syn();
		c.data(0, hello_for("blocked.example"));
		// Another flow: an incomplete hello, given up on.
		h.send(test::tcp4("10.0.0.1", 40001, "10.0.0.2", 443, 500, 0,
		                  {}, 0x02));
		h.send(test::tcp4("10.0.0.1", 40001, "10.0.0.2", 443, 501, 1,
		                  "\x16\x03\x01", 0x18));
		h.advance(std::chrono::milliseconds(150));
	}
	std::ifstream in(path);
	std::string a, b, extra;
	ASSERT_TRUE(std::getline(in, a));
	ASSERT_TRUE(std::getline(in, b));
	EXPECT_FALSE(std::getline(in, extra));
	EXPECT_NE(a.find("\"rule\":\"t.rules:1\",\"action\":\"drop\","
	                 "\"reason\":\"rule\",\"field\":\"tls.sni\","
	                 "\"sni\":\"blocked.example\""),
	          std::string::npos)
	        << a;
	EXPECT_NE(b.find("\"sport\":40001"), std::string::npos) << b;
	EXPECT_NE(b.find("\"reason\":\"undecided\""), std::string::npos) << b;
}

} // namespace

namespace
{

std::vector<bytes> quic_flight(const std::string &sni, std::uint32_t version)
{
	return nfring_test::quic::client_flight(sni, version);
}

bytes udp(const bytes &payload)
{
	return test::ipv4(
	        IPPROTO_UDP, "10.0.0.1", 50000, "10.0.0.2", 443,
	        std::string(reinterpret_cast<const char *>(payload.data()),
	                    payload.size()));
}

TEST(VerdictEngineQuic, HelloOverTwoDatagramsIsHeldThenJudged)
{
	for (std::uint32_t v :
	     {nfring::l7::quic::version_1, nfring::l7::quic::version_2,
	      nfring::l7::quic::version_draft29}) {
		const auto flight = quic_flight("video.blocked.example", v);
		harness h("drop quic.sni *.blocked.example\naccept\n");
		const auto a = h.send(udp(flight[0]));
		EXPECT_EQ(h.verdict(a), std::nullopt) << std::hex << v;
		const auto b = h.send(udp(flight[1]));
		EXPECT_EQ(h.verdict(a), NFRING_DROP) << std::hex << v;
		EXPECT_EQ(h.verdict(b), NFRING_DROP) << std::hex << v;
		// The flow's decision is cached at once: QUIC's ACKs are
		// encrypted, there is nothing to wait for.
		EXPECT_EQ(h.eng().flows(), 1u);
	}
}

TEST(VerdictEngineQuic, SecondDatagramFirstAndAlpn)
{
	const auto flight =
	        quic_flight("fine.example", nfring::l7::quic::version_1);
	harness h("mark 9 quic.alpn h3\naccept\n");
	const auto b = h.send(udp(flight[1]));
	// Not a flow's first Initial (no CRYPTO at offset 0), but a client
	// Initial all the same: followed.
	EXPECT_EQ(h.verdict(b), std::nullopt);
	const auto a = h.send(udp(flight[0]));
	EXPECT_EQ(h.verdict(a), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(b), NFRING_ACCEPT);
	EXPECT_EQ(h.eng().counters().marked, 2u);
}

TEST(VerdictEngineQuic, DnsOnTheSameRulesIsStillJudgedPerDatagram)
{
	harness h("drop quic.sni x.example\ndrop dns.qname ads.example\n"
	          "accept\n");
	test::tls_writer w;
	w.u16(0x1234);
	w.u16(0x0100);
	w.u16(1);
	w.u16(0);
	w.u16(0);
	w.u16(0);
	w.u8(3);
	w.str("ads");
	w.u8(7);
	w.str("example");
	w.u8(0);
	w.u16(1);
	w.u16(1);
	EXPECT_EQ(h.verdict(h.send(test::ipv4(
	                  IPPROTO_UDP, "10.0.0.1", 5353, "10.0.0.2", 53,
	                  std::string(
	                          reinterpret_cast<const char *>(w.out.data()),
	                          w.out.size())))),
	          NFRING_DROP);
}

} // namespace

namespace
{

// Each DNS datagram is judged: a first, allowed query on some ports does
// not let a later one on the same ports through.
TEST(VerdictEngine, DnsQueriesOnTheSamePortsAreEachJudged)
{
	harness h("accept dns.qname good.example\n"
	          "drop dns.qname ads.example\naccept\n");
	auto query = [&](const std::string &name) {
		return h.verdict(h.send(test::ipv4(IPPROTO_UDP, "10.0.0.1", 5353,
		                                   "10.0.0.2", 53,
		                                   nfring_test::dns_query(name))));
	};
	EXPECT_EQ(query("good.example"), NFRING_ACCEPT);
	EXPECT_EQ(query("ads.example"), NFRING_DROP);
	EXPECT_EQ(query("good.example"), NFRING_ACCEPT);
	EXPECT_EQ(h.eng().flows(), 0u) << "no datagram decision is cached";
}

} // namespace

namespace
{

// A new connection from the same port to the same server is judged anew:
// neither the old connection's cached decision nor a slot that followed
// the old one (here picked up in its middle, from the server's side)
// carries over.
TEST(VerdictEngine, PortReuseIsANewConnection)
{
	harness h(block_rules);
	conn c{h};
	c.syn();
	const bytes fine = hello_for("fine.example");
	EXPECT_EQ(h.verdict(c.data(0, fine)), NFRING_ACCEPT);
	c.server_ack(fine.size());
	EXPECT_EQ(h.eng().flows(), 1u) << "the decision is cached";
	conn again{h, 90000};
	EXPECT_EQ(h.verdict(again.syn()), NFRING_ACCEPT);
	const bytes blocked = hello_for("blocked.example");
	EXPECT_EQ(h.verdict(again.data(0, blocked)), NFRING_DROP);

	harness h2(block_rules);
	// The tail of an earlier connection, from the server, seen first.
	h2.send(test::tcp4("10.0.0.2", 443, "10.0.0.1", 40000, 5555, 7777,
	                   "tail of an old reply", 0x18));
	conn fresh{h2, 123};
	fresh.syn();
	EXPECT_EQ(h2.verdict(fresh.data(0, blocked)), NFRING_DROP);
}

} // namespace

// ---- flow bypass (NFRING_VF_BYPASS) ----------------------------------------

verdict_options with_bypass()
{
	verdict_options o = small();
	o.bypass = true;
	return o;
}

TEST(VerdictEngineBypass, HeaderRulesBypassTheFirstPacket)
{
	harness h("bypass udp dport 5001\ndrop udp dport 5002\naccept\n",
	          with_bypass());
	const auto a = h.send(test::ipv4(IPPROTO_UDP, "10.0.0.1", 999, "10.0.0.2", 5001, "x"));
	EXPECT_EQ(h.verdict(a), NFRING_ACCEPT);
	EXPECT_EQ(h.flags(a), NFRING_VF_BYPASS);
	const auto b = h.send(test::ipv4(IPPROTO_UDP, "10.0.0.1", 999, "10.0.0.2", 5002, "x"));
	EXPECT_EQ(h.verdict(b), NFRING_DROP);
	EXPECT_EQ(h.flags(b), 0u);
	const auto c = h.send(test::ipv4(IPPROTO_UDP, "10.0.0.1", 999, "10.0.0.2", 5003, "x"));
	EXPECT_EQ(h.flags(c), 0u) << "plain accept asked for a bypass";
	EXPECT_EQ(h.eng().counters().bypassed, 1u);
}

TEST(VerdictEngineBypass, WithoutTheQueuesMarkBypassOnlyAccepts)
{
	harness h("bypass udp dport 5001\naccept\n"); // o.bypass false
	const auto a = h.send(test::ipv4(IPPROTO_UDP, "10.0.0.1", 999, "10.0.0.2", 5001, "x"));
	EXPECT_EQ(h.verdict(a), NFRING_ACCEPT);
	EXPECT_EQ(h.flags(a), 0u);
	EXPECT_EQ(h.eng().counters().bypassed, 0u);
}

TEST(VerdictEngineBypass, NotBeforeAPayloadRuleOfTheFlowCouldStillMatch)
{
	// A SYN matches the bypass rule by its headers, but the hello that
	// follows could still match the tls.sni rule above it: bypassing on
	// the SYN would let every blocked name through.
	harness h("drop tls.sni blocked.example\nbypass tcp dport 443\n"
	          "accept\n",
	          with_bypass());
	conn c{h};
	const auto syn = c.syn();
	EXPECT_EQ(h.verdict(syn), NFRING_ACCEPT);
	EXPECT_EQ(h.flags(syn), 0u);
	const bytes hello = hello_for("fine.example");
	const auto d = c.data(0, hello);
	EXPECT_EQ(h.verdict(d), NFRING_ACCEPT);
	EXPECT_EQ(h.flags(d), 0u) << "bypassed before the server acknowledged";
	// Acknowledged: the decision is cached, and the flow's next packet
	// takes it out of the queue.
	const auto ack = c.server_ack(hello.size());
	EXPECT_EQ(h.eng().flows(), 1u);
	const auto next = c.data(hello.size(), std::string_view("GET"));
	EXPECT_EQ(h.verdict(next), NFRING_ACCEPT);
	EXPECT_EQ(h.flags(next), NFRING_VF_BYPASS);
	(void)ack;
}

TEST(VerdictEngineBypass, ABlockedNameIsNeverBypassed)
{
	harness h("drop tls.sni blocked.example\nbypass tcp dport 443\n"
	          "accept\n",
	          with_bypass());
	conn c{h};
	c.syn();
	const bytes hello = hello_for("blocked.example");
	const auto d = c.data(0, hello);
	EXPECT_EQ(h.verdict(d), NFRING_DROP);
	EXPECT_EQ(h.flags(d), 0u);
	EXPECT_EQ(h.eng().counters().bypassed, 0u);
}

TEST(VerdictEngineBypass, UdpWithDnsRulesStaysPerDatagram)
{
	// DNS names are judged datagram by datagram: one allowed query must
	// not open the ports for the next.
	harness h("drop dns.qname blocked.example\nbypass udp dport 53\n"
	          "accept\n",
	          with_bypass());
	const auto q = h.send(test::ipv4(IPPROTO_UDP, "10.0.0.1", 999, "10.0.0.2", 53,
	                                 std::string(12, '\0')));
	EXPECT_EQ(h.verdict(q), NFRING_ACCEPT);
	EXPECT_EQ(h.flags(q), 0u);
	// TCP is not read by a dns.qname rule... but DNS over TCP is: no
	// bypass there either while such a rule exists.
	harness t("drop dns.qname blocked.example\nbypass tcp\naccept\n",
	          with_bypass());
	conn c{t};
	EXPECT_EQ(t.flags(c.syn()), 0u);
	// ICMP is never payload-judged by these rules: decided at once.
	harness i("drop dns.qname blocked.example\nbypass icmp\naccept\n",
	          with_bypass());
	const auto ping = i.send(test::ipv4(IPPROTO_ICMP, "10.0.0.1", 0, "10.0.0.2", 0));
	EXPECT_EQ(i.flags(ping), NFRING_VF_BYPASS);
}
