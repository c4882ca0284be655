// SPDX-License-Identifier: GPL-2.0
/*
 * One bound queue: its shared rings, the enqueue path (netfilter's outfn,
 * softirq), the reinject work that applies verdicts (process context), the
 * flushes netfilter asks for, and teardown.
 *
 * Trust boundary: the USER region and the frames are written by userspace
 * at any time.  Every field the kernel needs from them is read once
 * (READ_ONCE / smp_load_acquire) into a local, validated, and only the
 * local is used.  Frame contents are only ever copied into an skb (mangle)
 * with a validated length.  Kernel-private state (entries, slots, the free
 * stack) lives in kernel memory only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_bridge.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_queue.h>

#include "nfring_internal.h"

/* mmap offsets of the three regions (bytes; page aligned). */
#define NFRING_OFF_KERNEL	0x00000000ULL
#define NFRING_OFF_USER		0x10000000ULL
#define NFRING_OFF_FRAMES	0x20000000ULL

/*
 * Verdicts handled per RCU section, and per run of the work before it
 * requeues itself so that other work items and softirqs get a turn.
 */
#define NFRING_VERDICT_BATCH	64
#define NFRING_WORK_BUDGET	4096

static u32 nfring_hash(u16 queue_num)
{
	return queue_num % NFRING_QUEUE_BUCKETS;
}

/* Caller holds rcu_read_lock (netfilter hooks always do). */
static struct nfring_queue *nfring_lookup_rcu(struct nfring_net *nn,
					      u16 queue_num)
{
	struct nfring_queue *q;

	hlist_for_each_entry_rcu(q, &nn->queues[nfring_hash(queue_num)], node)
		if (q->queue_num == queue_num)
			return q;
	return NULL;
}

/*
 * Frees a packet without continuing hook traversal.  nf_reinject(NF_DROP)
 * would look the hook up first and warn if it was just removed, which is
 * exactly when hook_drop flushes; dropping needs no hook.
 */
static void nfring_drop_entry(struct nf_queue_entry *entry)
{
	kfree_skb(entry->skb);
	nf_queue_entry_free(entry);
}

/*
 * Continue hook traversal with @verdict, as nfnetlink_queue does: on
 * accept, conntrack may need to attach/confirm (the ct hook's update).
 * Caller holds rcu_read_lock, as nf_reinject requires on 6.1.
 */
static void nfring_reinject(struct nf_queue_entry *entry, unsigned int verdict)
{
	const struct nf_ct_hook *ct_hook;

	if (verdict == NF_DROP) {
		nfring_drop_entry(entry);
		return;
	}
	ct_hook = rcu_dereference(nf_ct_hook);
	if (ct_hook && ct_hook->update(entry->state.net, entry->skb) < 0) {
		nfring_drop_entry(entry);
		return;
	}
	nf_reinject(entry, verdict);
}

/*
 * An unconfirmed conntrack entry shared with another skb cannot be queued:
 * both could touch its extensions at once (see nfnetlink_queue).
 */
static bool nfring_ct_shared_unconfirmed(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	struct nf_conn *ct = (struct nf_conn *)skb_nfct(skb);

	if (ct && !nf_ct_is_confirmed(ct))
		return refcount_read(&ct->ct_general.use) > 1;
#endif
	return false;
}

/*
 * Bridged packets (pf bridge, or IPv4/6 through br_netfilter) need the
 * bridge port checks nfnetlink_queue does on reinject; not supported yet.
 */
