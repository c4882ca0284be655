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
 *    appending; the kernel accepts any size it knows of;
 *  - the kernel returns the mmap offsets and sizes of every region, so
 *    userspace never hard-codes a layout.
 *
 * This header must compile standalone as C11 and as C++20.
 *
 * ## Objects
 *
 * One open file of /dev/nfring binds one queue number (NFRING_IOC_BIND) in
 * the network namespace of the process that binds.  The binding lives until
 * the file is released; then every packet still in flight gets the queue's
 * default verdict.  After binding, three regions are mmap'd:
 *
 *  - KERNEL (read-only): struct nfring_kernel_page, then the RX descriptor
 *    array.  Everything here is written by the kernel only.
 *  - USER (read-write): struct nfring_user_page, then the verdict
 *    descriptor array.  Everything here is written by userspace only; the
 *    kernel reads each field once and validates it.
 *  - FRAMES (read-write): ring_entries frames of frame_size bytes.  The
 *    kernel copies packets in; userspace may write a replacement payload
 *    into a packet's own frame before returning NFRING_VF_MANGLE.
 *
 * ## Rings
 *
 * Both rings are single-producer/single-consumer with free-running __u32
 * indices masked by (ring_entries - 1).  The RX ring carries packets from
 * the kernel to userspace, the verdict ring verdicts back.  Each packet
 * owns its frame from enqueue until its verdict is applied, so ring_entries
 * bounds the packets in flight.  Packet ids are (generation << 32 | frame):
 * verdicts may come in any order and each is found in O(1).
 *
 * ## Memory ordering (kernel: smp_*; userspace: std::atomic_ref)
 *
 * RX ring, kernel produces:
 *  (A) kernel writes the descriptor and frame, then
 *      smp_store_release(&kpage->rx_producer)          pairs with (B)
 *  (B) user load-acquires rx_producer, then reads descriptor and frame
 *  (C) user store-releases upage->rx_consumer after it has copied the
 *      descriptors it needs (the frame stays its own until the verdict)
 *                                                       pairs with (D)
 *  (D) kernel smp_load_acquire(&upage->rx_consumer) before it overwrites
 *      a descriptor slot
 * Verdict ring, userspace produces:
 *  (E) user writes verdict descriptors (and any mangled payload into the
 *      packet's frame), then store-releases upage->vr_producer
 *                                                       pairs with (F)
 *  (F) kernel smp_load_acquire(&upage->vr_producer), then reads each
 *      descriptor once (READ_ONCE) into a local copy
 *  (G) kernel smp_store_release(&kpage->vr_consumer) after the reads
 *                                                       pairs with (H)
 *  (H) user load-acquires vr_consumer before it reuses a verdict slot
 * Wake-ups (need_wakeup, as AF_XDP): both sides use a full barrier
 * between a store and a load, so that at least one side sees the other:
 *  (W1) user sets NFRING_UF_NEED_WAKEUP in upage->flags, full fence,
 *       re-reads rx_producer; sleeps (poll) only if still empty
 *                                                       pairs with (W2)
 *  (W2) kernel publishes rx_producer (A), smp_mb(), reads upage->flags;
 *       wakes the poller only when NEED_WAKEUP is set
 *  (K1) kernel reinject work, finding the verdict ring empty, sets
 *       NFRING_KF_NEED_KICK, smp_mb(), re-reads vr_producer; goes idle
 *       only if still empty                             pairs with (K2)
 *  (K2) user publishes vr_producer (E), full fence, reads kpage->flags;
 *       calls NFRING_IOC_KICK only when NEED_KICK is set
 * Under sustained load neither flag is set and no syscall is made.
 */
#ifndef _UAPI_NFRING_H
#define _UAPI_NFRING_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Path of the misc device; opening it requires CAP_NET_ADMIN. */
#define NFRING_DEVICE_PATH	"/dev/nfring"

/* Bumped on any incompatible change; userspace refuses a mismatch. */
#define NFRING_ABI_VERSION	2

/*
 * Feature bits reported in nfring_info.features.  Userspace checks the bits
 * it needs and names the missing ones.  Every new bit goes into
 * NFRING_FEAT_ALL.
 */
/* The module is netfilter's queue handler and owns NFNL_SUBSYS_QUEUE. */
#define NFRING_FEAT_QUEUE_HANDLER	(1ULL << 0)
/* NFRING_IOC_BIND and the RX/verdict rings described above. */
#define NFRING_FEAT_RINGS		(1ULL << 1)
/* NFRING_VF_SET_MARK and NFRING_VF_MANGLE verdict flags. */
#define NFRING_FEAT_MARK_MANGLE		(1ULL << 2)
/* nfring_user_page.wake_batch and .wake_usecs are honoured. */
#define NFRING_FEAT_WAKE_COALESCE	(1ULL << 3)
/* NFRING_BIND_NORMALIZE and nfring_stats.normalize_failed. */
#define NFRING_FEAT_NORMALIZE		(1ULL << 4)
/*
 * nfring_bind.ct_bypass_mark, NFRING_VF_BYPASS and the bypass_* counters.
 * Absent when the kernel was built without CONFIG_NF_CONNTRACK_MARK.
 */
#define NFRING_FEAT_CT_BYPASS		(1ULL << 5)
/*
 * NFRING_BIND_METADATA, _CONNTRACK and _UID_GID, nfring_bind.meta_off and
 * struct nfring_rx_meta; NFRING_BIND_NORMALIZE segments GSO packets.
 */
#define NFRING_FEAT_METADATA		(1ULL << 6)
#define NFRING_FEAT_ALL			(NFRING_FEAT_QUEUE_HANDLER | \
					 NFRING_FEAT_RINGS | \
					 NFRING_FEAT_MARK_MANGLE | \
					 NFRING_FEAT_WAKE_COALESCE | \
					 NFRING_FEAT_NORMALIZE | \
					 NFRING_FEAT_CT_BYPASS | \
					 NFRING_FEAT_METADATA)
