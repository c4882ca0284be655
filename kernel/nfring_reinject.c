// SPDX-License-Identifier: GPL-2.0
/*
 * Continuing hook traversal for a packet whose verdict is known: the bridge
 * port and conntrack checks nfnetlink_queue makes, then the kernel's
 * nf_reinject where it is exported (up to 6.8), or our own traversal where
 * it is not (6.9 made it static in nfnetlink_queue.c).  Our own one uses
 * exported symbols and inline helpers only: the hook entries from
 * net->nf.hooks_ipv4/6, nf_hook_entry_hookfn, ip(6)_route_me_harder,
 * nf_queue and nf_queue_entry_free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_queue.h>

#include "nfring_internal.h"

/*
 * Frees a packet without continuing hook traversal.  nf_reinject(NF_DROP)
 * would look the hook up first and warn if it was just removed, which is
 * exactly when hook_drop flushes; dropping needs no hook.
 */
void nfring_drop_entry(struct nf_queue_entry *entry)
{
	kfree_skb(entry->skb);
	nf_queue_entry_free(entry);
}

/*
 * A packet that br_netfilter passed through the IP hooks holds its bridge
 * ports; a port may have left the bridge while the packet was queued, and
 * its rx_handler_data is then no bridge port any more.  As
 * nfnetlink_queue: such a packet is dropped.
 */
static bool nfring_bridge_ports_valid(const struct nf_queue_entry *e)
{
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	if (e->physin && !netif_is_bridge_port(e->physin))
		return false;
	if (e->physout && !netif_is_bridge_port(e->physout))
		return false;
#endif
	return true;
}

/*
 * Conntrack's last word on an accepted packet (attach, confirm, helpers).
 * Returns NF_ACCEPT to go on, NF_DROP, or NF_STOLEN when conntrack took
 * the skb (the entry must still be freed).
 */
static unsigned int nfring_ct_update(struct nf_queue_entry *entry)
{
	const struct nf_ct_hook *ct_hook = rcu_dereference(nf_ct_hook);
	int ret;

	if (!ct_hook)
		return NF_ACCEPT;
	ret = ct_hook->update(entry->state.net, entry->skb);
#ifdef NFRING_CT_UPDATE_RETURNS_VERDICT
	switch ((unsigned int)ret & NF_VERDICT_MASK) {
	case NF_ACCEPT:
		return NF_ACCEPT;
	case NF_STOLEN:
		return NF_STOLEN;
	default:
		return NF_DROP;
	}
#else
	return ret < 0 ? NF_DROP : NF_ACCEPT;
#endif
}

/* The hooks of the packet's family at its hook point; RCU protected. */
static const struct nf_hook_entries *
nfring_hook_entries(const struct nf_queue_entry *entry)
{
	const struct net *net = entry->state.net;
	unsigned int hook = entry->state.hook;

	/* nfring queues IPv4 and IPv6 only (nfring_family_supported). */
	switch (entry->state.pf) {
	case NFPROTO_IPV4:
		if (hook >= ARRAY_SIZE(net->nf.hooks_ipv4))
			return NULL;
		return rcu_dereference(net->nf.hooks_ipv4[hook]);
	case NFPROTO_IPV6:
		if (hook >= ARRAY_SIZE(net->nf.hooks_ipv6))
			return NULL;
		return rcu_dereference(net->nf.hooks_ipv6[hook]);
	default:
		return NULL;
	}
}

/*
 * Which hook entry queued @entry: called from the queue handler, inside
 * the hook traversal, under its RCU read section.
 */
void nfring_hook_id_get(const struct nf_queue_entry *entry,
			struct nfring_hook_id *id)
{
	const struct nf_hook_entries *hooks = nfring_hook_entries(entry);

	id->hook = NULL;
	id->priv = NULL;
	if (hooks && entry->hook_index < hooks->num_hook_entries) {
		id->hook = hooks->hooks[entry->hook_index].hook;
		id->priv = hooks->hooks[entry->hook_index].priv;
	}
}

/*
 * Is the hook that queued the packet still at its index of @hooks?  NULL
 * @id: not known (reinjected from the queue handler itself).  Under RCU.
 */
static bool nfring_queueing_hook_in(const struct nf_hook_entries *hooks,
				    const struct nf_queue_entry *entry,
				    const struct nfring_hook_id *id)
{
	unsigned int i = entry->hook_index;

	if (!hooks || i >= hooks->num_hook_entries)
		return false;
	return !id || (READ_ONCE(hooks->hooks[i].hook) == id->hook &&
		       hooks->hooks[i].priv == id->priv);
}

#ifndef NFRING_HAVE_NF_REINJECT
/*
 * A LOCAL_OUT packet whose routing keys (addresses, mark, TOS) changed
 * while queued, by our MANGLE or mark verdict or a later hook, is routed
 * again against the keys nf_queue saved after the entry.
 */
