// The capture reader of the test tools, on files synthesized here: pcap in
// both byte orders and both stamp resolutions, pcapng with two sections and
// interfaces of different link types, and files that lie about lengths.
#include <cstddef>
#include <cstdint>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "pcap_reader.hpp"

namespace
{

using bytes = std::vector<std::byte>;
using test::pcap_reader;

// Appends integers in the file's byte order.
class writer
{
public:
	explicit writer(bool big_endian) : big_(big_endian) {}

	writer &u8(unsigned v)
	{
		out.push_back(static_cast<std::byte>(v & 0xff));
		return *this;
	}
	writer &u16(unsigned v)
	{
		return big_ ? u8(v >> 8).u8(v) : u8(v).u8(v >> 8);
	}
	writer &u32(std::uint32_t v)
	{
		return big_ ? u16(v >> 16).u16(v) : u16(v).u16(v >> 16);
	}
	writer &raw(const bytes &b)
	{
		out.insert(out.end(), b.begin(), b.end());
		return *this;
	}
	writer &pad4()
	{
		while (out.size() % 4)
			u8(0);
		return *this;
	}

	bytes out;

private:
	bool big_;
};

// Network-order bytes: link headers and IP are big-endian in any file.
bytes be(std::initializer_list<unsigned> v)
{
	bytes out;
	for (unsigned b : v)
		out.push_back(static_cast<std::byte>(b));
	return out;
}

bytes cat(bytes a, const bytes &b)
{
	a.insert(a.end(), b.begin(), b.end());
	return a;
}

// A 28-byte IPv4/UDP packet whose last address byte tells packets apart.
bytes ipv4_udp(unsigned tag)
{
	return be({0x45, 0, 0,  28, 0, 0,   0,    0,    64, 17, 0, 0, 10, 0,
	           0,    1, 10, 0,  0, tag, 0x30, 0x39, 0,  53, 0, 8, 0,  0});
}

// A 48-byte IPv6/UDP packet, tagged likewise.
bytes ipv6_udp(unsigned tag)
{
	bytes b = be({0x60, 0, 0, 0, 0, 8, 17, 64});
	bytes src(16, std::byte{0});
	src[0] = std::byte{0xfd};
	src[15] = std::byte{1};
	bytes dst = src;
	dst[15] = static_cast<std::byte>(tag);
	return cat(cat(cat(b, src), dst), be({0x30, 0x39, 0, 53, 0, 8, 0, 0}));
}

bytes ethernet(std::initializer_list<unsigned> types_and_tags,
               const bytes &payload)
{
	bytes b = be({2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
	return cat(cat(b, be(types_and_tags)), payload);
}

bytes pcap_file(bool big_endian, bool nanoseconds, unsigned linktype,
                const std::vector<bytes> &frames)
{
	writer w(big_endian);
	w.u32(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4);
	w.u32(0).u32(0).u32(65535).u32(linktype);
	std::uint32_t second = 1700000000;
	for (const bytes &f : frames) {
		w.u32(second++).u32(nanoseconds ? 123456789 : 123456);
		w.u32(static_cast<std::uint32_t>(f.size()));
		w.u32(static_cast<std::uint32_t>(f.size()));
		w.raw(f);
	}
	return w.out;
}

// pcapng blocks; each writer is one section's byte order.
void block(writer &w, std::uint32_t type, const bytes &body)
{
	bytes padded = body;
	while (padded.size() % 4)
		padded.push_back(std::byte{0});
	const auto length = static_cast<std::uint32_t>(padded.size() + 12);
	w.u32(type).u32(length).raw(padded).u32(length);
}

void section_header(writer &w, bool big_endian)
{
	writer body(big_endian);
	body.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
	block(w, 0x0a0d0d0a, body.out);
}

void interface(writer &w, bool big_endian, unsigned linktype, int tsresol)
{
	writer body(big_endian);
	body.u16(linktype).u16(0).u32(0);
	if (tsresol >= 0)
		body.u16(9).u16(1).u8(static_cast<unsigned>(tsresol)).pad4();
	body.u16(0).u16(0);
	block(w, 1, body.out);
}

void enhanced_packet(writer &w, bool big_endian, unsigned ifc,
                     std::uint64_t stamp, const bytes &frame)
{
	writer body(big_endian);
	body.u32(ifc).u32(static_cast<std::uint32_t>(stamp >> 32));
	body.u32(static_cast<std::uint32_t>(stamp));
	body.u32(static_cast<std::uint32_t>(frame.size()));
	body.u32(static_cast<std::uint32_t>(frame.size())).raw(frame);
	block(w, 6, body.out);
}

unsigned tag_of(const test::pcap_frame &f)
{
	const std::size_t last = f.ip_packet[0] == std::byte{0x45} ? 19 : 39;
	return std::to_integer<unsigned>(f.ip_packet[last]);
}

TEST(pcap_reader, big_endian_nanosecond_pcap_with_stacked_vlan_tags)
{
	const bytes frame =
	        ethernet({0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00},
	                 ipv4_udp(7));
	pcap_reader r(pcap_file(true, true, 1, {frame}));
	auto f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(f->ip_packet.size(), 28u);
	EXPECT_EQ(tag_of(*f), 7u);
	EXPECT_EQ(f->timestamp_ns, 1700000000123456789u);
	EXPECT_EQ(f->linktype, 1u);
	EXPECT_EQ(f->number, 1u);
	EXPECT_FALSE(r.next());
	EXPECT_EQ(r.error(), "");
}

TEST(pcap_reader, ethernet_padding_is_cut_and_non_ip_frames_skipped)
{
	const bytes arp = ethernet({0x08, 0x06}, bytes(28, std::byte{0}));
	bytes padded = ethernet({0x08, 0x00}, ipv4_udp(3));
	padded.resize(60); // the shortest Ethernet frame, FCS left out
	pcap_reader r(pcap_file(false, false, 1, {arp, padded}));
	auto f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(f->ip_packet.size(), 28u);
	EXPECT_EQ(f->number, 2u);
	EXPECT_EQ(f->timestamp_ns, 1700000001123456000u);
	EXPECT_FALSE(r.next());
	EXPECT_EQ(r.skipped(), 1u);
}

TEST(pcap_reader, linux_cooked_v2_and_v1)
{
	bytes sll2 = cat(be({0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1,
	                     0,    6,    2, 0, 0, 0, 0, 1, 0, 0}),
	                 ipv6_udp(9));
	pcap_reader r2(pcap_file(false, false, 276, {sll2}));
	auto f = r2.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(f->ip_packet.size(), 48u);
	EXPECT_EQ(tag_of(*f), 9u);

	bytes sll =
	        cat(be({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}),
	            ipv4_udp(4));
	pcap_reader r1(pcap_file(true, false, 113, {sll}));
	f = r1.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 4u);
}

TEST(pcap_reader, null_link_family_in_either_byte_order)
{
	// AF_INET6 as macOS (30) writes it, little-endian; AF_INET big-endian.
	bytes v6 = cat(be({30, 0, 0, 0}), ipv6_udp(1));
	bytes v4 = cat(be({0, 0, 0, 2}), ipv4_udp(2));
	bytes other = cat(be({0, 0, 0, 99}), ipv4_udp(3));
	pcap_reader r(pcap_file(false, false, 0, {v6, other, v4}));
	auto f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 1u);
	f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 2u);
	EXPECT_EQ(r.skipped(), 1u);
}