/*
 * Features a program must test before use; every module of this ABI
 * version has the others.
 */
#define NFRING_FEAT_OPTIONAL		NFRING_FEAT_CT_BYPASS

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
	__u32 max_ring_entries;	/* out: NFRING_MAX_RING_ENTRIES */
	__u32 max_copy_range;	/* out: NFRING_MAX_COPY_RANGE */
	__u32 resv0;		/* must be zero */
};

/* Limits of struct nfring_bind. */
#define NFRING_MIN_RING_ENTRIES	8
#define NFRING_MAX_RING_ENTRIES	32768
#define NFRING_MAX_COPY_RANGE	65535
/* ring_entries * frame_size may not exceed this (bytes). */
#define NFRING_MAX_FRAMES_BYTES	(256U << 20)
/* Frames start at multiples of this. */
#define NFRING_FRAME_ALIGN	64

/*
 * Bind flags.  Every new bit goes into NFRING_BIND_ALL.
 */
/* Accept, instead of drop, packets that find the ring full. */
#define NFRING_BIND_FAIL_OPEN	(1U << 0)
/*
 * Packets as nfnetlink_queue delivers them to a queue without
 * NFQA_CFG_F_GSO: a packet whose L4 checksum is left to the device
 * (CHECKSUM_PARTIAL, NFRING_RX_CSUM_NOTREADY) has it finished before the
 * copy, so the frame holds the packet as it will be on the wire, and a
 * GSO super-packet is split into its segments, each queued as a packet of
 * its own (with its own id and verdict; gso_segmented counts the splits).
 * A checksum that cannot be finished drops the packet (normalize_failed);
 * a packet that cannot be segmented is dropped too (gso_failed).
 */
