// SPDX-License-Identifier: GPL-2.0
/*
 * A bound queue's lifetime: bind (validation, shared memory), mmap and
 * poll of its regions, counters, and unbind, which gives every packet still
 * in flight its verdict.
 *
 * Trust boundary: the USER region and the frames are written by userspace
 * at any time.  Every field the kernel needs from them is read once
 * (READ_ONCE / smp_load_acquire) into a local, validated, and only the
 * local is used.  Kernel-private state (entries, slots, the free stack)
 * lives in kernel memory only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/pid.h>
#include <linux/vmalloc.h>
#include <linux/capability.h>
#include <linux/user_namespace.h>
#include <net/netfilter/nf_queue.h>

#include "nfring_internal.h"

/* mmap offsets of the three regions (bytes; page aligned). */
#define NFRING_OFF_KERNEL	0x00000000ULL
#define NFRING_OFF_USER		0x10000000ULL
#define NFRING_OFF_FRAMES	0x20000000ULL

static int nfring_validate_bind(const struct nfring_bind *p)
{
	if (p->flags & ~NFRING_BIND_ALL)
		return -EINVAL;
	if (p->resv0)
		return -EINVAL;
	if ((p->flags & (NFRING_BIND_CONNTRACK | NFRING_BIND_UID_GID)) &&
	    !(p->flags & NFRING_BIND_METADATA))
		return -EINVAL;
	if (p->ct_bypass_mark && !nfring_ct_bypass_supported())
		return -EOPNOTSUPP;
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

/*
 * Shared memory is built from order-0 pages allocated with
 * GFP_KERNEL_ACCOUNT, so a worker's rings count against its memory
 * cgroup, then vmap'd for the kernel and inserted into userspace mappings
 * page by page (vm_insert_pages).
 */
static void nfring_region_free(struct nfring_region *r)
{
	unsigned int i;

	if (r->addr)
		vunmap(r->addr);
	for (i = 0; i < r->nr_pages && r->pages; i++)
		if (r->pages[i])
			__free_page(r->pages[i]);
	kvfree(r->pages);
	memset(r, 0, sizeof(*r));
}

static int nfring_region_alloc(struct nfring_region *r, size_t size)
{
	unsigned int i;

	r->size = PAGE_ALIGN(size);
	r->nr_pages = r->size >> PAGE_SHIFT;
	if (!r->nr_pages)
		return 0;
	r->pages = kvcalloc(r->nr_pages, sizeof(*r->pages), GFP_KERNEL_ACCOUNT);
	if (!r->pages)
		return -ENOMEM;
	for (i = 0; i < r->nr_pages; i++) {
		r->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!r->pages[i])
			return -ENOMEM;
		cond_resched();
	}
	r->addr = vmap(r->pages, r->nr_pages, VM_MAP, PAGE_KERNEL);
	return r->addr ? 0 : -ENOMEM;
}

static void nfring_queue_free_mem(struct nfring_queue *q)
{
	nfring_ct_id_put(q);
	nfring_region_free(&q->kmem);
	nfring_region_free(&q->umem);
	nfring_region_free(&q->fmem);
	kvfree(q->slots);
	kvfree(q->free_stack);
	put_pid(q->pid);
	kfree(q);
}

/* Where the metadata array starts in the KERNEL region: after the ring. */
static size_t nfring_meta_off(const struct nfring_queue *q)
{
	return ALIGN(sizeof(struct nfring_kernel_page) +
		     q->entries * sizeof(struct nfring_rx_desc), 64);
}

