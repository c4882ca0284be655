#include "nfring/queue.hpp"

#include <atomic>
#include <cerrno>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <system_error>
#include <utility>

namespace nfring
{

mapping::mapping(int fd, std::uint64_t offset, std::size_t length,
                 bool writable, const char *what)
    : len_(length)
{
	const int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *p = ::mmap(nullptr, length, prot, MAP_SHARED | MAP_POPULATE, fd,
	                 static_cast<off_t>(offset));
	if (p == MAP_FAILED)
		throw std::system_error(errno, std::generic_category(),
		                        std::string("mmap of the ") + what +
		                                " region");
	addr_ = p;
}

mapping::~mapping()
{
	if (addr_)
		::munmap(addr_, len_);
}

mapping::mapping(mapping &&other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)),
      len_(std::exchange(other.len_, 0))
{
}

mapping &mapping::operator=(mapping &&other) noexcept
{
	if (this != &other) {
		if (addr_)
			::munmap(addr_, len_);
		addr_ = std::exchange(other.addr_, nullptr);
		len_ = std::exchange(other.len_, 0);
	}
	return *this;
}

std::string explain_bind_error(int err, const bind_options &o)
{
	const std::string q = "queue " + std::to_string(o.queue_num);
	switch (err) {
	case EBUSY:
		return q + " is already bound by another process in this "
		           "network namespace";
	case E2BIG:
		return "ring_entries " + std::to_string(o.ring_entries) +
		       " x copy_range " + std::to_string(o.copy_range) +
		       " exceeds " +
		       std::to_string(NFRING_MAX_FRAMES_BYTES >> 20) +
		       " MiB of frames";
	case EINVAL:
		return "bad bind parameters: ring_entries " +
		       std::to_string(o.ring_entries) + " (a power of two, " +
		       std::to_string(NFRING_MIN_RING_ENTRIES) + ".." +
		       std::to_string(NFRING_MAX_RING_ENTRIES) +
		       "), copy_range " + std::to_string(o.copy_range) +
		       " (0.." + std::to_string(NFRING_MAX_COPY_RANGE) +
		       "), default verdict " +
		       (o.default_verdict == NFRING_ACCEPT
		                ? std::string("accept")
		        : o.default_verdict == NFRING_DROP
		                ? std::string("drop")
		                : std::to_string(o.default_verdict)) +
		       " (accept or drop)";
	case EALREADY:
		return "this device file is bound already";
	default:
		return "bind " + q;
	}
}

queue::queue(const bind_options &opts, const std::string &device_path)
    : dev_(device_path)
{
	require_compatible(dev_.info());

	layout_.size = sizeof(layout_);
	layout_.flags = opts.fail_open ? NFRING_BIND_FAIL_OPEN : 0;
	layout_.queue_num = opts.queue_num;
	layout_.ring_entries = opts.ring_entries;
	layout_.copy_range = opts.copy_range;
	layout_.default_verdict = opts.default_verdict;
	if (::ioctl(dev_.fd(), NFRING_IOC_BIND, &layout_) < 0) {
		const int err = errno;
		throw std::system_error(err, std::generic_category(),
		                        explain_bind_error(err, opts));
	}

	kernel_map_ = mapping(dev_.fd(), layout_.kernel_off,
	                      layout_.kernel_size, false, "kernel");
	user_map_ = mapping(dev_.fd(), layout_.user_off, layout_.user_size,
	                    true, "user");
	if (layout_.frames_size)
		frames_map_ = mapping(dev_.fd(), layout_.frames_off,
		                      layout_.frames_size, true, "frames");

	kpage_ = reinterpret_cast<const nfring_kernel_page *>(
	        kernel_map_.data());
	upage_ = reinterpret_cast<nfring_user_page *>(user_map_.data());
	auto *kp = const_cast<nfring_kernel_page *>(kpage_);
	rx_ = ring_consumer<nfring_rx_desc>(
	        &kp->rx_producer, &upage_->rx_consumer,
	        reinterpret_cast<const nfring_rx_desc *>(kernel_map_.data() +
	                                                 layout_.rx_desc_off),
	        layout_.ring_entries);
	vr_ = ring_producer<nfring_verdict>(
	        &upage_->vr_producer, &kp->vr_consumer,
	        reinterpret_cast<nfring_verdict *>(user_map_.data() +
	                                           layout_.vr_desc_off),
	        layout_.ring_entries);
}

std::span<const std::byte> queue::packet(const nfring_rx_desc &d) const
{
	if (!frames_map_.data())
		return {};
	return {frames_map_.data() +
	                static_cast<std::size_t>(d.frame) * layout_.frame_size,
	        d.cap_len};
}

std::span<std::byte> queue::frame(const nfring_rx_desc &d)
{
	if (!frames_map_.data())
		return {};
	return {frames_map_.data() +
	                static_cast<std::size_t>(d.frame) * layout_.frame_size,
	        layout_.frame_size};
}

void queue::publish_verdicts(std::uint32_t n)
{
	vr_.submit(n);
}

bool queue::kernel_wants_kick() const
{
	// (K2) pairs with (K1): producer store before the flag load.
	std::atomic_thread_fence(std::memory_order_seq_cst);
	auto &kflags = const_cast<std::uint32_t &>(kpage_->flags);
	return std::atomic_ref<std::uint32_t>(kflags).load(
	               std::memory_order_relaxed) &
	       NFRING_KF_NEED_KICK;
}

bool queue::prepare_sleep()
{
	std::atomic_ref<std::uint32_t> flags(upage_->flags);
	flags.store(flags.load(std::memory_order_relaxed) |
	                    NFRING_UF_NEED_WAKEUP,
	            std::memory_order_relaxed);
	// (W1) pairs with (W2): flag store before the producer re-check.
	std::atomic_thread_fence(std::memory_order_seq_cst);
	if (rx_.producer_now() == rx_.consumed())
		return true;
	end_sleep();
	return false;
}

void queue::end_sleep()
{
	std::atomic_ref<std::uint32_t> flags(upage_->flags);
	flags.store(flags.load(std::memory_order_relaxed) &
	                    ~NFRING_UF_NEED_WAKEUP,
	            std::memory_order_relaxed);
}

bool queue::submit_verdicts(std::uint32_t n)
{
	publish_verdicts(n);
	if (!kernel_wants_kick())
		return false;
	kicks_++;
	if (::ioctl(dev_.fd(), NFRING_IOC_KICK) < 0)
		throw std::system_error(errno, std::generic_category(),
		                        "NFRING_IOC_KICK");
	return true;
}

bool queue::wait(int timeout_ms)
{
	if (!prepare_sleep())
		return true;
	pollfd pfd{dev_.fd(), POLLIN, 0};
	polls_++;
	const int r = ::poll(&pfd, 1, timeout_ms);
	const int err = errno;
	end_sleep();
	if (r < 0 && err != EINTR)
		throw std::system_error(err, std::generic_category(),
		                        "poll on the nfring device");
	return r > 0 && (pfd.revents & POLLIN);
}

nfring_stats queue::stats() const
{
	nfring_stats st{};
	st.size = sizeof(st);
	if (::ioctl(dev_.fd(), NFRING_IOC_STATS, &st) < 0)
		throw std::system_error(errno, std::generic_category(),
		                        "NFRING_IOC_STATS");
	return st;
}

} // namespace nfring
