// The SPSC ring views: ordering, fullness, index wrap-around, and a
// two-thread stress run (meaningful under the TSan build).
#include <cstdint>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

#include "nfring/ring.hpp"

namespace
{

// Shared state of one ring, as the mmap'd pages hold it.
struct test_ring {
	explicit test_ring(std::uint32_t entries, std::uint32_t start = 0)
	    : slots(entries), producer(start), consumer(start)
	{
	}
	std::vector<std::uint64_t> slots;
	alignas(64) std::uint32_t producer;
	alignas(64) std::uint32_t consumer;

	nfring::ring_producer<std::uint64_t> prod()
	{
		return {&producer, &consumer, slots.data(),
		        static_cast<std::uint32_t>(slots.size())};
	}
	nfring::ring_consumer<std::uint64_t> cons()
	{
		return {&producer, &consumer, slots.data(),
		        static_cast<std::uint32_t>(slots.size())};
	}
};

} // namespace

TEST(Ring, EntriesComeOutInOrder)
{
	test_ring r(8);
	auto p = r.prod();
	auto c = r.cons();
	ASSERT_EQ(p.reserve(3), 3u);
	for (std::uint32_t i = 0; i < 3; i++)
		p.slot(i) = 100 + i;
	EXPECT_EQ(c.peek(8), 0u) << "visible before submit";
	p.submit(3);
	ASSERT_EQ(c.peek(8), 3u);
	for (std::uint32_t i = 0; i < 3; i++)
		EXPECT_EQ(c.at(i), 100 + i);
	c.release(3);
	EXPECT_EQ(c.peek(8), 0u);
}

TEST(Ring, ProducerStopsWhenFullAndResumesAfterRelease)
{
	test_ring r(8);
	auto p = r.prod();
	auto c = r.cons();
	ASSERT_EQ(p.reserve(100), 8u);
	p.submit(8);
	EXPECT_EQ(p.reserve(1), 0u);
	ASSERT_EQ(c.peek(2), 2u);
	c.release(2);
	EXPECT_EQ(p.reserve(100), 2u);
}

TEST(Ring, PeekNeverReturnsMoreThanAsked)
{
	test_ring r(16);
	auto p = r.prod();
	auto c = r.cons();
	p.reserve(10);
	p.submit(10);
	EXPECT_EQ(c.peek(4), 4u);
	EXPECT_EQ(c.peek(0), 0u);
	EXPECT_EQ(c.peek(64), 10u);
}

TEST(Ring, IndicesWrapAroundTheU32Boundary)
{
	// Free-running indices start just below the wrap.
	test_ring r(8, 0xfffffffau);
	auto p = r.prod();
	auto c = r.cons();
	std::uint64_t next = 0, expect = 0;
	for (int round = 0; round < 5; round++) {
		const std::uint32_t n = p.reserve(5);
		ASSERT_EQ(n, 5u);
		for (std::uint32_t i = 0; i < n; i++)
			p.slot(i) = next++;
		p.submit(n);
		const std::uint32_t got = c.peek(8);
		ASSERT_EQ(got, 5u);
		for (std::uint32_t i = 0; i < got; i++)
			EXPECT_EQ(c.at(i), expect++);
		c.release(got);
	}
	EXPECT_EQ(r.producer, 0xfffffffau + 25u);
}

TEST(Ring, TwoThreadsTransferEverythingInOrder)
{
	constexpr std::uint64_t total = 2'000'000;
	test_ring r(256);
	auto p = r.prod();
	auto c = r.cons();

	std::thread producer([&] {
		std::uint64_t next = 0;
		while (next < total) {
			std::uint32_t n = p.reserve(32);
			if (n > total - next)
				n = static_cast<std::uint32_t>(total - next);
			for (std::uint32_t i = 0; i < n; i++)
				p.slot(i) = next++;
			if (n)
				p.submit(n);
			else
				std::this_thread::yield();
		}
	});

	std::uint64_t expect = 0, bad = 0;
	while (expect < total) {
		const std::uint32_t n = c.peek(32);
		for (std::uint32_t i = 0; i < n; i++)
			if (c.at(i) != expect++)
				bad++;
		if (n)
			c.release(n);
		else
			std::this_thread::yield();
	}
	producer.join();
	EXPECT_EQ(bad, 0u);
	EXPECT_EQ(c.peek(1), 0u);
}
