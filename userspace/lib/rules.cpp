#include "nfring/rules.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <sstream>

#include "nfring/l7.hpp"

namespace nfring
{

bool cidr::contains(const ip_addr &a) const
{
	unsigned bits = prefix;
	for (std::size_t i = 0; i < a.size() && bits; i++) {
		const unsigned take = bits >= 8 ? 8 : bits;
		const std::uint8_t mask =
		        static_cast<std::uint8_t>(0xff00 >> take);
		if ((a[i] & mask) != addr[i])
			return false;
		bits -= take;
	}
	return true;
}

bool name_pattern::matches(std::string_view host) const
{
	if (list)
		return list->contains(host);
	if (!wildcard)
		return host == name;
	// "*.example.com" is stored as ".example.com": a strict suffix.
	return host.size() > name.size() && host.ends_with(name);
}

namespace
{

struct token {
	std::string text; // escapes resolved
	bool quoted = false;
	std::string raw;        // quoted: as written between the quotes
	std::string bad_escape; // quoted: why text could not be resolved
};

class line_parser
{
public:
	line_parser(std::string_view line, const std::string &where)
	    : where_(where)
	{
		split(line);
	}

	[[noreturn]] void fail(const std::string &what) const
	{
		throw rules_error(where_ + ": " + what);
	}

	bool done() const { return pos_ >= toks_.size(); }
	bool empty() const { return toks_.empty(); }
	const token &peek() const { return toks_[pos_]; }
	const token &next(const char *what)
	{
		if (done())
			fail(std::string("missing ") + what +
			     " at end of line");
		return toks_[pos_++];
	}

private:
	void split(std::string_view s);

