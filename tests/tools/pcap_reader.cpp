// pcap and pcapng reader; the formats are described in
// draft-ietf-opsawg-pcap and draft-ietf-opsawg-pcapng, the link types in
// draft-ietf-opsawg-pcaplinktype.
#include "pcap_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace test
{

namespace
{

constexpr std::uint32_t pcapng_shb = 0x0a0d0d0a;
constexpr std::uint32_t pcapng_idb = 1;
constexpr std::uint32_t pcapng_pb = 2; // obsolete Packet Block
constexpr std::uint32_t pcapng_spb = 3;
constexpr std::uint32_t pcapng_epb = 6;

std::uint16_t be16(std::span<const std::byte> b, std::size_t at)
{
	return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at])
	                                          << 8 |
	                                  std::to_integer<unsigned>(b[at + 1]));
}

std::uint32_t be32(std::span<const std::byte> b, std::size_t at)
{
	return std::uint32_t{be16(b, at)} << 16 | be16(b, at + 2);
}

std::uint32_t le32(std::span<const std::byte> b, std::size_t at)
{
	return std::to_integer<std::uint32_t>(b[at]) |
	       std::to_integer<std::uint32_t>(b[at + 1]) << 8 |
	       std::to_integer<std::uint32_t>(b[at + 2]) << 16 |
	       std::to_integer<std::uint32_t>(b[at + 3]) << 24;
}

bool starts_with(std::span<const std::byte> b, std::uint32_t magic)
{
	return b.size() >= 4 && be32(b, 0) == magic;
}

// rest starts at an IP header if its version nibble says so (want: 4, 6,
// or 0 for either).  Trailing link padding is cut off when the header's
// length field is there to say where the packet ends.
std::span<const std::byte> ip_at(std::span<const std::byte> rest, int want)
{
	if (rest.empty())
		return {};
	const int version = std::to_integer<int>(rest[0]) >> 4;
	if ((version != 4 && version != 6) || (want && version != want))
		return {};
	if (version == 4 && rest.size() >= 20) {
		const std::size_t total = be16(rest, 2);
		if (total >= 20 && total < rest.size())
			rest = rest.first(total);
	} else if (version == 6 && rest.size() >= 40) {
		// 0 is a jumbogram's (RFC 2675): its length is in an option.
		const std::size_t payload = be16(rest, 4);
		if (payload && 40 + payload < rest.size())
			rest = rest.first(40 + payload);
	}
	return rest;
}

std::span<const std::byte> ppp_payload(std::uint16_t protocol,
                                       std::span<const std::byte> rest)
{
	if (protocol == 0x0021)
		return ip_at(rest, 4);
	if (protocol == 0x0057)
		return ip_at(rest, 6);
	return {};
}

// What follows an EtherType: VLAN tags (802.1Q, 802.1ad and the older
// 0x9100 QinQ), a PPPoE session, then IPv4 or IPv6.  Each tag consumes
// four bytes, so the loop ends.
std::span<const std::byte> ether_payload(std::uint16_t type,
                                         std::span<const std::byte> rest)
{
	for (;;) {
		switch (type) {
		case 0x8100:
		case 0x88a8:
		case 0x9100:
			if (rest.size() < 4)
				return {};
			type = be16(rest, 2);
			rest = rest.subspan(4);
			continue;
		case 0x8864:
			// version/type, code, session id, length, PPP protocol
			if (rest.size() < 8)
				return {};
			return ppp_payload(be16(rest, 6), rest.subspan(8));
		case 0x0800:
			return ip_at(rest, 4);
		case 0x86dd:
			return ip_at(rest, 6);
		default:
			return {};
		}
	}
}

// The address family of BSD's null/loop header: AF_INET is 2 everywhere,
// AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30
// (macOS).
int null_family_version(std::uint32_t family)
{
	if (family == 2)
		return 4;
	if (family == 10 || family == 24 || family == 28 || family == 30)
		return 6;
	return 0;
}

} // namespace

