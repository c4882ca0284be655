// nfringctl: inspect the nfring module.  For now one subcommand, `info`;
// status, load and unload come with the worker.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "nfring/device.hpp"

namespace
{

void usage(std::FILE *out)
{
	std::fprintf(out,
	             "usage: nfringctl [--device PATH] info\n"
	             "\n"
	             "  info   print the ABI version and features of the "
	             "loaded module\n"
	             "\n"
	             "options:\n"
	             "  --device PATH  the nfring device (default %s)\n"
	             "  -h, --help     this text\n",
	             NFRING_DEVICE_PATH);
}

int cmd_info(const std::string &path)
{
	nfring::device dev(path);
	const nfring_info info = dev.info();
	std::printf("abi_version %u\n", info.abi_version);
	std::printf("features 0x%llx\n",
	            static_cast<unsigned long long>(info.features));
	std::printf("max_queue_num %u\n", info.max_queue_num);
	nfring::require_compatible(info);
	std::printf("compatible yes\n");
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	std::string path = NFRING_DEVICE_PATH;
	std::string_view cmd;
	for (int i = 1; i < argc; i++) {
		std::string_view a = argv[i];
		if (a == "-h" || a == "--help") {
			usage(stdout);
			return 0;
		} else if (a == "--device") {
			if (i + 1 >= argc) {
				std::fprintf(
				        stderr,
				        "nfringctl: --device needs a path\n");
				return 2;
			}
			path = argv[++i];
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
	} catch (const std::exception &e) {
		std::fprintf(stderr, "nfringctl: %s\n", e.what());
		return 1;
	}
	std::fprintf(stderr,
	             "nfringctl: unknown command '%.*s'; allowed: info\n",
	             static_cast<int>(cmd.size()), cmd.data());
	return 2;
}
