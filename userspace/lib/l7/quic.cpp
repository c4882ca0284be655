#include "nfring/l7/quic.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace nfring::l7::quic
{

namespace
{

// ---- versions ------------------------------------------------------------

enum class packet_type : std::uint8_t { initial, zero_rtt, handshake, retry };

struct version_info {
	std::uint32_t version;
	std::array<std::uint8_t, 20> salt; // RFC 9001 5.2, RFC 9369 3.3.1
	// HKDF labels, without the "tls13 " that HKDF-Expand-Label adds.
	const char *key_label;
	const char *iv_label;
	const char *hp_label;
	// By the long header's two type bits: version 2 renumbered them so
	// that middleboxes cannot ossify on version 1's (RFC 9369 3.2).
	std::array<packet_type, 4> type_of;
};

constexpr std::array<packet_type, 4> v1_types = {
        packet_type::initial, packet_type::zero_rtt, packet_type::handshake,
        packet_type::retry};
constexpr std::array<packet_type, 4> v2_types = {
        packet_type::retry, packet_type::initial, packet_type::zero_rtt,
        packet_type::handshake};

constexpr std::array<version_info, 3> versions = {{
        {version_1,
         {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
          0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
         "quic key",
         "quic iv",
         "quic hp",
         v1_types},
        {version_2,
         {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
          0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
         "quicv2 key",
         "quicv2 iv",
         "quicv2 hp",
         v2_types},
        // draft-ietf-quic-tls-29 5.2; the labels and types are version 1's.
        {version_draft29,
         {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
          0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
         "quic key",
         "quic iv",
         "quic hp",
         v1_types},
}};

const version_info *find_version(std::uint32_t v)
{
	for (const auto &info : versions)
		if (info.version == v)
			return &info;
	return nullptr;
}

// ---- reading -------------------------------------------------------------

constexpr std::uint64_t max_varint = (std::uint64_t{1} << 62) - 1;

// Reads forward through bytes that are all present; every read checks
// that its bytes are, and a failed read leaves the position alone.
class cursor
{
public:
	explicit cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}

	std::size_t pos() const { return pos_; }
	std::size_t left() const { return bytes_.size() - pos_; }

	std::optional<std::uint8_t> u8()
	{
		if (!left())
			return std::nullopt;
		return std::to_integer<std::uint8_t>(bytes_[pos_++]);
	}

	std::optional<std::uint32_t> u32()
	{
		auto b = bytes(4);
		if (!b)
			return std::nullopt;
		std::uint32_t v = 0;
		for (auto x : *b)
			v = v << 8 | std::to_integer<std::uint32_t>(x);
		return v;
	}

	// RFC 9000 16: the top two bits of the first byte give the length.
	std::optional<std::uint64_t> varint()
	{
		if (!left())
			return std::nullopt;
		auto first = std::to_integer<std::uint8_t>(bytes_[pos_]);
		auto b = bytes(std::size_t{1} << (first >> 6));
		if (!b)
			return std::nullopt;
		std::uint64_t v = first & 0x3f;
		for (auto x : b->subspan(1))
			v = v << 8 | std::to_integer<std::uint64_t>(x);
		return v;
	}

	std::optional<std::span<const std::byte>> bytes(std::uint64_t n)
	{
		if (n > left())
			return std::nullopt;
		auto out = bytes_.subspan(pos_, static_cast<std::size_t>(n));
		pos_ += out.size();
		return out;
	}

	bool skip(std::uint64_t n) { return bytes(n).has_value(); }

private:
	std::span<const std::byte> bytes_;
	std::size_t pos_ = 0;
};

const unsigned char *uc(const std::byte *p)
{
	return reinterpret_cast<const unsigned char *>(p);
}
unsigned char *uc(std::byte *p)
{
	return reinterpret_cast<unsigned char *>(p);
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b)
{
	return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// ---- long header (RFC 9000 17.2) -----------------------------------------

struct long_header {
	const version_info *v = nullptr;
	packet_type type = packet_type::initial;
	std::span<const std::byte> dcid, token;
	std::size_t pn_offset = 0; // the protected packet number starts here
	std::size_t size = 0;      // the whole packet, to its Length's end
};

enum class parsed : std::uint8_t {
	ok,
	// Not a long-header packet of ours: the walk of the datagram ends.
	foreign,
	// Ours, but a length runs past the datagram; h.v and h.type are set.
	cut_off,
};

parsed parse_long_header(std::span<const std::byte> in, long_header &h)
{
	constexpr std::uint8_t long_bit = 0x80, fixed_bit = 0x40;
	cursor c(in);
	auto first = c.u8();
	auto version = c.u32();
	if (!first || !version || !(*first & long_bit) || !(*first & fixed_bit))
		return parsed::foreign;
	h.v = find_version(*version);
	if (!h.v)
		return parsed::foreign;
	h.type = h.v->type_of[(*first >> 4) & 3];
	// A Retry has no Length, so nothing after it could be found; and a
	// client never sends one.
	if (h.type == packet_type::retry)
		return parsed::foreign;

	auto dcid_len = c.u8();
	if (dcid_len && *dcid_len > max_cid)
		return parsed::foreign;
	auto dcid = dcid_len ? c.bytes(*dcid_len) : std::nullopt;
	auto scid_len = dcid ? c.u8() : std::nullopt;
	if (scid_len && *scid_len > max_cid)
		return parsed::foreign;
	if (!scid_len || !c.skip(*scid_len))
		return parsed::cut_off;
	h.dcid = *dcid;
	if (h.type == packet_type::initial) {
		auto token_len = c.varint();
		auto token = token_len ? c.bytes(*token_len) : std::nullopt;
		if (!token)
			return parsed::cut_off;
		h.token = *token;
	}
	auto length = c.varint();
	if (!length || *length > c.left())
		return parsed::cut_off;
	h.pn_offset = c.pos();
	h.size = c.pos() + static_cast<std::size_t>(*length);
	return parsed::ok;
}

// RFC 9000 A.3: the packet number nearest to the next one expected.
std::int64_t decode_pn(std::int64_t largest, std::uint64_t truncated,
                       unsigned bits)
{
	const std::int64_t expected = largest + 1;
	const std::int64_t win = std::int64_t{1} << bits;
	const std::int64_t hwin = win / 2;
	std::int64_t pn =
	        (expected & ~(win - 1)) | static_cast<std::int64_t>(truncated);
	if (pn <= expected - hwin &&
	    pn < static_cast<std::int64_t>(max_varint) + 1 - win)
		return pn + win;
	if (pn > expected + hwin && pn >= win)
		return pn - win;
	return pn;
}

// ---- frames (RFC 9000 19) ------------------------------------------------

constexpr std::uint8_t frame_padding = 0x00;
constexpr std::uint8_t frame_ping = 0x01;
constexpr std::uint8_t frame_ack = 0x02;
constexpr std::uint8_t frame_ack_ecn = 0x03;
constexpr std::uint8_t frame_crypto = 0x06;
constexpr std::uint8_t frame_close = 0x1c;

bool skip_varints(cursor &c, unsigned n)
{
	for (unsigned i = 0; i < n; ++i)
		if (!c.varint())
			return false;
	return true;
}

bool skip_ack(cursor &c, bool ecn)
{
	// Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range.
	auto largest = c.varint(), delay = c.varint(), count = c.varint();
	if (!largest || !delay || !count || !c.varint())
		return false;
	// A Gap and a Range Length, at least a byte each: a count beyond
	// that cannot be there, and is refused before the loop.
	if (*count > c.left() / 2)
		return false;
	for (std::uint64_t i = 0; i < *count; ++i)
		if (!skip_varints(c, 2))
			return false;
	return !ecn || skip_varints(c, 3); // ECT0, ECT1, ECN-CE
}

bool skip_close(cursor &c)
{
	// Error Code, Frame Type, Reason Phrase Length and the phrase.
	if (!skip_varints(c, 2))
		return false;
	auto reason = c.varint();
	return reason && c.skip(*reason);
}

// Calls on_crypto(offset, data) for each CRYPTO frame; false if a frame is
// malformed.  RFC 9000 12.4 allows only the frames above in an Initial;
// any other ends the walk with the frames before it kept.  A type byte
// from 0x40 up is a non-minimal encoding (12.4 forbids them) or an
// extension's frame: it ends the walk too.
template <class OnCrypto>
bool walk_frames(std::span<const std::byte> payload, OnCrypto &&on_crypto)
{
	cursor c(payload);
	while (c.left()) {
		auto type = *c.u8();
		switch (type) {
		case frame_padding:
		case frame_ping:
			break;
		case frame_ack:
		case frame_ack_ecn:
			if (!skip_ack(c, type == frame_ack_ecn))
				return false;
			break;
		case frame_close:
			if (!skip_close(c))
				return false;
			break;
		case frame_crypto: {
			auto offset = c.varint();
			auto length = c.varint();
			auto data = length ? c.bytes(*length) : std::nullopt;
			// 19.6: offset plus length must stay a varint.
			if (!offset || !data || *offset > max_varint - *length)
				return false;
			on_crypto(*offset, *data);
			break;
		}
		default:
			return true;
		}
	}
	return true;
}

// ---- TLS handshake framing -----------------------------------------------

// RFC 8446 4: a 1-byte type and a 3-byte length; the client's first
// message is its ClientHello (type 1).
constexpr std::uint8_t client_hello_type = 1;
constexpr std::size_t handshake_header = 4;

// The whole first message's size as its header declares it; 0 before the
// header is here.
std::size_t declared_hello(std::span<const std::byte> have)
{
	if (have.size() < handshake_header)
		return 0;
	std::size_t len = 0;
	for (auto b : have.subspan(1, 3))
		len = len << 8 | std::to_integer<std::size_t>(b);
	return handshake_header + len;
}

bool is_client_hello(std::span<const std::byte> have)
{
	return have.empty() ||
	       std::to_integer<std::uint8_t>(have[0]) == client_hello_type;
}

// ---- OpenSSL -------------------------------------------------------------

struct cipher_ctx_free {
	void operator()(EVP_CIPHER_CTX *p) const { EVP_CIPHER_CTX_free(p); }
};
struct cipher_free {
	void operator()(EVP_CIPHER *p) const { EVP_CIPHER_free(p); }
};
struct mac_ctx_free {
	void operator()(EVP_MAC_CTX *p) const { EVP_MAC_CTX_free(p); }
};
struct mac_free {
	void operator()(EVP_MAC *p) const { EVP_MAC_free(p); }
};

template <class T> T *required(T *p, const char *what)
{
	if (!p)
		throw std::runtime_error(std::string("quic: OpenSSL: ") + what);
	return p;
}

constexpr std::size_t sha256_len = 32;
constexpr std::size_t sample_len = 16; // RFC 9001 5.4.2, for AES
constexpr std::size_t tag_len = 16;    // AEAD_AES_128_GCM
constexpr std::size_t max_pn_len = 4;

} // namespace

// ---- initial_state -------------------------------------------------------

initial_state::initial_state(std::size_t crypto_capacity)
    : buf_(std::make_unique<std::byte[]>(crypto_capacity)),
      capacity_(crypto_capacity)
{
}

initial_state::initial_state(initial_state &&other) noexcept
{
	*this = std::move(other);
}

initial_state &initial_state::operator=(initial_state &&other) noexcept
{
	if (this == &other)
		return *this;
	buf_ = std::move(other.buf_);
	capacity_ = std::exchange(other.capacity_, 0);
	ranges_ = other.ranges_;
	nranges_ = other.nranges_;
	inconsistent_ = other.inconsistent_;
	overflowed_ = other.overflowed_;
	version_ = other.version_;
	dcid_ = other.dcid_;
	dcid_len_ = other.dcid_len_;
	keys_ = other.keys_;
	rekeys_left_ = other.rekeys_left_;
	largest_pn_ = other.largest_pn_;
	other.reset();
	return *this;
}

void initial_state::reset()
{
	nranges_ = 0;
	inconsistent_ = overflowed_ = false;
	version_ = 0;
	dcid_len_ = 0;
	rekeys_left_ = 0;
	largest_pn_ = -1;
}

std::size_t initial_state::contiguous() const
{
	return nranges_ && ranges_[0].begin == 0 ? ranges_[0].end : 0;
}

std::span<const std::byte> initial_state::crypto() const
{
	return {buf_.get(), contiguous()};
}

std::span<const std::byte> initial_state::client_hello() const
{
	auto have = crypto();
	auto want = declared_hello(have);
	if (!want || want > have.size() || !is_client_hello(have))
		return {};
	return have.first(want);
}

bool initial_state::failed() const
{
	if (inconsistent_)
		return true;
	if (hello_complete())
		return false;
	auto have = crypto();
	return !is_client_hello(have) || declared_hello(have) > capacity_ ||
	       overflowed_;
}

void initial_state::add_crypto(std::uint64_t offset,
                               std::span<const std::byte> data)
{
	if (data.empty())
		return;
	if (offset >= capacity_) {
		overflowed_ = true;
		return;
	}
	const auto begin = static_cast<std::size_t>(offset);
	if (data.size() > capacity_ - begin) {
		overflowed_ = true; // keep the part that fits
		data = data.first(capacity_ - begin);
	}
	const auto end = begin + data.size();

	// The ranges that overlap or touch [begin, end) become one.
	std::size_t lo = 0;
	while (lo < nranges_ && ranges_[lo].end < begin)
		++lo;
	std::size_t hi = lo;
	while (hi < nranges_ && ranges_[hi].begin <= end)
		++hi;
	if (nranges_ - (hi - lo) + 1 > max_ranges) {
		overflowed_ = true;
		return;
	}

	// Compared before anything is written, so that a disagreeing frame
	// leaves the buffer as the first copy had it.
	for (std::size_t i = lo; i < hi; ++i) {
		auto from = std::max(begin, ranges_[i].begin);
		auto to = std::min(end, ranges_[i].end);
		if (from < to &&
		    std::memcmp(buf_.get() + from, data.data() + (from - begin),
		                to - from) != 0) {
			inconsistent_ = true;
			return;
		}
	}
	auto copy = [&](std::size_t from, std::size_t to) {
		std::memcpy(buf_.get() + from, data.data() + (from - begin),
		            to - from);
	};
	auto pos = begin;
	for (std::size_t i = lo; i < hi; ++i) {
		if (pos < ranges_[i].begin)
			copy(pos, ranges_[i].begin);
		pos = std::max(pos, ranges_[i].end);
	}
	if (pos < end)
		copy(pos, end);

	range merged{begin, end};
	if (lo < hi) {
		merged.begin = std::min(begin, ranges_[lo].begin);
		merged.end = std::max(end, ranges_[hi - 1].end);
	}
	// Replace ranges_[lo, hi) by the one merged range.
	auto first = ranges_.begin();
	if (hi == lo)
		std::copy_backward(first + lo, first + nranges_,
		                   first + nranges_ + 1);
	else
		std::copy(first + hi, first + nranges_, first + lo + 1);
	ranges_[lo] = merged;
	nranges_ = nranges_ - (hi - lo) + 1;
}

// ---- initial_decoder -----------------------------------------------------

// How many times one flow may derive keys after its first: a Retry and a
// compatible version change each need one (initial_decoder::impl::open).
constexpr unsigned max_rekeys = 2;

// A client's first DCID is at least 8 bytes (RFC 9000 7.2); a server
// discards an Initial with a shorter one, so keys are not derived from it.
constexpr std::size_t min_original_dcid = 8;

struct initial_decoder::impl {
	using packet_keys = initial_state::packet_keys;

	std::unique_ptr<EVP_CIPHER, cipher_free> gcm{
	        required(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr),
	                 "AES-128-GCM")};
	std::unique_ptr<EVP_CIPHER, cipher_free> ecb{
	        required(EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr),
	                 "AES-128-ECB")};
	std::unique_ptr<EVP_MAC, mac_free> hmac{
	        required(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "HMAC")};
	std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free> aead{
	        required(EVP_CIPHER_CTX_new(), "cipher context")};
	std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free> hp{
	        required(EVP_CIPHER_CTX_new(), "cipher context")};
	std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> mac{
	        required(EVP_MAC_CTX_new(hmac.get()), "HMAC context")};
	// Holds one packet's unprotected header and its plaintext.
	std::unique_ptr<std::byte[]> scratch{
	        std::make_unique<std::byte[]>(max_datagram)};

	// The contexts get their algorithm once here; per packet only the key
	// changes, which OpenSSL does inside the existing provider context.
	impl()
	{
		char sha256[] = "SHA256";
		OSSL_PARAM params[] = {
		        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		                                         sha256, 0),
		        OSSL_PARAM_construct_end()};
		if (!EVP_DecryptInit_ex2(aead.get(), gcm.get(), nullptr,
		                         nullptr, nullptr) ||
		    !EVP_EncryptInit_ex2(hp.get(), ecb.get(), nullptr, nullptr,
		                         nullptr) ||
		    !EVP_CIPHER_CTX_set_padding(hp.get(), 0) ||
		    !EVP_MAC_CTX_set_params(mac.get(), params))
			throw std::runtime_error(
			        "quic: OpenSSL: context set-up");
	}

	// HMAC-SHA256 of the concatenated parts.
	bool
	hmac_sha256(std::span<const std::uint8_t> key,
	            std::initializer_list<std::span<const std::uint8_t>> in,
	            std::array<std::uint8_t, sha256_len> &out)
	{
		std::size_t len = 0;
		if (!EVP_MAC_init(mac.get(), key.data(), key.size(), nullptr))
			return false;
		for (auto part : in)
			if (!EVP_MAC_update(mac.get(), part.data(),
			                    part.size()))
				return false;
		return EVP_MAC_final(mac.get(), out.data(), &len, out.size()) &&
		       len == out.size();
	}

	// RFC 8446 7.1 HKDF-Expand-Label with an empty context, for outputs
	// of at most one hash (which is all QUIC's Initial keys need), so
	// HKDF-Expand is its first block: HMAC(secret, info || 0x01).
	bool expand_label(std::span<const std::uint8_t> secret,
	                  std::string_view label, std::span<std::uint8_t> out)
	{
		constexpr std::string_view prefix = "tls13 ";
		std::array<std::uint8_t, 4 + 255> info;
		auto full = prefix.size() + label.size();
		if (out.size() > sha256_len || full > 255)
			return false;
		std::size_t n = 0;
		info[n++] = static_cast<std::uint8_t>(out.size() >> 8);
		info[n++] = static_cast<std::uint8_t>(out.size());
		info[n++] = static_cast<std::uint8_t>(full);
		n = std::copy(prefix.begin(), prefix.end(), info.begin() + n) -
		    info.begin();
		n = std::copy(label.begin(), label.end(), info.begin() + n) -
		    info.begin();
		info[n++] = 0; // context length
		info[n++] = 1; // HKDF-Expand's block counter
		std::array<std::uint8_t, sha256_len> t;
		if (!hmac_sha256(secret, {std::span(info).first(n)}, t))
			return false;
		std::copy_n(t.begin(), out.size(), out.begin());
		return true;
	}

	// RFC 9001 5.2: HKDF-Extract(salt, DCID), then "client in", then the
	// packet protection keys (5.1).  Runs once per flow (and at most
	// max_rekeys more times).  The only code here that allocates: OpenSSL
	// 3.0's HMAC re-creates its digest contexts on every EVP_MAC_init,
	// 25 small allocations per derivation (counted with
	// CRYPTO_set_mem_functions); unprotecting a packet makes none.
	bool derive(const version_info &v, std::span<const std::byte> dcid,
	            packet_keys &k)
	{
		std::array<std::uint8_t, sha256_len> initial, client;
		std::span<const std::uint8_t> cid(uc(dcid.data()), dcid.size());
		return hmac_sha256(v.salt, {cid}, initial) &&
		       expand_label(initial, "client in", client) &&
		       expand_label(client, v.key_label, k.key) &&
		       expand_label(client, v.iv_label, k.iv) &&
		       expand_label(client, v.hp_label, k.hp);
	}

	struct opened {
		std::int64_t pn = 0;
		std::span<const std::byte> payload; // in scratch
	};

	// Removes header protection (RFC 9001 5.4) and the AEAD (5.3).
	// pkt holds exactly the packet (h.size bytes).
	bool unprotect(std::span<const std::byte> pkt, const long_header &h,
	               const packet_keys &k, std::int64_t largest_pn,
	               opened &out)
	{
		constexpr std::uint8_t reserved_bits = 0x0c, pn_len_bits = 0x03;
		// The sample is taken as if the packet number were 4 bytes.
		if (pkt.size() < h.pn_offset + max_pn_len + sample_len)
			return false;
		std::array<std::uint8_t, sample_len> mask;
		int len = 0;
		if (!EVP_EncryptInit_ex2(hp.get(), nullptr, k.hp.data(),
		                         nullptr, nullptr) ||
		    !EVP_EncryptUpdate(
		            hp.get(), mask.data(), &len,
		            uc(pkt.data() + h.pn_offset + max_pn_len),
		            sample_len) ||
		    len != static_cast<int>(sample_len))
			return false;

		auto *hdr = uc(scratch.get());
		std::memcpy(hdr, pkt.data(), h.pn_offset);
		hdr[0] ^= mask[0] & 0x0f; // long header: 4 bits protected
		const std::size_t pn_len = (hdr[0] & pn_len_bits) + 1u;
		std::uint64_t truncated = 0;
		for (std::size_t i = 0; i < pn_len; ++i) {
			auto b = std::to_integer<std::uint8_t>(
			                 pkt[h.pn_offset + i]) ^
			         mask[1 + i];
			hdr[h.pn_offset + i] = b;
			truncated = truncated << 8 | b;
		}
		const auto hdr_len = h.pn_offset + pn_len;
		out.pn = decode_pn(largest_pn, truncated,
		                   static_cast<unsigned>(8 * pn_len));

		// The nonce is the IV with the packet number XORed into its
		// low bytes.
		auto nonce = k.iv;
		for (std::size_t i = 0; i < 8; ++i)
			nonce[nonce.size() - 1 - i] ^=
			        static_cast<std::uint8_t>(
			                static_cast<std::uint64_t>(out.pn) >>
			                8 * i);
		const auto ct_len = pkt.size() - hdr_len - tag_len;
		std::array<std::uint8_t, tag_len> tag;
		std::memcpy(tag.data(), pkt.data() + pkt.size() - tag_len,
		            tag_len);
		auto *plain = hdr + hdr_len;
		int n = 0;
		if (!EVP_DecryptInit_ex2(aead.get(), nullptr, k.key.data(),
		                         nonce.data(), nullptr) ||
		    !EVP_DecryptUpdate(aead.get(), nullptr, &n, hdr,
		                       static_cast<int>(hdr_len)) ||
		    !EVP_DecryptUpdate(aead.get(), plain, &n,
		                       uc(pkt.data() + hdr_len),
		                       static_cast<int>(ct_len)) ||
		    !EVP_CIPHER_CTX_ctrl(aead.get(), EVP_CTRL_GCM_SET_TAG,
		                         tag_len, tag.data()) ||
		    EVP_DecryptFinal_ex(aead.get(), plain + n, &n) <= 0)
			return false;
		// RFC 9000 17.2: reserved bits set after removing protection,
		// or a packet without frames (12.4), would make the server
		// close the connection.
		if (hdr[0] & reserved_bits || ct_len == 0)
			return false;
		out.payload = {scratch.get() + hdr_len, ct_len};
		return true;
	}

	// The flow's keys first.  Failing those, other keys the client could
	// rightly be using, each tried at most once per flow:
	// - a flow without keys: its first Initial, keys from its DCID;
	// - another known version: a compatible version negotiation
	//   (RFC 9368) moved the client, and the keys are that version's from
	//   the original DCID;
	// - a token and a DCID not the original: the client answers a Retry
	//   with keys from the Retry's connection ID (RFC 9001 5.2).
	// Other DCIDs (the server's, chosen in its Initial) use the original
	// keys, which is why the keys stay in the state.
	bool open(std::span<const std::byte> pkt, const long_header &h,
	          initial_state &st, opened &out)
	{
		const bool has_keys = st.version_ != 0;
		auto original = std::span(st.dcid_).first(st.dcid_len_);
		if (has_keys && h.v->version == st.version_ &&
		    unprotect(pkt, h, st.keys_, st.largest_pn_, out))
			return true;

		std::span<const std::byte> cid;
		if (!has_keys) {
			if (h.dcid.size() < min_original_dcid)
				return false;
			cid = h.dcid;
		} else if (st.rekeys_left_ == 0) {
			return false;
		} else if (h.v->version != st.version_) {
			cid = original;
		} else if (!h.token.empty() && !same_bytes(h.dcid, original)) {
			cid = h.dcid;
		} else {
			return false;
		}
		if (has_keys)
			--st.rekeys_left_;
		packet_keys k;
		if (!derive(*h.v, cid, k) ||
		    !unprotect(pkt, h, k, st.largest_pn_, out))
			return false;
		if (!has_keys)
			st.rekeys_left_ = max_rekeys;
		st.version_ = h.v->version;
		st.keys_ = k;
		std::copy(cid.begin(), cid.end(), st.dcid_.begin());
		st.dcid_len_ = cid.size();
		return true;
	}

	// One Initial: its frames are checked whole before any is used, so
	// that a packet the server would refuse leaves no CRYPTO bytes.
	bool accept(std::span<const std::byte> pkt, const long_header &h,
	            initial_state &st)
	{
		opened o;
		if (!open(pkt, h, st, o) ||
		    !walk_frames(o.payload, [](std::uint64_t,
		                               std::span<const std::byte>) {}))
			return false;
		walk_frames(o.payload, [&st](std::uint64_t off,
		                             std::span<const std::byte> d) {
			st.add_crypto(off, d);
		});
		st.largest_pn_ = std::max(st.largest_pn_, o.pn);
		return true;
	}
};

initial_decoder::initial_decoder() : impl_(std::make_unique<impl>()) {}

initial_decoder::~initial_decoder() = default;

status initial_decoder::feed(std::span<const std::byte> udp_payload,
                             initial_state &st)
{
	// Cannot be UDP, and would not fit the scratch buffer.
	if (udp_payload.size() > max_datagram)
		return status::invalid;
	bool tried = false, rejected = false;
	auto rest = udp_payload;
	std::span<const std::byte> dcid;
	while (!rest.empty()) {
		long_header h;
		auto r = parse_long_header(rest, h);
		if (r == parsed::foreign)
			break;
		// RFC 9000 12.2: coalesced packets share one DCID; a server
		// drops the others, and the walk ends there.
		bool first = rest.data() == udp_payload.data();
		if (r == parsed::ok && !first && !same_bytes(h.dcid, dcid))
			break;
		if (h.type == packet_type::initial) {
			tried = true;
			if (r != parsed::ok ||
			    !impl_->accept(rest.first(h.size), h, st))
				rejected = true;
		}
		if (r != parsed::ok)
			break;
		dcid = h.dcid;
		rest = rest.subspan(h.size);
	}

	if (st.failed())
		return status::invalid;
	if (!tried)
		return status::not_quic;
	if (rejected)
		return status::invalid;
	return st.hello_complete() ? status::complete : status::need_more;
}

bool looks_like_client_initial(std::span<const std::byte> datagram)
{
	if (datagram.size() < min_initial_datagram)
		return false;
	long_header h;
	return parse_long_header(datagram, h) == parsed::ok &&
	       h.type == packet_type::initial;
}

} // namespace nfring::l7::quic
