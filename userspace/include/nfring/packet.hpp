// A bounds-checked view of one captured IP packet: addresses, protocol,
// ports and the L4 payload, as far as the captured bytes go.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace nfring
{

// An IPv4 address is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// so that one type and one comparison serve both families.
using ip_addr = std::array<std::uint8_t, 16>;

struct packet_view {
	std::uint8_t family = 0; // 4 or 6
	std::uint8_t proto = 0;  // IPPROTO_*
	ip_addr src{}, dst{};
	std::uint16_t sport = 0, dport = 0; // host order; 0 without ports
	bool has_ports = false;
	// TCP/UDP payload as captured (may be cut short by copy_range).  Empty
	// for other protocols and for non-first fragments.
	std::span<const std::byte> payload;
	bool tcp_syn = false, tcp_fin = false, tcp_rst = false;
	bool tcp_ack = false;
	std::uint32_t seq = 0, ack = 0; // TCP, host order
	std::uint8_t ttl = 0;           // IPv4 TTL or IPv6 hop limit
	// A fragment other than the first: no L4 header, ports unknown.
	bool later_fragment = false;
	// The L4 header and everything after it (as captured, bounded by the
	// IP length): what the L4 checksum covers.
	std::span<const std::byte> l4;
	std::size_t l4_len = 0; // the L4 length the IP header declares
};

// RFC 1071 one's-complement sum of 16-bit big-endian words, added to acc
// unfolded; fold() folds it to 16 bits (not complemented).
std::uint64_t sum16(const std::byte *p, std::size_t n, std::uint64_t acc);
std::uint16_t fold(std::uint64_t acc);

// Does the TCP or UDP checksum hold?  Needs the whole L4 segment captured
// (l4.size() == l4_len) and a checksum the sender finished (not a
// CHECKSUM_PARTIAL packet: NFRING_RX_CSUM_NOTREADY); nullopt when it cannot
// tell.  A UDP/IPv4 checksum of 0 means "none" and counts as holding.
std::optional<bool> l4_checksum_ok(const packet_view &p);

// Parses an IPv4 or IPv6 packet starting at its network header.  nullopt
// when the captured bytes do not hold a complete IP header.
std::optional<packet_view> parse_packet(std::span<const std::byte> bytes);

} // namespace nfring
