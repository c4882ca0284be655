// QUIC client Initial decoding: the example packets of RFC 9001, RFC 9369
// and draft-ietf-quic-tls-29, then flights sealed here
// (tests/common/quic_protect.hpp) that split, reorder, repeat, contradict
// and cut off CRYPTO data as clients and attackers do.  Each datagram is
// copied into a buffer of exactly its size, so that a sanitizer build
// catches any read past the span.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nfring/l7.hpp"
#include "nfring/l7/quic.hpp"
#include "quic_protect.hpp"

namespace
{

namespace q = nfring::l7::quic;
using nfring_test::quic::bytes;
using nfring_test::quic::datagram;
using nfring_test::quic::initial;
using nfring_test::quic::protect;
using nfring_test::quic::writer;

// ---- the RFCs' client Initials (each 1200 bytes, one datagram) -----------

// RFC 9001 A.2: version 1, DCID 8394c8f03e515708, packet number 2, a
// ClientHello for example.com in one CRYPTO frame, then PADDING.
constexpr std::string_view rfc9001_client_initial =
        "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
        "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
        "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
        "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
        "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
        "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
        "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
        "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
        "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
        "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
        "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
        "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
        "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
        "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
        "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
        "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
        "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
        "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
        "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
        "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
        "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
        "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
        "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
        "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
        "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
        "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
        "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
        "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
        "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
        "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
        "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
        "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
        "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
        "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
        "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
        "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
        "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
        "e221af44860018ab0856972e194cd934";
// RFC 9369 A.2: the same ClientHello under version 2.
constexpr std::string_view rfc9369_client_initial =
        "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
        "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
        "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
        "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
        "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
        "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
        "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
        "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
        "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
        "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
        "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
        "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
        "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
        "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
        "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
        "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
        "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
        "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
        "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
        "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
        "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
        "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
        "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
        "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
        "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
        "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
        "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
        "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
        "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
        "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
        "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
        "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
        "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
        "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
        "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
        "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
        "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
        "a18b2faa745b6fe189cf772a9f84cbfc";
// draft-ietf-quic-tls-29 A.2: version 0xff00001d, a ClientHello for
// "server".
constexpr std::string_view draft29_client_initial =
        "c5ff00001d088394c8f03e5157080000449e4a95245bfb66bc5f93032b7ddd89"
        "fe0ff15d9c4f7050fccdb71c1cd80512d4431643a53aafa1b0b518b44968b18b"
        "8d3e7a4d04c30b3ed9410325b2abb2dafb1c12f8b70479eb8df98abcaf95dd8f"
        "3d1c78660fbc719f88b23c8aef6771f3d50e10fdfb4c9d92386d44481b6c52d5"
        "9e5538d3d3942de9f13a7f8b702dc31724180da9df22714d01003fc5e3d165c9"
        "50e630b8540fbd81c9df0ee63f94997026c4f2e1887a2def79050ac2d86ba318"
        "e0b3adc4c5aa18bcf63c7cf8e85f569249813a2236a7e72269447cd1c755e451"
        "f5e77470eb3de64c8849d292820698029cfa18e5d66176fe6e5ba4ed18026f90"
        "900a5b4980e2f58e39151d5cd685b10929636d4f02e7fad2a5a458249f5c0298"
        "a6d53acbe41a7fc83fa7cc01973f7a74d1237a51974e097636b6203997f921d0"
        "7bc1940a6f2d0de9f5a11432946159ed6cc21df65c4ddd1115f86427259a196c"
        "7148b25b6478b0dc7766e1c4d1b1f5159f90eabc61636226244642ee148b464c"
        "9e619ee50a5e3ddc836227cad938987c4ea3c1fa7c75bbf88d89e9ada642b2b8"
        "8fe8107b7ea375b1b64889a4e9e5c38a1c896ce275a5658d250e2d76e1ed3a34"
        "ce7e3a3f383d0c996d0bed106c2899ca6fc263ef0455e74bb6ac1640ea7bfedc"
        "59f03fee0e1725ea150ff4d69a7660c5542119c71de270ae7c3ecfd1af2c4ce5"
        "51986949cc34a66b3e216bfe18b347e6c05fd050f85912db303a8f054ec23e38"
        "f44d1c725ab641ae929fecc8e3cefa5619df4231f5b4c009fa0c0bbc60bc75f7"
        "6d06ef154fc8577077d9d6a1d2bd9bf081dc783ece60111bea7da9e5a9748069"
        "d078b2bef48de04cabe3755b197d52b32046949ecaa310274b4aac0d008b1948"
        "c1082cdfe2083e386d4fd84c0ed0666d3ee26c4515c4fee73433ac703b690a9f"
        "7bf278a77486ace44c489a0c7ac8dfe4d1a58fb3a730b993ff0f0d61b4d89557"
        "831eb4c752ffd39c10f6b9f46d8db278da624fd800e4af85548a294c1518893a"
        "8778c4f6d6d73c93df200960104e062b388ea97dcf4016bced7f62b4f062cb6c"
        "04c20693d9a0e3b74ba8fe74cc01237884f40d765ae56a51688d985cf0ceaef4"
        "3045ed8c3f0c33bced08537f6882613acd3b08d665fce9dd8aa73171e2d3771a"
        "61dba2790e491d413d93d987e2745af29418e428be34941485c93447520ffe23"
        "1da2304d6a0fd5d07d0837220236966159bef3cf904d722324dd852513df39ae"
        "030d8173908da6364786d3c1bfcb19ea77a63b25f1e7fc661def480c5d00d444"
        "56269ebd84efd8e3a8b2c257eec76060682848cbf5194bc99e49ee75e4d0d254"
        "bad4bfd74970c30e44b65511d4ad0e6ec7398e08e01307eeeea14e46ccd87cf3"
        "6b285221254d8fc6a6765c524ded0085dca5bd688ddf722e2c0faf9d0fb2ce7a"
        "0c3f2cee19ca0ffba461ca8dc5d2c8178b0762cf67135558494d2a96f1a139f0"
        "edb42d2af89a9c9122b07acbc29e5e722df8615c343702491098478a389c9872"
        "a10b0c9875125e257c7bfdf27eef4060bd3d00f4c14fd3e3496c38d3c5d1a566"
        "8c39350effbc2d16ca17be4ce29f02ed969504dda2a8c6b9ff919e693ee79e09"
        "089316e7d1d89ec099db3b2b268725d888536a4b8bf9aee8fb43e82a4d919d48"
        "43b1ca70a2d8d3f725ead1391377dcc0";

bytes from_hex(std::string_view hex)
{
	auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
	bytes out;
	for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
		out.push_back(static_cast<std::byte>(nibble(hex[i]) << 4 |
		                                     nibble(hex[i + 1])));
	return out;
}

bytes first(const bytes &b, std::size_t n)
{
	return bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
}

bytes slice(const bytes &b, std::size_t from, std::size_t to)
{
	return bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
	             b.begin() + static_cast<std::ptrdiff_t>(to));
}

