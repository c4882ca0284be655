#include "nfring/l7/patterns.hpp"

#include <bit>
#include <hs.h>

namespace nfring::l7
{

namespace
{

// A literal becomes a regex of escaped bytes, so that literals and regexes
// share one database (Hyperscan's literal API compiles literals alone).
std::string escape_literal(const std::string &bytes)
{
	static const char hex[] = "0123456789abcdef";
	std::string re;
	re.reserve(bytes.size() * 4);
	for (unsigned char c : bytes) {
		re += "\\x";
		re += hex[c >> 4];
		re += hex[c & 15];
	}
	return re;
}

int on_match(unsigned id, unsigned long long, unsigned long long, unsigned,
             void *ctx)
{
	static_cast<pattern_hits *>(ctx)->set(id);
	return 0; // go on: other patterns may match further on
}

int ignore_match(unsigned, unsigned long long, unsigned long long, unsigned,
                 void *)
{
	return 0;
}

hs_database_t *compile(const std::vector<std::string> &exprs,
                       const std::vector<unsigned> &flags, unsigned mode)
{
	std::vector<const char *> ptrs;
	std::vector<unsigned> ids;
	for (std::size_t i = 0; i < exprs.size(); i++) {
		ptrs.push_back(exprs[i].c_str());
		ids.push_back(static_cast<unsigned>(i));
	}
	hs_database_t *db = nullptr;
	hs_compile_error_t *err = nullptr;
	if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(),
	                     static_cast<unsigned>(ptrs.size()), mode, nullptr,
	                     &db, &err) != HS_SUCCESS) {
		const std::string msg = err && err->message
		                                ? err->message
		                                : "cannot compile";
		const int index = err ? err->expression : -1;
		hs_free_compile_error(err);
		throw pattern_error(msg, index);
	}
	return db;
}

} // namespace

std::size_t pattern_hits::count() const
{
	std::size_t n = 0;
	for (std::uint64_t w : words_)
		n += static_cast<std::size_t>(std::popcount(w));
	return n;
}

pattern_set::pattern_set(const std::vector<pattern_spec> &patterns)
    : size_(patterns.size())
{
	if (patterns.empty())
		throw pattern_error("no patterns to compile", -1);
	if (hs_valid_platform() != HS_SUCCESS)
		throw pattern_error(
		        "this CPU lacks SSSE3, which Hyperscan needs: install "
		        "libvectorscan5 in place of libhyperscan5",
		        -1);
	std::vector<std::string> exprs;
	std::vector<unsigned> flags;
	for (const pattern_spec &p : patterns) {
		exprs.push_back(p.literal ? escape_literal(p.text) : p.text);
		// Whether a pattern occurred is all a rule asks: one report
		// each, then Hyperscan stops looking for it.
		flags.push_back(HS_FLAG_SINGLEMATCH |
		                (p.nocase ? HS_FLAG_CASELESS : 0));
	}
	block_ = compile(exprs, flags, HS_MODE_BLOCK);
	try {
		stream_ = compile(exprs, flags, HS_MODE_STREAM);
	} catch (...) {
		hs_free_database(block_);
		throw;
	}
	std::size_t n = 0;
	hs_stream_size(stream_, &n);
	stream_bytes_ = n;
}

pattern_set::~pattern_set()
{
	hs_free_database(block_);
	hs_free_database(stream_);
}

pattern_scanner::pattern_scanner(std::shared_ptr<const pattern_set> set)
    : set_(std::move(set))
{
	// One scratch serves both databases.
	if (hs_alloc_scratch(set_->block_db(), &scratch_) != HS_SUCCESS ||
	    hs_alloc_scratch(set_->stream_db(), &scratch_) != HS_SUCCESS) {
		hs_free_scratch(scratch_);
		throw pattern_error("cannot allocate Hyperscan scratch", -1);
	}
	packet_hits_.resize(set_->size());
}

pattern_scanner::~pattern_scanner() { hs_free_scratch(scratch_); }

void pattern_scanner::scan_block(std::span<const std::byte> bytes,
                                 pattern_hits &hits)
{
	hits.clear();
	scans_++;
	bytes_ += bytes.size();
	if (bytes.empty())
		return;
	// Fails only on bad arguments or scratch in use by another scan,
	// neither of which this class allows: then nothing matched.
	hs_scan(set_->block_db(), reinterpret_cast<const char *>(bytes.data()),
	        static_cast<unsigned>(bytes.size()), 0, scratch_, on_match,
	        &hits);
}

hs_stream *pattern_scanner::open_stream()
{
	hs_stream_t *s = nullptr;
	if (hs_open_stream(set_->stream_db(), 0, &s) != HS_SUCCESS)
		return nullptr;
	return s;
}

void pattern_scanner::reset_stream(hs_stream *s)
{
	// Matches at the end of the old flow's data are of no interest.
	hs_reset_stream(s, 0, scratch_, ignore_match, nullptr);
}

void pattern_scanner::close_stream(hs_stream *s)
{
	hs_close_stream(s, scratch_, ignore_match, nullptr);
}

void pattern_scanner::scan_stream(hs_stream *s,
                                  std::span<const std::byte> bytes,
                                  pattern_hits &hits)
{
	scans_++;
	bytes_ += bytes.size();
	if (bytes.empty())
		return;
	hs_scan_stream(s, reinterpret_cast<const char *>(bytes.data()),
	               static_cast<unsigned>(bytes.size()), 0, scratch_,
	               on_match, &hits);
}

} // namespace nfring::l7
