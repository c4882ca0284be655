// SPDX-License-Identifier: GPL-2.0
/*
 * MANGLE: replace a queued packet with bytes the worker wrote into its
 * frame.
 *
 * The stack validated the packet's network headers before the hook ran
 * (version, header length, IP options, total length, fragment fields,
 * IPv6 extension headers) and keeps trusting what it derived from them:
 * IPCB(skb)->opt offsets, the transport header offset, the length it
 * pulls.  A payload from userspace must therefore leave those headers as
 * they were.  The check runs on the skb after the copy, never on the
 * frame, which userspace can still change while we look.  What cannot be
 * shown to be unchanged is refused; the caller drops the packet and counts
 * it in mangle_failed.
 *
 * Userspace may change: IPv4 TOS, id, DF, TTL, checksum, addresses; IPv6
 * traffic class, flow label, hop limit, addresses; and everything past the
 * network headers (it must leave the L3/L4 checksums correct).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_queue.h>
#include <net/xfrm.h>

#include "nfring_internal.h"

/*
 * Network headers we can snapshot: a full IPv4 header with options (60)
 * fits; an IPv6 extension-header chain longer than this cannot be mangled.
 */
#define NFRING_MANGLE_MAX_HDR	256

struct nfring_l3_snapshot {
	u8	bytes[NFRING_MANGLE_MAX_HDR];
	u32	len;		/* network header bytes, options included */
};

/*
 * Copy the validated network headers of the packet as queued (kernel
 * memory) so that the mangled skb can be compared with them.
 */
static int nfring_snapshot_l3(const struct nf_queue_entry *e,
			      struct nfring_l3_snapshot *snap)
{
	struct sk_buff *skb = e->skb;

	if (skb_network_offset(skb) != 0)
		return -EINVAL;

	if (e->state.pf == NFPROTO_IPV4) {
		const struct iphdr *iph;
		struct iphdr _iph;

		iph = skb_header_pointer(skb, 0, sizeof(_iph), &_iph);
		if (!iph || iph->version != 4 || iph->ihl < 5)
			return -EINVAL;
		snap->len = iph->ihl * 4;
	} else if (e->state.pf == NFPROTO_IPV6) {
		const struct ipv6hdr *ip6h;
		struct ipv6hdr _ip6h;
		__be16 frag_off;
		u8 nexthdr;
		int off;

		ip6h = skb_header_pointer(skb, 0, sizeof(_ip6h), &_ip6h);
		/* A jumbogram's length lives in a hop-by-hop option. */
		if (!ip6h || ip6h->version != 6 || !ip6h->payload_len)
			return -EINVAL;
		nexthdr = ip6h->nexthdr;
		off = ipv6_skip_exthdr(skb, sizeof(*ip6h), &nexthdr, &frag_off);
		if (off < 0)
			return -EINVAL;
		snap->len = off;
	} else {
		return -EINVAL;
	}
	if (snap->len > sizeof(snap->bytes) || snap->len > skb->len)
		return -EINVAL;
	/* The transport header must stay inside what we keep. */
	if (skb_transport_header_was_set(skb) &&
	    skb_transport_offset(skb) > (int)snap->len)
		return -EINVAL;
	return skb_copy_bits(skb, 0, snap->bytes, snap->len);
}

/* The mangled IPv4 header at skb->data (linear) against the snapshot. */
static bool nfring_ipv4_unchanged(const struct sk_buff *skb,
				  const struct nfring_l3_snapshot *snap)
{
	const struct iphdr *old = (const struct iphdr *)snap->bytes;
	const struct iphdr *iph = ip_hdr(skb);

	/* Version and ihl share the first byte. */
	if (skb->data[0] != snap->bytes[0])
		return false;
	if (ntohs(iph->tot_len) != skb->len)
		return false;
	if ((iph->frag_off ^ old->frag_off) & ~htons(IP_DF))
		return false;
	if (iph->protocol != old->protocol)
		return false;
	/* IP options: the stack's parsed copy (IPCB) points into them. */
	return !memcmp(skb->data + sizeof(*iph), snap->bytes + sizeof(*iph),
		       snap->len - sizeof(*iph));
}

/* The mangled IPv6 header and extension headers against the snapshot. */
static bool nfring_ipv6_unchanged(const struct sk_buff *skb,
				  const struct nfring_l3_snapshot *snap)
{
	const struct ipv6hdr *old = (const struct ipv6hdr *)snap->bytes;
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);

	if (ip6h->version != 6)
		return false;
	/* No jumbogram: payload_len is the real length, and not zero. */
	if (!ip6h->payload_len ||
	    ntohs(ip6h->payload_len) != skb->len - sizeof(*ip6h))
		return false;
	if (ip6h->nexthdr != old->nexthdr)
		return false;
	return !memcmp(skb->data + sizeof(*ip6h), snap->bytes + sizeof(*ip6h),
		       snap->len - sizeof(*ip6h));
}

/* Make the skb exactly @len bytes long, linear and writable. */
static int nfring_resize(struct nf_queue_entry *e, u32 len)
{
	struct sk_buff *skb = e->skb;

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
	return skb_ensure_writable(skb, len);
}

/*
 * Replace the packet with @len bytes at @data (its frame in shared memory,
 * which may change under us: only the copy in the skb is checked).  On
 * error the skb may already hold part of the new bytes: the caller must
 * drop the packet.
 */
int nfring_mangle(struct nfring_queue *q, struct nf_queue_entry *e,
		  const u8 *data, u32 len)
{
	struct nfring_l3_snapshot snap;
	struct sk_buff *skb = e->skb;
	bool ok;
	int err;

	if (!q->mangle_allowed)
		return -EPERM;
	if (skb_is_gso(skb) || len > IP_MAX_MTU)
		return -EINVAL;
	/*
	 * Inner-header offsets and offload state describe the old payload;
	 * nothing proves they fit the new one.
	 */
	if (skb->encapsulation || xfrm_offload(skb))
		return -EINVAL;
	err = nfring_snapshot_l3(e, &snap);
	if (err)
		return err;
	/* A shrink never cuts into the network headers. */
	if (len < snap.len)
		return -EINVAL;

	err = nfring_resize(e, len);
	if (err)
		return err;
	skb = e->skb;
	skb_copy_to_linear_data(skb, data, len);

	if (e->state.pf == NFPROTO_IPV4)
		ok = nfring_ipv4_unchanged(skb, &snap);
	else
		ok = nfring_ipv6_unchanged(skb, &snap);
	if (!ok)
		return -EINVAL;
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}
