// libFuzzer harness for the L7 extractors.  Besides memory errors (run it
// with -fsanitize=fuzzer,address,undefined), it traps when a result holds a
// character a rule could be confused by, or when capturing more bytes would
// change an answer already given for a prefix.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <algorithm>
#include <vector>

#include "nfring/l7.hpp"

namespace
{

using parser = std::optional<std::string> (*)(std::span<const std::byte>);

void require(bool ok)
{
	if (!ok)
		__builtin_trap();
}

bool is_lower_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

bool is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Dotted, lowercased, at most 253 characters, no empty label.
template <class Allowed> bool is_dotted(std::string_view s, Allowed allowed)
{
	if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.')
		return false;
	if (s.find("..") != std::string_view::npos)
		return false;
	for (char c : s)
		if (!allowed(c) && c != '.')
			return false;
	return true;
}

bool is_host_name(std::string_view s)
{
	return is_dotted(s, [](char c) {
		return is_lower_alnum(c) || c == '-' || c == '_';
	});
}

bool is_ip_literal(std::string_view s)
{
	if (s.size() < 3 || s.front() != '[' || s.back() != ']')
		return false;
	for (char c : s.substr(1, s.size() - 2))
		if (!is_hex_lower(c) && c != ':' && c != '.')
			return false;
	return true;
}

bool is_http_host(std::string_view s)
{
	return is_host_name(s) || is_ip_literal(s);
}

bool is_qname(std::string_view s)
{
	return is_dotted(s, [](char c) {
		return c >= ' ' && c <= '~' && !(c >= 'A' && c <= 'Z');
	});
}

// A copy of exactly n bytes, so that the sanitizer sees a read past the
// prefix as it does one past the input.
void check_prefix(parser parse, std::span<const std::byte> in, std::size_t n,
                  const std::optional<std::string> &whole)
{
	std::vector<std::byte> prefix(in.begin(), in.begin() + n);
	auto part = parse(prefix);
	require(!part || part == whole);
}

void check(parser parse, bool (*valid)(std::string_view),
           std::span<const std::byte> in, std::size_t prefix_len)
{
	auto got = parse(in);
	require(!got || valid(*got));
	check_prefix(parse, in, prefix_len, got);
}

// The stream parsers' promise to the inspector: an answer other than
// need_more never changes when more bytes arrive, and need_more on the
// whole input means need_more (or the same answer) on every prefix.
template <class Parse>
void check_stream(Parse parse, std::span<const std::byte> in, std::size_t n)
{
	std::vector<std::byte> prefix(in.begin(), in.begin() + n);
	std::string a, b;
	const auto part = parse(std::span<const std::byte>(prefix), a);
	const auto whole = parse(in, b);
	using nfring::l7::status;
	if (part != status::need_more)
		require(whole == part && a == b);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span in(reinterpret_cast<const std::byte *>(data), size);
	// Varies with the input so that over a run every cut point is tried.
	std::size_t cut =
	        size ? (data[0] * 257u + data[size - 1]) % (size + 1) : 0;
	check(nfring::l7::http_host, is_http_host, in, cut);
	check(nfring::l7::tls_sni, is_host_name, in, cut);
	check(nfring::l7::dns_qname, is_qname, in, cut);

	std::vector<std::byte> scratch;
	check_stream(
	        [&](std::span<const std::byte> b, std::string &out) {
		        nfring::l7::client_hello h;
		        const auto st = nfring::l7::parse_tls_stream(b, h, scratch);
		        out = h.sni + "|" + (h.ech ? "ech" : "");
		        for (const auto &id : h.alpn)
			        out += "|" + id;
		        return st;
	        },
	        in, cut);
	check_stream(
	        [](std::span<const std::byte> b, std::string &out) {
		        return nfring::l7::parse_http_request(b, out);
	        },
	        in, cut);
	// DNS over TCP: a later message adds names; those of the first
	// messages never change.
	{
		std::vector<std::byte> prefix(in.begin(), in.begin() + cut);
		std::vector<std::string> a, b;
		const auto part = nfring::l7::parse_dns_tcp(prefix, a);
		const auto whole = nfring::l7::parse_dns_tcp(in, b);
		using nfring::l7::status;
		if (part != status::need_more)
			require(whole == part);
		require(a.size() <= b.size() &&
		        std::equal(a.begin(), a.end(), b.begin()));
		for (const auto &n : b)
			require(is_qname(n));
	}
	return 0;
}
