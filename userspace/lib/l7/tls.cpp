// TLS ClientHello: SNI, ALPN and the presence of ECH, from a stream of
// records or from a bare handshake message (QUIC CRYPTO data).
#include <cstdint>

#include "nfring/l7.hpp"
#include "text.hpp"
#include "wire.hpp"

namespace nfring::l7
{

using detail::reader;

namespace
{

constexpr std::uint32_t content_handshake = 22;
constexpr std::uint32_t handshake_client_hello = 1;
constexpr std::size_t record_header = 5;
constexpr std::size_t handshake_header = 4;
// RFC 8446 5.1: a plaintext fragment never exceeds 2^14 bytes.
constexpr std::uint32_t max_record = 1 << 14;
constexpr std::uint32_t max_session_id = 32;

constexpr std::uint32_t ext_server_name = 0;
constexpr std::uint32_t ext_alpn = 16;
// draft-ietf-tls-esni (the codepoint browsers send, GREASE ECH included).
constexpr std::uint32_t ext_ech = 0xfe0d;
constexpr std::uint32_t name_type_host_name = 0;
// More ALPN entries than anyone sends: the rest are not kept.
constexpr std::size_t max_alpn = 8;

std::uint32_t be(std::span<const std::byte> b)
{
	std::uint32_t v = 0;
	for (auto x : b)
		v = v << 8 | std::to_integer<std::uint32_t>(x);
	return v;
}

// RFC 6066 3: the list fills the extension exactly; the first host_name
// entry counts.  A name that is not a valid host name makes the whole hello
// unusable for rules (answer no) rather than letting it pass as "no SNI".
bool server_name(reader ext, client_hello &out)
{
	auto list = ext.vec(2);
	if (!ext.at_end())
		return false;
	while (!list.at_end()) {
		auto type = list.number(1);
		auto name = list.vec(2);
		if (!name.ok())
			return false;
		if (*type != name_type_host_name)
			continue;
		auto chars = name.bytes(name.size());
		if (!chars)
			return false;
		auto host = detail::host_name(detail::as_chars(*chars));
		if (!host)
			return false;
		out.sni = std::move(*host);
		return true;
	}
	return true;
}

// RFC 7301 3.1: a non-empty list of non-empty names filling the extension.
bool alpn(reader ext, client_hello &out)
{
	auto list = ext.vec(2);
	if (!ext.at_end() || list.size() == 0)
		return false;
	while (!list.at_end()) {
		auto name = list.vec(1);
		if (!name.ok() || name.size() == 0)
			return false;
		auto chars = name.bytes(name.size());
		if (!chars)
			return false;
		if (out.alpn.size() < max_alpn)
			out.alpn.emplace_back(detail::as_chars(*chars));
	}
	return true;
}

} // namespace

status parse_client_hello(std::span<const std::byte> hs, client_hello &out)
{
	out.clear();
	if (hs.empty())
		return status::need_more;
	if (std::to_integer<std::uint32_t>(hs[0]) != handshake_client_hello)
		return status::no;
	if (hs.size() < handshake_header)
		return status::need_more;
	const std::size_t len = be(hs.subspan(1, 3));
	if (hs.size() - handshake_header < len)
		return status::need_more;
	reader hello(hs.subspan(handshake_header, len), len);
	hello.skip(2 + 32); // legacy_version, random
	auto session_id = hello.vec(1);
	auto suites = hello.vec(2);
	auto compression = hello.vec(1);
	if (!hello.ok() || session_id.size() > max_session_id ||
	    suites.size() < 2 || suites.size() % 2 != 0 ||
	    compression.size() < 1)
		return status::no;
	if (hello.at_end()) // TLS 1.2 and older may omit extensions
		return status::done;
	auto exts = hello.vec(2);
	if (!hello.at_end())
		return status::no;
	// A server refuses a hello that repeats an extension (RFC 8446 4.2);
	// reading the first copy while the server might read another would be
	// a way past the rules.
	bool seen_sni = false, seen_alpn = false;
	while (!exts.at_end()) {
		auto type = exts.number(2);
		auto data = exts.vec(2);
		if (!data.ok())
			return status::no;
		switch (*type) {
		case ext_server_name:
			if (seen_sni || !server_name(data, out))
				return status::no;
			seen_sni = true;
			break;
		case ext_alpn:
			if (seen_alpn || !alpn(data, out))
				return status::no;
			seen_alpn = true;
			break;
		case ext_ech:
			if (out.ech)
				return status::no;
			out.ech = true;
			break;
		default:
			break;
		}
	}
	return status::done;
}

status parse_tls_stream(std::span<const std::byte> stream, client_hello &out,
                        std::vector<std::byte> &scratch, std::size_t max_hello)
{
	out.clear();
	// The hello's length, once the first record shows it.
	std::optional<std::size_t> want;
	std::size_t joined = 0; // handshake bytes seen so far
	bool copying = false;   // scratch holds the joined payloads
	std::span<const std::byte> first;
	for (std::size_t off = 0;;) {
		if (stream.size() - off < record_header) {
			// Enough to tell TLS from the rest early: a stream not
			// starting with a handshake record of version 3.x is
			// not TLS, whatever follows.
			auto head = stream.subspan(off);
			if (off == 0 && !head.empty() &&
			    std::to_integer<std::uint32_t>(head[0]) !=
			            content_handshake)
				return status::no;
			if (off == 0 && head.size() >= 2 &&
			    std::to_integer<std::uint32_t>(head[1]) != 3)
				return status::no;
			return status::need_more;
		}
		auto hdr = stream.subspan(off, record_header);
		const auto type = be(hdr.first(1));
		const auto version = be(hdr.subspan(1, 2));
		const auto length = be(hdr.subspan(3, 2));
		// Alerts or CCS before the hello is complete are not a client
		// we can read: only handshake records carry it.
		if (type != content_handshake || version >> 8 != 3 ||
		    length == 0 || length > max_record)
			return status::no;
		off += record_header;
		auto payload = stream.subspan(off);
		const bool whole = payload.size() >= length;
		payload = payload.first(
		        std::min<std::size_t>(length, payload.size()));
		if (!want && joined == 0) {
			if (payload.size() >= handshake_header) {
				if (std::to_integer<std::uint32_t>(
				            payload[0]) !=
				    handshake_client_hello)
					return status::no;
				want = handshake_header +
				       be(payload.subspan(1, 3));
				if (*want > max_hello)
					return status::no;
			} else if (!payload.empty() &&
			           std::to_integer<std::uint32_t>(payload[0]) !=
			                   handshake_client_hello) {
				return status::no;
			}
		}
		if (joined == 0 && whole && want && payload.size() >= *want) {
			// The usual case: the first record holds the hello.
			first = payload.first(*want);
			return parse_client_hello(first, out);
		}
		if (!copying) {
			scratch.clear();
			copying = true;
		}
		scratch.insert(scratch.end(), payload.begin(), payload.end());
		joined += payload.size();
		if (!want && scratch.size() >= handshake_header) {
			if (std::to_integer<std::uint32_t>(scratch[0]) !=
			    handshake_client_hello)
				return status::no;
			want = handshake_header +
			       be(std::span<const std::byte>(scratch).subspan(
			               1, 3));
			if (*want > max_hello)
				return status::no;
		}
		if (want && joined >= *want)
			return parse_client_hello(
			        std::span<const std::byte>(scratch).first(
			                *want),
			        out);
		if (!whole)
			return status::need_more;
		off += length;
	}
}

std::optional<std::string> tls_sni(std::span<const std::byte> payload)
{
	client_hello hello;
	std::vector<std::byte> scratch;
	if (parse_tls_stream(payload, hello, scratch) != status::done ||
	    hello.sni.empty())
		return std::nullopt;
	return hello.sni;
}

} // namespace nfring::l7