#define NFRING_BIND_NORMALIZE	(1U << 1)
/*
 * Metadata beside each packet, as nfnetlink_queue's optional attributes:
 * a struct nfring_rx_meta per frame, at meta_off in the KERNEL region,
 * written with the descriptor (before (A)) and valid until the packet's
 * verdict.  Without this flag the region holds no such array.
 */
#define NFRING_BIND_METADATA	(1U << 2)
/*
 * With METADATA: the packet's conntrack state, status, mark and id
 * (NFQA_CFG_F_CONNTRACK).  The id needs nf_conntrack's nf_ct_get_id: if
 * nf_conntrack is loaded at bind, the queue holds a reference to it (it
 * cannot be unloaded while the queue is bound); if not, ids are absent.
 */
#define NFRING_BIND_CONNTRACK	(1U << 3)
/*
 * With METADATA: the uid and gid owning a local socket's file
 * (NFQA_CFG_F_UID_GID), for packets a local socket sends or receives.
 */
#define NFRING_BIND_UID_GID	(1U << 4)
#define NFRING_BIND_ALL		(NFRING_BIND_FAIL_OPEN | NFRING_BIND_NORMALIZE | \
				 NFRING_BIND_METADATA | NFRING_BIND_CONNTRACK | \
				 NFRING_BIND_UID_GID)

/*
 * NFRING_IOC_BIND: bind this file to a queue number and create its rings.
 * Errors:
 *  EINVAL     a value out of range, an unknown flag, a non-zero resv field,
 *             a size smaller than the first version of this struct
 *             (NFRING_BIND_SIZE_V1), CONNTRACK or UID_GID without
 *             METADATA, METADATA in a struct too short for meta_off
 *  EOPNOTSUPP ct_bypass_mark on a kernel without NFRING_FEAT_CT_BYPASS
 *             (modules older than that feature answer EINVAL: test the
 *             feature bit first)
 *  EBUSY      another file has bound this queue number in this netns
 *  EALREADY   this file is bound already
 *  E2BIG      ring_entries * frame size exceeds NFRING_MAX_FRAMES_BYTES
 *  ENOMEM     no memory for the rings
 */
struct nfring_bind {
	__u32 size;		/* in: sizeof(struct nfring_bind) */
	__u32 flags;		/* in: NFRING_BIND_* */
	__u16 queue_num;	/* in: 0..65535, as in `queue num N` */
	__u16 resv0;		/* must be zero */
	__u32 ring_entries;	/* in: power of two, MIN..MAX_RING_ENTRIES */
	/* in: bytes of each packet copied, 0..MAX; 0: metadata only */
	__u32 copy_range;
	/* in: NFRING_ACCEPT or NFRING_DROP, for packets left in flight */
	__u32 default_verdict;
	/* out: */
	__u32 frame_size;	/* copy_range rounded up to NFRING_FRAME_ALIGN */
	/*
	 * in (left as given): the conntrack mark bits NFRING_VF_BYPASS sets (ORed into
	 * ct->mark); 0 refuses that flag.  Was resv1 (zero) before
	 * NFRING_FEAT_CT_BYPASS.
	 */
	__u32 ct_bypass_mark;
	__u64 kernel_off;	/* mmap offset of the KERNEL region (read-only) */
	__u64 kernel_size;
	__u64 user_off;		/* mmap offset of the USER region */
	__u64 user_size;
	__u64 frames_off;	/* mmap offset of the FRAMES region */
	__u64 frames_size;	/* 0 when copy_range is 0 */
	__u64 rx_desc_off;	/* RX descriptors, from the KERNEL region start */
	__u64 vr_desc_off;	/* verdict descriptors, from the USER region start */
	/*
	 * out: with NFRING_BIND_METADATA, the struct nfring_rx_meta array
	 * (one per frame, indexed by nfring_rx_desc.frame) from the KERNEL
	 * region start; 0 without.  Appended with NFRING_FEAT_METADATA.
	 */
	__u64 meta_off;
};

/* The first, 96-byte nfring_bind, without meta_off: still accepted. */
#define NFRING_BIND_SIZE_V1	96

