// The worker's live statistics, published in a named POSIX shared-memory
// segment (Boost.Interprocess) that `nfringctl status` reads.  One segment
// per worker process, named "nfring-worker-<pid>" (/dev/shm on Linux).
//
// Layout: plain fixed-size data of 8-byte words, versioned by magic and
// version.  Each worker thread writes its own queue slot with relaxed
// atomic stores once per second and at exit; readers copy it word by word
// with relaxed atomic loads (each counter whole, the set not one instant).
#pragma once

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace nfring
{

struct stats_queue_slot {
	std::uint32_t queue_num;
	std::uint32_t nrules; // entries used in rule_line / rule_hits
	std::uint64_t packets, accepted, dropped, marked;
	std::uint64_t flow_hits, flows, flow_max;
	std::uint64_t kicks, wakeups, syscalls;
	std::uint64_t pps; // packets in the last second
	std::uint32_t rule_line[64];
	std::uint64_t rule_hits[64];
};

struct stats_segment_layout {
	static constexpr std::uint64_t magic_value =
	        0x6e6672696e677331; // "nfrings1"
	static constexpr std::uint32_t version_value = 1;
	static constexpr std::uint32_t max_queues = 256;

	std::uint64_t magic;
	std::uint32_t version;
	std::uint32_t pid;
	std::uint64_t started_unix;
	std::uint64_t rules_generation;
	std::uint32_t nqueues;
	std::uint32_t busy_poll;
	char rules_path[256];
	stats_queue_slot queues[max_queues];
};

inline void stats_store(std::uint64_t &field, std::uint64_t v)
{
	std::atomic_ref<std::uint64_t>(field).store(v,
	                                            std::memory_order_relaxed);
}

inline std::uint64_t stats_load(const std::uint64_t &field)
{
	return std::atomic_ref<std::uint64_t>(
	               const_cast<std::uint64_t &>(field))
	        .load(std::memory_order_relaxed);
}

// The worker's side: creates the segment and removes it on destruction.
class stats_publisher
{
public:
	explicit stats_publisher(std::uint32_t nqueues, bool busy_poll,
	                         const std::string &rules_path);
	~stats_publisher();
	stats_publisher(const stats_publisher &) = delete;
	stats_publisher &operator=(const stats_publisher &) = delete;

	stats_segment_layout &data()
	{
		return *static_cast<stats_segment_layout *>(
		        region_.get_address());
	}
	const std::string &name() const { return name_; }

private:
	std::string name_;
	boost::interprocess::shared_memory_object shm_;
	boost::interprocess::mapped_region region_;
};

// A reader's snapshot of one worker's segment.
struct worker_snapshot {
	std::string name;
	bool alive = false; // the publishing process still exists
	stats_segment_layout data;
};

// Every "nfring-worker-*" segment on this host, newest data.  Segments of
// dead workers are returned with alive = false.
std::vector<worker_snapshot>
read_worker_segments(const std::string &dir = "/dev/shm");

} // namespace nfring
