// A bound nfring queue: the device file, its three mappings, and the ring
// views over them, with need_wakeup handled in both directions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "nfring.h"
#include "nfring/device.hpp"
#include "nfring/ring.hpp"

namespace nfring
{

struct bind_options {
	std::uint16_t queue_num = 0;
	std::uint32_t ring_entries = 1024;
	std::uint32_t copy_range = 2048;
	bool fail_open = false;
	// GSO packets segmented and checksums left to the device finished
	// before the copy, as nfnetlink_queue delivers packets
	// (NFRING_BIND_NORMALIZE).
	bool normalize = false;
	// A struct nfring_rx_meta beside each packet (NFRING_BIND_METADATA),
	// with its conntrack fields and its socket's uid/gid if asked for.
	bool metadata = false;
	bool conntrack = false; // needs metadata
	bool uid_gid = false;   // needs metadata
	// Given to packets in flight when the queue goes away.  Drop, as
	// NFQUEUE does when its listener closes.
	std::uint32_t default_verdict = NFRING_DROP;
	// Conntrack mark bits NFRING_VF_BYPASS sets (0: none).  Left out of
	// the bind, quietly, when the module lacks NFRING_FEAT_CT_BYPASS:
	// layout().ct_bypass_mark says what the queue got.
	std::uint32_t ct_bypass_mark = 0;
};

// Owns one mmap'd region.
class mapping
{
public:
	mapping() = default;
	mapping(int fd, std::uint64_t offset, std::size_t length, bool writable,
	        const char *what);
	~mapping();
	mapping(mapping &&other) noexcept;
	mapping &operator=(mapping &&other) noexcept;
	mapping(const mapping &) = delete;
	mapping &operator=(const mapping &) = delete;

	std::byte *data() const { return static_cast<std::byte *>(addr_); }
	std::size_t size() const { return len_; }

private:
	void *addr_ = nullptr;
	std::size_t len_ = 0;
};

class queue
{
public:
	// Opens the device, binds, maps.  Throws std::system_error naming the
	// step and, for EINVAL/EBUSY/E2BIG, what was wrong.
	explicit queue(const bind_options &opts,
	               const std::string &device_path = NFRING_DEVICE_PATH);

	// Attaches to a userspace peer serving the same ABI over POSIX shared
	// memory (see shm_peer.hpp), for tests and benchmarks without the
	// module.  wake_fd becomes readable when the peer wakes us; kick_fd
	// is written to kick it.
	queue(const std::string &shm_name, int wake_fd, int kick_fd);

	// The device (or -1 for a shared-memory peer), for ioctls.
	int fd() const { return dev_ ? dev_->fd() : -1; }
	// Poll this for "packets arrived" after prepare_sleep().
	int poll_fd() const { return poll_fd_; }
	// Write anything here to kick the reinject side (K2).
	int kick_fd() const { return kick_fd_; }
	// After poll_fd() polled readable: consume the wake-up if the
	// transport needs it (an eventfd does, the device does not).
	void ack_wakeup();
	const nfring_bind &layout() const { return layout_; }
	std::uint16_t queue_num() const { return layout_.queue_num; }

	ring_consumer<nfring_rx_desc> &rx() { return rx_; }
	ring_producer<nfring_verdict> &verdicts() { return vr_; }

	// The bytes the kernel copied for this packet.
	std::span<const std::byte> packet(const nfring_rx_desc &d) const;
	// The packet's whole frame, to write a replacement payload into.
	std::span<std::byte> frame(const nfring_rx_desc &d);
	// The packet's metadata, or nullptr when the queue was bound without
	// bind_options::metadata (or the descriptor names no frame).
	const nfring_rx_meta *meta(const nfring_rx_desc &d) const;

	// Publish the n verdicts written into reserved slots, then kick the
	// kernel only if its reinject work said it went idle (K2).  Returns
	// whether a syscall was made.
	bool submit_verdicts(std::uint32_t n);

	// Sleep until packets arrive or timeout_ms passes (-1: forever),
	// following (W1).  Returns false on timeout or EINTR.
	bool wait(int timeout_ms);

	// The same handshake for callers that sleep elsewhere (io_uring):
	// prepare_sleep sets NEED_WAKEUP and re-checks (W1); it returns true
	// when the ring is still empty and the caller may sleep until the
	// device polls readable; end_sleep clears the flag.
	bool prepare_sleep();
	void end_sleep();

	// Publish verdicts without kicking; kernel_wants_kick then says
	// whether a kick (ioctl or a write to fd()) is due (K2).
	void publish_verdicts(std::uint32_t n);
	bool kernel_wants_kick() const;

	// Wake coalescing (nfring_user_page.wake_batch): while asleep, be
	// woken once `batch` packets wait or `usecs` after the first of them.
	// batch <= 1 or usecs == 0: woken at once.  Set before prepare_sleep.
	void set_wake_coalescing(std::uint32_t batch, std::uint32_t usecs);

	nfring_stats stats() const;

	// Counters of this process's syscalls on the fast path.
	std::uint64_t kicks() const { return kicks_; }
	std::uint64_t polls() const { return polls_; }

	// Raw shared pages, for tests that play a hostile worker.
	nfring_user_page *user_page() { return upage_; }
	const nfring_kernel_page *kernel_page() const { return kpage_; }

private:
	void attach(std::byte *kernel, std::byte *user, std::byte *frames);

	std::optional<device> dev_;
	int poll_fd_ = -1, kick_fd_ = -1;
	nfring_bind layout_{};
	mapping kernel_map_, user_map_, frames_map_;
	std::shared_ptr<void> shm_; // keeps a peer's segment mapped
	std::byte *frames_ = nullptr;
	const nfring_rx_meta *meta_ = nullptr;
	const nfring_kernel_page *kpage_ = nullptr;
	nfring_user_page *upage_ = nullptr;
	ring_consumer<nfring_rx_desc> rx_;
	ring_producer<nfring_verdict> vr_;
	std::uint64_t kicks_ = 0;
	std::uint64_t polls_ = 0;
};

// The errno of a failed bind explained for a person, with the limits.
std::string explain_bind_error(int err, const bind_options &opts);

} // namespace nfring
