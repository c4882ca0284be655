// The rules language: what parses, what each bad line says, and what each
// match selects.
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string>

#include "messages.hpp"
#include "nfring/rules.hpp"
#include "packet_builder.hpp"

namespace
{

nfring::ruleset parse(const std::string &text)
{
	return nfring::ruleset::parse(text, "t.rules");
}

std::string error_of(const std::string &text)
{
	try {
		parse(text);
	} catch (const nfring::rules_error &e) {
		return e.what();
	}
	return "(no error)";
}

// Index of the matching rule for a packet.
std::size_t which(const nfring::ruleset &rs, const std::vector<std::byte> &b)
{
	const auto p = nfring::parse_packet(b);
	EXPECT_TRUE(p);
	return rs.match(*p);
}

} // namespace

TEST(RulesParse, ExampleFileParses)
{
	const auto rs = parse("# DPI rules\n"
	                      "drop   tls.sni   *.blocked.example\n"
	                      "drop   dns.qname ads.example.com\n"
	                      "mark 7 log http.host video.example.net\n"
	                      "drop   udp dport 9999 content \"EVIL\"\n"
	                      "\n"
	                      "accept   # default\n");
	ASSERT_EQ(rs.rules().size(), 5u);
	EXPECT_EQ(rs.rules()[2].action.kind, nfring::action_kind::mark);
	EXPECT_EQ(rs.rules()[2].action.mark, 7u);
	EXPECT_TRUE(rs.rules()[2].action.log);
	EXPECT_EQ(rs.rules()[2].line, 4u);
	EXPECT_EQ(rs.rules()[4].text, "accept");
	EXPECT_TRUE(rs.rules()[0].pattern.wildcard);
}

TEST(RulesParse, ErrorsNameFileLineAndWhatIsAllowed)
{
	EXPECT_EQ(error_of("reject\naccept\n"),
	          "t.rules:1: unknown action 'reject' (allowed: accept, drop, "
	          "mark N, bypass)");
	EXPECT_EQ(error_of("accept\ndrop udp\n"),
	          "t.rules:2: rule after the default rule on line 1 can never "
	          "match");
	EXPECT_EQ(error_of("drop udp\n"),
	          "t.rules:1: the last rule must be a default with no match, "
	          "e.g. 'accept' or 'drop'");
	EXPECT_EQ(error_of("mark x\naccept\n"),
	          "t.rules:1: bad mark 'x' (allowed: 0-4294967295)");
	EXPECT_EQ(error_of("drop tcp dport 70000\naccept\n"),
	          "t.rules:1: bad port '70000' (allowed: 0-65535 or LO-HI)");
	EXPECT_EQ(error_of("drop dport 80\naccept\n"),
	          "t.rules:1: ports need 'tcp' or 'udp' in the same rule");
	EXPECT_EQ(error_of("drop src 10.0.0.0/33\naccept\n"),
	          "t.rules:1: bad prefix in '10.0.0.0/33' (allowed: 0-32)");
	EXPECT_EQ(error_of("drop src nowhere\naccept\n"),
	          "t.rules:1: bad address 'nowhere' (allowed: IPv4 or IPv6, "
	          "optionally /PREFIX)");
	EXPECT_EQ(error_of("drop content EVIL\naccept\n"),
	          "t.rules:1: content needs a non-empty quoted string, e.g. "
	          "content \"EVIL\"");
	EXPECT_EQ(error_of("drop content \"EV\naccept\n"),
	          "t.rules:1: unterminated string (missing \")");
	EXPECT_EQ(error_of("drop tls.sni *.*.x\naccept\n"),
	          "t.rules:1: bad name '.*.x' (allowed: a DNS name, "
	          "*.domain for names below it, or * for any name)");
	EXPECT_EQ(error_of("drop udp udp\naccept\n"),
	          "t.rules:1: protocol given twice");
	EXPECT_TRUE(
	        error_of("drop frobnicate\naccept\n")
	                .starts_with("t.rules:1: unknown match 'frobnicate' "
	                             "(allowed: tcp, udp,"));
	EXPECT_EQ(error_of("drop tls.sni\naccept\n"),
	          "t.rules:1: missing name at end of line");
	EXPECT_EQ(error_of("\n# only comments\n"),
	          "t.rules: no rules (end with a default, e.g. 'accept')");
}