TEST(pcap_reader, raw_ip_link_types)
{
	for (unsigned linktype : {12u, 14u, 101u}) {
		pcap_reader r(pcap_file(false, false, linktype,
		                        {ipv6_udp(5), ipv4_udp(6)}));
		auto f = r.next();
		ASSERT_TRUE(f) << linktype;
		EXPECT_EQ(tag_of(*f), 5u);
		f = r.next();
		ASSERT_TRUE(f) << linktype;
		EXPECT_EQ(tag_of(*f), 6u);
	}
	// 228 is IPv4 only: an IPv6 packet there is not IP.
	pcap_reader r(pcap_file(false, false, 228, {ipv6_udp(5), ipv4_udp(6)}));
	auto f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 6u);
	EXPECT_EQ(r.skipped(), 1u);
}

// Two sections in opposite byte orders; the first has an Ethernet
// interface and a cooked one with nanosecond stamps, the second a raw IP
// interface numbered 0 again.  Blocks of unknown types are passed over.
bytes two_section_pcapng()
{
	writer le(false);
	section_header(le, false);
	interface(le, false, 1, -1);
	interface(le, false, 113, 9);
	block(le, 0x0bad, be({1, 2, 3, 4}));
	enhanced_packet(
	        le, false, 1, 1700000000123456789u,
	        cat(be({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd}),
	            ipv6_udp(1)));
	enhanced_packet(le, false, 0, 1700000000123456u,
	                ethernet({0x08, 0x00}, ipv4_udp(2)));
	// A Simple Packet Block: interface 0, no stamp.
	writer spb(false);
	const bytes frame = ethernet({0x08, 0x00}, ipv4_udp(3));
	spb.u32(static_cast<std::uint32_t>(frame.size())).raw(frame);
	block(le, 3, spb.out);

	writer bige(true);
	section_header(bige, true);
	interface(bige, true, 101, 0x80 | 20); // 2^-20 s
	enhanced_packet(bige, true, 0, (std::uint64_t{1700000000} << 20) + 1,
	                ipv4_udp(4));
	return cat(le.out, bige.out);
}

