// The ABI layout is pinned on the userspace side too: a change to a struct
// that the kernel also reads must show up as a failing test.
#include <cstddef>
#include <gtest/gtest.h>
#include <linux/ioctl.h>

#include "nfring.h"

TEST(AbiLayout, InfoStructIsPinned)
{
	EXPECT_EQ(sizeof(nfring_info), 24u);
	EXPECT_EQ(offsetof(nfring_info, size), 0u);
	EXPECT_EQ(offsetof(nfring_info, abi_version), 4u);
	EXPECT_EQ(offsetof(nfring_info, features), 8u);
	EXPECT_EQ(offsetof(nfring_info, max_queue_num), 16u);
	EXPECT_EQ(offsetof(nfring_info, resv0), 20u);
}

TEST(AbiLayout, InfoIoctlEncodesItsStruct)
{
	EXPECT_EQ(_IOC_TYPE(NFRING_IOC_INFO), NFRING_IOC_MAGIC);
	EXPECT_EQ(_IOC_SIZE(NFRING_IOC_INFO), sizeof(nfring_info));
	EXPECT_EQ(_IOC_DIR(NFRING_IOC_INFO), _IOC_READ | _IOC_WRITE);
}

TEST(AbiLayout, FeatureMaskCoversEveryBit)
{
	EXPECT_NE(NFRING_FEAT_ALL & NFRING_FEAT_QUEUE_HANDLER, 0u);
}
