// The sending side of QUIC Initial protection, for tests and the fuzz
// harness only: builds client Initials that nfring::l7::quic must accept,
// with whatever frames a test wants in them.  It derives keys with
// OpenSSL's HKDF KDF rather than the library's HMAC-based HKDF, so that a
// mistake in one is not mirrored in the other.  Errors abort: a test with
// a broken helper must not pass.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "nfring/l7/quic.hpp"

namespace nfring_test::quic
{

using bytes = std::vector<std::byte>;

inline void require(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "quic_protect: %s failed\n", what);
		std::abort();
	}
}

inline const unsigned char *uc(const std::byte *p)
{
	return reinterpret_cast<const unsigned char *>(p);
}

// ---- writing -------------------------------------------------------------

// Appends big-endian numbers, QUIC varints and QUIC frames.
class writer
{
public:
	writer &u8(unsigned v)
	{
		out.push_back(static_cast<std::byte>(v & 0xff));
		return *this;
	}
	writer &u16(unsigned v) { return u8(v >> 8).u8(v); }
	writer &u24(unsigned v) { return u8(v >> 16).u16(v); }
	writer &u32(std::uint32_t v) { return u16(v >> 16).u16(v); }
	writer &raw(std::span<const std::byte> b)
	{
		out.insert(out.end(), b.begin(), b.end());
		return *this;
	}
	writer &str(std::string_view s)
	{
		for (char c : s)
			u8(static_cast<unsigned char>(c));
		return *this;
	}
	writer &fill(std::size_t n, unsigned v)
	{
		out.insert(out.end(), n, static_cast<std::byte>(v));
		return *this;
	}

	// The shortest encoding, or exactly width bytes when given.
	writer &varint(std::uint64_t v, unsigned width = 0)
	{
		if (!width)
			width = v < 64           ? 1
			        : v < 16384      ? 2
			        : v < (1u << 30) ? 4
			                         : 8;
		unsigned bits = width == 1   ? 0
		                : width == 2 ? 1
		                : width == 4 ? 2
		                             : 3;
		for (unsigned i = 0; i < width; ++i) {
			unsigned b =
			        static_cast<unsigned>(v >> 8 * (width - 1 - i));
			u8(i == 0 ? (b & 0x3f) | bits << 6 : b);
		}
		return *this;
	}

	writer &padding(std::size_t n) { return fill(n, 0x00); }
	writer &ping() { return u8(0x01); }
	writer &crypto(std::uint64_t offset, std::span<const std::byte> data)
	{
		return u8(0x06).varint(offset).varint(data.size()).raw(data);
	}

	bytes out;
};

// ---- keys ----------------------------------------------------------------

struct version_params {
	std::array<std::uint8_t, 20> salt;
	const char *prefix; // of the key, iv and hp labels
	unsigned initial_type_bits;
};