// What the worker does with the result: its own TLS parser, which wants
// a record header in front of the handshake message.
std::optional<std::string> sni_of(std::span<const std::byte> hello)
{
	writer w;
	w.u8(22).u16(0x0301).u16(static_cast<unsigned>(hello.size()));
	w.raw(hello);
	return nfring::l7::tls_sni(w.out);
}

// A TLS 1.3 ClientHello as a post-quantum browser sends it over QUIC: an
// X25519MLKEM768 key share (1216 bytes) beside an X25519 one, ALPN h3 and
// transport parameters; about 1.8 KB, so it spans two Initial datagrams.
bytes client_hello(std::string_view sni, std::size_t pq_share = 1216)
{
	writer ext;
	ext.u16(0x0000).u16(static_cast<unsigned>(sni.size() + 5)); // SNI
	ext.u16(static_cast<unsigned>(sni.size() + 3)).u8(0);
	ext.u16(static_cast<unsigned>(sni.size())).str(sni);
	ext.u16(0x0010).u16(5).u16(3).u8(2).str("h3"); // ALPN
	ext.u16(0x002b).u16(3).u8(2).u16(0x0304);      // supported_versions
	ext.u16(0x000a).u16(6).u16(4).u16(0x11ec).u16(0x001d); // groups
	auto shares = static_cast<unsigned>(4 + pq_share + 4 + 32);
	ext.u16(0x0033).u16(shares + 2).u16(shares); // key_share
	ext.u16(0x11ec)
	        .u16(static_cast<unsigned>(pq_share))
	        .fill(pq_share, 0x3c);
	ext.u16(0x001d).u16(32).fill(32, 0x1d);
	ext.u16(0x0039).u16(400).fill(400, 0x07); // quic_transport_parameters

	writer body;
	body.u16(0x0303).fill(32, 0x11).u8(0); // version, random, no session
	body.u16(6).u16(0x1301).u16(0x1302).u16(0x1303).u8(1).u8(0);
	body.u16(static_cast<unsigned>(ext.out.size())).raw(ext.out);
	writer hs;
	hs.u8(1).u24(static_cast<unsigned>(body.out.size())).raw(body.out);
	return hs.out;
}