TEST(RulesParse, MissingFileIsARulesError)
{
	EXPECT_THROW(nfring::ruleset::load("/nonexistent/x.rules"),
	             nfring::rules_error);
}

TEST(RulesMatch, FirstMatchWinsAndDefaultCatchesTheRest)
{
	const auto rs = parse("drop udp dport 9999\n"
	                      "mark 3 udp\n"
	                      "accept\n");
	EXPECT_EQ(which(rs,
	                test::ipv4(IPPROTO_UDP, "1.1.1.1", 5, "2.2.2.2", 9999)),
	          0u);
	EXPECT_EQ(
	        which(rs, test::ipv4(IPPROTO_UDP, "1.1.1.1", 5, "2.2.2.2", 53)),
	        1u);
	EXPECT_EQ(
	        which(rs, test::ipv4(IPPROTO_TCP, "1.1.1.1", 5, "2.2.2.2", 53)),
	        2u);
}

TEST(RulesMatch, CidrAndPortRanges)
{
	const auto rs = parse("drop src 10.1.0.0/16 tcp sport 1000-2000\n"
	                      "drop dst fd00::/8\n"
	                      "accept\n");
	EXPECT_EQ(which(rs, test::ipv4(IPPROTO_TCP, "10.1.200.3", 1500,
	                               "9.9.9.9", 80)),
	          0u);
	EXPECT_EQ(which(rs, test::ipv4(IPPROTO_TCP, "10.2.0.3", 1500, "9.9.9.9",
	                               80)),
	          2u);
	EXPECT_EQ(which(rs, test::ipv4(IPPROTO_TCP, "10.1.0.3", 999, "9.9.9.9",
	                               80)),
	          2u);
	EXPECT_EQ(which(rs, test::ipv6(IPPROTO_UDP, "2001:db8::1", 1, "fd12::5",
	                               2)),
	          1u);
	EXPECT_EQ(which(rs, test::ipv6(IPPROTO_UDP, "2001:db8::1", 1,
	                               "2001:db8::2", 2)),
	          2u);
}

TEST(RulesMatch, ContentExactCaseInsensitiveAndEscaped)
{
	const auto rs = parse("drop content \"EVIL\"\n"
	                      "mark 1 content \"bad\" nocase\n"
	                      "mark 2 content \"\\x00\\x01\\\"\"\n"
	                      "accept\n");
	auto pkt = [](std::string_view payload) {
		return test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2", 2,
		                  payload);
	};
	EXPECT_EQ(which(rs, pkt("xxEVILxx")), 0u);
	EXPECT_EQ(which(rs, pkt("xxevilxx")), 3u);
	EXPECT_EQ(which(rs, pkt("a BaD one")), 1u);
	EXPECT_EQ(which(rs, pkt(std::string_view("\x00\x01\"", 3))), 2u);
}

TEST(RulesMatch, HttpHostExactAndWildcard)
{
	const auto rs = parse("drop http.host *.example.com\n"
	                      "mark 7 http.host video.example.net\n"
	                      "accept\n");
	auto req = [](const std::string &host) {
		return test::ipv4(IPPROTO_TCP, "1.1.1.1", 40000, "2.2.2.2", 80,
		                  "GET / HTTP/1.1\r\nHost: " + host +
		                          "\r\n\r\n");
	};
	EXPECT_EQ(which(rs, req("www.example.com")), 0u);
	EXPECT_EQ(which(rs, req("a.b.EXAMPLE.com")), 0u);
	EXPECT_EQ(which(rs, req("example.com")), 2u)
	        << "a wildcard matches names below the domain only";
	EXPECT_EQ(which(rs, req("video.example.net:8080")), 1u);
	EXPECT_EQ(which(rs, req("xvideo.example.net")), 2u);
}

