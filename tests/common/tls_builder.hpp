// Builds TLS ClientHellos for the tests, shaped like a 2024+ browser's: a
// post-quantum key share (X25519MLKEM768, group 0x11ec, 1216 bytes of key)
// makes the hello about 1.8 KB, so it spans two TCP segments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace test
{

struct hello_spec {
	std::string sni = "www.example.com";
	std::vector<std::string> alpn = {"h2", "http/1.1"};
	bool ech = false;
	bool post_quantum = true;
	bool sni_last = false; // Chrome permutes: server_name may come last
};

class tls_writer
{
public:
	void u8(unsigned v) { out.push_back(static_cast<std::byte>(v & 0xff)); }
	void u16(unsigned v)
	{
		u8(v >> 8);
		u8(v);
	}
	void u24(unsigned v)
	{
		u8(v >> 16);
		u16(v);
	}
	void str(std::string_view s)
	{
		for (char c : s)
			u8(static_cast<unsigned char>(c));
	}
	void fill(std::size_t n, unsigned v)
	{
		out.insert(out.end(), n, static_cast<std::byte>(v));
	}
	// Back-patches a width-byte length at `at` to cover what follows it.
	void patch(std::size_t at, std::size_t width)
	{
		const std::size_t v = out.size() - at - width;
		for (std::size_t i = 0; i < width; i++)
			out[at + width - 1 - i] =
			        static_cast<std::byte>(v >> 8 * i);
	}
	std::vector<std::byte> out;
};

// The ClientHello handshake message (type, length, body): what QUIC's
// CRYPTO frames carry.
inline std::vector<std::byte> client_hello_message(const hello_spec &s = {})
{
	tls_writer w;
	w.u8(1);
	const auto hs_len = w.out.size();
	w.u24(0);
	w.u16(0x0303);
	w.fill(32, 0x11); // random
	w.u8(32);
	w.fill(32, 0x22); // legacy session id
	w.u16(6);
	w.u16(0x1301);
	w.u16(0x1302);
	w.u16(0x1303);
	w.u8(1);
	w.u8(0);
	const auto exts = w.out.size();
	w.u16(0);
	auto server_name = [&] {
		w.u16(0);
		const auto ext = w.out.size();
		w.u16(0);
		const auto list = w.out.size();
		w.u16(0);
		w.u8(0);
		w.u16(static_cast<unsigned>(s.sni.size()));
		w.str(s.sni);
		w.patch(list, 2);
		w.patch(ext, 2);
	};
	if (!s.sni.empty() && !s.sni_last)
		server_name();
	if (!s.alpn.empty()) {
		w.u16(16);
		const auto ext = w.out.size();
		w.u16(0);
		const auto list = w.out.size();
		w.u16(0);
		for (const auto &id : s.alpn) {
			w.u8(static_cast<unsigned>(id.size()));
			w.str(id);
		}
		w.patch(list, 2);
		w.patch(ext, 2);
	}
	// supported_groups and signature_algorithms as browsers send them
	w.u16(10);
	w.u16(12);
	w.u16(10);
	for (unsigned g : {0x11ecu, 0x001du, 0x0017u, 0x0018u, 0x0019u})
		w.u16(g);
	w.u16(13);
	w.u16(18);
	w.u16(16);
	for (unsigned a : {0x0403u, 0x0804u, 0x0401u, 0x0503u, 0x0805u, 0x0501u,
	                   0x0806u, 0x0601u})
		w.u16(a);
	// Everything else a browser sends (status_request, SCT, ALPS,
	// compress_certificate, GREASE, ...) stands as one padding extension.
	w.u16(21);
	w.u16(330);
	w.fill(330, 0);
	// supported_versions: TLS 1.3
	w.u16(43);
	w.u16(3);
	w.u8(2);
	w.u16(0x0304);
	// key_share
	w.u16(51);
	const auto ks = w.out.size();
	w.u16(0);
	const auto shares = w.out.size();
	w.u16(0);
	if (s.post_quantum) {
		w.u16(0x11ec);
		w.u16(1216);
		w.fill(1216, 0x5a);
	}
	w.u16(0x001d);
	w.u16(32);
	w.fill(32, 0x6b);
	w.patch(shares, 2);
	w.patch(ks, 2);
	if (s.ech) {
		w.u16(0xfe0d);
		w.u16(10);
		w.fill(10, 0x7c);
	}
	if (!s.sni.empty() && s.sni_last)
		server_name();
	w.patch(exts, 2);
	w.patch(hs_len, 3);
	return w.out;
}

// The hello in TLS records of at most record_max bytes of payload each.
inline std::vector<std::byte>
client_hello_records(const hello_spec &s = {}, std::size_t record_max = 16384)
{
	const auto msg = client_hello_message(s);
	std::vector<std::byte> out;
	for (std::size_t off = 0; off < msg.size(); off += record_max) {
		const std::size_t n = std::min(record_max, msg.size() - off);
		tls_writer w;
		w.u8(22);
		w.u16(0x0301);
		w.u16(static_cast<unsigned>(n));
		out.insert(out.end(), w.out.begin(), w.out.end());
		out.insert(out.end(), msg.begin() + off, msg.begin() + off + n);
	}
	return out;
}

} // namespace test