const bytes dcid_a = {std::byte{0x8a}, std::byte{0x11}, std::byte{0x22},
                      std::byte{0x33}, std::byte{0x44}, std::byte{0x55},
                      std::byte{0x66}, std::byte{0x77}};
const bytes dcid_b = {std::byte{0xb0}, std::byte{0xb1}, std::byte{0xb2},
                      std::byte{0xb3}, std::byte{0xb4}};
const bytes dcid_retry = {std::byte{0x7e}, std::byte{0x7e}, std::byte{0x01},
                          std::byte{0x02}, std::byte{0x03}, std::byte{0x04},
                          std::byte{0x05}, std::byte{0x06}};

// An Initial padded with PADDING frames to fill a datagram of `size`
// bytes, as clients do (RFC 9000 14.1).
bytes padded(initial p, std::size_t size = q::min_initial_datagram)
{
	auto bare = protect(p).size();
	if (bare < size)
		p.frames.resize(p.frames.size() + (size - bare), std::byte{0});
	return protect(p);
}

initial v1(std::uint64_t pn, bytes frames, const bytes &dcid = dcid_a)
{
	initial p;
	p.dcid = dcid;
	p.pn = pn;
	p.frames = std::move(frames);
	return p;
}

bytes crypto_frame(std::uint64_t offset, std::span<const std::byte> data)
{
	return writer{}.crypto(offset, data).out;
}

class QuicInitial : public ::testing::Test
{
protected:
	q::status feed(const bytes &d) { return feed(d, st); }

	q::status feed(const bytes &d, q::initial_state &s)
	{
		auto exact = std::make_unique<std::byte[]>(d.size());
		std::copy(d.begin(), d.end(), exact.get());
		return dec.feed({exact.get(), d.size()}, s);
	}

	bytes crypto() const
	{
		auto c = st.crypto();
		return bytes(c.begin(), c.end());
	}

	q::initial_decoder dec;
	q::initial_state st;
};

// ---- the RFCs' packets ---------------------------------------------------

TEST_F(QuicInitial, Rfc9001ClientInitialGivesClientHelloForExampleCom)
{
	EXPECT_EQ(feed(from_hex(rfc9001_client_initial)), q::status::complete);
	EXPECT_EQ(st.version(), q::version_1);
	auto hello = st.client_hello();
	ASSERT_EQ(hello.size(), 4u + 0xed);
	EXPECT_EQ(hello[0], std::byte{0x01});
	EXPECT_EQ(st.crypto().size(), hello.size());
	EXPECT_EQ(sni_of(hello), "example.com");
	EXPECT_FALSE(st.inconsistent());
	EXPECT_FALSE(st.overflowed());
}

TEST_F(QuicInitial, Rfc9369VersionTwoClientInitialGivesSameClientHello)
{
	EXPECT_EQ(feed(from_hex(rfc9369_client_initial)), q::status::complete);
	EXPECT_EQ(st.version(), q::version_2);
	ASSERT_EQ(st.client_hello().size(), 4u + 0xed);
	EXPECT_EQ(sni_of(st.client_hello()), "example.com");
}

TEST_F(QuicInitial, Draft29ClientInitialGivesClientHelloForServer)
{
	EXPECT_EQ(feed(from_hex(draft29_client_initial)), q::status::complete);
	EXPECT_EQ(st.version(), q::version_draft29);
	ASSERT_EQ(st.client_hello().size(), 4u + 0xc0);
	EXPECT_EQ(sni_of(st.client_hello()), "server");
}

TEST_F(QuicInitial, RetransmittedRfcPacketStaysComplete)
{
	auto d = from_hex(rfc9001_client_initial);
	EXPECT_EQ(feed(d), q::status::complete);
	EXPECT_EQ(feed(d), q::status::complete);
	EXPECT_FALSE(st.inconsistent());
}

TEST(QuicLooksLike, AcceptsTheRfcClientInitials)
{
	EXPECT_TRUE(
	        q::looks_like_client_initial(from_hex(rfc9001_client_initial)));
	EXPECT_TRUE(
	        q::looks_like_client_initial(from_hex(rfc9369_client_initial)));
	EXPECT_TRUE(
	        q::looks_like_client_initial(from_hex(draft29_client_initial)));
}