/* Written by the kernel only; mapped read-only. */
struct nfring_kernel_page {
	__u32 rx_producer;	/* (A) */
	__u32 resv0;
	__u8  pad0[56];
	__u32 vr_consumer;	/* (G) */
	__u32 flags;		/* NFRING_KF_* (K1) */
	__u8  pad1[56];
};

/* The reinject work went idle: publish, then call NFRING_IOC_KICK. */
#define NFRING_KF_NEED_KICK	(1U << 0)

/* Written by userspace only; the kernel reads each field once. */
struct nfring_user_page {
	__u32 rx_consumer;	/* (C) */
	__u32 resv0;
	__u8  pad0[56];
	__u32 vr_producer;	/* (E) */
	__u32 flags;		/* NFRING_UF_* (W1) */
	/*
	 * Wake coalescing (NFRING_FEAT_WAKE_COALESCE), like a NIC's
	 * interrupt moderation: while NFRING_UF_NEED_WAKEUP is set, the
	 * kernel wakes the worker once wake_batch packets wait on the RX
	 * ring, or wake_usecs after the first of them arrived, whichever
	 * comes first.  wake_batch <= 1 or wake_usecs == 0: wake at once.
	 * Hints, read when a packet arrives: the kernel clamps wake_batch
	 * to half the ring and wake_usecs to NFRING_MAX_WAKE_USECS.
	 */
	__u32 wake_batch;
	__u32 wake_usecs;
	__u8  pad1[48];
};

#define NFRING_MAX_WAKE_USECS	10000

/* The worker is about to sleep: wake its poll when packets arrive. */
#define NFRING_UF_NEED_WAKEUP	(1U << 0)

/* RX descriptor flags. */
/*
 * Checksum not yet computed (CHECKSUM_PARTIAL): the L4 checksum in the
 * frame is not final.  The stack completes it on output.
 */
#define NFRING_RX_CSUM_NOTREADY	(1U << 0)
/*
 * A GSO super-packet: pkt_len may exceed the MTU.  Not segmented (as
 * NFQUEUE with NFQA_CFG_F_GSO); cannot be mangled.  Never set on a queue
 * bound with NFRING_BIND_NORMALIZE.  SCTP GSO packets, which are no
 * single packet, are always segmented, as nfnetlink_queue does.
 */
#define NFRING_RX_GSO		(1U << 1)

/* One queued packet.  Written by the kernel. */
struct nfring_rx_desc {
	__u64 id;		/* (generation << 32) | frame; echo in verdict */
	__u64 tstamp_ns;	/* skb receive time, CLOCK_REALTIME, or 0 */
	__u32 frame;		/* frame index: data at frame * frame_size */
	__u32 pkt_len;		/* length of the packet */
	__u32 cap_len;		/* bytes copied into the frame (<= copy_range) */
	__u32 mark;		/* skb->mark when queued */
	__u32 indev;		/* input ifindex, 0 if none */
	__u32 outdev;		/* output ifindex, 0 if none */
	__u16 hw_protocol;	/* skb->protocol, network byte order */
	__u8  pf;		/* NFPROTO_IPV4 or NFPROTO_IPV6 */
	__u8  hook;		/* NF_INET_* */
	__u16 queue_num;
	__u16 flags;		/* NFRING_RX_* */
};

/* Which fields of struct nfring_rx_meta hold a value. */
/* ct_info, ct_status and ct_mark (NFRING_BIND_CONNTRACK, tracked packet) */
#define NFRING_META_CT		(1U << 0)
/* ct_id (as above, and nf_conntrack was loaded at bind) */
#define NFRING_META_CT_ID	(1U << 1)
/* uid and gid (NFRING_BIND_UID_GID, a local socket with a file) */
#define NFRING_META_UID_GID	(1U << 2)
/* hwaddr_len and hwaddr (received on a device with a link-layer header) */
#define NFRING_META_HWADDR	(1U << 3)
/* vlan_tci and vlan_proto (a VLAN tag outside the packet data) */
#define NFRING_META_VLAN	(1U << 4)

