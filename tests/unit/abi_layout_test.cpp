// The ABI layout is pinned on the userspace side too: a change to a struct
// that the kernel also reads must show up as a failing test.
#include <cstddef>
#include <gtest/gtest.h>
#include <linux/ioctl.h>

#include "nfring.h"

TEST(AbiLayout, InfoStructIsPinned)
{
	EXPECT_EQ(sizeof(nfring_info), 32u);
	EXPECT_EQ(offsetof(nfring_info, features), 8u);
	EXPECT_EQ(offsetof(nfring_info, max_queue_num), 16u);
	EXPECT_EQ(offsetof(nfring_info, resv0), 28u);
}

TEST(AbiLayout, BindStructIsPinned)
{
	EXPECT_EQ(sizeof(nfring_bind), 104u);
	EXPECT_EQ(offsetof(nfring_bind, meta_off), 96u);
	EXPECT_EQ(NFRING_BIND_SIZE_V1, offsetof(nfring_bind, meta_off));
	EXPECT_EQ(sizeof(nfring_rx_meta), 64u);
	EXPECT_EQ(offsetof(nfring_rx_meta, ct_info), 36u);
	EXPECT_EQ(offsetof(nfring_rx_meta, vlan_proto), 40u);
	EXPECT_EQ(offsetof(nfring_rx_meta, hwaddr), 44u);
	EXPECT_EQ(offsetof(nfring_bind, queue_num), 8u);
	EXPECT_EQ(offsetof(nfring_bind, ring_entries), 12u);
	EXPECT_EQ(offsetof(nfring_bind, default_verdict), 20u);
	EXPECT_EQ(offsetof(nfring_bind, frame_size), 24u);
	EXPECT_EQ(offsetof(nfring_bind, ct_bypass_mark), 28u);
	EXPECT_EQ(offsetof(nfring_bind, kernel_off), 32u);
	EXPECT_EQ(offsetof(nfring_bind, vr_desc_off), 88u);
}

TEST(AbiLayout, IndicesSitOnSeparateCacheLines)
{
	EXPECT_EQ(offsetof(nfring_kernel_page, rx_producer), 0u);
	EXPECT_EQ(offsetof(nfring_kernel_page, vr_consumer), 64u);
	EXPECT_EQ(offsetof(nfring_user_page, rx_consumer), 0u);
	EXPECT_EQ(offsetof(nfring_user_page, vr_producer), 64u);
	EXPECT_EQ(sizeof(nfring_kernel_page), 128u);
	EXPECT_EQ(sizeof(nfring_user_page), 128u);
}

TEST(AbiLayout, DescriptorsArePinned)
{
	EXPECT_EQ(sizeof(nfring_rx_desc), 48u);
	EXPECT_EQ(offsetof(nfring_rx_desc, frame), 16u);
	EXPECT_EQ(offsetof(nfring_rx_desc, hw_protocol), 40u);
	EXPECT_EQ(offsetof(nfring_rx_desc, flags), 46u);
	EXPECT_EQ(sizeof(nfring_verdict), 24u);
	EXPECT_EQ(offsetof(nfring_verdict, verdict), 8u);
	EXPECT_EQ(offsetof(nfring_verdict, new_len), 20u);
	EXPECT_EQ(sizeof(nfring_stats), 168u);
	EXPECT_EQ(offsetof(nfring_stats, normalize_failed), 128u);
	EXPECT_EQ(offsetof(nfring_stats, bypass_flows), 136u);
	EXPECT_EQ(offsetof(nfring_stats, bypass_no_ct), 144u);
	EXPECT_EQ(offsetof(nfring_stats, gso_segmented), 152u);
	EXPECT_EQ(offsetof(nfring_stats, gso_failed), 160u);
}

TEST(AbiLayout, IoctlsEncodeTheirStructs)
{
	EXPECT_EQ(_IOC_TYPE(NFRING_IOC_INFO), NFRING_IOC_MAGIC);
	EXPECT_EQ(_IOC_SIZE(NFRING_IOC_INFO), sizeof(nfring_info));
	EXPECT_EQ(_IOC_SIZE(NFRING_IOC_BIND), sizeof(nfring_bind));
	EXPECT_EQ(_IOC_SIZE(NFRING_IOC_STATS), sizeof(nfring_stats));
	EXPECT_EQ(_IOC_NR(NFRING_IOC_STATS_V1), _IOC_NR(NFRING_IOC_STATS));
	EXPECT_EQ(_IOC_SIZE(NFRING_IOC_STATS_V1), 128u);
	EXPECT_EQ(_IOC_NR(NFRING_IOC_BIND_V1), _IOC_NR(NFRING_IOC_BIND));
	EXPECT_EQ(_IOC_SIZE(NFRING_IOC_BIND_V1), 96u);
	EXPECT_EQ(_IOC_DIR(NFRING_IOC_KICK), _IOC_NONE);
}

TEST(AbiLayout, VerdictsMatchNetfilter)
{
	// The kernel passes these straight to nf_reinject.
	EXPECT_EQ(NFRING_DROP, 0);
	EXPECT_EQ(NFRING_ACCEPT, 1);
	EXPECT_EQ(NFRING_REPEAT, 4);
}
