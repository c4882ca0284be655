// QUIC client Initial decoding for the DPI worker.  A QUIC client sends its
// TLS ClientHello in CRYPTO frames inside Initial packets, whose protection
// uses keys that anyone can derive from the Destination Connection ID
// (RFC 9001 5.2).  The decoder removes that protection and reassembles the
// CRYPTO stream, so that the caller's TLS parser can read SNI and ALPN out
// of an HTTP/3 connection set-up.
//
// Known versions: 1 (RFC 9000/9001), 2 (RFC 9369) and draft-29, which old
// clients still send.  Every byte comes from an untrusted peer: each length
// and varint is checked against what is present, and a failed check
// rejects the packet rather than reading past it.
//
// Initial protection gives no authenticity against anyone who sees the
// connection ID: a third party can inject Initials that decrypt.  The state
// records disagreements (inconsistent()) instead of guessing which copy is
// the client's; what to do with such a flow is the caller's policy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace nfring::l7::quic
{

inline constexpr std::uint32_t version_1 = 0x00000001;
inline constexpr std::uint32_t version_2 = 0x6b3343cf;
inline constexpr std::uint32_t version_draft29 = 0xff00001d;

// A UDP payload is at most 65535 - 8 bytes (the UDP length field counts
// its own header); the decoder's scratch buffer holds one.
inline constexpr std::size_t max_datagram = 65527;

// RFC 9000 14.1: a client pads every datagram that carries an Initial to
// at least this size.
inline constexpr std::size_t min_initial_datagram = 1200;

// RFC 9000 17.2: versions 1 and 2 allow connection IDs up to 20 bytes.
inline constexpr std::size_t max_cid = 20;

enum class status : std::uint8_t {
	// No long-header Initial of a known version in the datagram (a short
	// header, an unknown version, a connection ID over 20 bytes, ...).
	not_quic,
	// The datagram's Initials were accepted; the ClientHello is not yet
	// complete.
	need_more,
	// The ClientHello is complete: initial_state::client_hello().
	complete,
	// An Initial in the datagram was rejected (cut off, failed to
	// authenticate, malformed frames), or the flow's state has failed
	// (inconsistent(), overflowed(), or its first message is no
	// ClientHello).
	invalid,
};

// A cheap test of a flow's first datagram, before any state is set up:
// long header with the fixed bit, a known version, the Initial type for
// that version, DCID and SCID lengths within max_cid, a header whose
// lengths fit the datagram, and a datagram of at least
// min_initial_datagram bytes.  The size requirement is the
// client's (RFC 9000 14.1: servers drop smaller ones), so it holds for
// every datagram carrying a client Initial, the second datagram of a
// two-datagram ClientHello too; initial_decoder::feed() does not require
// it, so that the caller chooses.
bool looks_like_client_initial(std::span<const std::byte> datagram);

// What one flow (client to server) has accumulated: the Initial keys and
// the CRYPTO stream received so far.  The constructor allocates the
// crypto_capacity bytes of the stream; the rest (about 1.2 KiB) is in the
// object; feeding packets allocates nothing.  Not thread-safe; one per
// flow.
class initial_state
{
public:
	static constexpr std::size_t default_crypto_capacity = 16384;
	// Gaps between received CRYPTO ranges are bounded by this many
	// ranges; a frame that would need more is dropped and overflowed()
	// set, so that tiny out-of-order frames cannot cost unbounded work.
	static constexpr std::size_t max_ranges = 64;

	explicit initial_state(
	        std::size_t crypto_capacity = default_crypto_capacity);
	initial_state(const initial_state &) = delete;
	initial_state &operator=(const initial_state &) = delete;
	// A moved-from state has capacity 0: it holds nothing, and every
	// CRYPTO byte fed to it overflows it.
	initial_state(initial_state &&other) noexcept;
	initial_state &operator=(initial_state &&other) noexcept;

	// The CRYPTO stream from offset 0 up to the first gap: TLS handshake
	// messages without record headers.
	std::span<const std::byte> crypto() const;
	// The first handshake message, type 1 and its 3-byte length included,
	// once all of it is in crypto(); empty before that.
	std::span<const std::byte> client_hello() const;
	bool hello_complete() const { return !client_hello().empty(); }

	// Two CRYPTO frames gave different bytes for the same offset.  Sticky
	// until reset().
	bool inconsistent() const { return inconsistent_; }
	// CRYPTO bytes were dropped: past crypto_capacity, or needing more
	// than max_ranges ranges.  Sticky until reset(); harmless once the
	// ClientHello is complete.
	bool overflowed() const { return overflowed_; }
	// No ClientHello can come out of this flow any more: inconsistent(),
	// or, while the ClientHello is incomplete, overflowed(), a first
	// message that is not a ClientHello, or one longer than the capacity.
	bool failed() const;

	// The version whose keys the flow uses; 0 until an Initial
	// authenticated.
	std::uint32_t version() const { return version_; }
	std::size_t capacity() const { return capacity_; }

	// Forgets keys and data, for a new connection; keeps the buffer.
	void reset();

private:
	friend class initial_decoder;

	struct range {
		std::size_t begin, end; // [begin, end), sorted, disjoint
	};
	struct packet_keys {
		std::array<std::uint8_t, 16> key;
		std::array<std::uint8_t, 12> iv;
		std::array<std::uint8_t, 16> hp;
	};

	// CRYPTO bytes at [offset, offset + data.size()).  Bytes that
	// disagree with those held set inconsistent_ and nothing is written.
	void add_crypto(std::uint64_t offset, std::span<const std::byte> data);
	std::size_t contiguous() const;

	std::unique_ptr<std::byte[]> buf_;
	std::size_t capacity_ = 0;
	std::array<range, max_ranges> ranges_;
	std::size_t nranges_ = 0;
	bool inconsistent_ = false;
	bool overflowed_ = false;

	// Keys are derived from the first Initial that authenticates and kept
	// when the client moves to the server's connection ID.
	std::uint32_t version_ = 0;
	std::array<std::byte, max_cid> dcid_{};
	std::size_t dcid_len_ = 0;
	packet_keys keys_{};
	// Re-derivations still allowed (a Retry or a compatible version
	// change, see quic.cpp), bounded because each costs an HKDF.
	unsigned rekeys_left_ = 0;
	// For packet number decoding (RFC 9000 A.3); -1 before the first.
	std::int64_t largest_pn_ = -1;
};

// Removes Initial protection and feeds the CRYPTO frames into a flow's
// state.  One per worker thread: it owns OpenSSL contexts and a scratch
// buffer of max_datagram bytes, all allocated by the constructor (which
// throws std::runtime_error if OpenSSL cannot provide AES-128 or HMAC).
// feed() does not allocate except when it derives a flow's keys.
class initial_decoder
{
public:
	initial_decoder();
	initial_decoder(const initial_decoder &) = delete;
	initial_decoder &operator=(const initial_decoder &) = delete;
	~initial_decoder();

	// One UDP payload of the flow, client to server.  Walks its coalesced
	// packets: Initials are decrypted and their CRYPTO frames added to st;
	// 0-RTT and Handshake packets are skipped; a short header, a Retry,
	// bytes that are not a packet or a packet for another connection ID
	// end the walk, as they would for the server (RFC 9000 12.2).
	status feed(std::span<const std::byte> udp_payload, initial_state &st);

private:
	struct impl;
	std::unique_ptr<impl> impl_;
};

} // namespace nfring::l7::quic
