#include "nfring/name_set.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace nfring
{

namespace
{

constexpr std::uint32_t len_mask = 0xff;
constexpr std::uint32_t exact_bit = 1u << 8;
constexpr std::uint32_t wildcard_bit = 1u << 9;
constexpr std::uint32_t flag_mask = exact_bit | wildcard_bit;
constexpr unsigned tag_shift = 10;

static_assert(name_set::max_name <= len_mask, "a length must fit meta");
static_assert(name_set::max_label == 63, "the error messages say 63");

// 70% load: a miss (most probes are misses: every label of a host is
// looked up) scans about six 8-byte slots, within one or two cache lines.
std::size_t capacity_for(std::size_t domains)
{
	return std::max<std::size_t>(domains * 10 / 7 + 1, 8);
}

// ASCII case folding only: the names are ASCII, and a byte of a UTF-8
// sequence must not turn into a letter.
constexpr unsigned char fold(unsigned char c)
{
	return static_cast<unsigned>(c - 'A') < 26
	               ? static_cast<unsigned char>(c + 32)
	               : c;
}

// FNV-1a over the bytes from the right, so that the hash of each suffix
// of a host is one step on from the hash of the suffix a label shorter:
// a lookup hashes every byte once however many suffixes it probes.
constexpr std::uint64_t hash_seed = 0xcbf29ce484222325ull;

constexpr std::uint64_t hash_step(std::uint64_t h, unsigned char c)
{
	return (h ^ fold(c)) * 0x100000001b3ull;
}

std::uint64_t hash_of(std::string_view s)
{
	std::uint64_t h = hash_seed;
	for (std::size_t i = s.size(); i-- > 0;)
		h = hash_step(h, static_cast<unsigned char>(s[i]));
	return h;
}

// FNV's last byte reaches only part of the word; the slot index takes
// the high bits and the tag the low ones, so mix them all first
// (MurmurHash3's finaliser).
constexpr std::uint64_t finish(std::uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

// `stored` is lowercase; `s` may come off the wire in any case.
bool same_name(const char *stored, std::string_view s)
{
	for (std::size_t i = 0; i < s.size(); i++)
		if (static_cast<unsigned char>(stored[i]) !=
		    fold(static_cast<unsigned char>(s[i])))
			return false;
	return true;
}

bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

// A value for an error message: bytes that would garble a log line as
// \xHH, and a line that goes on and on cut short.
std::string quoted(std::string_view s)
{
	constexpr std::size_t shown = 80;
	std::string out = "'";
	for (std::size_t i = 0; i < s.size() && i < shown; i++) {
		const auto c = static_cast<unsigned char>(s[i]);
		if (c >= ' ' && c < 0x7f && c != '\\') {
			out += static_cast<char>(c);
		} else {
			static const char hex[] = "0123456789abcdef";
			out += "\\x";
			out += hex[c >> 4];
			out += hex[c & 15];
		}
	}
	out += s.size() > shown ? "'..." : "'";
	return out;
}

void append(std::vector<char> &to, std::string_view s)
{
	to.insert(to.end(), s.begin(), s.end());
}

[[noreturn]] void fail(const std::string &name, std::size_t line,
                       const std::string &what)
{
	throw name_set_error(name + ":" + std::to_string(line) + ": " + what);
}

struct entry {
	std::string_view domain; // lowercased, in the caller's buffer
	bool wildcard = false;
};

// Checks one entry (comment and surrounding whitespace already gone) and
// lowercases its domain into `buf`.
entry parse_entry(std::string_view text, char (&buf)[name_set::max_name],
                  const std::string &name, std::size_t line)
{
	// Quoted only on failure: this runs once per line of a big file.
	auto bad = [&](const std::string &what) {
		fail(name, line, quoted(text) + what);
	};
	if (std::any_of(text.begin(), text.end(), is_space))
		bad(": more than one name (allowed: one name per line, "
		    "then an optional # comment)");
	std::string_view s = text;
	if (s.ends_with('.'))
		s.remove_suffix(1);
	if (s.size() > name_set::max_name)
		bad(" is " + std::to_string(s.size()) +
		    " characters long (allowed: at most " +
		    std::to_string(name_set::max_name) + ")");
	if (s == "*")
		bad(": a bare '*' would match every name (allowed: "
		    "*.DOMAIN for the names below DOMAIN)");
	entry e;
	if (s.starts_with("*.")) {
		e.wildcard = true;
		s.remove_prefix(2);
	}
	std::size_t label = 0; // length of the label so far
	for (std::size_t i = 0; i <= s.size(); i++) {
		if (i == s.size() || s[i] == '.') {
			if (!label)
				bad(": empty label (allowed: labels of "
				    "1-63 characters between single dots)");
			if (label > name_set::max_label) {
				const auto l = s.substr(i - label, label);
				bad(": label " + quoted(l) + " is " +
				    std::to_string(label) +
				    " characters long (allowed: at most 63)");
			}
			label = 0;
			if (i < s.size())
				buf[i] = '.';
			continue;
		}
		const unsigned char c = fold(static_cast<unsigned char>(s[i]));
		if (c == '*')
			bad(": '*' is allowed only as the whole first "
			    "label, as in *.example.com");
		if (!is_name_char(c))
			bad(": character " +
			    quoted(std::string_view(s.data() + i, 1)) +
			    " is not allowed (allowed: letters, "
			    "digits, '-' and '_'; international names "
			    "in their xn-- form)");
		buf[i] = static_cast<char>(c);
		label++;
	}
	e.domain = std::string_view(buf, s.size());
	return e;
}

} // namespace

std::size_t name_set::memory_bytes() const
{
	return names_.capacity() + slots_.capacity() * sizeof(slot);
}

// Where the scan for a mixed hash starts: the high bits pick the slot
// (the tag is the low ones).
std::size_t name_set::home(std::uint64_t mixed) const
{
	return static_cast<std::size_t>(
	        (static_cast<unsigned __int128>(mixed) * slots_.size()) >> 64);
}

// The slot holding `domain`, or the empty slot where it would go.  The
// table is never full (capacity_for), so the scan ends.
std::size_t name_set::probe(std::uint64_t mixed, std::string_view domain) const
{
	const std::uint32_t key =
	        static_cast<std::uint32_t>(mixed << tag_shift) |
	        static_cast<std::uint32_t>(domain.size());
	const std::size_t n = slots_.size();
	for (std::size_t i = home(mixed);;) {
		const slot &s = slots_[i];
		if (!s.meta)
			return i;
		if ((s.meta & ~flag_mask) == key &&
		    same_name(names_.data() + s.off, domain))
			return i;
		if (++i == n)
			i = 0;
	}
}

const name_set::slot *name_set::find(std::uint64_t mixed,
                                     std::string_view domain) const
{
	const slot &s = slots_[probe(mixed, domain)];
	return s.meta ? &s : nullptr;
}

std::optional<std::string_view> name_set::lookup(std::string_view host,
                                                 bool best) const
{
	if (!size_)
		return std::nullopt;
	if (host.ends_with('.'))
		host.remove_suffix(1);
	const std::size_t n = host.size();
	// host[i + 1..] is a candidate domain for a wildcard when host[i] is
	// a dot with something before it (a wildcard matches strictly below
	// its domain) and a label after it.  Candidates start two bytes
	// apart at least and are at most longest_ <= max_name long, so there
	// are at most (max_name + 1) / 2.  Their slots are fetched before
	// any is probed, so that a host's cache misses overlap rather than
	// queue.
	struct candidate {
		std::uint64_t mixed;
		std::size_t at;
	} cand[(max_name + 1) / 2];
	std::size_t cands = 0;
	bool whole = true; // host itself is short enough to be an entry
	std::uint64_t h = hash_seed;
	for (std::size_t i = n; i-- > 0;) {
		const auto c = static_cast<unsigned char>(host[i]);
		if (c == '.' && i > 0 && i + 1 < n && host[i + 1] != '.') {
			const std::uint64_t m = finish(h);
			__builtin_prefetch(&slots_[home(m)]);
			cand[cands++] = {m, i + 1};
		}
		// No entry is longer, so neither is any domain that matches;
		// this also bounds the work for a hostile megabyte of host.
		if (n - i > longest_) {
			whole = false;
			break;
		}
		h = hash_step(h, c);
	}
	const std::uint64_t whole_mixed = finish(h);
	if (whole && n)
		__builtin_prefetch(&slots_[home(whole_mixed)]);
	std::optional<std::string_view> found;
	// Shortest first: contains() stops at the first, match() wants the
	// last.
	for (std::size_t k = 0; k < cands; k++) {
		const slot *s = find(cand[k].mixed, host.substr(cand[k].at));
		if (s && (s->meta & wildcard_bit)) {
			found = std::string_view(names_.data() + s->off - 2,
			                         (s->meta & len_mask) + 2);
			if (!best)
				return found;
		}
	}
	if (whole && n) {
		const slot *s = find(whole_mixed, host);
		if (s && (s->meta & exact_bit))
			return std::string_view(names_.data() + s->off,
			                        s->meta & len_mask);
	}
	return found;
}

// Adds an entry; false when the names no longer fit 32-bit offsets.
bool name_set::insert(std::string_view domain, bool wildcard)
{
	if ((domains_ + 1) * 10 > slots_.size() * 7)
		rehash(capacity_for(slots_.size()));
	const std::uint64_t m = finish(hash_of(domain));
	slot &s = slots_[probe(m, domain)];
	const std::uint32_t flag = wildcard ? wildcard_bit : exact_bit;
	if (s.meta & flag)
		return true;
	if (!s.meta || wildcard) {
		// A wildcard's domain needs its "*." just before it; an exact
		// entry met first had none, so it moves.
		const std::size_t off = names_.size() + (wildcard ? 2 : 0);
		if (off + domain.size() >
		    std::numeric_limits<std::uint32_t>::max())
			return false;
		if (s.meta)
			stale_ += domain.size();
		else
			domains_++;
		if (wildcard)
			append(names_, "*.");
		append(names_, domain);
		const std::uint32_t tag =
		        static_cast<std::uint32_t>(m << tag_shift);
		s.off = static_cast<std::uint32_t>(off);
		s.meta = (s.meta & flag_mask) | tag |
		         static_cast<std::uint32_t>(domain.size());
	}
	s.meta |= flag;
	size_++;
	longest_ = std::max(longest_, domain.size());
	return true;
}

void name_set::rehash(std::size_t capacity)
{
	std::vector<slot> old(capacity, slot{0, 0});
	old.swap(slots_);
	for (const slot &s : old) {
		if (!s.meta)
			continue;
		const std::string_view domain(names_.data() + s.off,
		                              s.meta & len_mask);
		slots_[probe(finish(hash_of(domain)), domain)] = s;
	}
}

// Rewrites the names without the bytes that exact entries left behind
// when they moved to sit after a "*.".
void name_set::compact()
{
	std::size_t bytes = 0;
	for (const slot &s : slots_)
		if (s.meta)
			bytes += (s.meta & len_mask) +
			         (s.meta & wildcard_bit ? 2 : 0);
	std::vector<char> names;
	names.reserve(bytes);
	for (slot &s : slots_) {
		if (!s.meta)
			continue;
		if (s.meta & wildcard_bit)
			append(names, "*.");
		const std::size_t off = names.size();
		append(names, std::string_view(names_.data() + s.off,
		                               s.meta & len_mask));
		s.off = static_cast<std::uint32_t>(off);
	}
	names_.swap(names);
	stale_ = 0;
}

name_set name_set::parse(std::string_view text, const std::string &name)
{
	name_set set;
	// Every line could be an entry: size for that, shrink at the end if
	// comments, blank lines or duplicates made it too generous.
	set.rehash(capacity_for(static_cast<std::size_t>(std::count(
	                                text.begin(), text.end(), '\n')) +
	                        1));
	// The names take at most the text's bytes; reserving leaves the
	// unused tail untouched (never resident) until the shrink below.
	set.names_.reserve(text.size());
	char buf[max_name];
	std::size_t line = 0;
	for (std::size_t pos = 0; pos < text.size();) {
		std::size_t end = text.find('\n', pos);
		if (end == std::string_view::npos)
			end = text.size();
		std::string_view s = text.substr(pos, end - pos);
		pos = end + 1;
		line++;
		if (const auto hash = s.find('#'); hash != s.npos)
			s = s.substr(0, hash);
		while (!s.empty() && is_space(s.front()))
			s.remove_prefix(1);
		while (!s.empty() && is_space(s.back()))
			s.remove_suffix(1);
		if (s.empty())
			continue;
		const entry e = parse_entry(s, buf, name, line);
		if (!set.insert(e.domain, e.wildcard))
			fail(name, line,
			     "the names add up to more than 4 GiB (allowed: "
			     "at most 4 GiB; split the list)");
	}
	// A rehash or a compaction reads the names in table order, a cache
	// miss each: worth it only for a real saving (a heavily commented
	// file; exact entries moved to sit after a "*.").
	const std::size_t fit = capacity_for(set.domains_);
	if (!set.domains_)
		set.slots_ = {};
	else if (fit < set.slots_.size() * 7 / 8)
		set.rehash(fit);
	if (set.stale_ > set.names_.size() / 8)
		set.compact();
	else
		set.names_.shrink_to_fit();
	return set;
}

name_set name_set::load(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
		throw name_set_error(path +
		                     ": cannot open: " + std::strerror(errno));
	std::string text;
	// A hint only: a pipe has no size and reads all the same.
	std::error_code ec;
	if (std::filesystem::is_regular_file(path, ec))
		if (const auto size = std::filesystem::file_size(path, ec); !ec)
			text.reserve(size);
	char buf[1 << 16];
	while (in.read(buf, sizeof(buf)) || in.gcount() > 0)
		text.append(buf, static_cast<std::size_t>(in.gcount()));
	if (in.bad())
		throw name_set_error(path +
		                     ": cannot read: " + std::strerror(errno));
	return parse(text, path);
}

} // namespace nfring
