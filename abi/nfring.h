/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * nfring userspace ABI: the one header shared by the kernel module and the
 * userspace library.
 *
 * Conventions (as in include/uapi/linux/io_uring.h and ublk_cmd.h):
 *  - only fixed-width __u8..__u64 types; every member naturally aligned;
 *  - every pad is a named field that must be zero (the kernel rejects
 *    non-zero pads and unknown flags with -EINVAL);
 *  - structs passed by ioctl start with a __u32 size, so they can grow by
 *    appending; the kernel accepts any size it knows of.
 *
 * This header must compile standalone as C11 and as C++20.
 */
#ifndef _UAPI_NFRING_H
#define _UAPI_NFRING_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Path of the misc device; opening it requires CAP_NET_ADMIN. */
#define NFRING_DEVICE_PATH	"/dev/nfring"

/* Bumped on any incompatible change; userspace refuses a mismatch. */
#define NFRING_ABI_VERSION	1

/*
 * Feature bits reported in nfring_info.features.  Userspace checks the bits
 * it needs and names the missing ones.  Every new bit goes into
 * NFRING_FEAT_ALL.
 */
/* The module is netfilter's queue handler and owns NFNL_SUBSYS_QUEUE. */
#define NFRING_FEAT_QUEUE_HANDLER	(1ULL << 0)
#define NFRING_FEAT_ALL			(NFRING_FEAT_QUEUE_HANDLER)

/*
 * NFRING_IOC_INFO: what this module speaks.  Userspace sets .size to
 * sizeof(struct nfring_info) and zeroes the rest; the kernel fills at most
 * .size bytes and writes back the size it filled.
 */
struct nfring_info {
	__u32 size;		/* in: caller's sizeof; out: bytes filled */
	__u32 abi_version;	/* out: NFRING_ABI_VERSION */
	__u64 features;		/* out: NFRING_FEAT_* */
	__u32 max_queue_num;	/* out: highest queue number (65535) */
	__u32 resv0;		/* must be zero */
};

#define NFRING_IOC_MAGIC	0xB7
#define NFRING_IOC_INFO		_IOWR(NFRING_IOC_MAGIC, 0x00, struct nfring_info)

/* Layout is part of the ABI: pinned here and again in the userspace tests. */
#ifdef __cplusplus
static_assert(sizeof(struct nfring_info) == 24, "nfring_info layout");
#else
_Static_assert(sizeof(struct nfring_info) == 24, "nfring_info layout");
#endif

#endif /* _UAPI_NFRING_H */
