// A complete nfring worker with one filter of its own in front of the
// rules file: UDP datagrams with more than --max-udp payload bytes are
// dropped, everything else goes to the rules.  Built with the project
// (build/bin/nfring-example-filter) so that this example keeps compiling.
//
//   nfring-example-filter --rules examples/dpi.rules [--queue 0] [--max-udp
//   512]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <pthread.h>
#include <string>
#include <thread>

#include "nfring/filter.hpp"
#include "nfring/worker.hpp"

namespace
{

class drop_large_udp : public nfring::filter
{
public:
	explicit drop_large_udp(std::size_t max) : max_(max) {}
	std::string_view name() const override { return "drop-large-udp"; }
	std::optional<nfring::rule_action>
	inspect(const nfring::packet_view &p) override
	{
		if (p.proto == IPPROTO_UDP && p.payload.size() > max_)
			return nfring::rule_action{nfring::action_kind::drop, 0,
			                           true};
		return std::nullopt; // the rules decide
	}

private:
	std::size_t max_;
};

} // namespace

int main(int argc, char **argv)
{
	std::string rules_path;
	unsigned queue = 0;
	std::size_t max_udp = 512;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!std::strcmp(argv[i], "--rules"))
			rules_path = argv[i + 1];
		else if (!std::strcmp(argv[i], "--queue"))
			queue = static_cast<unsigned>(std::atoi(argv[i + 1]));
		else if (!std::strcmp(argv[i], "--max-udp"))
			max_udp = static_cast<std::size_t>(
			        std::atol(argv[i + 1]));
	}
	if (rules_path.empty() || queue > 65535) {
		std::fprintf(stderr,
		             "usage: %s --rules FILE [--queue N] "
		             "[--max-udp BYTES]\n",
		             argv[0]);
		return 2;
	}

	nfring::shared_rules rules;
	nfring::worker_options opts;
	opts.filters.push_back([max_udp] {
		return std::make_unique<drop_large_udp>(max_udp);
	});
	try {
		rules.current.store(std::make_shared<const nfring::ruleset>(
		        nfring::ruleset::load(rules_path)));
		// Block SIGINT/SIGTERM before the worker thread exists.
		sigset_t sigs;
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

		nfring::queue_worker w(static_cast<std::uint16_t>(queue), opts,
		                       rules);
		std::thread t([&] { w.run(); });
		int sig = 0;
		sigwait(&sigs, &sig);
		rules.stop = true;
		w.notify();
		t.join();
		std::printf("%s\n", w.summary().c_str());
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfring-example-filter: %s\n", e.what());
		return 1;
	}
	return 0;
}