TEST(pcap_reader, pcapng_sections_interfaces_and_packet_blocks)
{
	pcap_reader r(two_section_pcapng());
	auto f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 1u);
	EXPECT_EQ(f->linktype, 113u);
	EXPECT_EQ(f->timestamp_ns, 1700000000123456789u);

	f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 2u);
	EXPECT_EQ(f->linktype, 1u);
	EXPECT_EQ(f->timestamp_ns, 1700000000123456000u);

	f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 3u);
	EXPECT_EQ(f->timestamp_ns, 0u);

	f = r.next();
	ASSERT_TRUE(f);
	EXPECT_EQ(tag_of(*f), 4u);
	EXPECT_EQ(f->linktype, 101u);
	EXPECT_EQ(f->number, 4u);
	// 1/2^20 s is 953.67 ns.
	EXPECT_EQ(f->timestamp_ns, 1700000000000000953u);
	EXPECT_FALSE(r.next());
	EXPECT_EQ(r.error(), "");
}

TEST(pcap_reader, every_truncation_ends_cleanly_or_with_an_error)
{
	// Each prefix either is refused as a file or yields at most the
	// frames the whole file has; a sanitizer build checks the reads.
	for (const bytes &whole :
	     {two_section_pcapng(),
	      pcap_file(false, true, 1,
	                {ethernet({0x08, 0x00}, ipv4_udp(1)),
	                 ethernet({0x08, 0x00}, ipv4_udp(2))})}) {
		for (std::size_t n = 0; n < whole.size(); n++) {
			bytes prefix(whole.begin(),
			             whole.begin() + static_cast<long>(n));
			try {
				pcap_reader r(std::move(prefix));
				int frames = 0;
				while (r.next())
					frames++;
				EXPECT_LE(frames, 4);
			} catch (const std::runtime_error &) {
				EXPECT_LT(n, 48u) << "refused a file at " << n;
			}
		}
	}
}

TEST(pcap_reader, record_longer_than_the_file_is_an_error)
{
	bytes file = pcap_file(false, false, 101, {ipv4_udp(1), ipv4_udp(2)});
	file.resize(file.size() - 1);
	pcap_reader r(std::move(file));
	EXPECT_TRUE(r.next());
	EXPECT_FALSE(r.next());
	EXPECT_NE(r.error().find("past the end"), std::string::npos)
	        << r.error();
}

TEST(pcap_reader, packet_on_undescribed_interface_is_an_error)
{
	writer w(false);
	section_header(w, false);
	interface(w, false, 101, -1);
	enhanced_packet(w, false, 1, 0, ipv4_udp(1));
	pcap_reader r(w.out);
	EXPECT_FALSE(r.next());
	EXPECT_NE(r.error().find("undescribed interface 1"), std::string::npos)
	        << r.error();
}

TEST(pcap_reader, block_length_that_disagrees_with_its_trailer_is_an_error)
{
	writer w(false);
	section_header(w, false);
	interface(w, false, 101, -1);
	enhanced_packet(w, false, 0, 0, ipv4_udp(1));
	w.out[w.out.size() - 4] = std::byte{0xff};
	pcap_reader r(w.out);
	EXPECT_FALSE(r.next());
	EXPECT_NE(r.error().find("bad block length"), std::string::npos)
	        << r.error();
}

TEST(pcap_reader, refuses_what_is_not_a_capture)
{
	EXPECT_THROW(
	        {
		        pcap_reader r(be({'h', 'e', 'l', 'l', 'o'}));
	        },
	        std::runtime_error);
	EXPECT_THROW({ pcap_reader r(bytes(64, std::byte{0})); },
	             std::runtime_error);
	EXPECT_THROW({ pcap_reader r(std::string("/nonexistent/x.pcap")); },
	             std::system_error);
}

} // namespace