	std::string where_;
	std::vector<token> toks_;
	std::size_t pos_ = 0;
};

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void line_parser::split(std::string_view s)
{
	std::size_t i = 0;
	while (i < s.size()) {
		const char c = s[i];
		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
		} else if (c == '#') {
			break;
		} else if (c == '"') {
			token t;
			t.quoted = true;
			i++;
			for (;;) {
				if (i >= s.size())
					fail("unterminated string (missing "
					     "\")");
				const char d = s[i++];
				if (d == '"')
					break;
				t.raw += d;
				if (d != '\\') {
					t.text += d;
					continue;
				}
				if (i >= s.size())
					fail("backslash at end of line");
				const char e = s[i++];
				t.raw += e;
				if (e == '"' || e == '\\') {
					t.text += e;
				} else if (e == 'x' && i + 1 < s.size() &&
				           hex_digit(s[i]) >= 0 &&
				           hex_digit(s[i + 1]) >= 0) {
					t.text += static_cast<char>(
					        hex_digit(s[i]) * 16 +
					        hex_digit(s[i + 1]));
					t.raw.append(s.substr(i, 2));
					i += 2;
				} else if (t.bad_escape.empty()) {
					// A regex passes its escapes on as
					// written; anything else refuses it.
					t.bad_escape =
					        std::string("unknown escape '\\") +
					        e +
					        "' (allowed: \\xHH, \\\", \\\\)";
				}
			}
			toks_.push_back(std::move(t));
		} else {
			const std::size_t start = i;
			while (i < s.size() && s[i] != ' ' && s[i] != '\t' &&
			       s[i] != '\r' && s[i] != '#' && s[i] != '"')
				i++;
			token t;
			t.text = std::string(s.substr(start, i - start));
			toks_.push_back(std::move(t));
		}
	}
}

template <class T> bool to_number(const std::string &s, T &out, T max)
{
	unsigned long long v = 0;
	const auto *end = s.data() + s.size();
	const auto r = std::from_chars(s.data(), end, v);
	if (r.ec != std::errc() || r.ptr != end || v > max)
		return false;
	out = static_cast<T>(v);
	return true;
}

port_range parse_ports(line_parser &lp, const std::string &s)
{
	port_range r;
	const auto dash = s.find('-');
	const std::string lo = s.substr(0, dash);
	const std::string hi =
	        dash == std::string::npos ? lo : s.substr(dash + 1);
	if (!to_number<std::uint16_t>(lo, r.lo, 65535) ||
	    !to_number<std::uint16_t>(hi, r.hi, 65535) || r.lo > r.hi)
		lp.fail("bad port '" + s + "' (allowed: 0-65535 or LO-HI)");
	return r;
}

cidr parse_cidr(line_parser &lp, const std::string &s)
{
	cidr c;
	const auto slash = s.find('/');
	const std::string addr = s.substr(0, slash);
	unsigned max_prefix = 128, offset = 0;
	in_addr a4{};
	if (inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
		c.addr[10] = c.addr[11] = 0xff;
		std::memcpy(&c.addr[12], &a4, 4);
		max_prefix = 32;
		offset = 96;
	} else if (inet_pton(AF_INET6, addr.c_str(), c.addr.data()) != 1) {
		lp.fail("bad address '" + addr +
		        "' (allowed: IPv4 or IPv6, optionally /PREFIX)");
	}
	unsigned prefix = max_prefix;
	if (slash != std::string::npos &&
	    !to_number<unsigned>(s.substr(slash + 1), prefix, max_prefix))
		lp.fail("bad prefix in '" + s + "' (allowed: 0-" +
		        std::to_string(max_prefix) + ")");
	c.prefix = prefix + offset;
	// Keep the address masked so that contains() compares directly.
	unsigned bits = c.prefix;
	for (auto &byte : c.addr) {
		const unsigned keep = bits >= 8 ? 8 : bits;
		byte &= static_cast<std::uint8_t>(0xff00 >> keep);
		bits -= keep;
	}
	return c;
}

// Lists named by several rules of one file are loaded once.
struct parse_context {
	std::string dir; // of the rules file, for relative list paths
	std::map<std::string, std::shared_ptr<const name_set>> lists;
};

name_pattern parse_list(line_parser &lp, const std::string &s,
                        parse_context &ctx)
{
	std::string path = s.substr(1);
	if (path.empty())
		lp.fail("'@' needs a file of names, e.g. @blocklist.txt");
	if (path.front() != '/' && !ctx.dir.empty())
		path = ctx.dir + "/" + path;
	name_pattern p;
	p.name = s;
	auto &slot = ctx.lists[path];
	if (!slot) {
		try {
			slot = std::make_shared<const name_set>(
			        name_set::load(path));
		} catch (const name_set_error &e) {
			lp.fail(std::string("name list ") + s + ": " +
			        e.what());
		}
	}
	p.list = slot;
	return p;
}

name_pattern parse_name(line_parser &lp, std::string s, parse_context &ctx)
{
	if (s.starts_with('@'))
		return parse_list(lp, s, ctx);
	std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) {
		return static_cast<char>(std::tolower(ch));
	});
	name_pattern p;
	if (s == "*") {
		// Any name at all (the field is present): for `log` rules
		// that record every name.  Stored as the empty suffix.
		p.wildcard = true;
		return p;
	}
	if (s.starts_with("*.")) {
		p.wildcard = true;
		s.erase(0, 1);
	}
	const std::string_view body = p.wildcard ? std::string_view(s).substr(1)
	                                         : std::string_view(s);
	const bool ok =
	        !body.empty() && body.size() <= 253 &&
	        std::all_of(body.begin(), body.end(),
	                    [](char ch) {
		                    return std::isalnum(
		                                   static_cast<unsigned char>(
		                                           ch)) ||
		                           ch == '-' || ch == '.' || ch == '_';
	                    }) &&
	        body.front() != '.' && body.back() != '.' &&
	        body.find('*') == std::string_view::npos;
	if (!ok)
		lp.fail("bad name '" + s +
		        "' (allowed: a DNS name, *.domain for names below "
		        "it, or * for any name)");
	p.name = std::move(s);
	return p;
}

