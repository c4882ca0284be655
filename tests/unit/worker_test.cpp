// The worker's engine, driven without the kernel module: a shm_peer plays
// the module over POSIX shared memory, the worker runs its real io_uring
// loop in a thread, and the verdicts are checked packet by packet.
#include <chrono>
#include <gtest/gtest.h>
#include <map>
#include <netinet/in.h>
#include <string>
#include <system_error>
#include <thread>
#include <unistd.h>

#include "nfring/shm_peer.hpp"
#include "nfring/worker.hpp"
#include "packet_builder.hpp"

namespace
{

using namespace std::chrono_literals;

std::shared_ptr<const nfring::ruleset> rules_of(const std::string &text)
{
	return std::make_shared<const nfring::ruleset>(
	        nfring::ruleset::parse(text, "test.rules"));
}

// A peer, a worker on it, and the worker's thread.
class harness
{
public:
	explicit harness(const std::string &rules_text,
	                 std::uint32_t ring = 256,
	                 std::vector<nfring::filter_factory> filters = {})
	    : peer_("nfring-unit-" + std::to_string(::getpid()), ring, 2048)
	{
		opts_.filters = std::move(filters);
		rules_.current.store(rules_of(rules_text));
		worker_ = std::make_unique<nfring::queue_worker>(
		        nfring::queue(peer_.name(), peer_.wake_fd(),
		                      peer_.kick_fd()),
		        opts_, rules_);
		thread_ = std::thread([this] { worker_->run(); });
	}
	~harness() { stop(); }

	void stop()
	{
		if (!thread_.joinable())
			return;
		rules_.stop = true;
		worker_->notify();
		thread_.join();
	}

	// Collects verdicts until `want` arrived or 10 s passed.
	std::map<std::uint64_t, nfring_verdict> collect(std::size_t want)
	{
		std::map<std::uint64_t, nfring_verdict> got;
		const auto deadline = std::chrono::steady_clock::now() + 10s;
		while (got.size() < want &&
		       std::chrono::steady_clock::now() < deadline) {
			for (const auto &v : peer_.collect())
				got[v.id] = v;
			std::this_thread::sleep_for(1ms);
		}
		return got;
	}

	nfring::shm_peer peer_;
	nfring::shared_rules rules_;
	nfring::worker_options opts_;
	std::unique_ptr<nfring::queue_worker> worker_;
	std::thread thread_;
};

bool io_uring_usable()
{
	try {
		nfring::probe_io_uring();
		return true;
	} catch (const std::system_error &) {
		return false;
	}
}

#define REQUIRE_IO_URING()                                                     \
	if (!io_uring_usable())                                                \
	GTEST_SKIP() << "io_uring is not available here: " << [] {             \
		try {                                                          \
			nfring::probe_io_uring();                              \
		} catch (const std::exception &e) {                            \
			return std::string(e.what());                          \
		}                                                              \
		return std::string();                                          \
	}()

} // namespace

TEST(WorkerOverShm, EveryPacketGetsItsRulesVerdict)
{
	REQUIRE_IO_URING();
	harness h("drop udp dport 9999\n"
	          "mark 7 http.host video.example.net\n"
	          "accept\n");
	std::map<std::uint64_t, std::pair<std::uint32_t, std::uint32_t>> want;
	for (int i = 0; i < 60; i++) {
		std::vector<std::byte> pkt;
		std::uint32_t verdict = NFRING_ACCEPT, mark = 0;
		if (i % 3 == 0) {
			pkt = test::ipv4(IPPROTO_UDP, "10.0.0.1", 1000,
			                 "10.0.0.2", 9999, "x");
			verdict = NFRING_DROP;
		} else if (i % 3 == 1) {
			pkt = test::ipv4(
			        IPPROTO_TCP, "10.0.0.1",
			        static_cast<std::uint16_t>(2000 + i),
			        "10.0.0.2", 80,
			        "GET / HTTP/1.1\r\nHost: video.example.net"
			        "\r\n\r\n");
			mark = 7;
		} else {
			pkt = test::ipv4(IPPROTO_UDP, "10.0.0.1", 1000,
			                 "10.0.0.2", 53, "y");
		}
		const auto id = h.peer_.enqueue(pkt);
		ASSERT_NE(id, 0u);
		want[id] = {verdict, mark};
	}
	const auto got = h.collect(want.size());
	ASSERT_EQ(got.size(), want.size());
	for (const auto &[id, w] : want) {
		const auto &v = got.at(id);
		EXPECT_EQ(v.verdict, w.first) << "id " << id;
		EXPECT_EQ(v.mark, w.second) << "id " << id;
		EXPECT_EQ(v.flags, w.second ? NFRING_VF_SET_MARK : 0u);
	}
	h.stop();
	const auto &c = h.worker_->counters();
	EXPECT_EQ(c.packets, 60u);
	EXPECT_EQ(c.dropped, 20u);
	EXPECT_EQ(c.marked, 20u);
	EXPECT_EQ(h.peer_.invalid(), 0u);
}