/*
 * What nfnetlink_queue reports beside the packet and nfring_rx_desc does
 * not carry (NFRING_BIND_METADATA).  Written by the kernel, one per frame.
 * Fields without their NFRING_META_* bit in .valid are zero; physindev,
 * physoutdev and priority are always filled (0: none).
 */
struct nfring_rx_meta {
	__u32 valid;		/* NFRING_META_* */
	__u32 priority;		/* skb->priority */
	__u32 physindev;	/* bridge port it came in on (br_netfilter), or 0 */
	__u32 physoutdev;	/* bridge port it goes out on, or 0 */
	__u32 uid;		/* fsuid of the socket's file, in the initial userns */
	__u32 gid;		/* fsgid, likewise */
	__u32 ct_id;		/* the id `conntrack -L -o id` shows */
	__u32 ct_mark;		/* ct->mark */
	__u32 ct_status;	/* IPS_* bits of ct->status */
	__u8  ct_info;		/* enum ip_conntrack_info (IP_CT_NEW, ...) */
	__u8  hwaddr_len;	/* bytes of hwaddr */
	__u16 vlan_tci;		/* host byte order */
	__u16 vlan_proto;	/* network byte order (ETH_P_8021Q, ...) */
	__u16 resv0;
	__u8  hwaddr[8];	/* link-layer source address */
	__u8  resv1[12];
};

/* Verdicts: the values of NF_DROP, NF_ACCEPT and NF_REPEAT. */
#define NFRING_DROP		0
#define NFRING_ACCEPT		1
#define NFRING_REPEAT		4

/* Verdict flags.  Every new bit goes into NFRING_VF_ALL. */
/* Set skb->mark to .mark (before the verdict is applied). */
#define NFRING_VF_SET_MARK	(1U << 0)
/*
 * Replace the packet with the first .new_len bytes of its frame.  Needs a
 * frame (copy_range > 0), new_len <= frame_size, at least the network
 * header, and a packet that is not GSO.  Userspace must leave the L3/L4
 * checksums correct; the skb is marked CHECKSUM_NONE.
 */
#define NFRING_VF_MANGLE	(1U << 1)
/*
 * Flow bypass: OR the queue's ct_bypass_mark into the packet's conntrack
 * mark, so that a rule before the queue rule,
 *     ct mark & M == M accept
 * passes the flow's later packets without queueing them.  Only with
 * NFRING_ACCEPT, on a queue bound with a non-zero ct_bypass_mark.  A packet
 * without a conntrack entry is accepted and counted in bypass_no_ct.
 */
#define NFRING_VF_BYPASS	(1U << 2)
#define NFRING_VF_ALL		(NFRING_VF_SET_MARK | NFRING_VF_MANGLE | \
				 NFRING_VF_BYPASS)

/* One verdict.  Written by userspace; validated by the kernel. */
struct nfring_verdict {
	__u64 id;		/* nfring_rx_desc.id */
	__u32 verdict;		/* NFRING_ACCEPT, NFRING_DROP or NFRING_REPEAT */
	__u32 flags;		/* NFRING_VF_* */
	__u32 mark;		/* with NFRING_VF_SET_MARK */
	__u32 new_len;		/* with NFRING_VF_MANGLE */
};

/*
 * Per-queue counters (NFRING_IOC_STATS and /proc/net/nfring).  Userspace
 * sets .size; the kernel fills at most that many bytes.
 */
