#include "nfring/packet.hpp"

#include <cstring>
#include <netinet/in.h>

namespace nfring
{

namespace
{

std::uint16_t be16(const std::byte *p)
{
	return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) << 8 |
	                                  std::to_integer<unsigned>(p[1]));
}

std::uint8_t u8(const std::byte *p)
{
	return std::to_integer<std::uint8_t>(*p);
}

std::uint32_t be32(const std::byte *p)
{
	return std::uint32_t{be16(p)} << 16 | be16(p + 2);
}

// Fills ports and payload from the L4 header at l4 (len bytes captured).
void parse_l4(packet_view &v, const std::byte *l4, std::size_t len)
{
	v.l4 = {l4, len};
	if (v.proto == IPPROTO_TCP) {
		if (len < 20)
			return;
		const std::size_t doff = (u8(l4 + 12) >> 4) * 4u;
		if (doff < 20 || doff > len)
			return;
		v.sport = be16(l4);
		v.dport = be16(l4 + 2);
		v.has_ports = true;
		const std::uint8_t flags = u8(l4 + 13);
		v.tcp_fin = flags & 0x01;
		v.tcp_syn = flags & 0x02;
		v.tcp_rst = flags & 0x04;
		v.tcp_ack = flags & 0x10;
		v.seq = be32(l4 + 4);
		v.ack = be32(l4 + 8);
		v.payload = {l4 + doff, len - doff};
	} else if (v.proto == IPPROTO_UDP) {
		if (len < 8)
			return;
		v.sport = be16(l4);
		v.dport = be16(l4 + 2);
		v.has_ports = true;
		// The UDP length bounds the payload when it is shorter than
		// what was captured (padding); never extends it.
		std::size_t plen = len - 8;
		const std::size_t ulen = be16(l4 + 4);
		if (ulen >= 8 && ulen - 8 < plen)
			plen = ulen - 8;
		v.payload = {l4 + 8, plen};
	}
}

std::optional<packet_view> parse_ipv4(std::span<const std::byte> b)
{
	if (b.size() < 20)
		return std::nullopt;
	const std::size_t ihl = (u8(&b[0]) & 0x0f) * 4u;
	if (ihl < 20 || ihl > b.size())
		return std::nullopt;
	packet_view v;
	v.family = 4;
	v.proto = u8(&b[9]);
	v.src[10] = v.src[11] = 0xff;
	v.dst[10] = v.dst[11] = 0xff;
	std::memcpy(&v.src[12], &b[12], 4);
	std::memcpy(&v.dst[12], &b[16], 4);
	// Bound by the IP total length (Ethernet padding is not payload).
	std::size_t end = b.size();
	const std::size_t tot = be16(&b[2]);
	if (tot >= ihl && tot < end)
		end = tot;
	v.ttl = u8(&b[8]);
	const std::uint16_t frag = be16(&b[6]);
	if (frag & 0x1fff) { // only the first fragment has an L4 header
		v.later_fragment = true;
		return v;
	}
	std::size_t off = ihl;
	if (v.proto == 51) { // AH (RFC 4302): length in 4-byte units, minus 2
		if (off + 8 > end)
			return v;
		v.proto = u8(&b[off]);
		off += (u8(&b[off + 1]) + 2u) * 4u;
		if (off > end)
			return v;
	}
	v.l4_len = tot >= off ? tot - off : 0;
	parse_l4(v, b.data() + off, end - off);
	return v;
}

std::optional<packet_view> parse_ipv6(std::span<const std::byte> b)
{
	if (b.size() < 40)
		return std::nullopt;
	packet_view v;
	v.family = 6;
	std::memcpy(v.src.data(), &b[8], 16);
	std::memcpy(v.dst.data(), &b[24], 16);
	std::size_t end = b.size();
	const std::size_t plen = be16(&b[4]);
	if (plen && 40 + plen < end)
		end = 40 + plen;
	std::uint8_t next = u8(&b[6]);
	v.ttl = u8(&b[7]);
	std::size_t off = 40;
	// Walk a bounded number of extension headers to the L4 header.
	for (int hops = 0; hops < 8; hops++) {
		if (next == 0 || next == 43 ||
		    next == 60) { // hbh, routing, dst
			if (off + 8 > end)
				return v;
			const std::uint8_t nh = u8(&b[off]);
			off += (u8(&b[off + 1]) + 1u) * 8u;
			next = nh;
		} else if (next == 44) { // fragment
			if (off + 8 > end)
				return v;
			const std::uint16_t fo = be16(&b[off + 2]) & 0xfff8;
			next = u8(&b[off]);
			off += 8;
			if (fo) { // not the first fragment: no L4 header here
				v.proto = next;
				v.later_fragment = true;
				return v;
			}
		} else if (next ==
		           51) { // AH (RFC 4302): length in 4-byte units
			if (off + 8 > end)
				return v;
			const std::uint8_t nh = u8(&b[off]);
			off += (u8(&b[off + 1]) + 2u) * 4u;
			next = nh;
		} else {
			break;
		}
	}
	v.proto = next;
	if (off <= end) {
		v.l4_len = plen && 40 + plen >= off ? 40 + plen - off : 0;
		parse_l4(v, b.data() + off, end - off);
	}
	return v;
}

} // namespace

// RFC 1071 one's-complement sum of 16-bit words.
std::uint64_t sum16(const std::byte *p, std::size_t n, std::uint64_t acc)
{
	for (; n >= 2; p += 2, n -= 2)
		acc += be16(p);
	if (n)
		acc += std::uint32_t{u8(p)} << 8;
	return acc;
}

std::uint16_t fold(std::uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return static_cast<std::uint16_t>(acc);
}

std::optional<bool> l4_checksum_ok(const packet_view &p)
{
	if (!p.has_ports || p.l4.size() != p.l4_len || p.l4_len < 8 ||
	    p.l4_len > 0xffff)
		return std::nullopt;
	if (p.proto == IPPROTO_UDP && p.family == 4 && be16(&p.l4[6]) == 0)
		return true;
	std::uint64_t acc = 0;
	const auto *src = reinterpret_cast<const std::byte *>(p.src.data());
	const auto *dst = reinterpret_cast<const std::byte *>(p.dst.data());
	if (p.family == 4) {
		acc = sum16(src + 12, 4, acc);
		acc = sum16(dst + 12, 4, acc);
	} else {
		acc = sum16(src, 16, acc);
		acc = sum16(dst, 16, acc);
	}
	acc += p.proto;
	acc += p.l4_len;
	acc = sum16(p.l4.data(), p.l4.size(), acc);
	return fold(acc) == 0xffff;
}

std::optional<packet_view> parse_packet(std::span<const std::byte> bytes)
{
	if (bytes.empty())
		return std::nullopt;
	switch (u8(&bytes[0]) >> 4) {
	case 4:
		return parse_ipv4(bytes);
	case 6:
		return parse_ipv6(bytes);
	default:
		return std::nullopt;
	}
}

} // namespace nfring
