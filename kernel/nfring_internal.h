/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the module's files.  Nothing here is visible to
 * userspace; the shared-memory layout is in abi/nfring.h.
 */
#ifndef _NFRING_INTERNAL_H
#define _NFRING_INTERNAL_H

#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "nfring.h"
#include "nfring_compat.h"

struct nf_queue_entry;

#define NFRING_QUEUE_BUCKETS	64

/*
 * Verdicts handled per RCU section, and per run of the work before it
 * requeues itself so that other work items and softirqs get a turn.
 */
#define NFRING_VERDICT_BATCH	64
#define NFRING_WORK_BUDGET	4096

static inline u32 nfring_hash(u16 queue_num)
{
	return queue_num % NFRING_QUEUE_BUCKETS;
}

/* Per network namespace: queue numbers, as NFQUEUE's, are per netns. */
struct nfring_net {
	/* Serialises bind/unbind; lookups from outfn use RCU. */
	spinlock_t		lock;
	struct hlist_head	queues[NFRING_QUEUE_BUCKETS];
	/* Packets queued to a number that no worker has bound. */
	atomic64_t		no_worker;
};

/*
 * Who owns a frame.  The kernel-private slot array mirrors the frames; it
 * never lives in shared memory.
 */
enum nfring_slot_state {
	NFRING_SLOT_FREE = 0,
	/* Holds a queued packet awaiting its verdict. */
	NFRING_SLOT_INFLIGHT,
	/* The reinject work took the packet and is applying the verdict. */
	NFRING_SLOT_APPLYING,
	/*
	 * The packet was flushed (device down, hook removed) while userspace
	 * may still read the frame; freed by the packet's verdict or at
	 * release, so a frame is never reused under a reader's feet.
	 */
	NFRING_SLOT_ORPHANED,
};

struct nfring_hook_id {
	nf_hookfn		*hook;
	void			*priv;
};

struct nfring_slot {
	struct nf_queue_entry	*entry;
	u32			gen;
	u8			state;
	/*
	 * Netfilter flushed the queue while the packet was APPLYING: its
	 * hook may be gone, so the applier drops it instead of reinjecting.
	 */
	bool			flush_pending;
	/*
	 * The hook entry that queued the packet (its function and private
	 * data), from the hook blob in use at enqueue.  Reinjection continues
	 * from hook_index in the blob current then; a chain deleted in
	 * between is unpublished before netfilter flushes queued packets, and
	 * in that window the index names another hook.  A mismatch drops the
	 * packet, as that flush would.
	 */
	struct nfring_hook_id	queued_by;
	/*
	 * A GSO segment, other than the first, of a packet whose conntrack
	 * entry was unconfirmed: it shares that entry with its siblings.
	 * Reinjecting it is safe only once a sibling has confirmed the entry
	 * (nfring_finish_entry checks).
	 */
	bool			ct_shared_seg;
};

/*
 * One shared-memory region: order-0 pages charged to the binder's memory
 * cgroup, vmap'd at addr for the kernel, inserted into userspace mappings.
 */
struct nfring_region {
	void			*addr;
	struct page		**pages;
	unsigned int		nr_pages;
	size_t			size;		/* nr_pages * PAGE_SIZE */
};

/* Counters; see struct nfring_stats for their meaning. */
struct nfring_counters {
	/* Under nfring_queue.lock (enqueue path, flushes). */
	u64 enqueued, ring_full, fail_open, wakeups, flushed;
	u64 in_flight;
	/* Written only under drain_lock (verdict side). */
	u64 accepted, dropped, repeated, marked, mangled, invalid;
	u64 mangle_failed, bypass_flows, bypass_no_ct;
	atomic64_t kicks;
};

struct nfring_queue {
	struct hlist_node	node;		/* in nfring_net.queues */
	struct rcu_head		rcu;
	struct net		*net;		/* held while bound */
	u16			queue_num;
	u32			flags;		/* NFRING_BIND_* */
	u32			default_verdict;
	u32			ct_bypass_mark;	/* 0: NFRING_VF_BYPASS refused */
	struct pid		*pid;		/* who bound it, for /proc */
	/* MANGLE allowed: bound with CAP_NET_ADMIN in the initial userns. */
	bool			mangle_allowed;

	u32			entries;	/* power of two */
	u32			mask;
	u32			copy_range;
	u32			frame_size;