static int nfring_reroute(struct sk_buff *skb,
			  const struct nf_queue_entry *entry)
{
	if (entry->state.hook != NF_INET_LOCAL_OUT)
		return 0;
	if (entry->state.pf == NFPROTO_IPV4) {
		const struct ip_rt_info *rt = nf_queue_entry_reroute(entry);
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->tos != rt->tos || skb->mark != rt->mark ||
		    iph->daddr != rt->daddr || iph->saddr != rt->saddr)
			return ip_route_me_harder(entry->state.net,
						  entry->state.sk, skb,
						  RTN_UNSPEC);
	} else if (entry->state.pf == NFPROTO_IPV6) {
		const struct ip6_rt_info *rt = nf_queue_entry_reroute(entry);
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		if (!ipv6_addr_equal(&ip6h->daddr, &rt->daddr) ||
		    !ipv6_addr_equal(&ip6h->saddr, &rt->saddr) ||
		    skb->mark != rt->mark)
			return nf_ip6_route_me_harder(entry->state.net,
						      entry->state.sk, skb);
	}
	return 0;
}

/*
 * Run hooks[*i..] until one does not accept; NF_REPEAT runs the same hook
 * again.  *i is left at the hook that decided.
 */
static unsigned int nfring_iterate(struct sk_buff *skb,
				   struct nf_hook_state *state,
				   const struct nf_hook_entries *hooks,
				   unsigned int *i)
{
	unsigned int verdict;

	for (; *i < hooks->num_hook_entries; (*i)++) {
		do {
			verdict = nf_hook_entry_hookfn(&hooks->hooks[*i], skb,
						       state);
		} while (verdict == NF_REPEAT);
		if (verdict != NF_ACCEPT)
			return verdict;
	}
	return NF_ACCEPT;
}

/*
 * nf_reinject for kernels that no longer export it: continue after the
 * hook that queued the packet, then hand it to okfn, queue it again, or
 * free it.  Caller holds rcu_read_lock.
 */
static void nfring_traverse(struct nf_queue_entry *entry,
			    const struct nfring_hook_id *queued_by,
			    unsigned int verdict)
{
	struct sk_buff *skb = entry->skb;
	const struct nf_hook_entries *hooks;
	unsigned int i = entry->hook_index;
	int err;

	hooks = nfring_hook_entries(entry);
	/*
	 * The hook left while the packet was queued: hook_drop flushes such
	 * packets, but one being applied at that moment arrives here.
	 */
	if (!nfring_queueing_hook_in(hooks, entry, queued_by)) {
		nfring_drop_entry(entry);
		return;
	}

	if (verdict == NF_REPEAT)
		verdict = nf_hook_entry_hookfn(&hooks->hooks[i], skb,
					       &entry->state);
	if (verdict == NF_ACCEPT && nfring_reroute(skb, entry) < 0)
		verdict = NF_DROP;

	if (verdict == NF_ACCEPT) {
next_hook:
		i++;
		verdict = nfring_iterate(skb, &entry->state, hooks, &i);
	}

	switch (verdict & NF_VERDICT_MASK) {
	case NF_ACCEPT:
	case NF_STOP:
		local_bh_disable();
		entry->state.okfn(entry->state.net, entry->state.sk, skb);
		local_bh_enable();
		break;
	case NF_QUEUE:
		/* Frees the skb itself on error; 1 means "bypass, go on". */
		err = nf_queue(skb, &entry->state, i, verdict);
		if (err == 1)
			goto next_hook;
		break;
	case NF_STOLEN:
		break;
	default:
		kfree_skb(skb);
		break;
	}
	nf_queue_entry_free(entry);
}
#else
static void nfring_traverse(struct nf_queue_entry *entry,
			    const struct nfring_hook_id *queued_by,
			    unsigned int verdict)
{
	nf_reinject(entry, verdict);
}
#endif /* NFRING_HAVE_NF_REINJECT */

/*
 * Continue hook traversal with @verdict, as nfnetlink_queue does: on
 * accept, conntrack may need to attach/confirm (the ct hook's update).
 * @queued_by is the hook recorded at enqueue, or NULL when the packet is
 * reinjected from the queue handler itself.  Caller holds rcu_read_lock.  Returns the verdict that was applied:
 * NF_DROP if the packet had to be dropped, NF_STOLEN if conntrack took it.
 */
unsigned int nfring_reinject(struct nf_queue_entry *entry,
			     const struct nfring_hook_id *queued_by,
			     unsigned int verdict)
{
	unsigned int ct_verdict;

	if (verdict != NF_DROP && !nfring_bridge_ports_valid(entry))
		verdict = NF_DROP;
	/*
	 * Its chain was deleted and netfilter's flush is on its way (checked
	 * again against the blob our own traversal then uses).
	 */
	if (verdict != NF_DROP &&
	    !nfring_queueing_hook_in(nfring_hook_entries(entry), entry,
				     queued_by))
		verdict = NF_DROP;
	if (verdict == NF_DROP) {
		nfring_drop_entry(entry);
		return NF_DROP;
	}
	ct_verdict = nfring_ct_update(entry);
	if (ct_verdict == NF_STOLEN) {
		nf_queue_entry_free(entry);
		return NF_STOLEN;
	}
	if (ct_verdict != NF_ACCEPT) {
		nfring_drop_entry(entry);
		return NF_DROP;
	}
	nfring_traverse(entry, queued_by, verdict);
	return verdict;
}