struct nfring_stats {
	__u32 size;
	__u32 queue_num;
	__u64 enqueued;		/* packets put on the RX ring */
	__u64 accepted;		/* verdicts applied: accept */
	__u64 dropped;		/* verdicts applied: drop */
	__u64 repeated;		/* verdicts applied: repeat */
	__u64 marked;		/* verdicts that set the mark */
	__u64 mangled;		/* verdicts that replaced the payload */
	__u64 ring_full;	/* packets dropped: ring full */
	__u64 fail_open;	/* packets accepted: ring full, FAIL_OPEN */
	__u64 invalid;		/* verdict entries rejected (any reason) */
	__u64 in_flight;	/* packets awaiting a verdict now */
	__u64 wakeups;		/* times the kernel woke the worker */
	__u64 kicks;		/* NFRING_IOC_KICK calls */
	__u64 flushed;		/* packets dropped by device down / hook removal */
	__u64 mangle_failed;	/* mangles refused or failed; packet dropped */
	__u64 unsupported;	/* packets not queueable (family), dropped */
	/* NFRING_BIND_NORMALIZE: checksums that could not be finished */
	__u64 normalize_failed;
	/* NFRING_VF_BYPASS: conntrack entries that got the bypass mark */
	__u64 bypass_flows;
	/* NFRING_VF_BYPASS on a packet without a conntrack entry */
	__u64 bypass_no_ct;
	/* GSO packets split into segments before queueing (NORMALIZE, SCTP) */
	__u64 gso_segmented;
	/* GSO packets dropped: segmentation failed */
	__u64 gso_failed;
};

#define NFRING_IOC_MAGIC	0xB7
#define NFRING_IOC_INFO		_IOWR(NFRING_IOC_MAGIC, 0x00, struct nfring_info)
#define NFRING_IOC_BIND		_IOWR(NFRING_IOC_MAGIC, 0x01, struct nfring_bind)
/*
 * BIND's number encodes the struct's size too; the module answers 0x01
 * under any size from NFRING_BIND_SIZE_V1 up, and .size decides.
 * BIND_V1 is the number programs built before meta_off use.
 */
#define NFRING_IOC_BIND_V1	_IOC(_IOC_READ | _IOC_WRITE, NFRING_IOC_MAGIC, \
				     0x01, NFRING_BIND_SIZE_V1)
/*
 * Schedule the reinject work (see K2).  No argument.  A write(2) of any
 * length to the device does the same (for io_uring's IORING_OP_WRITE).
 */
#define NFRING_IOC_KICK		_IO(NFRING_IOC_MAGIC, 0x02)
#define NFRING_IOC_STATS	_IOWR(NFRING_IOC_MAGIC, 0x03, struct nfring_stats)
/*
 * The command number encodes the struct's size, which grows as counters
 * are appended.  The module answers command 0x03 whatever size its number
 * encodes and fills what .size asks for, so programs built against an
 * older, smaller struct keep working.  STATS_V1 is the first, 128-byte one.
 */
#define NFRING_IOC_STATS_V1	_IOC(_IOC_READ | _IOC_WRITE, NFRING_IOC_MAGIC, \
				     0x03, 128)

/* Layout is part of the ABI: pinned here and again in the userspace tests. */
#ifdef __cplusplus
#define NFRING_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define NFRING_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
NFRING_ABI_ASSERT(sizeof(struct nfring_info) == 32, "nfring_info");
NFRING_ABI_ASSERT(sizeof(struct nfring_bind) == 104, "nfring_bind");
NFRING_ABI_ASSERT(sizeof(struct nfring_rx_meta) == 64, "nfring_rx_meta");
NFRING_ABI_ASSERT(sizeof(struct nfring_kernel_page) == 128, "kernel page");
NFRING_ABI_ASSERT(sizeof(struct nfring_user_page) == 128, "user page");
NFRING_ABI_ASSERT(sizeof(struct nfring_rx_desc) == 48, "nfring_rx_desc");
NFRING_ABI_ASSERT(sizeof(struct nfring_verdict) == 24, "nfring_verdict");
NFRING_ABI_ASSERT(sizeof(struct nfring_stats) == 168, "nfring_stats");
#undef NFRING_ABI_ASSERT

#endif /* _UAPI_NFRING_H */