static int nfring_queue_alloc_mem(struct nfring_queue *q)
{
	u32 i;
	int err;

	err = nfring_region_alloc(&q->kmem, nfring_meta_off(q) +
				  ((q->flags & NFRING_BIND_METADATA) ?
				   q->entries * sizeof(struct nfring_rx_meta) :
				   0));
	if (!err)
		err = nfring_region_alloc(&q->umem,
					  sizeof(struct nfring_user_page) +
					  q->entries * sizeof(struct nfring_verdict));
	if (!err)
		err = nfring_region_alloc(&q->fmem,
					  (size_t)q->entries * q->frame_size);
	if (err)
		return err;
	q->slots = kvcalloc(q->entries, sizeof(*q->slots), GFP_KERNEL_ACCOUNT);
	q->free_stack = kvmalloc_array(q->entries, sizeof(u32),
				       GFP_KERNEL_ACCOUNT);
	if (!q->slots || !q->free_stack)
		return -ENOMEM;

	q->kpage = q->kmem.addr;
	q->upage = q->umem.addr;
	q->frames = q->fmem.addr;
	q->rx_desc = (void *)(q->kpage + 1);
	if (q->flags & NFRING_BIND_METADATA)
		q->meta = q->kmem.addr + nfring_meta_off(q);
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
	struct nfring_queue *q;
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
	q->ct_bypass_mark = p->ct_bypass_mark;
	q->entries = p->ring_entries;
	q->mask = p->ring_entries - 1;
	q->copy_range = p->copy_range;
	q->frame_size = ALIGN(p->copy_range, NFRING_FRAME_ALIGN);
	q->pid = get_pid(task_tgid(current));
	/*
	 * MANGLE hands the stack bytes it will trust.  Only a binder with
	 * CAP_NET_ADMIN over the whole machine may do that; opening the
	 * device needs the capability only in the netns's user namespace.
	 */
	q->mangle_allowed = net->user_ns == &init_user_ns &&
			    ns_capable_noaudit(&init_user_ns, CAP_NET_ADMIN);
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->wait);
	INIT_WORK(&q->reinject_work, nfring_reinject_work);
	nfring_hrtimer_setup(&q->wake_timer, nfring_wake_timer_fn,
			     CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	atomic64_set(&q->timer_wakeups, 0);
	atomic64_set(&q->unsupported, 0);
	atomic64_set(&q->normalize_failed, 0);
	atomic64_set(&q->gso_segmented, 0);
	atomic64_set(&q->gso_failed, 0);
	mutex_init(&q->drain_lock);
	atomic64_set(&q->c.kicks, 0);

	if (q->flags & NFRING_BIND_CONNTRACK)
		nfring_ct_id_get(q);
	err = nfring_queue_alloc_mem(q);
	if (err) {
		nfring_queue_free_mem(q);
		return ERR_PTR(err);
	}

	spin_lock_bh(&nn->lock);
	if (nfring_lookup(nn, q->queue_num)) {
		spin_unlock_bh(&nn->lock);
		nfring_queue_free_mem(q);
		return ERR_PTR(-EBUSY);
	}
	q->net = get_net(net);
	hlist_add_head_rcu(&q->node, &nn->queues[nfring_hash(q->queue_num)]);
	spin_unlock_bh(&nn->lock);

	p->frame_size = q->frame_size;
	p->kernel_off = NFRING_OFF_KERNEL;
	p->kernel_size = q->kmem.size;
	p->user_off = NFRING_OFF_USER;
	p->user_size = q->umem.size;
	p->frames_off = NFRING_OFF_FRAMES;
	p->frames_size = q->fmem.size;
	p->rx_desc_off = sizeof(struct nfring_kernel_page);
	p->vr_desc_off = sizeof(struct nfring_user_page);
	p->meta_off = q->meta ? nfring_meta_off(q) : 0;
	return q;
}

/* Unbind: the default verdict for every packet still in flight. */
static void nfring_queue_default_verdicts(struct nfring_queue *q)
{
	u32 i;

	for (i = 0; i < q->entries; i++) {
		struct nfring_slot *slot = &q->slots[i];
		struct nf_queue_entry *entry;

		spin_lock_bh(&q->lock);
		if (slot->state != NFRING_SLOT_INFLIGHT) {
			spin_unlock_bh(&q->lock);
			continue;
		}
		entry = nfring_take_entry(q, slot);
		spin_unlock_bh(&q->lock);

		rcu_read_lock();
		nfring_finish_entry(q, slot, entry, q->default_verdict, false);
		rcu_read_unlock();

		spin_lock_bh(&q->lock);
		slot->state = NFRING_SLOT_FREE;
		spin_unlock_bh(&q->lock);
		cond_resched();
	}
}