std::span<const std::byte> ip_in_frame(std::uint16_t linktype,
                                       std::span<const std::byte> frame)
{
	switch (linktype) {
	case 0: {
		// The capturing host's byte order, which the file does not
		// record: whichever order names a known family.
		if (frame.size() < 4)
			return {};
		int version = null_family_version(le32(frame, 0));
		if (!version)
			version = null_family_version(be32(frame, 0));
		return version ? ip_at(frame.subspan(4), version)
		               : std::span<const std::byte>{};
	}
	case 108: {
		if (frame.size() < 4)
			return {};
		const int version = null_family_version(be32(frame, 0));
		return version ? ip_at(frame.subspan(4), version)
		               : std::span<const std::byte>{};
	}
	case 1:
		if (frame.size() < 14)
			return {};
		return ether_payload(be16(frame, 12), frame.subspan(14));
	case 9: {
		// HDLC-like framing: address 0xff and control 0x03 may be
		// there; the protocol field may be compressed to one (odd)
		// byte (RFC 1661 6.5).
		if (frame.size() >= 2 && frame[0] == std::byte{0xff} &&
		    frame[1] == std::byte{0x03})
			frame = frame.subspan(2);
		if (frame.empty())
			return {};
		if (std::to_integer<unsigned>(frame[0]) & 1)
			return ppp_payload(
			        std::to_integer<std::uint16_t>(frame[0]),
			        frame.subspan(1));
		if (frame.size() < 2)
			return {};
		return ppp_payload(be16(frame, 0), frame.subspan(2));
	}
	case 12:
	case 14:
	case 101:
		return ip_at(frame, 0);
	case 228:
		return ip_at(frame, 4);
	case 229:
		return ip_at(frame, 6);
	case 113:
		// packet type, ARPHRD type, address length, 8 address bytes,
		// protocol
		if (frame.size() < 16)
			return {};
		return ether_payload(be16(frame, 14), frame.subspan(16));
	case 276:
		// protocol, reserved, interface index, ARPHRD type, packet
		// type, address length, 8 address bytes
		if (frame.size() < 20)
			return {};
		return ether_payload(be16(frame, 0), frame.subspan(20));
	default:
		return {};
	}
}

pcap_reader::pcap_reader(const std::string &path) : name_(path)
{
	std::unique_ptr<std::FILE, int (*)(std::FILE *)> file(
	        std::fopen(path.c_str(), "rb"), std::fclose);
	if (!file)
		throw std::system_error(errno, std::generic_category(),
		                        "open " + path);
	std::byte chunk[1 << 16];
	std::size_t got;
	while ((got = std::fread(chunk, 1, sizeof(chunk), file.get())) > 0)
		bytes_.insert(bytes_.end(), chunk, chunk + got);
	if (std::ferror(file.get()))
		throw std::system_error(EIO, std::generic_category(),
		                        "read " + path);
	start();
}

pcap_reader::pcap_reader(std::vector<std::byte> bytes, std::string name)
    : bytes_(std::move(bytes)), name_(std::move(name))
{
	start();
}

void pcap_reader::start()
{
	const std::span<const std::byte> b(bytes_);
	if (starts_with(b, pcapng_shb)) {
		format_ = format::pcapng;
		if (!read_section_header())
			throw std::runtime_error(name_ + ": " + error_);
		return;
	}
	if (b.size() < 24)
		throw std::runtime_error(name_ + ": neither pcap nor pcapng");
	std::uint32_t units;
	switch (be32(b, 0)) {
	case 0xa1b2c3d4:
		big_endian_ = true;
		units = 1000000;
		break;
	case 0xd4c3b2a1:
		units = 1000000;
		break;
	case 0xa1b23c4d:
		big_endian_ = true;
		units = 1000000000;
		break;
	case 0x4d3cb2a1:
		units = 1000000000;
		break;
	default:
		throw std::runtime_error(name_ + ": neither pcap nor pcapng");
	}
	// The link type field's upper bits carry the FCS length.
	interfaces_.push_back(
	        {static_cast<std::uint16_t>(u32(b, 20) & 0xffff), units, 0});
	pos_ = 24;
}

std::uint16_t pcap_reader::u16(std::span<const std::byte> b,
                               std::size_t at) const
{
	const std::uint16_t v = be16(b, at);
	return big_endian_ ? v : static_cast<std::uint16_t>(v >> 8 | v << 8);
}

