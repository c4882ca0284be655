// nfring-tcp: TCP traffic for the VM tests and the demo.
//
//   nfring-tcp serve PORT              answer every request with "OK\n";
//                                      on SIGTERM print "served N" and exit
//   nfring-tcp http ADDR PORT HOST     an HTTP/1.1 request with that Host
//   nfring-tcp tls ADDR PORT SNI       a TLS 1.3-style ClientHello with SNI
//   nfring-tcp raw ADDR PORT TEXT      TEXT as the first segment
//   nfring-tcp tls-pq ADDR PORT SNI    a browser-sized (1.8 KB) hello with
//                                      a post-quantum key share
//
// Client options: --split A,B,...  write the message in pieces cut at
// these offsets, each its own segment (TCP_NODELAY, 40 ms apart);
// --records N  TLS records of at most N bytes (tls-pq); --sni-last  the
// server_name extension last, as Chrome's permutation often puts it.
//
// The client kinds print "reply yes" or "reply no" (nothing came back
// within --timeout-ms, default 1500) and exit 0 or 1 accordingly.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "messages.hpp"
#include "tls_builder.hpp"

namespace
{

volatile std::sig_atomic_t stop = 0;
void on_term(int)
{
	stop = 1;
}

int usage()
{
	std::fprintf(stderr, "usage: nfring-tcp serve PORT\n"
	                     "       nfring-tcp http|tls|tls-pq|raw ADDR PORT "
	                     "ARG [--timeout-ms N] [--split A,B,..]\n"
	                     "                  [--records N] [--sni-last]\n");
	return 2;
}

int serve(int port)
{
	struct sigaction sa {
	};
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
	const int ls = socket(AF_INET, SOCK_STREAM, 0);
	const int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(static_cast<uint16_t>(port));
	if (bind(ls, reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0 ||
	    listen(ls, 64) < 0) {
		std::perror("nfring-tcp serve");
		return 1;
	}
	std::printf("listening %d\n", port);
	std::fflush(stdout);
	std::vector<int> conns;
	long served = 0;
	char buf[65536];
	while (!stop) {
		std::vector<pollfd> fds{{ls, POLLIN, 0}};
		for (int c : conns)
			fds.push_back({c, POLLIN, 0});
		if (poll(fds.data(), fds.size(), 200) <= 0)
			continue;
		if (fds[0].revents & POLLIN) {
			const int c = accept(ls, nullptr, nullptr);
			if (c >= 0)
				conns.push_back(c);
		}
		for (std::size_t i = 1; i < fds.size(); i++) {
			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			const int c = fds[i].fd;
			const ssize_t n = read(c, buf, sizeof(buf));
			if (n > 0) {
				served++;
				(void)!write(c, "OK\n", 3);
			}
			close(c);
			std::erase(conns, c);
		}
	}
	std::printf("served %ld\n", served);
	return 0;
}

struct client_opts {
	int timeout_ms = 1500;
	std::vector<std::size_t> split;
	std::size_t records = 16384;
	bool sni_last = false;
};

int client(const char *kind, const char *addr, int port, const std::string &arg,
           const client_opts &o)
{
	const int timeout_ms = o.timeout_ms;
	std::string msg;
	if (!std::strcmp(kind, "http")) {
		msg = nfring_test::http_request(arg);
	} else if (!std::strcmp(kind, "tls")) {
		msg = nfring_test::client_hello(arg);
	} else if (!std::strcmp(kind, "tls-pq")) {
		test::hello_spec spec;
		spec.sni = arg;
		spec.sni_last = o.sni_last;
		const auto b = test::client_hello_records(spec, o.records);
		msg.assign(reinterpret_cast<const char *>(b.data()), b.size());
	} else {
		msg = arg;
	}

	const int s = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(static_cast<uint16_t>(port));
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return usage();
	// Bounded connect: the handshake itself may be what a rule drops.
	timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0) {
		std::printf("reply no (connect: %s)\n", std::strerror(errno));
		return 1;
	}
	const int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	std::size_t from = 0;
	for (std::size_t cut : o.split) {
		if (cut <= from || cut >= msg.size())
			continue;
		(void)!write(s, msg.data() + from, cut - from);
		from = cut;
		// Long enough for the piece to leave as a segment of its own.
		std::this_thread::sleep_for(std::chrono::milliseconds(40));
	}
	(void)!write(s, msg.data() + from, msg.size() - from);
	pollfd p{s, POLLIN, 0};
	char buf[16];
	const bool reply = poll(&p, 1, timeout_ms) > 0 &&
	                   read(s, buf, 3) == 3 && !std::memcmp(buf, "OK\n", 3);
	std::printf("reply %s\n", reply ? "yes" : "no");
	close(s);
	return reply ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc >= 3 && !std::strcmp(argv[1], "serve"))
		return serve(std::atoi(argv[2]));
	if (argc < 5)
		return usage();
	client_opts o;
	for (int i = 5; i < argc; i++) {
		const std::string a = argv[i];
		if (a == "--sni-last") {
			o.sni_last = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		const std::string v = argv[++i];
		if (a == "--timeout-ms") {
			o.timeout_ms = std::atoi(v.c_str());
		} else if (a == "--records") {
			o.records =
			        static_cast<std::size_t>(std::atol(v.c_str()));
			if (o.records == 0)
				return usage();
		} else if (a == "--split") {
			for (std::size_t at = 0; at < v.size();) {
				const auto comma = v.find(',', at);
				o.split.push_back(static_cast<std::size_t>(
				        std::atol(v.substr(at, comma - at)
				                          .c_str())));
				at = comma == std::string::npos ? v.size()
				                                : comma + 1;
			}
		} else {
			return usage();
		}
	}
	if (std::strcmp(argv[1], "http") && std::strcmp(argv[1], "tls") &&
	    std::strcmp(argv[1], "tls-pq") && std::strcmp(argv[1], "raw"))
		return usage();
	return client(argv[1], argv[2], std::atoi(argv[3]), argv[4], o);
}