TEST(QuicLooksLike, RejectsWhatNoServerWouldTakeAsAClientInitial)
{
	auto good = from_hex(rfc9001_client_initial);
	auto check = [&](auto change) {
		auto d = good;
		change(d);
		return q::looks_like_client_initial(d);
	};
	EXPECT_FALSE(check([](bytes &d) { d.pop_back(); })); // 1199 bytes
	EXPECT_FALSE(check([](bytes &d) { d[0] &= std::byte{0x7f}; }));
	EXPECT_FALSE(check([](bytes &d) { d[0] &= std::byte{0xbf}; }));
	EXPECT_FALSE(check([](bytes &d) { d[4] = std::byte{0x02}; }));
	EXPECT_FALSE(check([](bytes &d) { d[4] = std::byte{0x00}; })); // VN
	// Version 1's 0-RTT type bits; and 21 bytes of DCID.
	EXPECT_FALSE(check([](bytes &d) { d[0] |= std::byte{0x10}; }));
	EXPECT_FALSE(check([](bytes &d) { d[5] = std::byte{21}; }));
	// Version 2 numbers the types differently: 0b00 is its Retry.
	auto v2 = from_hex(rfc9369_client_initial);
	v2[0] &= std::byte{0xcf};
	EXPECT_FALSE(q::looks_like_client_initial(v2));
}

TEST_F(QuicInitial, EveryTruncationOfRfcPacketIsRefused)
{
	auto d = from_hex(rfc9001_client_initial);
	for (std::size_t n = 0; n < d.size(); ++n) {
		q::initial_state s;
		auto got = feed(first(d, n), s);
		// Without a version there is nothing to say it is QUIC.
		EXPECT_EQ(got, n < 5 ? q::status::not_quic : q::status::invalid)
		        << n;
		EXPECT_EQ(s.version(), 0u) << n;
		EXPECT_TRUE(s.crypto().empty()) << n;
	}
}

TEST_F(QuicInitial, UnknownVersionsAndShortHeadersAreNotQuic)
{
	auto d = from_hex(rfc9001_client_initial);
	d[4] = std::byte{0x02};
	EXPECT_EQ(feed(d), q::status::not_quic);
	d[1] = d[2] = d[3] = d[4] = std::byte{0}; // version negotiation
	EXPECT_EQ(feed(d), q::status::not_quic);
	EXPECT_EQ(feed(datagram({bytes{std::byte{0x41}}})),
	          q::status::not_quic);
	EXPECT_EQ(feed({}), q::status::not_quic);
	EXPECT_EQ(st.version(), 0u);
}

TEST_F(QuicInitial, CorruptedPacketIsInvalidAndLeavesNoKeys)
{
	auto d = from_hex(rfc9001_client_initial);
	auto bad = d;
	bad[600] ^= std::byte{0x01};
	EXPECT_EQ(feed(bad), q::status::invalid);
	EXPECT_EQ(st.version(), 0u);
	EXPECT_EQ(feed(d), q::status::complete);
}

// ---- flights built here --------------------------------------------------

TEST_F(QuicInitial, PostQuantumHelloSplitOverTwoDatagramsOutOfOrder)
{
	auto hello = client_hello("www.example.org");
	ASSERT_GT(hello.size(), 1700u);
	auto d1 = padded(
	        v1(0, crypto_frame(1000, slice(hello, 1000, hello.size()))));
	writer w;
	w.ping().crypto(0, first(hello, 1000)).padding(7).ping();
	auto d2 = padded(v1(1, w.out));

	ASSERT_TRUE(q::looks_like_client_initial(d1));
	ASSERT_TRUE(q::looks_like_client_initial(d2));
	EXPECT_EQ(feed(d1), q::status::need_more);
	EXPECT_TRUE(st.crypto().empty());
	EXPECT_EQ(feed(d2), q::status::complete);
	EXPECT_EQ(crypto(), hello);
	EXPECT_EQ(sni_of(st.client_hello()), "www.example.org");
}

// Chrome's shape: CRYPTO frames cut at odd places and shuffled, with PING
// and PADDING between them, over two coalesced Initials and a second
// datagram.
TEST_F(QuicInitial, ShuffledCryptoFramesAcrossPacketsAndDatagrams)
{
	auto hello = client_hello("chrome.example");
	auto part = [&](std::size_t from, std::size_t to) {
		return slice(hello, from, std::min(to, hello.size()));
	};
	writer p0, p1, p2;
	p0.ping().crypto(900, part(900, 1300)).padding(3);
	p0.crypto(0, part(0, 400)).ping();
	p1.crypto(1300, part(1300, 1500)).padding(20);
	p2.padding(5).crypto(400, part(400, 900)).ping();
	p2.crypto(1500, part(1500, hello.size())).padding(40);
	auto d1 = datagram({protect(v1(0, p0.out)), protect(v1(1, p1.out))});
	auto d2 = padded(v1(2, p2.out));

	EXPECT_EQ(feed(d1), q::status::need_more);
	EXPECT_EQ(st.crypto().size(), 400u);
	EXPECT_EQ(feed(d2), q::status::complete);
	EXPECT_EQ(crypto(), hello);
}

