// The L7 extractors read bytes sent by an untrusted peer: besides real-shaped
// messages, these tests feed every truncation and a catalogue of lies in
// length fields.  Prefixes are copied into buffers of exactly their size so
// that a sanitizer build catches any read past the span.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <gtest/gtest.h>
#include <string>
#include <string_view>
#include <vector>

#include "nfring/l7.hpp"

namespace
{

using nfring::l7::dns_qname;
using nfring::l7::http_host;
using nfring::l7::tls_sni;
using bytes = std::vector<std::byte>;

bytes from(std::string_view s)
{
	bytes out;
	for (char c : s)
		out.push_back(static_cast<std::byte>(c));
	return out;
}

bytes first(const bytes &b, std::size_t n)
{
	return bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
}

// Big-endian writer with back-patched length prefixes, the shape of both TLS
// and DNS.
class wire
{
public:
	wire &u8(unsigned v)
	{
		out.push_back(static_cast<std::byte>(v & 0xff));
		return *this;
	}
	wire &u16(unsigned v) { return u8(v >> 8).u8(v); }
	wire &u24(unsigned v) { return u8(v >> 16).u16(v); }
	wire &str(std::string_view s)
	{
		for (char c : s)
			u8(static_cast<unsigned char>(c));
		return *this;
	}
	wire &fill(std::size_t n, unsigned v)
	{
		out.insert(out.end(), n, static_cast<std::byte>(v));
		return *this;
	}

	// Writes a width-byte length of what body appends; returns the offset
	// of the length field.
	std::size_t block(std::size_t width,
	                  const std::function<void(wire &)> &body)
	{
		auto at = out.size();
		fill(width, 0);
		body(*this);
		set(at, width, out.size() - at - width);
		return at;
	}

	void set(std::size_t at, std::size_t width, std::size_t v)
	{
		for (std::size_t i = 0; i < width; ++i)
			out[at + width - 1 - i] =
			        static_cast<std::byte>(v >> 8 * i);
	}

	bytes out;
};

// ---- HTTP ----------------------------------------------------------------

constexpr std::string_view curl_request = "GET /index.html HTTP/1.1\r\n"
                                          "User-Agent: curl/8.5.0\r\n"
                                          "Accept: */*\r\n"
                                          "Host: www.example.com\r\n"
                                          "Connection: keep-alive\r\n"
                                          "\r\n";

std::optional<std::string> host_of(std::string_view request)
{
	return http_host(from(request));
}

TEST(HttpHost, ReturnsHostOfRealRequest)
{
	EXPECT_EQ(host_of(curl_request), "www.example.com");
}

TEST(HttpHost, FoldsHostToLowercase)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: WWW.Example.COM\r\n\r\n"),
	          "www.example.com");
}

TEST(HttpHost, MatchesHeaderNameCaseInsensitively)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nhOsT: example.com\r\n\r\n"),
	          "example.com");
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHOST: example.com\r\n\r\n"),
	          "example.com");
}

TEST(HttpHost, StripsPort)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"),
	          "example.com");
}

TEST(HttpHost, StripsSurroundingWhitespace)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: \t example.com \t\r\n\r\n"),
	          "example.com");
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost:example.com\r\n\r\n"),
	          "example.com");
}

TEST(HttpHost, StripsTrailingDot)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: example.com.:80\r\n\r\n"),
	          "example.com");
}

TEST(HttpHost, KeepsIpv6LiteralBracketsAndStripsItsPort)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:8080\r\n\r\n"),
	          "[2001:db8::1]");
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n"), "[::1]");
}

TEST(HttpHost, AcceptsOtherMethodsAndHttp10)
{
	EXPECT_EQ(host_of("POST /api HTTP/1.0\r\nHost: a.example\r\n\r\n"),
	          "a.example");
	EXPECT_EQ(host_of("CONNECT example.com:443 HTTP/1.1\r\n"
	                  "Host: example.com:443\r\n\r\n"),
	          "example.com");
}

TEST(HttpHost, WaitsForTheBlankLineEvenWhenHostLineIsComplete)
{
	// A second Host line may still follow, which the server refuses.
	std::string host;
	EXPECT_EQ(nfring::l7::parse_http_request(
	                  from("GET / HTTP/1.1\r\nHost: example.com\r\nAcc"),
	                  host),
	          nfring::l7::status::need_more);
}

