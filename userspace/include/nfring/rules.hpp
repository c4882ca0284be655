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
//   content "BYTES" [nocase]          bytes anywhere in the L4 payload;
//                                     \xHH, \" and \\ escapes
//   http.host NAME | tls.sni NAME | dns.qname NAME
//                                     NAME exact, or *.domain for any name
//                                     below domain (not domain itself)
// `#` starts a comment.  The last rule must have no match (the default),
// and no rule may follow it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "nfring/packet.hpp"

namespace nfring
{

// A rules file that cannot be used; what() is "FILE:LINE: what is wrong".
class rules_error : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

enum class action_kind : std::uint8_t { accept, drop, mark };

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

enum class l7_field : std::uint8_t { none, http_host, tls_sni, dns_qname };

struct name_pattern {
	std::string name; // lowercased; for a wildcard, ".domain"
	bool wildcard = false;
	bool matches(std::string_view host) const;
};

struct rule {
	rule_action action;
	std::optional<std::uint8_t> proto;
	std::optional<cidr> src, dst;
	std::optional<port_range> sport, dport;
	std::optional<std::string> content;
	bool nocase = false;
	l7_field field = l7_field::none;
	name_pattern pattern;
	unsigned line = 0;
	std::string text; // the rule as written, for logs

	// Decided by what the packet carries: worth remembering per flow.
	bool inspects_payload() const
	{
		return content.has_value() || field != l7_field::none;
	}
};

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
	std::size_t match(const packet_view &pkt) const;

private:
	std::vector<rule> rules_;
	std::string source_;
};

} // namespace nfring