TEST_F(QuicInitial, RandomOrdersOfSmallFramesAllReassemble)
{
	auto hello = client_hello("random.example");
	std::mt19937 rng(9001);
	for (int round = 0; round < 20; ++round) {
		std::vector<std::pair<std::size_t, std::size_t>> chunks;
		for (std::size_t at = 0; at < hello.size();) {
			auto n = std::min<std::size_t>(1 + rng() % 60,
			                               hello.size() - at);
			chunks.emplace_back(at, at + n);
			at += n;
		}
		std::shuffle(chunks.begin(), chunks.end(), rng);
		q::initial_state s;
		std::uint64_t pn = 0;
		for (std::size_t i = 0; i < chunks.size(); i += 8) {
			writer w;
			for (std::size_t j = i;
			     j < std::min(i + 8, chunks.size()); ++j)
				w.crypto(chunks[j].first,
				         slice(hello, chunks[j].first,
				               chunks[j].second));
			auto got = feed(padded(v1(pn++, w.out)), s);
			ASSERT_NE(got, q::status::invalid) << round;
		}
		auto c = s.crypto();
		EXPECT_EQ(bytes(c.begin(), c.end()), hello) << round;
		EXPECT_TRUE(s.hello_complete()) << round;
	}
}

// After the server's Initial the client addresses the server's chosen
// connection ID, but Initial keys stay those of the original DCID.
TEST_F(QuicInitial, ServerChosenDcidKeepsOriginalKeys)
{
	auto hello = client_hello("later.example");
	auto d1 = padded(v1(0, crypto_frame(0, first(hello, 1000))));
	auto later = v1(1, crypto_frame(1000, slice(hello, 1000, hello.size())),
	                dcid_b);
	later.key_dcid = dcid_a;
	EXPECT_EQ(feed(d1), q::status::need_more);
	EXPECT_EQ(feed(padded(later)), q::status::complete);
	EXPECT_EQ(crypto(), hello);
}

TEST_F(QuicInitial, KeysOfANewDcidWithoutRetryTokenAreRefused)
{
	auto hello = client_hello("later.example");
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, first(hello, 1000))))),
	          q::status::need_more);
	// Sealed with keys of its own DCID: not this connection's client.
	auto other = v1(1, crypto_frame(1000, slice(hello, 1000, hello.size())),
	                dcid_retry);
	EXPECT_EQ(feed(padded(other)), q::status::invalid);
	EXPECT_EQ(st.crypto().size(), 1000u);
}

// RFC 9001 5.2: after a Retry the client's keys come from the Retry's
// connection ID, which its Initials (now with the Retry's token) carry.
TEST_F(QuicInitial, InitialsAfterRetryUseTheRetryConnectionId)
{
	auto hello = client_hello("retry.example");
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, first(hello, 1000))))),
	          q::status::need_more);
	auto again = v1(1, crypto_frame(0, hello), dcid_retry);
	again.token = bytes(40, std::byte{0x70});
	EXPECT_EQ(feed(padded(again, 2400)), q::status::complete);
	EXPECT_EQ(crypto(), hello);
	EXPECT_FALSE(st.inconsistent());
}

// RFC 9368: a server may move the client from version 1 to 2; the keys
// are then version 2's for the original DCID.
TEST_F(QuicInitial, CompatibleVersionChangeRederivesFromOriginalDcid)
{
	auto hello = client_hello("v2.example");
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, first(hello, 1000))))),
	          q::status::need_more);
	auto moved = v1(1, crypto_frame(1000, slice(hello, 1000, hello.size())),
	                dcid_b);
	moved.version = q::version_2;
	moved.key_dcid = dcid_a;
	EXPECT_EQ(feed(padded(moved)), q::status::complete);
	EXPECT_EQ(st.version(), q::version_2);
}

TEST_F(QuicInitial, FirstInitialWithDcidUnderEightBytesIsRefused)
{
	auto hello = client_hello("short.example");
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, hello), dcid_b))),
	          q::status::invalid);
	EXPECT_EQ(st.version(), 0u);
}

