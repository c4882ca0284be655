// libnetfilter_queue over nfring: what the callback reads about a packet.
// Each accessor answers from the packet's nfring descriptor as
// nfnetlink_queue's attribute would: absent attributes give the same
// "none" the real accessors return (0, -1 or NULL).
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <net/if.h>

#include "nfq_internal.hpp"

#define NFQ_EXPORT extern "C" __attribute__((visibility("default")))

NFQ_EXPORT struct nfqnl_msg_packet_hdr *nfq_get_msg_packet_hdr(struct nfq_data *d)
{
	if (!d || !d->rec)
		return nullptr;
	// In the record recv wrote, as libnetfilter_queue points into the
	// netlink message.
	return const_cast<nfqnl_msg_packet_hdr *>(&d->rec->hdr);
}

NFQ_EXPORT uint32_t nfq_get_nfmark(struct nfq_data *d)
{
	return d ? d->desc->mark : 0;
}

NFQ_EXPORT int nfq_get_timestamp(struct nfq_data *d, struct timeval *tv)
{
	if (!d || !tv || d->desc->tstamp_ns == 0)
		return -1;
	tv->tv_sec = static_cast<time_t>(d->desc->tstamp_ns / 1000000000u);
	tv->tv_usec =
	        static_cast<suseconds_t>(d->desc->tstamp_ns % 1000000000u / 1000);
	return 0;
}

NFQ_EXPORT uint32_t nfq_get_indev(struct nfq_data *d)
{
	return d ? d->desc->indev : 0;
}

NFQ_EXPORT uint32_t nfq_get_outdev(struct nfq_data *d)
{
	return d ? d->desc->outdev : 0;
}

// The bridge ports of a packet br_netfilter passed to the IP hooks.
NFQ_EXPORT uint32_t nfq_get_physindev(struct nfq_data *d)
{
	return d && d->meta ? d->meta->physindev : 0;
}

NFQ_EXPORT uint32_t nfq_get_physoutdev(struct nfq_data *d)
{
	return d && d->meta ? d->meta->physoutdev : 0;
}

NFQ_EXPORT uint32_t nfq_get_skbinfo(struct nfq_data *d)
{
	if (!d)
		return 0;
	std::uint32_t info = 0;
	if (d->desc->flags & NFRING_RX_CSUM_NOTREADY)
		info |= NFQA_SKB_CSUMNOTREADY;
	if (d->desc->flags & NFRING_RX_GSO)
		info |= NFQA_SKB_GSO;
	return info;
}

// With NFQA_CFG_F_UID_GID, for a packet of a local socket: 1 and the
// value; otherwise 0, as for an absent attribute.
NFQ_EXPORT int nfq_get_uid(struct nfq_data *d, uint32_t *uid)
{
	if (!d || !d->meta || !(d->meta->valid & NFRING_META_UID_GID))
		return 0;
	if (uid)
		*uid = d->meta->uid;
	return 1;
}

NFQ_EXPORT int nfq_get_gid(struct nfq_data *d, uint32_t *gid)
{
	if (!d || !d->meta || !(d->meta->valid & NFRING_META_UID_GID))
		return 0;
	if (gid)
		*gid = d->meta->gid;
	return 1;
}

// Security contexts (secmark) are not carried: absent, as for a packet
// without one.
NFQ_EXPORT int nfq_get_secctx(struct nfq_data *, unsigned char **)
{
	return -1;
}

// The link-layer source address of a received packet, in the attribute's
// layout (length in network byte order).
NFQ_EXPORT struct nfqnl_msg_packet_hw *nfq_get_packet_hw(struct nfq_data *d)
{
	if (!d || !d->meta || !(d->meta->valid & NFRING_META_HWADDR))
		return nullptr;
	const std::size_t len =
	        std::min<std::size_t>(d->meta->hwaddr_len, sizeof(d->hw.hw_addr));
	std::memset(&d->hw, 0, sizeof(d->hw));
	d->hw.hw_addrlen = htons(static_cast<std::uint16_t>(len));
	std::memcpy(d->hw.hw_addr, d->meta->hwaddr, len);
	return &d->hw;
}

NFQ_EXPORT int nfq_get_payload(struct nfq_data *d, unsigned char **data)
{
	if (!d || !d->frame)
		return -1;
	if (data)
		*data = reinterpret_cast<unsigned char *>(d->frame);
	return static_cast<int>(d->payload_len);
}

