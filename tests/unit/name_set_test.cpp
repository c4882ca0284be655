// Name sets (files of host names for rules): what a line means, what each
// bad line says, and that lookups are exact against a naive reference.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include "nfring/name_set.hpp"
#include "nfring/rules.hpp"

namespace
{

nfring::name_set parse(const std::string &text)
{
	return nfring::name_set::parse(text, "t.names");
}

std::string error_of(const std::string &text)
{
	try {
		parse(text);
	} catch (const nfring::name_set_error &e) {
		return e.what();
	}
	return "(no error)";
}

std::string match_of(const nfring::name_set &set, std::string_view host)
{
	const auto m = set.match(host);
	return m ? std::string(*m) : "(none)";
}

// A file removed when the test ends.
struct temp_file {
	std::string path = ::testing::TempDir() + "name_set_test." +
	                   std::to_string(::getpid());
	explicit temp_file(const std::string &text)
	{
		std::ofstream(path, std::ios::binary) << text;
	}
	~temp_file() { std::remove(path.c_str()); }
};

} // namespace

TEST(NameSet, ExactEntryMatchesOnlyThatName)
{
	const auto set = parse("example.com\n");
	EXPECT_TRUE(set.contains("example.com"));
	EXPECT_FALSE(set.contains("a.example.com"));
	EXPECT_FALSE(set.contains("badexample.com"));
	EXPECT_FALSE(set.contains("xample.com"));
	EXPECT_FALSE(set.contains("example.co"));
	EXPECT_FALSE(set.contains("example.com.evil"));
	EXPECT_FALSE(set.contains("com"));
	EXPECT_EQ(match_of(set, "example.com"), "example.com");
}

TEST(NameSet, WildcardMatchesStrictlyBelowItsDomain)
{
	const auto set = parse("*.example.com\n");
	EXPECT_TRUE(set.contains("a.example.com"));
	EXPECT_TRUE(set.contains("x.y.example.com"));
	EXPECT_FALSE(set.contains("example.com")) << "the apex is not below";
	EXPECT_FALSE(set.contains("badexample.com"))
	        << "a suffix by string but not at a label boundary";
	EXPECT_FALSE(set.contains(".example.com")) << "nothing before the dot";
	EXPECT_FALSE(set.contains("a.example.com.evil"));
	EXPECT_EQ(match_of(set, "x.y.example.com"), "*.example.com");
}

TEST(NameSet, ExactAndWildcardForOneDomainAreTwoEntries)
{
	// Both orders: an exact entry met first has to move for the "*.".
	for (const char *text :
	     {"example.com\n*.example.com\n", "*.example.com\nexample.com\n"}) {
		const auto set = parse(text);
		EXPECT_EQ(set.size(), 2u) << text;
		EXPECT_EQ(match_of(set, "example.com"), "example.com") << text;
		EXPECT_EQ(match_of(set, "a.example.com"), "*.example.com")
		        << text;
	}
}

TEST(NameSet, MostSpecificEntryIsReported)
{
	const auto set = parse("*.com\n"
	                       "*.example.com\n"
	                       "a.example.com\n"
	                       "*.b.example.com\n"
	                       "b.example.com\n");
	EXPECT_EQ(match_of(set, "a.example.com"), "a.example.com")
	        << "exact beats every wildcard";
	EXPECT_EQ(match_of(set, "x.b.example.com"), "*.b.example.com")
	        << "the longest wildcard domain wins";
	EXPECT_EQ(match_of(set, "b.example.com"), "b.example.com");
	EXPECT_EQ(match_of(set, "z.example.com"), "*.example.com");
	EXPECT_EQ(match_of(set, "x.a.example.com"), "*.example.com");
	EXPECT_EQ(match_of(set, "other.com"), "*.com");
	EXPECT_EQ(match_of(set, "com"), "(none)");
}

TEST(NameSet, CaseIsFoldedInEntriesAndQueries)
{
	const auto set = parse("ExAmple.COM\n*.Tracker.Example\n");
	EXPECT_TRUE(set.contains("example.com"));
	EXPECT_TRUE(set.contains("EXAMPLE.com"));
	EXPECT_TRUE(set.contains("A.TRACKER.EXAMPLE"));
	EXPECT_EQ(match_of(set, "ExAmPlE.cOm"), "example.com")
	        << "the entry is reported lowercased";
	EXPECT_EQ(match_of(set, "www.tracker.example"), "*.tracker.example");
}

