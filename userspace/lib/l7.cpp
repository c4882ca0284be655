#include "nfring/l7.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

namespace nfring::l7
{

namespace
{

// The longest name DNS can carry; HTTP and TLS names are held to it too so a
// rule never has to consider a form of a name that DNS could not resolve.
constexpr std::size_t max_name = 253;

std::string_view as_chars(std::span<const std::byte> bytes)
{
	return {reinterpret_cast<const char *>(bytes.data()), bytes.size()};
}

// ASCII only: the C library's notion depends on the locale.
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

std::string lowered(std::string_view s)
{
	std::string out(s);
	std::transform(out.begin(), out.end(), out.begin(), lower);
	return out;
}

// Shared by HTTP and TLS.  One trailing dot is dropped so that
// "example.com." cannot slip past a rule for "example.com"; empty labels
// are refused because no resolver would accept them.
std::optional<std::string> host_name(std::string_view s)
{
	if (s.ends_with('.'))
		s.remove_suffix(1);
	// Only one trailing dot is the root; "a.." has an empty label.
	if (s.empty() || s.size() > max_name || s.ends_with('.'))
		return std::nullopt;
	char prev = '.'; // so that a leading dot counts as an empty label
	for (char c : s) {
		bool ok = is_alnum(c) || c == '-' || c == '_' || c == '.';
		if (!ok || (c == '.' && prev == '.'))
			return std::nullopt;
		prev = c;
	}
	return lowered(s);
}

// ---- HTTP ----------------------------------------------------------------

constexpr std::string_view crlf = "\r\n";

// RFC 9110 5.6.2 tchar.
constexpr bool is_tchar(char c)
{
	return is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) !=
	                              std::string_view::npos;
}

constexpr bool is_visible(char c)
{
	return c > ' ' && c < 0x7f;
}

// An unterminated line is not returned: its end, and so the whole of a Host
// value, may not have been captured.
std::optional<std::string_view> next_line(std::string_view &rest)
{
	auto end = rest.find(crlf);
	if (end == std::string_view::npos)
		return std::nullopt;
	auto line = rest.substr(0, end);
	rest.remove_prefix(end + crlf.size());
	return line;
}

bool is_method(std::string_view s)
{
	return !s.empty() && is_upper(s.front()) &&
	       std::all_of(s.begin(), s.end(), [](char c) {
		       return is_upper(c) || c == '-' || c == '_';
	       });
}

bool is_request_line(std::string_view line)
{
	auto sp1 = line.find(' ');
	auto sp2 = line.rfind(' ');
	if (sp1 == std::string_view::npos || sp2 <= sp1 + 1)
		return false;
	auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
	auto version = line.substr(sp2 + 1);
	// A visible-only target also proves there are exactly two spaces.
	return is_method(line.substr(0, sp1)) &&
	       std::all_of(target.begin(), target.end(), is_visible) &&
	       version.size() == 8 && version.starts_with("HTTP/1.") &&
	       is_digit(version.back());
}

struct header_field {
	std::string_view name;
	std::string_view value;
};

std::string_view trim_ows(std::string_view s)
{
	auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
	while (!s.empty() && is_ows(s.front()))
		s.remove_prefix(1);
	while (!s.empty() && is_ows(s.back()))
		s.remove_suffix(1);
	return s;
}

// A line without a colon, whitespace before the colon, or a folded line is
// refused rather than skipped: a server rejects such a request (RFC 9112
// 5.1, 5.2), and guessing differently could make us read another Host than
// the one the server would use.
std::optional<header_field> split_header(std::string_view line)
{
	auto colon = line.find(':');
	if (colon == std::string_view::npos || colon == 0)
		return std::nullopt;
	auto name = line.substr(0, colon);
	if (!std::all_of(name.begin(), name.end(), is_tchar))
		return std::nullopt;
	return header_field{name, trim_ows(line.substr(colon + 1))};
}

bool is_host_field(std::string_view name)
{
	constexpr std::string_view host = "host";
	return name.size() == host.size() &&
	       std::equal(name.begin(), name.end(), host.begin(),
	                  [](char a, char b) { return lower(a) == b; });
}

// The colon of an IPv6 literal is not a port separator, hence the brackets.
std::optional<std::string_view> without_port(std::string_view authority)
{
	auto host_end = authority.find(':');
	if (authority.starts_with('[')) {
		host_end = authority.find(']');
		if (host_end == std::string_view::npos)
			return std::nullopt;
		++host_end;
	}
	auto host = authority.substr(0, host_end);
	auto port = authority.substr(host.size());
	if (port.empty())
		return host;
	if (!port.starts_with(':') ||
	    !std::all_of(port.begin() + 1, port.end(), is_digit))
		return std::nullopt;
	return host;
}

std::optional<std::string> ip_literal(std::string_view s)
{
	auto inner = s.substr(1, s.size() - 2);
	bool ok = !inner.empty() &&
	          std::all_of(inner.begin(), inner.end(), [](char c) {
		          return is_hex(c) || c == ':' || c == '.';
	          });
	return ok ? std::optional(lowered(s)) : std::nullopt;
}

std::optional<std::string> host_value(std::string_view value)
{
	auto host = without_port(value);
	if (!host)
		return std::nullopt;
	return host->starts_with('[') ? ip_literal(*host) : host_name(*host);
}

// ---- binary length-prefixed structures -----------------------------------

// A view of one length-delimited structure.  `declared` is what the sender's
// length field claims; `avail` is the part of it that was captured.  Nested
// lengths are checked against `declared` (exceeding it means the message is
// malformed) and reads against `avail` (past it, the data is not here).
// A failed read or length check sticks, so a sequence of reads can be
// checked once at its end.
class reader
{
public:
	reader(std::span<const std::byte> bytes, std::size_t declared)
	    : avail_(bytes.first(std::min(bytes.size(), declared))),
	      declared_(declared)
	{
	}

