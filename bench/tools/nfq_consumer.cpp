// nfring-nfq-consumer: the NFQUEUE baseline of the benchmark, written the
// way a DPI program would use libnetfilter_queue: it copies each packet
// (NFQNL_COPY_PACKET), and answers either one verdict per packet or one
// batch verdict per 32 packets (with a 1 ms flush timer for stragglers).
//
//   nfring-nfq-consumer --queue N [--batch 32] [--seconds S] [--gso]
//
// --gso sets NFQA_CFG_F_GSO: GSO packets arrive whole instead of in
// segments.  On exit (SIGTERM or after S seconds) it prints
// "packets N recv_calls R verdict_calls V poll_calls P syscalls S
// max_len L" -- its syscalls on the hot path, and the longest packet seen.
extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace
{

volatile std::sig_atomic_t stop = 0;
void on_term(int)
{
	stop = 1;
}

struct state {
	nfq_q_handle *qh = nullptr;
	unsigned batch = 1;
	unsigned pending = 0;
	std::uint32_t last_id = 0;
	long packets = 0, recv_calls = 0, verdict_calls = 0, poll_calls = 0;
	long max_len = 0;
	unsigned char copy[65536];
	unsigned long checksum = 0;
};

void flush(state &s)
{
	if (!s.pending)
		return;
	nfq_set_verdict_batch(s.qh, s.last_id, NF_ACCEPT);
	s.verdict_calls++;
	s.pending = 0;
}

int on_packet(nfq_q_handle *, nfgenmsg *, nfq_data *nfa, void *data)
{
	auto &s = *static_cast<state *>(data);
	const nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	const std::uint32_t id = ph ? ntohl(ph->packet_id) : 0;
	unsigned char *payload = nullptr;
	const int len = nfq_get_payload(nfa, &payload);
	if (len > 0) {
		// What a DPI program does first: take its own copy.
		std::memcpy(s.copy, payload, static_cast<std::size_t>(len));
		s.checksum += s.copy[0];
		if (len > s.max_len)
			s.max_len = len;
	}
	s.packets++;
	if (s.batch <= 1) {
		nfq_set_verdict(s.qh, id, NF_ACCEPT, 0, nullptr);
		s.verdict_calls++;
		return 0;
	}
	s.last_id = id;
	if (++s.pending >= s.batch)
		flush(s);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	int queue = 0;
	double seconds = 0;
	state s;
	bool gso = false;
	for (int i = 1; i < argc; i++) {
		const bool has_value = i + 1 < argc;
		if (!std::strcmp(argv[i], "--gso")) {
			gso = true;
		} else if (!std::strcmp(argv[i], "--queue") && has_value) {
			queue = std::atoi(argv[++i]);
		} else if (!std::strcmp(argv[i], "--batch") && has_value) {
			s.batch = static_cast<unsigned>(std::atoi(argv[++i]));
		} else if (!std::strcmp(argv[i], "--seconds") && has_value) {
			seconds = std::atof(argv[++i]);
		} else {
			std::fprintf(stderr,
			             "nfring-nfq-consumer: bad argument '%s'; usage: "
			             "--queue N [--batch N] [--seconds S] [--gso]\n",
			             argv[i]);
			return 2;
		}
	}
	struct sigaction sa {
	};
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);

	nfq_handle *h = nfq_open();
	if (!h) {
		std::perror("nfq_open");
		return 1;
	}
	nfq_bind_pf(h, AF_INET);
	s.qh = nfq_create_queue(h, static_cast<std::uint16_t>(queue), on_packet,
	                        &s);
	if (!s.qh) {
		std::fprintf(stderr,
		             "nfring-nfq-consumer: cannot bind queue %d: "
		             "%s (is nfnetlink_queue loaded, nfring not?)\n",
		             queue, std::strerror(errno));
		return 1;
	}
	nfq_set_mode(s.qh, NFQNL_COPY_PACKET, 0xffff);
	nfq_set_queue_maxlen(s.qh, 4096);
	if (gso &&
	    nfq_set_queue_flags(s.qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO) < 0) {
		std::perror("nfring-nfq-consumer: NFQA_CFG_F_GSO");
		return 1;
	}
	const int fd = nfq_fd(h);
	nfnl_rcvbufsiz(nfq_nfnlh(h), 8 << 20);
	const int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	std::printf("bound %d\n", queue);
	std::fflush(stdout);

	static char buf[1 << 16] __attribute__((aligned));
	const auto end =
	        std::chrono::steady_clock::now() +
	        std::chrono::duration<double>(seconds > 0 ? seconds : 1e9);
	while (!stop && std::chrono::steady_clock::now() < end) {
		pollfd p{fd, POLLIN, 0};
		// The flush timer: stragglers of a batch wait at most 1 ms.
		const int r = poll(&p, 1, s.pending ? 1 : 100);
		s.poll_calls++;
		if (r == 0) {
			flush(s);
			continue;
		}
		if (r < 0)
			continue;
		const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		s.recv_calls++;
		if (n > 0)
			nfq_handle_packet(h, buf, static_cast<int>(n));
	}
	flush(s);
	std::printf("packets %ld recv_calls %ld verdict_calls %ld poll_calls %ld "
	            "syscalls %ld max_len %ld\n",
	            s.packets, s.recv_calls, s.verdict_calls, s.poll_calls,
	            s.recv_calls + s.verdict_calls + s.poll_calls, s.max_len);
	nfq_destroy_queue(s.qh);
	nfq_close(h);
	return 0;
}
