// The nfring device: an owned file descriptor on /dev/nfring.
#pragma once

#include <cstdint>
#include <string>

#include "nfring.h"

namespace nfring
{

// Owns one open file of the nfring device.  Setup errors are thrown as
// std::system_error naming the path and the failing step.
class device
{
public:
	explicit device(const std::string &path = NFRING_DEVICE_PATH);
	~device();
	device(device &&other) noexcept;
	device &operator=(device &&other) noexcept;
	device(const device &) = delete;
	device &operator=(const device &) = delete;

	int fd() const noexcept { return fd_; }

	// What the loaded module speaks (NFRING_IOC_INFO).
	nfring_info info() const;

private:
	int fd_ = -1;
	std::string path_;
};

// Throws std::system_error naming the missing bits when the module lacks a
// feature this library needs, or speaks another ABI version.
void require_compatible(const nfring_info &info);

// "rings, mark-mangle": the names of NFRING_FEAT_* bits, unknown ones in hex.
std::string feature_names(std::uint64_t bits);

} // namespace nfring
