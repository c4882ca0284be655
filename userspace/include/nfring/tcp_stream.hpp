// The first bytes of one direction of a TCP connection, put back in
// sequence order: what the L7 parsers read when a message spans segments.
//
// Bounded: at most `capacity` bytes from the stream's start (its first
// byte after the SYN) and at most `max_ranges` separate pieces while
// segments arrive out of order.  The buffer is lent by the caller (a pool),
// so feeding a segment never allocates.
//
// Policy for bytes seen twice (retransmissions, overlaps): they must agree.
// A segment that brings different bytes for a range already held makes the
// stream inconsistent: no receiver stack retransmits different data, so
// this is someone showing the inspector one thing and the server another
// (a fake with a short TTL, say).  The caller then decides the flow without
// trusting either copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace nfring
{

class tcp_stream
{
public:
	static constexpr std::size_t max_ranges_limit = 64;

	enum class fed : std::uint8_t {
		stored,    // new bytes (some may also have been known)
		duplicate, // every byte was already held, and they agree
		outside,   // before the start or past the window: ignored
		conflict, // differs from bytes held: the stream is inconsistent
		too_scattered, // would need more than max_ranges pieces
		no_buffer,     // bytes past the start, but no buffer lent
	};

	// The stream starts at seq (the SYN's sequence number plus one).
	void start(std::uint32_t seq, std::size_t max_ranges);
	bool started() const { return started_; }
	std::uint32_t base() const { return base_; }

	// Lends the buffer that holds the bytes; once lent, kept until reset.
	void lend(std::span<std::byte> buffer) { buf_ = buffer; }
	bool has_buffer() const { return !buf_.empty(); }
	std::span<std::byte> buffer() const { return buf_; }

	// Stores a segment's payload at its place.
	fed feed(std::uint32_t seq, std::span<const std::byte> payload);

	// The bytes from the start without a gap.
	std::span<const std::byte> contiguous() const
	{
		return {buf_.data(), contiguous_};
	}
	// Where seq falls in the stream (bytes from the start); meaningful
	// only within 2 GiB of the start.
	std::uint32_t offset_of(std::uint32_t seq) const { return seq - base_; }

	// The window is full without a gap: no more bytes will ever arrive.
	bool window_full() const
	{
		return !buf_.empty() && contiguous_ == buf_.size();
	}
	bool inconsistent() const { return inconsistent_; }
	std::size_t ranges() const { return nranges_; }

	void reset();

private:
	struct range {
		std::uint32_t lo, hi; // [lo, hi) in stream offsets
	};

	bool agrees(std::uint32_t lo, std::span<const std::byte> bytes) const;
	bool insert(std::uint32_t lo, std::uint32_t hi);

	std::span<std::byte> buf_;
	range ranges_[max_ranges_limit];
	std::size_t nranges_ = 0;
	std::size_t max_ranges_ = 0;
	std::size_t contiguous_ = 0;
	std::uint32_t base_ = 0;
	bool started_ = false;
	bool inconsistent_ = false;
};

} // namespace nfring
