// SPDX-License-Identifier: GPL-2.0
/*
 * The verdict side of a bound queue: draining the verdict ring in the
 * worker's kick or the reinject work (process context), applying each
 * verdict (mark, mangle) and continuing hook traversal.
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
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_queue.h>

#include "nfring_internal.h"

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
 * Take the packet of @slot for applying a verdict: INFLIGHT -> APPLYING.
 * From here until nfring_finish_entry, flushes cannot free it; they set
 * flush_pending instead.  Caller holds q->lock.
 */
struct nf_queue_entry *nfring_take_entry(struct nfring_queue *q,
					 struct nfring_slot *slot)
{
	struct nf_queue_entry *entry = slot->entry;

	lockdep_assert_held(&q->lock);
	/* slot->entry stays, read-only, for flushes to match devices. */
	slot->state = NFRING_SLOT_APPLYING;
	slot->flush_pending = false;
	q->c.in_flight--;
	return entry;
}

static void nfring_count_bypass(struct nfring_queue *q,
				enum nfring_ct_bypass r)
{
	/* NFRING_CT_BYPASS_ALREADY (more packets of a bypassed flow that
	 * were in flight) is not counted: bypass_flows counts flows. */
	if (r == NFRING_CT_BYPASS_SET)
		q->c.bypass_flows++;
	else if (r == NFRING_CT_BYPASS_NO_CT)
		q->c.bypass_no_ct++;
}

/*
 * Continue hook traversal for a packet taken with nfring_take_entry, and
 * count the outcome.  If netfilter flushed the queue while we held the
 * packet (its hook may be gone), it is dropped as the flush would have.
 * Caller holds rcu_read_lock; the frame stays APPLYING until the caller
 * frees it.
 */
void nfring_finish_entry(struct nfring_queue *q, struct nfring_slot *slot,
			 struct nf_queue_entry *entry, unsigned int verdict,
			 bool bypass)
{
	bool flushed;

	spin_lock_bh(&q->lock);
	/* From here on no flush looks at the entry. */
	slot->entry = NULL;
	flushed = slot->flush_pending;
	if (flushed)
		q->c.flushed++;
	spin_unlock_bh(&q->lock);
	if (flushed) {
		nfring_drop_entry(entry);
		return;
	}
	/*
	 * A later GSO segment whose shared entry no sibling has confirmed
	 * (the first segment was dropped, or is still in flight): conntrack
	 * would meet two owners of an unconfirmed entry.  As nfnetlink_queue,
	 * drop it.
	 */
	if (slot->ct_shared_seg && verdict != NF_DROP &&
	    nfring_ct_unconfirmed_shared(entry->skb))
		verdict = NF_DROP;
	/* Only now: a flushed, dropped packet must not open its flow. */
	if (bypass && verdict == NF_ACCEPT)
		nfring_count_bypass(q, nfring_ct_bypass(entry->skb,
							q->ct_bypass_mark));

	switch (nfring_reinject(entry, &slot->queued_by, verdict)) {
	case NF_ACCEPT:
		q->c.accepted++;
		break;
	case NF_REPEAT:
		q->c.repeated++;
		break;
	default:
		/* NF_DROP, or NF_STOLEN: conntrack kept the packet back. */
		q->c.dropped++;
		break;
	}
}

/*
 * The fields of a verdict besides its id.  Returns the verdict to apply,
 * or -EINVAL.
 */
static int nfring_check_verdict(const struct nfring_queue *q,
				const struct nfring_verdict *v)
{
	if (v->verdict != NFRING_ACCEPT && v->verdict != NFRING_DROP &&
	    v->verdict != NFRING_REPEAT)
		return -EINVAL;
	if (v->flags & ~NFRING_VF_ALL)
		return -EINVAL;
	/* Fields that mean nothing without their flag must be zero. */
	if (!(v->flags & NFRING_VF_SET_MARK) && v->mark)
		return -EINVAL;
	if (!(v->flags & NFRING_VF_MANGLE) && v->new_len)
		return -EINVAL;
	if ((v->flags & NFRING_VF_MANGLE) &&
	    (!v->new_len || v->new_len > q->frame_size))
		return -EINVAL;
	/* A dropped packet must never open its flow to the bypass rule. */
	if ((v->flags & NFRING_VF_BYPASS) &&
	    (v->verdict != NFRING_ACCEPT || !q->ct_bypass_mark))
		return -EINVAL;
	return v->verdict;
}

/*
 * Apply one verdict, already copied out of shared memory.  Returns true
 * when the frame is to be freed by the caller (after the batch).
 *
 * A verdict whose id names a live packet but is otherwise invalid drops
 * that packet (counted in invalid and dropped): it must not stay pinned
 * until release, where a buggy worker would fill the ring with them.
 * A verdict whose id names no live packet is counted and skipped.
 */
static bool nfring_apply_verdict(struct nfring_queue *q,
				 const struct nfring_verdict *v)
{
	u32 frame = lower_32_bits(v->id);
	u32 gen = upper_32_bits(v->id);
	struct nf_queue_entry *entry;
	struct nfring_slot *slot;
	int verdict;

	if (frame >= q->entries || !gen)
		goto invalid;

	spin_lock_bh(&q->lock);
	slot = &q->slots[frame];
	if (slot->gen != gen) {
		spin_unlock_bh(&q->lock);
		goto invalid;
	}
	switch (slot->state) {
	case NFRING_SLOT_INFLIGHT:
		entry = nfring_take_entry(q, slot);
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

	verdict = nfring_check_verdict(q, v);
	if (verdict < 0) {
		q->c.invalid++;
		verdict = NF_DROP;
	} else {
		if (v->flags & NFRING_VF_SET_MARK) {
			entry->skb->mark = v->mark;
			q->c.marked++;
		}
		if (v->flags & NFRING_VF_MANGLE) {
			if (nfring_mangle(q, entry,
					  q->frames + (size_t)frame * q->frame_size,
					  v->new_len)) {
				q->c.mangle_failed++;
				verdict = NF_DROP;
			} else {
				q->c.mangled++;
			}
		}
	}
	nfring_finish_entry(q, slot, entry, verdict,
			    v->flags & NFRING_VF_BYPASS);
	return true;

invalid:
	q->c.invalid++;
	return false;
}

/*
 * Apply the next @n (<= NFRING_VERDICT_BATCH) verdicts, already known to
 * be published (F), then hand their slots back (G) and free their frames.
 */
void nfring_apply_batch(struct nfring_queue *q, u32 n)
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

void nfring_reinject_work(struct work_struct *work)
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

