#include "nfring/device.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace nfring
{

namespace
{

[[noreturn]] void throw_errno(int err, const std::string &what)
{
	throw std::system_error(err, std::generic_category(), what);
}

} // namespace

std::string feature_names(std::uint64_t bits)
{
	static constexpr struct {
		std::uint64_t bit;
		const char *name;
	} names[] = {
	        {NFRING_FEAT_QUEUE_HANDLER, "queue-handler"},
	        {NFRING_FEAT_RINGS, "rings"},
	        {NFRING_FEAT_MARK_MANGLE, "mark-mangle"},
	        {NFRING_FEAT_WAKE_COALESCE, "wake-coalesce"},
	        {NFRING_FEAT_NORMALIZE, "normalize"},
	        {NFRING_FEAT_CT_BYPASS, "ct-bypass"},
	        {NFRING_FEAT_METADATA, "metadata"},
	};
	std::string out;
	for (const auto &n : names) {
		if (!(bits & n.bit))
			continue;
		out += out.empty() ? "" : ", ";
		out += n.name;
		bits &= ~n.bit;
	}
	if (bits) {
		char hex[32];
		std::snprintf(hex, sizeof(hex), "0x%llx",
		              static_cast<unsigned long long>(bits));
		out += out.empty() ? "" : ", ";
		out += hex;
	}
	return out;
}

device::device(const std::string &path) : path_(path)
{
	fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
	if (fd_ < 0) {
		int err = errno;
		std::string hint;
		if (err == ENOENT)
			hint = " (is nfring.ko loaded? 'modprobe nfring' "
			       "where nfring-dkms is installed, 'make load' "
			       "in a source tree)";
		else if (err == EPERM || err == EACCES)
			hint = " (needs CAP_NET_ADMIN)";
		throw_errno(err, "open " + path + hint);
	}
}

device::~device()
{
	if (fd_ >= 0)
		::close(fd_);
}

device::device(device &&other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_))
{
}

device &device::operator=(device &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
		path_ = std::move(other.path_);
	}
	return *this;
}

nfring_info device::info() const
{
	nfring_info info{};
	info.size = sizeof(info);
	if (::ioctl(fd_, NFRING_IOC_INFO, &info) < 0)
		throw_errno(errno, "NFRING_IOC_INFO on " + path_);
	return info;
}

void require_compatible(const nfring_info &info)
{
	if (info.abi_version != NFRING_ABI_VERSION)
		throw std::system_error(
		        EPROTO, std::generic_category(),
		        "nfring.ko speaks ABI " +
		                std::to_string(info.abi_version) +
		                ", this program ABI " +
		                std::to_string(NFRING_ABI_VERSION) +
		                "; rebuild and reload the module");
	const std::uint64_t missing =
	        NFRING_FEAT_ALL & ~NFRING_FEAT_OPTIONAL & ~info.features;
	if (missing)
		throw std::system_error(
		        EOPNOTSUPP, std::generic_category(),
		        "nfring.ko lacks features: " + feature_names(missing) +
		                "; load a newer module");
}

} // namespace nfring
