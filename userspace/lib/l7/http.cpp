// HTTP/1.x requests: the host a server will route the request by.
#include <algorithm>

#include "nfring/l7.hpp"
#include "text.hpp"

namespace nfring::l7
{

using namespace detail;

namespace
{

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

// The longest method anyone registered is 17 characters; a longer run of
// uppercase letters is not a request line we will ever complete.
constexpr std::size_t max_method = 24;

// The next line, ending in LF with an optional CR before it.  An
// unterminated line is not returned: its end, and so the whole of a Host
// value, may not be here yet.
std::optional<std::string_view> next_line(std::string_view &rest)
{
	auto end = rest.find('\n');
	if (end == std::string_view::npos)
		return std::nullopt;
	auto line = rest.substr(0, end);
	rest.remove_prefix(end + 1);
	if (line.ends_with('\r'))
		line.remove_suffix(1);
	return line;
}

bool is_method(std::string_view s)
{
	return !s.empty() && s.size() <= max_method && is_upper(s.front()) &&
	       std::all_of(s.begin(), s.end(), [](char c) {
		       return is_upper(c) || c == '-' || c == '_';
	       });
}

// Can these bytes, not yet a whole line, still become a request line?
// Answers early for everything that is not HTTP, so that such streams are
// never held.
bool may_become_request_line(std::string_view s)
{
	if (s.ends_with('\r')) // the LF may be in the next segment
		s.remove_suffix(1);
	auto sp = s.find(' ');
	auto method = s.substr(0, sp);
	if (method.size() > max_method ||
	    !std::all_of(method.begin(), method.end(), [](char c) {
		    return is_upper(c) || c == '-' || c == '_';
	    }))
		return false;
	if (sp == std::string_view::npos)
		return true;
	auto rest = s.substr(sp + 1);
	return std::all_of(rest.begin(), rest.end(),
	                   [](char c) { return is_visible(c) || c == ' '; });
}

struct request_line {
	std::string_view target;
};

std::optional<request_line> split_request_line(std::string_view line)
{
	auto sp1 = line.find(' ');
	auto sp2 = line.rfind(' ');
	if (sp1 == std::string_view::npos || sp2 <= sp1 + 1)
		return std::nullopt;
	auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
	auto version = line.substr(sp2 + 1);
	// A visible-only target also proves there are exactly two spaces.
	if (!is_method(line.substr(0, sp1)) ||
	    !std::all_of(target.begin(), target.end(), is_visible) ||
	    version.size() != 8 || !version.starts_with("HTTP/1.") ||
	    !is_digit(version.back()))
		return std::nullopt;
	return request_line{target};
}

std::string_view trim_ows(std::string_view s)
{
	auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
	while (!s.empty() && is_ows(s.front()))
		s.remove_prefix(1);
	while (!s.empty() && is_ows(s.back()))
		s.remove_suffix(1);
	return s;
}

struct header_field {
	std::string_view name;
	std::string_view value;
};

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

// "scheme://[userinfo@]authority[/path...]": the authority, or nullopt for
// origin-form ("/x"), asterisk-form and a CONNECT target (which is an
// authority itself; see below).
std::optional<std::string_view> absolute_authority(std::string_view target)
{
	auto scheme_end = target.find("://");
	if (scheme_end == std::string_view::npos || scheme_end == 0)
		return std::nullopt;
	auto scheme = target.substr(0, scheme_end);
	if (!is_alnum(scheme.front()) ||
	    !std::all_of(scheme.begin(), scheme.end(), [](char c) {
		    return is_alnum(c) || c == '+' || c == '-' || c == '.';
	    }))
		return std::nullopt;
	auto rest = target.substr(scheme_end + 3);
	auto auth = rest.substr(0, rest.find_first_of("/?#"));
	if (auto at = auth.rfind('@'); at != std::string_view::npos)
		auth.remove_prefix(at + 1);
	return auth;
}

// CONNECT's target is authority-form ("host:port", RFC 9112 3.2.3).
bool is_authority_form(std::string_view target)
{
	return !target.starts_with('/') && target != "*" &&
	       target.find("://") == std::string_view::npos &&
	       target.find(':') != std::string_view::npos;
}

} // namespace

status parse_http_request(std::span<const std::byte> stream, std::string &host)
{
	host.clear();
	auto rest = as_chars(stream);
	auto line = next_line(rest);
	if (!line)
		return may_become_request_line(rest) ? status::need_more
		                                     : status::no;
	auto request = split_request_line(*line);
	if (!request)
		return status::no;
	std::optional<std::string> from_target;
	if (auto auth = absolute_authority(request->target)) {
		from_target = host_value(*auth);
		if (!from_target)
			return status::no;
	} else if (is_authority_form(request->target)) {
		from_target = host_value(request->target);
		if (!from_target)
			return status::no;
	}
	std::optional<std::string> from_field;
	while ((line = next_line(rest))) {
		if (line->empty()) { // end of the header section
			if (from_target)
				host = std::move(*from_target);
			else if (from_field)
				host = std::move(*from_field);
			return status::done;
		}
		if (line->front() == ' ' || line->front() == '\t')
			return status::no; // obs-fold
		auto field = split_header(*line);
		if (!field)
			return status::no;
		if (!is_host_field(field->name))
			continue;
		// RFC 9112 3.2: more than one Host, or an invalid one, is a
		// 400 from the server.
		if (from_field)
			return status::no;
		from_field = host_value(field->value);
		if (!from_field)
			return status::no;
	}
	return status::need_more;
}

std::optional<std::string> http_host(std::span<const std::byte> payload)
{
	std::string host;
	if (parse_http_request(payload, host) != status::done || host.empty())
		return std::nullopt;
	return host;
}

} // namespace nfring::l7
