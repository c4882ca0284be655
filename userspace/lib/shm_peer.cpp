#include "nfring/shm_peer.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace bip = boost::interprocess;

namespace nfring
{

namespace
{

constexpr std::size_t page = 4096;

std::size_t page_align(std::size_t n)
{
	return (n + page - 1) & ~(page - 1);
}

} // namespace

shm_peer::shm_peer(const std::string &name, std::uint32_t entries,
                   std::uint32_t copy_range)
    : name_(name)
{
	if (entries < NFRING_MIN_RING_ENTRIES ||
	    entries > NFRING_MAX_RING_ENTRIES || (entries & (entries - 1)))
		throw std::system_error(EINVAL, std::generic_category(),
		                        "shm_peer: ring_entries");
	layout_.size = sizeof(layout_);
	layout_.ring_entries = entries;
	layout_.copy_range = copy_range;
	layout_.frame_size = (copy_range + NFRING_FRAME_ALIGN - 1) &
	                     ~(NFRING_FRAME_ALIGN - 1);
	layout_.default_verdict = NFRING_DROP;
	layout_.rx_desc_off = sizeof(nfring_kernel_page);
	layout_.vr_desc_off = sizeof(nfring_user_page);
	layout_.kernel_size = page_align(sizeof(nfring_kernel_page) +
	                                 entries * sizeof(nfring_rx_desc));
	layout_.user_size = page_align(sizeof(nfring_user_page) +
	                               entries * sizeof(nfring_verdict));
	layout_.frames_size = page_align(static_cast<std::size_t>(entries) *
	                                 layout_.frame_size);
	// The segment: [nfring_bind][KERNEL][USER][FRAMES], page aligned.
	layout_.kernel_off = page;
	layout_.user_off = layout_.kernel_off + layout_.kernel_size;
	layout_.frames_off = layout_.user_off + layout_.user_size;

	bip::shared_memory_object::remove(name_.c_str());
	shm_ = bip::shared_memory_object(bip::create_only, name_.c_str(),
	                                 bip::read_write);
	shm_.truncate(static_cast<bip::offset_t>(layout_.frames_off +
	                                         layout_.frames_size));
	region_ = bip::mapped_region(shm_, bip::read_write);
	auto *base = static_cast<std::byte *>(region_.get_address());
	std::memset(base, 0, region_.get_size());
	std::memcpy(base, &layout_, sizeof(layout_));
	kpage_ = reinterpret_cast<nfring_kernel_page *>(base +
	                                                layout_.kernel_off);
	upage_ = reinterpret_cast<nfring_user_page *>(base + layout_.user_off);
	frames_ = layout_.frames_size ? base + layout_.frames_off : nullptr;
	rx_ = ring_producer<nfring_rx_desc>(
	        &kpage_->rx_producer, &upage_->rx_consumer,
	        reinterpret_cast<nfring_rx_desc *>(base + layout_.kernel_off +
	                                           layout_.rx_desc_off),
	        entries);
	vr_ = ring_consumer<nfring_verdict>(
	        &upage_->vr_producer, &kpage_->vr_consumer,
	        reinterpret_cast<const nfring_verdict *>(
	                base + layout_.user_off + layout_.vr_desc_off),
	        entries);

	gen_.assign(entries, 0);
	busy_.assign(entries, false);
	for (std::uint32_t i = entries; i-- > 0;)
		free_.push_back(i);

	wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd_ < 0 || kick_fd_ < 0)
		throw std::system_error(errno, std::generic_category(),
		                        "shm_peer: eventfd");
}

shm_peer::~shm_peer()
{
	if (wake_fd_ >= 0)
		::close(wake_fd_);
	if (kick_fd_ >= 0)
		::close(kick_fd_);
	bip::shared_memory_object::remove(name_.c_str());
}

