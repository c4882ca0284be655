/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences nfring has to bridge.  One place, so that the
 * data path stays one code base.
 */
#ifndef _NFRING_COMPAT_H
#define _NFRING_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/* vma->vm_flags became read-only in 6.3 (vm_flags_set/clear). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
static inline void nfring_vma_flags_set(struct vm_area_struct *vma,
					vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

static inline void nfring_vma_flags_clear(struct vm_area_struct *vma,
					  vm_flags_t flags)
{
	vm_flags_clear(vma, flags);
}
#else
static inline void nfring_vma_flags_set(struct vm_area_struct *vma,
					vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void nfring_vma_flags_clear(struct vm_area_struct *vma,
					  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#endif /* _NFRING_COMPAT_H */
