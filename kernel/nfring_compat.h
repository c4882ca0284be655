/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences nfring has to bridge, in one place, so that the
 * data path stays one code base.  The NFRING_HAVE_* macros come from the
 * header probes in Kbuild, which follow the headers actually built against
 * (stable backports included), not the version number.
 */
#ifndef _NFRING_COMPAT_H
#define _NFRING_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/version.h>
#include <net/netfilter/nf_queue.h>
/* skb_gso_segment moved from netdevice.h to its own header in 6.5. */
#if __has_include(<net/gso.h>)
#include <net/gso.h>
#endif

/* vma->vm_flags became read-only in 6.3 (vm_flags_set/clear). */
static inline void nfring_vma_flags_set(struct vm_area_struct *vma,
					vm_flags_t flags)
{
#ifdef NFRING_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void nfring_vma_flags_clear(struct vm_area_struct *vma,
					  vm_flags_t flags)
{
#ifdef NFRING_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/* hrtimer_setup (6.13) sets the callback too; hrtimer_init is gone in 6.15. */
static inline void nfring_hrtimer_setup(struct hrtimer *timer,
					enum hrtimer_restart (*fn)(struct hrtimer *),
					clockid_t clock, enum hrtimer_mode mode)
{
#ifdef NFRING_HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * Devices a queued packet holds references to, besides state.in/out:
 * skb_dev and bridge_dev came with stable fixes, so older builds of a
 * series may lack them.  NULL when the field does not exist.
 */
static inline struct net_device *
nfring_entry_skb_dev(const struct nf_queue_entry *e)
{
#ifdef NFRING_HAVE_ENTRY_SKB_DEV
	return e->skb_dev;
#else
	return NULL;
#endif
}

static inline struct net_device *
nfring_entry_bridge_dev(const struct nf_queue_entry *e)
{
#ifdef NFRING_HAVE_ENTRY_BRIDGE_DEV
	return e->bridge_dev;
#else
	return NULL;
#endif
}

/*
 * nf_ct_hook->update() returned 0 or a negative error up to 6.6; since
 * 6.7 it returns a netfilter verdict (NF_DROP is 0), and a "< 0" test
 * ignores a conntrack drop.  The signature did not change, so no header
 * probe can tell: this one follows the version, and is checked against
 * each supported kernel's nf_conntrack_core.c (Debian's 6.1.y still has
 * the old convention).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define NFRING_CT_UPDATE_RETURNS_VERDICT 1
#endif

#endif /* _NFRING_COMPAT_H */