TEST_F(QuicInitial, OneBytePacketNumbersDecodeAcrossTheirWindow)
{
	// RFC 9000 A.3: a one-byte packet number is read as the one nearest
	// the next expected; steps of 97 cross each 256 boundary with a gap,
	// and each odd step goes back 50, as a reordered packet would.
	auto ping = [&](std::uint64_t pn) {
		auto p = v1(pn, writer{}.ping().out);
		p.pn_len = 1;
		return feed(protect(p));
	};
	std::uint64_t pn = 0;
	for (int i = 0; i < 40; ++i, pn += 97) {
		ASSERT_EQ(ping(pn), q::status::need_more) << pn;
		if (i % 2 && pn >= 50) {
			ASSERT_EQ(ping(pn - 50), q::status::need_more) << pn;
		}
	}
	auto hello = client_hello("wrap.example");
	auto p = v1(pn, crypto_frame(0, hello));
	p.pn_len = 1;
	EXPECT_EQ(feed(padded(p, 2000)), q::status::complete);
}

TEST_F(QuicInitial, AckRangesEcnAndConnectionCloseAreSkipped)
{
	auto hello = client_hello("frames.example");
	writer w;
	// ACK_ECN: largest 7, delay 0, 2 ranges, first range 1, (gap, length)
	// twice, ECT0/ECT1/CE counts; CONNECTION_CLOSE with a reason.
	w.u8(0x03).varint(7).varint(0).varint(2).varint(1);
	w.varint(0).varint(1).varint(0).varint(0);
	w.varint(1).varint(2).varint(300);
	w.u8(0x02).varint(20000).varint(25).varint(0).varint(3);
	w.u8(0x1c).varint(0x0a).varint(0x06).varint(3).str("bye");
	w.crypto(0, hello);
	EXPECT_EQ(feed(padded(v1(0, w.out), 2000)), q::status::complete);
	EXPECT_EQ(crypto(), hello);
}

TEST_F(QuicInitial, OtherFrameTypeEndsThePacketKeepingFramesBefore)
{
	auto hello = client_hello("stream.example");
	writer w;
	w.crypto(0, first(hello, 500));
	w.u8(0x08).varint(0).str("GET"); // STREAM: not allowed in Initial
	w.crypto(500, slice(hello, 500, hello.size()));
	EXPECT_EQ(feed(padded(v1(0, w.out), 2000)), q::status::need_more);
	EXPECT_EQ(st.crypto().size(), 500u);
}

TEST_F(QuicInitial, NonMinimalFrameTypeEndsThePacket)
{
	auto hello = client_hello("minimal.example");
	writer w;
	w.varint(0x06, 2).varint(0).varint(hello.size()).raw(hello);
	EXPECT_EQ(feed(padded(v1(0, w.out), 2000)), q::status::need_more);
	EXPECT_TRUE(st.crypto().empty());
}

TEST_F(QuicInitial, CryptoLengthPastPacketEndIsInvalidAndKeepsNothing)
{
	auto hello = client_hello("past.example");
	writer w;
	w.crypto(0, first(hello, 100)); // fine, but its packet is refused
	w.u8(0x06).varint(100).varint(2000).raw(slice(hello, 100, 150));
	EXPECT_EQ(feed(protect(v1(0, w.out))), q::status::invalid);
	EXPECT_TRUE(st.crypto().empty());
	EXPECT_FALSE(st.failed()); // one bad packet; the flow goes on
	EXPECT_EQ(feed(padded(v1(1, crypto_frame(0, hello)), 2000)),
	          q::status::complete);
}

TEST_F(QuicInitial, TruncatedFramesAreInvalid)
{
	std::vector<bytes> bad = {
	        writer{}.u8(0x06).varint(0).out,           // no length
	        writer{}.u8(0x06).u8(0x80).out,            // cut varint
	        writer{}.u8(0x02).varint(1).varint(0).out, // ACK cut short
	        // 1000 ACK ranges announced, none there.
	        writer{}.u8(0x02)
	                .varint(9)
	                .varint(0)
	                .varint(1000)
	                .varint(0)
	                .out,
	        writer{}.u8(0x03)
	                .varint(9)
	                .varint(0)
	                .varint(0)
	                .varint(0)
	                .varint(1)
	                .out,
	        writer{}.u8(0x1c).varint(1).varint(0).varint(50).str("x").out,
	        // offset + length beyond 2^62 - 1
	        writer{}.u8(0x06).varint((1ull << 62) - 1).varint(1).u8(1).out,
	};
	std::uint64_t pn = 0;
	for (const auto &frames : bad)
		EXPECT_EQ(feed(protect(v1(pn++, frames))), q::status::invalid)
		        << pn;
	EXPECT_TRUE(st.crypto().empty());
}

TEST_F(QuicInitial, ReservedBitsSetIsInvalid)
{
	auto p = v1(0, crypto_frame(0, client_hello("reserved.example")));
	p.reserved = 1;
	EXPECT_EQ(feed(padded(p, 2000)), q::status::invalid);
	EXPECT_TRUE(st.crypto().empty());
}