TEST(NameSet, OneTrailingDotIsDropped)
{
	const auto set = parse("example.com.\n*.wild.example\n");
	EXPECT_EQ(match_of(set, "example.com"), "example.com")
	        << "the entry's dot is dropped";
	EXPECT_TRUE(set.contains("example.com."));
	EXPECT_TRUE(set.contains("a.wild.example."));
	EXPECT_FALSE(set.contains("example.com.."))
	        << "only one dot is the root; the next is an empty label";
	EXPECT_FALSE(set.contains("wild.example."));
}

TEST(NameSet, CommentsBlankLinesWhitespaceAndDuplicatesAreIgnored)
{
	const auto set = parse("# blocklist\n"
	                       "\n"
	                       "   \t\n"
	                       "  example.com   # trailing comment\n"
	                       "\texample.com\r\n"
	                       "EXAMPLE.COM.\n"
	                       "*.example.com\n"
	                       "#*.commented.out\n"
	                       "*.example.com"); // no final newline
	EXPECT_EQ(set.size(), 2u);
	EXPECT_TRUE(set.contains("example.com"));
	EXPECT_TRUE(set.contains("a.example.com"));
	EXPECT_FALSE(set.contains("x.commented.out"));
}

TEST(NameSet, ACommentedFileKeepsOnlyWhatItsEntriesNeed)
{
	// The table is first sized for every line being an entry.
	std::string text;
	for (int i = 0; i < 10000; i++)
		text += "# a comment taking a line\n";
	for (int i = 0; i < 10; i++)
		text += "*.n" + std::to_string(i) + ".example\n";
	const auto set = parse(text);
	EXPECT_EQ(set.size(), 10u);
	for (int i = 0; i < 10; i++)
		EXPECT_TRUE(
		        set.contains("a.n" + std::to_string(i) + ".example"));
	EXPECT_FALSE(set.contains("a.n10.example"));
	EXPECT_LT(set.memory_bytes(), 512u);
}

TEST(NameSet, ManyExactEntriesThatGainAWildcardStayExact)
{
	// Each exact entry moves when its wildcard follows; the names are
	// then rewritten without the moved-out bytes.
	std::string text;
	for (int i = 0; i < 1000; i++)
		text += "d" + std::to_string(i) + ".example\n";
	for (int i = 0; i < 1000; i++)
		text += "*.d" + std::to_string(i) + ".example\n";
	const auto set = parse(text);
	EXPECT_EQ(set.size(), 2000u);
	for (int i = 0; i < 1000; i++) {
		const std::string d = "d" + std::to_string(i) + ".example";
		ASSERT_EQ(match_of(set, d), d);
		ASSERT_EQ(match_of(set, "x." + d), "*." + d);
	}
	EXPECT_LT(set.memory_bytes(), 1000u * (2 + 12 + 8 * 10 / 7 + 1));
}

TEST(NameSet, EmptyTextIsAnEmptySetThatMatchesNothing)
{
	for (const char *text : {"", "\n\n", "# only a comment\n"}) {
		const auto set = parse(text);
		EXPECT_EQ(set.size(), 0u);
		EXPECT_FALSE(set.contains(""));
		EXPECT_FALSE(set.contains("example.com"));
	}
	const nfring::name_set none;
	EXPECT_FALSE(none.contains("example.com"));
	EXPECT_EQ(none.memory_bytes(), 0u);
}

TEST(NameSet, UnderscoresDigitsAndHyphensAreAllowed)
{
	const auto set = parse("_dmarc.example.com\n"
	                       "*.xn--mnchen-3ya.de\n"
	                       "1-2-3.a_b.example\n");
	EXPECT_TRUE(set.contains("_dmarc.example.com"));
	EXPECT_TRUE(set.contains("www.xn--mnchen-3ya.de"));
	EXPECT_TRUE(set.contains("1-2-3.a_b.example"));
}

TEST(NameSet, LongestLabelAndNameAreAllowed)
{
	const std::string l63(63, 'a'), l61(61, 'b');
	const std::string n253 = l63 + "." + l63 + "." + l63 + "." + l61;
	ASSERT_EQ(n253.size(), 253u);
	const std::string w253 =
	        "*." + l63 + "." + l63 + "." + l63 + "." + std::string(59, 'c');
	ASSERT_EQ(w253.size(), 253u);
	const auto set = parse(n253 + "\n" + w253 + "\n");
	EXPECT_TRUE(set.contains(n253));
	EXPECT_TRUE(set.contains("x." + w253.substr(2)));
}