namespace
{

// An interface name by index, with libnfnetlink's nlif_index2name
// answers (1 when found, "*" for no device, -1 and ENOENT otherwise).
// Its nlif cache is not needed: the kernel answers directly.
int dev_name(std::uint32_t index, char *name)
{
	if (!name)
		return -1;
	if (index == 0) {
		std::strcpy(name, "*");
		return 1;
	}
	if (!if_indextoname(index, name)) {
		name[0] = '\0';
		errno = ENOENT;
		return -1;
	}
	return 1;
}

} // namespace

NFQ_EXPORT int nfq_get_indev_name(struct nlif_handle *, struct nfq_data *d,
                                  char *name)
{
	return dev_name(nfq_get_indev(d), name);
}

NFQ_EXPORT int nfq_get_physindev_name(struct nlif_handle *,
                                      struct nfq_data *d, char *name)
{
	return dev_name(nfq_get_physindev(d), name);
}

NFQ_EXPORT int nfq_get_outdev_name(struct nlif_handle *, struct nfq_data *d,
                                   char *name)
{
	return dev_name(nfq_get_outdev(d), name);
}

NFQ_EXPORT int nfq_get_physoutdev_name(struct nlif_handle *,
                                       struct nfq_data *d, char *name)
{
	return dev_name(nfq_get_physoutdev(d), name);
}

namespace
{

// snprintf into buf at off, keeping the running total as snprintf does.
void put(char *buf, std::size_t len, std::size_t &off, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void put(char *buf, std::size_t len, std::size_t &off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const int n = std::vsnprintf(off < len ? buf + off : nullptr,
	                             off < len ? len - off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		off += static_cast<std::size_t>(n);
}

} // namespace

// An XML summary of the packet in the shape of libnetfilter_queue's
// (packet header, mark, devices, time, payload as hex), for the
// attributes nfring has.
NFQ_EXPORT int nfq_snprintf_xml(char *buf, size_t len, struct nfq_data *d,
                                int flags)
{
	if (!d)
		return -1;
	std::size_t off = 0;
	const auto *ph = nfq_get_msg_packet_hdr(d);
	put(buf, len, off, "<pkt>");
	if (ph) {
		put(buf, len, off, "<id>%u</id>", ntohl(ph->packet_id));
		put(buf, len, off, "<hw><proto>%04x</proto>",
		    ntohs(ph->hw_protocol));
		put(buf, len, off, "<hook>%u</hook></hw>", ph->hook);
	}
	if ((flags & NFQ_XML_MARK) && nfq_get_nfmark(d))
		put(buf, len, off, "<mark>%u</mark>", nfq_get_nfmark(d));
	if (flags & NFQ_XML_DEV) {
		if (const auto in = nfq_get_indev(d))
			put(buf, len, off, "<indev>%u</indev>", in);
		if (const auto out = nfq_get_outdev(d))
			put(buf, len, off, "<outdev>%u</outdev>", out);
	}
	if (flags & NFQ_XML_PHYSDEV) {
		if (const auto in = nfq_get_physindev(d))
			put(buf, len, off, "<physindev>%u</physindev>", in);
		if (const auto out = nfq_get_physoutdev(d))
			put(buf, len, off, "<physoutdev>%u</physoutdev>", out);
	}
	if (flags & NFQ_XML_HW) {
		if (const auto *hw = nfq_get_packet_hw(d)) {
			put(buf, len, off, "<hw><src>");
			for (unsigned i = 0; i < ntohs(hw->hw_addrlen); i++)
				put(buf, len, off, "%s%02x", i ? ":" : "",
				    hw->hw_addr[i]);
			put(buf, len, off, "</src></hw>");
		}
	}
	std::uint32_t id = 0;
	if ((flags & NFQ_XML_UID) && nfq_get_uid(d, &id))
		put(buf, len, off, "<uid>%u</uid>", id);
	if ((flags & NFQ_XML_GID) && nfq_get_gid(d, &id))
		put(buf, len, off, "<gid>%u</gid>", id);
	if (flags & NFQ_XML_TIME) {
		timeval tv{};
		if (nfq_get_timestamp(d, &tv) == 0)
			put(buf, len, off,
			    "<when><sec>%ld</sec><usec>%ld</usec></when>",
			    static_cast<long>(tv.tv_sec),
			    static_cast<long>(tv.tv_usec));
	}
	if (flags & NFQ_XML_PAYLOAD) {
		unsigned char *p = nullptr;
		const int n = nfq_get_payload(d, &p);
		if (n > 0) {
			put(buf, len, off, "<payload>");
			for (int i = 0; i < n; i++)
				put(buf, len, off, "%02x", p[i]);
			put(buf, len, off, "</payload>");
		}
	}
	put(buf, len, off, "</pkt>");
	return static_cast<int>(off);
}
