// The DPI worker's per-queue engine: one thread, one io_uring, one bound
// queue.  Packets are read from the RX ring in batches, matched against
// the current rules (with a flow table remembering payload decisions), and
// answered through the verdict ring.  The io_uring waits for packets (a
// multishot poll on the device, armed only when the ring is empty and the
// kernel was asked to wake us), kicks the kernel's reinject work (a write
// to the device, only when it went idle), runs the flow-expiry and stats
// timer, and listens to an eventfd for stop and reload requests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nfring/filter.hpp"
#include "nfring/flow_table.hpp"
#include "nfring/queue.hpp"
#include "nfring/rules.hpp"
#include "nfring/stats_segment.hpp"
#include "nfring/verdict_engine.hpp"

namespace nfring
{

struct worker_options {
	bind_options bind;      // queue_num is set per worker
	bool busy_poll = false; // never sleep: spin on the rings
	std::size_t batch = 64; // packets per pass
	// Wake coalescing under load, like a NIC's adaptive interrupt
	// moderation: after a wake-up that brought at least coalesce_min
	// packets, the worker asks to be woken only when wake_batch packets
	// wait or coalesce_usecs after the first of them.  A quiet queue
	// (ping-pong, a trickle) is woken at once.  coalesce_usecs 0: off.
	std::uint32_t coalesce_usecs = 1000;
	std::uint32_t wake_batch = 256;
	std::uint32_t coalesce_min = 4;
	std::size_t flow_max = 65536;
	std::chrono::seconds flow_idle{60};
	// L7 inspection and holding (verdict_engine.hpp, inspector.hpp).
	inspect_options inspect;
	std::chrono::milliseconds hold_time{500};
	std::size_t hold_packets = 32;
	rule_action undecided{action_kind::accept};
	rule_action inconsistent{action_kind::drop};
	// Where rule logs go as JSON lines (flow_log.hpp); nullptr: text on
	// stderr.  Shared by the queue threads; outlives them.
	flow_log *log = nullptr;
	std::chrono::seconds stats_interval{0}; // 0: only at exit
	bool verbose = false;
	// Custom filters, run before the rules (see filter.hpp); each queue
	// thread gets its own instances.
	std::vector<filter_factory> filters;
};

// Rules shared by every worker thread; reload swaps them atomically.
struct shared_rules {
	std::atomic<std::shared_ptr<const ruleset>> current;
	std::atomic<std::uint64_t> generation{0};
	std::atomic<bool> stop{false};
};

// The verdict engine's counters and the worker's own (io_uring, rings).
struct worker_counters : verdict_counters {
	std::uint64_t wakeups = 0, kicks = 0, batches = 0, syscalls = 0;
};

class queue_worker
{
public:
	// stats: this queue's slot in the published segment, or nullptr.
	queue_worker(std::uint16_t queue_num, const worker_options &opts,
	             shared_rules &rules, stats_queue_slot *stats = nullptr);
	// On an already bound queue (e.g. attached to a shm_peer).
	queue_worker(queue &&q, const worker_options &opts, shared_rules &rules,
	             stats_queue_slot *stats = nullptr);
	~queue_worker();
	queue_worker(const queue_worker &) = delete;
	queue_worker &operator=(const queue_worker &) = delete;

	// Runs until shared_rules::stop is set and notify() was called; then
	// answers every packet still on the ring and returns.
	void run();
	// Wakes the worker to look at stop/generation (any thread).
	void notify();

	std::uint16_t queue_num() const { return queue_num_; }
	// Bound with a conntrack bypass mark the module accepted.
	bool bypass_enabled() const
	{
		return q_.layout().ct_bypass_mark != 0;
	}
	worker_counters counters() const;
	std::size_t flows() const { return engine_->flows(); }
	std::size_t held() const { return engine_->held(); }
	std::string summary() const;

private:
	struct uring;

	std::size_t process_batch();
	bool flush_verdicts();
	void on_lag();
	void arm_hold_timer();
	void handle_completions(bool &stop);
	void kick();
	bool kick_if_due(bool now);
	void choose_wake_mode();
	void reload_if_changed();
	void print_stats() const;
	void publish_stats();

	std::uint16_t queue_num_;
	worker_options opts_;
	shared_rules &shared_;
	queue q_;
	std::unique_ptr<uring> ring_;
	int event_fd_ = -1;
	std::unique_ptr<verdict_engine> engine_;
	// Verdicts decided but not yet on the ring (it was full).
	std::vector<nfring_verdict> out_;
	std::uint64_t generation_ = 0;
	bool have_rules_ = false;
	bool hold_timer_armed_ = false;
	worker_counters c_; // the worker's own fields
	bool poll_armed_ = false;
	// Verdicts published since the last kick (or since the kernel said
	// it needs none); kicks ride on the sleeping io_uring_enter unless
	// kick_every_ of them pile up.
	std::uint32_t unkicked_ = 0;
	std::uint32_t kick_every_ = 256;
	bool skip_cqe_ = false;           // IOSQE_CQE_SKIP_SUCCESS works here
	std::uint64_t awake_packets_ = 0; // since the last wake-up
	bool coalescing_ = false;
	unsigned empty_polls_ = 0; // busy-poll: empty looks in a row
	stats_queue_slot *stats_;
	std::uint64_t packets_last_tick_ = 0;
	std::int64_t ticks_ = 0;
};

// The io_uring features and opcodes the worker needs, checked at start-up.
// Returns a line describing what was found; throws std::system_error
// naming what is missing.
std::string probe_io_uring();

} // namespace nfring