TEST(NameSet, ErrorsNameFileLineAndWhatIsAllowed)
{
	EXPECT_EQ(error_of("ok.com\na..b\n"),
	          "t.names:2: 'a..b': empty label (allowed: labels of 1-63 "
	          "characters between single dots)");
	EXPECT_EQ(error_of(".example.com\n"),
	          "t.names:1: '.example.com': empty label (allowed: labels of "
	          "1-63 characters between single dots)");
	EXPECT_EQ(error_of("example.com..\n"),
	          "t.names:1: 'example.com..': empty label (allowed: labels "
	          "of 1-63 characters between single dots)");
	EXPECT_EQ(error_of("*..\n"),
	          "t.names:1: '*..': empty label (allowed: labels of 1-63 "
	          "characters between single dots)");
	EXPECT_EQ(error_of("# x\n\nexa!mple.com\n"),
	          "t.names:3: 'exa!mple.com': character '!' is not allowed "
	          "(allowed: letters, digits, '-' and '_'; international "
	          "names in their xn-- form)");
	EXPECT_EQ(error_of("m\xc3\xbcnchen.de\n"),
	          "t.names:1: 'm\\xc3\\xbcnchen.de': character '\\xc3' is not "
	          "allowed (allowed: letters, digits, '-' and '_'; "
	          "international names in their xn-- form)");
	EXPECT_EQ(error_of("a.*.com\n"),
	          "t.names:1: 'a.*.com': '*' is allowed only as the whole "
	          "first label, as in *.example.com");
	EXPECT_EQ(error_of("*example.com\n"),
	          "t.names:1: '*example.com': '*' is allowed only as the whole "
	          "first label, as in *.example.com");
	EXPECT_EQ(error_of("*.*.example.com\n"),
	          "t.names:1: '*.*.example.com': '*' is allowed only as the "
	          "whole first label, as in *.example.com");
	EXPECT_EQ(error_of("  *  # everything\n"),
	          "t.names:1: '*': a bare '*' would match every name (allowed: "
	          "*.DOMAIN for the names below DOMAIN)");
	EXPECT_EQ(error_of("0.0.0.0 ads.example.com\n"),
	          "t.names:1: '0.0.0.0 ads.example.com': more than one name "
	          "(allowed: one name per line, then an optional # comment)");
}

TEST(NameSet, ErrorsForLengthsQuoteTheValueAndTheLimit)
{
	const std::string l64(64, 'a');
	EXPECT_EQ(error_of("ok.com\n" + l64 + ".com\n"),
	          "t.names:2: '" + l64 + ".com': label '" + l64 +
	                  "' is 64 characters long (allowed: at most 63)");
	const std::string l63(63, 'a');
	const std::string n254 =
	        l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b');
	ASSERT_EQ(n254.size(), 254u);
	EXPECT_EQ(error_of(n254 + "\n"),
	          "t.names:1: '" + n254.substr(0, 80) +
	                  "'... is 254 characters long (allowed: at most 253)");
	// The "*." counts: no name of 253 or fewer could be below it.
	const std::string w254 = "*." + n254.substr(2);
	EXPECT_EQ(error_of(w254 + "\n"),
	          "t.names:1: '" + w254.substr(0, 80) +
	                  "'... is 254 characters long (allowed: at most 253)");
}

TEST(NameSet, LoadReadsAFileAndNamesItInErrors)
{
	{
		const temp_file f(
		        "# list\nads.example.com\n*.tracker.example\n");
		const auto set = nfring::name_set::load(f.path);
		EXPECT_EQ(set.size(), 2u);
		EXPECT_TRUE(set.contains("ads.example.com"));
		EXPECT_TRUE(set.contains("t.tracker.example"));
	}
	{
		const temp_file f("ok.example\nbad..example\n");
		try {
			nfring::name_set::load(f.path);
			ADD_FAILURE() << "a bad line loaded";
		} catch (const nfring::name_set_error &e) {
			EXPECT_EQ(
			        std::string(e.what()).rfind(f.path + ":2: ", 0),
			        0u)
			        << e.what();
		}
	}
	const std::string missing = ::testing::TempDir() + "no/such.names";
	try {
		nfring::name_set::load(missing);
		ADD_FAILURE() << "a missing file loaded";
	} catch (const nfring::name_set_error &e) {
		EXPECT_EQ(std::string(e.what()),
		          missing + ": cannot open: No such file or directory");
	}
	try {
		nfring::name_set::load("/");
		ADD_FAILURE() << "a directory loaded";
	} catch (const nfring::name_set_error &e) {
		EXPECT_EQ(std::string(e.what()),
		          "/: cannot read: Is a directory");
	}
}

