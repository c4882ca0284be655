// The worker's rules: one per line, first match wins, a default at the end.
//
//   drop        tls.sni   *.blocked.example
//   drop        dns.qname ads.example.com
//   mark 7 log  http.host video.example.net
//   drop        udp dport 9999 content "EVIL"
//   accept
//
// A line is an action (accept | drop | mark N), an optional `log`, then any
// number of matches, all of which must hold:
//   tcp | udp | icmp | proto N        the IP protocol
//   src CIDR | dst CIDR               IPv4 or IPv6, prefix optional
//   sport P[-Q] | dport P[-Q]         TCP/UDP ports
//   content "BYTES" [nocase]          bytes anywhere in the payload;
//                                     \xHH, \" and \\ escapes
//   regex "PATTERN" [nocase]          a Hyperscan regex (PCRE syntax, no
//                                     backreferences or lookaround;
//                                     (?s) (?m) (?i) inline)
//   http.host NAME | tls.sni NAME | dns.qname NAME | quic.sni NAME
//                                     NAME exact, or *.domain for any name
//                                     below domain (not domain itself), *
//                                     for any name the message carries, or
//                                     @FILE: a list of such names, one per
//                                     line (docs/name-lists.md); a relative
//                                     FILE is found beside the rules file
//   tls.alpn ID | quic.alpn ID        the client offers this ALPN id
//   tls.ech yes|no                    the ClientHello carries (or not)
//                                     encrypted_client_hello
// L7 fields are read from the client's first message, reassembled across
// segments (TCP) or Initial packets (QUIC); see inspector.hpp.  Every
// content and regex of the rules is compiled into one Hyperscan database
// (l7/patterns.hpp): a TCP client's reassembled first bytes are scanned in
// stream mode, so a match split across segments is found; other packets
// (the server's, UDP, a TCP flow past its first stream_bytes) are scanned
// one payload at a time.
// `#` starts a comment.  The last rule must have no match (the default),
// and no rule may follow it.
#pragma once

#include <cstddef>
#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "nfring/l7.hpp"
#include "nfring/l7/patterns.hpp"
#include "nfring/name_set.hpp"
#include "nfring/packet.hpp"

namespace nfring
{

// A rules file that cannot be used; what() is "FILE:LINE: what is wrong".
class rules_error : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

// bypass: accept, and once the flow's decision is final, have the kernel
// set the queue's conntrack bypass mark (NFRING_VF_BYPASS) so that an nft
// `ct mark` rule before the queue rule passes the rest of the flow.
enum class action_kind : std::uint8_t { accept, drop, mark, bypass };

struct rule_action {
	action_kind kind = action_kind::accept;
	std::uint32_t mark = 0;
	bool log = false;
};

struct cidr {
	ip_addr addr{};        // masked
	unsigned prefix = 128; // in IPv6 bits; IPv4 /n is 96 + n
	bool contains(const ip_addr &a) const;
};

struct port_range {
	std::uint16_t lo = 0, hi = 65535;
	bool contains(std::uint16_t p) const { return p >= lo && p <= hi; }
};

enum class l7_field : std::uint8_t {
	none,
	http_host,
	tls_sni,
	dns_qname,
	tls_alpn,
	tls_ech,
	quic_sni,
	quic_alpn,
};

// What is known of a flow's L7 fields when a packet is judged: the client's
// first message, as far as it has arrived.  A protocol whose status is
// need_more is still pending: a rule reading its field cannot decide yet.
struct l7_state {
	l7::status tls = l7::status::no;
	l7::status http = l7::status::no;
	l7::status dns = l7::status::no;
	l7::status quic = l7::status::no;
	l7::client_hello hello; // TLS over TCP, or QUIC's
	std::string http_host;
	std::vector<std::string> qnames;
	// The packet judged carried bytes of the pending message, so it may
	// wait for it; other packets (a SYN, the server's) treat a pending
	// field as not matching.
	bool can_wait = false;

