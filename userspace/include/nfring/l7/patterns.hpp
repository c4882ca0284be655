// Every `content` and `regex` match of a ruleset in one Hyperscan database,
// so that a payload is scanned once for all of them, however many rules
// there are.
//
// Two databases are compiled from the same patterns: a block one for a
// packet's own payload, and a stream one that runs across a TCP client's
// reassembled bytes as they become contiguous (inspector.hpp), so that a
// pattern split across segments is found.  A pattern's id is its index in
// the list it was compiled from; a scan reports which ids occurred.
//
// Hyperscan needs SSSE3; where the CPU lacks it, Vectorscan (Debian's
// libvectorscan5, the same API) takes its place.  pattern_set refuses to
// build on a CPU that the library in use cannot run on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

struct hs_database;
struct hs_scratch;
struct hs_stream;

namespace nfring::l7
{

struct pattern_spec {
	std::string text; // the bytes of a literal, or a regex
	bool literal = true;
	bool nocase = false;
};

// A pattern Hyperscan refused; index is its place in the list, or -1 when
// the whole set failed (no CPU support, out of memory).
class pattern_error : public std::runtime_error
{
public:
	pattern_error(const std::string &what, int index)
	    : std::runtime_error(what), index(index)
	{
	}
	int index;
};

// Which pattern ids occurred.
class pattern_hits
{
public:
	void resize(std::size_t n) { words_.assign((n + 63) / 64, 0); }
	void clear() { std::fill(words_.begin(), words_.end(), 0); }
	void set(std::uint32_t id) { words_[id / 64] |= 1ull << (id % 64); }
	bool test(std::uint32_t id) const
	{
		return id / 64 < words_.size() &&
		       (words_[id / 64] >> (id % 64)) & 1;
	}
	std::size_t count() const;
	bool any() const
	{
		for (std::uint64_t w : words_)
			if (w)
				return true;
		return false;
	}

private:
	std::vector<std::uint64_t> words_;
};

class pattern_set
{
public:
	// Throws pattern_error.
	explicit pattern_set(const std::vector<pattern_spec> &patterns);
	~pattern_set();
	pattern_set(const pattern_set &) = delete;
	pattern_set &operator=(const pattern_set &) = delete;

	std::size_t size() const { return size_; }
	hs_database *block_db() const { return block_; }
	hs_database *stream_db() const { return stream_; }
	// Bytes of one stream's state (per followed flow).
	std::size_t stream_state_bytes() const { return stream_bytes_; }

private:
	std::size_t size_ = 0;
	hs_database *block_ = nullptr;
	hs_database *stream_ = nullptr;
	std::size_t stream_bytes_ = 0;
};

// One thread's scanning: its Hyperscan scratch, and the hits of the packet
// at hand.  Not shared between threads.
class pattern_scanner
{
public:
	explicit pattern_scanner(std::shared_ptr<const pattern_set> set);
	~pattern_scanner();
	pattern_scanner(const pattern_scanner &) = delete;
	pattern_scanner &operator=(const pattern_scanner &) = delete;

	const pattern_set &set() const { return *set_; }

	// The packet about to be judged: its own payload, scanned only if
	// a rule asks (has), and/or the hits of the stream it belongs to.
	void begin_packet(std::span<const std::byte> payload, bool scan_payload,
	                  const pattern_hits *stream)
	{
		payload_ = payload;
		scan_payload_ = scan_payload;
		stream_ = stream;
		scanned_ = false;
	}
	bool has(std::uint32_t id)
	{
		if (stream_ && stream_->test(id))
			return true;
		return scan_payload_ && packet_hits().test(id);
	}
	// Did any pattern occur?  Usually not: then the rules skip every
	// pattern rule at once.
	bool any()
	{
		if (stream_ && stream_->any())
			return true;
		return scan_payload_ && packet_hits().any();
	}

	// One pass of the block database over bytes.
	void scan_block(std::span<const std::byte> bytes, pattern_hits &hits);

	// Streams: one per followed flow, kept and reset when the flow's
	// slot is reused, so that a new flow does not allocate.
	hs_stream *open_stream();
	void reset_stream(hs_stream *s);
	void close_stream(hs_stream *s);
	void scan_stream(hs_stream *s, std::span<const std::byte> bytes,
	                 pattern_hits &hits);

	std::uint64_t scans() const { return scans_; }
	std::uint64_t bytes_scanned() const { return bytes_; }

private:
	const pattern_hits &packet_hits()
	{
		if (!scanned_)
			scan_block(payload_, packet_hits_);
		scanned_ = true;
		return packet_hits_;
	}

	std::shared_ptr<const pattern_set> set_;
	hs_scratch *scratch_ = nullptr;
	pattern_hits packet_hits_;
	std::span<const std::byte> payload_;
	const pattern_hits *stream_ = nullptr;
	bool scan_payload_ = false, scanned_ = false;
	std::uint64_t scans_ = 0, bytes_ = 0;
};

} // namespace nfring::l7
