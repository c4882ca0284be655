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
	return b;
}

inline std::string_view text(std::span<const std::byte> s)
{
	return {reinterpret_cast<const char *>(s.data()), s.size()};
}

} // namespace test
