// libFuzzer harness for the QUIC Initial decoder: 1 to 3 datagrams into
// one flow's state.  Mutated ciphertext almost never authenticates, so
// besides raw datagrams the harness seals what the fuzzer gives it:
//
//   byte 0   bits 0-1: datagrams - 1 (3 counts as 3 datagrams too)
//            bits 2-3: version (1, 2, draft-29, 1)
//            bits 4-5: packet number length - 1
//            bits 6-7: 0 raw datagrams, 1 sealed frames, 2 sealed CRYPTO
//                      ranges checked against a model, 3 raw
//   byte 1   bit 0: later datagrams carry another DCID (the server's)
//            bit 1: a 600-byte CRYPTO capacity instead of the default
//            bit 2: later datagrams answer a Retry: a token, and keys
//                   from the Retry's connection ID (before bit 0)
//   then a 2-byte length for each datagram but the last, then their
//   bytes.
//
// Mode 2 reads each datagram's bytes as CRYPTO frames over a fixed
// stream (2-byte offset, 1-byte length, 1-byte flags: corrupt one byte,
// put a PING and PADDING first), seals only packets a server accepts,
// and compares the state and status with a bitmap model of the
// reassembly rules: which bytes are held, when they disagree, when a
// frame needs more than max_ranges ranges, when the ClientHello is
// complete or can no longer be.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "nfring/l7/quic.hpp"
#include "quic_protect.hpp"

namespace
{

namespace q = nfring::l7::quic;
namespace t = nfring_test::quic;

void require(bool ok)
{
	if (!ok)
		__builtin_trap();
}

constexpr std::array<std::uint32_t, 4> versions = {
        q::version_1, q::version_2, q::version_draft29, q::version_1};
const t::bytes dcid(8, std::byte{0xd1});
const t::bytes server_dcid(4, std::byte{0x5e});
const t::bytes retry_dcid(8, std::byte{0x7e});
const t::bytes retry_token(16, std::byte{0x70});

const t::client_keys &keys_for(unsigned version, bool retry)
{
	// Derived once: OpenSSL's KDF is slow next to the decoder.
	static std::array<std::optional<t::client_keys>, 8> keys;
	auto &k = keys[version + 4 * retry];
	if (!k)
		k = t::derive(versions[version], retry ? retry_dcid : dcid);
	return *k;
}

// The stream mode 2 sends: a ClientHello header declaring 2000 bytes,
// then bytes that differ from their neighbours.
constexpr std::size_t stream_len = 2304;
std::array<std::byte, stream_len> make_stream()
{
	std::array<std::byte, stream_len> s{};
	s[0] = std::byte{1};
	s[1] = std::byte{0};
	s[2] = std::byte{0x07};
	s[3] = std::byte{0xcc}; // 2000
	for (std::size_t i = 4; i < s.size(); ++i)
		s[i] = static_cast<std::byte>(i * 7 + i / 256);
	return s;
}
const auto stream = make_stream();

// The reassembly rules of initial_state, one byte at a time: a bitmap of
// held bytes, whose runs are the ranges.
class model
{
public:
	explicit model(std::size_t capacity) : have_(capacity), bytes_(capacity)
	{
	}

	void add(std::size_t offset, std::span<const std::byte> data)
	{
		if (data.empty())
			return;
		if (offset >= have_.size()) {
			overflowed = true;
			return;
		}
		if (data.size() > have_.size() - offset) {
			overflowed = true;
			data = data.first(have_.size() - offset);
		}
		const auto end = offset + data.size();
		// The runs that meet [offset, end) or touch it become one.
		const std::size_t from = offset ? offset - 1 : 0;
		const std::size_t to = std::min(end, have_.size() - 1);
		std::size_t met = 0;
		for (std::size_t i = from; i <= to; ++i)
			met += have_[i] && (i == from || !have_[i - 1]);
		if (runs_ - met + 1 > q::initial_state::max_ranges) {
			overflowed = true;
			return;
		}
		for (std::size_t i = 0; i < data.size(); ++i)
			if (have_[offset + i] &&
			    bytes_[offset + i] != data[i]) {
				inconsistent = true;
				return;
			}
		std::copy(data.begin(), data.end(), bytes_.begin() + offset);
		std::fill(have_.begin() + offset, have_.begin() + end, 1);
		runs_ = runs_ - met + 1;
	}

	std::span<const std::byte> contiguous() const
	{
		auto end = std::find(have_.begin(), have_.end(), 0);
		return std::span(bytes_).first(end - have_.begin());
	}

	// What feed() should answer for an accepted packet.
	q::status expected() const
	{
		auto c = contiguous();
		bool hello = c.empty() || c[0] == std::byte{1};
		std::size_t want = 0;
		if (c.size() >= 4)
			want = 4 + (std::to_integer<std::size_t>(c[1]) << 16 |
			            std::to_integer<std::size_t>(c[2]) << 8 |
			            std::to_integer<std::size_t>(c[3]));
		bool complete = hello && want && want <= c.size();
		if (inconsistent || (!complete && (!hello || overflowed ||
		                                   want > have_.size())))
			return q::status::invalid;
		return complete ? q::status::complete : q::status::need_more;
	}

