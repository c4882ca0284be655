// L7 field extractors for the worker's packet rules.  The input is captured
// packet data from an untrusted peer, so every parser checks each length
// before use and answers nullopt for anything malformed or cut off.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>

namespace nfring::l7
{

// HTTP/1.x request (payload of a TCP segment): the Host header's value,
// lowercased, without a :port suffix and surrounding whitespace. Requires a
// request line "METHOD SP target SP HTTP/1.x" (METHOD = uppercase token) ending
// in CRLF; header names match case-insensitively; stops at the blank line or
// end of data. nullopt when not an HTTP request or no Host header found in
// the captured bytes.
std::optional<std::string> http_host(std::span<const std::byte> payload);

// TLS ClientHello (payload of a TCP segment starting with a TLS record):
// the server_name extension's first host_name entry, lowercased. Record type
// 22 (handshake), handshake type 1; walk session id, cipher suites,
// compression methods, extensions with every length checked against both
// the record/handshake lengths and the captured bytes. A ClientHello that is
// cut off before the SNI extension gives nullopt. Only the first record is
// parsed.
std::optional<std::string> tls_sni(std::span<const std::byte> payload);

// DNS message (UDP payload): the first question's QNAME as a dotted,
// lowercased name without the trailing dot ("ads.example.com"). Requires
// QDCOUNT >= 1 and QR = 0 (a query). Labels 1..63 bytes, total name <= 253
// characters; a compression pointer in the question is rejected (nullopt);
// the root name gives nullopt. Labels containing '.' or bytes outside
// printable ASCII give nullopt.
std::optional<std::string> dns_qname(std::span<const std::byte> payload);

} // namespace nfring::l7
