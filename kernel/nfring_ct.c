// SPDX-License-Identifier: GPL-2.0
/*
 * Conntrack.  For now one job, flow bypass (NFRING_VF_BYPASS): OR a
 * queue's ct_bypass_mark into the packet's conntrack mark, so that an nft
 * rule placed before the queue rule (`ct mark & M == M accept`) lets the
 * flow's later packets pass without an upcall.
 *
 * Only the inline helpers of nf_conntrack.h are used, never one of
 * nf_conntrack's symbols, so loading nfring does not load nf_conntrack:
 * without it, or for untracked packets, the skb carries no entry and the
 * bypass is counted as impossible.  For the same reason no ctnetlink event
 * is cached for the change: `conntrack -L` shows the new mark, but
 * `conntrack -E` does not announce it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>

#include "nfring_internal.h"

bool nfring_ct_bypass_supported(void)
{
	return IS_ENABLED(CONFIG_NF_CONNTRACK) &&
	       IS_ENABLED(CONFIG_NF_CONNTRACK_MARK);
}

/*
 * Called from the verdict side with the packet taken (nfring_take_entry),
 * so the skb and its reference on the conntrack entry are ours.  @bits is
 * kernel-private (fixed at bind), never read from shared memory.
 */
enum nfring_ct_bypass nfring_ct_bypass(struct sk_buff *skb, u32 bits)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK) && IS_ENABLED(CONFIG_NF_CONNTRACK_MARK)
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	u32 old;

	/* Untracked packets have no entry; a template is not a flow. */
	if (!ct || nf_ct_is_template(ct))
		return NFRING_CT_BYPASS_NO_CT;
	/*
	 * Unlocked read-modify-write, as nft's `ct mark set` does: a mark
	 * written by another CPU at the same instant may be lost, never
	 * memory.
	 */
	old = READ_ONCE(ct->mark);
	if ((old & bits) == bits)
		return NFRING_CT_BYPASS_ALREADY;
	WRITE_ONCE(ct->mark, old | bits);
	return NFRING_CT_BYPASS_SET;
#else
	return NFRING_CT_BYPASS_NO_CT;
#endif
}