TEST(WorkerOverShm, SleepsWhenIdleAndWakesForNewPackets)
{
	REQUIRE_IO_URING();
	harness h("accept\n");
	const auto pkt = test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2", 2);
	ASSERT_NE(h.peer_.enqueue(pkt), 0u);
	ASSERT_EQ(h.collect(1).size(), 1u);
	// Idle long enough to be asleep in io_uring_enter, then wake it.
	std::this_thread::sleep_for(300ms);
	ASSERT_NE(h.peer_.enqueue(pkt), 0u);
	ASSERT_EQ(h.collect(1).size(), 1u);
	EXPECT_GE(h.peer_.wakeups(), 1u)
	        << "the worker never asked to be woken";
	h.stop();
	EXPECT_GE(h.worker_->counters().wakeups, 1u);
}

TEST(WorkerOverShm, CoalescesWakeupsOnlyAfterBusyWakeups)
{
	REQUIRE_IO_URING();
	harness h("accept\n");
	const auto pkt = test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2", 2);
	auto asleep_after = [&](std::size_t burst) {
		for (std::size_t i = 0; i < burst; i++)
			EXPECT_NE(h.peer_.enqueue(pkt), 0u);
		EXPECT_EQ(h.collect(burst).size(), burst);
		std::this_thread::sleep_for(200ms); // back in io_uring_enter
		return h.peer_.hints();
	};
	// A quiet queue: every wake-up brings one packet; no coalescing.
	auto w = asleep_after(1);
	EXPECT_LE(w.batch, 1u);
	EXPECT_EQ(w.usecs, 0u);
	// A burst (the worker may wake before all of it is queued; it
	// counts every packet until it finds the ring empty).
	for (int attempt = 0; attempt < 5 && w.usecs == 0; attempt++)
		w = asleep_after(64);
	EXPECT_EQ(w.batch, h.opts_.wake_batch);
	EXPECT_EQ(w.usecs, h.opts_.coalesce_usecs);
	// Quiet again: the next sleep asks to be woken at once.
	w = asleep_after(1);
	EXPECT_LE(w.batch, 1u);
	EXPECT_EQ(w.usecs, 0u);
	h.stop();
	EXPECT_EQ(h.peer_.invalid(), 0u);
}

TEST(WorkerOverShm, FlowTableRemembersPayloadDecisions)
{
	REQUIRE_IO_URING();
	harness h("drop http.host evil.example.org\naccept\n");
	const char *c = "10.0.0.1", *s = "10.0.0.2";
	const std::string_view req =
	        "GET / HTTP/1.1\r\nHost: evil.example.org\r\n\r\n";
	const std::uint32_t isn = 1000, data = isn + 1;
	std::map<std::uint64_t, std::uint32_t> want;
	// The SYN comes before any field is known: the default.
	want[h.peer_.enqueue(test::tcp4(c, 40000, s, 80, isn, 0, {}, 0x02))] =
	        NFRING_ACCEPT;
	// The request decides; the rest of the flow carries no Host header.
	want[h.peer_.enqueue(test::tcp4(c, 40000, s, 80, data, 1, req))] =
	        NFRING_DROP;
	std::uint32_t seq = data + static_cast<std::uint32_t>(req.size());
	for (int i = 0; i < 5; i++) {
		want[h.peer_.enqueue(test::tcp4(c, 40000, s, 80, seq, 1,
		                                "more body"))] = NFRING_DROP;
		seq += 9;
	}
	// The reply direction belongs to the same flow; its acknowledgment
	// of the request lets the decision be cached for the flow.
	want[h.peer_.enqueue(test::tcp4(s, 80, c, 40000, 1, seq,
	                                "HTTP/1.1 200 OK\r\n\r\n"))] =
	        NFRING_DROP;
	want[h.peer_.enqueue(test::tcp4(c, 40000, s, 80, seq, 20, "tail"))] =
	        NFRING_DROP;
	const auto got = h.collect(want.size());
	ASSERT_EQ(got.size(), want.size());
	for (const auto &[id, v] : want)
		EXPECT_EQ(got.at(id).verdict, v) << "id " << id;
	h.stop();
	EXPECT_EQ(h.worker_->counters().flow_hits, 7u);
	EXPECT_EQ(h.worker_->flows(), 1u);
}

