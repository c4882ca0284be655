// nfring-pingpong: UDP round-trip latency through the filtering box.
//
//   nfring-pingpong server PORT SECONDS     echo datagrams back
//   nfring-pingpong client ADDR PORT COUNT [INTERVAL_US]
//
// The client sends one datagram at a time, waits up to 1 s for its echo,
// and prints "samples N lost L p50_us A p90_us B p99_us C p999_us D".
#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace
{

using clock_type = std::chrono::steady_clock;

int server(int port, double seconds)
{
	const int fd = socket(AF_INET, SOCK_DGRAM, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(static_cast<uint16_t>(port));
	if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0) {
		std::perror("bind");
		return 1;
	}
	std::printf("listening %d\n", port);
	std::fflush(stdout);
	const auto end =
	        clock_type::now() + std::chrono::duration<double>(seconds);
	char buf[2048];
	while (clock_type::now() < end) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		sockaddr_in from{};
		socklen_t fl = sizeof(from);
		const ssize_t n =
		        recvfrom(fd, buf, sizeof(buf), 0,
		                 reinterpret_cast<sockaddr *>(&from), &fl);
		if (n > 0)
			sendto(fd, buf, static_cast<size_t>(n), 0,
			       reinterpret_cast<sockaddr *>(&from), fl);
	}
	return 0;
}

double pct(std::vector<double> &v, double p)
{
	if (v.empty())
		return 0;
	const std::size_t i = std::min(
	        v.size() - 1, static_cast<std::size_t>(p / 100.0 * v.size()));
	std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
	return v[i];
}

int client(const char *addr, int port, long count, long interval_us)
{
	const int fd = socket(AF_INET, SOCK_DGRAM, 0);
	sockaddr_in to{};
	to.sin_family = AF_INET;
	to.sin_port = htons(static_cast<uint16_t>(port));
	inet_pton(AF_INET, addr, &to.sin_addr);
	connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof(to));
	std::vector<double> rtt;
	long lost = 0;
	char buf[64];
	for (long i = 0; i < count; i++) {
		std::snprintf(buf, sizeof(buf), "ping %ld", i);
		const auto t0 = clock_type::now();
		send(fd, buf, std::strlen(buf) + 1, 0);
		bool got = false;
		while (!got) {
			pollfd p{fd, POLLIN, 0};
			if (poll(&p, 1, 1000) <= 0)
				break;
			char in[64];
			const ssize_t n = recv(fd, in, sizeof(in), 0);
			got = n > 0 && !std::strcmp(in, buf);
		}
		if (!got) {
			lost++;
			continue;
		}
		rtt.push_back(std::chrono::duration<double, std::micro>(
		                      clock_type::now() - t0)
		                      .count());
		if (interval_us)
			std::this_thread::sleep_for(
			        std::chrono::microseconds(interval_us));
	}
	std::printf("samples %zu lost %ld p50_us %.1f p90_us %.1f p99_us %.1f "
	            "p999_us %.1f\n",
	            rtt.size(), lost, pct(rtt, 50), pct(rtt, 90), pct(rtt, 99),
	            pct(rtt, 99.9));
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc == 4 && !std::strcmp(argv[1], "server"))
		return server(std::atoi(argv[2]), std::atof(argv[3]));
	if ((argc == 5 || argc == 6) && !std::strcmp(argv[1], "client"))
		return client(argv[2], std::atoi(argv[3]), std::atol(argv[4]),
		              argc == 6 ? std::atol(argv[5]) : 0);
	std::fprintf(stderr, "usage: nfring-pingpong server PORT SECONDS\n"
	                     "       nfring-pingpong client ADDR PORT COUNT "
	                     "[INTERVAL_US]\n");
	return 2;
}