std::uint64_t shm_peer::enqueue(std::span<const std::byte> packet,
                                std::uint8_t pf, std::uint32_t mark)
{
	std::uint32_t frame, gen;
	{
		std::lock_guard g(lock_);
		if (free_.empty() || rx_.reserve(1) < 1)
			return 0;
		frame = free_.back();
		free_.pop_back();
		gen = ++gen_[frame];
		if (!gen)
			gen = gen_[frame] = 1;
		busy_[frame] = true;
	}
	const auto cap = static_cast<std::uint32_t>(
	        std::min<std::size_t>(packet.size(), layout_.copy_range));
	if (cap)
		std::memcpy(frames_ + static_cast<std::size_t>(frame) *
		                              layout_.frame_size,
		            packet.data(), cap);
	nfring_rx_desc &d = rx_.slot(0);
	d = nfring_rx_desc{};
	d.id = (static_cast<std::uint64_t>(gen) << 32) | frame;
	d.frame = frame;
	d.pkt_len = static_cast<std::uint32_t>(packet.size());
	d.cap_len = cap;
	d.mark = mark;
	d.pf = pf;
	rx_.submit(1); // (A)
	// (W2) pairs with the worker's (W1).
	std::atomic_thread_fence(std::memory_order_seq_cst);
	const auto flags = std::atomic_ref<std::uint32_t>(upage_->flags)
	                           .load(std::memory_order_relaxed);
	if (flags & NFRING_UF_NEED_WAKEUP) {
		const std::uint64_t one = 1;
		(void)!::write(wake_fd_, &one, sizeof(one));
		wakeups_++;
	}
	return d.id;
}

shm_peer::wake_hints shm_peer::hints() const
{
	return {std::atomic_ref<std::uint32_t>(upage_->wake_batch)
	                .load(std::memory_order_relaxed),
	        std::atomic_ref<std::uint32_t>(upage_->wake_usecs)
	                .load(std::memory_order_relaxed)};
}

std::vector<nfring_verdict> shm_peer::collect()
{
	std::uint64_t kicks;
	(void)!::read(kick_fd_, &kicks, sizeof(kicks)); // drain kicks
	std::vector<nfring_verdict> out;
	auto &kflags = kpage_->flags;
	std::atomic_ref<std::uint32_t>(kflags).store(0,
	                                             std::memory_order_relaxed);
	for (;;) {
		const std::uint32_t n = vr_.peek(vr_.entries());
		for (std::uint32_t i = 0; i < n; i++) {
			// Read once into a copy, as the module does.
			const nfring_verdict v = vr_.at(i);
			const auto frame = static_cast<std::uint32_t>(v.id);
			const auto gen = static_cast<std::uint32_t>(v.id >> 32);
			std::lock_guard g(lock_);
			if (frame >= gen_.size() || !gen ||
			    gen_[frame] != gen || !busy_[frame] ||
			    (v.flags & ~NFRING_VF_ALL) ||
			    (v.verdict != NFRING_ACCEPT &&
			     v.verdict != NFRING_DROP &&
			     v.verdict != NFRING_REPEAT)) {
				invalid_++;
				continue;
			}
			busy_[frame] = false;
			free_.push_back(frame);
			out.push_back(v);
		}
		vr_.release(n); // (G)
		if (n)
			continue;
		// Idle: ask for a kick (K1), re-check once.
		std::atomic_ref<std::uint32_t>(kflags).store(
		        NFRING_KF_NEED_KICK, std::memory_order_relaxed);
		std::atomic_thread_fence(std::memory_order_seq_cst);
		if (vr_.peek(1) == 0)
			break;
		std::atomic_ref<std::uint32_t>(kflags).store(
		        0, std::memory_order_relaxed);
	}
	return out;
}

std::span<const std::byte> shm_peer::frame(std::uint32_t index) const
{
	if (index >= layout_.ring_entries || !layout_.frame_size)
		return {};
	return {frames_ + static_cast<std::size_t>(index) * layout_.frame_size,
	        layout_.frame_size};
}

std::uint32_t shm_peer::in_flight()
{
	std::lock_guard g(lock_);
	return static_cast<std::uint32_t>(
	        std::count(busy_.begin(), busy_.end(), true));
}

} // namespace nfring
