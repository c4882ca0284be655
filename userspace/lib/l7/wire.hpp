// A bounds-checked reader of big-endian, length-prefixed structures, the
// shape of TLS and DNS (internal to the L7 parsers).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace nfring::l7::detail
{

// A view of one length-delimited structure.  `declared` is what the sender's
// length field claims; `avail` is the part of it that was captured.  Nested
// lengths are checked against `declared` (exceeding it means the message is
// malformed) and reads against `avail` (past it, the data is not here).
// A failed read or length check sticks, so a sequence of reads can be
// checked once at its end.
class reader
{
public:
	reader(std::span<const std::byte> bytes, std::size_t declared)
	    : avail_(bytes.first(std::min(bytes.size(), declared))),
	      declared_(declared)
	{
	}

	bool ok() const { return ok_; }
	bool at_end() const { return ok_ && pos_ == declared_; }
	std::size_t size() const { return declared_; }

	std::optional<std::span<const std::byte>> bytes(std::size_t n)
	{
		if (!ok_ || pos_ > avail_.size() || n > avail_.size() - pos_)
			return fail();
		auto out = avail_.subspan(pos_, n);
		pos_ += n;
		return out;
	}

	bool skip(std::size_t n) { return bytes(n).has_value(); }

	// Big-endian, as every length and type in TLS and DNS is.
	std::optional<std::uint32_t> number(std::size_t width)
	{
		auto b = bytes(width);
		if (!b)
			return std::nullopt;
		std::uint32_t v = 0;
		for (auto x : *b)
			v = v << 8 | std::to_integer<std::uint32_t>(x);
		return v;
	}

	// The next n declared bytes, which need not all have been captured.
	reader sub(std::size_t n)
	{
		if (!ok_ || n > declared_ - pos_) {
			fail();
			return none();
		}
		auto out = tail(n);
		pos_ += n;
		return out;
	}

	// A vector with a width-byte length prefix (RFC 8446 3.4).
	reader vec(std::size_t width)
	{
		auto n = number(width);
		return n ? sub(*n) : none();
	}

	// What follows, bounded by a length of its own rather than by ours.
	reader tail(std::size_t declared) const
	{
		if (!ok_)
			return none();
		auto start = std::min(pos_, avail_.size());
		return reader(avail_.subspan(start), declared);
	}

	static reader none()
	{
		reader r({}, 0);
		r.ok_ = false;
		return r;
	}

private:
	std::nullopt_t fail()
	{
		ok_ = false;
		return std::nullopt;
	}

	std::span<const std::byte> avail_;
	std::size_t declared_;
	std::size_t pos_ = 0;
	bool ok_ = true;
};

} // namespace nfring::l7::detail