TEST_F(QuicInitial, CutOffCoalescedInitialIsInvalid)
{
	auto hello = client_hello("cut.example");
	auto whole = datagram(
	        {protect(v1(0, crypto_frame(0, first(hello, 900)))),
	         protect(v1(1, crypto_frame(900,
	                                    slice(hello, 900, hello.size()))))},
	        0);
	for (auto n :
	     {whole.size() - 1, whole.size() - 17, whole.size() / 2 + 40}) {
		q::initial_state s;
		EXPECT_EQ(feed(first(whole, n), s), q::status::invalid) << n;
		EXPECT_FALSE(s.hello_complete()) << n;
	}
	EXPECT_EQ(feed(whole), q::status::complete);
}

TEST_F(QuicInitial, DisagreeingOverlapMarksTheStateInconsistent)
{
	auto hello = client_hello("overlap.example");
	auto forged = slice(hello, 500, 1000);
	forged[50] ^= std::byte{0xff};
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, first(hello, 600))))),
	          q::status::need_more);
	EXPECT_EQ(feed(padded(v1(1, crypto_frame(500, forged)))),
	          q::status::invalid);
	EXPECT_TRUE(st.inconsistent());
	EXPECT_TRUE(st.failed());
	// The first copy stays, and the state stays failed.
	EXPECT_EQ(crypto(), first(hello, 600));
	EXPECT_EQ(feed(padded(v1(2, crypto_frame(0, hello)), 2000)),
	          q::status::invalid);
	st.reset();
	EXPECT_FALSE(st.inconsistent());
	EXPECT_EQ(st.version(), 0u);
	EXPECT_TRUE(st.crypto().empty());
	EXPECT_EQ(feed(padded(v1(3, crypto_frame(0, hello)), 2000)),
	          q::status::complete);
}

TEST_F(QuicInitial, AgreeingOverlapsAreAccepted)
{
	auto hello = client_hello("overlap.example");
	writer w;
	w.crypto(300, slice(hello, 300, 900)).crypto(0, first(hello, 400));
	w.crypto(850, slice(hello, 850, hello.size()))
	        .crypto(100, slice(hello, 100, 200));
	EXPECT_EQ(feed(padded(v1(0, w.out), 2400)), q::status::complete);
	EXPECT_EQ(crypto(), hello);
	EXPECT_FALSE(st.inconsistent());
}

TEST_F(QuicInitial, SixtyFourGapsFitAndMerge)
{
	auto hello = client_hello("gaps.example");
	writer w;
	// Single bytes at 127, 125, ..., 1: 64 disjoint ranges.
	for (std::size_t at = 127; at < 128; at -= 2)
		w.crypto(at, slice(hello, at, at + 1));
	EXPECT_EQ(feed(padded(v1(0, w.out))), q::status::need_more);
	EXPECT_FALSE(st.overflowed());
	EXPECT_EQ(feed(padded(v1(1, crypto_frame(0, hello)), 2000)),
	          q::status::complete);
	EXPECT_EQ(crypto(), hello);
}

TEST_F(QuicInitial, TinyOutOfOrderFramesBeyondTheRangeBoundOverflow)
{
	auto hello = client_hello("gaps.example");
	writer w;
	// 65 disjoint single bytes, last first.
	for (std::size_t i = 65; i >= 1; --i)
		w.crypto(2 * i, slice(hello, 2 * i, 2 * i + 1));
	EXPECT_EQ(feed(padded(v1(0, w.out))), q::status::invalid);
	EXPECT_TRUE(st.overflowed());
	EXPECT_TRUE(st.failed());
}

TEST_F(QuicInitial, HelloLongerThanCapacityFails)
{
	q::initial_state small(1024);
	auto hello = client_hello("big.example");
	EXPECT_EQ(
	        feed(padded(v1(0, crypto_frame(0, first(hello, 1000)))), small),
	        q::status::invalid); // its declared length cannot fit
	EXPECT_TRUE(small.failed());
	EXPECT_EQ(small.crypto().size(), 1000u);

	q::initial_state fits(1024);
	auto little = client_hello("small.example", 100);
	ASSERT_LT(little.size(), 1024u);
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, little))), fits),
	          q::status::complete);
	// Bytes past the capacity after a complete hello are dropped.
	EXPECT_EQ(
	        feed(padded(v1(1, crypto_frame(4000, first(hello, 10)))), fits),
	        q::status::complete);
	EXPECT_TRUE(fits.overflowed());
	EXPECT_FALSE(fits.failed());
}

