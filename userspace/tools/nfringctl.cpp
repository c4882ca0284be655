// nfringctl: the operator's tool.
//
//   nfringctl info              what the loaded module speaks
//   nfringctl status [--json]   kernel counters per queue (this network
//                               namespace) beside each worker's live stats
//   nfringctl load [--module PATH]   load nfring.ko, refusing if
//                               nfnetlink_queue holds the queue handler
//   nfringctl unload            unload it
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "nfring/device.hpp"
#include "nfring/stats_segment.hpp"

namespace
{

constexpr const char *modprobe_conf =
        "/etc/modprobe.d/nfring-blocks-nfnetlink_queue.conf";

// The same guard as installed by the nfring-dkms package, for as long as
// the package is there.  A file of the same name in /etc or /run replaces
// it (that is how an admin lifts it), so it is in force only without one.
bool packaged_guard()
{
	return access("/usr/lib/modprobe.d/nfring.conf", F_OK) == 0 &&
	       access("/etc/modprobe.d/nfring.conf", F_OK) != 0 &&
	       access("/run/modprobe.d/nfring.conf", F_OK) != 0;
}

void usage(std::FILE *out)
{
	std::fprintf(
	        out,
	        "usage: nfringctl [--device PATH] COMMAND\n"
	        "\n"
	        "  info                 ABI version and features of the "
	        "loaded module\n"
	        "  status [--json]      kernel counters per queue (this "
	        "netns) and each\n"
	        "                       worker's live stats\n"
	        "  load [--module PATH] load nfring.ko (modprobe, or insmod "
	        "PATH); refuses\n"
	        "                       while nfnetlink_queue is loaded\n"
	        "  unload               unload nfring.ko\n"
	        "\n"
	        "options:\n"
	        "  --device PATH  the nfring device (default %s)\n"
	        "  -h, --help     this text\n",
	        NFRING_DEVICE_PATH);
}

bool module_loaded(const std::string &name)
{
	std::ifstream in("/proc/modules");
	std::string line;
	while (std::getline(in, line))
		if (line.compare(0, name.size() + 1, name + " ") == 0)
			return true;
	return false;
}

int run(const std::vector<std::string> &argv)
{
	const pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		std::vector<char *> args;
		for (const auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execvp(args[0], args.data());
		std::fprintf(stderr, "nfringctl: %s: %s\n", args[0],
		             std::strerror(errno));
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int cmd_info(const std::string &path)
{
	nfring::device dev(path);
	const nfring_info info = dev.info();
	std::printf("abi_version %u\n", info.abi_version);
	std::printf("features 0x%llx (%s)\n",
	            static_cast<unsigned long long>(info.features),
	            nfring::feature_names(info.features).c_str());
	std::printf("max_queue_num %u\n", info.max_queue_num);
	std::printf("max_ring_entries %u\n", info.max_ring_entries);
	std::printf("max_copy_range %u\n", info.max_copy_range);
	nfring::require_compatible(info);
	std::printf("compatible yes\n");
	return 0;
}

// One queue's row of /proc/net/nfring, by column name.
using kernel_row = std::map<std::string, std::string>;

std::vector<kernel_row> read_proc(std::string &error)
{
	std::ifstream in("/proc/net/nfring");
	if (!in) {
		error = "/proc/net/nfring missing: is nfring.ko loaded? "
		        "(nfringctl load)";
		return {};
	}
	std::vector<std::string> cols;
	std::vector<kernel_row> rows;
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream ss(line);
		std::vector<std::string> f;
		for (std::string w; ss >> w;)
			f.push_back(w);
		if (f.size() > 2 && f[0] == "queue" && f[1] == "pid") {
			cols = f;
		} else if (!cols.empty() && f.size() == cols.size()) {
			kernel_row r;
			for (std::size_t i = 0; i < f.size(); i++)
				r[cols[i]] = f[i];
			rows.push_back(std::move(r));
		}
	}
	return rows;
}

const nfring::stats_queue_slot *
find_worker_queue(const std::vector<nfring::worker_snapshot> &ws,
                  unsigned queue, const nfring::worker_snapshot **owner)
{
	for (const auto &w : ws) {
		if (!w.alive)
			continue;
		for (std::uint32_t i = 0; i < w.data.nqueues; i++)
			if (w.data.queues[i].queue_num == queue) {
				*owner = &w;
				return &w.data.queues[i];
			}
	}
	return nullptr;
}

int cmd_status(bool json)
{
	std::string error;
	const auto rows = read_proc(error);
	if (!error.empty()) {
		std::fprintf(stderr, "nfringctl: %s\n", error.c_str());
		return 1;
	}
	const auto workers = nfring::read_worker_segments();
	auto get = [](const kernel_row &r, const char *k) {
		const auto it = r.find(k);
		return it == r.end() ? std::string("-") : it->second;
	};

	if (json) {
		std::printf("{\"queues\": [");
		for (std::size_t i = 0; i < rows.size(); i++) {
			const auto &r = rows[i];
			std::printf("%s\n  {\"queue\": %s, \"kernel\": {",
			            i ? "," : "", get(r, "queue").c_str());
			bool first = true;
			for (const auto &[k, v] : r) {
				if (k == "queue")
					continue;
				const bool numeric =
				        !v.empty() &&
				        v.find_first_not_of("0123456789") ==
				                std::string::npos;
				std::printf("%s\"%s\": %s%s%s",
				            first ? "" : ", ", k.c_str(),
				            numeric ? "" : "\"", v.c_str(),
				            numeric ? "" : "\"");
				first = false;
			}
			std::printf("}");
			const nfring::worker_snapshot *w = nullptr;
			const auto *s = find_worker_queue(
			        workers,
			        static_cast<unsigned>(
			                std::stoul(get(r, "queue"))),
			        &w);
			if (s) {
				std::printf(
				        ", \"worker\": {\"pid\": %u, "
				        "\"rules\": \"%s\", "
				        "\"pps\": %llu, \"packets\": %llu, "
				        "\"accepted\": "
				        "%llu, \"dropped\": %llu, \"marked\": "
				        "%llu, "
				        "\"flows\": %llu, \"flow_max\": %llu, "
				        "\"flow_hits\": %llu, \"rule_hits\": [",
				        w->data.pid, w->data.rules_path,
				        (unsigned long long)s->pps,
				        (unsigned long long)s->packets,
				        (unsigned long long)s->accepted,
				        (unsigned long long)s->dropped,
				        (unsigned long long)s->marked,
				        (unsigned long long)s->flows,
				        (unsigned long long)s->flow_max,
				        (unsigned long long)s->flow_hits);
				for (std::uint32_t k = 0;
				     k < s->nrules && k < 64; k++)
					std::printf("%s{\"line\": %u, "
					            "\"hits\": %llu}",
					            k ? ", " : "",
					            s->rule_line[k],
					            (unsigned long long)
					                    s->rule_hits[k]);
				std::printf("]}");
			}
			std::printf("}");
		}
		std::printf("\n]}\n");
		return 0;
	}

	if (rows.empty()) {
		std::printf("no queue is bound in this network namespace\n");
		return 0;
	}
	std::printf("%-6s %-10s %9s %9s %9s %9s %9s %8s | %-8s %8s %9s %7s "
	            "%9s\n",
	            "queue", "kernel:", "in_flight", "enqueued", "accepted",
	            "dropped", "ring_full", "invalid", "worker:", "pkt/s",
	            "packets", "flows", "flow_hits");
	for (const auto &r : rows) {
		const unsigned q =
		        static_cast<unsigned>(std::stoul(get(r, "queue")));
		const nfring::worker_snapshot *w = nullptr;
		const auto *s = find_worker_queue(workers, q, &w);
		std::printf(
		        "%-6u %-10s %9s %9s %9s %9s %9s %8s | ", q,
		        ("pid " + get(r, "pid")).c_str(),
		        get(r, "in_flight").c_str(), get(r, "enqueued").c_str(),
		        get(r, "accepted").c_str(), get(r, "dropped").c_str(),
		        get(r, "ring_full").c_str(), get(r, "invalid").c_str());
		if (s)
			std::printf(
			        "%-8s %8llu %9llu %7llu %9llu\n",
			        ("pid " + std::to_string(w->data.pid)).c_str(),
			        (unsigned long long)s->pps,
			        (unsigned long long)s->packets,
			        (unsigned long long)s->flows,
			        (unsigned long long)s->flow_hits);
		else
			std::printf("%-8s (no nfring-worker stats: another "
			            "program bound it)\n",
			            "-");
	}
	for (const auto &w : workers) {
		if (!w.alive)
			continue;
		std::printf("\nworker pid %u, rules %s%s\n", w.data.pid,
		            w.data.rules_path,
		            w.data.busy_poll ? ", busy-poll" : "");
		for (std::uint32_t i = 0; i < w.data.nqueues; i++) {
			const auto &s = w.data.queues[i];
			std::printf("  queue %u rule hits:", s.queue_num);
			for (std::uint32_t k = 0; k < s.nrules && k < 64; k++)
				std::printf(" line %u: %llu%s", s.rule_line[k],
				            (unsigned long long)s.rule_hits[k],
				            k + 1 < s.nrules ? "," : "");
			std::printf("\n");
		}
	}
	return 0;
}

int cmd_load(const std::string &module_path)
{
	if (geteuid() != 0) {
		std::fprintf(stderr, "nfringctl: load needs root\n");
		return 1;
	}
	if (access("/proc/modules", R_OK) != 0) {
		std::fprintf(
		        stderr,
		        "nfringctl: this kernel has no module support; use "
		        "'make vm-shell' or the Vagrant VM\n");
		return 1;
	}
	if (module_loaded("nfnetlink_queue")) {
		std::fprintf(
		        stderr,
		        "nfringctl: nfnetlink_queue is loaded and owns "
		        "netfilter's queue handler; stop its users and run "
		        "'rmmod nfnetlink_queue' first\n");
		return 1;
	}
	if (module_loaded("nfring")) {
		std::printf("nfringctl: nfring is already loaded\n");
		return 0;
	}
	// nfring also claims nfnetlink_queue's subsystem id, so NFQUEUE
	// programs cannot autoload it; this rule says so to modprobe too
	// (unless the package's rule already does: no file of ours then).
	const bool own_guard = !packaged_guard();
	if (own_guard) {
		std::error_code ec;
		std::filesystem::create_directories("/etc/modprobe.d", ec);
		std::ofstream conf(modprobe_conf);
		conf << "# nfring is netfilter's queue handler; 'nfringctl "
		        "unload' removes this\ninstall nfnetlink_queue "
		        "/bin/false\n";
		if (!conf.flush())
			std::fprintf(stderr,
			             "nfringctl: warning: cannot write %s; "
			             "NFQUEUE programs cannot autoload "
			             "nfnetlink_queue anyway\n",
			             modprobe_conf);
	}
	if (!module_path.empty()) {
		// insmod of a module built for another kernel only says
		// "Invalid module format"; say which kernels differ.
		std::string vermagic;
		if (std::FILE *p = popen(("modinfo -F vermagic '" +
		                          module_path + "' 2>/dev/null")
		                                 .c_str(),
		                         "r")) {
			char buf[256] = {};
			if (std::fgets(buf, sizeof(buf), p))
				vermagic = buf;
			pclose(p);
		}
		utsname u{};
		uname(&u);
		const std::string built_for =
		        vermagic.substr(0, vermagic.find(' '));
		if (!built_for.empty() && built_for != u.release) {
			std::fprintf(
			        stderr,
			        "nfringctl: %s was built for %s, this kernel "
			        "is %s; rebuild with 'make KVER=%s'\n",
			        module_path.c_str(), built_for.c_str(),
			        u.release, u.release);
			return 1;
		}
	}
	int rc;
	if (module_path.empty()) {
		rc = run({"modprobe", "nfring"});
	} else {
		run({"modprobe", "nfnetlink"});
		rc = run({"insmod", module_path});
	}
	if (rc != 0) {
		if (own_guard)
			unlink(modprobe_conf);
		std::fprintf(stderr,
		             "nfringctl: loading nfring failed (see dmesg)\n");
		return 1;
	}
	std::printf("nfringctl: nfring loaded; %s and /proc/net/nfring are "
	            "ready\n",
	            NFRING_DEVICE_PATH);
	return 0;
}

int cmd_unload()
{
	if (geteuid() != 0) {
		std::fprintf(stderr, "nfringctl: unload needs root\n");
		return 1;
	}
	if (module_loaded("nfring") && run({"rmmod", "nfring"}) != 0) {
		std::fprintf(stderr, "nfringctl: rmmod nfring failed (is a "
		                     "worker still running?)\n");
		return 1;
	}
	unlink(modprobe_conf);
	if (packaged_guard())
		std::printf("nfringctl: nfring unloaded; nfnetlink_queue stays "
		            "blocked by /usr/lib/modprobe.d/nfring.conf "
		            "(nfring-dkms), which says how to lift it\n");
	else
		std::printf("nfringctl: nfring unloaded; nfnetlink_queue may "
		            "load again\n");
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	std::string path = NFRING_DEVICE_PATH, module_path;
	std::string_view cmd;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		const std::string_view a = argv[i];
		if (a == "-h" || a == "--help") {
			usage(stdout);
			return 0;
		} else if (a == "--device" || a == "--module") {
			if (i + 1 >= argc) {
				std::fprintf(stderr,
				             "nfringctl: %s needs a path\n",
				             argv[i]);
				return 2;
			}
			(a == "--device" ? path : module_path) = argv[++i];
		} else if (a == "--json") {
			json = true;
		} else if (cmd.empty() && !a.starts_with("-")) {
			cmd = a;
		} else {
			std::fprintf(stderr,
			             "nfringctl: unexpected argument '%s'; see "
			             "--help\n",
			             argv[i]);
			return 2;
		}
	}
	if (cmd.empty()) {
		usage(stderr);
		return 2;
	}
	try {
		if (cmd == "info")
			return cmd_info(path);
		if (cmd == "status")
			return cmd_status(json);
		if (cmd == "load")
			return cmd_load(module_path);
		if (cmd == "unload")
			return cmd_unload();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfringctl: %s\n", e.what());
		return 1;
	}
	std::fprintf(
	        stderr,
	        "nfringctl: unknown command '%.*s'; allowed: info, status, "
	        "load, unload\n",
	        static_cast<int>(cmd.size()), cmd.data());
	return 2;
}
