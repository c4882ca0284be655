// SPDX-License-Identifier: GPL-2.0
/*
 * The enqueue side of a bound queue: netfilter's outfn (softirq), the
 * wake-up of the worker, and the flushes netfilter asks for (hook removal,
 * device down).
 *
 * Trust boundary: the USER region and the frames are written by userspace
 * at any time.  Every field the kernel needs from them is read once
 * (READ_ONCE / smp_load_acquire) into a local, validated, and only the
 * local is used.  Kernel-private state (entries, slots, the free stack)
 * lives in kernel memory only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_bridge.h>
#include <linux/if_vlan.h>
#include <linux/cred.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_queue.h>

#include "nfring_internal.h"

/*
 * The live queue bound to @queue_num, skipping one that is being unbound
 * (it stays listed until its last packet has its verdict, so that flushes
 * still reach those packets).  Caller holds rcu_read_lock (netfilter hooks
 * always do) or nn->lock.
 */
struct nfring_queue *nfring_lookup(struct nfring_net *nn, u16 queue_num)
{
	struct nfring_queue *q;

	hlist_for_each_entry_rcu(q, &nn->queues[nfring_hash(queue_num)], node,
				 lockdep_is_held(&nn->lock))
		if (q->queue_num == queue_num && !READ_ONCE(q->dead))
			return q;
	return NULL;
}

/*
 * IPv4 and IPv6, including packets that br_netfilter passes through the IP
 * hooks (routed or bridged traffic of containers on a bridge: physin and
 * physout set), whose bridge ports are checked again at reinject.  The
 * bridge family itself (pf NFPROTO_BRIDGE) is not supported yet: outfn
 * treats it as a queue without a listener, so that the rule's bypass flag
 * decides, as it does for NFQUEUE without a listener.
 */
static bool nfring_family_supported(const struct nf_queue_entry *entry)
{
	return entry->state.pf == NFPROTO_IPV4 ||
	       entry->state.pf == NFPROTO_IPV6;
}

/* Caller holds q->lock.  Is there an RX slot?  See (D). */
static bool nfring_rx_has_room(struct nfring_queue *q)
{
	if (q->rx_prod - q->rx_cons_cached < q->entries)
		return true;
	/*
	 * (D) pairs with (C): once we see the consumer past a slot, userspace
	 * is done reading it.  A consumer value that is not between
	 * rx_prod - entries and rx_prod (garbage) makes the difference
	 * >= entries: the ring counts as full, which only hurts that queue.
	 */
	q->rx_cons_cached = smp_load_acquire(&q->upage->rx_consumer);
	return q->rx_prod - q->rx_cons_cached < q->entries;
}

static void nfring_fill_desc(struct nfring_queue *q, struct nfring_rx_desc *d,
			     const struct nf_queue_entry *entry, u64 id,
			     u32 frame, u32 cap_len)
{
	const struct sk_buff *skb = entry->skb;
	u16 flags = 0;

	if (skb->ip_summed == CHECKSUM_PARTIAL)
		flags |= NFRING_RX_CSUM_NOTREADY;
	if (skb_is_gso(skb))
		flags |= NFRING_RX_GSO;

	d->id = id;
	d->tstamp_ns = ktime_to_ns(skb_tstamp_cond(skb, false));
	d->frame = frame;
	d->pkt_len = skb->len;
	d->cap_len = cap_len;
	d->mark = skb->mark;
	d->indev = entry->state.in ? entry->state.in->ifindex : 0;
	d->outdev = entry->state.out ? entry->state.out->ifindex : 0;
	/* Raw sockets can reach LOCAL_OUT before skb->protocol is set. */
	d->hw_protocol = (__force u16)(skb->protocol ?:
		(entry->state.pf == NFPROTO_IPV4 ? htons(ETH_P_IP) :
						   htons(ETH_P_IPV6)));
	d->pf = entry->state.pf;
	d->hook = entry->state.hook;
	d->queue_num = q->queue_num;
	d->flags = flags;
}