TEST(WorkerOverShm, ReloadAppliesNewRulesAndForgetsOldDecisions)
{
	REQUIRE_IO_URING();
	harness h("drop content \"X\"\naccept\n");
	const auto pkt =
	        test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2", 2, "X");
	const auto first = h.peer_.enqueue(pkt);
	EXPECT_EQ(h.collect(1).at(first).verdict, NFRING_DROP);

	h.rules_.current.store(rules_of("accept\n"));
	h.rules_.generation++;
	h.worker_->notify();
	// The reload is asynchronous: poll until a packet is accepted.
	std::uint32_t verdict = NFRING_DROP;
	for (int i = 0; i < 100 && verdict != NFRING_ACCEPT; i++) {
		const auto id = h.peer_.enqueue(pkt);
		verdict = h.collect(1).at(id).verdict;
	}
	EXPECT_EQ(verdict, NFRING_ACCEPT);
	h.stop();
	EXPECT_EQ(h.worker_->flows(), 0u) << "decisions of the old rules kept";
}

TEST(WorkerOverShm, StopAnswersEverythingAlreadyQueued)
{
	REQUIRE_IO_URING();
	harness h("accept\n", 512);
	for (int i = 0; i < 300; i++)
		ASSERT_NE(h.peer_.enqueue(test::ipv4(IPPROTO_UDP, "1.1.1.1", 1,
		                                     "2.2.2.2", 2)),
		          0u);
	h.stop();
	EXPECT_EQ(h.collect(300).size(), 300u);
	EXPECT_EQ(h.peer_.in_flight(), 0u);
}

TEST(ShmPeer, RejectsDuplicateAndForgedVerdicts)
{
	nfring::shm_peer peer("nfring-unit-dup-" + std::to_string(::getpid()),
	                      8, 64);
	nfring::queue q(peer.name(), peer.wake_fd(), peer.kick_fd());
	const auto id = peer.enqueue(
	        test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2", 2));
	ASSERT_EQ(q.rx().peek(8), 1u);
	EXPECT_EQ(q.rx().at(0).id, id);
	q.rx().release(1);
	auto &vr = q.verdicts();
	ASSERT_EQ(vr.reserve(3), 3u);
	vr.slot(0) = {id, NFRING_ACCEPT, 0, 0, 0};
	vr.slot(1) = {id, NFRING_ACCEPT, 0, 0, 0}; // duplicate
	vr.slot(2) = {id + (1ULL << 32), NFRING_DROP, 0, 0,
	              0}; // wrong generation
	q.publish_verdicts(3);
	EXPECT_EQ(peer.collect().size(), 1u);
	EXPECT_EQ(peer.invalid(), 2u);
	EXPECT_EQ(peer.in_flight(), 0u);
}

namespace
{

// The filter from filter.hpp's documentation, with a counter.
class drop_large_udp : public nfring::filter
{
public:
	std::string_view name() const override { return "large-udp"; }
	std::optional<nfring::rule_action>
	inspect(const nfring::packet_view &p) override
	{
		seen++;
		if (p.proto == IPPROTO_UDP && p.payload.size() > 512)
			return nfring::rule_action{nfring::action_kind::drop};
		return std::nullopt;
	}
	int seen = 0;
};

} // namespace

TEST(WorkerOverShm, CustomFiltersRunBeforeTheRules)
{
	REQUIRE_IO_URING();
	harness h("mark 3 udp\naccept\n", 256,
	          {[] { return std::make_unique<drop_large_udp>(); }});
	const auto big =
	        h.peer_.enqueue(test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2",
	                                   2, std::string(600, 'a')));
	const auto small = h.peer_.enqueue(
	        test::ipv4(IPPROTO_UDP, "1.1.1.1", 1, "2.2.2.2", 2, "tiny"));
	const auto got = h.collect(2);
	ASSERT_EQ(got.size(), 2u);
	EXPECT_EQ(got.at(big).verdict, NFRING_DROP) << "the filter decides";
	EXPECT_EQ(got.at(small).mark, 3u) << "no opinion: the rules decide";
	h.stop();
	EXPECT_EQ(h.worker_->counters().filter_hits.at(0), 1u);
}
