// Builds IPv4/IPv6 TCP/UDP packets for the unit tests.
#pragma once

#include <arpa/inet.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace test
{

inline void put16(std::vector<std::byte> &b, std::size_t at, std::uint16_t v)
{
	b[at] = std::byte(v >> 8);
	b[at + 1] = std::byte(v & 0xff);
}

// The TCP/UDP checksum of a packet built below (RFC 1071 over the pseudo
// header and the L4 bytes), written into its place: receivers, and so the
// worker, ignore segments whose checksum fails.
inline void fill_l4_checksum(std::vector<std::byte> &b)
{
	const bool v4 = (std::to_integer<unsigned>(b[0]) >> 4) == 4;
	const std::size_t l3 =
	        v4 ? (std::to_integer<unsigned>(b[0]) & 15) * 4 : 40;
	const unsigned proto = std::to_integer<unsigned>(b[v4 ? 9 : 6]);
	const std::size_t at = l3 + (proto == IPPROTO_TCP ? 16 : 6);
	b[at] = b[at + 1] = std::byte{0};
	std::uint64_t acc = 0;
	auto add = [&](std::size_t from, std::size_t n) {
		for (std::size_t i = 0; i < n; i += 2) {
			unsigned w = std::to_integer<unsigned>(b[from + i])
			             << 8;
			if (i + 1 < n)
				w |= std::to_integer<unsigned>(b[from + i + 1]);
			acc += w;
		}
	};
	if (v4) {
		add(12, 8);
	} else {
		add(8, 32);
	}
	acc += proto + (b.size() - l3);
	add(l3, b.size() - l3);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	std::uint16_t sum = static_cast<std::uint16_t>(~acc & 0xffff);
	if (sum == 0 && proto == IPPROTO_UDP)
		sum = 0xffff;
	put16(b, at, sum);
}

// proto is IPPROTO_TCP or IPPROTO_UDP; addresses in text form.
inline std::vector<std::byte> ipv4(std::uint8_t proto, const char *src,
                                   std::uint16_t sport, const char *dst,
                                   std::uint16_t dport,
                                   std::string_view payload = {},
                                   std::uint8_t tcp_flags = 0x18)
{
	const std::size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	std::vector<std::byte> b(20 + l4 + payload.size());
	b[0] = std::byte{0x45};
	put16(b, 2, static_cast<std::uint16_t>(b.size()));
	b[8] = std::byte{64};
	b[9] = std::byte{proto};
	inet_pton(AF_INET, src, &b[12]);
	inet_pton(AF_INET, dst, &b[16]);
	put16(b, 20, sport);
	put16(b, 22, dport);
	if (proto == IPPROTO_TCP) {
		b[32] = std::byte{5 << 4};
		b[33] = std::byte{tcp_flags};
	} else {
		put16(b, 24, static_cast<std::uint16_t>(8 + payload.size()));
	}
	if (!payload.empty())
		std::memcpy(&b[20 + l4], payload.data(), payload.size());
	fill_l4_checksum(b);
	return b;
}

inline void put32(std::vector<std::byte> &b, std::size_t at, std::uint32_t v)
{
	put16(b, at, static_cast<std::uint16_t>(v >> 16));
	put16(b, at + 2, static_cast<std::uint16_t>(v));
}

// A TCP/IPv4 segment with sequence and acknowledgment numbers (flags: 0x02
// SYN, 0x10 ACK, 0x18 PSH|ACK, 0x01 FIN, 0x04 RST).
inline std::vector<std::byte> tcp4(const char *src, std::uint16_t sport,
                                   const char *dst, std::uint16_t dport,
                                   std::uint32_t seq, std::uint32_t ack,
                                   std::string_view payload = {},
                                   std::uint8_t flags = 0x18)
{
	auto b = ipv4(IPPROTO_TCP, src, sport, dst, dport, payload, flags);
	put32(b, 24, seq);
	put32(b, 28, ack);
	fill_l4_checksum(b);
	return b;
}

inline std::vector<std::byte> ipv6(std::uint8_t proto, const char *src,
                                   std::uint16_t sport, const char *dst,
                                   std::uint16_t dport,
                                   std::string_view payload = {})
{
	const std::size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	std::vector<std::byte> b(40 + l4 + payload.size());
	b[0] = std::byte{0x60};
	put16(b, 4, static_cast<std::uint16_t>(l4 + payload.size()));
	b[6] = std::byte{proto};
	b[7] = std::byte{64};
	inet_pton(AF_INET6, src, &b[8]);
	inet_pton(AF_INET6, dst, &b[24]);
	put16(b, 40, sport);
	put16(b, 42, dport);
	if (proto == IPPROTO_TCP)
		b[52] = std::byte{5 << 4};
	else
		put16(b, 44, static_cast<std::uint16_t>(8 + payload.size()));
	if (!payload.empty())
		std::memcpy(&b[40 + l4], payload.data(), payload.size());
	fill_l4_checksum(b);
	return b;
}

inline std::string_view text(std::span<const std::byte> s)
{
	return {reinterpret_cast<const char *>(s.data()), s.size()};
}

} // namespace test