TEST_F(QuicInitial, FirstMessageOtherThanClientHelloIsInvalid)
{
	auto hello = client_hello("type.example");
	hello[0] = std::byte{0x02};
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, hello)), 2000)),
	          q::status::invalid);
	EXPECT_TRUE(st.failed());
}

TEST_F(QuicInitial, CoalescedZeroRttAndTrailingZerosAreSkipped)
{
	using nfring_test::quic::other_long;
	auto hello = client_hello("zerortt.example");
	auto d = datagram({protect(v1(0, crypto_frame(0, hello))),
	                   other_long(q::version_1, 1, dcid_a, 300)},
	                  2400);
	EXPECT_EQ(feed(d), q::status::complete);

	q::initial_state s;
	auto p = v1(0, crypto_frame(0, hello));
	p.version = q::version_2;
	auto d2 =
	        datagram({protect(p), other_long(q::version_2, 2, dcid_a, 300),
	                  other_long(q::version_2, 3, dcid_a, 40)},
	                 2400);
	EXPECT_EQ(feed(d2, s), q::status::complete);
}

// Senders put the Initial first (RFC 9000 12.2), but a server reads each
// coalesced packet on its own, so one after a skipped packet counts too.
TEST_F(QuicInitial, InitialAfterAHandshakePacketIsRead)
{
	using nfring_test::quic::other_long;
	auto hello = client_hello("order.example");
	auto d = datagram({other_long(q::version_1, 2, dcid_a, 100),
	                   protect(v1(0, crypto_frame(0, hello)))},
	                  2400);
	EXPECT_EQ(feed(d), q::status::complete);
}

TEST_F(QuicInitial, CoalescedPacketForAnotherDcidIsIgnored)
{
	auto hello = client_hello("coalesce.example");
	auto d = datagram(
	        {protect(v1(0, crypto_frame(0, first(hello, 800)))),
	         protect(v1(1,
	                    crypto_frame(800, slice(hello, 800, hello.size())),
	                    dcid_retry))});
	EXPECT_EQ(feed(d), q::status::need_more);
	EXPECT_EQ(st.crypto().size(), 800u);
}

TEST_F(QuicInitial, OneDecoderServesInterleavedFlows)
{
	auto h1 = client_hello("one.example"), h2 = client_hello("two.example");
	q::initial_state s1, s2;
	auto p2 = [&](std::uint64_t pn, bytes frames) {
		auto p = v1(pn, std::move(frames), dcid_retry);
		p.version = q::version_2;
		return padded(p);
	};
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, first(h1, 900)))), s1),
	          q::status::need_more);
	EXPECT_EQ(feed(p2(0, crypto_frame(900, slice(h2, 900, h2.size()))), s2),
	          q::status::need_more);
	EXPECT_EQ(feed(p2(1, crypto_frame(0, first(h2, 900))), s2),
	          q::status::complete);
	EXPECT_EQ(feed(padded(v1(1,
	                         crypto_frame(900, slice(h1, 900, h1.size())))),
	               s1),
	          q::status::complete);
	EXPECT_EQ(sni_of(s1.client_hello()), "one.example");
	EXPECT_EQ(sni_of(s2.client_hello()), "two.example");
	EXPECT_EQ(s2.version(), q::version_2);
}

TEST_F(QuicInitial, MovedStateKeepsItsFlowAndLeavesAnEmptyOne)
{
	auto hello = client_hello("moved.example");
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, first(hello, 900))))),
	          q::status::need_more);
	q::initial_state moved(std::move(st));
	EXPECT_EQ(moved.version(), q::version_1);
	EXPECT_EQ(moved.crypto().size(), 900u);
	EXPECT_EQ(feed(padded(v1(1, crypto_frame(900, slice(hello, 900,
	                                                    hello.size())))),
	               moved),
	          q::status::complete);

	// What a moved-from state is, is specified (quic.hpp).
	EXPECT_EQ(st.capacity(), 0u);
	EXPECT_TRUE(st.crypto().empty());
	EXPECT_EQ(st.version(), 0u);
	EXPECT_EQ(feed(padded(v1(0, crypto_frame(0, hello)), 2000)),
	          q::status::invalid);
	EXPECT_TRUE(st.overflowed());
}

TEST_F(QuicInitial, DatagramLargerThanUdpAllowsIsInvalid)
{
	bytes huge(q::max_datagram + 1, std::byte{0});
	auto p = from_hex(rfc9001_client_initial);
	std::copy(p.begin(), p.end(), huge.begin());
	EXPECT_EQ(feed(huge), q::status::invalid);
}

} // namespace