	/* Shared memory: the three regions and views into them. */
	struct nfring_region	kmem, umem, fmem;
	struct nfring_kernel_page *kpage;	/* kmem.addr */
	struct nfring_rx_desc	*rx_desc;
	/* NFRING_BIND_METADATA: one per frame, in kmem; NULL without. */
	struct nfring_rx_meta	*meta;
	/*
	 * NFRING_BIND_CONNTRACK: nf_conntrack's nf_ct_get_id, looked up at
	 * bind without linking to it (we hold the module until unbind), or
	 * NULL when nf_conntrack was not loaded then.
	 */
	u32			(*ct_get_id)(const struct nf_conn *ct);
	struct nfring_user_page	*upage;		/* umem.addr */
	struct nfring_verdict	*vr_desc;
	u8			*frames;	/* fmem.addr */

	/*
	 * Producer side, serialised by lock (several CPUs may enqueue to one
	 * queue at once); also guards slots[] and the free stack.
	 */
	spinlock_t		lock;
	/* Unbinding: no more enqueues; lookups skip it (WRITE_ONCE). */
	bool			dead;
	u32			rx_prod;	/* private copy of rx_producer */
	u32			rx_cons_cached;
	struct nfring_slot	*slots;
	u32			*free_stack;
	u32			nr_free;

	/*
	 * Verdict side, under drain_lock: drained in the worker's kick
	 * syscall, or by reinject_work when a drain ran out of budget.
	 */
	struct mutex		drain_lock;
	struct work_struct	reinject_work;
	u32			vr_cons;

	wait_queue_head_t	wait;		/* poll() on the device */
	/* Wakes a coalescing worker wake_usecs after the first packet. */
	struct hrtimer		wake_timer;
	atomic64_t		timer_wakeups;
	/* Packets outfn refused (family), counted without q->lock. */
	atomic64_t		unsupported;
	/* NFRING_BIND_NORMALIZE: checksums outfn could not finish. */
	atomic64_t		normalize_failed;
	/* GSO packets outfn split into segments, and segmentations that failed. */
	atomic64_t		gso_segmented;
	atomic64_t		gso_failed;
	struct nfring_counters	c;
};

extern struct workqueue_struct *nfring_wq;
extern unsigned int nfring_net_id;

struct nfring_net *nfring_pernet(struct net *net);

/* nfring_enqueue.c */
struct nfring_queue *nfring_lookup(struct nfring_net *nn, u16 queue_num);
int nfring_outfn(struct nf_queue_entry *entry, unsigned int queuenum);
enum hrtimer_restart nfring_wake_timer_fn(struct hrtimer *t);
void nfring_hook_drop(struct net *net);
void nfring_dev_down(struct net *net, int ifindex);

/* nfring_reinject.c */
void nfring_drop_entry(struct nf_queue_entry *entry);
void nfring_hook_id_get(const struct nf_queue_entry *entry,
			struct nfring_hook_id *id);
unsigned int nfring_reinject(struct nf_queue_entry *entry,
			     const struct nfring_hook_id *queued_by,
			     unsigned int verdict);

/* nfring_verdict.c */
struct nf_queue_entry *nfring_take_entry(struct nfring_queue *q,
					 struct nfring_slot *slot);
void nfring_finish_entry(struct nfring_queue *q, struct nfring_slot *slot,
			 struct nf_queue_entry *entry, unsigned int verdict,
			 bool bypass);
void nfring_apply_batch(struct nfring_queue *q, u32 n);
void nfring_reinject_work(struct work_struct *work);
void nfring_queue_kick(struct nfring_queue *q);

/* nfring_mangle.c */
int nfring_mangle(struct nfring_queue *q, struct nf_queue_entry *e,
		  const u8 *data, u32 len);

/* nfring_ct.c */
enum nfring_ct_bypass {
	NFRING_CT_BYPASS_SET,		/* the entry got the bits now */
	NFRING_CT_BYPASS_ALREADY,	/* it had them */
	NFRING_CT_BYPASS_NO_CT,		/* no conntrack entry */
};
void nfring_ct_id_get(struct nfring_queue *q);
void nfring_ct_id_put(struct nfring_queue *q);
void nfring_ct_meta(const struct nfring_queue *q, const struct sk_buff *skb,
		    struct nfring_rx_meta *m);
bool nfring_ct_unconfirmed(const struct sk_buff *skb);
bool nfring_ct_unconfirmed_shared(const struct sk_buff *skb);
bool nfring_ct_bypass_supported(void);
enum nfring_ct_bypass nfring_ct_bypass(struct sk_buff *skb, u32 bits);

/* nfring_queue.c */

struct nfring_queue *nfring_queue_bind(struct net *net,
				       struct nfring_bind *params);
void nfring_queue_unbind(struct nfring_queue *q);
int nfring_queue_mmap(struct nfring_queue *q, struct vm_area_struct *vma);
__poll_t nfring_queue_poll(struct nfring_queue *q, struct file *file,
			   poll_table *wait);
void nfring_queue_stats(struct nfring_queue *q, struct nfring_stats *st);

#endif /* _NFRING_INTERNAL_H */
