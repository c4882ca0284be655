// A set of host names loaded from a file, for rules such as
//
//   drop tls.sni @/etc/nfring/blocklist.txt
//
// The file holds one entry per line, with the meaning of a rule's NAME:
//
//   ads.example.com      # exactly ads.example.com
//   *.tracker.example    # any name below tracker.example, not itself
//
// `#` starts a comment; blank lines and whitespace around an entry are
// ignored; letters are folded to lowercase, one trailing dot is dropped
// and duplicates are merged.  Labels are 1-63 letters, digits, '-' or '_';
// an entry is at most 253 characters; '*' is allowed only as the whole
// first label.
//
// Lookups cost one table probe per label of the host (walking suffixes
// from the right) however many names there are, and never allocate.  A
// loaded set does not change, so threads may look up in it at once.
// Memory is the entries' bytes plus an 8-byte slot per domain at 70%
// load; docs/name-lists.md has measured figures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nfring
{

// A names file that cannot be used; what() is "FILE:LINE: what is wrong"
// (or "FILE: ..." for I/O errors).
class name_set_error : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

class name_set
{
public:
	// The longest entry (as written, with a "*." if any) and label.
	static constexpr std::size_t max_name = 253;
	static constexpr std::size_t max_label = 63;

	// An empty set: matches nothing.
	name_set() = default;

	// Reads and parses a file.  Throws name_set_error (also for I/O
	// errors).
	static name_set load(const std::string &path);
	// Parses names text; `name` prefixes error messages.  Throws
	// name_set_error.
	static name_set parse(std::string_view text, const std::string &name);

	// Whether any entry matches `host`, taken as it comes off the wire:
	// compared without regard to ASCII case and without one trailing
	// dot.  Any bytes are safe; bytes a name cannot have just never
	// match.
	bool contains(std::string_view host) const
	{
		return lookup(host, false).has_value();
	}
	// The entry that matches `host` as written in the file ("*.x.com"
	// or "a.x.com"), the most specific one when several do: an exact
	// entry beats every wildcard, and the wildcard with the longest
	// domain beats shorter ones.  Points into the set; valid while the
	// set lives.
	std::optional<std::string_view> match(std::string_view host) const
	{
		return lookup(host, true);
	}

	// Entries after merging duplicates ("a.com" and "*.a.com" are two).
	std::size_t size() const { return size_; }
	// Heap bytes the set holds (names and table).
	std::size_t memory_bytes() const;

private:
	// One table slot.  `meta` packs the domain's length (bits 0-7, never
	// 0, so meta == 0 is an empty slot), whether the domain is an exact
	// entry (bit 8) and/or a wildcard one (bit 9), and 22 more bits of
	// the domain's hash (bits 10-31) that turn away most non-matching
	// slots without reading the names.  `off` is where the domain starts
	// in names_; a wildcard domain has its "*." just before it, so that
	// match() can return the entry as written.
	struct slot {
		std::uint32_t off;
		std::uint32_t meta;
	};

	std::optional<std::string_view> lookup(std::string_view host,
	                                       bool best) const;
	std::size_t home(std::uint64_t mixed) const;
	std::size_t probe(std::uint64_t mixed, std::string_view domain) const;
	const slot *find(std::uint64_t mixed, std::string_view domain) const;
	bool insert(std::string_view domain, bool wildcard);
	void rehash(std::size_t capacity);
	void compact();

	std::vector<char> names_; // every stored domain, back to back
	std::vector<slot> slots_; // open addressing, linear probing
	std::size_t size_ = 0;    // entries
	std::size_t domains_ = 0; // occupied slots
	std::size_t longest_ = 0; // longest domain: no longer suffix matches
	std::size_t stale_ = 0;   // bytes of names_ no slot points to
};

} // namespace nfring
