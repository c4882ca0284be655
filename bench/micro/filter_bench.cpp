// Per-packet cost of the worker's decisions: each match type on a packet
// that matches and one that does not, the flow-table lookup, and a verdict
// round trip through the shared-memory peer (its validation mirrors the
// module's).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <chrono>
#include <netinet/in.h>
#include <string>
#include <unistd.h>

#include "messages.hpp"
#include "nfring/flow_table.hpp"
#include "nfring/queue.hpp"
#include "nfring/rules.hpp"
#include "nfring/shm_peer.hpp"
#include "packet_builder.hpp"

namespace
{

// One rule plus the default, matched against one packet.
void run_match(benchmark::State &state, const char *rule,
               const std::vector<std::byte> &bytes)
{
	const auto rs = nfring::ruleset::parse(std::string(rule) + "\naccept\n",
	                                       "bench.rules");
	const auto pkt = *nfring::parse_packet(bytes);
	std::size_t sum = 0;
	for (auto _ : state)
		sum += rs.match(pkt);
	benchmark::DoNotOptimize(sum);
	state.SetItemsProcessed(state.iterations());
}

const std::string payload_1k = std::string(1000, 'a') + "EVIL";

void BM_match_content(benchmark::State &s)
{
	run_match(s, "drop udp content \"EVIL\"",
	          test::ipv4(IPPROTO_UDP, "10.0.0.1", 1, "10.0.0.2", 2,
	                     payload_1k));
}
void BM_match_tls_sni(benchmark::State &s)
{
	run_match(s, "drop tls.sni *.blocked.example",
	          test::ipv4(IPPROTO_TCP, "10.0.0.1", 4000, "10.0.0.2", 443,
	                     nfring_test::client_hello("www.blocked.example")));
}
void BM_match_http_host(benchmark::State &s)
{
	run_match(s, "drop http.host evil.example.org",
	          test::ipv4(IPPROTO_TCP, "10.0.0.1", 4000, "10.0.0.2", 80,
	                     "GET /index.html HTTP/1.1\r\nUser-Agent: bench\r\n"
	                     "Accept: */*\r\nHost: evil.example.org\r\n\r\n"));
}
void BM_match_dns_qname(benchmark::State &s)
{
	run_match(s, "drop dns.qname ads.example.com",
	          test::ipv4(IPPROTO_UDP, "10.0.0.1", 4000, "10.0.0.2", 53,
	                     nfring_test::dns_query("ads.example.com")));
}
void BM_parse_packet(benchmark::State &state)
{
	const auto b =
	        test::ipv4(IPPROTO_UDP, "10.0.0.1", 1, "10.0.0.2", 2, "hello");
	for (auto _ : state)
		benchmark::DoNotOptimize(nfring::parse_packet(b));
	state.SetItemsProcessed(state.iterations());
}

void BM_flow_table_lookup(benchmark::State &state)
{
	nfring::flow_table t(65536, std::chrono::seconds(60));
	const auto now = nfring::flow_table::clock::now();
	std::vector<nfring::flow_key> keys;
	for (int i = 0; i < 10000; i++) {
		const auto b = test::ipv4(IPPROTO_TCP, "10.0.0.1",
		                          static_cast<std::uint16_t>(1000 + i),
		                          "10.0.0.2", 443);
		keys.push_back(nfring::flow_key::of(*nfring::parse_packet(b)));
		t.remember(keys.back(), 1, now);
	}
	std::size_t i = 0, hits = 0;
	for (auto _ : state)
		hits += t.lookup(keys[i++ % keys.size()], now).has_value();
	benchmark::DoNotOptimize(hits);
	state.SetItemsProcessed(state.iterations());
}

// One packet through the shared-memory peer and back: enqueue, worker
// side read and verdict, peer-side validation and frame release.
void BM_shm_round_trip(benchmark::State &state)
{
	nfring::shm_peer peer("nfring-bench-" + std::to_string(::getpid()), 256,
	                      128);
	nfring::queue q(peer.name(), peer.wake_fd(), peer.kick_fd());
	const auto b =
	        test::ipv4(IPPROTO_UDP, "10.0.0.1", 1, "10.0.0.2", 2, "hello");
	std::size_t done = 0;
	for (auto _ : state) {
		peer.enqueue(b);
		q.rx().peek(1);
		const auto id = q.rx().at(0).id;
		q.rx().release(1);
		q.verdicts().reserve(1);
		q.verdicts().slot(0) = {id, NFRING_ACCEPT, 0, 0, 0};
		q.publish_verdicts(1);
		done += peer.collect().size();
	}
	benchmark::DoNotOptimize(done);
	state.SetItemsProcessed(state.iterations());
}

} // namespace

BENCHMARK(BM_parse_packet);
BENCHMARK(BM_match_content);
BENCHMARK(BM_match_tls_sni);
BENCHMARK(BM_match_http_host);
BENCHMARK(BM_match_dns_qname);
BENCHMARK(BM_flow_table_lookup);
BENCHMARK(BM_shm_round_trip);