TEST(NameSet, LookupIsSafeOnAnyBytes)
{
	const auto set = parse("*.example.com\nexample.org\n*.a\n");
	for (const std::string &host :
	     {std::string(), std::string("."), std::string(".."),
	      std::string("...."), std::string("*"), std::string("a"),
	      std::string("\0\0\0", 3), std::string("a\0a", 3),
	      std::string(1 << 20, 'a'), std::string(1 << 20, '.'),
	      std::string(1 << 20, '\xff')})
		EXPECT_FALSE(set.contains(host)) << host.size() << " bytes";
	EXPECT_TRUE(set.contains("b.a"));
	EXPECT_TRUE(set.contains("*.a."));
	EXPECT_TRUE(set.contains(std::string("\0.a", 3)))
	        << "whatever is below a wildcard's domain matches, as with "
	           "the rules' NAME";
	// Only the last 253 bytes are looked at, but a very long name below
	// a wildcard's domain is still below it.
	std::string deep;
	while (deep.size() < (1 << 20))
		deep += "x.";
	EXPECT_TRUE(set.contains(deep + "example.com"));
	EXPECT_FALSE(set.contains(deep + "example.org"));
}

TEST(NameSet, HostWithTheMostLabelsAnEntryCanHave)
{
	// With a 253-character entry, every second byte of a host's last
	// 253 may start a candidate domain.
	std::string longest = "b";
	while (longest.size() < 253)
		longest += ".b";
	ASSERT_EQ(longest.size(), 253u);
	const auto set = parse(longest + "\n*.b.b\n*.b.b.b.b\n");
	std::string host;
	while (host.size() < 4096)
		host += "b.";
	host += "b";
	EXPECT_EQ(match_of(set, host), "*.b.b.b.b")
	        << "the longest wildcard domain wins";
	EXPECT_EQ(match_of(set, host.substr(host.size() - 5)), "*.b.b");
	EXPECT_EQ(match_of(set, longest), longest);
	EXPECT_EQ(match_of(set, "x" + longest), "*.b.b.b.b");
}

// Random hosts over a tiny alphabet hit every odd shape (empty labels,
// dots at either end, '*' in the host, case): the set must say what the
// rules' NAME matching says for the same entries.
TEST(NameSet, AgreesWithRulesNamePatternOnOddHosts)
{
	const std::vector<std::string> entries = {"a",     "*.a", "b.a",
	                                          "*.b.a", "a-b", "*._.b"};
	std::string text;
	std::vector<nfring::name_pattern> patterns;
	for (const auto &e : entries) {
		text += e + "\n";
		nfring::name_pattern p;
		p.wildcard = e.starts_with("*.");
		p.name = p.wildcard ? e.substr(1) : e;
		patterns.push_back(p);
	}
	const auto set = parse(text);
	std::mt19937 rng(7);
	const std::string alphabet = "ab.AB*_-";
	for (int n = 0; n < 200000; n++) {
		std::string host(rng() % 9, ' ');
		for (auto &c : host)
			c = alphabet[rng() % alphabet.size()];
		// The rules compare what the L7 parsers hand them: lowercased,
		// without one trailing dot.
		std::string norm = host;
		std::transform(norm.begin(), norm.end(), norm.begin(),
		               [](char c) {
			               return c >= 'A' && c <= 'Z' ? c + 32 : c;
		               });
		if (norm.ends_with('.'))
			norm.pop_back();
		const bool want = std::any_of(
		        patterns.begin(), patterns.end(),
		        [&](const auto &p) { return p.matches(norm); });
		ASSERT_EQ(set.contains(host), want) << "'" << host << "'";
	}
}

namespace
{

// Entries and the reference: the exact names, and the domains of the
// wildcards, in plain hash sets.
struct reference {
	std::unordered_set<std::string> exact, wild;

