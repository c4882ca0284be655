// nfring-worker: deep packet inspection on nfring queues.  One thread and
// one io_uring per queue; rules from a file; SIGHUP reloads the rules
// atomically, SIGINT/SIGTERM stop after answering every packet in flight.
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <liburing.h>
#include <memory>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <string_view>
#include <sys/signalfd.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "nfring/flow_log.hpp"
#include "nfring/worker.hpp"

namespace
{

void usage(std::FILE *out)
{
	std::fprintf(
	        out,
	        "usage: nfring-worker --rules FILE [--queue N | --queues A-B] "
	        "[options]\n"
	        "\n"
	        "Answers the packets that netfilter queues to nfring (rules "
	        "such "
	        "as\n"
	        "'queue num 0') by matching them against the rules in FILE.\n"
	        "\n"
	        "  --rules FILE        the rules (see examples/dpi.rules)\n"
	        "  --check             parse the rules, report, and exit\n"
	        "  --queue N           one queue, 0-65535 (default 0)\n"
	        "  --queues A-B        queues A to B, one thread each\n"
	        "  --cpu N             pin the thread of the i-th queue to CPU "
	        "N+i\n"
	        "  --busy-poll         never sleep: spin on the rings (uses a "
	        "whole CPU,\n"
	        "                      yielding it to other threads while "
	        "the ring is empty)\n"
	        "  --ring N            ring entries, a power of two 8-32768 "
	        "(default 1024)\n"
	        "  --copy N            bytes copied per packet, 0-65535 "
	        "(default 2048)\n"
	        "  --fail-open         accept packets that find the ring full "
	        "(default: drop)\n"
	        "  --default V         accept|drop: for packets in flight if "
	        "the "
	        "worker dies\n"
	        "                      (default drop)\n"
	        "  --bypass-mark M     conntrack mark bits that a 'bypass' rule "
	        "sets on a flow\n"
	        "                      once its decision is final, 0-0xffffffff "
	        "(default\n"
	        "                      0x80000000; 0: bypass only accepts).  "
	        "Pair it with\n"
	        "                      an nft rule before the queue rule:\n"
	        "                        ct mark & M == M accept\n"
	        "                      See docs/bypass.md\n"
	        "  --batch N           packets per pass, 1-1024 (default 64)\n"
	        "  --coalesce-usecs N  under load, let packets gather up to N "
	        "microseconds\n"
	        "                      before waking the worker, 0-10000 "
	        "(default 1000;\n"
	        "                      0: wake at once).  A quiet queue is "
	        "always woken\n"
	        "                      at once; see docs/worker.md\n"
	        "  --wake-batch N      ...or until N packets wait, 2-16384 "
	        "(default 256;\n"
	        "                      the kernel caps it at half the ring)\n"
	        "  --flow-max N        flows remembered, 1-16777216 (default "
	        "65536;\n"
	        "                      about 120 bytes each)\n"
	        "  --flow-idle S       seconds before an idle flow is "
	        "forgotten "
	        "(default 60)\n"
	        "\n"
	        "L7 inspection (rules reading tls.*, http.host, dns.qname over "
	        "TCP, quic.*,\n"
	        "and TCP content/regex, which are scanned across the first "
	        "bytes):\n"
	        "  --stream-bytes N    first bytes of each client reassembled, "
	        "512-1048576\n"
	        "                      (default 16384)\n"
	        "  --stream-segments N pieces kept while segments arrive out "
	        "of order,\n"
	        "                      1-64 (default 32)\n"
	        "  --inspect-flows N   flows followed at once, 1-1048576 "
	        "(default 4096;\n"
	        "                      each takes --stream-bytes of memory "
	        "while in use)\n"
	        "  --hold-ms N         how long packets may wait for the rest "
	        "of a message,\n"
	        "                      1-60000 (default 500)\n"
	        "  --hold-packets N    packets one flow may have waiting, "
	        "1-1024 (default 32)\n"
	        "  --undecided V       accept|drop: for a flow whose message "
	        "did not complete\n"
	        "                      within those bounds (default accept)\n"
	        "  --inconsistent V    accept|drop: for a flow that "
	        "retransmitted different\n"
	        "                      bytes for the same sequence numbers "
	        "(default drop)\n"
	        "  Packets must be copied whole for their bytes to count: "
	        "raise --copy\n"
	        "  above the largest packet (GRO aggregates: 65535).\n"
	        "\n"
	        "  --log TARGET        where rules marked 'log' and flows "
	        "given up on are\n"
	        "                      logged, one JSON line per flow: a "
	        "FILE (appended),\n"
	        "                      - (stdout), stderr or syslog (default "
	        "stderr)\n"
	        "  --stats-interval S  print counters every S seconds "
	        "(default: "
	        "at exit)\n"
	        "  -h, --help          this text\n"
	        "\n"
	        "Signals: SIGHUP reloads FILE (a bad file keeps the old "
	        "rules); "
	        "SIGINT and\n"
	        "SIGTERM answer what is in flight, print counters and exit "
	        "0.\n");
}

[[noreturn]] void bad(const std::string &msg)
{
	std::fprintf(stderr, "nfring-worker: %s\n", msg.c_str());
	std::exit(2);
}

long number(std::string_view opt, std::string_view v, long lo, long hi)
{
	long n = 0;
	const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
	if (r.ec != std::errc() || r.ptr != v.data() + v.size() || n < lo ||
	    n > hi)
		bad(std::string(opt) + " '" + std::string(v) + "': expected " +
		    std::to_string(lo) + "-" + std::to_string(hi));
	return n;
}

struct cli {
	nfring::worker_options opts;
	std::string rules_path;
	std::vector<std::uint16_t> queues{0};
	int cpu = -1;
	bool check_only = false;
	std::string log_target = "stderr";
	cli() { opts.bind.ct_bypass_mark = 0x80000000u; }
};

cli parse_args(int argc, char **argv)
{
	cli c;
	for (int i = 1; i < argc; i++) {
		const std::string_view a = argv[i];
		auto val = [&]() -> std::string_view {
			if (i + 1 >= argc)
				bad(std::string(a) +
				    " needs a value; see --help");
			return argv[++i];
		};
		if (a == "-h" || a == "--help") {
			usage(stdout);
			std::exit(0);
		} else if (a == "--rules") {
			c.rules_path = val();
		} else if (a == "--check") {
			c.check_only = true;
		} else if (a == "--queue") {
			c.queues = {static_cast<std::uint16_t>(
			        number(a, val(), 0, 65535))};
		} else if (a == "--queues") {
			const std::string_view v = val();
			const auto dash = v.find('-');
			if (dash == std::string_view::npos)
				bad("--queues '" + std::string(v) +
				    "': expected A-B, e.g. 0-3");
			const long lo = number(a, v.substr(0, dash), 0, 65535);
			const long hi =
			        number(a, v.substr(dash + 1), lo, 65535);
			if (hi - lo >= 256)
				bad("--queues '" + std::string(v) +
				    "': at most 256 queues (one thread each)");
			c.queues.clear();
			for (long q = lo; q <= hi; q++)
				c.queues.push_back(
				        static_cast<std::uint16_t>(q));
		} else if (a == "--cpu") {
			c.cpu = static_cast<int>(number(a, val(), 0, 4095));
		} else if (a == "--busy-poll") {
			c.opts.busy_poll = true;
		} else if (a == "--ring") {
			c.opts.bind.ring_entries = static_cast<std::uint32_t>(
			        number(a, val(), 8, 32768));
		} else if (a == "--copy") {
			c.opts.bind.copy_range = static_cast<std::uint32_t>(
			        number(a, val(), 0, 65535));
		} else if (a == "--fail-open") {
			c.opts.bind.fail_open = true;
		} else if (a == "--default") {
			const std::string_view v = val();
			if (v == "accept")
				c.opts.bind.default_verdict = NFRING_ACCEPT;
			else if (v == "drop")
				c.opts.bind.default_verdict = NFRING_DROP;
			else
				bad("--default '" + std::string(v) +
				    "': expected accept or drop");
		} else if (a == "--bypass-mark") {
			const std::string_view v = val();
			const bool hex = v.starts_with("0x") || v.starts_with("0X");
			const std::string_view digits = hex ? v.substr(2) : v;
			std::uint32_t m = 0;
			const auto r = std::from_chars(
			        digits.data(), digits.data() + digits.size(), m,
			        hex ? 16 : 10);
			if (digits.empty() || r.ec != std::errc() ||
			    r.ptr != digits.data() + digits.size())
				bad("--bypass-mark '" + std::string(v) +
				    "': expected 0-0xffffffff (hex with 0x, or "
				    "decimal)");
			c.opts.bind.ct_bypass_mark = m;
		} else if (a == "--batch") {
			c.opts.batch = static_cast<std::size_t>(
			        number(a, val(), 1, 1024));
		} else if (a == "--coalesce-usecs") {
			c.opts.coalesce_usecs = static_cast<std::uint32_t>(
			        number(a, val(), 0, NFRING_MAX_WAKE_USECS));
		} else if (a == "--wake-batch") {
			c.opts.wake_batch = static_cast<std::uint32_t>(
			        number(a, val(), 2, 16384));
		} else if (a == "--flow-max") {
			c.opts.flow_max = static_cast<std::size_t>(
			        number(a, val(), 1, 1 << 24));
		} else if (a == "--flow-idle") {
			c.opts.flow_idle = std::chrono::seconds(
			        number(a, val(), 1, 86400));
		} else if (a == "--stream-bytes") {
			c.opts.inspect.stream_bytes = static_cast<std::size_t>(
			        number(a, val(), 512, 1 << 20));
		} else if (a == "--stream-segments") {
			c.opts.inspect.stream_segments =
			        static_cast<std::size_t>(number(
			                a, val(), 1,
			                nfring::tcp_stream::max_ranges_limit));
		} else if (a == "--inspect-flows") {
			c.opts.inspect.flows = static_cast<std::size_t>(
			        number(a, val(), 1, 1 << 20));
		} else if (a == "--hold-ms") {
			c.opts.hold_time = std::chrono::milliseconds(
			        number(a, val(), 1, 60000));
		} else if (a == "--hold-packets") {
			c.opts.hold_packets = static_cast<std::size_t>(
			        number(a, val(), 1, 1024));
		} else if (a == "--undecided" || a == "--inconsistent") {
			const std::string_view v = val();
			nfring::rule_action act;
			if (v == "accept")
				act.kind = nfring::action_kind::accept;
			else if (v == "drop")
				act.kind = nfring::action_kind::drop;
			else
				bad(std::string(a) + " '" + std::string(v) +
				    "': expected accept or drop");
			(a == "--undecided" ? c.opts.undecided
			                    : c.opts.inconsistent) = act;
		} else if (a == "--log") {
			c.log_target = val();
			if (c.log_target.empty())
				bad("--log needs a file, -, stderr or syslog");
		} else if (a == "--stats-interval") {
			c.opts.stats_interval = std::chrono::seconds(
			        number(a, val(), 1, 86400));
		} else {
			bad("unknown option '" + std::string(a) +
			    "'; see --help");
		}
	}
	if (c.rules_path.empty())
		bad("--rules FILE is required; see --help");
	return c;
}

void pin_to_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	const int r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (r)
		std::fprintf(stderr,
		             "nfring-worker: cannot pin to CPU %d: %s\n", cpu,
		             std::strerror(r));
}

} // namespace

