// L7 field extractors for the worker's rules.  The input is data from an
// untrusted peer, so every parser checks each length before use.
//
// The stream parsers read a direction's first bytes as reassembled so far
// (tcp_stream) and answer one of three things:
//   need_more  the bytes are a valid beginning of the message, which is
//              not complete yet: more bytes may still decide it
//   done       the message is complete and its fields are filled in (a
//              field may still be absent: a ClientHello without SNI)
//   no         not this protocol, or malformed: nothing to extract, and no
//              more bytes would change that
// So a caller holds a flow's packets only while the answer is need_more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nfring::l7
{

enum class status : std::uint8_t { need_more, done, no };

// ---- TLS -------------------------------------------------------------------

struct client_hello {
	std::string sni;               // first host_name entry, lowercased
	std::vector<std::string> alpn; // protocol names in the client's order
	bool ech = false;              // encrypted_client_hello present
	void clear()
	{
		sni.clear();
		alpn.clear();
		ech = false;
	}
};

// A ClientHello handshake message (type 1, 3-byte length, body), as carried
// by TLS records or QUIC CRYPTO frames.  done once the whole message is
// there; every length is checked against the message's own.
status parse_client_hello(std::span<const std::byte> handshake,
                          client_hello &out);

// A TLS client's byte stream from its first byte: handshake records whose
// payloads, joined, hold the ClientHello (which may span records and
// segments).  scratch joins record payloads when the hello spans records;
// it keeps its capacity between calls.  A hello longer than max_hello
// answers no.
status parse_tls_stream(std::span<const std::byte> stream, client_hello &out,
                        std::vector<std::byte> &scratch,
                        std::size_t max_hello = 16384);

// ---- HTTP ------------------------------------------------------------------

// An HTTP/1.x request's header section from the stream's first byte.  done
// at the blank line ending it; host is the authority of an absolute-form
// target ("GET http://host/ HTTP/1.1", which a server must prefer to Host,
// RFC 9112 3.2.2), else the Host header's value; lowercased, without port.
// Lines may end in CRLF or a bare LF (RFC 9112 2.2 lets a server accept
// it, and common ones do).  Several Host fields, a malformed one, or an
// obsolete folded line answer no: a server rejects such a request.
status parse_http_request(std::span<const std::byte> stream, std::string &host);

// ---- DNS -------------------------------------------------------------------

// One DNS message (a UDP payload): the first question's QNAME as a dotted,
// lowercased name without the trailing dot ("ads.example.com").  Requires
// QDCOUNT >= 1 and QR = 0 (a query).  Labels 1..63 bytes, total name <= 253
// characters; a compression pointer in the question is rejected (nullopt);
// the root name gives nullopt.  Labels containing '.' or bytes outside
// printable ASCII give nullopt.
std::optional<std::string> dns_qname(std::span<const std::byte> message);

// DNS over TCP (RFC 7766): messages with a 2-byte length prefix, several
// per segment or one across segments.  Appends the QNAME of every complete
// query in the stream (at most max_names); done once at least one message
// is complete, need_more before, no when the first message is not a query.
status parse_dns_tcp(std::span<const std::byte> stream,
                     std::vector<std::string> &qnames,
                     std::size_t max_names = 16);

// ---- single-packet forms ---------------------------------------------------

// The field from one payload that holds the whole message; nullopt when it
// does not (or holds none).  For tools and tests; the worker reassembles.
std::optional<std::string> http_host(std::span<const std::byte> payload);
std::optional<std::string> tls_sni(std::span<const std::byte> payload);

} // namespace nfring::l7
