// What L7 inspection costs per packet, on real traffic: a capture judged
// packet by packet by the verdict engine, once with rules that read no L7
// field (accept-all: parse, flow lookup, rules) and once with rules that
// read TLS, HTTP, DNS and QUIC fields (reassembly, the parsers, QUIC
// Initial decryption, holding), and once with 100 content and regex
// matches (Hyperscan, stream mode over the reassembled bytes).  Beside
// them, the one-pass claim on its own: the capture's payloads scanned for
// N literals by one Hyperscan pass, and by one search per literal (what
// content matching did before).  The capture is Chromium 156's
// (tests/captures/local/chromium.pcap: post-quantum TLS hellos over two
// segments and a QUIC v1 connection); NFRING_DPI_CAPTURE names another.
#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <utility>
#include <vector>

#include "nfring/verdict_engine.hpp"
#include "pcap_reader.hpp"

namespace
{

std::vector<std::vector<std::byte>> load_capture()
{
	const char *env = std::getenv("NFRING_DPI_CAPTURE");
	const std::string path = env ? env
	                             : NFRING_SOURCE_DIR
	                                 "/tests/captures/local/chromium.pcap";
	std::vector<std::vector<std::byte>> pkts;
	test::pcap_reader r(path);
	while (auto f = r.next())
		pkts.emplace_back(f->ip_packet.begin(), f->ip_packet.end());
	return pkts;
}

void run(benchmark::State &state, const std::string &rules)
{
	static const auto pkts = load_capture();
	const auto rs = std::make_shared<const nfring::ruleset>(
	        nfring::ruleset::parse(rules, "bench.rules"));
	nfring::verdict_options o;
	o.inspect.flows = 256;
	o.flow_max = 1024;
	std::vector<nfring_verdict> out;
	out.reserve(pkts.size() + 16);
	std::uint64_t held = 0;
	for (auto _ : state) {
		state.PauseTiming();
		// A fresh engine per pass: every flow starts at its SYN or
		// first Initial again, as in the capture.
		auto eng = std::make_unique<nfring::verdict_engine>(
		        o, 4096, std::vector<std::unique_ptr<nfring::filter>>{},
		        [&](const nfring_rx_desc &d) {
			        return std::span<const std::byte>(pkts[d.id]);
		        },
		        0);
		eng->set_rules(rs, out, nfring::verdict_engine::clock::now());
		out.clear();
		state.ResumeTiming();
		const auto now = nfring::verdict_engine::clock::now();
		for (std::size_t i = 0; i < pkts.size(); i++) {
			nfring_rx_desc d{};
			d.id = i;
			d.pkt_len = d.cap_len =
			        static_cast<std::uint32_t>(pkts[i].size());
			// Captured on the sender: checksums not final.
			d.flags = NFRING_RX_CSUM_NOTREADY;
			eng->judge(d, now, out);
		}
		state.PauseTiming();
		held += eng->counters().held;
		eng->release_all(out);
		benchmark::DoNotOptimize(out.data());
		state.ResumeTiming();
	}
	state.SetItemsProcessed(
	        static_cast<std::int64_t>(state.iterations() * pkts.size()));
	state.counters["packets"] = static_cast<double>(pkts.size());
	// How many packets each part of the inspector can touch, so that a
	// figure per packet of the capture converts to one per TCP segment
	// with payload or per UDP datagram to port 443.
	static const auto kinds = [] {
		std::pair<double, double> k{0, 0};
		for (const auto &p : pkts) {
			const auto v = nfring::parse_packet(p);
			if (!v || v->payload.empty())
				continue;
			if (v->proto == IPPROTO_TCP)
				k.first++;
			else if (v->proto == IPPROTO_UDP &&
			         (v->dport == 443 || v->sport == 443))
				k.second++;
		}
		return k;
	}();
	state.counters["tcp_data"] = kinds.first;
	state.counters["udp_443"] = kinds.second;
	state.counters["held_per_pass"] =
	        static_cast<double>(held) /
	        static_cast<double>(state.iterations());
}

void BM_dpi_accept_all(benchmark::State &s)
{
	run(s, "accept\n");
}

void BM_dpi_l7_rules(benchmark::State &s)
{
	run(s, "drop tls.sni *.blocked.example\n"
	       "mark 3 tls.alpn h2\n"
	       "drop http.host blocked.example\n"
	       "drop dns.qname ads.example\n"
	       "drop quic.sni *.blocked.example\n"
	       "accept\n");
}

// The L7 rules' two costly parts apart: TCP reassembly with the TLS and
// HTTP parsers, and QUIC Initial decryption with CRYPTO reassembly.
void BM_dpi_tcp_streams(benchmark::State &s)
{
	run(s, "drop tls.sni *.blocked.example\n"
	       "drop http.host blocked.example\n"
	       "accept\n");
}

void BM_dpi_quic(benchmark::State &s)
{
	run(s, "drop quic.sni *.blocked.example\n"
	       "accept\n");
}

// Signatures that real traffic does not carry (the usual case: most
// packets match none), plus a few well-known ones.
std::vector<std::string> literals(std::size_t n)
{
	static const char *known[] = {"User-Agent: sqlmap", "/etc/passwd",
	                              "cmd.exe", "<script>alert(",
	                              "UNION SELECT"};
	std::vector<std::string> v;
	for (std::size_t i = 0; i < n; i++) {
		if (i < std::size(known)) {
			v.emplace_back(known[i]);
			continue;
		}
		char buf[32];
		std::snprintf(buf, sizeof(buf), "sig%05zu-%c%c", i,
		              'a' + static_cast<int>(i % 26),
		              'a' + static_cast<int>(i / 26 % 26));
		v.emplace_back(buf);
	}
	return v;
}

void BM_dpi_patterns(benchmark::State &s)
{
	std::string rules;
	for (const auto &l : literals(90))
		rules += "drop content \"" + l + "\" nocase\n";
	for (int i = 0; i < 10; i++)
		rules += "drop tcp regex \"^GET /admin" + std::to_string(i) +
		         "[a-z]+\\.php\"\n";
	rules += "accept\n";
	run(s, rules);
}

std::vector<std::span<const std::byte>> payloads()
{
	static const auto pkts = load_capture();
	std::vector<std::span<const std::byte>> v;
	for (const auto &p : pkts)
		if (auto pv = nfring::parse_packet(p); pv && !pv->payload.empty())
			v.push_back(pv->payload);
	return v;
}

void BM_patterns_one_pass(benchmark::State &s)
{
	const auto pl = payloads();
	std::vector<nfring::l7::pattern_spec> specs;
	for (const auto &l : literals(static_cast<std::size_t>(s.range(0))))
		specs.push_back({l, true, false});
	nfring::l7::pattern_scanner sc(
	        std::make_shared<const nfring::l7::pattern_set>(specs));
	nfring::l7::pattern_hits hits;
	hits.resize(specs.size());
	std::size_t found = 0;
	for (auto _ : s) {
		for (const auto &p : pl) {
			sc.scan_block(p, hits);
			found += hits.count();
		}
	}
	benchmark::DoNotOptimize(found);
	s.SetItemsProcessed(static_cast<std::int64_t>(s.iterations() * pl.size()));
}

void BM_patterns_each_rule(benchmark::State &s)
{
	const auto pl = payloads();
	const auto lits = literals(static_cast<std::size_t>(s.range(0)));
	std::size_t found = 0;
	for (auto _ : s) {
		for (const auto &p : pl) {
			const std::string_view hay(
			        reinterpret_cast<const char *>(p.data()), p.size());
			for (const auto &l : lits)
				found += hay.find(l) != std::string_view::npos;
		}
	}
	benchmark::DoNotOptimize(found);
	s.SetItemsProcessed(static_cast<std::int64_t>(s.iterations() * pl.size()));
}

BENCHMARK(BM_dpi_accept_all)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpi_l7_rules)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpi_tcp_streams)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpi_quic)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dpi_patterns)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_patterns_one_pass)->Arg(10)->Arg(100)->Arg(1000)
        ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_patterns_each_rule)->Arg(10)->Arg(100)->Arg(1000)
        ->Unit(benchmark::kMicrosecond);

} // namespace
