// libnetfilter_queue over nfring, driven the way NFQUEUE programs drive
// it (open, create a queue, recv on the fd, nfq_handle_packet, verdicts),
// against the shared-memory stand-in for the module.  The recv, read and
// setsockopt these tests call are the library's own: it is linked into
// this program as it is loaded into the programs it serves.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netfilter.h>
#include <map>
#include <net/if.h>
#include <memory>
#include <poll.h>
#include <pthread.h>
#include <csignal>
#include <random>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "nfq_internal.hpp"
#include "nfring/shm_peer.hpp"

namespace
{

struct seen {
	std::uint32_t id;
	std::uint16_t res_id;
	std::vector<unsigned char> payload;
	int payload_len;
	std::uint32_t mark;
};

// Peers by queue number, made when the library binds.
struct fixture : ::testing::Test {
	std::map<std::uint16_t, std::unique_ptr<nfring::shm_peer>> peers;
	std::map<std::uint16_t, nfring::bind_options> bound;
	nfq_handle *h = nullptr;

	void SetUp() override
	{
		nfring::nfq::set_ring_opener([this](const nfring::bind_options &o) {
			bound[o.queue_num] = o;
			auto p = std::make_unique<nfring::shm_peer>(
			        "/nfring-nfq-test-" + std::to_string(::getpid()) +
			                "-" + std::to_string(o.queue_num),
			        o.ring_entries, o.copy_range);
			auto q = std::make_unique<nfring::queue>(
			        p->name(), p->wake_fd(), p->kick_fd());
			peers[o.queue_num] = std::move(p);
			return q;
		});
		h = nfq_open();
		ASSERT_NE(h, nullptr);
	}
	void TearDown() override
	{
		if (h)
			nfq_close(h);
		nfring::nfq::set_ring_opener(nullptr);
	}

	static std::vector<std::byte> packet(std::size_t n, unsigned char fill)
	{
		return std::vector<std::byte>(n, std::byte{fill});
	}

	// recv one record on fd and dispatch it.
	int pump(int fd)
	{
		char buf[4096];
		const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return -1;
		return nfq_handle_packet(h, buf, static_cast<int>(n));
	}
};

int record_cb(nfq_q_handle *, nfgenmsg *g, nfq_data *d, void *data)
{
	auto &out = *static_cast<std::vector<seen> *>(data);
	seen s{};
	s.id = ntohl(nfq_get_msg_packet_hdr(d)->packet_id);
	s.res_id = ntohs(g->res_id);
	unsigned char *p = nullptr;
	s.payload_len = nfq_get_payload(d, &p);
	if (s.payload_len > 0)
		s.payload.assign(p, p + s.payload_len);
	s.mark = nfq_get_nfmark(d);
	out.push_back(s);
	return 0;
}

using NfqCompat = fixture;

// The id a record written by recv carries.
void record_id_matches(const char *buf, std::uint32_t id)
{
	nfring::nfq::record r;
	std::memcpy(&r, buf, sizeof(r));
	EXPECT_EQ(r.id, id);
	EXPECT_EQ(ntohl(r.hdr.packet_id), id);
}

extern "C" ssize_t __recv_chk(int, void *, size_t, size_t, int);
extern "C" ssize_t __read_chk(int, void *, size_t, size_t);

TEST_F(NfqCompat, DeliversPacketsWithIdsFromOneAndTheirPayload)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 7, record_cb, &got);
	ASSERT_NE(qh, nullptr);
	ASSERT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff), 0);
	const int fd = nfq_fd(h);
	ASSERT_GE(fd, 0);
	// The ring's size follows the queue length, its frames the range.
	EXPECT_EQ(bound[7].ring_entries, 1024u);
	EXPECT_EQ(bound[7].copy_range, 0xffffu - 4);
	EXPECT_EQ(bound[7].default_verdict, NFRING_DROP);
	// Without NFQA_CFG_F_GSO, packets as nfnetlink_queue delivers them.
	EXPECT_TRUE(bound[7].normalize);

	for (unsigned char c = 1; c <= 3; c++)
		ASSERT_NE(peers[7]->enqueue(packet(100 * c, c), 2, c * 10u), 0u);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(pump(fd), 0);
	ASSERT_EQ(got.size(), 3u);
	for (unsigned i = 0; i < 3; i++) {
		EXPECT_EQ(got[i].id, i + 1);
		EXPECT_EQ(got[i].res_id, 7);
		EXPECT_EQ(got[i].payload_len, static_cast<int>(100 * (i + 1)));
		EXPECT_EQ(got[i].payload.front(), i + 1);
		EXPECT_EQ(got[i].mark, (i + 1) * 10);
	}
	// Nothing more: a non-blocking recv says so.
	char buf[256];
	EXPECT_EQ(::recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, EAGAIN);
}