static bool nfring_family_supported(const struct nf_queue_entry *entry)
{
	if (entry->state.pf != NFPROTO_IPV4 && entry->state.pf != NFPROTO_IPV6)
		return false;
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	if (entry->physin || entry->physout || entry->bridge_dev)
		return false;
#endif
	return true;
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
	d->hw_protocol = (__force u16)skb->protocol;
	d->pf = entry->state.pf;
	d->hook = entry->state.hook;
	d->queue_num = q->queue_num;
	d->flags = flags;
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
static enum hrtimer_restart nfring_wake_timer_fn(struct hrtimer *t)
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
 * netfilter's outfn.  Softirq or process context with rcu_read_lock held;
 * never sleeps, never allocates.  Returning an error makes nf_queue free
 * the entry: -ESRCH accepts with the rule's bypass flag, anything else
 * drops.  Per packet: one spinlock, one copy of up to copy_range bytes,
 * one release store and one full barrier (W2).
 */
int nfring_outfn(struct nf_queue_entry *entry, unsigned int queuenum)
{
	struct nfring_net *nn = nfring_pernet(entry->state.net);
	struct sk_buff *skb = entry->skb;
	struct nfring_queue *q;
	struct nfring_slot *slot;
	u32 frame, gen, cap_len;
	bool wake;

	q = nfring_lookup_rcu(nn, queuenum);
	if (!q) {
		atomic64_inc(&nn->no_worker);
		return -ESRCH;
	}

	if (!nfring_family_supported(entry)) {
		spin_lock_bh(&q->lock);
		q->c.unsupported++;
		spin_unlock_bh(&q->lock);
		return -EPROTONOSUPPORT;
	}
	if (nfring_ct_shared_unconfirmed(skb))
		return -EINVAL;

	spin_lock_bh(&q->lock);
	if (unlikely(q->dead)) {
		spin_unlock_bh(&q->lock);
		atomic64_inc(&nn->no_worker);
		return -ESRCH;
	}
	if (!q->nr_free || !nfring_rx_has_room(q)) {
		if (q->flags & NFRING_BIND_FAIL_OPEN) {
			q->c.fail_open++;
			spin_unlock_bh(&q->lock);
			nfring_reinject(entry, NF_ACCEPT);
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

	cap_len = min_t(u32, skb->len, q->copy_range);
	if (cap_len &&
	    skb_copy_bits(skb, 0, q->frames + (size_t)frame * q->frame_size,
			  cap_len))
		cap_len = 0;	/* cannot happen for cap_len <= skb->len */

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

/* Push frames whose verdict has been applied back on the free stack. */
static void nfring_free_frames(struct nfring_queue *q, const u32 *frames,
			       unsigned int n)
{
	unsigned int i;

	if (!n)
		return;
	spin_lock_bh(&q->lock);
	for (i = 0; i < n; i++) {
		q->slots[frames[i]].state = NFRING_SLOT_FREE;
		q->free_stack[q->nr_free++] = frames[i];
	}
	spin_unlock_bh(&q->lock);
}

/*
 * Replace the packet with @len bytes at @data (a frame in shared memory;
 * it may change under us, which only changes the packet's bytes).
 */
static int nfring_mangle(struct nf_queue_entry *e, const u8 *data, u32 len)
{
	struct sk_buff *skb = e->skb;
	unsigned int min_len = e->state.pf == NFPROTO_IPV4 ?
			       sizeof(struct iphdr) : sizeof(struct ipv6hdr);

	if (skb_is_gso(skb) || len < min_len || len > 0xffff)
		return -EINVAL;

	if (len < skb->len) {
		if (pskb_trim(skb, len))
			return -ENOMEM;
	} else if (len > skb->len) {
		unsigned int grow = len - skb->len;

		if (grow > skb_tailroom(skb)) {
			struct sk_buff *nskb;

			nskb = skb_copy_expand(skb, skb_headroom(skb), grow,
					       GFP_ATOMIC);
			if (!nskb)
				return -ENOMEM;
			kfree_skb(skb);
			skb = nskb;
			e->skb = skb;
		}
		skb_put(skb, grow);
	}
	if (skb_ensure_writable(skb, len))
		return -ENOMEM;
	skb_copy_to_linear_data(skb, data, len);
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/*
 * Apply one verdict, already copied out of shared memory.  Returns true
 * when the frame is to be freed by the caller (after the batch).
 */
static bool nfring_apply_verdict(struct nfring_queue *q,
				 const struct nfring_verdict *v)
{
	u32 frame = lower_32_bits(v->id);
	u32 gen = upper_32_bits(v->id);
	struct nf_queue_entry *entry;
	struct nfring_slot *slot;
	unsigned int verdict = v->verdict;

	if (frame >= q->entries || !gen)
		goto invalid;
	if (verdict != NFRING_ACCEPT && verdict != NFRING_DROP &&
	    verdict != NFRING_REPEAT)
		goto invalid;
	if (v->flags & ~NFRING_VF_ALL)
		goto invalid;
	/* Fields that mean nothing without their flag must be zero. */
	if (!(v->flags & NFRING_VF_SET_MARK) && v->mark)
		goto invalid;
	if (!(v->flags & NFRING_VF_MANGLE) && v->new_len)
		goto invalid;
	if ((v->flags & NFRING_VF_MANGLE) &&
	    (!v->new_len || v->new_len > q->frame_size))
		goto invalid;

	spin_lock_bh(&q->lock);
	slot = &q->slots[frame];
	if (slot->gen != gen) {
		spin_unlock_bh(&q->lock);
		goto invalid;
	}
	switch (slot->state) {
	case NFRING_SLOT_INFLIGHT:
		entry = slot->entry;
		slot->entry = NULL;
		slot->state = NFRING_SLOT_APPLYING;
		q->c.in_flight--;
		spin_unlock_bh(&q->lock);
		break;
	case NFRING_SLOT_ORPHANED:
		/*
		 * The packet was flushed; its frame is free only now.  Mark
		 * it taken so that a duplicate in this batch cannot free it
		 * twice.
		 */
		slot->state = NFRING_SLOT_APPLYING;
		spin_unlock_bh(&q->lock);
		return true;
	default:
		/* Free (duplicate verdict) or being applied right now. */
		spin_unlock_bh(&q->lock);
		goto invalid;
	}

	if (v->flags & NFRING_VF_SET_MARK) {
		entry->skb->mark = v->mark;
		q->c.marked++;
	}
	if (v->flags & NFRING_VF_MANGLE) {
		if (nfring_mangle(entry,
				  q->frames + (size_t)frame * q->frame_size,
				  v->new_len)) {
			q->c.mangle_failed++;
			verdict = NF_DROP;
		} else {
			q->c.mangled++;
		}
	}
	switch (verdict) {
	case NFRING_ACCEPT:
		q->c.accepted++;
		break;
	case NFRING_REPEAT:
		q->c.repeated++;
		break;
	default:
		q->c.dropped++;
		break;
	}
	nfring_reinject(entry, verdict);
	return true;

invalid:
	q->c.invalid++;
	return false;
}

/*
 * Apply the next @n (<= NFRING_VERDICT_BATCH) verdicts, already known to
 * be published (F), then hand their slots back (G) and free their frames.
 */
static void nfring_apply_batch(struct nfring_queue *q, u32 n)
{
	u32 freed[NFRING_VERDICT_BATCH];
	unsigned int i, nfreed = 0;

	rcu_read_lock();
	for (i = 0; i < n; i++) {
		const struct nfring_verdict *sv =
			&q->vr_desc[(q->vr_cons + i) & q->mask];
		struct nfring_verdict v;

		/* Each field exactly once; only the copy is used. */
		v.id = READ_ONCE(sv->id);
		v.verdict = READ_ONCE(sv->verdict);
		v.flags = READ_ONCE(sv->flags);
		v.mark = READ_ONCE(sv->mark);
		v.new_len = READ_ONCE(sv->new_len);
		if (nfring_apply_verdict(q, &v))
			freed[nfreed++] = lower_32_bits(v.id);
	}
	rcu_read_unlock();
	q->vr_cons += n;
	/* (G) pairs with (H): our reads of the slots are done. */
	smp_store_release(&q->kpage->vr_consumer, q->vr_cons);
	nfring_free_frames(q, freed, nfreed);
}

/*
 * Drains the verdict ring.  Process context, under drain_lock: from the
 * worker's kick, or from the work item when a drain ran out of budget.
 * Per verdict: one 24-byte read of shared memory, one spinlock round trip
 * to detach the entry, nf_reinject; frames go back in one lock per batch.
 */
static void nfring_drain_verdicts(struct nfring_queue *q)
{
	unsigned int done = 0;

	lockdep_assert_held(&q->drain_lock);

	/* Awake: userspace need not kick while we run (K2 reads this). */
	WRITE_ONCE(q->kpage->flags, 0);

	for (;;) {
		u32 prod, avail, n;

		/* (F) pairs with (E): index before the descriptors. */
		prod = smp_load_acquire(&q->upage->vr_producer);
		avail = prod - q->vr_cons;
		if (unlikely(avail > q->entries)) {
			/*
			 * No honest producer gets more than a ring ahead of
			 * us.  Skip to its index: the entries in between are
			 * not trustworthy, and packets they would have
			 * answered stay in flight until a valid verdict or
			 * release.  Then sleep until the next kick, so that a
			 * producer rewritten in a loop cannot keep us here.
			 */
			q->c.invalid++;
			q->vr_cons = prod;
			/* (G) pairs with (H), as below. */
			smp_store_release(&q->kpage->vr_consumer, q->vr_cons);
			WRITE_ONCE(q->kpage->flags, NFRING_KF_NEED_KICK);
			return;
		}
		if (!avail) {
			WRITE_ONCE(q->kpage->flags, NFRING_KF_NEED_KICK);
			/* (K1) pairs with (K2): flag store before re-check. */
			smp_mb();
			if (READ_ONCE(q->upage->vr_producer) == q->vr_cons)
				break;
			WRITE_ONCE(q->kpage->flags, 0);
			/* A producer that keeps moving still costs budget. */
			done++;
			goto next;
		}

		n = min_t(u32, avail, NFRING_VERDICT_BATCH);
		nfring_apply_batch(q, n);
		done += n;
next:
		if (done >= NFRING_WORK_BUDGET) {
			/* Flag stays clear: we come back without a kick. */
			queue_work(nfring_wq, &q->reinject_work);
			return;
		}
		cond_resched();
	}
}

static void nfring_reinject_work(struct work_struct *work)
{
	struct nfring_queue *q = container_of(work, struct nfring_queue,
					      reinject_work);

	mutex_lock(&q->drain_lock);
	nfring_drain_verdicts(q);
	mutex_unlock(&q->drain_lock);
}

/*
 * A kick from the worker (ioctl or write, process context).  The verdicts
 * are applied right here, in the worker's own syscall: no kworker wake-up
 * and context switch per batch, which is what NFQUEUE's sendmsg path costs
 * too.  If a drain is already running (the work item after a budget
 * break), it will see the new verdicts; the work is queued to be sure.
 */
void nfring_queue_kick(struct nfring_queue *q)
{
	atomic64_inc(&q->c.kicks);
	if (mutex_trylock(&q->drain_lock)) {
		nfring_drain_verdicts(q);
		mutex_unlock(&q->drain_lock);
	} else {
		queue_work(nfring_wq, &q->reinject_work);
	}
}

/*
 * Drop the in-flight packets @match selects (all when NULL).  The frames
 * stay reserved (ORPHANED) until userspace answers for them or releases
 * the queue.  Atomic context: called under rcu_read_lock by netfilter.
 */
static void nfring_flush(struct nfring_queue *q,
			 bool (*match)(const struct nf_queue_entry *, int),
			 int ifindex)
{
	u32 i;

	spin_lock_bh(&q->lock);
	for (i = 0; i < q->entries; i++) {
		struct nfring_slot *slot = &q->slots[i];

		if (slot->state != NFRING_SLOT_INFLIGHT)
			continue;
		if (match && !match(slot->entry, ifindex))
			continue;
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
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	if (e->physin && e->physin->ifindex == ifindex)
		return true;
	if (e->physout && e->physout->ifindex == ifindex)
		return true;
	if (e->bridge_dev && e->bridge_dev->ifindex == ifindex)
		return true;
#endif
	if (e->skb_dev && e->skb_dev->ifindex == ifindex)
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

static int nfring_validate_bind(const struct nfring_bind *p)
{
	if (p->flags & ~NFRING_BIND_ALL)
		return -EINVAL;
	if (p->resv0 || p->resv1)
		return -EINVAL;
	if (!is_power_of_2(p->ring_entries) ||
	    p->ring_entries < NFRING_MIN_RING_ENTRIES ||
	    p->ring_entries > NFRING_MAX_RING_ENTRIES)
		return -EINVAL;
	if (p->copy_range > NFRING_MAX_COPY_RANGE)
		return -EINVAL;
	if (p->default_verdict != NFRING_ACCEPT &&
	    p->default_verdict != NFRING_DROP)
		return -EINVAL;
	if ((u64)p->ring_entries * ALIGN(p->copy_range, NFRING_FRAME_ALIGN) >
	    NFRING_MAX_FRAMES_BYTES)
		return -E2BIG;
	return 0;
}

static void nfring_queue_free_mem(struct nfring_queue *q)
{
	vfree(q->kpage);
	vfree(q->upage);
	vfree(q->frames);
	kvfree(q->slots);
	kvfree(q->free_stack);
	kfree(q);
}

static int nfring_queue_alloc_mem(struct nfring_queue *q)
{
	u32 i;

	q->kernel_size = PAGE_ALIGN(sizeof(struct nfring_kernel_page) +
				    q->entries * sizeof(struct nfring_rx_desc));
	q->user_size = PAGE_ALIGN(sizeof(struct nfring_user_page) +
				  q->entries * sizeof(struct nfring_verdict));
	q->frames_size = PAGE_ALIGN((size_t)q->entries * q->frame_size);

	/* vmalloc_user: zeroed, and marked for remap_vmalloc_range. */
	q->kpage = vmalloc_user(q->kernel_size);
	q->upage = vmalloc_user(q->user_size);
	if (q->frames_size)
		q->frames = vmalloc_user(q->frames_size);
	q->slots = kvcalloc(q->entries, sizeof(*q->slots), GFP_KERNEL_ACCOUNT);
	q->free_stack = kvmalloc_array(q->entries, sizeof(u32),
				       GFP_KERNEL_ACCOUNT);
	if (!q->kpage || !q->upage || (q->frames_size && !q->frames) ||
	    !q->slots || !q->free_stack)
		return -ENOMEM;

	q->rx_desc = (void *)(q->kpage + 1);
	q->vr_desc = (void *)(q->upage + 1);
	/* Lowest frame first off the stack. */
	for (i = 0; i < q->entries; i++)
		q->free_stack[i] = q->entries - 1 - i;
	q->nr_free = q->entries;
	/* The reinject work starts idle: the first verdicts need a kick. */
	q->kpage->flags = NFRING_KF_NEED_KICK;
	return 0;
}

struct nfring_queue *nfring_queue_bind(struct net *net, struct nfring_bind *p)
{
	struct nfring_net *nn = nfring_pernet(net);
	struct nfring_queue *q, *other;
	int err;

	err = nfring_validate_bind(p);
	if (err)
		return ERR_PTR(err);

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);
	q->queue_num = p->queue_num;
	q->flags = p->flags;
	q->default_verdict = p->default_verdict;
	q->entries = p->ring_entries;
	q->mask = p->ring_entries - 1;
	q->copy_range = p->copy_range;
	q->frame_size = ALIGN(p->copy_range, NFRING_FRAME_ALIGN);
	q->pid = task_tgid_nr(current);
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->wait);
	INIT_WORK(&q->reinject_work, nfring_reinject_work);
	hrtimer_init(&q->wake_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	q->wake_timer.function = nfring_wake_timer_fn;
	atomic64_set(&q->timer_wakeups, 0);
	mutex_init(&q->drain_lock);
	atomic64_set(&q->c.kicks, 0);

	err = nfring_queue_alloc_mem(q);
	if (err) {
		nfring_queue_free_mem(q);
		return ERR_PTR(err);
	}

	spin_lock_bh(&nn->lock);
	other = nfring_lookup_rcu(nn, q->queue_num);
	if (other) {
		spin_unlock_bh(&nn->lock);
		nfring_queue_free_mem(q);
		return ERR_PTR(-EBUSY);
	}
	q->net = get_net(net);
	hlist_add_head_rcu(&q->node, &nn->queues[nfring_hash(q->queue_num)]);
	spin_unlock_bh(&nn->lock);

	p->frame_size = q->frame_size;
	p->kernel_off = NFRING_OFF_KERNEL;
	p->kernel_size = q->kernel_size;
	p->user_off = NFRING_OFF_USER;
	p->user_size = q->user_size;
	p->frames_off = NFRING_OFF_FRAMES;
	p->frames_size = q->frames_size;
	p->rx_desc_off = sizeof(struct nfring_kernel_page);
	p->vr_desc_off = sizeof(struct nfring_user_page);
	return q;
}

/*
 * The file is gone (worker exit or crash): stop enqueues, wait out every
 * outfn and the reinject work, give each packet still in flight the
 * default verdict, free everything.  Mappings hold the file, so nothing
 * maps the regions any more.
 */
void nfring_queue_unbind(struct nfring_queue *q)
{
	struct nfring_net *nn = nfring_pernet(q->net);
	u32 i, avail;

	spin_lock_bh(&nn->lock);
	hlist_del_rcu(&q->node);
	spin_unlock_bh(&nn->lock);

	spin_lock_bh(&q->lock);
	q->dead = true;
	spin_unlock_bh(&q->lock);

	/* After this no outfn, hook_drop or dev_down can still see q. */
	synchronize_rcu();
	hrtimer_cancel(&q->wake_timer);
	cancel_work_sync(&q->reinject_work);

	/*
	 * Verdicts published just before exit still count: apply what is on
	 * the ring (at most one ring's worth; a garbage producer gets none).
	 */
	avail = smp_load_acquire(&q->upage->vr_producer) - q->vr_cons; /* (F) */
	if (avail <= q->entries) {
		while (avail) {
			u32 n = min_t(u32, avail, NFRING_VERDICT_BATCH);

			nfring_apply_batch(q, n);
			avail -= n;
			cond_resched();
		}
	}

	for (i = 0; i < q->entries; i++) {
		struct nfring_slot *slot = &q->slots[i];

		if (slot->state != NFRING_SLOT_INFLIGHT)
			continue;
		rcu_read_lock();
		nfring_reinject(slot->entry, q->default_verdict);
		rcu_read_unlock();
		if (q->default_verdict == NFRING_ACCEPT)
			q->c.accepted++;
		else
			q->c.dropped++;
		slot->entry = NULL;
		slot->state = NFRING_SLOT_FREE;
		q->c.in_flight--;
		cond_resched();
	}
	WARN_ON_ONCE(q->c.in_flight);

	put_net(q->net);
	nfring_queue_free_mem(q);
}

int nfring_queue_mmap(struct nfring_queue *q, struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;
	bool read_only = false;
	size_t size;
	void *mem;

	switch (off) {
	case NFRING_OFF_KERNEL:
		mem = q->kpage;
		size = q->kernel_size;
		read_only = true;
		break;
	case NFRING_OFF_USER:
		mem = q->upage;
		size = q->user_size;
		break;
	case NFRING_OFF_FRAMES:
		mem = q->frames;
		size = q->frames_size;
		break;
	default:
		return -EINVAL;
	}
	if (!mem || len > size)
		return -EINVAL;
	/*
	 * A private mapping would copy on write: the kernel would not see
	 * userspace's indices.
	 */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (read_only) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	return remap_vmalloc_range(vma, mem, 0);
}

__poll_t nfring_queue_poll(struct nfring_queue *q, struct file *file,
			   poll_table *wait)
{
	poll_wait(file, &q->wait, wait);
	/* Readable while the RX ring holds packets userspace has not consumed. */
	if (READ_ONCE(q->kpage->rx_producer) !=
	    READ_ONCE(q->upage->rx_consumer))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

void nfring_queue_stats(struct nfring_queue *q, struct nfring_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->queue_num = q->queue_num;
	spin_lock_bh(&q->lock);
	st->enqueued = q->c.enqueued;
	st->ring_full = q->c.ring_full;
	st->fail_open = q->c.fail_open;
	st->wakeups = q->c.wakeups + atomic64_read(&q->timer_wakeups);
	st->flushed = q->c.flushed;
	st->unsupported = q->c.unsupported;
	st->in_flight = q->c.in_flight;
	spin_unlock_bh(&q->lock);
	/* Written by the reinject work only; a racy snapshot is fine. */
	st->accepted = READ_ONCE(q->c.accepted);
	st->dropped = READ_ONCE(q->c.dropped);
	st->repeated = READ_ONCE(q->c.repeated);
	st->marked = READ_ONCE(q->c.marked);
	st->mangled = READ_ONCE(q->c.mangled);
	st->invalid = READ_ONCE(q->c.invalid);
	st->mangle_failed = READ_ONCE(q->c.mangle_failed);
	st->kicks = atomic64_read(&q->c.kicks);
}