	// Every suffix a lookup could match, walked naively.
	std::string match(std::string host) const
	{
		std::transform(host.begin(), host.end(), host.begin(),
		               [](char c) {
			               return c >= 'A' && c <= 'Z' ? c + 32 : c;
		               });
		if (host.ends_with('.'))
			host.pop_back();
		if (exact.count(host))
			return host;
		for (std::size_t i = 1; i + 1 < host.size(); i++)
			if (host[i] == '.' && wild.count(host.substr(i + 1)))
				return "*." + host.substr(i + 1);
		return "(none)";
	}
};

class name_gen
{
public:
	explicit name_gen(unsigned seed) : rng_(seed)
	{
		// A small pool of labels, so that names share suffixes and
		// wildcards nest, plus random ones for the bulk.
		for (int i = 0; i < 60; i++)
			pool_.push_back(random_label(1 + rng_() % 6));
	}

	std::string label()
	{
		return rng_() % 3 ? pool_[rng_() % pool_.size()]
		                  : random_label(1 + rng_() % 12);
	}
	std::string name()
	{
		static const char *tlds[] = {"com", "net", "org", "de", "io"};
		std::string s = tlds[rng_() % 5];
		for (unsigned n = 1 + rng_() % 4; n; n--)
			s = label() + "." + s;
		return s;
	}
	unsigned pick(unsigned n) { return rng_() % n; }

private:
	std::string random_label(unsigned len)
	{
		static const char chars[] =
		        "abcdefghijklmnopqrstuvwxyz0123456789-_";
		std::string s(len, ' ');
		for (auto &c : s)
			c = chars[rng_() % (sizeof(chars) - 1)];
		return s;
	}

	std::mt19937 rng_;
	std::vector<std::string> pool_;
};

std::vector<std::string> labels_of(const std::string &name)
{
	std::vector<std::string> out;
	std::size_t pos = 0;
	for (;;) {
		const auto dot = name.find('.', pos);
		out.push_back(name.substr(pos, dot - pos));
		if (dot == std::string::npos)
			return out;
		pos = dot + 1;
	}
}

} // namespace

TEST(NameSet, RandomSetAgreesWithNaiveReference)
{
	name_gen gen(1);
	reference ref;
	std::vector<std::string> names;
	std::string text;
	while (names.size() < 100000) {
		const std::string n = gen.name();
		names.push_back(n);
		if (gen.pick(2)) {
			ref.wild.insert(n);
			text += "*." + n + "\n";
		} else {
			ref.exact.insert(n);
			text += n + "\n";
		}
	}
	const auto set = parse(text);
	EXPECT_EQ(set.size(), ref.exact.size() + ref.wild.size());

	std::size_t hits = 0;
	for (int q = 0; q < 100000; q++) {
		std::string base = names[gen.pick(names.size())];
		std::string host;
		switch (gen.pick(9)) {
		case 0: // an entry's own name
			host = base;
			break;
		case 1: // below an entry's name
			host = gen.label() + "." + base;
			break;
		case 2: { // its labels in another order
			auto l = labels_of(base);
			std::rotate(l.begin(), l.begin() + 1, l.end());
			for (const auto &s : l)
				host += (host.empty() ? "" : ".") + s;
			break;
		}
		case 3: // one character off, anywhere
			host = base;
			host[gen.pick(host.size())] ^= 1;
			break;
		case 4: // a suffix by string, not at a label boundary
			host = gen.label() + base;
			break;
		case 5: // case and the root's dot
			host = "WWW." + base + ".";
			std::transform(host.begin(), host.end(), host.begin(),
			               [](char c) {
				               return c >= 'a' && c <= 'z'
				                              ? c - 32
				                              : c;
			               });
			break;
		case 6: // the parent domain
			host = base.substr(
			        std::min(base.find('.') + 1, base.size()));
			break;
		default: // an unrelated name
			host = gen.name();
			break;
		}
		const std::string want = ref.match(host);
		ASSERT_EQ(match_of(set, host), want) << host;
		ASSERT_EQ(set.contains(host), want != "(none)") << host;
		hits += want != "(none)";
	}
	// Both sides of the comparison had plenty of work.
	EXPECT_GT(hits, 30000u);
	EXPECT_LT(hits, 80000u);
}

TEST(NameSet, MemoryIsTheNamesPlusAboutElevenBytesEach)
{
	name_gen gen(2);
	std::string text;
	std::unordered_set<std::string> seen;
	std::size_t bytes = 0;
	for (int i = 0; i < 50000; i++) {
		const std::string n = gen.name();
		if (seen.insert(n).second)
			bytes += n.size();
		text += n + "\n";
	}
	const auto set = parse(text);
	ASSERT_EQ(set.size(), seen.size());
	// 8-byte slots at 70% load, and the names once.
	EXPECT_LE(set.memory_bytes(), bytes + set.size() * 8 * 10 / 7 + 64);
}
