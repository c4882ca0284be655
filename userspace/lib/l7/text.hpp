// Helpers shared by the L7 parsers (internal): ASCII character classes that
// do not depend on the locale, and the one definition of a host name that
// every field (SNI, Host, QNAME) is normalised to.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace nfring::l7::detail
{

// The longest name DNS can carry; HTTP and TLS names are held to it too so a
// rule never has to consider a form of a name that DNS could not resolve.
constexpr std::size_t max_name = 253;

inline std::string_view as_chars(std::span<const std::byte> bytes)
{
	return {reinterpret_cast<const char *>(bytes.data()), bytes.size()};
}

constexpr char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}
constexpr bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}
constexpr bool is_alnum(char c)
{
	return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z');
}
constexpr bool is_hex(char c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f');
}

std::string lowered(std::string_view s);

// A host name as rules see it: lowercased, one trailing dot dropped (so that
// "example.com." cannot slip past a rule for "example.com"), no empty
// labels, letters, digits, '-' and '_' only.  nullopt otherwise.
std::optional<std::string> host_name(std::string_view s);

} // namespace nfring::l7::detail