	void reset()
	{
		tls = http = dns = quic = l7::status::no;
		hello.clear();
		http_host.clear();
		qnames.clear();
		can_wait = false;
	}
};

// The rules' answer for a packet: the first rule that matches, or pending
// when a rule before any match needs a field whose message is incomplete.
struct match_result {
	std::size_t index = 0;
	bool pending = false;
};

struct name_pattern {
	std::string name; // lowercased; for a wildcard, ".domain"
	bool wildcard = false;
	// `@FILE`: a name list (name_set.hpp) instead of one name; name
	// then holds the path as written.
	std::shared_ptr<const name_set> list;
	bool matches(std::string_view host) const;
};

struct rule {
	rule_action action;
	std::optional<std::uint8_t> proto;
	std::optional<cidr> src, dst;
	std::optional<port_range> sport, dport;
	std::optional<std::string> content;
	bool nocase = false;
	std::optional<std::string> regex;
	bool regex_nocase = false;
	// Their ids in the ruleset's pattern_set.
	static constexpr std::uint32_t no_pattern = 0xffffffffu;
	std::uint32_t content_id = no_pattern, regex_id = no_pattern;
	l7_field field = l7_field::none;
	name_pattern pattern; // names; for tls.alpn/quic.alpn the protocol id
	bool ech = false;     // tls.ech yes|no
	unsigned line = 0;
	std::string text; // the rule as written, for logs

	// Decided by what the packet carries: worth remembering per flow.
	bool inspects_payload() const
	{
		return has_pattern() || field != l7_field::none;
	}
	bool has_pattern() const
	{
		return content.has_value() || regex.has_value();
	}
};

// The fields one packet's payload holds by itself (no flow, no
// reassembly): what ruleset::match(pkt) uses, and DNS over UDP always.
void payload_fields(const packet_view &pkt, l7_state &st);

class ruleset
{
public:
	// Parses rules text; `name` prefixes error messages.  Throws
	// rules_error.
	static ruleset parse(std::string_view text, const std::string &name);
	// Reads and parses a file.  Throws rules_error (also for I/O errors).
	static ruleset load(const std::string &path);

	const std::vector<rule> &rules() const { return rules_; }
	const std::string &source() const { return source_; }

	// Index of the first rule that matches; always found (the default).
	// L7 fields and patterns come from this packet's payload alone.
	std::size_t match(const packet_view &pkt) const;
	// Judged against what the inspector knows of the packet's flow.
	// Patterns: what `scan` was told of the packet (begin_packet); a
	// null scan means the packet's own payload, scanned here.
	match_result match(const packet_view &pkt, const l7_state &l7,
	                   l7::pattern_scanner *scan = nullptr) const;
	// Every content and regex, compiled; null when there are none.
	const std::shared_ptr<const l7::pattern_set> &patterns() const
	{
		return patterns_;
	}
	// May a pattern rule match a packet with these headers?  (Ports and
	// addresses as the packet carries them.)
	bool patterns_apply(const packet_view &pkt) const;
	// Does any rule read an L7 field of TCP, or QUIC's?
	bool reads_tcp_l7() const { return tcp_l7_; }
	bool reads_quic() const { return quic_l7_; }
	bool reads_dns() const { return dns_l7_; }
	bool tcp_patterns() const { return tcp_patterns_; }
	// May a rule's decision on this protocol depend on payload (an L7
	// field or a pattern)?  If not, the first rule a packet's headers
	// match decides for its whole flow.
	bool payload_decides(std::uint8_t proto) const
	{
		return payload_any_ || payload_protos_[proto];
	}
	bool uses_bypass() const { return uses_bypass_; }

private:
	static void compile_patterns(ruleset &rs, const std::string &name);
	static void note_payload_protos(ruleset &rs, const rule &r);

	std::vector<rule> rules_;
	std::string source_;
	bool tcp_l7_ = false, quic_l7_ = false, dns_l7_ = false;
	bool tcp_patterns_ = false;
	bool payload_any_ = false, uses_bypass_ = false;
	std::bitset<256> payload_protos_;
	std::shared_ptr<const l7::pattern_set> patterns_;
	// For each rule, the first rule at or after it without a content or
	// regex: where a packet that matched no pattern goes on.
	std::vector<std::uint32_t> next_plain_;
};

} // namespace nfring