TEST(HttpHost, NeedsMoreAtEveryTruncationThenGivesHost)
{
	auto full = from(curl_request);
	for (std::size_t n = 0; n < full.size(); ++n) {
		std::string host;
		EXPECT_EQ(nfring::l7::parse_http_request(first(full, n), host),
		          nfring::l7::status::need_more)
		        << "prefix " << n;
		EXPECT_EQ(http_host(first(full, n)), std::nullopt)
		        << "prefix " << n;
	}
	EXPECT_EQ(http_host(full), "www.example.com");
}

TEST(HttpHost, RejectsEmptyPayload)
{
	EXPECT_EQ(http_host({}), std::nullopt);
}

TEST(HttpHost, RejectsRequestLineThatIsNotHttp)
{
	EXPECT_EQ(host_of("GET / FTP/1.0\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("SSH-2.0-OpenSSH_9.6\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/2.0\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1x\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsResponse)
{
	EXPECT_EQ(host_of("HTTP/1.1 200 OK\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsLowercaseMethod)
{
	EXPECT_EQ(host_of("get / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsMalformedRequestLineSpacing)
{
	EXPECT_EQ(host_of("GET  / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET /a b HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of(" GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, AcceptsBareLfLineEndings)
{
	// RFC 9112 2.2 lets a server take a bare LF, and nginx, Apache and
	// others do: so must we, or such a request passes every rule.
	EXPECT_EQ(host_of("GET / HTTP/1.1\nHost: example.com\n\n"),
	          "example.com");
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nUser-Agent: x\nHost: a.com\r\n\n"),
	          "a.com");
}

TEST(HttpHost, AbsoluteFormAuthorityWinsOverHost)
{
	// RFC 9112 3.2.2: the server uses the target's authority.
	EXPECT_EQ(host_of("GET http://evil.example/x HTTP/1.1\r\n"
	                  "Host: good.example\r\n\r\n"),
	          "evil.example");
	EXPECT_EQ(host_of("GET https://user@Evil.Example:8443/?q HTTP/1.1\r\n"
	                  "Host: good.example\r\n\r\n"),
	          "evil.example");
	EXPECT_EQ(host_of("GET http://evil.example HTTP/1.1\r\n\r\n"),
	          "evil.example");
}

TEST(HttpHost, ConnectTargetIsTheHost)
{
	EXPECT_EQ(host_of("CONNECT tunnel.example:443 HTTP/1.1\r\n"
	                  "Host: other.example\r\n\r\n"),
	          "tunnel.example");
}

TEST(HttpHost, NonHttpBytesAnswerNoAtOnce)
{
	std::string host;
	for (std::string_view s : std::initializer_list<std::string_view>{
	             "\x16\x03\x01", "get ", "SSH-2.0",
	             std::string_view("\x00\x1c", 2), "GET /\x01"}) {
		EXPECT_EQ(nfring::l7::parse_http_request(from(s), host),
		          nfring::l7::status::no)
		        << s;
	}
}

TEST(HttpHost, RejectsHeaderLineWithoutColon)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost example.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nGarbage\r\nHost: a.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsWhitespaceBeforeColon)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost : example.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsFoldedHeaderLine)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nX-A: 1\r\n Host: a.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, IgnoresHostInBody)
{
	EXPECT_EQ(host_of("POST / HTTP/1.1\r\nContent-Length: 19\r\n\r\n"
	                  "Host: evil.example\r\n"),
	          std::nullopt);
}

TEST(HttpHost, IgnoresFieldsWhoseNameOnlyContainsHost)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nX-Forwarded-Host: a.com\r\n"
	                  "Hostname: b.com\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RefusesTwoHostFields)
{
	// RFC 9112 3.2: the server answers 400; reading either would guess.
	EXPECT_EQ(
	        host_of("GET / HTTP/1.1\r\nHost: a.com\r\nHost: b.com\r\n\r\n"),
	        std::nullopt);
}

TEST(HttpHost, RejectsEmptyHost)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: \r\n\r\n"), std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), std::nullopt);
}

TEST(HttpHost, RejectsNonNumericPort)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: a.com:http\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: a.com:1:2\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsInvalidHostCharacters)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: a b.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: a.com/x\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: user@a.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of(std::string_view(
	                  "GET / HTTP/1.1\r\nHost: a\0b.com\r\n\r\n", 33)),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsEmptyLabels)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: a..com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: .a.com\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: a.com..\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, RejectsHostLongerThan253Characters)
{
	std::string name;
	for (int i = 0; i < 63; ++i)
		name += "abc.";
	name += "d"; // 253
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: " + name + "\r\n\r\n"),
	          name);
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nHost: " + name + "e\r\n\r\n"),
	          std::nullopt);
}

