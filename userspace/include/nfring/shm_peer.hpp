// A userspace stand-in for the kernel module: it serves the ring ABI of
// abi/nfring.h over a POSIX shared-memory segment (Boost.Interprocess), so
// the worker, its filters and its event loop run in unit tests and
// micro-benchmarks without nfring.ko.
//
// It plays the kernel's side of both rings: enqueue() is the module's
// outfn (frame, descriptor, publish, wake if asked), collect() its
// reinject work (read each verdict once, check id and generation, free
// the frame).  Wake-ups and kicks travel over two eventfds instead of the
// device.  One producer thread and one consumer thread may use it at once
// (enqueue and collect are each single-threaded).
#pragma once

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "nfring.h"
#include "nfring/ring.hpp"

namespace nfring
{

class shm_peer
{
public:
	shm_peer(const std::string &name, std::uint32_t ring_entries,
	         std::uint32_t copy_range);
	~shm_peer();
	shm_peer(const shm_peer &) = delete;
	shm_peer &operator=(const shm_peer &) = delete;

	const std::string &name() const { return name_; }
	// For nfring::queue(name, wake_fd, kick_fd) on the worker's side.
	int wake_fd() const { return wake_fd_; }
	int kick_fd() const { return kick_fd_; }

	// The module's enqueue: copies the packet into a frame and publishes
	// it.  Returns its id, or 0 when no frame or RX slot is free.
	std::uint64_t enqueue(std::span<const std::byte> packet,
	                      std::uint8_t pf = 2 /* NFPROTO_IPV4 */,
	                      std::uint32_t mark = 0);

	// The module's reinject work: every verdict published so far, each
	// validated as the module does (bad ones are counted, not returned).
	std::vector<nfring_verdict> collect();

	// The worker's wake coalescing hints as it last wrote them.  The
	// peer has no timer, so it reads them but always wakes at once.
	struct wake_hints {
		std::uint32_t batch, usecs;
	};
	wake_hints hints() const;

	// A frame's bytes as the worker left them (a mangled payload).
	std::span<const std::byte> frame(std::uint32_t index) const;

	std::uint64_t invalid() const { return invalid_; }
	std::uint64_t wakeups() const { return wakeups_; }
	std::uint32_t in_flight();

private:
	std::string name_;
	boost::interprocess::shared_memory_object shm_;
	boost::interprocess::mapped_region region_;
	nfring_bind layout_{};
	nfring_kernel_page *kpage_ = nullptr;
	nfring_user_page *upage_ = nullptr;
	std::byte *frames_ = nullptr;
	ring_producer<nfring_rx_desc> rx_;
	ring_consumer<nfring_verdict> vr_;
	int wake_fd_ = -1, kick_fd_ = -1;

	// Kernel-private state, as in the module: never in the segment.
	std::mutex lock_; // enqueue vs collect on the slots
	std::vector<std::uint32_t> gen_;
	std::vector<bool> busy_;
	std::vector<std::uint32_t> free_;
	std::uint64_t invalid_ = 0, wakeups_ = 0;
};

} // namespace nfring
