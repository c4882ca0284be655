#include "nfring/queue.hpp"

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstring>
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
		       " (accept or drop)" +
		       (o.conntrack || o.uid_gid
		                ? std::string(", and conntrack or uid/gid "
		                              "metadata need metadata")
		                : std::string());
	case EALREADY:
		return "this device file is bound already";
	default:
		return "bind " + q;
	}
}

queue::queue(const bind_options &opts, const std::string &device_path)
    : dev_(std::in_place, device_path)
{
	const nfring_info info = dev_->info();
	require_compatible(info);
	poll_fd_ = kick_fd_ = dev_->fd();

	layout_.size = sizeof(layout_);
	layout_.flags = (opts.fail_open ? NFRING_BIND_FAIL_OPEN : 0) |
	                (opts.normalize ? NFRING_BIND_NORMALIZE : 0) |
	                (opts.metadata ? NFRING_BIND_METADATA : 0) |
	                (opts.conntrack ? NFRING_BIND_CONNTRACK : 0) |
	                (opts.uid_gid ? NFRING_BIND_UID_GID : 0);
	layout_.queue_num = opts.queue_num;
	layout_.ring_entries = opts.ring_entries;
	layout_.copy_range = opts.copy_range;
	layout_.default_verdict = opts.default_verdict;
	if (info.features & NFRING_FEAT_CT_BYPASS)
		layout_.ct_bypass_mark = opts.ct_bypass_mark;
	if (::ioctl(dev_->fd(), NFRING_IOC_BIND, &layout_) < 0) {
		const int err = errno;
		throw std::system_error(err, std::generic_category(),
		                        explain_bind_error(err, opts));
	}

	kernel_map_ = mapping(dev_->fd(), layout_.kernel_off,
	                      layout_.kernel_size, false, "kernel");
	user_map_ = mapping(dev_->fd(), layout_.user_off, layout_.user_size,
	                    true, "user");
	if (layout_.frames_size)
		frames_map_ = mapping(dev_->fd(), layout_.frames_off,
		                      layout_.frames_size, true, "frames");
	attach(kernel_map_.data(), user_map_.data(), frames_map_.data());
}

queue::queue(const std::string &shm_name, int wake_fd, int kick_fd)
    : poll_fd_(wake_fd), kick_fd_(kick_fd)
{
	namespace bip = boost::interprocess;
	try {
		bip::shared_memory_object shm(bip::open_only, shm_name.c_str(),
		                              bip::read_write);
		auto region = std::make_shared<bip::mapped_region>(
		        shm, bip::read_write);
		auto *base = static_cast<std::byte *>(region->get_address());
		// The peer puts its nfring_bind answer at the start.
		std::memcpy(&layout_, base, sizeof(layout_));
		if (layout_.size != sizeof(layout_) ||
		    layout_.frames_off + layout_.frames_size >
		            region->get_size())
			throw std::system_error(EPROTO, std::generic_category(),
			                        "shared-memory peer " +
			                                shm_name +
			                                ": bad layout");
		shm_ = region;
		attach(base + layout_.kernel_off, base + layout_.user_off,
		       layout_.frames_size ? base + layout_.frames_off
		                           : nullptr);
	} catch (const bip::interprocess_exception &e) {
		throw std::system_error(ENOENT, std::generic_category(),
		                        "shared-memory peer " + shm_name +
		                                ": " + e.what());
	}
}

void queue::attach(std::byte *kernel, std::byte *user, std::byte *frames)
{
	kpage_ = reinterpret_cast<const nfring_kernel_page *>(kernel);
	upage_ = reinterpret_cast<nfring_user_page *>(user);
	frames_ = frames;
	// The array must lie inside the kernel region (meta_off is 0 without
	// metadata, and a peer's answer is not trusted blindly).
	meta_ = nullptr;
	if (layout_.meta_off &&
	    layout_.meta_off + std::uint64_t{layout_.ring_entries} *
	                               sizeof(nfring_rx_meta) <=
	            layout_.kernel_size)
		meta_ = reinterpret_cast<const nfring_rx_meta *>(
		        kernel + layout_.meta_off);
	auto *kp = const_cast<nfring_kernel_page *>(kpage_);
	rx_ = ring_consumer<nfring_rx_desc>(
	        &kp->rx_producer, &upage_->rx_consumer,
	        reinterpret_cast<const nfring_rx_desc *>(kernel +
	                                                 layout_.rx_desc_off),
	        layout_.ring_entries);
	vr_ = ring_producer<nfring_verdict>(
	        &upage_->vr_producer, &kp->vr_consumer,
	        reinterpret_cast<nfring_verdict *>(user + layout_.vr_desc_off),
	        layout_.ring_entries);
}

void queue::ack_wakeup()
{
	if (dev_)
		return; // the device's readiness follows the ring itself
	std::uint64_t v;
	// Non-blocking eventfd: nothing to read is fine.
	(void)!::read(poll_fd_, &v, sizeof(v));
}

std::span<const std::byte> queue::packet(const nfring_rx_desc &d) const
{
	if (!frames_)
		return {};
	return {frames_ +
	                static_cast<std::size_t>(d.frame) * layout_.frame_size,
	        d.cap_len};
}

const nfring_rx_meta *queue::meta(const nfring_rx_desc &d) const
{
	if (!meta_ || d.frame >= layout_.ring_entries)
		return nullptr;
	return meta_ + d.frame;
}

std::span<std::byte> queue::frame(const nfring_rx_desc &d)
{
	if (!frames_)
		return {};
	return {frames_ +
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

void queue::set_wake_coalescing(std::uint32_t batch, std::uint32_t usecs)
{
	// Hints the kernel reads after (W1)'s fence in prepare_sleep.
	std::atomic_ref<std::uint32_t>(upage_->wake_batch)
	        .store(batch, std::memory_order_relaxed);
	std::atomic_ref<std::uint32_t>(upage_->wake_usecs)
	        .store(usecs, std::memory_order_relaxed);
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
	const std::uint64_t one = 1; // eventfds take exactly eight bytes
	if (::write(kick_fd_, &one, sizeof(one)) < 0)
		throw std::system_error(errno, std::generic_category(),
		                        "kick (write to the device)");
	return true;
}

bool queue::wait(int timeout_ms)
{
	if (!prepare_sleep())
		return true;
	pollfd pfd{poll_fd_, POLLIN, 0};
	polls_++;
	const int r = ::poll(&pfd, 1, timeout_ms);
	const int err = errno;
	end_sleep();
	if (r > 0)
		ack_wakeup();
	if (r < 0 && err != EINTR)
		throw std::system_error(err, std::generic_category(),
		                        "poll on the nfring device");
	return r > 0 && (pfd.revents & POLLIN);
}

nfring_stats queue::stats() const
{
	nfring_stats st{};
	st.size = sizeof(st);
	if (!dev_)
		throw std::system_error(EOPNOTSUPP, std::generic_category(),
		                        "stats: not a kernel queue");
	if (::ioctl(dev_->fd(), NFRING_IOC_STATS, &st) < 0)
		throw std::system_error(errno, std::generic_category(),
		                        "NFRING_IOC_STATS");
	return st;
}

} // namespace nfring