inline version_params params_of(std::uint32_t version)
{
	using namespace nfring::l7::quic;
	// RFC 9001 5.2, RFC 9369 3.1 and 3.3.1, draft-ietf-quic-tls-29 5.2.
	if (version == version_2)
		return {{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6,
		         0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
		         0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
		        "quicv2 ",
		        1};
	if (version == version_draft29)
		return {{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2,
		         0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
		         0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
		        "quic ",
		        0};
	return {{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	         0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
	        "quic ",
	        0};
}

// OpenSSL's HKDF in one mode: EXTRACT_ONLY (key = IKM, salt) or
// EXPAND_ONLY (key = PRK, info).
inline void hkdf(const char *mode, std::span<const std::uint8_t> key,
                 std::span<const std::uint8_t> salt_or_info,
                 std::span<std::uint8_t> out)
{
	EVP_KDF *kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
	require(kdf, "EVP_KDF_fetch");
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	require(ctx, "EVP_KDF_CTX_new");
	bool extract = std::strcmp(mode, "EXTRACT_ONLY") == 0;
	char sha256[] = "SHA256";
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE,
	                                         const_cast<char *>(mode), 0),
	        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, sha256,
	                                         0),
	        OSSL_PARAM_construct_octet_string(
	                OSSL_KDF_PARAM_KEY,
	                const_cast<std::uint8_t *>(key.data()), key.size()),
	        OSSL_PARAM_construct_octet_string(
	                extract ? OSSL_KDF_PARAM_SALT : OSSL_KDF_PARAM_INFO,
	                const_cast<std::uint8_t *>(salt_or_info.data()),
	                salt_or_info.size()),
	        OSSL_PARAM_construct_end()};
	require(EVP_KDF_derive(ctx, out.data(), out.size(), params) > 0,
	        "EVP_KDF_derive");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

// RFC 8446 7.1 with an empty context.
inline void expand_label(std::span<const std::uint8_t> secret,
                         std::string label, std::span<std::uint8_t> out)
{
	std::string full = "tls13 " + label;
	std::vector<std::uint8_t> info = {
	        static_cast<std::uint8_t>(out.size() >> 8),
	        static_cast<std::uint8_t>(out.size()),
	        static_cast<std::uint8_t>(full.size())};
	info.insert(info.end(), full.begin(), full.end());
	info.push_back(0);
	hkdf("EXPAND_ONLY", secret, info, out);
}

struct client_keys {
	std::array<std::uint8_t, 16> key;
	std::array<std::uint8_t, 12> iv;
	std::array<std::uint8_t, 16> hp;
};

inline client_keys derive(std::uint32_t version,
                          std::span<const std::byte> dcid)
{
	auto v = params_of(version);
	std::array<std::uint8_t, 32> initial, client;
	hkdf("EXTRACT_ONLY", {uc(dcid.data()), dcid.size()}, v.salt, initial);
	expand_label(initial, "client in", client);
	client_keys k;
	std::string prefix = v.prefix;
	expand_label(client, prefix + "key", k.key);
	expand_label(client, prefix + "iv", k.iv);
	expand_label(client, prefix + "hp", k.hp);
	return k;
}

// ---- packets -------------------------------------------------------------

struct initial {
	std::uint32_t version = nfring::l7::quic::version_1;
	bytes dcid;     // in the header
	bytes key_dcid; // the keys' connection ID; empty: dcid
	bytes scid;
	bytes token;
	std::uint64_t pn = 0;
	unsigned pn_len = 4;   // 1 to 4 bytes on the wire
	unsigned reserved = 0; // the two reserved bits, which must be 0
	bytes frames;          // the plaintext payload
};

// The protected packet, with keys derived beforehand (the fuzz harness
// reuses them).  A payload too short for the header protection sample is
// padded with PADDING frames, as a sender must (RFC 9001 5.4.2).
inline bytes protect(const initial &p, const client_keys &k)
{
	constexpr std::size_t tag_len = 16;
	auto frames = p.frames;
	if (frames.size() + p.pn_len < 4)
		frames.resize(4 - p.pn_len, std::byte{0});

	writer w;
	w.u8(0xc0 | params_of(p.version).initial_type_bits << 4 |
	     (p.reserved & 3) << 2 | (p.pn_len - 1));
	w.u32(p.version);
	w.u8(static_cast<unsigned>(p.dcid.size())).raw(p.dcid);
	w.u8(static_cast<unsigned>(p.scid.size())).raw(p.scid);
	w.varint(p.token.size()).raw(p.token);
	// Two bytes while they suffice, so that tests can pad a packet to an
	// exact size.
	auto length = p.pn_len + frames.size() + tag_len;
	w.varint(length, length < 16384 ? 2 : 4);
	auto pn_offset = w.out.size();
	for (unsigned i = 0; i < p.pn_len; ++i)
		w.u8(static_cast<unsigned>(p.pn >> 8 * (p.pn_len - 1 - i)));
	auto header = w.out;

	auto nonce = k.iv;
	for (std::size_t i = 0; i < 8; ++i)
		nonce[11 - i] ^= static_cast<std::uint8_t>(p.pn >> 8 * i);
	bytes sealed(frames.size() + tag_len);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	require(ctx, "EVP_CIPHER_CTX_new");
	int n = 0;
	auto *out = reinterpret_cast<unsigned char *>(sealed.data());
	require(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr,
	                           k.key.data(), nonce.data()) &&
	                EVP_EncryptUpdate(ctx, nullptr, &n, uc(header.data()),
	                                  static_cast<int>(header.size())) &&
	                EVP_EncryptUpdate(ctx, out, &n, uc(frames.data()),
	                                  static_cast<int>(frames.size())) &&
	                EVP_EncryptFinal_ex(ctx, out + n, &n) &&
	                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, tag_len,
	                                    out + frames.size()),
	        "AES-128-GCM");
	w.raw(sealed);

	// Header protection: the sample is 4 bytes past the packet number's
	// start, whatever its length.
	std::array<unsigned char, 16> mask;
	require(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, k.hp.data(),
	                           nullptr) &&
	                EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	                EVP_EncryptUpdate(ctx, mask.data(), &n,
	                                  uc(w.out.data() + pn_offset + 4), 16),
	        "AES-128-ECB");
	EVP_CIPHER_CTX_free(ctx);
	w.out[0] ^= static_cast<std::byte>(mask[0] & 0x0f);
	for (unsigned i = 0; i < p.pn_len; ++i)
		w.out[pn_offset + i] ^= static_cast<std::byte>(mask[1 + i]);
	return w.out;
}

inline bytes protect(const initial &p)
{
	return protect(
	        p, derive(p.version, p.key_dcid.empty() ? p.dcid : p.key_dcid));
}

// A long-header packet that is not an Initial (type_bits as on the wire),
// with an arbitrary body: the decoder only skips these.
inline bytes other_long(std::uint32_t version, unsigned type_bits,
                        std::span<const std::byte> dcid, std::size_t body)
{
	writer w;
	w.u8(0xc0 | type_bits << 4 | 3).u32(version);
	w.u8(static_cast<unsigned>(dcid.size())).raw(dcid).u8(0);
	w.varint(body, 2).fill(body, 0x5a);
	return w.out;
}

// Packets coalesced into one datagram, then zero bytes to the client's
// minimum size (RFC 9000 14.1 allows padding after the packets).
inline bytes
datagram(std::initializer_list<bytes> packets,
         std::size_t min_size = nfring::l7::quic::min_initial_datagram)
{
	bytes d;
	for (const auto &p : packets)
		d.insert(d.end(), p.begin(), p.end());
	if (d.size() < min_size)
		d.resize(min_size, std::byte{0});
	return d;
}

} // namespace nfring_test::quic
