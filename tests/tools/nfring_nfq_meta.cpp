// nfring-nfq-meta: an ordinary libnetfilter_queue program that prints what
// the accessors say about each packet, for the VM tests of the metadata
// libnetfilter_queue over nfring reports.  It accepts every packet.
//
//   nfring-nfq-meta --queue N --count C [--uid-gid] [--conntrack]
//
// Prints "bound N", then one line per packet:
//   pkt id I indev X outdev Y physindev P physoutdev Q hw ADDR|- uid U|- gid G|-
// and exits after C packets (or on SIGTERM).
extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}
#include <arpa/inet.h>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/netfilter.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/socket.h>

namespace
{

volatile std::sig_atomic_t stop = 0;
void on_term(int)
{
	stop = 1;
}

struct state {
	nfq_q_handle *qh = nullptr;
	long seen = 0;
};

int on_packet(nfq_q_handle *, nfgenmsg *, nfq_data *nfa, void *data)
{
	auto &s = *static_cast<state *>(data);
	const nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	const std::uint32_t id = ph ? ntohl(ph->packet_id) : 0;
	char hw[3 * 8 + 1] = "-";
	if (const nfqnl_msg_packet_hw *h = nfq_get_packet_hw(nfa)) {
		const unsigned len = ntohs(h->hw_addrlen);
		int off = 0;
		for (unsigned i = 0; i < len && i < 8; i++)
			off += std::snprintf(hw + off, sizeof(hw) - off, "%s%02x",
			                     i ? ":" : "", h->hw_addr[i]);
	}
	std::uint32_t uid = 0, gid = 0;
	char uid_s[16] = "-", gid_s[16] = "-";
	if (nfq_get_uid(nfa, &uid))
		std::snprintf(uid_s, sizeof(uid_s), "%u", uid);
	if (nfq_get_gid(nfa, &gid))
		std::snprintf(gid_s, sizeof(gid_s), "%u", gid);
	std::printf("pkt id %u indev %u outdev %u physindev %u physoutdev %u "
	            "hw %s uid %s gid %s\n",
	            id, nfq_get_indev(nfa), nfq_get_outdev(nfa),
	            nfq_get_physindev(nfa), nfq_get_physoutdev(nfa), hw, uid_s,
	            gid_s);
	std::fflush(stdout);
	s.seen++;
	return nfq_set_verdict(s.qh, id, NF_ACCEPT, 0, nullptr);
}

int usage(const char *bad)
{
	std::fprintf(stderr,
	             "nfring-nfq-meta: bad argument '%s'; usage: --queue N "
	             "--count C [--uid-gid] [--conntrack]\n",
	             bad);
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	long queue = -1, count = -1;
	std::uint32_t flags = 0;
	for (int i = 1; i < argc; i++) {
		char *end = nullptr;
		if (!std::strcmp(argv[i], "--uid-gid")) {
			flags |= NFQA_CFG_F_UID_GID;
		} else if (!std::strcmp(argv[i], "--conntrack")) {
			flags |= NFQA_CFG_F_CONNTRACK;
		} else if (!std::strcmp(argv[i], "--queue") && i + 1 < argc) {
			queue = std::strtol(argv[++i], &end, 10);
			if (*end || queue < 0 || queue > 65535)
				return usage(argv[i]);
		} else if (!std::strcmp(argv[i], "--count") && i + 1 < argc) {
			count = std::strtol(argv[++i], &end, 10);
			if (*end || count < 1)
				return usage(argv[i]);
		} else {
			return usage(argv[i]);
		}
	}
	if (queue < 0 || count < 1)
		return usage("(--queue and --count are required)");
	struct sigaction sa {
	};
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, nullptr);

	state s;
	nfq_handle *h = nfq_open();
	if (!h) {
		std::perror("nfq_open");
		return 1;
	}
	s.qh = nfq_create_queue(h, static_cast<std::uint16_t>(queue), on_packet,
	                        &s);
	if (!s.qh) {
		std::perror("nfq_create_queue");
		return 1;
	}
	if (nfq_set_mode(s.qh, NFQNL_COPY_PACKET, 0xffff) < 0 ||
	    (flags && nfq_set_queue_flags(s.qh, flags, flags) < 0)) {
		std::perror("nfring-nfq-meta: queue settings");
		return 1;
	}
	const int fd = nfq_fd(h);
	std::printf("bound %ld\n", queue);
	std::fflush(stdout);
	static char buf[1 << 16] __attribute__((aligned));
	while (!stop && s.seen < count) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		const ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			nfq_handle_packet(h, buf, static_cast<int>(n));
	}
	nfq_destroy_queue(s.qh);
	nfq_close(h);
	return 0;
}