	bool inconsistent = false;
	bool overflowed = false;

private:
	std::vector<std::uint8_t> have_;
	std::vector<std::byte> bytes_;
	std::size_t runs_ = 0;
};

// Mode 2: frames for one packet, applied to the model as they are made.
t::bytes ranges_to_frames(std::span<const std::byte> in, model &m)
{
	// 128 frames at most, which keeps a packet under max_datagram and
	// the model's work per input small.
	t::writer w;
	for (std::size_t i = 0; i + 4 <= in.size() && i < 4 * 128; i += 4) {
		auto b = [&](std::size_t k) {
			return std::to_integer<unsigned>(in[i + k]);
		};
		std::size_t offset = (b(0) << 8 | b(1)) % stream_len;
		std::size_t len =
		        std::min<std::size_t>(b(2), stream_len - offset);
		std::vector<std::byte> data(stream.begin() + offset,
		                            stream.begin() + offset + len);
		if (b(3) & 1 && len)
			data[b(3) % len] ^= std::byte{0x80};
		if (b(3) & 2)
			w.ping().padding(b(3) >> 4);
		w.crypto(offset, data);
		m.add(offset, data);
	}
	if (w.out.empty())
		w.ping(); // a packet without frames is refused (RFC 9000 12.4)
	return w.out;
}

void check_state(const q::initial_state &st, q::status got)
{
	auto crypto = st.crypto();
	auto hello = st.client_hello();
	require(crypto.size() <= st.capacity());
	require(hello.size() <= crypto.size());
	require(hello.empty() || hello[0] == std::byte{1});
	require(st.hello_complete() == !hello.empty());
	if (st.failed())
		require(got == q::status::invalid);
	if (got == q::status::complete)
		require(st.hello_complete());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static q::initial_decoder dec;
	if (size < 2)
		return 0;
	const unsigned mode = data[0] >> 6;
	const unsigned count = std::max(1u, data[0] & 3u);
	const unsigned version = data[0] >> 2 & 3;
	const unsigned pn_len = (data[0] >> 4 & 3) + 1;
	const bool new_dcid = data[1] & 1;
	const bool retry = data[1] & 4;
	const std::size_t capacity =
	        data[1] & 2 ? 600 : q::initial_state::default_crypto_capacity;

	std::span in(reinterpret_cast<const std::byte *>(data) + 2, size - 2);
	std::vector<std::span<const std::byte>> chunks;
	for (unsigned i = 1; i < count && in.size() >= 2; ++i) {
		std::size_t n = std::to_integer<std::size_t>(in[0]) << 8 |
		                std::to_integer<std::size_t>(in[1]);
		n = std::min(n, in.size() - 2);
		chunks.push_back(in.subspan(2, n));
		in = in.subspan(2 + n);
	}
	chunks.push_back(in);

	q::initial_state st(mode == 2 ? stream_len - 100 : capacity);
	model m(st.capacity());
	for (std::size_t i = 0; i < chunks.size(); ++i) {
		// Copied to exactly its size, so that ASan sees a read past it.
		std::vector<std::byte> d;
		if (mode == 1 || mode == 2) {
			t::initial p;
			p.version = versions[version];
			// The server's DCID only once keys exist: a flow's
			// first keys need one of 8 bytes at least.
			p.dcid = new_dcid && st.version() ? server_dcid : dcid;
			p.key_dcid = dcid;
			bool retried = retry && i > 0;
			if (retried) {
				p.dcid = p.key_dcid = retry_dcid;
				p.token = retry_token;
			}
			p.pn = i;
			p.pn_len = pn_len;
			p.frames = mode == 1 ? t::bytes(chunks[i].begin(),
			                                chunks[i].end())
			                     : ranges_to_frames(chunks[i], m);
			d = t::protect(p, keys_for(version, retried));
		} else {
			d.assign(chunks[i].begin(), chunks[i].end());
		}
		auto version_before = st.version();
		auto crypto_before = st.crypto().size();
		(void)q::looks_like_client_initial(d);
		auto got = dec.feed(d, st);
		check_state(st, got);
		if (got == q::status::not_quic)
			require(st.version() == version_before &&
			        st.crypto().size() == crypto_before);
		if (mode == 1 || mode == 2)
			require(got != q::status::not_quic);
		if (mode == 2) {
			require(got == m.expected());
			require(st.inconsistent() == m.inconsistent);
			require(st.overflowed() == m.overflowed);
			auto have = st.crypto();
			auto want = m.contiguous();
			require(m.inconsistent ||
			        std::equal(have.begin(), have.end(),
			                   want.begin(), want.end()));
		}
	}
	return 0;
}
