// Views of one single-producer/single-consumer ring in shared memory.
//
// Both sides of both rings use these: userspace consumes the RX ring and
// produces the verdict ring; the tests and the shared-memory peer play the
// kernel's part with the opposite views.  The memory-ordering contract,
// with its labelled barriers (A)-(H), is in abi/nfring.h.
#pragma once

#include <atomic>
#include <cstdint>

namespace nfring
{

namespace detail
{

inline std::uint32_t load_acquire(std::uint32_t *p)
{
	return std::atomic_ref<std::uint32_t>(*p).load(
	        std::memory_order_acquire);
}

inline void store_release(std::uint32_t *p, std::uint32_t v)
{
	std::atomic_ref<std::uint32_t>(*p).store(v, std::memory_order_release);
}

} // namespace detail

// The consuming side.  Caches the producer index and reads the shared one
// only when the cache says empty.
template <class Desc> class ring_consumer
{
public:
	ring_consumer() = default;
	ring_consumer(std::uint32_t *producer, std::uint32_t *consumer,
	              const Desc *descs, std::uint32_t entries)
	    : producer_(producer), consumer_(consumer), descs_(descs),
	      mask_(entries - 1), cons_(*consumer), cached_prod_(*consumer)
	{
	}

	// How many entries are ready, at most max.
	std::uint32_t peek(std::uint32_t max)
	{
		std::uint32_t ready = cached_prod_ - cons_;
		if (ready < max) {
			// (B) pairs with (A): the index before the entries.
			cached_prod_ = detail::load_acquire(producer_);
			ready = cached_prod_ - cons_;
		}
		return ready < max ? ready : max;
	}

	// The i-th ready entry (i < what peek returned).
	const Desc &at(std::uint32_t i) const
	{
		return descs_[(cons_ + i) & mask_];
	}

	// Give n entries back to the producer.
	void release(std::uint32_t n)
	{
		cons_ += n;
		// (C) pairs with (D): our reads of the entries come first.
		detail::store_release(consumer_, cons_);
	}

	// The shared producer index, freshly read (for need_wakeup re-checks).
	std::uint32_t producer_now() const
	{
		return detail::load_acquire(producer_);
	}
	std::uint32_t consumed() const { return cons_; }
	std::uint32_t entries() const { return mask_ + 1; }

	// Re-read our own index from shared memory (after someone else wrote
	// it, e.g. a test corrupting the ring) and forget cached state.
	void resync(std::uint32_t cons)
	{
		cons_ = cons;
		cached_prod_ = cons;
		detail::store_release(consumer_, cons_);
	}

private:
	std::uint32_t *producer_ = nullptr;
	std::uint32_t *consumer_ = nullptr;
	const Desc *descs_ = nullptr;
	std::uint32_t mask_ = 0;
	std::uint32_t cons_ = 0;
	std::uint32_t cached_prod_ = 0;
};

// The producing side.  Caches the consumer index and reads the shared one
// only when the cache says full.
template <class Desc> class ring_producer
{
public:
	ring_producer() = default;
	ring_producer(std::uint32_t *producer, std::uint32_t *consumer,
	              Desc *descs, std::uint32_t entries)
	    : producer_(producer), consumer_(consumer), descs_(descs),
	      mask_(entries - 1), prod_(*producer), cached_cons_(*producer)
	{
	}

	// How many slots are free, at most max.
	std::uint32_t reserve(std::uint32_t max)
	{
		const std::uint32_t size = mask_ + 1;
		std::uint32_t free = size - (prod_ - cached_cons_);
		if (free < max) {
			// (H) pairs with (G): the consumer is done with the
			// slots before we overwrite them.
			cached_cons_ = detail::load_acquire(consumer_);
			free = size - (prod_ - cached_cons_);
		}
		return free < max ? free : max;
	}

	// The i-th reserved slot (i < what reserve returned).
	Desc &slot(std::uint32_t i) { return descs_[(prod_ + i) & mask_]; }

	// Publish n filled slots.
	void submit(std::uint32_t n)
	{
		prod_ += n;
		// (E)/(A): the entries before the index.
		detail::store_release(producer_, prod_);
	}

	std::uint32_t produced() const { return prod_; }
	std::uint32_t entries() const { return mask_ + 1; }

	void resync(std::uint32_t prod)
	{
		prod_ = prod;
		cached_cons_ = prod;
		detail::store_release(producer_, prod_);
	}

private:
	std::uint32_t *producer_ = nullptr;
	std::uint32_t *consumer_ = nullptr;
	Desc *descs_ = nullptr;
	std::uint32_t mask_ = 0;
	std::uint32_t prod_ = 0;
	std::uint32_t cached_cons_ = 0;
};

} // namespace nfring