int main(int argc, char **argv)
{
	const cli c = parse_args(argc, argv);
	nfring::shared_rules shared;
	try {
		auto rules = std::make_shared<const nfring::ruleset>(
		        nfring::ruleset::load(c.rules_path));
		std::fprintf(stderr, "nfring-worker: %s: %zu rules\n",
		             c.rules_path.c_str(), rules->rules().size());
		shared.current.store(std::move(rules));
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfring-worker: %s\n", e.what());
		return 1;
	}
	if (c.check_only)
		return 0;

	// Signals go to the main thread's signalfd only: block them before
	// any worker thread exists so that every thread inherits the mask.
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

	std::vector<std::unique_ptr<nfring::queue_worker>> workers;
	std::unique_ptr<nfring::stats_publisher> stats;
	std::unique_ptr<nfring::flow_log> log;
	nfring::worker_options opts = c.opts;
	try {
		log = std::make_unique<nfring::flow_log>(c.log_target,
		                                         c.rules_path);
		opts.log = log.get();
		std::fprintf(stderr, "nfring-worker: %s\n",
		             nfring::probe_io_uring().c_str());
		stats = std::make_unique<nfring::stats_publisher>(
		        static_cast<std::uint32_t>(c.queues.size()),
		        c.opts.busy_poll, c.rules_path);
		for (std::size_t i = 0; i < c.queues.size(); i++)
			workers.push_back(
			        std::make_unique<nfring::queue_worker>(
			                c.queues[i], opts, shared,
			                &stats->data().queues[i]));
		if (shared.current.load()->uses_bypass() &&
		    !workers.front()->bypass_enabled())
			std::fprintf(stderr,
			             "nfring-worker: warning: 'bypass' rules "
			             "will only accept: %s\n",
			             c.opts.bind.ct_bypass_mark
			                     ? "the loaded module cannot set "
			                       "conntrack marks (no ct-bypass "
			                       "feature)"
			                     : "--bypass-mark is 0");
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfring-worker: %s\n", e.what());
		return 1;
	}

	std::vector<std::thread> threads;
	std::atomic<int> failed{0};
	for (std::size_t i = 0; i < workers.size(); i++) {
		threads.emplace_back([&, i] {
			if (c.cpu >= 0)
				pin_to_cpu(c.cpu + static_cast<int>(i));
			try {
				workers[i]->run();
			} catch (const std::exception &e) {
				std::fprintf(stderr,
				             "nfring-worker: queue %u: %s\n",
				             workers[i]->queue_num(), e.what());
				failed++;
				shared.stop = true;
				// Wake the main thread's signalfd wait.
				kill(getpid(), SIGTERM);
			}
		});
	}
	std::fprintf(stderr, "nfring-worker: serving %zu queue%s from %u\n",
	             workers.size(), workers.size() == 1 ? "" : "s",
	             c.queues.front());

	// The main thread's io_uring waits for signals.
	const int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	io_uring ring{};
	if (sfd < 0 || io_uring_queue_init(4, &ring, 0) < 0) {
		std::perror("nfring-worker: signalfd/io_uring");
		shared.stop = true;
	}
	signalfd_siginfo si{};
	while (!shared.stop) {
		io_uring_sqe *s = io_uring_get_sqe(&ring);
		io_uring_prep_read(s, sfd, &si, sizeof(si), 0);
		io_uring_submit_and_wait(&ring, 1);
		io_uring_cqe *cqe = nullptr;
		if (io_uring_peek_cqe(&ring, &cqe) < 0 || !cqe)
			continue;
		const int res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			try {
				auto fresh =
				        std::make_shared<const nfring::ruleset>(
				                nfring::ruleset::load(
				                        c.rules_path));
				const auto n = fresh->rules().size();
				shared.current.store(std::move(fresh));
				shared.generation++;
				nfring::stats_store(
				        stats->data().rules_generation,
				        shared.generation.load());
				for (auto &w : workers)
					w->notify();
				std::fprintf(
				        stderr,
				        "nfring-worker: SIGHUP: reloaded %s "
				        "(%zu rules)\n",
				        c.rules_path.c_str(), n);
			} catch (const std::exception &e) {
				std::fprintf(
				        stderr,
				        "nfring-worker: SIGHUP: %s; keeping "
				        "the old rules\n",
				        e.what());
			}
		} else {
			std::fprintf(stderr,
			             "nfring-worker: %s: answering what is in "
			             "flight and exiting\n",
			             strsignal(static_cast<int>(si.ssi_signo)));
			shared.stop = true;
		}
	}
	for (auto &w : workers)
		w->notify();
	for (auto &t : threads)
		t.join();
	for (auto &w : workers)
		std::fprintf(stderr, "nfring-worker: %s\n",
		             w->summary().c_str());
	const std::uint64_t log_dropped = log->dropped();
	log.reset(); // writes what is still queued
	std::fprintf(stderr, "nfring-worker: log: dropped %llu\n",
	             static_cast<unsigned long long>(log_dropped));
	if (sfd >= 0) {
		io_uring_queue_exit(&ring);
		close(sfd);
	}
	return failed ? 1 : 0;
}