TEST(HttpHost, NulloptWithoutHostField)
{
	EXPECT_EQ(host_of("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
	          std::nullopt);
	EXPECT_EQ(host_of("GET / HTTP/1.0\r\n\r\n"), std::nullopt);
}

// ---- TLS -----------------------------------------------------------------

struct hello_options {
	std::string host = "www.example.com";
	bool with_sni = true;
	// Replaces the single host_name entry of the server_name list.
	std::function<void(wire &)> sni_entries = {};
};

// Where the tests poke: offsets of length fields and the SNI's end.
struct client_hello {
	bytes out;
	std::size_t record_len_at;
	std::size_t handshake_len_at;
	std::size_t session_id_len_at;
	std::size_t suites_len_at;
	std::size_t extensions_len_at;
	std::size_t sni_ext_len_at;
	std::size_t sni_list_len_at;
	std::size_t sni_name_len_at;
	std::size_t sni_end;
};

void grease_and_early_extensions(wire &w)
{
	w.u16(0x0a0a).u16(0); // GREASE
	w.u16(0x0017).u16(0); // extended_master_secret
	w.u16(0xff01).block(2, [](wire &x) { x.u8(0); }); // renegotiation_info
	w.u16(0x000a).block(2, [](wire &x) {              // supported_groups
		x.block(2, [](wire &g) {
			g.u16(0x4a4a).u16(0x001d).u16(0x0017).u16(0x0018);
		});
	});
	w.u16(0x000b).block(2, [](wire &x) { // ec_point_formats
		x.block(1, [](wire &f) { f.u8(0); });
	});
	w.u16(0x0023).u16(0);                // session_ticket
	w.u16(0x0010).block(2, [](wire &x) { // ALPN
		x.block(2, [](wire &l) {
			l.block(1, [](wire &p) { p.str("h2"); });
			l.block(1, [](wire &p) { p.str("http/1.1"); });
		});
	});
	w.u16(0x0005).block(2, [](wire &x) { x.u8(1).u16(0).u16(0); });
	w.u16(0x000d).block(2, [](wire &x) { // signature_algorithms
		x.block(2, [](wire &a) {
			for (unsigned alg : {0x0403, 0x0804, 0x0401, 0x0503,
			                     0x0805, 0x0501, 0x0806, 0x0601})
				a.u16(alg);
		});
	});
}

void late_extensions(wire &w)
{
	w.u16(0x002b).block(2, [](wire &x) { // supported_versions
		x.block(1,
		        [](wire &v) { v.u16(0x6a6a).u16(0x0304).u16(0x0303); });
	});
	w.u16(0x0033).block(2, [](wire &x) { // key_share
		x.block(2, [](wire &k) {
			k.u16(0x1a1a).block(2, [](wire &e) { e.u8(0); });
			k.u16(0x001d).block(2,
			                    [](wire &e) { e.fill(32, 0x77); });
		});
	});
	w.u16(0x002d).block(2, [](wire &x) { // psk_key_exchange_modes
		x.block(1, [](wire &m) { m.u8(1); });
	});
	w.u16(0x3a3a).block(2, [](wire &x) { x.u8(0); });       // GREASE
	w.u16(0x0015).block(2, [](wire &x) { x.fill(40, 0); }); // padding
}

// Shaped like Chrome's: GREASE values in suites, groups, versions and
// extensions, several extensions before server_name and more after it.
client_hello make_hello(const hello_options &opt = {})
{
	client_hello h{};
	wire w;
	w.u8(22).u16(0x0301);
	h.record_len_at = w.block(2, [&](wire &r) {
		r.u8(1);
		h.handshake_len_at = r.block(3, [&](wire &m) {
			m.u16(0x0303).fill(32, 0x5a);
			h.session_id_len_at =
			        m.block(1, [](wire &s) { s.fill(32, 0x11); });
			h.suites_len_at = m.block(2, [](wire &s) {
				for (unsigned cs :
				     {0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b,
				      0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
				      0xc013, 0xc014, 0x009c, 0x009d, 0x002f,
				      0x0035})
					s.u16(cs);
			});
			m.block(1, [](wire &c) { c.u8(0); });
			h.extensions_len_at = m.block(2, [&](wire &e) {
				grease_and_early_extensions(e);
				if (opt.with_sni) {
					e.u16(0x0000);
					h.sni_ext_len_at = e.block(2, [&](wire &x) {
						h.sni_list_len_at = x.block(2, [&](wire &l) {
							if (opt.sni_entries) {
								opt.sni_entries(
								        l);
								return;
							}
							l.u8(0);
							h.sni_name_len_at = l.block(
							        2,
							        [&](wire &n) {
								        n.str(opt.host);
							        });
						});
					});
					h.sni_end = e.out.size();
				}
				late_extensions(e);
			});
		});
	});
	h.out = std::move(w.out);
	return h;
}

TEST(TlsSni, ReturnsSniOfRealClientHello)
{
	EXPECT_EQ(tls_sni(make_hello().out), "www.example.com");
}

// Captured from Python's ssl module (OpenSSL 3.0) connecting with
// server_hostname="www.example.com" and ALPN h2, http/1.1.
constexpr unsigned char openssl_client_hello[] = {
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0xb7,
        0xc7, 0x45, 0x32, 0xe6, 0xc6, 0x3c, 0xe4, 0xdd, 0x39, 0x8b, 0x1f, 0xe4,
        0xcd, 0x16, 0xba, 0x1a, 0xf4, 0xa3, 0x45, 0x3f, 0x86, 0x8d, 0x34, 0x3a,
        0x67, 0x41, 0x1b, 0x0f, 0xe7, 0xb2, 0x71, 0x20, 0x7a, 0x06, 0xd2, 0xae,
        0x17, 0xa8, 0xf7, 0x7c, 0x36, 0x08, 0x21, 0xf8, 0x26, 0x8c, 0x09, 0x9b,
        0x0b, 0x1c, 0x16, 0xe8, 0xc3, 0xf1, 0xdc, 0xe6, 0x53, 0x28, 0xa1, 0x46,
        0xe3, 0x5a, 0x5d, 0xd4, 0x00, 0x24, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
        0xc0, 0x2c, 0xc0, 0x30, 0xc0, 0x2b, 0xc0, 0x2f, 0xcc, 0xa9, 0xcc, 0xa8,
        0xc0, 0x24, 0xc0, 0x28, 0xc0, 0x23, 0xc0, 0x27, 0x00, 0x9f, 0x00, 0x9e,
        0x00, 0x6b, 0x00, 0x67, 0x00, 0xff, 0x01, 0x00, 0x01, 0x8f, 0x00, 0x00,
        0x00, 0x14, 0x00, 0x12, 0x00, 0x00, 0x0f, 0x77, 0x77, 0x77, 0x2e, 0x65,
        0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x00, 0x0b,
        0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16, 0x00, 0x14,
        0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18, 0x01, 0x00,
        0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00,
        0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74,
        0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17,
        0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03,
        0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b,
        0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01,
        0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02,
        0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03, 0x00, 0x2d, 0x00,
        0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00,
        0x20, 0xb3, 0x21, 0x42, 0xf1, 0xd7, 0xdd, 0xc5, 0x2b, 0x69, 0x46, 0x98,
        0x2d, 0xe0, 0x8f, 0xca, 0x2c, 0x33, 0x2b, 0x13, 0x3b, 0xb8, 0x0d, 0x9f,
        0x19, 0xce, 0x0c, 0xf3, 0xb2, 0x99, 0x65, 0xd7, 0x38, 0x00, 0x15, 0x00,
        0xcc, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00,
};

TEST(TlsSni, ReturnsSniOfHelloCapturedFromOpenssl)
{
	bytes b;
	for (auto c : openssl_client_hello)
		b.push_back(static_cast<std::byte>(c));
	EXPECT_EQ(tls_sni(b), "www.example.com");
}

TEST(TlsSni, FoldsNameToLowercase)
{
	EXPECT_EQ(tls_sni(make_hello({.host = "WWW.Example.COM"}).out),
	          "www.example.com");
}

TEST(TlsSni, NeedsMoreAtEveryTruncationThenGivesSni)
{
	auto h = make_hello();
	for (std::size_t n = 0; n < h.out.size(); ++n) {
		nfring::l7::client_hello hello;
		std::vector<std::byte> scratch;
		EXPECT_EQ(nfring::l7::parse_tls_stream(first(h.out, n), hello,
		                                       scratch),
		          nfring::l7::status::need_more)
		        << "prefix " << n;
	}
	EXPECT_EQ(tls_sni(h.out), "www.example.com");
}

TEST(TlsSni, IgnoresBytesAfterFirstRecord)
{
	auto h = make_hello();
	auto more = from("\x17\x03\x03\x00\x05hello");
	h.out.insert(h.out.end(), more.begin(), more.end());
	EXPECT_EQ(tls_sni(h.out), "www.example.com");
}

TEST(TlsSni, RejectsNonHandshakeRecord)
{
	for (unsigned type : {0u, 20u, 21u, 23u, 24u, 0xffu}) {
		auto h = make_hello();
		h.out[0] = static_cast<std::byte>(type);
		EXPECT_EQ(tls_sni(h.out), std::nullopt) << "type " << type;
	}
}

TEST(TlsSni, RejectsRecordVersionThatIsNotTls)
{
	auto h = make_hello();
	h.out[1] = std::byte{0x02};
	EXPECT_EQ(tls_sni(h.out), std::nullopt);
}

TEST(TlsSni, RejectsWrongHandshakeType)
{
	for (unsigned type : {0u, 2u, 4u, 11u, 20u}) {
		auto h = make_hello();
		h.out[5] = static_cast<std::byte>(type);
		EXPECT_EQ(tls_sni(h.out), std::nullopt) << "type " << type;
	}
}

TEST(TlsSni, RejectsRecordLongerThanTwoToTheFourteen)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	w.set(h.record_len_at, 2, (1u << 14) + 1);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, JoinsRecordsOfFragmentedHello)
{
	// The record ends inside the extensions, before server_name, and a
	// second record carries the rest: the hello is read across both.
	auto h = make_hello();
	auto split = h.sni_ext_len_at - 2;
	bytes two = first(h.out, split);
	wire w;
	w.out = two;
	w.set(h.record_len_at, 2, split - h.record_len_at - 2);
	w.u8(22).u16(0x0301).u16(static_cast<unsigned>(h.out.size() - split));
	w.out.insert(w.out.end(), h.out.begin() + split, h.out.end());
	EXPECT_EQ(tls_sni(w.out), "www.example.com");
}

