// nfring-blast: UDP load for the VM benchmark, with sendmmsg/recvmmsg so
// that the generator makes one syscall per 64 datagrams.
//
//   nfring-blast send ADDR PORT IP_SIZE SECONDS   as fast as it can
//   nfring-blast sink PORT SECONDS                count what arrives
//
// IP_SIZE is the IP packet size (28 bytes of IPv4+UDP header included).
// Both print one line "sent|received N seconds S pps P" (the sink adds
// "batches B").
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace
{

constexpr int burst = 64;

double now_s()
{
	return std::chrono::duration<double>(
	               std::chrono::steady_clock::now().time_since_epoch())
	        .count();
}

int send_load(const char *addr, int port, int ip_size, double seconds)
{
	if (ip_size < 28 || ip_size > 65535) {
		std::fprintf(stderr, "nfring-blast: IP_SIZE %d: 28..65535\n",
		             ip_size);
		return 2;
	}
	const int fd = socket(AF_INET, SOCK_DGRAM, 0);
	sockaddr_in to{};
	to.sin_family = AF_INET;
	to.sin_port = htons(static_cast<uint16_t>(port));
	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		std::fprintf(stderr, "nfring-blast: bad address %s\n", addr);
		return 2;
	}
	if (connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof(to)) < 0) {
		std::perror("connect");
		return 1;
	}
	std::vector<char> payload(static_cast<std::size_t>(ip_size - 28), 'x');
	iovec iov{payload.data(), payload.size()};
	mmsghdr msgs[burst]{};
	for (auto &m : msgs) {
		m.msg_hdr.msg_iov = &iov;
		m.msg_hdr.msg_iovlen = 1;
	}
	long sent = 0;
	const double start = now_s(), end = start + seconds;
	while (now_s() < end) {
		const int n = sendmmsg(fd, msgs, burst, 0);
		if (n > 0)
			sent += n;
	}
	const double took = now_s() - start;
	std::printf("sent %ld seconds %.3f pps %.0f\n", sent, took,
	            sent / took);
	return 0;
}

int sink(int port, double seconds)
{
	const int fd = socket(AF_INET, SOCK_DGRAM, 0);
	const int big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(static_cast<uint16_t>(port));
	if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0) {
		std::perror("bind");
		return 1;
	}
	std::printf("listening %d\n", port);
	std::fflush(stdout);
	static char bufs[burst][2048];
	iovec iovs[burst];
	mmsghdr msgs[burst]{};
	for (int i = 0; i < burst; i++) {
		iovs[i] = {bufs[i], sizeof(bufs[i])};
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	long received = 0, batches = 0;
	double first = 0, last = 0;
	const double end = now_s() + seconds;
	while (now_s() < end) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		const int n = recvmmsg(fd, msgs, burst, MSG_DONTWAIT, nullptr);
		if (n <= 0)
			continue;
		if (!received)
			first = now_s();
		received += n;
		batches++;
		last = now_s();
	}
	const double took = last > first ? last - first : 0;
	// batches: recvmmsg calls that returned packets, i.e. how bunched
	// the packets arrived (the sink wakes up about once per batch).
	std::printf("received %ld seconds %.3f pps %.0f batches %ld\n",
	            received, took, took > 0 ? received / took : 0.0, batches);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc == 6 && !std::strcmp(argv[1], "send"))
		return send_load(argv[2], std::atoi(argv[3]),
		                 std::atoi(argv[4]), std::atof(argv[5]));
	if (argc == 4 && !std::strcmp(argv[1], "sink"))
		return sink(std::atoi(argv[2]), std::atof(argv[3]));
	std::fprintf(stderr,
	             "usage: nfring-blast send ADDR PORT IP_SIZE SECONDS\n"
	             "       nfring-blast sink PORT SECONDS\n");
	return 2;
}