	bool ok() const { return ok_; }
	bool at_end() const { return ok_ && pos_ == declared_; }
	std::size_t size() const { return declared_; }

	std::optional<std::span<const std::byte>> bytes(std::size_t n)
	{
		if (!ok_ || pos_ > avail_.size() || n > avail_.size() - pos_)
			return fail();
		auto out = avail_.subspan(pos_, n);
		pos_ += n;
		return out;
	}

	bool skip(std::size_t n) { return bytes(n).has_value(); }

	// Big-endian, as every length and type in TLS and DNS is.
	std::optional<std::uint32_t> number(std::size_t width)
	{
		auto b = bytes(width);
		if (!b)
			return std::nullopt;
		std::uint32_t v = 0;
		for (auto x : *b)
			v = v << 8 | std::to_integer<std::uint32_t>(x);
		return v;
	}

	// The next n declared bytes, which need not all have been captured.
	reader sub(std::size_t n)
	{
		if (!ok_ || n > declared_ - pos_) {
			fail();
			return none();
		}
		auto out = tail(n);
		pos_ += n;
		return out;
	}

	// A vector with a width-byte length prefix (RFC 8446 3.4).
	reader vec(std::size_t width)
	{
		auto n = number(width);
		return n ? sub(*n) : none();
	}

	// What follows, bounded by a length of its own rather than by ours.
	reader tail(std::size_t declared) const
	{
		if (!ok_)
			return none();
		auto start = std::min(pos_, avail_.size());
		return reader(avail_.subspan(start), declared);
	}

	static reader none()
	{
		reader r({}, 0);
		r.ok_ = false;
		return r;
	}

private:
	std::nullopt_t fail()
	{
		ok_ = false;
		return std::nullopt;
	}

