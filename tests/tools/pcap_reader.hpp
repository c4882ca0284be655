// Reads pcap and pcapng capture files for the test tools and yields each
// frame's IP packet, as netfilter would hand it to nfring.
//
// Formats: pcap in either byte order with micro- or nanosecond stamps;
// pcapng with any number of sections (each with its own byte order) and
// interfaces (each with its own link type, if_tsresol and if_tsoffset),
// reading Enhanced, Simple and obsolete Packet Blocks and skipping the
// rest.  Link types: Ethernet (1; 802.1Q, 802.1ad and 0x9100 tags, PPPoE
// sessions), raw IP (101, and 12 and 14 as some BSDs number it; 228 and
// 229), Linux cooked SLL (113) and SLL2 (276), BSD null (0, the address
// family in either byte order) and loop (108), and PPP (9).
//
// Capture files are untrusted: every length is checked against the bytes
// that are there.  A file that is not pcap or pcapng is refused when it is
// opened; a damaged block later on ends the frames early, and error() then
// says what and where.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace test
{

struct pcap_frame {
	// Since the epoch.  0 for a pcapng Simple Packet Block (it has none).
	std::uint64_t timestamp_ns;
	// From the IPv4 or IPv6 header to the end of the IP packet: padding
	// after it (short Ethernet frames) is cut off.  Shorter than the
	// packet when the capture's snap length cut it (see orig_len).  Points
	// into the reader, valid until it is destroyed.
	std::span<const std::byte> ip_packet;
	// The frame's length on the wire, link header included.
	std::uint32_t orig_len;
	std::uint16_t linktype;
	// 1 for the file's first frame (IP or not), as Wireshark counts them.
	std::uint64_t number;
};

class pcap_reader
{
public:
	// Reads the whole file.  Throws std::system_error when it cannot be
	// read and std::runtime_error when it is neither pcap nor pcapng.
	explicit pcap_reader(const std::string &path);
	// The same, from a file's bytes (the name only appears in messages).
	explicit pcap_reader(std::vector<std::byte> bytes,
	                     std::string name = "<memory>");

	// The next frame carrying IPv4 or IPv6, or nothing at the end of the
	// file or at the first damaged block (then error() is not empty).
	std::optional<pcap_frame> next();

	// Why the frames ended early; empty after a clean end.
	const std::string &error() const { return error_; }
	// Frames passed over: not IP, or a link type this reader lacks.
	std::uint64_t skipped() const { return skipped_; }

private:
	struct interface {
		std::uint16_t linktype;
		std::uint64_t units_per_second;
		std::int64_t offset_seconds;
	};
	enum class format { pcap, pcapng };

	void start();
	std::optional<pcap_frame> next_pcap();
	std::optional<pcap_frame> next_pcapng();
	bool read_section_header();
	bool read_interface(std::span<const std::byte> body);
	std::optional<pcap_frame> frame(const interface &ifc,
	                                std::uint64_t stamp,
	                                std::span<const std::byte> data,
	                                std::uint32_t orig_len);
	std::uint16_t u16(std::span<const std::byte> b, std::size_t at) const;
	std::uint32_t u32(std::span<const std::byte> b, std::size_t at) const;
	void fail(const std::string &what);

	std::vector<std::byte> bytes_;
	std::string name_;
	format format_ = format::pcap;
	bool big_endian_ = false;
	std::size_t pos_ = 0;
	std::vector<interface> interfaces_;
	std::uint64_t number_ = 0;
	std::uint64_t skipped_ = 0;
	std::string error_;
	bool done_ = false;
};

// The IP packet inside a frame of the given link type, or an empty span
// when there is none (not IP, too short, or an unknown link type).
std::span<const std::byte> ip_in_frame(std::uint16_t linktype,
                                       std::span<const std::byte> frame);

} // namespace test
