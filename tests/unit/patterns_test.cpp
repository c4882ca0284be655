// content and regex matches in one Hyperscan database: the database on its
// own (block and stream mode agree wherever a payload is cut), the rules'
// syntax and errors, and the verdict engine finding a match split across
// segments of a TCP client's stream.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <random>
#include <string>

#include "engine_harness.hpp"
#include "nfring/l7/patterns.hpp"
#include "nfring/rules.hpp"
#include "packet_builder.hpp"

namespace
{

using namespace nfring;
using test::conn;
using test::harness;

std::span<const std::byte> as_bytes(std::string_view s)
{
	return {reinterpret_cast<const std::byte *>(s.data()), s.size()};
}

std::shared_ptr<const l7::pattern_set>
set_of(const std::vector<l7::pattern_spec> &p)
{
	return std::make_shared<const l7::pattern_set>(p);
}

const std::vector<l7::pattern_spec> mixed = {
        {"EVIL", true, false},
        {"evil", true, true},
        {"GET /admin[0-9]+", false, false},
        {std::string("a\0z", 3), true, false}, // NUL is a byte, not an end
        {"^HEAD ", false, false},
};

TEST(Patterns, BlockScanReportsEveryPatternThatOccurs)
{
	l7::pattern_scanner sc(set_of(mixed));
	l7::pattern_hits h;
	h.resize(mixed.size());
	sc.scan_block(as_bytes("xx EvIl GET /admin42 "), h);
	EXPECT_FALSE(h.test(0));
	EXPECT_TRUE(h.test(1));
	EXPECT_TRUE(h.test(2));
	EXPECT_FALSE(h.test(3));
	EXPECT_FALSE(h.test(4)) << "^ anchors at the start only";
	sc.scan_block(as_bytes(std::string_view("HEAD / a\0z EVIL", 15)), h);
	EXPECT_TRUE(h.test(0));
	EXPECT_TRUE(h.test(1));
	EXPECT_FALSE(h.test(2));
	EXPECT_TRUE(h.test(3));
	EXPECT_TRUE(h.test(4));
	EXPECT_EQ(h.count(), 4u);
}

// A stream fed in pieces finds what one block scan of the whole finds,
// wherever the pieces are cut.
TEST(Patterns, StreamAcrossPiecesAgreesWithOneBlock)
{
	const std::string text = "HEAD /x GET /admin7 and some EVIL here";
	l7::pattern_scanner sc(set_of(mixed));
	l7::pattern_hits whole, pieces;
	whole.resize(mixed.size());
	pieces.resize(mixed.size());
	sc.scan_block(as_bytes(text), whole);
	ASSERT_EQ(whole.count(), 4u);
	hs_stream *s = sc.open_stream();
	ASSERT_NE(s, nullptr);
	std::mt19937 rng(11);
	for (std::size_t cut = 1; cut < text.size(); cut++) {
		for (std::size_t a : {cut, std::size_t(rng() % text.size())}) {
			pieces.clear();
			sc.reset_stream(s);
			const std::size_t b = std::min(text.size(), a + 3);
			sc.scan_stream(s, as_bytes(text).first(a), pieces);
			sc.scan_stream(s, as_bytes(text).subspan(a, b - a),
			               pieces);
			sc.scan_stream(s, as_bytes(text).subspan(b), pieces);
			for (std::uint32_t id = 0; id < mixed.size(); id++)
				EXPECT_EQ(pieces.test(id), whole.test(id))
				        << "cut " << a << " pattern " << id;
		}
		if (HasFailure())
			break;
	}
	sc.close_stream(s);
}

TEST(Patterns, RefusedPatternNamesItsIndex)
{
	try {
		set_of({{"fine", true, false}, {"(unclosed", false, false}});
		FAIL() << "compiled";
	} catch (const l7::pattern_error &e) {
		EXPECT_EQ(e.index, 1);
		EXPECT_NE(std::string(e.what()), "");
	}
}

std::string rules_error_of(const std::string &text)
{
	try {
		ruleset::parse(text, "p.rules");
	} catch (const rules_error &e) {
		return e.what();
	}
	return "";
}

TEST(PatternRules, RegexSyntaxAndErrors)
{
	const auto rs = ruleset::parse("drop tcp regex \"^GET /[a-z]+\\.php\" "
	                               "nocase\naccept\n",
	                               "p.rules");
	ASSERT_TRUE(rs.patterns());
	EXPECT_EQ(rs.patterns()->size(), 1u);
	EXPECT_TRUE(rs.rules()[0].regex_nocase);
	EXPECT_TRUE(rs.tcp_patterns());
	EXPECT_FALSE(ruleset::parse("accept\n", "p.rules").patterns());
	// A regex keeps its escapes for Hyperscan; content resolves its own.
	const auto esc = ruleset::parse(
	        "drop udp regex \"v=\\d+\\.\\x41\"\n"
	        "drop udp content \"\\x42\\\"\"\naccept\n",
	        "p.rules");
	EXPECT_EQ(*esc.rules()[0].regex, "v=\\d+\\.\\x41");
	EXPECT_EQ(*esc.rules()[1].content, "B\"");
	EXPECT_NE(rules_error_of("drop content \"a\\d\"\naccept\n")
	                  .find("p.rules:1: content: unknown escape '\\d'"),
	          std::string::npos);

	const std::string bad =
	        rules_error_of("accept tcp dport 1 content \"ok\"\n"
	                       "drop regex \"a(b\"\naccept\n");
	EXPECT_NE(bad.find("p.rules:2: regex \"a(b\""), std::string::npos)
	        << bad;
	EXPECT_NE(rules_error_of("drop regex \"\"\naccept\n")
	                  .find("regex needs a non-empty quoted pattern"),
	          std::string::npos);
	EXPECT_NE(rules_error_of("drop regex x\naccept\n")
	                  .find("regex needs a non-empty quoted pattern"),
	          std::string::npos);
	EXPECT_NE(rules_error_of("drop regex \"a\" regex \"b\"\naccept\n")
	                  .find("regex given twice"),
	          std::string::npos);
	// A regex that matches nothing at all is refused by Hyperscan.
	EXPECT_NE(rules_error_of("drop regex \"x*\"\naccept\n").find("p.rules:1"),
	          std::string::npos);
}

TEST(PatternRules, ContentAndRegexBothMustHold)
{
	const auto rs = ruleset::parse(
	        "drop udp content \"KEY\" regex \"v=[0-9]{3}\"\naccept\n",
	        "p.rules");
	auto judge = [&](const std::string &payload) {
		const auto p = test::ipv4(IPPROTO_UDP, "10.0.0.1", 5000,
		                          "10.0.0.2", 6000, payload);
		const auto v = parse_packet(p);
		return rs.match(*v);
	};
	EXPECT_EQ(judge("KEY v=123"), 0u);
	EXPECT_EQ(judge("KEY v=12"), 1u);
	EXPECT_EQ(judge("v=123"), 1u);
}

// A packet without any pattern skips the pattern rules at once (to the next
// rule without one); with one, every rule is walked in order as before.
TEST(PatternRules, FirstMatchOrderWithAndWithoutHits)
{
	const auto rs = ruleset::parse("drop content \"AAA\"\n"
	                               "drop udp content \"BBB\"\n"
	                               "mark 1 udp dport 53\n"
	                               "drop content \"CCC\"\n"
	                               "mark 2 udp regex \"D{3}\"\n"
	                               "accept\n",
	                               "p.rules");
	auto judge = [&](std::uint16_t dport, const std::string &payload) {
		const auto p = test::ipv4(IPPROTO_UDP, "10.0.0.1", 5000,
		                          "10.0.0.2", dport, payload);
		return rs.match(*parse_packet(p));
	};
	EXPECT_EQ(judge(53, "nothing"), 2u);
	EXPECT_EQ(judge(54, "nothing"), 5u);
	EXPECT_EQ(judge(53, "xBBBx"), 1u);
	EXPECT_EQ(judge(53, "xCCCx"), 2u) << "mark 1 comes first";
	EXPECT_EQ(judge(54, "xCCCx DDD"), 3u);
	EXPECT_EQ(judge(54, "xDDDx"), 4u);
	EXPECT_EQ(judge(54, "AAA DDD"), 0u);
}

constexpr const char *evil_rules = "drop tcp dport 80 content \"EVIL\"\n"
                                   "accept\n";

TEST(PatternEngine, ContentSplitAtEveryOffsetIsFound)
{
	const std::string req = "POST /x HTTP/1.1\r\n\r\nsome EVIL body";
	const std::size_t at = req.find("EVIL");
	for (std::size_t cut = 1; cut < req.size(); cut++) {
		harness h(evil_rules);
		conn c{h, 5000, 80};
		EXPECT_EQ(h.verdict(c.syn()), NFRING_ACCEPT);
		const auto a = c.data(0, std::string_view(req).substr(0, cut));
		const auto b = c.data(cut, std::string_view(req).substr(cut));
		// Patterns never hold: a packet is judged on the bytes so
		// far, and the one that completes the match is dropped.
		const bool first_has_it = cut >= at + 4;
		EXPECT_EQ(h.verdict(a), first_has_it ? NFRING_DROP : NFRING_ACCEPT)
		        << "cut " << cut;
		EXPECT_EQ(h.verdict(b), NFRING_DROP) << "cut " << cut;
		if (HasFailure())
			return;
	}
}

TEST(PatternEngine, OutOfOrderSegmentsAreScannedOnceContiguous)
{
	harness h(evil_rules);
	conn c{h, 5000, 80};
	c.syn();
	const auto late = c.data(2, "IL and more");
	EXPECT_EQ(h.verdict(late), NFRING_ACCEPT) << "nothing contiguous yet";
	const auto first = c.data(0, "EV");
	EXPECT_EQ(h.verdict(first), NFRING_DROP);
	// The flow is known to carry it: its later packets follow.
	EXPECT_EQ(h.verdict(c.data(13, "x")), NFRING_DROP);
}

TEST(PatternEngine, RegexAcrossSegmentsAndHeaderScope)
{
	harness h("drop tcp dport 80 regex \"GET /admin[0-9]+ HTTP\"\n"
	          "accept\n");
	conn c{h, 5000, 80};
	c.syn();
	EXPECT_EQ(h.verdict(c.data(0, "GET /adm")), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(c.data(8, "in12")), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(c.data(12, "3 HTTP/1.1\r\n")), NFRING_DROP);

	// Port 443 is outside the rule: its stream is not scanned, and the
	// flow is let go at once.
	conn other{h, 9000, 443};
	other.syn();
	EXPECT_EQ(h.verdict(other.data(0, "GET /admin1 HTTP")), NFRING_ACCEPT);
	other.server_ack(16);
	EXPECT_EQ(h.eng().inspected(), 1u) << "only the port-80 flow";
}

TEST(PatternEngine, ServerPacketsAreScannedOnTheirOwn)
{
	harness h("drop tcp sport 80 content \"SECRET\"\naccept\n");
	conn c{h, 5000, 80};
	c.syn();
	EXPECT_EQ(h.verdict(c.data(0, "GET / HTTP/1.1\r\n\r\n")),
	          NFRING_ACCEPT);
	const auto reply = h.send(test::tcp4("10.0.0.2", 80, "10.0.0.1", 40000,
	                                     1, 5001 + 18, "HTTP/1.1 200 SECRET",
	                                     0x18));
	EXPECT_EQ(h.verdict(reply), NFRING_DROP);
}

TEST(PatternEngine, FakeSegmentWithBadChecksumMatchesNothing)
{
	harness h(evil_rules);
	conn c{h, 5000, 80};
	c.syn();
	auto fake = test::tcp4("10.0.0.1", 40000, "10.0.0.2", 80, 5001, 1,
	                       "EVIL", 0x18);
	// The urgent pointer's low byte, after the checksum: EVIL intact,
	// the checksum broken.
	fake[fake.size() - 5] ^= std::byte{1};
	h.send(fake);
	// The real bytes at that place carry nothing.
	EXPECT_EQ(h.verdict(c.data(0, "GOOD")), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(c.data(4, " and more")), NFRING_ACCEPT);
}

TEST(PatternEngine, PastTheWindowEachPacketIsScannedAlone)
{
	verdict_options o = test::small();
	o.inspect.stream_bytes = 64;
	harness h(evil_rules, o);
	conn c{h, 5000, 80};
	c.syn();
	const std::string filler(64, 'a');
	EXPECT_EQ(h.verdict(c.data(0, filler)), NFRING_ACCEPT);
	c.server_ack(64);
	EXPECT_EQ(h.eng().inspected(), 0u) << "window full: slot let go";
	EXPECT_EQ(h.verdict(c.data(64, "EV")), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(c.data(66, "xx EVIL")), NFRING_DROP);
}

TEST(PatternEngine, ReloadScansTheStreamAgainWithTheNewPatterns)
{
	harness h(evil_rules);
	conn c{h, 5000, 80};
	c.syn();
	EXPECT_EQ(h.verdict(c.data(0, "hello WORLD")), NFRING_ACCEPT);
	h.load("drop tcp dport 80 content \"WORLD\"\naccept\n");
	EXPECT_EQ(h.verdict(c.data(11, "!")), NFRING_DROP);
	h.load("accept\n");
	EXPECT_EQ(h.verdict(c.data(12, "!")), NFRING_ACCEPT);
}

TEST(PatternEngine, FieldRulesAndPatternsTogether)
{
	harness h("accept tls.sni fine.example\n"
	          "drop tcp content \"EVIL\"\n"
	          "accept\n");
	conn c{h, 5000, 80};
	c.syn();
	const auto a = c.data(0, "GET / HTTP/1.1\r\nHost: x\r\n\r\nEV");
	EXPECT_EQ(h.verdict(a), NFRING_ACCEPT);
	EXPECT_EQ(h.verdict(c.data(29, "IL")), NFRING_DROP);
}

} // namespace
