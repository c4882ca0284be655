// Device handling that does not need the module: errors name what failed,
// and compatibility checks reject what this library cannot talk to.
#include <cerrno>
#include <gtest/gtest.h>
#include <string>
#include <system_error>

#include "nfring/device.hpp"

TEST(Device, MissingDeviceNamesPathAndHint)
{
	try {
		nfring::device dev("/nonexistent/nfring");
		FAIL() << "opening a missing device succeeded";
	} catch (const std::system_error &e) {
		EXPECT_EQ(e.code().value(), ENOENT);
		const std::string what = e.what();
		EXPECT_NE(what.find("/nonexistent/nfring"), std::string::npos)
		        << what;
		EXPECT_NE(what.find("nfring.ko loaded"), std::string::npos)
		        << what;
	}
}

TEST(Device, InfoOnANonNfringFileFailsWithENOTTY)
{
	nfring::device dev("/dev/null");
	try {
		(void)dev.info();
		FAIL() << "NFRING_IOC_INFO on /dev/null succeeded";
	} catch (const std::system_error &e) {
		EXPECT_EQ(e.code().value(), ENOTTY);
	}
}

TEST(Device, MoveTransfersOwnership)
{
	nfring::device a("/dev/null");
	const int fd = a.fd();
	nfring::device b(std::move(a));
	EXPECT_EQ(b.fd(), fd);
	EXPECT_EQ(a.fd(), -1);
}

TEST(Compatibility, AcceptsMatchingAbiAndFeatures)
{
	nfring_info info{};
	info.abi_version = NFRING_ABI_VERSION;
	info.features = NFRING_FEAT_ALL;
	EXPECT_NO_THROW(nfring::require_compatible(info));
}

TEST(Compatibility, RejectsOtherAbiVersion)
{
	nfring_info info{};
	info.abi_version = NFRING_ABI_VERSION + 1;
	info.features = NFRING_FEAT_ALL;
	EXPECT_THROW(nfring::require_compatible(info), std::system_error);
}

TEST(Compatibility, RejectsMissingFeatureAndNamesIt)
{
	nfring_info info{};
	info.abi_version = NFRING_ABI_VERSION;
	info.features = NFRING_FEAT_ALL & ~NFRING_FEAT_RINGS;
	try {
		nfring::require_compatible(info);
		FAIL() << "missing features accepted";
	} catch (const std::system_error &e) {
		const std::string what = e.what();
		EXPECT_EQ(e.code().value(), EOPNOTSUPP);
		EXPECT_NE(what.find("rings"), std::string::npos) << what;
		EXPECT_EQ(what.find("mark-mangle"), std::string::npos) << what;
	}
}

TEST(Compatibility, FeatureNamesShowUnknownBitsInHex)
{
	EXPECT_EQ(nfring::feature_names(NFRING_FEAT_RINGS | (1ULL << 40)),
	          "rings, 0x10000000000");
	EXPECT_EQ(nfring::feature_names(0), "");
}

TEST(Compatibility, EveryFeatureHasAName)
{
	EXPECT_EQ(nfring::feature_names(NFRING_FEAT_ALL).find("0x"),
	          std::string::npos)
	        << nfring::feature_names(NFRING_FEAT_ALL);
}

TEST(Compatibility, OptionalFeaturesMayBeMissing)
{
	// A kernel without CONFIG_NF_CONNTRACK_MARK: no flow bypass, but the
	// worker still runs.
	nfring_info info{};
	info.abi_version = NFRING_ABI_VERSION;
	info.features = NFRING_FEAT_ALL & ~NFRING_FEAT_OPTIONAL;
	EXPECT_NO_THROW(nfring::require_compatible(info));
}