TEST_F(NfqCompat, VerdictsReachTheRingWithTheirNfringIdsMarkAndPayload)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	ASSERT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 1500), 0);
	const int fd = nfq_fd(h);
	const auto a = peers[0]->enqueue(packet(60, 0xaa));
	const auto b = peers[0]->enqueue(packet(60, 0xbb));
	const auto c = peers[0]->enqueue(packet(60, 0xcc));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(pump(fd), 0);

	EXPECT_GT(nfq_set_verdict2(qh, 2, NF_ACCEPT, 0x55, 0, nullptr), 0);
	EXPECT_GT(nfq_set_verdict(qh, 1, NF_DROP, 0, nullptr), 0);
	// A new payload from the program's own buffer goes into the frame.
	std::vector<unsigned char> repl(40, 0xee);
	EXPECT_GT(nfq_set_verdict(qh, 3, NF_ACCEPT, repl.size(), repl.data()), 0);

	const auto v = peers[0]->collect();
	ASSERT_EQ(v.size(), 3u);
	EXPECT_EQ(v[0].id, b);
	EXPECT_EQ(v[0].verdict, NFRING_ACCEPT);
	EXPECT_EQ(v[0].flags, NFRING_VF_SET_MARK);
	EXPECT_EQ(v[0].mark, 0x55u);
	EXPECT_EQ(v[1].id, a);
	EXPECT_EQ(v[1].verdict, NFRING_DROP);
	EXPECT_EQ(v[1].flags, 0u);
	EXPECT_EQ(v[2].id, c);
	EXPECT_EQ(v[2].flags, NFRING_VF_MANGLE);
	EXPECT_EQ(v[2].new_len, 40u);
	const auto f = peers[0]->frame(static_cast<std::uint32_t>(c));
	EXPECT_EQ(f[0], std::byte{0xee});
	EXPECT_EQ(f[39], std::byte{0xee});
	EXPECT_EQ(peers[0]->invalid(), 0u);
	EXPECT_EQ(peers[0]->in_flight(), 0u);

	// Answered ids are unknown now; so is an id never given.
	EXPECT_EQ(nfq_set_verdict(qh, 2, NF_ACCEPT, 0, nullptr), -1);
	EXPECT_EQ(errno, ENOENT);
	EXPECT_EQ(nfq_set_verdict(qh, 99, NF_ACCEPT, 0, nullptr), -1);
	EXPECT_EQ(errno, ENOENT);
}

TEST_F(NfqCompat, PayloadEditedInPlaceIsTheNewPacket)
{
	nfq_q_handle *qh = nfq_create_queue(
	        h, 0,
	        [](nfq_q_handle *q, nfgenmsg *, nfq_data *d, void *) {
		        unsigned char *p = nullptr;
		        const int n = nfq_get_payload(d, &p);
		        p[0] = 0x45;
		        p[n - 1] = 0x99;
		        const auto id =
		                ntohl(nfq_get_msg_packet_hdr(d)->packet_id);
		        return nfq_set_verdict(q, id, NF_ACCEPT, n - 10, p) > 0
		                       ? 0
		                       : -1;
	        },
	        nullptr);
	ASSERT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 0), 0);
	const int fd = nfq_fd(h);
	const auto id = peers[0]->enqueue(packet(300, 0x11));
	ASSERT_EQ(pump(fd), 0);
	const auto v = peers[0]->collect();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].new_len, 290u);
	EXPECT_EQ(peers[0]->frame(static_cast<std::uint32_t>(id))[0],
	          std::byte{0x45});
}

