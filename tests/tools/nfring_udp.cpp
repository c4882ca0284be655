// nfring-udp: the VM tests' UDP traffic.  `send` sends numbered datagrams
// with a payload; `recv` counts what arrives and checks the payload.
//
//   nfring-udp send ADDR PORT COUNT [PAYLOAD | --dns NAME | --quic SNI]
//                   [--interval-us N] [--dstopts]
// ADDR is IPv4 or IPv6; --dstopts (IPv6) adds a Destination Options
// extension header (8 bytes of PadN) to every datagram.  --quic sends a
// QUIC v1 client's first flight, a post-quantum ClientHello in two
// datagrams, COUNT times (the same two datagrams each time).
//   nfring-udp recv PORT COUNT TIMEOUT_MS [EXPECTED_PAYLOAD | --hex]
//   nfring-udp hold-timestamps   (the VM's /init: keeps the kernel's
//                                 receive-timestamp static key on)
// recv listens on IPv4 and IPv6; --hex prints each datagram as a line
// "datagram HEX" (for payloads that are not ours, such as DHCP).
//
// Each datagram is PAYLOAD followed by "#<sequence number>".  recv prints
// "received N mismatched M reordered R" (R: datagrams that arrived after a
// later-numbered one) and exits 0 whatever the counts: the test script
// decides what is expected.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "messages.hpp"
#include "quic_flight.hpp"

namespace
{

int usage()
{
	std::fprintf(stderr, "usage: nfring-udp send ADDR PORT COUNT [PAYLOAD] "
	                     "[--interval-us N] [--dstopts]\n"
	                     "       nfring-udp recv PORT COUNT TIMEOUT_MS "
	                     "[EXPECTED_PAYLOAD | --hex]\n"
	                     "       nfring-udp hold-timestamps\n");
	return 2;
}

long number(const char *s, const char *what)
{
	char *end = nullptr;
	errno = 0;
	const long v = std::strtol(s, &end, 10);
	if (errno || *end || v < 0) {
		std::fprintf(stderr, "nfring-udp: %s '%s' is not a number\n",
		             what, s);
		std::exit(2);
	}
	return v;
}

int do_send(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	std::string payload = "nfring test payload";
	long interval_us = 0;
	bool dns = false, dstopts = false;
	std::vector<std::string> flight; // --quic: the datagrams to send
	for (int i = 5; i < argc; i++) {
		if (!std::strcmp(argv[i], "--dstopts"))
			dstopts = true;
		else if (!std::strcmp(argv[i], "--interval-us") && i + 1 < argc)
			interval_us = number(argv[++i], "interval");
		else if (!std::strcmp(argv[i], "--quic") && i + 1 < argc) {
			for (const auto &d : nfring_test::quic::client_flight(
			             argv[++i], nfring::l7::quic::version_1))
				flight.emplace_back(
				        reinterpret_cast<const char *>(
				                d.data()),
				        d.size());
		} else if (!std::strcmp(argv[i], "--dns") && i + 1 < argc) {
			payload = nfring_test::dns_query(argv[++i]);
			dns = true;
		} else
			payload = argv[i];
	}
	const auto port = htons(static_cast<uint16_t>(number(argv[3], "port")));
	sockaddr_storage to{};
	socklen_t to_len;
	auto *v4 = reinterpret_cast<sockaddr_in *>(&to);
	auto *v6 = reinterpret_cast<sockaddr_in6 *>(&to);
	if (inet_pton(AF_INET, argv[2], &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = port;
		to_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, argv[2], &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = port;
		to_len = sizeof(*v6);
	} else {
		std::fprintf(stderr,
		             "nfring-udp: bad address '%s' (IPv4 or IPv6)\n",
		             argv[2]);
		return 2;
	}
	const long count = number(argv[4], "count");
	const int fd = socket(to.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		std::perror("socket");
		return 1;
	}
	if (dstopts) {
		// Next header (the kernel fills it), length 0 (8 bytes), PadN
		// of 4.
		const unsigned char hdr[8] = {0, 0, 1, 4, 0, 0, 0, 0};
		if (to.ss_family != AF_INET6 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, hdr,
		               sizeof(hdr)) < 0) {
			std::fprintf(stderr,
			             "nfring-udp: --dstopts needs an IPv6 "
			             "address and CAP_NET_RAW\n");
			return 2;
		}
	}
	long sent = 0;
	if (!flight.empty()) {
		for (long i = 0; i < count; i++)
			for (const auto &msg : flight)
				sent += sendto(fd, msg.data(), msg.size(), 0,
				               reinterpret_cast<sockaddr *>(
				                       &to),
				               to_len) ==
				        static_cast<ssize_t>(msg.size());
		std::printf("sent %ld\n", sent);
		close(fd);
		return sent == count * 2 ? 0 : 1;
	}
	for (long i = 0; i < count; i++) {
		// A DNS query stays a DNS query: no sequence number.
		const std::string msg =
		        dns ? payload : payload + "#" + std::to_string(i);
		if (sendto(fd, msg.data(), msg.size(), 0,
		           reinterpret_cast<sockaddr *>(&to),
		           to_len) == static_cast<ssize_t>(msg.size()))
			sent++;
		if (interval_us)
			std::this_thread::sleep_for(
			        std::chrono::microseconds(interval_us));
	}
	std::printf("sent %ld\n", sent);
	close(fd);
	return sent == count ? 0 : 1;
}

int do_recv(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	const long port = number(argv[2], "port");
	const long count = number(argv[3], "count");
	const long timeout_ms = number(argv[4], "timeout");
	const bool hex = argc > 5 && !std::strcmp(argv[5], "--hex");
	const char *expected = argc > 5 && !hex ? argv[5] : nullptr;

	// IPv6 and IPv4 both (a dual-stack socket).
	const int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	const int off = 0;
	sockaddr_in6 addr{};
	addr.sin6_family = AF_INET6;
	addr.sin6_addr = in6addr_any;
	addr.sin6_port = htons(static_cast<uint16_t>(port));
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0) {
		std::perror("nfring-udp recv: bind");
		return 1;
	}
	// Tell a waiting script that the socket is ready.
	std::printf("listening %ld\n", port);
	std::fflush(stdout);

