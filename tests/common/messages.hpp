// Real-shaped L7 messages for tests, tools and benchmarks: a TLS
// ClientHello with SNI, a DNS query, an HTTP/1.1 request.  One copy, so
// that what the unit tests parse is what the VM tests send.
#pragma once

#include <cstddef>
#include <string>

namespace nfring_test
{

inline void put16(std::string &s, std::size_t v)
{
	s += static_cast<char>((v >> 8) & 0xff);
	s += static_cast<char>(v & 0xff);
}

// A ClientHello as browsers send it, reduced to what SNI parsing needs:
// session id, cipher suites, compression, a GREASE extension, then
// server_name, then supported_versions.
inline std::string client_hello(const std::string &sni)
{
	std::string ext;
	put16(ext, 0x0a0a); // GREASE
	put16(ext, 0);
	std::string sn;
	put16(sn, sni.size() + 3); // server name list
	sn += '\0';                // host_name
	put16(sn, sni.size());
	sn += sni;
	put16(ext, 0x0000);
	put16(ext, sn.size());
	ext += sn;
	put16(ext, 0x002b); // supported_versions: TLS 1.3
	put16(ext, 3);
	ext += std::string("\x02\x03\x04", 3);

	std::string body;
	body += "\x03\x03";              // legacy version
	body += std::string(32, '\x5a'); // random
	body += '\x20';                  // session id
	body += std::string(32, '\x11');
	put16(body, 4); // cipher suites
	body += std::string("\x13\x01\x13\x02", 4);
	body += std::string("\x01\x00", 2); // compression: null
	put16(body, ext.size());
	body += ext;

	std::string hs;
	hs += '\x01'; // ClientHello
	hs += '\0';
	put16(hs, body.size());
	hs += body;
	std::string rec = "\x16\x03\x01";
	put16(rec, hs.size());
	return rec + hs;
}

// A standard query (RD set) for an A record of name.
inline std::string dns_query(const std::string &name)
{
	std::string q("\x4e\x46\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	std::size_t start = 0;
	while (start < name.size()) {
		std::size_t dot = name.find('.', start);
		if (dot == std::string::npos)
			dot = name.size();
		q += static_cast<char>(dot - start);
		q += name.substr(start, dot - start);
		start = dot + 1;
	}
	q += std::string("\x00\x00\x01\x00\x01", 5);
	return q;
}

inline std::string http_request(const std::string &host)
{
	return "GET / HTTP/1.1\r\nHost: " + host +
	       "\r\nUser-Agent: nfring-test\r\nAccept: */*\r\n\r\n";
}

} // namespace nfring_test