rule parse_rule(line_parser &lp, parse_context &ctx)
{
	rule r;
	const token &act = lp.next("action");
	if (act.text == "accept") {
		r.action.kind = action_kind::accept;
	} else if (act.text == "drop") {
		r.action.kind = action_kind::drop;
	} else if (act.text == "bypass") {
		r.action.kind = action_kind::bypass;
	} else if (act.text == "mark") {
		r.action.kind = action_kind::mark;
		const token &n = lp.next("mark value");
		if (!to_number<std::uint32_t>(n.text, r.action.mark,
		                              0xffffffffu))
			lp.fail("bad mark '" + n.text +
			        "' (allowed: 0-4294967295)");
	} else {
		lp.fail("unknown action '" + act.text +
		        "' (allowed: accept, drop, mark N, bypass)");
	}
	if (!lp.done() && lp.peek().text == "log" && !lp.peek().quoted) {
		r.action.log = true;
		lp.next("log");
	}

	// An optional bare word after a match, such as nocase.
	auto take_word = [&](const char *word) {
		if (lp.done() || lp.peek().text != word || lp.peek().quoted)
			return false;
		lp.next(word);
		return true;
	};
	auto set_once = [&](bool already, const std::string &what) {
		if (already)
			lp.fail(what + " given twice");
	};
	while (!lp.done()) {
		const token &t = lp.next("match");
		const std::string &k = t.text;
		if (t.quoted)
			lp.fail("unexpected string \"" + k +
			        "\" (a string follows 'content' or "
			        "'regex')");
		if (k == "tcp" || k == "udp" || k == "icmp") {
			set_once(r.proto.has_value(), "protocol");
			r.proto = k == "tcp"   ? IPPROTO_TCP
			          : k == "udp" ? IPPROTO_UDP
			                       : IPPROTO_ICMP;
		} else if (k == "proto") {
			set_once(r.proto.has_value(), "protocol");
			std::uint8_t p = 0;
			const token &v = lp.next("protocol number");
			if (!to_number<std::uint8_t>(v.text, p, 255))
				lp.fail("bad protocol '" + v.text +
				        "' (allowed: 0-255, or tcp, udp, "
				        "icmp)");
			r.proto = p;
		} else if (k == "src" || k == "dst") {
			auto &slot = k == "src" ? r.src : r.dst;
			set_once(slot.has_value(), k);
			slot = parse_cidr(lp, lp.next("address").text);
		} else if (k == "sport" || k == "dport") {
			auto &slot = k == "sport" ? r.sport : r.dport;
			set_once(slot.has_value(), k);
			slot = parse_ports(lp, lp.next("port").text);
		} else if (k == "content") {
			set_once(r.content.has_value(), "content");
			const token &v = lp.next("content string");
			if (!v.quoted || v.text.empty())
				lp.fail("content needs a non-empty quoted "
				        "string, "
				        "e.g. content \"EVIL\"");
			if (!v.bad_escape.empty())
				lp.fail("content: " + v.bad_escape);
			r.content = v.text;
			r.nocase = take_word("nocase");
		} else if (k == "regex") {
			set_once(r.regex.has_value(), "regex");
			const token &v = lp.next("regex string");
			if (!v.quoted || v.raw.empty())
				lp.fail("regex needs a non-empty quoted "
				        "pattern, e.g. regex "
				        "\"^GET /[a-z]+\\.php\"");
			// Hyperscan reads the escapes (\\d, \\., \\xHH).
			r.regex = v.raw;
			r.regex_nocase = take_word("nocase");
		} else if (k == "http.host" || k == "tls.sni" ||
		           k == "dns.qname" || k == "quic.sni") {
			set_once(r.field != l7_field::none, "L7 match");
			r.field = k == "http.host"  ? l7_field::http_host
			          : k == "tls.sni"  ? l7_field::tls_sni
			          : k == "quic.sni" ? l7_field::quic_sni
			                            : l7_field::dns_qname;
			r.pattern = parse_name(lp, lp.next("name").text, ctx);
		} else if (k == "tls.alpn" || k == "quic.alpn") {
			set_once(r.field != l7_field::none, "L7 match");
			r.field = k == "tls.alpn" ? l7_field::tls_alpn
			                          : l7_field::quic_alpn;
			const token &v = lp.next("protocol id");
			// RFC 7301: 1..255 bytes; printable ids are all that
			// IANA registered, and all a rules file can spell.
			if (v.text.empty() || v.text.size() > 255 ||
			    !std::all_of(v.text.begin(), v.text.end(),
			                 [](unsigned char c) {
				                 return c > ' ' && c < 0x7f;
			                 }))
				lp.fail(k +
				        " needs a protocol id of 1 to 255 "
				        "printable characters, e.g. h2, "
				        "http/1.1, h3; got '" +
				        v.text + "'");
			r.pattern.name = v.text;
		} else if (k == "tls.ech") {
			set_once(r.field != l7_field::none, "L7 match");
			r.field = l7_field::tls_ech;
			const token &v = lp.next("yes or no");
			if (v.text != "yes" && v.text != "no")
				lp.fail("tls.ech takes yes (the hello carries "
				        "encrypted_client_hello) or no; got '" +
				        v.text + "'");
			r.ech = v.text == "yes";
		} else {
			lp.fail("unknown match '" + k +
			        "' (allowed: tcp, udp, icmp, proto, src, dst, "
			        "sport, dport, content, regex, http.host, "
			        "tls.sni, "
			        "tls.alpn, tls.ech, dns.qname, quic.sni, "
			        "quic.alpn)");
		}
	}
	if ((r.sport || r.dport) && r.proto != IPPROTO_TCP &&
	    r.proto != IPPROTO_UDP)
		lp.fail("ports need 'tcp' or 'udp' in the same rule");
	return r;
}