std::uint32_t pcap_reader::u32(std::span<const std::byte> b,
                               std::size_t at) const
{
	return big_endian_ ? be32(b, at) : le32(b, at);
}

void pcap_reader::fail(const std::string &what)
{
	error_ = name_ + ": " + what + " at offset " + std::to_string(pos_);
	done_ = true;
}

std::optional<pcap_frame> pcap_reader::next()
{
	if (done_)
		return std::nullopt;
	return format_ == format::pcap ? next_pcap() : next_pcapng();
}

std::optional<pcap_frame> pcap_reader::frame(const interface &ifc,
                                             std::uint64_t stamp,
                                             std::span<const std::byte> data,
                                             std::uint32_t orig_len)
{
	const std::span<const std::byte> ip = ip_in_frame(ifc.linktype, data);
	if (ip.empty()) {
		++skipped_;
		return std::nullopt;
	}
	// stamp counts units_per_second; the fraction is scaled in 128 bits
	// as a resolution finer than a nanosecond would overflow 64.
	const std::uint64_t units = ifc.units_per_second;
	const std::int64_t seconds =
	        static_cast<std::int64_t>(stamp / units) + ifc.offset_seconds;
	__extension__ using u128 = unsigned __int128;
	const auto fraction = static_cast<std::uint64_t>(u128{stamp % units} *
	                                                 1000000000u / units);
	const std::uint64_t ns =
	        seconds < 0
	                ? 0
	                : static_cast<std::uint64_t>(seconds) * 1000000000u +
	                          fraction;
	return pcap_frame{ns, ip, orig_len, ifc.linktype, number_};
}

std::optional<pcap_frame> pcap_reader::next_pcap()
{
	const std::span<const std::byte> b(bytes_);
	while (pos_ < b.size()) {
		if (b.size() - pos_ < 16) {
			fail("truncated record header");
			return std::nullopt;
		}
		const std::uint32_t seconds = u32(b, pos_);
		const std::uint32_t fraction = u32(b, pos_ + 4);
		const std::uint32_t caplen = u32(b, pos_ + 8);
		const std::uint32_t orig_len = u32(b, pos_ + 12);
		if (caplen > b.size() - pos_ - 16) {
			fail("record of " + std::to_string(caplen) +
			     " bytes past the end of the file");
			return std::nullopt;
		}
		const auto data = b.subspan(pos_ + 16, caplen);
		pos_ += 16 + std::size_t{caplen};
		++number_;
		const interface &ifc = interfaces_[0];
		const std::uint64_t stamp =
		        std::uint64_t{seconds} * ifc.units_per_second +
		        fraction;
		if (auto f = frame(ifc, stamp, data, orig_len))
			return f;
	}
	done_ = true;
	return std::nullopt;
}

// At pos_, a Section Header Block: its byte-order magic sets the order of
// everything up to the next one, and interface numbers start again.
bool pcap_reader::read_section_header()
{
	const std::span<const std::byte> b(bytes_);
	if (b.size() - pos_ < 28) {
		fail("truncated section header");
		return false;
	}
	switch (be32(b, pos_ + 8)) {
	case 0x1a2b3c4d:
		big_endian_ = true;
		break;
	case 0x4d3c2b1a:
		big_endian_ = false;
		break;
	default:
		fail("section header without byte-order magic");
		return false;
	}
	const std::uint32_t length = u32(b, pos_ + 4);
	if (length < 28 || length % 4 || length > b.size() - pos_ ||
	    u32(b, pos_ + length - 4) != length) {
		fail("bad section header length " + std::to_string(length));
		return false;
	}
	if (u16(b, pos_ + 12) != 1) {
		fail("pcapng major version " +
		     std::to_string(u16(b, pos_ + 12)));
		return false;
	}
	interfaces_.clear();
	pos_ += length;
	return true;
}