	long received = 0, mismatched = 0, reordered = 0, highest = -1;
	char buf[65536];
	const auto deadline = std::chrono::steady_clock::now() +
	                      std::chrono::milliseconds(timeout_ms);
	while (received < count) {
		const auto left =
		        std::chrono::duration_cast<std::chrono::milliseconds>(
		                deadline - std::chrono::steady_clock::now())
		                .count();
		if (left <= 0)
			break;
		pollfd pfd{fd, POLLIN, 0};
		if (poll(&pfd, 1, static_cast<int>(left)) <= 0)
			continue;
		const ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		received++;
		if (hex) {
			std::printf("datagram ");
			for (ssize_t i = 0; i < n; i++)
				std::printf("%02x", static_cast<unsigned char>(buf[i]));
			std::printf("\n");
			continue;
		}
		const std::string_view msg(buf, static_cast<size_t>(n));
		const auto hash = msg.rfind('#');
		const std::string_view body = hash == std::string_view::npos
		                                      ? msg
		                                      : msg.substr(0, hash);
		if (expected && body != expected)
			mismatched++;
		if (hash != std::string_view::npos) {
			const long seq = std::atol(
			        std::string(msg.substr(hash + 1)).c_str());
			if (seq < highest)
				reordered++;
			else
				highest = seq;
		}
	}
	std::printf("received %ld mismatched %ld reordered %ld\n", received,
	            mismatched, reordered);
	close(fd);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!std::strcmp(argv[1], "send"))
		return do_send(argc, argv);
	if (!std::strcmp(argv[1], "recv"))
		return do_recv(argc, argv);
	if (!std::strcmp(argv[1], "hold-timestamps")) {
		// A socket asking for receive timestamps holds the kernel's
		// netstamp static key on until this process dies.
		const int fd = socket(AF_INET, SOCK_DGRAM, 0);
		const int one = 1;
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one,
		                         sizeof(one)) < 0) {
			std::perror("nfring-udp hold-timestamps");
			return 1;
		}
		for (;;)
			pause();
	}
	return usage();
}