TEST_F(NfqCompat, BatchVerdictAnswersEveryPacketUpToTheId)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 3, record_cb, &got);
	ASSERT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 128), 0);
	const int fd = nfq_fd(h);
	std::vector<std::uint64_t> ids;
	for (int i = 0; i < 6; i++)
		ids.push_back(peers[3]->enqueue(packet(64, 1)));
	for (int i = 0; i < 6; i++)
		ASSERT_EQ(pump(fd), 0);
	// 2 alone first; then "up to 4" answers 1, 3 and 4, oldest first.
	ASSERT_GT(nfq_set_verdict(qh, 2, NF_ACCEPT, 0, nullptr), 0);
	ASSERT_GT(nfq_set_verdict_batch2(qh, 4, NF_ACCEPT, 9), 0);
	auto v = peers[3]->collect();
	ASSERT_EQ(v.size(), 4u);
	EXPECT_EQ(v[0].id, ids[1]);
	EXPECT_EQ(v[1].id, ids[0]);
	EXPECT_EQ(v[2].id, ids[2]);
	EXPECT_EQ(v[3].id, ids[3]);
	EXPECT_EQ(v[3].mark, 9u);
	EXPECT_EQ(v[3].flags, NFRING_VF_SET_MARK);
	// Nothing left up to 4.
	EXPECT_EQ(nfq_set_verdict_batch(qh, 4, NF_ACCEPT), -1);
	EXPECT_EQ(errno, ENOENT);
	ASSERT_GT(nfq_set_verdict_batch(qh, 6, NF_DROP), 0);
	v = peers[3]->collect();
	ASSERT_EQ(v.size(), 2u);
	EXPECT_EQ(v[0].id, ids[4]);
	EXPECT_EQ(v[1].id, ids[5]);
	EXPECT_EQ(peers[3]->in_flight(), 0u);
}

TEST_F(NfqCompat, BatchVerdictFollowsIdsAcrossTheirWrap)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	qh->q->next_id = 0xfffffffeu;
	for (int i = 0; i < 4; i++)
		peers[0]->enqueue(packet(64, 1));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pump(fd), 0);
	ASSERT_EQ(got.size(), 4u);
	EXPECT_EQ(got[0].id, 0xfffffffeu);
	EXPECT_EQ(got[2].id, 0u);
	EXPECT_EQ(got[3].id, 1u);
	// "Up to 0" covers the two before the wrap and 0, not 1.
	ASSERT_GT(nfq_set_verdict_batch(qh, 0, NF_ACCEPT), 0);
	EXPECT_EQ(peers[0]->collect().size(), 3u);
	EXPECT_EQ(peers[0]->in_flight(), 1u);
}

TEST_F(NfqCompat, VerdictsNfringCannotGiveAreRefused)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	peers[0]->enqueue(packet(64, 1));
	ASSERT_EQ(pump(fd), 0);
	for (std::uint32_t v : {NF_QUEUE | (5u << 16), std::uint32_t(NF_STOLEN),
	                        std::uint32_t(NF_STOP)}) {
		EXPECT_EQ(nfq_set_verdict(qh, 1, v, 0, nullptr), -1) << v;
		EXPECT_EQ(errno, EINVAL);
	}
	// Without a copy of the packet there is no frame to mangle.
	unsigned char b[20] = {};
	EXPECT_EQ(nfq_set_verdict(qh, 1, NF_ACCEPT, sizeof(b), b), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(got[0].payload_len, -1);
	EXPECT_GT(nfq_set_verdict(qh, 1, NF_REPEAT, 0, nullptr), 0);
	EXPECT_EQ(peers[0]->collect().at(0).verdict, NFRING_REPEAT);
}

TEST_F(NfqCompat, SettingsAfterBindAreKeptWhenTheRingCanHonourThem)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	ASSERT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 256), 0);
	ASSERT_EQ(nfq_set_queue_maxlen(qh, 100), 0);
	const int fd = nfq_fd(h);
	EXPECT_EQ(bound[0].ring_entries, 128u);
	// More bytes than the frames hold: refused, the binding stays.
	EXPECT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 4096), -1);
	EXPECT_EQ(errno, EBUSY);
	// Fewer: the payload is cut where the program asked.
	ASSERT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 40), 0);
	peers[0]->enqueue(packet(200, 1));
	ASSERT_EQ(pump(fd), 0);
	EXPECT_EQ(got.at(0).payload_len, 40);
	EXPECT_EQ(nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN,
	                              NFQA_CFG_F_FAIL_OPEN),
	          -1);
	EXPECT_EQ(nfq_set_queue_flags(qh, 1u << 5, 1u << 5), -1);
	EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST_F(NfqCompat, FailOpenAndGsoSetBeforeTheFdReachTheBinding)
{
	nfq_q_handle *qh = nfq_create_queue(h, 4, record_cb, nullptr);
	ASSERT_EQ(nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN,
	                              NFQA_CFG_F_FAIL_OPEN),
	          0);
	ASSERT_EQ(nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO), 0);
	ASSERT_GE(nfq_fd(h), 0);
	EXPECT_TRUE(bound[4].fail_open);
	EXPECT_FALSE(bound[4].normalize);
	EXPECT_EQ(nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, 0), -1);
	EXPECT_EQ(errno, EBUSY);
}

