// SPDX-License-Identifier: GPL-2.0
/*
 * Conntrack.  Three jobs: the packet's conntrack metadata
 * (NFRING_BIND_CONNTRACK), the unconfirmed-entry checks that queueing
 * needs, and flow bypass (NFRING_VF_BYPASS): OR a queue's ct_bypass_mark into the
 * packet's conntrack mark, so that an nft rule placed before the queue
 * rule (`ct mark & M == M accept`) lets the flow's later packets pass
 * without an upcall.
 *
 * Only the inline helpers of nf_conntrack.h are used, never one of
 * nf_conntrack's symbols, so loading nfring does not load nf_conntrack:
 * without it, or for untracked packets, the skb carries no entry and the
 * bypass is counted as impossible.  For the same reason no ctnetlink event
 * is cached for the change: `conntrack -L` shows the new mark, but
 * `conntrack -E` does not announce it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>

#include "nfring_internal.h"

/*
 * conntrack -L's id is a keyed hash only nf_conntrack can compute
 * (nf_ct_get_id).  Calling it by symbol would make nf_conntrack a
 * dependency of nfring; it is looked up by name instead, at bind, and the
 * reference held until unbind keeps nf_conntrack loaded meanwhile.
 */
#define NFRING_CT_ID_SYMBOL "nf_ct_get_id"

void nfring_ct_id_get(struct nfring_queue *q)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	q->ct_get_id = __symbol_get(NFRING_CT_ID_SYMBOL);
#endif
}

void nfring_ct_id_put(struct nfring_queue *q)
{
	/* By address: a no-op without module unloading, or when built in. */
	if (q->ct_get_id) {
		symbol_put_addr(q->ct_get_id);
		q->ct_get_id = NULL;
	}
}

/* The packet's conntrack fields, as nfnetlink_queue's NFQA_CT(_INFO). */
void nfring_ct_meta(const struct nfring_queue *q, const struct sk_buff *skb,
		    struct nfring_rx_meta *m)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct || nf_ct_is_template(ct))
		return;
	m->valid |= NFRING_META_CT;
	m->ct_info = ctinfo;
	m->ct_status = READ_ONCE(ct->status);
#if IS_ENABLED(CONFIG_NF_CONNTRACK_MARK)
	m->ct_mark = READ_ONCE(ct->mark);
#endif
	/*
	 * Untracked packets never get here: nf_ct_get gives no entry for
	 * them, so they carry no conntrack fields, as in nfnetlink_queue.
	 */
	if (q->ct_get_id) {
		m->valid |= NFRING_META_CT_ID;
		m->ct_id = q->ct_get_id(ct);
	}
#endif
}

/*
 * Does the packet carry a conntrack entry that is not confirmed yet (the
 * first packet of a flow, before it leaves the last hook)?
 */
bool nfring_ct_unconfirmed(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	const struct nf_conn *ct = (const struct nf_conn *)skb_nfct(skb);

	return ct && !nf_ct_is_confirmed(ct);
#else
	return false;
#endif
}

/*
 * An unconfirmed entry that another skb holds too: conntrack assumes one
 * owner until confirmation, so two of its packets must never be in the
 * stack at once (both could touch its extensions; see nfnetlink_queue).
 * Such a packet cannot be queued, and a GSO segment whose entry is still
 * in this state when its verdict comes cannot be reinjected.
 */
bool nfring_ct_unconfirmed_shared(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	struct nf_conn *ct = (struct nf_conn *)skb_nfct(skb);

	if (ct && !nf_ct_is_confirmed(ct))
		return refcount_read(&ct->ct_general.use) > 1;
#endif
	return false;
}

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
