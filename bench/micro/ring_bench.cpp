// Ring cost per packet (a 48-byte RX descriptor through nfring's ring
// views) at batch sizes 1/8/32/256, in one thread and across two threads,
// beside boost::lockfree::spsc_queue doing the same work in the same run.
#include <atomic>
#include <benchmark/benchmark.h>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <thread>
#include <vector>

#include "nfring.h"
#include "nfring/ring.hpp"

namespace
{

constexpr std::uint32_t ring_entries = 1024;

struct shared_ring {
	std::vector<nfring_rx_desc> slots =
	        std::vector<nfring_rx_desc>(ring_entries);
	alignas(64) std::uint32_t producer = 0;
	alignas(64) std::uint32_t consumer = 0;
};

void fill(nfring_rx_desc &d, std::uint64_t i)
{
	d.id = i;
	d.frame = static_cast<std::uint32_t>(i);
	d.pkt_len = 64;
	d.cap_len = 64;
}

// Producer and consumer in one thread: the ring's own instruction cost.
void BM_ring_same_thread(benchmark::State &state)
{
	const auto batch = static_cast<std::uint32_t>(state.range(0));
	shared_ring r;
	nfring::ring_producer<nfring_rx_desc> p(&r.producer, &r.consumer,
	                                        r.slots.data(), ring_entries);
	nfring::ring_consumer<nfring_rx_desc> c(&r.producer, &r.consumer,
	                                        r.slots.data(), ring_entries);
	std::uint64_t seq = 0, sum = 0;
	for (auto _ : state) {
		const std::uint32_t n = p.reserve(batch);
		for (std::uint32_t i = 0; i < n; i++)
			fill(p.slot(i), seq++);
		p.submit(n);
		const std::uint32_t m = c.peek(batch);
		for (std::uint32_t i = 0; i < m; i++)
			sum += c.at(i).id;
		c.release(m);
	}
	benchmark::DoNotOptimize(sum);
	state.SetItemsProcessed(static_cast<std::int64_t>(seq));
}

// A producer thread and the benchmark thread as consumer, as the kernel
// and the worker run.  Items per iteration: one transfer of `total`.
void BM_ring_cross_thread(benchmark::State &state)
{
	const auto batch = static_cast<std::uint32_t>(state.range(0));
	constexpr std::uint64_t total = 1 << 18;
	std::uint64_t items = 0;
	for (auto _ : state) {
		shared_ring r;
		nfring::ring_producer<nfring_rx_desc> p(
		        &r.producer, &r.consumer, r.slots.data(), ring_entries);
		nfring::ring_consumer<nfring_rx_desc> c(
		        &r.producer, &r.consumer, r.slots.data(), ring_entries);
		std::thread producer([&] {
			std::uint64_t seq = 0;
			while (seq < total) {
				std::uint32_t n = p.reserve(batch);
				for (std::uint32_t i = 0; i < n; i++)
					fill(p.slot(i), seq++);
				if (n)
					p.submit(n);
			}
		});
		std::uint64_t got = 0, sum = 0;
		while (got < total) {
			const std::uint32_t m = c.peek(batch);
			for (std::uint32_t i = 0; i < m; i++)
				sum += c.at(i).id;
			c.release(m);
			got += m;
		}
		producer.join();
		benchmark::DoNotOptimize(sum);
		items += total;
	}
	state.SetItemsProcessed(static_cast<std::int64_t>(items));
}

void BM_boost_spsc_same_thread(benchmark::State &state)
{
	const auto batch = static_cast<std::size_t>(state.range(0));
	boost::lockfree::spsc_queue<nfring_rx_desc,
	                            boost::lockfree::capacity<ring_entries>>
	        q;
	std::vector<nfring_rx_desc> in(batch), out(batch);
	std::uint64_t seq = 0, sum = 0;
	for (auto _ : state) {
		for (auto &d : in)
			fill(d, seq++);
		q.push(in.data(), batch);
		const std::size_t m = q.pop(out.data(), batch);
		for (std::size_t i = 0; i < m; i++)
			sum += out[i].id;
	}
	benchmark::DoNotOptimize(sum);
	state.SetItemsProcessed(static_cast<std::int64_t>(seq));
}

void BM_boost_spsc_cross_thread(benchmark::State &state)
{
	const auto batch = static_cast<std::size_t>(state.range(0));
	constexpr std::uint64_t total = 1 << 18;
	std::uint64_t items = 0;
	for (auto _ : state) {
		boost::lockfree::spsc_queue<
		        nfring_rx_desc, boost::lockfree::capacity<ring_entries>>
		        q;
		std::thread producer([&] {
			std::vector<nfring_rx_desc> in(batch);
			std::uint64_t seq = 0;
			while (seq < total) {
				const std::size_t want =
				        std::min<std::uint64_t>(batch,
				                                total - seq);
				for (std::size_t i = 0; i < want; i++)
					fill(in[i], seq + i);
				seq += q.push(in.data(), want);
			}
		});
		std::vector<nfring_rx_desc> out(batch);
		std::uint64_t got = 0, sum = 0;
		while (got < total) {
			const std::size_t m = q.pop(out.data(), batch);
			for (std::size_t i = 0; i < m; i++)
				sum += out[i].id;
			got += m;
		}
		producer.join();
		benchmark::DoNotOptimize(sum);
		items += total;
	}
	state.SetItemsProcessed(static_cast<std::int64_t>(items));
}

} // namespace

BENCHMARK(BM_ring_same_thread)->Arg(1)->Arg(8)->Arg(32)->Arg(256);
BENCHMARK(BM_boost_spsc_same_thread)->Arg(1)->Arg(8)->Arg(32)->Arg(256);
BENCHMARK(BM_ring_cross_thread)
        ->Arg(1)
        ->Arg(8)
        ->Arg(32)
        ->Arg(256)
        ->UseRealTime();
BENCHMARK(BM_boost_spsc_cross_thread)
        ->Arg(1)
        ->Arg(8)
        ->Arg(32)
        ->Arg(256)
        ->UseRealTime();
