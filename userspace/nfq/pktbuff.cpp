// libnetfilter_queue over nfring: the packet buffer helpers (pktb_*), for
// programs that edit a copy of the packet before giving it back with its
// verdict.  They touch no queue; they behave as libnetfilter_queue 1.0.5's
// (tests/unit/nfq_helpers_test.cpp compares the two on the same packets).
#include <arpa/inet.h>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <linux/if_ether.h>
#include <sys/socket.h>

extern "C" {
#include <libnetfilter_queue/pktbuff.h>
}

#include "nfq_helpers.hpp"

#define NFQ_EXPORT extern "C" __attribute__((visibility("default")))

NFQ_EXPORT struct pkt_buff *pktb_alloc(int family, void *data, size_t len,
                                       size_t extra)
{
	// One allocation: the header, then len + extra bytes of room.  An
	// Ethernet frame starts 2 bytes in, as the kernel's NET_IP_ALIGN
	// places it, so that its IP header is aligned for the struct
	// iphdr/ip6_hdr pointers the API hands out.
	const std::size_t pad = family == AF_BRIDGE ? 2 : 0;
	static_assert(sizeof(pkt_buff) % alignof(std::max_align_t) == 0);
	auto *b = static_cast<pkt_buff *>(
	        std::calloc(1, sizeof(pkt_buff) + pad + len + extra));
	if (!b)
		return nullptr;
	b->head = reinterpret_cast<std::uint8_t *>(b + 1) + pad;
	std::memcpy(b->head, data, len);
	b->data = b->head;
	b->len = static_cast<std::uint32_t>(len);
	b->room = len + extra;
	switch (family) {
	case AF_INET:
	case AF_INET6:
		b->network = b->data;
		break;
	case AF_BRIDGE: {
		// An Ethernet frame: IPv4 or IPv6 after its header, nothing
		// else.  (libnetfilter_queue 1.0.5 compares the EtherType
		// without converting it, and so refuses IPv4 and IPv6.)
		std::uint16_t proto = 0;
		if (len >= ETH_HLEN)
			std::memcpy(&proto, b->data + 12, sizeof(proto));
		b->mac = b->data;
		if (len < ETH_HLEN ||
		    (proto != htons(ETH_P_IP) && proto != htons(ETH_P_IPV6))) {
			std::free(b);
			errno = EPROTONOSUPPORT;
			return nullptr;
		}
		b->network = b->data + ETH_HLEN;
		break;
	}
	default:
		break;
	}
	return b;
}

NFQ_EXPORT void pktb_free(struct pkt_buff *b)
{
	std::free(b);
}

NFQ_EXPORT uint8_t *pktb_data(struct pkt_buff *b)
{
	return b->data;
}

NFQ_EXPORT uint32_t pktb_len(struct pkt_buff *b)
{
	return b->len;
}

// Headroom and tailroom are the caller's to respect, as with skbs.
NFQ_EXPORT void pktb_push(struct pkt_buff *b, unsigned int len)
{
	b->data -= len;
	b->len += len;
}

NFQ_EXPORT void pktb_pull(struct pkt_buff *b, unsigned int len)
{
	b->data += len;
	b->len -= len;
}

NFQ_EXPORT void pktb_put(struct pkt_buff *b, unsigned int len)
{
	b->len += len;
}

NFQ_EXPORT void pktb_trim(struct pkt_buff *b, unsigned int len)
{
	b->len = len;
}

NFQ_EXPORT unsigned int pktb_tailroom(struct pkt_buff *b)
{
	return static_cast<unsigned int>(b->room - (b->data - b->head) - b->len);
}

NFQ_EXPORT uint8_t *pktb_mac_header(struct pkt_buff *b)
{
	return b->mac;
}

NFQ_EXPORT uint8_t *pktb_network_header(struct pkt_buff *b)
{
	return b->network;
}

NFQ_EXPORT uint8_t *pktb_transport_header(struct pkt_buff *b)
{
	return b->transport;
}

// Replaces match_len bytes at network header + dataoff + match_offset by
// rep_len bytes, moving what follows; 1 on success, 0 when the buffer
// lacks the room (libnetfilter_queue's convention).
NFQ_EXPORT int pktb_mangle(struct pkt_buff *b, int dataoff,
                           unsigned int match_offset, unsigned int match_len,
                           const char *rep, unsigned int rep_len)
{
	if (!b->network)
		return 0;
	std::uint8_t *at = b->network + dataoff + match_offset;
	std::uint8_t *end = b->data + b->len;
	if (at < b->data || at + match_len > end)
		return 0;
	if (rep_len > match_len && rep_len - match_len > pktb_tailroom(b))
		return 0;
	std::memmove(at + rep_len, at + match_len,
	             static_cast<std::size_t>(end - (at + match_len)));
	std::memcpy(at, rep, rep_len);
	b->len = b->len - match_len + rep_len;
	b->mangled = true;
	return 1;
}

NFQ_EXPORT bool pktb_mangled(const struct pkt_buff *b)
{
	return b->mangled;
}