TEST(RulesMatch, StarIsAnyNameThatIsThere)
{
	const auto rs = parse("mark 1 http.host *\naccept\n");
	auto req = [](const std::string &head) {
		return test::ipv4(IPPROTO_TCP, "1.1.1.1", 40000, "2.2.2.2", 80,
		                  head + "\r\n\r\n");
	};
	EXPECT_EQ(which(rs, req("GET / HTTP/1.1\r\nHost: x.example")), 0u);
	EXPECT_EQ(which(rs, req("GET / HTTP/1.1\r\nHost: a")), 0u);
	EXPECT_EQ(which(rs, req("GET / HTTP/1.1\r\nAccept: */*")), 1u)
	        << "no Host: no name";
}

TEST(RulesMatch, DnsQnameOnlyOnUdp)
{
	const auto rs = parse("drop dns.qname ads.example.com\naccept\n");
	EXPECT_EQ(which(rs,
	                test::ipv4(IPPROTO_UDP, "1.1.1.1", 5000, "2.2.2.2", 53,
	                           nfring_test::dns_query("ads.example.com"))),
	          0u);
	EXPECT_EQ(which(rs,
	                test::ipv4(IPPROTO_UDP, "1.1.1.1", 5000, "2.2.2.2", 53,
	                           nfring_test::dns_query("www.example.com"))),
	          1u);
}

TEST(RulesNameLists, AtFileMatchesEveryNameOfTheList)
{
	const std::string dir = ::testing::TempDir() + "nfring-lists";
	std::system(("mkdir -p " + dir).c_str());
	{
		std::ofstream f(dir + "/block.txt");
		f << "# blocked\nads.example.com\n*.tracker.example\n";
	}
	{
		std::ofstream f(dir + "/t.rules");
		f << "drop http.host @block.txt\naccept\n";
	}
	const auto rs = nfring::ruleset::load(dir + "/t.rules");
	auto req = [](const std::string &host) {
		return test::ipv4(IPPROTO_TCP, "1.1.1.1", 40000, "2.2.2.2", 80,
		                  "GET / HTTP/1.1\r\nHost: " + host +
		                          "\r\n\r\n");
	};
	EXPECT_EQ(which(rs, req("ads.example.com")), 0u);
	EXPECT_EQ(which(rs, req("x.tracker.example")), 0u);
	EXPECT_EQ(which(rs, req("tracker.example")), 1u);
	EXPECT_EQ(which(rs, req("www.example.com")), 1u);
}

TEST(RulesNameLists, ErrorsNameTheListAndItsLine)
{
	EXPECT_EQ(error_of("drop tls.sni @\naccept\n"),
	          "t.rules:1: '@' needs a file of names, e.g. @blocklist.txt");
	const std::string missing = error_of(
	        "accept tcp\ndrop tls.sni @/nonexistent/list.txt\naccept\n");
	EXPECT_EQ(missing.rfind("t.rules:2: name list @/nonexistent/list.txt: "
	                        "/nonexistent/list.txt: cannot open",
	                        0),
	          0u)
	        << missing;
	const std::string dir = ::testing::TempDir() + "nfring-lists";
	std::system(("mkdir -p " + dir).c_str());
	{
		std::ofstream f(dir + "/bad.txt");
		f << "ok.example\nbad..example\n";
	}
	const std::string bad =
	        error_of("drop tls.sni @" + dir + "/bad.txt\naccept\n");
	EXPECT_NE(bad.find(dir + "/bad.txt:2: 'bad..example'"),
	          std::string::npos)
	        << bad;
}