bool is_default(const rule &r)
{
	return !r.proto && !r.src && !r.dst && !r.sport && !r.dport &&
	       !r.has_pattern() && r.field == l7_field::none;
}

} // namespace

// The protocols on which this rule's decision depends on payload (see
// payload_decides): its own, or those its field is read from.
void ruleset::note_payload_protos(ruleset &rs, const rule &r)
{
	if (!r.inspects_payload())
		return;
	if (r.proto) {
		rs.payload_protos_.set(*r.proto);
		return;
	}
	if (r.has_pattern()) {
		rs.payload_any_ = true;
		return;
	}
	switch (r.field) {
	case l7_field::dns_qname:
		rs.payload_protos_.set(IPPROTO_UDP);
		rs.payload_protos_.set(IPPROTO_TCP);
		break;
	case l7_field::quic_sni:
	case l7_field::quic_alpn:
		rs.payload_protos_.set(IPPROTO_UDP);
		break;
	default:
		rs.payload_protos_.set(IPPROTO_TCP);
		break;
	}
}

// Every content and regex into one database; a pattern Hyperscan refuses
// is reported at its rule's line.
void ruleset::compile_patterns(ruleset &rs, const std::string &name)
{
	std::vector<l7::pattern_spec> specs;
	std::vector<std::pair<const rule *, const char *>> owner;
	for (rule &r : rs.rules_) {
		if (r.content) {
			r.content_id = static_cast<std::uint32_t>(specs.size());
			specs.push_back({*r.content, true, r.nocase});
			owner.emplace_back(&r, "content");
		}
		if (r.regex) {
			r.regex_id = static_cast<std::uint32_t>(specs.size());
			specs.push_back({*r.regex, false, r.regex_nocase});
			owner.emplace_back(&r, "regex");
		}
		if (r.has_pattern() && (!r.proto || *r.proto == IPPROTO_TCP))
			rs.tcp_patterns_ = true;
	}
	rs.next_plain_.assign(rs.rules_.size(), 0);
	for (std::size_t i = rs.rules_.size(), next = i; i-- > 0;) {
		if (!rs.rules_[i].has_pattern())
			next = i;
		rs.next_plain_[i] = static_cast<std::uint32_t>(next);
	}
	if (specs.empty())
		return;
	try {
		rs.patterns_ = std::make_shared<const l7::pattern_set>(specs);
	} catch (const l7::pattern_error &e) {
		if (e.index < 0 ||
		    static_cast<std::size_t>(e.index) >= owner.size())
			throw rules_error(name + ": content and regex matches: " +
			                  e.what());
		const auto &[r, what] = owner[static_cast<std::size_t>(e.index)];
		throw rules_error(name + ":" + std::to_string(r->line) + ": " +
		                  what + " \"" +
		                  (r->regex && std::string_view(what) == "regex"
		                           ? *r->regex
		                           : *r->content) +
		                  "\": " + e.what());
	}
}