TEST(TlsSni, WaitsForTheWholeHelloEvenWhenSniIsInTheFirstRecord)
{
	// The handshake claims more than the record carries; server_name is
	// within the record, but a second server_name (which the server
	// refuses) could still follow: not decided yet.
	auto h = make_hello();
	wire w;
	w.out = first(h.out, h.sni_end);
	w.set(h.record_len_at, 2, h.sni_end - h.record_len_at - 2);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, RejectsHandshakeLengthShorterThanExtensions)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	w.set(h.handshake_len_at, 3, h.sni_end - h.handshake_len_at - 3 - 1);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, RejectsSessionIdLongerThan32)
{
	auto h = make_hello();
	h.out[h.session_id_len_at] = std::byte{33};
	EXPECT_EQ(tls_sni(h.out), std::nullopt);
}

TEST(TlsSni, RejectsSessionIdLengthPastEnd)
{
	auto h = make_hello();
	auto cut = first(h.out, h.session_id_len_at + 10);
	EXPECT_EQ(tls_sni(cut), std::nullopt);
}

TEST(TlsSni, RejectsCipherSuitesLengthPastHandshake)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	w.set(h.suites_len_at, 2, 0xfffe);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, RejectsOddCipherSuitesLength)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	w.set(h.suites_len_at, 2, 31);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, RejectsExtensionsLengthPastHandshake)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	auto real = (static_cast<unsigned>(h.out[h.extensions_len_at]) << 8) |
	            static_cast<unsigned>(h.out[h.extensions_len_at + 1]);
	w.set(h.extensions_len_at, 2, real + 1);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, RejectsExtensionLengthPastExtensionsBlock)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	w.set(h.sni_ext_len_at, 2, 0xffff);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, RejectsServerNameListNotFillingExtension)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	auto list = h.sni_end - h.sni_list_len_at - 2;
	w.set(h.sni_list_len_at, 2, list - 1);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
	w.set(h.sni_list_len_at, 2, list + 1);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, RejectsNameLengthPastList)
{
	auto h = make_hello();
	wire w;
	w.out = h.out;
	w.set(h.sni_name_len_at, 2, 16);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

TEST(TlsSni, NulloptWithoutServerNameExtension)
{
	EXPECT_EQ(tls_sni(make_hello({.with_sni = false}).out), std::nullopt);
}

TEST(TlsSni, NulloptWithEmptyServerNameList)
{
	auto h = make_hello({.sni_entries = [](wire &) {}});
	EXPECT_EQ(tls_sni(h.out), std::nullopt);
}

TEST(TlsSni, SkipsEntriesThatAreNotHostNames)
{
	auto h = make_hello({.sni_entries = [](wire &l) {
		l.u8(7).block(2, [](wire &n) { n.str("opaque"); });
		l.u8(0).block(2, [](wire &n) { n.str("b.example"); });
		l.u8(0).block(2, [](wire &n) { n.str("c.example"); });
	}});
	EXPECT_EQ(tls_sni(h.out), "b.example");
}

TEST(TlsSni, RejectsInvalidHostNames)
{
	for (const auto &bad :
	     std::vector<std::string>{"", ".", "a.example..", "a b.example",
	                              "a..example", ".a.example", "a/b",
	                              std::string("a\0b", 3), "caf\xc3\xa9"})
		EXPECT_EQ(tls_sni(make_hello({.host = bad}).out), std::nullopt)
		        << bad;
}

TEST(TlsSni, RejectsHelloWithoutExtensions)
{
	auto h = make_hello();
	auto cut = first(h.out, h.extensions_len_at);
	wire w;
	w.out = cut;
	w.set(h.record_len_at, 2, cut.size() - h.record_len_at - 2);
	w.set(h.handshake_len_at, 3, cut.size() - h.handshake_len_at - 3);
	EXPECT_EQ(tls_sni(w.out), std::nullopt);
}

// ---- DNS -----------------------------------------------------------------

struct query_options {
	unsigned flags = 0x0100; // RD
	unsigned qdcount = 1;
};

// dig-shaped: one question and an EDNS OPT record.
bytes make_query(const std::vector<std::string> &labels,
                 const query_options &opt = {})
{
	wire w;
	w.u16(0xbeef).u16(opt.flags).u16(opt.qdcount).u16(0).u16(0).u16(1);
	for (const auto &label : labels)
		w.block(1, [&](wire &l) { l.str(label); });
	w.u8(0).u16(1).u16(1);                          // QTYPE A, QCLASS IN
	w.u8(0).u16(41).u16(1232).u16(0).u16(0).u16(0); // OPT
	return w.out;
}

TEST(DnsQname, ReturnsNameOfQueryBuiltLabelByLabel)
{
	EXPECT_EQ(dns_qname(make_query({"ads", "example", "com"})),
	          "ads.example.com");
}

TEST(DnsQname, ReturnsSingleLabelName)
{
	EXPECT_EQ(dns_qname(make_query({"localhost"})), "localhost");
}

TEST(DnsQname, FoldsNameToLowercase)
{
	EXPECT_EQ(dns_qname(make_query({"AdS", "ExAmPlE", "COM"})),
	          "ads.example.com");
}

TEST(DnsQname, AcceptsServiceLabels)
{
	EXPECT_EQ(dns_qname(make_query({"_sip", "_tcp", "example", "com"})),
	          "_sip._tcp.example.com");
}

TEST(DnsQname, GivesNulloptUntilQuestionIsCapturedAtEveryTruncation)
{
	auto full = make_query({"ads", "example", "com"});
	std::size_t question_end = 12 + 17 + 4;
	for (std::size_t n = 0; n <= full.size(); ++n) {
		auto got = dns_qname(first(full, n));
		if (n < question_end)
			EXPECT_EQ(got, std::nullopt) << "prefix " << n;
		else
			EXPECT_EQ(got, "ads.example.com") << "prefix " << n;
	}
}

TEST(DnsQname, RejectsResponse)
{
	EXPECT_EQ(dns_qname(make_query({"ads", "example", "com"},
	                               {.flags = 0x8180})),
	          std::nullopt);
}

TEST(DnsQname, RejectsZeroQdcount)
{
	EXPECT_EQ(dns_qname(make_query({"example", "com"}, {.qdcount = 0})),
	          std::nullopt);
}

TEST(DnsQname, RejectsRootName)
{
	EXPECT_EQ(dns_qname(make_query({})), std::nullopt);
}

TEST(DnsQname, ZeroLengthLabelEndsName)
{
	// The empty label is the terminator, so what follows is QTYPE and
	// QCLASS, never more of the name.
	auto q = make_query({"ads", "", "example", "com"});
	EXPECT_EQ(dns_qname(q), "ads");
}

TEST(DnsQname, RejectsCompressionPointer)
{
	auto q = make_query({"example", "com"});
	q.resize(12);
	wire w;
	w.out = q;
	w.u8(0xc0).u8(0x0c).u16(1).u16(1);
	EXPECT_EQ(dns_qname(w.out), std::nullopt);
}

TEST(DnsQname, RejectsCompressionPointerAfterFirstLabel)
{
	auto q = make_query({"example", "com"});
	q.resize(12);
	wire w;
	w.out = q;
	w.u8(3).str("ads").u8(0xc0).u8(0x0c).u16(1).u16(1);
	EXPECT_EQ(dns_qname(w.out), std::nullopt);
}

TEST(DnsQname, RejectsReservedLabelTypes)
{
	for (unsigned type : {0x40u, 0x80u}) {
		wire w;
		w.out = make_query({});
		w.out.resize(12);
		w.u8(type | 3).str("abc").u8(0).u16(1).u16(1);
		EXPECT_EQ(dns_qname(w.out), std::nullopt) << type;
	}
}

TEST(DnsQname, AcceptsLabelOf63Bytes)
{
	std::string label(63, 'a');
	EXPECT_EQ(dns_qname(make_query({label, "com"})), label + ".com");
}

TEST(DnsQname, RejectsLabelOf64Bytes)
{
	EXPECT_EQ(dns_qname(make_query({std::string(64, 'a'), "com"})),
	          std::nullopt);
}

TEST(DnsQname, AcceptsNameOf253Characters)
{
	std::vector<std::string> labels(3, std::string(63, 'a'));
	labels.push_back(std::string(61, 'b')); // 3 * 64 + 61
	auto got = dns_qname(make_query(labels));
	ASSERT_TRUE(got);
	EXPECT_EQ(got->size(), 253u);
}

TEST(DnsQname, RejectsNameOf254Characters)
{
	std::vector<std::string> labels(3, std::string(63, 'a'));
	labels.push_back(std::string(62, 'b'));
	EXPECT_EQ(dns_qname(make_query(labels)), std::nullopt);
}

TEST(DnsQname, RejectsLabelLengthPastEnd)
{
	wire w;
	w.out = make_query({});
	w.out.resize(12);
	w.u8(40).str("example");
	EXPECT_EQ(dns_qname(w.out), std::nullopt);
}

TEST(DnsQname, RejectsMissingTypeAndClass)
{
	auto q = make_query({"example", "com"});
	q.resize(12 + 13 + 3);
	EXPECT_EQ(dns_qname(q), std::nullopt);
}

TEST(DnsQname, RejectsLabelContainingDot)
{
	EXPECT_EQ(dns_qname(make_query({"ads.evil", "com"})), std::nullopt);
}

TEST(DnsQname, RejectsBytesOutsidePrintableAscii)
{
	for (char c : {'\0', '\n', '\x1f', '\x7f', '\x80', '\xff'})
		EXPECT_EQ(dns_qname(make_query({std::string("a") + c, "com"})),
		          std::nullopt)
		        << static_cast<int>(c);
}

TEST(DnsQname, RejectsShortHeader)
{
	EXPECT_EQ(dns_qname(from("\xbe\xef\x01\x00\x00\x01")), std::nullopt);
}

} // namespace
