// tcp_stream: bytes put back in sequence order, bounded, and contradicted
// retransmissions noticed.
#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "nfring/tcp_stream.hpp"

namespace
{

using nfring::tcp_stream;
using fed = tcp_stream::fed;

std::span<const std::byte> b(std::string_view s)
{
	return {reinterpret_cast<const std::byte *>(s.data()), s.size()};
}

std::string text(std::span<const std::byte> s)
{
	return {reinterpret_cast<const char *>(s.data()), s.size()};
}

struct stream_with_buffer {
	explicit stream_with_buffer(std::size_t cap, std::uint32_t base,
	                            std::size_t ranges = 8)
	    : buf(cap)
	{
		s.start(base, ranges);
		s.lend(buf);
	}
	std::vector<std::byte> buf;
	tcp_stream s;
};

TEST(TcpStream, InOrderSegmentsJoin)
{
	stream_with_buffer t(64, 1000);
	EXPECT_EQ(t.s.feed(1000, b("hello ")), fed::stored);
	EXPECT_EQ(t.s.feed(1006, b("world")), fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), "hello world");
	EXPECT_EQ(t.s.ranges(), 1u);
}

TEST(TcpStream, OutOfOrderFillsTheGap)
{
	stream_with_buffer t(64, 1000);
	EXPECT_EQ(t.s.feed(1006, b("world")), fed::stored);
	EXPECT_EQ(t.s.contiguous().size(), 0u);
	EXPECT_EQ(t.s.feed(1000, b("hello ")), fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), "hello world");
}

TEST(TcpStream, SequenceNumbersWrapAround)
{
	stream_with_buffer t(64, 0xfffffffc);
	EXPECT_EQ(t.s.feed(0xfffffffc, b("abcd")), fed::stored);
	EXPECT_EQ(t.s.feed(0, b("efgh")), fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), "abcdefgh");
}

TEST(TcpStream, AgreeingRetransmissionIsADuplicate)
{
	stream_with_buffer t(64, 1);
	t.s.feed(1, b("abcdef"));
	EXPECT_EQ(t.s.feed(3, b("cde")), fed::duplicate);
	// Overlapping and extending: agreeing bytes plus new ones.
	EXPECT_EQ(t.s.feed(5, b("efgh")), fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), "abcdefgh");
	EXPECT_FALSE(t.s.inconsistent());
}

TEST(TcpStream, DisagreeingOverlapMakesItInconsistent)
{
	stream_with_buffer t(64, 1);
	t.s.feed(1, b("abcdef"));
	EXPECT_EQ(t.s.feed(4, b("Xef")), fed::conflict);
	EXPECT_TRUE(t.s.inconsistent());
	EXPECT_EQ(text(t.s.contiguous()), "abcdef") << "first copy kept";
}

TEST(TcpStream, OverlapWithAPieceAfterAGap)
{
	stream_with_buffer t(64, 1);
	t.s.feed(11, b("klm"));
	EXPECT_EQ(t.s.feed(9, b("ijXlm")), fed::conflict);
}

TEST(TcpStream, BytesBeforeTheStartAreCut)
{
	stream_with_buffer t(64, 100);
	EXPECT_EQ(t.s.feed(90, b("0123456789")), fed::outside);
	EXPECT_EQ(t.s.feed(95, b("56789abc")), fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), "abc");
}

TEST(TcpStream, BytesPastTheWindowAreCutAndItFills)
{
	stream_with_buffer t(8, 0);
	EXPECT_EQ(t.s.feed(8, b("x")), fed::outside);
	EXPECT_EQ(t.s.feed(0, b("0123456789")), fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), "01234567");
	EXPECT_TRUE(t.s.window_full());
}

TEST(TcpStream, TooManyPiecesAreRefused)
{
	stream_with_buffer t(64, 0, 3);
	EXPECT_EQ(t.s.feed(2, b("a")), fed::stored);
	EXPECT_EQ(t.s.feed(4, b("b")), fed::stored);
	EXPECT_EQ(t.s.feed(6, b("c")), fed::stored);
	EXPECT_EQ(t.s.feed(8, b("d")), fed::too_scattered);
	// Joining pieces is always possible.
	EXPECT_EQ(t.s.feed(3, b("x")), fed::stored);
	EXPECT_EQ(t.s.ranges(), 2u);
	EXPECT_EQ(t.s.feed(0, b("01")), fed::stored);
	EXPECT_EQ(t.s.feed(5, b("y")), fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), "01axbyc");
}

TEST(TcpStream, OneByteSegmentsInReverse)
{
	const std::string msg = "a message sent one byte at a time";
	stream_with_buffer t(64, 5, 64);
	for (std::size_t i = msg.size(); i-- > 0;)
		EXPECT_EQ(t.s.feed(5 + static_cast<std::uint32_t>(i),
		                   b(std::string_view(msg).substr(i, 1))),
		          fed::stored);
	EXPECT_EQ(text(t.s.contiguous()), msg);
	EXPECT_EQ(t.s.ranges(), 1u);
}

TEST(TcpStream, WithoutABufferNothingIsStored)
{
	tcp_stream s;
	s.start(1, 4);
	EXPECT_EQ(s.feed(1, b("x")), fed::no_buffer);
	tcp_stream not_started;
	EXPECT_EQ(not_started.feed(1, b("x")), fed::outside);
}

} // namespace
