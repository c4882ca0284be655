#include "nfring/stats_segment.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <unistd.h>

namespace bip = boost::interprocess;

namespace nfring
{

stats_publisher::stats_publisher(std::uint32_t nqueues, bool busy_poll,
                                 const std::string &rules_path)
    : name_("nfring-worker-" + std::to_string(::getpid()))
{
	// A previous process with our pid cannot still own it.
	bip::shared_memory_object::remove(name_.c_str());
	shm_ = bip::shared_memory_object(bip::create_only, name_.c_str(),
	                                 bip::read_write);
	shm_.truncate(sizeof(stats_segment_layout));
	region_ = bip::mapped_region(shm_, bip::read_write);
	auto &d = data();
	std::memset(&d, 0, sizeof(d));
	d.version = stats_segment_layout::version_value;
	d.pid = static_cast<std::uint32_t>(::getpid());
	d.started_unix = static_cast<std::uint64_t>(
	        std::chrono::duration_cast<std::chrono::seconds>(
	                std::chrono::system_clock::now().time_since_epoch())
	                .count());
	d.nqueues = nqueues < stats_segment_layout::max_queues
	                    ? nqueues
	                    : stats_segment_layout::max_queues;
	d.busy_poll = busy_poll;
	std::strncpy(d.rules_path, rules_path.c_str(),
	             sizeof(d.rules_path) - 1);
	// Readers check the magic last: the rest is valid once it is there.
	std::atomic_ref<std::uint64_t>(d.magic).store(
	        stats_segment_layout::magic_value, std::memory_order_release);
}

stats_publisher::~stats_publisher()
{
	bip::shared_memory_object::remove(name_.c_str());
}

std::vector<worker_snapshot> read_worker_segments(const std::string &dir)
{
	std::vector<worker_snapshot> out;
	std::unique_ptr<DIR, int (*)(DIR *)> d(::opendir(dir.c_str()),
	                                       ::closedir);
	if (!d)
		return out;
	while (const dirent *e = ::readdir(d.get())) {
		const std::string name = e->d_name;
		if (name.rfind("nfring-worker-", 0) != 0)
			continue;
		try {
			bip::shared_memory_object shm(
			        bip::open_only, name.c_str(), bip::read_only);
			bip::offset_t size = 0;
			if (!shm.get_size(size) ||
			    size < static_cast<bip::offset_t>(
			                   sizeof(stats_segment_layout)))
				continue;
			bip::mapped_region region(shm, bip::read_only, 0,
			                          sizeof(stats_segment_layout));
			const auto *src =
			        static_cast<const stats_segment_layout *>(
			                region.get_address());
			worker_snapshot snap;
			snap.name = name;
			// Word by word with atomic loads: each counter is
			// read whole even while a worker updates it.
			static_assert(sizeof(stats_segment_layout) % 8 == 0);
			const auto *from =
			        reinterpret_cast<const std::uint64_t *>(src);
			auto *to =
			        reinterpret_cast<std::uint64_t *>(&snap.data);
			for (std::size_t i = 0; i < sizeof(snap.data) / 8; i++)
				to[i] = stats_load(from[i]);
			if (snap.data.magic !=
			            stats_segment_layout::magic_value ||
			    snap.data.version !=
			            stats_segment_layout::version_value)
				continue;
			snap.alive = ::kill(static_cast<pid_t>(snap.data.pid),
			                    0) == 0 ||
			             errno == EPERM;
			out.push_back(std::move(snap));
		} catch (const bip::interprocess_exception &) {
			continue; // vanished or not ours
		}
	}
	return out;
}

} // namespace nfring