	std::span<const std::byte> avail_;
	std::size_t declared_;
	std::size_t pos_ = 0;
	bool ok_ = true;
};

// ---- TLS -----------------------------------------------------------------

constexpr std::uint32_t content_handshake = 22;
constexpr std::uint32_t handshake_client_hello = 1;
constexpr std::uint32_t ext_server_name = 0;
constexpr std::uint32_t name_type_host_name = 0;
// RFC 8446 5.1: a plaintext fragment never exceeds 2^14 bytes.
constexpr std::uint32_t max_record = 1 << 14;
constexpr std::uint32_t max_session_id = 32;

reader handshake_record(reader &in)
{
	auto type = in.number(1);
	auto version = in.number(2);
	auto length = in.number(2);
	if (!in.ok() || *type != content_handshake || *version >> 8 != 3 ||
	    *length > max_record)
		return reader::none();
	return in.sub(*length);
}

// A ClientHello may continue in later records, so its length may exceed the
// record's; only what the first record carries is available.
reader client_hello(reader &record)
{
	auto type = record.number(1);
	auto length = record.number(3);
	if (!record.ok() || *type != handshake_client_hello)
		return reader::none();
	return record.tail(*length);
}

reader extensions(reader &hello)
{
	hello.skip(2 + 32); // legacy_version, random
	auto session_id = hello.vec(1);
	auto suites = hello.vec(2);
	auto compression = hello.vec(1);
	bool ok = hello.ok() && session_id.size() <= max_session_id &&
	          suites.size() >= 2 && suites.size() % 2 == 0 &&
	          compression.size() >= 1;
	return ok ? hello.vec(2) : reader::none();
}

// RFC 6066 3: the list must fill the extension exactly.
std::optional<std::string> server_name(reader ext)
{
	auto list = ext.vec(2);
	if (!ext.at_end())
		return std::nullopt;
	while (!list.at_end()) {
		auto type = list.number(1);
		auto name = list.vec(2);
		if (!name.ok())
			return std::nullopt;
		if (*type != name_type_host_name)
			continue;
		auto chars = name.bytes(name.size());
		return chars ? host_name(as_chars(*chars)) : std::nullopt;
	}
	return std::nullopt;
}

// ---- DNS -----------------------------------------------------------------

// RFC 1035 4.1.1.
constexpr std::uint32_t dns_qr = 0x8000;
constexpr std::size_t dns_other_counts = 6; // ANCOUNT, NSCOUNT, ARCOUNT
constexpr std::size_t dns_type_class = 4;
// Anything above is a pointer (0xc0) or a reserved label type (0x40, 0x80).
constexpr std::uint32_t max_label = 63;

// Built on the stack so that only the returned string allocates.
class dotted_name
{
public:
	bool append(std::span<const std::byte> label)
	{
		std::size_t dot = size_ ? 1 : 0;
		if (label.size() + dot > chars_.size() - size_)
			return false;
		if (dot)
			chars_[size_++] = '.';
		for (auto b : label) {
			auto c = std::to_integer<unsigned char>(b);
			if (c < ' ' || c > '~' || c == '.')
				return false;
			chars_[size_++] = lower(static_cast<char>(c));
		}
		return true;
	}

	std::optional<std::string> str() const
	{
		if (size_ == 0) // the root
			return std::nullopt;
		return std::string(chars_.data(), size_);
	}

private:
	std::array<char, max_name> chars_;
	std::size_t size_ = 0;
};

bool is_query(reader &in)
{
	in.skip(2); // ID
	auto flags = in.number(2);
	auto qdcount = in.number(2);
	in.skip(dns_other_counts);
	return in.ok() && !(*flags & dns_qr) && *qdcount >= 1;
}

} // namespace

std::optional<std::string> http_host(std::span<const std::byte> payload)
{
	auto rest = as_chars(payload);
	auto request = next_line(rest);
	if (!request || !is_request_line(*request))
		return std::nullopt;
	while (auto line = next_line(rest)) {
		if (line->empty()) // end of the header section
			return std::nullopt;
		auto field = split_header(*line);
		if (!field)
			return std::nullopt;
		if (is_host_field(field->name))
			return host_value(field->value);
	}
	return std::nullopt;
}

std::optional<std::string> tls_sni(std::span<const std::byte> payload)
{
	// The record may continue past the segment: its length, not the
	// capture, is what the nested lengths are checked against.
	reader in(payload, std::numeric_limits<std::size_t>::max());
	auto record = handshake_record(in);
	auto hello = client_hello(record);
	auto exts = extensions(hello);
	while (exts.ok() && !exts.at_end()) {
		auto type = exts.number(2);
		auto data = exts.vec(2);
		if (data.ok() && *type == ext_server_name)
			return server_name(data);
	}
	return std::nullopt;
}

std::optional<std::string> dns_qname(std::span<const std::byte> payload)
{
	reader in(payload, payload.size());
	if (!is_query(in))
		return std::nullopt;
	dotted_name name;
	for (;;) {
		auto length = in.number(1);
		if (!length || *length > max_label)
			return std::nullopt;
		if (*length == 0)
			break;
		auto label = in.bytes(*length);
		if (!label || !name.append(*label))
			return std::nullopt;
	}
	if (!in.skip(dns_type_class))
		return std::nullopt;
	return name.str();
}

} // namespace nfring::l7