TEST_F(NfqCompat, AQueueCreatedTwiceIsBusy)
{
	ASSERT_NE(nfq_create_queue(h, 1, record_cb, nullptr), nullptr);
	EXPECT_EQ(nfq_create_queue(h, 1, record_cb, nullptr), nullptr);
	EXPECT_EQ(errno, EBUSY);
}

TEST_F(NfqCompat, TwoQueuesShareTheHandlesFd)
{
	std::vector<seen> a, b;
	nfq_create_queue(h, 10, record_cb, &a);
	nfq_create_queue(h, 11, record_cb, &b);
	const int fd = nfq_fd(h);
	for (int i = 0; i < 3; i++) {
		peers[10]->enqueue(packet(64, 1));
		peers[11]->enqueue(packet(64, 2));
	}
	for (int i = 0; i < 6; i++)
		ASSERT_EQ(pump(fd), 0);
	ASSERT_EQ(a.size(), 3u);
	ASSERT_EQ(b.size(), 3u);
	// Each queue numbers its own packets.
	EXPECT_EQ(a[2].id, 3u);
	EXPECT_EQ(b[2].id, 3u);
	EXPECT_EQ(a[0].res_id, 10);
	EXPECT_EQ(b[0].res_id, 11);
}

TEST_F(NfqCompat, PollOnTheFdSaysWhenPacketsWait)
{
	nfq_create_queue(h, 0, record_cb, nullptr);
	const int fd = nfq_fd(h);
	pollfd p{fd, POLLIN, 0};
	EXPECT_EQ(::poll(&p, 1, 0), 0);
	peers[0]->enqueue(packet(64, 1));
	EXPECT_EQ(::poll(&p, 1, 1000), 1);
	EXPECT_TRUE(p.revents & POLLIN);
}

TEST_F(NfqCompat, BlockingRecvSleepsUntilAPacketArrives)
{
	std::vector<seen> got;
	nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	std::thread later([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		peers[0]->enqueue(packet(64, 1));
	});
	char buf[4096];
	const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
	later.join();
	ASSERT_GT(n, 0);
	ASSERT_EQ(nfq_handle_packet(h, buf, static_cast<int>(n)), 0);
	EXPECT_EQ(got.size(), 1u);
}

void on_alarm(int) {}

// A signal during a blocking recv: restarted when the handler has
// SA_RESTART (as a socket's recv would be), EINTR when it has not.
TEST_F(NfqCompat, SignalsInterruptRecvAsOnASocket)
{
	std::vector<seen> got;
	nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	const pthread_t self = ::pthread_self();
	for (const bool restart : {true, false}) {
		struct sigaction sa{}, old{};
		sa.sa_handler = on_alarm;
		sa.sa_flags = restart ? SA_RESTART : 0;
		ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
		std::thread later([&] {
			std::this_thread::sleep_for(std::chrono::milliseconds(30));
			::pthread_kill(self, SIGUSR1);
			std::this_thread::sleep_for(std::chrono::milliseconds(30));
			peers[0]->enqueue(packet(64, 1));
		});
		char buf[4096];
		const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
		const int err = errno;
		later.join();
		::sigaction(SIGUSR1, &old, nullptr);
		if (restart) {
			EXPECT_GT(n, 0) << "restarted recv returns the packet";
		} else {
			EXPECT_EQ(n, -1);
			EXPECT_EQ(err, EINTR);
			ASSERT_EQ(pump(fd), 0); // the packet is still there
		}
	}
}