ruleset ruleset::parse(std::string_view text, const std::string &name)
{
	ruleset rs;
	rs.source_ = name;
	parse_context ctx;
	if (const auto slash = name.rfind('/'); slash != std::string::npos)
		ctx.dir = name.substr(0, slash ? slash : 1);
	unsigned lineno = 0;
	unsigned default_line = 0;
	std::size_t start = 0;
	while (start <= text.size()) {
		std::size_t end = text.find('\n', start);
		if (end == std::string_view::npos)
			end = text.size();
		const std::string_view line = text.substr(start, end - start);
		start = end + 1;
		lineno++;
		const std::string where = name + ":" + std::to_string(lineno);
		line_parser lp(line, where);
		if (lp.empty())
			continue;
		if (default_line)
			lp.fail("rule after the default rule on line " +
			        std::to_string(default_line) +
			        " can never match");
		rule r = parse_rule(lp, ctx);
		r.line = lineno;
		std::string_view shown = line.substr(0, line.find('#'));
		while (!shown.empty() &&
		       (shown.back() == ' ' || shown.back() == '\t' ||
		        shown.back() == '\r'))
			shown.remove_suffix(1);
		r.text = std::string(shown);
		if (is_default(r))
			default_line = lineno;
		switch (r.field) {
		case l7_field::http_host:
		case l7_field::tls_sni:
		case l7_field::tls_alpn:
		case l7_field::tls_ech:
			rs.tcp_l7_ = true;
			break;
		case l7_field::dns_qname: // DNS over TCP too
			rs.tcp_l7_ = rs.dns_l7_ = true;
			break;
		case l7_field::quic_sni:
		case l7_field::quic_alpn:
			rs.quic_l7_ = true;
			break;
		case l7_field::none:
			break;
		}
		note_payload_protos(rs, r);
		if (r.action.kind == action_kind::bypass)
			rs.uses_bypass_ = true;
		rs.rules_.push_back(std::move(r));
		if (end == text.size())
			break;
	}
	compile_patterns(rs, name);
	if (rs.rules_.empty())
		throw rules_error(
		        name +
		        ": no rules (end with a default, e.g. 'accept')");
	if (!default_line)
		throw rules_error(name + ":" +
		                  std::to_string(rs.rules_.back().line) +
		                  ": the last rule must be a default with no "
		                  "match, e.g. 'accept' or 'drop'");
	return rs;
}

ruleset ruleset::load(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
		throw rules_error(path +
		                  ": cannot open: " + std::strerror(errno));
	std::ostringstream ss;
	ss << in.rdbuf();
	if (in.bad())
		throw rules_error(path + ": read error");
	return parse(ss.str(), path);
}

namespace
{

// A pending field decides nothing yet; a packet that cannot wait for it
// (it did not bring the message's bytes) sees it as not matching.
enum class tri { no, yes, pending };

bool headers_match(const rule &r, const packet_view &pkt)
{
	if (r.proto && pkt.proto != *r.proto)
		return false;
	if (r.src && !r.src->contains(pkt.src))
		return false;
	if (r.dst && !r.dst->contains(pkt.dst))
		return false;
	if (r.sport && (!pkt.has_ports || !r.sport->contains(pkt.sport)))
		return false;
	if (r.dport && (!pkt.has_ports || !r.dport->contains(pkt.dport)))
		return false;
	return true;
}

// A scanner for packets judged without one (ruleset::match(pkt), tests):
// one per thread, remade when the rules' patterns change.
l7::pattern_scanner &
own_scanner(const std::shared_ptr<const l7::pattern_set> &set)
{
	thread_local std::unique_ptr<l7::pattern_scanner> sc;
	if (!sc || &sc->set() != set.get())
		sc = std::make_unique<l7::pattern_scanner>(set);
	return *sc;
}

tri field_match(const rule &r, const packet_view &pkt, const l7_state &st)
{
	auto gate = [&](l7::status s) {
		if (s == l7::status::need_more)
			return st.can_wait ? tri::pending : tri::no;
		return s == l7::status::done ? tri::yes : tri::no;
	};
	auto any_alpn = [&](const std::vector<std::string> &ids) {
		return std::find(ids.begin(), ids.end(), r.pattern.name) !=
		       ids.end();
	};
	tri g = tri::no;
	bool hit = false;
	switch (r.field) {
	case l7_field::none:
		return tri::yes;
	case l7_field::tls_sni:
	case l7_field::tls_alpn:
	case l7_field::tls_ech:
		if (pkt.proto != IPPROTO_TCP)
			return tri::no;
		g = gate(st.tls);
		if (g == tri::yes)
			hit = r.field == l7_field::tls_sni
			              ? !st.hello.sni.empty() &&
			                        r.pattern.matches(st.hello.sni)
			      : r.field == l7_field::tls_alpn
			              ? any_alpn(st.hello.alpn)
			              : st.hello.ech == r.ech;
		break;
	case l7_field::quic_sni:
	case l7_field::quic_alpn:
		if (pkt.proto != IPPROTO_UDP)
			return tri::no;
		g = gate(st.quic);
		if (g == tri::yes)
			hit = r.field == l7_field::quic_sni
			              ? !st.hello.sni.empty() &&
			                        r.pattern.matches(st.hello.sni)
			              : any_alpn(st.hello.alpn);
		break;
	case l7_field::http_host:
		if (pkt.proto != IPPROTO_TCP)
			return tri::no;
		g = gate(st.http);
		if (g == tri::yes)
			hit = !st.http_host.empty() &&
			      r.pattern.matches(st.http_host);
		break;
	case l7_field::dns_qname:
		g = gate(st.dns);
		if (g == tri::yes)
			hit = std::any_of(st.qnames.begin(), st.qnames.end(),
			                  [&](const std::string &q) {
				                  return r.pattern.matches(q);
			                  });
		break;
	}
	if (g != tri::yes)
		return g;
	return hit ? tri::yes : tri::no;
}

} // namespace

