#include "nfring/tcp_stream.hpp"

#include <algorithm>
#include <cstring>

namespace nfring
{

void tcp_stream::start(std::uint32_t seq, std::size_t max_ranges)
{
	reset();
	base_ = seq;
	max_ranges_ = std::clamp<std::size_t>(max_ranges, 1, max_ranges_limit);
	started_ = true;
}

void tcp_stream::reset()
{
	buf_ = {};
	nranges_ = 0;
	contiguous_ = 0;
	base_ = 0;
	started_ = false;
	inconsistent_ = false;
}

bool tcp_stream::agrees(std::uint32_t lo, std::span<const std::byte> b) const
{
	const std::uint32_t hi = lo + static_cast<std::uint32_t>(b.size());
	for (std::size_t i = 0; i < nranges_; i++) {
		const std::uint32_t a = std::max(lo, ranges_[i].lo);
		const std::uint32_t z = std::min(hi, ranges_[i].hi);
		if (a < z && std::memcmp(buf_.data() + a, b.data() + (a - lo),
		                         z - a) != 0)
			return false;
	}
	return true;
}

// Adds [lo, hi) to the sorted, disjoint, non-adjacent ranges.  false when
// that would take more pieces than allowed (nothing is changed then).
bool tcp_stream::insert(std::uint32_t lo, std::uint32_t hi)
{
	// First range that ends at or after lo (it may touch or overlap).
	std::size_t i = 0;
	while (i < nranges_ && ranges_[i].hi < lo)
		i++;
	// Ranges [i, j) touch or overlap [lo, hi) and merge with it.
	std::size_t j = i;
	while (j < nranges_ && ranges_[j].lo <= hi) {
		lo = std::min(lo, ranges_[j].lo);
		hi = std::max(hi, ranges_[j].hi);
		j++;
	}
	const std::size_t after = nranges_ - (j - i) + 1;
	if (after > max_ranges_)
		return false;
	// Replace [i, j) by one range.
	if (j - i != 1)
		std::memmove(&ranges_[i + 1], &ranges_[j],
		             (nranges_ - j) * sizeof(range));
	ranges_[i] = {lo, hi};
	nranges_ = after;
	return true;
}

tcp_stream::fed tcp_stream::feed(std::uint32_t seq,
                                 std::span<const std::byte> payload)
{
	if (!started_ || payload.empty())
		return fed::outside;
	std::uint32_t off = seq - base_;
	if (off >= 0x80000000u) {
		// Starts before the stream: only its tail can be ours.
		const std::uint32_t early = base_ - seq;
		if (early >= payload.size())
			return fed::outside;
		payload = payload.subspan(early);
		off = 0;
	}
	if (buf_.empty())
		return fed::no_buffer;
	if (off >= buf_.size())
		return fed::outside;
	payload = payload.first(std::min(payload.size(), buf_.size() - off));
	const std::uint32_t lo = off;
	const std::uint32_t hi =
	        off + static_cast<std::uint32_t>(payload.size());
	if (!agrees(lo, payload)) {
		inconsistent_ = true;
		return fed::conflict;
	}
	for (std::size_t i = 0; i < nranges_; i++)
		if (ranges_[i].lo <= lo && hi <= ranges_[i].hi)
			return fed::duplicate;
	if (!insert(lo, hi))
		return fed::too_scattered;
	std::memcpy(buf_.data() + lo, payload.data(), payload.size());
	contiguous_ = nranges_ && ranges_[0].lo == 0 ? ranges_[0].hi : 0;
	return fed::stored;
}

} // namespace nfring