TEST_F(NfqCompat, NonBlockingFdAndTimeoutGiveEagain)
{
	nfq_create_queue(h, 0, record_cb, nullptr);
	const int fd = nfq_fd(h);
	char buf[256];
	ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	EXPECT_EQ(::read(fd, buf, sizeof(buf)), -1);
	EXPECT_EQ(errno, EAGAIN);
	ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
	timeval tv{0, 20000};
	ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	EXPECT_EQ(::recv(fd, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EAGAIN);
}

TEST_F(NfqCompat, SocketCallsOnTheFdBehaveAsOnNetlink)
{
	std::vector<seen> got;
	nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	const int one = 1;
	EXPECT_EQ(::setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one,
	                       sizeof(one)),
	          0);
	EXPECT_EQ(nfnl_rcvbufsiz(nfq_nfnlh(h), 1 << 20), 2u << 20);
	int v = 0;
	socklen_t len = sizeof(v);
	ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	EXPECT_EQ(v, 2 << 20);
	EXPECT_EQ(nfnl_fd(nfq_nfnlh(h)), fd);

	peers[0]->enqueue(packet(64, 1));
	peers[0]->enqueue(packet(64, 2));
	char buf[4096];
	sockaddr_nl from{};
	socklen_t fromlen = sizeof(from);
	ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0,
	                       reinterpret_cast<sockaddr *>(&from), &fromlen);
	ASSERT_GT(n, 0);
	EXPECT_EQ(from.nl_family, AF_NETLINK);
	EXPECT_EQ(from.nl_pid, 0u);
	// A peek leaves the packet for the next call, with the same id.
	iovec iov{buf, sizeof(buf)};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	char peek[4096];
	ASSERT_GT(::recv(fd, peek, sizeof(peek), MSG_PEEK), 0);
	n = ::recvmsg(fd, &msg, 0);
	ASSERT_GT(n, 0);
	EXPECT_EQ(std::memcmp(peek, buf, static_cast<std::size_t>(n)), 0);
	ASSERT_EQ(nfq_handle_packet(h, buf, static_cast<int>(n)), 0);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0].id, 2u);
	// A buffer too small for a record: the packet waits for the next.
	peers[0]->enqueue(packet(64, 3));
	EXPECT_EQ(::recv(fd, buf, 8, MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, ENOBUFS);
	ASSERT_EQ(pump(fd), 0);
	ASSERT_EQ(got.size(), 2u);
	EXPECT_EQ(got[1].id, 3u);
}

TEST_F(NfqCompat, AnOldBufferDispatchesNothingOnceAnswered)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	peers[0]->enqueue(packet(64, 1));
	char buf[4096];
	const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
	ASSERT_EQ(nfq_handle_packet(h, buf, static_cast<int>(n)), 0);
	ASSERT_GT(nfq_set_verdict(qh, 1, NF_ACCEPT, 0, nullptr), 0);
	ASSERT_EQ(nfq_handle_packet(h, buf, static_cast<int>(n)), 0);
	EXPECT_EQ(got.size(), 1u);
}

TEST_F(NfqCompat, DestroyedQueueDropsWhatItHeld)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	peers[0]->enqueue(packet(64, 1));
	ASSERT_EQ(pump(fd), 0);
	EXPECT_EQ(nfq_destroy_queue(qh), 0);
	// The binding is gone; with the module its packets get the default
	// verdict, drop.  The stand-in just sees no further verdicts.
	EXPECT_TRUE(peers[0]->collect().empty());
	char buf[256];
	EXPECT_EQ(::recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
}

TEST_F(NfqCompat, PeekAndShortBuffersLeaveThePacketOnItsRing)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	peers[0]->enqueue(packet(64, 1));
	char small[8], peek[4096];
	EXPECT_EQ(::recv(fd, small, sizeof(small), 0), -1);
	EXPECT_EQ(errno, ENOBUFS);
	ASSERT_GT(::recv(fd, peek, sizeof(peek), MSG_PEEK), 0);
	// Still on the ring (so the device keeps the fd readable).
	EXPECT_EQ(qh->q->received, 0u);
	EXPECT_EQ(qh->q->ring->rx().peek(8), 1u);
	ASSERT_EQ(pump(fd), 0);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0].id, 1u);
	record_id_matches(peek, 1);
}

TEST_F(NfqCompat, AQueueCreatedAfterTheFdIsBoundAtOnce)
{
	std::vector<seen> a, b;
	nfq_create_queue(h, 1, record_cb, &a);
	const int fd = nfq_fd(h);
	EXPECT_EQ(bound.count(2), 0u);
	nfq_create_queue(h, 2, record_cb, &b);
	ASSERT_EQ(bound.count(2), 1u);
	peers[2]->enqueue(packet(64, 1));
	ASSERT_EQ(pump(fd), 0);
	EXPECT_EQ(b.size(), 1u);
}