/*
 * The file is gone (worker exit or crash).  Stop enqueues, give every
 * packet still in flight a verdict (what the worker published before it
 * went, else the default), then take the queue off the list and free it.
 *
 * The queue stays on the per-netns list until its last packet is gone, so
 * that hook removal and NETDEV_DOWN keep flushing its packets meanwhile: a
 * packet whose base chain was deleted must never be reinjected with a
 * stale hook index.  Mappings hold the file, so nothing maps the regions
 * any more, and no kick can come.
 */
void nfring_queue_unbind(struct nfring_queue *q)
{
	struct nfring_net *nn = nfring_pernet(q->net);
	u32 avail;

	spin_lock_bh(&q->lock);
	/* outfn checks this under q->lock: nothing is enqueued after it. */
	WRITE_ONCE(q->dead, true);
	spin_unlock_bh(&q->lock);

	/* An outfn that saw the queue alive may have armed the timer. */
	hrtimer_cancel(&q->wake_timer);
	cancel_work_sync(&q->reinject_work);

	mutex_lock(&q->drain_lock);
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
	nfring_queue_default_verdicts(q);
	mutex_unlock(&q->drain_lock);

	spin_lock_bh(&nn->lock);
	hlist_del_rcu(&q->node);
	spin_unlock_bh(&nn->lock);
	/* After this no outfn, flush or /proc reader can still see q. */
	synchronize_rcu();
	WARN_ON_ONCE(q->c.in_flight);

	put_net(q->net);
	nfring_queue_free_mem(q);
}

/*
 * No methods: a page the worker zapped (MADV_DONTNEED) faults back as
 * SIGBUS (no ->fault), never as a fresh page the kernel would not see.
 * Explicit rather than new: mmap_region starts every vma with
 * dummy_vm_ops, which already keeps the rings from looking anonymous to
 * userfaultfd (which WARNs on a shared anonymous vma); bind_errors checks
 * that userfaultfd refuses them.
 */
static const struct vm_operations_struct nfring_vm_ops = {};

int nfring_queue_mmap(struct nfring_queue *q, struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;
	struct nfring_region *r;
	bool read_only = false;
	unsigned long nr;

	switch (off) {
	case NFRING_OFF_KERNEL:
		r = &q->kmem;
		read_only = true;
		break;
	case NFRING_OFF_USER:
		r = &q->umem;
		break;
	case NFRING_OFF_FRAMES:
		r = &q->fmem;
		break;
	default:
		return -EINVAL;
	}
	if (!r->addr || len > r->size)
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
		nfring_vma_flags_clear(vma, VM_MAYWRITE);
	}
	/*
	 * Not inherited by fork, so that a helper the worker forks cannot
	 * write into the rings by accident (a worker can still ask for it
	 * with MADV_DOFORK: its own memory, its choice).  The child still
	 * inherits the file descriptor, which keeps the queue bound (see
	 * docs/datapath.md on when the default verdict fires).
	 */
	nfring_vma_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &nfring_vm_ops;
	nr = len >> PAGE_SHIFT;
	return vm_insert_pages(vma, vma->vm_start, r->pages, &nr);
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
	st->unsupported = atomic64_read(&q->unsupported);
	st->normalize_failed = atomic64_read(&q->normalize_failed);
	st->gso_segmented = atomic64_read(&q->gso_segmented);
	st->gso_failed = atomic64_read(&q->gso_failed);
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
	st->bypass_flows = READ_ONCE(q->c.bypass_flows);
	st->bypass_no_ct = READ_ONCE(q->c.bypass_no_ct);
	st->kicks = atomic64_read(&q->c.kicks);
}

