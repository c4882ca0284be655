// A QUIC client's first flight as browsers send it: a post-quantum
// ClientHello (1.8 KB) in two CRYPTO frames, one per Initial, each Initial
// in a datagram padded to 1200 bytes.  For the unit tests and the VM's
// nfring-udp.
#pragma once

#include <string>
#include <vector>

#include "quic_protect.hpp"
#include "tls_builder.hpp"

namespace nfring_test::quic
{

inline std::vector<bytes> client_flight(const std::string &sni,
                                        std::uint32_t version,
                                        std::vector<std::string> alpn = {"h3"})
{
	test::hello_spec s;
	s.sni = sni;
	s.alpn = std::move(alpn);
	const bytes hello = test::client_hello_message(s);
	const std::size_t cut = 1000;
	std::vector<bytes> out;
	for (int i = 0; i < 2; i++) {
		initial p;
		p.version = version;
		p.dcid = bytes(8, std::byte{0x42});
		p.pn = static_cast<std::uint64_t>(i);
		writer w;
		const std::size_t off = i ? cut : 0;
		const std::size_t n = i ? hello.size() - cut : cut;
		w.crypto(off, std::span(hello).subspan(off, n));
		p.frames = w.out;
		out.push_back(datagram({protect(p)}));
	}
	return out;
}

} // namespace nfring_test::quic