match_result ruleset::match(const packet_view &pkt, const l7_state &st,
                            l7::pattern_scanner *scan) const
{
	for (std::size_t i = 0; i < rules_.size(); i++) {
		const rule &r = rules_[i];
		if (r.has_pattern()) {
			// The patterns first: after the packet's one scan they
			// are bit tests, cheaper than the addresses and ports,
			// and a signature list rarely matches.
			if (r.proto && pkt.proto != *r.proto)
				continue;
			if (!scan) {
				// Judged alone: this packet's payload is all.
				scan = &own_scanner(patterns_);
				scan->begin_packet(pkt.payload, true, nullptr);
			}
			if (!scan->any()) {
				// No pattern rule can match: on to the next
				// rule without one (the default at worst).
				i = next_plain_[i] - 1;
				continue;
			}
			if (r.content_id != rule::no_pattern &&
			    !scan->has(r.content_id))
				continue;
			if (r.regex_id != rule::no_pattern &&
			    !scan->has(r.regex_id))
				continue;
		}
		if (!headers_match(r, pkt))
			continue;
		switch (field_match(r, pkt, st)) {
		case tri::no:
			continue;
		case tri::pending:
			return {i, true};
		case tri::yes:
			return {i, false};
		}
	}
	// parse() guarantees a default rule at the end.
	return {rules_.size() - 1, false};
}

void payload_fields(const packet_view &pkt, l7_state &st)
{
	st.reset();
	if (pkt.proto == IPPROTO_TCP) {
		std::vector<std::byte> scratch;
		st.tls = l7::parse_tls_stream(pkt.payload, st.hello, scratch);
		st.http = l7::parse_http_request(pkt.payload, st.http_host);
		if (pkt.sport == 53 || pkt.dport == 53)
			st.dns = l7::parse_dns_tcp(pkt.payload, st.qnames);
	} else if (pkt.proto == IPPROTO_UDP) {
		if (auto q = l7::dns_qname(pkt.payload)) {
			st.qnames.push_back(std::move(*q));
			st.dns = l7::status::done;
		}
	}
}

bool ruleset::patterns_apply(const packet_view &pkt) const
{
	return std::any_of(rules_.begin(), rules_.end(), [&](const rule &r) {
		return r.has_pattern() && headers_match(r, pkt);
	});
}

std::size_t ruleset::match(const packet_view &pkt) const
{
	// One packet is all there is: an incomplete message matches nothing.
	l7_state st;
	payload_fields(pkt, st);
	return match(pkt, st).index;
}

} // namespace nfring
