// libFuzzer harness for reassembly and holding: the input is a script of
// TCP segments of one connection (offsets, lengths, flags, bytes, either
// direction, checksums right or wrong) judged by a verdict engine whose
// rules read TLS, HTTP and DNS fields and hold content and regex matches
// (stream scanning).  Traps when a packet is answered
// twice or never (after release_all), or when the engine holds more than
// its bounds allow.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "nfring/verdict_engine.hpp"
#include "packet_builder.hpp"

namespace
{

void require(bool ok)
{
	if (!ok)
		__builtin_trap();
}

std::shared_ptr<const nfring::ruleset> rules()
{
	static const auto r = std::make_shared<const nfring::ruleset>(
	        nfring::ruleset::parse("drop tls.sni *.blocked.example\n"
	                               "mark 3 tls.alpn h2\n"
	                               "drop http.host blocked.example\n"
	                               "drop dns.qname ads.example\n"
	                               "drop tcp content \"EVIL\"\n"
	                               "mark 5 regex \"GET /a[0-9]+x\"\n"
	                               "accept\n",
	                               "fuzz.rules"));
	return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::map<std::uint64_t, std::vector<std::byte>> pkts;
	nfring::verdict_options o;
	o.inspect.flows = 4;
	o.inspect.stream_bytes = 2048;
	o.inspect.stream_segments = 8;
	o.hold_packets = 6;
	o.flow_max = 16;
	nfring::verdict_engine eng(
	        o, 64, {},
	        [&](const nfring_rx_desc &d) {
		        return std::span<const std::byte>(pkts.at(d.id));
	        },
	        0);
	std::vector<nfring_verdict> out;
	auto now = nfring::verdict_engine::clock::now();
	eng.set_rules(rules(), out, now);
	const std::uint32_t isn = 1000;
	std::uint64_t id = 1;
	std::size_t pos = 0;
	// Each record: dir+flags (1), offset (2), length (1), then bytes.
	while (pos + 4 <= size) {
		const std::uint8_t ctl = data[pos];
		const std::uint32_t off = data[pos + 1] << 8 | data[pos + 2];
		std::size_t len = data[pos + 3];
		pos += 4;
		len = std::min(len, size - pos);
		std::string payload(reinterpret_cast<const char *>(data + pos),
		                    len);
		pos += len;
		const bool from_server = ctl & 0x80;
		const std::uint8_t flags = ctl & 0x1f; // FIN SYN RST PSH ACK
		const std::uint16_t port = (ctl & 0x20) ? 53 : 443;
		auto p = from_server
		                 ? test::tcp4("10.0.0.2", port, "10.0.0.1", 40000,
		                              5000, isn + 1 + off, payload, flags)
		                 : test::tcp4("10.0.0.1", 40000, "10.0.0.2", port,
		                              isn + 1 + off, 5000, payload, flags);
		if (ctl & 0x40)
			p.back() ^= std::byte{1}; // a checksum that fails
		pkts[id] = p;
		nfring_rx_desc d{};
		d.id = id++;
		d.pkt_len = d.cap_len = static_cast<std::uint32_t>(p.size());
		eng.judge(d, now, out);
		require(eng.held() <= 16);
		if (off & 1) {
			now += std::chrono::milliseconds(200);
			eng.expire_holds(now, out);
		}
	}
	eng.release_all(out);
	require(eng.held() == 0);
	std::map<std::uint64_t, int> seen;
	for (const auto &v : out)
		require(++seen[v.id] == 1);
	require(seen.size() == pkts.size());
	return 0;
}