bool pcap_reader::read_interface(std::span<const std::byte> body)
{
	if (body.size() < 8) {
		fail("truncated interface description");
		return false;
	}
	interface ifc
	{
		u16(body, 0), 1000000, 0
	};
	// Options: code, length, value padded to 4 bytes; code 0 ends them.
	std::size_t at = 8;
	while (body.size() - at >= 4) {
		const std::uint16_t code = u16(body, at);
		const std::uint16_t length = u16(body, at + 2);
		if (code == 0)
			break;
		const std::size_t padded = (std::size_t{length} + 3) & ~3u;
		if (padded > body.size() - at - 4) {
			fail("interface option past its block");
			return false;
		}
		const auto value = body.subspan(at + 4, length);
		if (code == 9 && length >= 1) {
			// if_tsresol: 10^-v, or 2^-v with the top bit set
			const unsigned v = std::to_integer<unsigned>(value[0]);
			const unsigned exponent = v & 0x7f;
			if ((v & 0x80) ? exponent > 63 : exponent > 19) {
				fail("interface resolution " +
				     std::to_string(v));
				return false;
			}
			std::uint64_t units = 1;
			for (unsigned i = 0; i < exponent; i++)
				units *= (v & 0x80) ? 2 : 10;
			ifc.units_per_second = units;
		} else if (code == 14 && length == 8) {
			// if_tsoffset: seconds to add to every stamp
			const std::uint64_t hi =
			        u32(value, big_endian_ ? 0 : 4);
			const std::uint64_t lo =
			        u32(value, big_endian_ ? 4 : 0);
			ifc.offset_seconds =
			        static_cast<std::int64_t>(hi << 32 | lo);
		}
		at += 4 + padded;
	}
	interfaces_.push_back(ifc);
	return true;
}

std::optional<pcap_frame> pcap_reader::next_pcapng()
{
	const std::span<const std::byte> b(bytes_);
	while (pos_ < b.size()) {
		if (b.size() - pos_ < 12) {
			fail("truncated block header");
			return std::nullopt;
		}
		if (starts_with(b.subspan(pos_), pcapng_shb)) {
			if (!read_section_header())
				return std::nullopt;
			continue;
		}
		const std::uint32_t type = u32(b, pos_);
		const std::uint32_t length = u32(b, pos_ + 4);
		if (length < 12 || length % 4 || length > b.size() - pos_ ||
		    u32(b, pos_ + length - 4) != length) {
			fail("bad block length " + std::to_string(length));
			return std::nullopt;
		}
		const auto body = b.subspan(pos_ + 8, length - 12);
		const std::size_t block = pos_;
		pos_ += length;

		std::uint32_t ifc_id = 0;
		std::uint64_t stamp = 0;
		std::uint32_t caplen, orig_len;
		std::size_t header;
		switch (type) {
		case pcapng_idb:
			if (!read_interface(body))
				return std::nullopt;
			continue;
		case pcapng_epb:
		case pcapng_pb:
			header = 20;
			if (body.size() < header) {
				pos_ = block;
				fail("truncated packet block");
				return std::nullopt;
			}
			ifc_id = type == pcapng_epb ? u32(body, 0)
			                            : u16(body, 0);
			stamp = std::uint64_t{u32(body, 4)} << 32 |
			        u32(body, 8);
			caplen = u32(body, 12);
			orig_len = u32(body, 16);
			break;
		case pcapng_spb:
			// No captured length: the block holds what was kept.
			header = 4;
			if (body.size() < header) {
				pos_ = block;
				fail("truncated simple packet block");
				return std::nullopt;
			}
			orig_len = u32(body, 0);
			caplen = static_cast<std::uint32_t>(
			        std::min<std::size_t>(orig_len,
			                              body.size() - 4));
			break;
		default:
			continue;
		}
		if (caplen > body.size() - header) {
			pos_ = block;
			fail("packet of " + std::to_string(caplen) +
			     " bytes past its block");
			return std::nullopt;
		}
		if (ifc_id >= interfaces_.size()) {
			pos_ = block;
			fail("packet on undescribed interface " +
			     std::to_string(ifc_id));
			return std::nullopt;
		}
		++number_;
		if (auto f = frame(interfaces_[ifc_id], stamp,
		                   body.subspan(header, caplen), orig_len)) {
			if (type == pcapng_spb)
				f->timestamp_ns = 0;
			return f;
		}
	}
	done_ = true;
	return std::nullopt;
}

} // namespace test