/*
 * The fsuid and fsgid of the file behind a full local socket, as
 * nfnetlink_queue reports them (NFQA_UID, NFQA_GID).
 */
static void nfring_sk_meta(struct sock *sk, struct nfring_rx_meta *m)
{
	const struct cred *cred;

	if (!sk || !sk_fullsock(sk))
		return;
	read_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_socket && sk->sk_socket->file) {
		cred = sk->sk_socket->file->f_cred;
		m->uid = from_kuid_munged(&init_user_ns, cred->fsuid);
		m->gid = from_kgid_munged(&init_user_ns, cred->fsgid);
		m->valid |= NFRING_META_UID_GID;
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * NFRING_BIND_METADATA: gathered before q->lock is taken (the socket's
 * lock must not nest inside ours), copied into the frame's slot under it.
 */
static void nfring_gather_meta(const struct nfring_queue *q,
			       const struct nf_queue_entry *entry,
			       struct nfring_rx_meta *m)
{
	struct sk_buff *skb = entry->skb;

	memset(m, 0, sizeof(*m));
	m->priority = skb->priority;
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	m->physindev = nf_bridge_get_physinif(skb);
	m->physoutdev = nf_bridge_get_physoutif(skb);
#endif
	if (skb_vlan_tag_present(skb)) {
		m->valid |= NFRING_META_VLAN;
		m->vlan_tci = skb_vlan_tag_get(skb);
		m->vlan_proto = (__force u16)skb->vlan_proto;
	}
	/* As nfnetlink_queue: a received packet's link-layer source. */
	if (entry->state.in && skb->dev && skb_mac_header_was_set(skb) &&
	    skb_mac_header_len(skb) != 0) {
		/* A parser may write up to MAX_ADDR_LEN bytes. */
		unsigned char addr[MAX_ADDR_LEN] = {};
		int len = dev_parse_header(skb, addr);

		if (len > 0 && len <= sizeof(m->hwaddr)) {
			memcpy(m->hwaddr, addr, len);
			m->hwaddr_len = len;
			m->valid |= NFRING_META_HWADDR;
		}
	}
	if (q->flags & NFRING_BIND_CONNTRACK)
		nfring_ct_meta(q, skb, m);
	if (q->flags & NFRING_BIND_UID_GID)
		nfring_sk_meta(skb->sk, m);
}

/*
 * Called under q->lock after a packet was published: wake the worker now,
 * or leave it to the wake timer (see nfring_user_page.wake_batch).  The
 * hints are read once and clamped; a bad value can only delay this
 * worker's own wake-up, by at most NFRING_MAX_WAKE_USECS.
 */
static bool nfring_should_wake(struct nfring_queue *q)
{
	struct nfring_user_page *up = q->upage;
	u32 batch, usecs, pending;

	if (!(READ_ONCE(up->flags) & NFRING_UF_NEED_WAKEUP))
		return false;
	batch = min(READ_ONCE(up->wake_batch), q->entries / 2);
	usecs = min_t(u32, READ_ONCE(up->wake_usecs), NFRING_MAX_WAKE_USECS);
	if (batch <= 1 || !usecs)
		return true;
	/* A garbage consumer index only makes this large: wake. */
	pending = q->rx_prod - READ_ONCE(up->rx_consumer);
	if (pending >= batch) {
		hrtimer_try_to_cancel(&q->wake_timer);
		return true;
	}
	/*
	 * The first packet since the worker emptied the ring starts the
	 * clock, even over a timer left from an earlier sleep, which would
	 * otherwise wake the worker early.
	 */
	if (pending == 1 || !hrtimer_is_queued(&q->wake_timer))
		hrtimer_start(&q->wake_timer, ns_to_ktime((u64)usecs * NSEC_PER_USEC),
			      HRTIMER_MODE_REL);
	return false;
}

/* Hard-irq context: wake_up only, no locks of ours. */
enum hrtimer_restart nfring_wake_timer_fn(struct hrtimer *t)
{
	struct nfring_queue *q = container_of(t, struct nfring_queue,
					      wake_timer);

	if (READ_ONCE(q->upage->flags) & NFRING_UF_NEED_WAKEUP) {
		atomic64_inc(&q->timer_wakeups);
		wake_up_interruptible_poll(&q->wait, EPOLLIN | EPOLLRDNORM);
	}
	return HRTIMER_NORESTART;
}

/*
 * Put one packet on the ring.  Returns 0 when the packet is queued (or, on
 * a full FAIL_OPEN queue, accepted: the entry is consumed either way), or
 * an error that leaves @entry to the caller: -ESRCH when the queue is going
 * away, -ENOSPC when the ring is full, -ENOMEM when NORMALIZE could not
 * finish the checksum.  @ct_shared_seg: a later GSO segment sharing an
 * unconfirmed conntrack entry with its siblings (see nfring_slot).
 */
static int nfring_enqueue_one(struct nfring_net *nn, struct nfring_queue *q,
			      struct nf_queue_entry *entry, bool ct_shared_seg)
{
	struct sk_buff *skb = entry->skb;
	struct nfring_rx_meta meta;
	struct nfring_slot *slot;
	u32 frame, gen, cap_len;
	bool wake;

	/*
	 * As nfnetlink_queue without NFQA_CFG_F_GSO: finish a checksum left
	 * to the device before userspace sees the packet.  Not for a GSO
	 * packet, whose checksum each segment gets later (skb_checksum_help
	 * warns on one); under NORMALIZE only SCTP GSO is left whole here,
	 * and it never reaches this point.  q->flags is fixed at bind.
	 */
	if ((q->flags & NFRING_BIND_NORMALIZE) &&
	    skb->ip_summed == CHECKSUM_PARTIAL && !skb_is_gso(skb) &&
	    skb_checksum_help(skb)) {
		atomic64_inc(&q->normalize_failed);
		return -ENOMEM;
	}

	if (q->meta)
		nfring_gather_meta(q, entry, &meta);

	spin_lock_bh(&q->lock);
	if (unlikely(q->dead)) {
		spin_unlock_bh(&q->lock);
		atomic64_inc(&nn->no_worker);
		return -ESRCH;
	}
	if (!q->nr_free || !nfring_rx_has_room(q)) {
		/*
		 * Fail-open accepts, except a later segment whose unconfirmed
		 * entry a sibling still in flight shares: that one cannot
		 * pass, and is dropped as on a closed queue.
		 */
		if ((q->flags & NFRING_BIND_FAIL_OPEN) &&
		    !(ct_shared_seg && nfring_ct_unconfirmed_shared(skb))) {
			q->c.fail_open++;
			spin_unlock_bh(&q->lock);
			nfring_reinject(entry, NULL, NF_ACCEPT);
			return 0;
		}
		q->c.ring_full++;
		spin_unlock_bh(&q->lock);
		return -ENOSPC;
	}

	frame = q->free_stack[--q->nr_free];
	slot = &q->slots[frame];
	if (WARN_ON_ONCE(slot->state != NFRING_SLOT_FREE)) {
		/* Broken invariant: never hand out a frame twice. */
		spin_unlock_bh(&q->lock);
		return -EIO;
	}
	gen = slot->gen + 1;
	if (!gen)	/* generation 0 is never valid: zeroed verdicts miss */
		gen = 1;
	slot->gen = gen;
	slot->entry = entry;
	slot->state = NFRING_SLOT_INFLIGHT;
	slot->ct_shared_seg = ct_shared_seg;
	nfring_hook_id_get(entry, &slot->queued_by);

	cap_len = min_t(u32, skb->len, q->copy_range);
	if (cap_len &&
	    skb_copy_bits(skb, 0, q->frames + (size_t)frame * q->frame_size,
			  cap_len))
		cap_len = 0;	/* cannot happen for cap_len <= skb->len */

	if (q->meta)
		q->meta[frame] = meta;
	nfring_fill_desc(q, &q->rx_desc[q->rx_prod & q->mask], entry,
			 ((u64)gen << 32) | frame, frame, cap_len);
	q->rx_prod++;
	/* (A) pairs with (B): descriptor and frame before the index. */
	smp_store_release(&q->kpage->rx_producer, q->rx_prod);
	q->c.enqueued++;
	q->c.in_flight++;

	/* (W2) pairs with (W1): index store before the flag load. */
	smp_mb();
	wake = nfring_should_wake(q);
	if (wake)
		q->c.wakeups++;
	spin_unlock_bh(&q->lock);

	if (wake)
		wake_up_interruptible_poll(&q->wait, EPOLLIN | EPOLLRDNORM);
	return 0;
}

/*
 * A packet that br_netfilter passes through the IP hooks has skb->data at
 * its network header; segmentation must see the MAC header too, or the
 * segments lose it.  Pushed before segmenting, pulled back on each segment
 * (and on the original if segmentation fails).
 */
static unsigned int nfring_bridge_mac_len(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	if (nf_bridge_info_get(skb))
		return skb->network_header - skb->mac_header;
#endif
	return 0;
}

/*
 * Queue the segments of a GSO packet, each with an entry of its own (a
 * copy of @entry holding its own references; the last segment takes
 * @entry itself), as nfnetlink_queue does without NFQA_CFG_F_GSO.  Once
 * one segment is queued the call succeeds: segments after a failure are
 * freed (dropped), and the original skb goes.  If none is queued the
 * error goes back to netfilter, which drops the original: segmenting may
 * have changed it (fraglist GSO makes it the first segment; TCP moves its
 * socket to the last), so it must never continue whole, not even through
 * the rule's bypass flag on -ESRCH.
 */
static int nfring_enqueue_gso(struct nfring_net *nn, struct nfring_queue *q,
			      struct nf_queue_entry *entry)
{
	struct sk_buff *skb = entry->skb, *segs, *seg, *next;
	unsigned int mac_len = nfring_bridge_mac_len(skb);
	/* skb_gso_segment gives every segment a reference on the entry. */
	bool ct_unconfirmed = nfring_ct_unconfirmed(skb);
	unsigned int queued = 0;
	int err = 0;

	/* Raw sockets can reach LOCAL_OUT before skb->protocol is set. */
	skb->protocol = entry->state.pf == NFPROTO_IPV4 ? htons(ETH_P_IP) :
							  htons(ETH_P_IPV6);
	__skb_push(skb, mac_len);
	segs = skb_gso_segment(skb, 0);
	if (IS_ERR_OR_NULL(segs)) {
		__skb_pull(skb, mac_len);
		atomic64_inc(&q->gso_failed);
		/* Not -ESRCH: the rule's bypass flag must not pass it whole. */
		return -ENOMEM;
	}
	atomic64_inc(&q->gso_segmented);

	skb_list_walk_safe(segs, seg, next) {
		struct nf_queue_entry *e = entry;

		skb_mark_not_on_list(seg);
		__skb_pull(seg, mac_len);
		if (!err && next) {
			e = kmemdup(entry, entry->size, GFP_ATOMIC);
			if (e && !nf_queue_entry_get_refs(e)) {
				kfree(e);
				e = NULL;
			}
			if (!e)
				err = -ENOMEM;
		}
		if (!err) {
			e->skb = seg;
			err = nfring_enqueue_one(nn, q, e,
						 ct_unconfirmed && queued > 0);
			if (!err) {
				queued++;
				continue;
			}
			if (e != entry)
				nf_queue_entry_free(e);
			else
				entry->skb = skb;
		}
		kfree_skb(seg);
	}

	if (!queued)
		return err == -ESRCH ? -ENOBUFS : err;
	/* The last segment failed: its entry, @entry, was not queued. */
	if (err)
		nf_queue_entry_free(entry);
	kfree_skb(skb);
	return 0;
}

/*
 * netfilter's outfn.  Softirq or process context with rcu_read_lock held;
 * never sleeps; allocates only to segment a GSO packet.  Returning an
 * error makes nf_queue free the entry: -ESRCH accepts with the rule's
 * bypass flag, anything else drops.  Per packet: one spinlock, one copy
 * of up to copy_range bytes, one release store and one full barrier (W2).
 */
int nfring_outfn(struct nf_queue_entry *entry, unsigned int queuenum)
{
	struct nfring_net *nn = nfring_pernet(entry->state.net);
	struct sk_buff *skb = entry->skb;
	struct nfring_queue *q;

	q = nfring_lookup(nn, queuenum);
	if (!q) {
		atomic64_inc(&nn->no_worker);
		return -ESRCH;
	}

	if (!nfring_family_supported(entry)) {
		atomic64_inc(&q->unsupported);
		return -ESRCH;
	}
	if (nfring_ct_unconfirmed_shared(skb))
		return -EINVAL;
	if (skb_is_gso(skb) &&
	    ((q->flags & NFRING_BIND_NORMALIZE) || skb_is_gso_sctp(skb)))
		return nfring_enqueue_gso(nn, q, entry);
	return nfring_enqueue_one(nn, q, entry, false);
}

/*
 * Drop the in-flight packets @match selects (all when NULL).  The frames
 * stay reserved (ORPHANED) until userspace answers for them or releases
 * the queue.  A packet whose verdict is being applied right now is left to
 * the applier, which drops it on seeing flush_pending (its entry stays
 * readable until the applier clears slot->entry under q->lock).  Atomic
 * context: called under rcu_read_lock by netfilter.
 */
static void nfring_flush(struct nfring_queue *q,
			 bool (*match)(const struct nf_queue_entry *, int),
			 int ifindex)
{
	u32 i;

	spin_lock_bh(&q->lock);
	for (i = 0; i < q->entries; i++) {
		struct nfring_slot *slot = &q->slots[i];

		if (!slot->entry)
			continue;
		if (match && !match(slot->entry, ifindex))
			continue;
		if (slot->state == NFRING_SLOT_APPLYING) {
			/* Its applier drops it (nfring_finish_entry). */
			slot->flush_pending = true;
			continue;
		}
		nfring_drop_entry(slot->entry);
		slot->entry = NULL;
		slot->state = NFRING_SLOT_ORPHANED;
		q->c.in_flight--;
		q->c.flushed++;
	}
	spin_unlock_bh(&q->lock);
}

/* netfilter removed a hook in @net: packets queued from it must go. */
void nfring_hook_drop(struct net *net)
{
	struct nfring_net *nn = nfring_pernet(net);
	struct nfring_queue *q;
	int b;

	/* Also called on netns init unwind, before our pernet data exists. */
	if (!nn)
		return;
	rcu_read_lock();
	for (b = 0; b < NFRING_QUEUE_BUCKETS; b++)
		hlist_for_each_entry_rcu(q, &nn->queues[b], node)
			nfring_flush(q, NULL, 0);
	rcu_read_unlock();
}

static bool nfring_entry_uses_dev(const struct nf_queue_entry *e, int ifindex)
{
	const struct net_device *skb_dev = nfring_entry_skb_dev(e);
	const struct net_device *bridge_dev = nfring_entry_bridge_dev(e);

#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	if (e->physin && e->physin->ifindex == ifindex)
		return true;
	if (e->physout && e->physout->ifindex == ifindex)
		return true;
#endif
	if (bridge_dev && bridge_dev->ifindex == ifindex)
		return true;
	if (skb_dev && skb_dev->ifindex == ifindex)
		return true;
	if (e->state.in && e->state.in->ifindex == ifindex)
		return true;
	if (e->state.out && e->state.out->ifindex == ifindex)
		return true;
	return false;
}

/* A device went down: release the packets holding a reference to it. */
void nfring_dev_down(struct net *net, int ifindex)
{
	struct nfring_net *nn = nfring_pernet(net);
	struct nfring_queue *q;
	int b;

	rcu_read_lock();
	for (b = 0; b < NFRING_QUEUE_BUCKETS; b++)
		hlist_for_each_entry_rcu(q, &nn->queues[b], node)
			nfring_flush(q, nfring_entry_uses_dev, ifindex);
	rcu_read_unlock();
}