TEST_F(NfqCompat, APayloadGivenBackUnchangedIsNoMangle)
{
	std::vector<seen> got;
	nfq_q_handle *qh = nfq_create_queue(h, 0, record_cb, &got);
	ASSERT_EQ(nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff), 0);
	const int fd = nfq_fd(h);
	peers[0]->enqueue(packet(100, 7));
	peers[0]->enqueue(packet(100, 7));
	ASSERT_EQ(pump(fd), 0);
	ASSERT_EQ(pump(fd), 0);
	// A copy, unchanged: no new payload.  The same copy changed: one.
	auto copy = got[0].payload;
	ASSERT_GT(nfq_set_verdict(qh, 1, NF_ACCEPT, copy.size(), copy.data()), 0);
	copy[5] ^= 1;
	ASSERT_GT(nfq_set_verdict(qh, 2, NF_ACCEPT, copy.size(), copy.data()), 0);
	const auto v = peers[0]->collect();
	ASSERT_EQ(v.size(), 2u);
	EXPECT_EQ(v[0].flags, 0u);
	EXPECT_EQ(v[1].flags, NFRING_VF_MANGLE);
}

TEST_F(NfqCompat, DeviceNamesAnswerAsLibnfnetlinkDoes)
{
	nfq_create_queue(
	        h, 0,
	        [](nfq_q_handle *, nfgenmsg *, nfq_data *d, void *) {
		        char name[IFNAMSIZ] = "x";
		        // The stand-in gives no devices: libnfnetlink's "*".
		        EXPECT_EQ(nfq_get_indev_name(nullptr, d, name), 1);
		        EXPECT_STREQ(name, "*");
		        return 0;
	        },
	        nullptr);
	const int fd = nfq_fd(h);
	peers[0]->enqueue(packet(64, 1));
	ASSERT_EQ(pump(fd), 0);
}

TEST_F(NfqCompat, FortifiedRecvAndReadAreServedToo)
{
	std::vector<seen> got;
	nfq_create_queue(h, 0, record_cb, &got);
	const int fd = nfq_fd(h);
	peers[0]->enqueue(packet(64, 1));
	peers[0]->enqueue(packet(64, 2));
	char buf[4096];
	ssize_t n = __recv_chk(fd, buf, sizeof(buf), sizeof(buf), 0);
	ASSERT_GT(n, 0);
	ASSERT_EQ(nfq_handle_packet(h, buf, static_cast<int>(n)), 0);
	n = __read_chk(fd, buf, sizeof(buf), sizeof(buf));
	ASSERT_GT(n, 0);
	ASSERT_EQ(nfq_handle_packet(h, buf, static_cast<int>(n)), 0);
	EXPECT_EQ(got.size(), 2u);
}

TEST(NfqIdIndex, MatchesAMapUnderRandomInsertAndErase)
{
	nfring::nfq::id_index ix;
	ix.reset(64);
	std::map<std::uint32_t, std::uint32_t> ref;
	std::mt19937 rng(1);
	std::uint32_t next = 0xfffffff0u; // across the wrap
	std::vector<std::uint32_t> live;
	for (int step = 0; step < 200000; step++) {
		if (live.size() < 64 && (live.empty() || rng() % 2)) {
			const std::uint32_t id = next++;
			const std::uint32_t frame = rng() % 64;
			ix.insert(id, frame);
			ref[id] = frame;
			live.push_back(id);
		} else {
			const std::size_t k = rng() % live.size();
			ix.erase(live[k]);
			ref.erase(live[k]);
			live[k] = live.back();
			live.pop_back();
		}
		if (step % 97 == 0)
			for (std::uint32_t probe = next - 130; probe != next; probe++) {
				const auto it = ref.find(probe);
				const auto got = ix.find(probe);
				ASSERT_EQ(got.has_value(), it != ref.end()) << probe;
				if (got) {
					ASSERT_EQ(*got, it->second);
				}
			}
	}
}

TEST(NfqIds, SequenceComparisonWraps)
{
	using nfring::nfq::id_at_or_before;
	EXPECT_TRUE(id_at_or_before(1, 1));
	EXPECT_TRUE(id_at_or_before(1, 2));
	EXPECT_FALSE(id_at_or_before(2, 1));
	EXPECT_TRUE(id_at_or_before(0xffffffffu, 0));
	EXPECT_FALSE(id_at_or_before(0, 0xffffffffu));
}

} // namespace
