// libnetfilter_queue over nfring: the IPv4, IPv6, TCP and UDP helpers
// that work on a struct pkt_buff (find a header, the payload, checksums,
// replace bytes and fix the lengths and checksums, print a header).  They
// behave as libnetfilter_queue 1.0.5's; tests/unit/nfq_helpers_test.cpp
// compares the two on the same packets.
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <string>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue_ipv4.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv6.h>
#include <libnetfilter_queue/libnetfilter_queue_tcp.h>
#include <libnetfilter_queue/libnetfilter_queue_udp.h>
#include <libnetfilter_queue/pktbuff.h>
}

#include "nfq_helpers.hpp"
#include "nfring/packet.hpp"

#define NFQ_EXPORT extern "C" __attribute__((visibility("default")))

namespace nfring::nfq
{

// The Internet checksum over these byte pointers, with the project's sum
// (nfring/packet.hpp).
std::uint32_t csum_add(std::uint32_t sum, const void *data, std::size_t len)
{
	return static_cast<std::uint32_t>(fold(
	        sum16(static_cast<const std::byte *>(data), len, sum)));
}

std::uint16_t csum_fold(std::uint32_t sum)
{
	return static_cast<std::uint16_t>(~fold(sum));
}

namespace
{

std::uint8_t *tail(pkt_buff *b)
{
	return b->data + b->len;
}

// The TCP or UDP checksum over IPv4: pseudo-header, then the segment the
// IP header's length says follows it.
std::uint16_t l4_sum_ipv4(const iphdr *iph, std::uint8_t proto)
{
	// A header longer than the length it declares leaves nothing to
	// sum (libnetfilter_queue sums nothing then either).
	const std::size_t hl = iph->ihl * 4u;
	const std::size_t tot = ntohs(iph->tot_len);
	const std::size_t len = tot > hl ? tot - hl : 0;
	std::uint32_t sum = csum_add(0, &iph->saddr, 4);
	sum = csum_add(sum, &iph->daddr, 4);
	sum += proto;
	sum += static_cast<std::uint32_t>(len);
	sum = csum_add(sum, reinterpret_cast<const std::uint8_t *>(iph) + hl,
	               len);
	return csum_fold(sum);
}

// Over IPv6: the segment runs from the transport header to the end of
// the IPv6 payload.
std::uint16_t l4_sum_ipv6(const ip6_hdr *ip6h, const void *l4,
                          std::uint8_t proto)
{
	const auto *start = reinterpret_cast<const std::uint8_t *>(ip6h + 1);
	const std::size_t before =
	        static_cast<const std::uint8_t *>(l4) - start;
	const std::size_t plen = ntohs(ip6h->ip6_plen);
	const std::size_t len = plen > before ? plen - before : 0;
	std::uint32_t sum = csum_add(0, &ip6h->ip6_src, 16);
	sum = csum_add(sum, &ip6h->ip6_dst, 16);
	sum += static_cast<std::uint32_t>(len >> 16);
	sum += static_cast<std::uint32_t>(len & 0xffff);
	sum += proto;
	sum = csum_add(sum, l4, len);
	return csum_fold(sum);
}

} // namespace

} // namespace nfring::nfq

using nfring::nfq::tail;

// IPv4 -----------------------------------------------------------------

NFQ_EXPORT struct iphdr *nfq_ip_get_hdr(struct pkt_buff *b)
{
	if (!b->network)
		return nullptr;
	const auto room = static_cast<std::size_t>(tail(b) - b->network);
	if (room < sizeof(iphdr))
		return nullptr;
	auto *iph = reinterpret_cast<iphdr *>(b->network);
	if (iph->version != 4 || ntohs(iph->tot_len) > room)
		return nullptr;
	return iph;
}

NFQ_EXPORT int nfq_ip_set_transport_header(struct pkt_buff *b,
                                           struct iphdr *iph)
{
	// Fragments are not looked at, as in libnetfilter_queue: on a later
	// fragment this points at payload, not at a transport header.
	const int off = iph->ihl * 4;
	// Room counted from the IPv4 header (a bridge frame's data starts
	// at its Ethernet header).
	if (static_cast<int>(tail(b) - b->network) - off <= 0)
		return -1;
	b->transport = b->network + off;
	return 0;
}

NFQ_EXPORT void nfq_ip_set_checksum(struct iphdr *iph)
{
	iph->check = 0;
	iph->check = htons(nfring::nfq::csum_fold(
	        nfring::nfq::csum_add(0, iph, iph->ihl * 4u)));
}

NFQ_EXPORT int nfq_ip_mangle(struct pkt_buff *b, unsigned int dataoff,
                             unsigned int match_offset,
                             unsigned int match_len, const char *rep,
                             unsigned int rep_len)
{
	auto *iph = reinterpret_cast<iphdr *>(b->network);
	if (!pktb_mangle(b, static_cast<int>(dataoff), match_offset, match_len,
	                 rep, rep_len))
		return 0;
	iph->tot_len = htons(static_cast<std::uint16_t>(tail(b) - b->network));
	nfq_ip_set_checksum(iph);
	return 1;
}

// As libnetfilter_queue prints it: no fragment flags.
NFQ_EXPORT int nfq_ip_snprintf(char *buf, size_t size, const struct iphdr *iph)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &iph->saddr, src, sizeof(src));
	inet_ntop(AF_INET, &iph->daddr, dst, sizeof(dst));
	return std::snprintf(
	        buf, size,
	        "SRC=%s DST=%s LEN=%u TOS=0x%X PREC=0x%X TTL=%u ID=%u PROTO=%u ",
	        src, dst, ntohs(iph->tot_len), iph->tos & IPTOS_TOS_MASK,
	        iph->tos & IPTOS_PREC_MASK, iph->ttl, ntohs(iph->id),
	        iph->protocol);
}

// IPv6 -----------------------------------------------------------------

NFQ_EXPORT struct ip6_hdr *nfq_ip6_get_hdr(struct pkt_buff *b)
{
	if (!b->network)
		return nullptr;
	const auto room = static_cast<std::size_t>(tail(b) - b->network);
	if (room < sizeof(ip6_hdr))
		return nullptr;
	auto *h = reinterpret_cast<ip6_hdr *>(b->network);
	if ((b->network[0] >> 4) != 6)
		return nullptr;
	return h;
}

// Walks the extension headers to `target`: 1 when found (the transport
// header is set there), 0 otherwise (not there, a later fragment, or cut
// short).
NFQ_EXPORT int nfq_ip6_set_transport_header(struct pkt_buff *b,
                                            struct ip6_hdr *ip6h,
                                            uint8_t target)
{
	std::uint8_t next = ip6h->ip6_nxt;
	std::uint8_t *cur = reinterpret_cast<std::uint8_t *>(ip6h + 1);
	std::uint8_t *end = tail(b);
	while (next != target) {
		if (cur + 8 > end)
			return 0;
		std::size_t hlen;
		switch (next) {
		case IPPROTO_FRAGMENT: {
			std::uint16_t offlg;
			std::memcpy(&offlg, cur + 2, sizeof(offlg));
			if (ntohs(offlg) & ~7u)
				return 0; // not the first fragment
			hlen = 8;
			break;
		}
		case IPPROTO_AH:
			hlen = (cur[1] + 2u) << 2;
			break;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			hlen = (cur[1] + 1u) << 3;
			break;
		default:
			return 0; // no more extension headers, not the target
		}
		next = cur[0];
		cur += hlen;
		if (cur > end)
			return 0;
	}
	b->transport = cur;
	return 1;
}

NFQ_EXPORT int nfq_ip6_mangle(struct pkt_buff *b, unsigned int dataoff,
                              unsigned int match_offset,
                              unsigned int match_len, const char *rep,
                              unsigned int rep_len)
{
	auto *ip6h = reinterpret_cast<ip6_hdr *>(b->network);
	if (!pktb_mangle(b, static_cast<int>(dataoff), match_offset, match_len,
	                 rep, rep_len))
		return 0;
	ip6h->ip6_plen = htons(static_cast<std::uint16_t>(
	        tail(b) - b->network - sizeof(ip6_hdr)));
	return 1;
}

// The traffic class and flow label are read in network byte order
// (libnetfilter_queue 1.0.5 prints them from the unconverted word).
NFQ_EXPORT int nfq_ip6_snprintf(char *buf, size_t size,
                                const struct ip6_hdr *ip6h)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &ip6h->ip6_src, src, sizeof(src));
	inet_ntop(AF_INET6, &ip6h->ip6_dst, dst, sizeof(dst));
	const std::uint32_t flow = ntohl(ip6h->ip6_flow);
	return std::snprintf(buf, size,
	                     "SRC=%s DST=%s LEN=%zu TC=0x%X HOPLIMIT=%u "
	                     "FLOWLBL=%u ",
	                     src, dst,
	                     ntohs(ip6h->ip6_plen) + sizeof(ip6_hdr),
	                     (flow >> 20) & 0xff, ip6h->ip6_hlim,
	                     flow & 0xfffff);
}

// TCP ------------------------------------------------------------------

NFQ_EXPORT struct tcphdr *nfq_tcp_get_hdr(struct pkt_buff *b)
{
	if (!b->transport || b->transport > tail(b) ||
	    static_cast<std::size_t>(tail(b) - b->transport) < sizeof(tcphdr))
		return nullptr;
	return reinterpret_cast<tcphdr *>(b->transport);
}

NFQ_EXPORT void *nfq_tcp_get_payload(struct tcphdr *tcph, struct pkt_buff *b)
{
	const unsigned len = tcph->doff * 4u;
	if (len < sizeof(tcphdr) || b->transport + len > tail(b))
		return nullptr;
	return b->transport + len;
}

NFQ_EXPORT unsigned int nfq_tcp_get_payload_len(struct tcphdr *tcph,
                                                struct pkt_buff *b)
{
	return static_cast<unsigned int>(tail(b) - b->transport -
	                                 tcph->doff * 4);
}

NFQ_EXPORT void nfq_tcp_compute_checksum_ipv4(struct tcphdr *tcph,
                                              struct iphdr *iph)
{
	tcph->check = 0;
	tcph->check = htons(nfring::nfq::l4_sum_ipv4(iph, IPPROTO_TCP));
}

NFQ_EXPORT void nfq_tcp_compute_checksum_ipv6(struct tcphdr *tcph,
                                              struct ip6_hdr *ip6h)
{
	tcph->check = 0;
	tcph->check = htons(nfring::nfq::l4_sum_ipv6(ip6h, tcph, IPPROTO_TCP));
}

NFQ_EXPORT int nfq_tcp_mangle_ipv4(struct pkt_buff *b,
                                   unsigned int match_offset,
                                   unsigned int match_len, const char *rep,
                                   unsigned int rep_len)
{
	auto *iph = reinterpret_cast<iphdr *>(b->network);
	auto *tcph = reinterpret_cast<tcphdr *>(b->network + iph->ihl * 4);
	if (!nfq_ip_mangle(b, iph->ihl * 4u + tcph->doff * 4u, match_offset,
	                   match_len, rep, rep_len))
		return 0;
	nfq_tcp_compute_checksum_ipv4(tcph, iph);
	return 1;
}

NFQ_EXPORT int nfq_tcp_mangle_ipv6(struct pkt_buff *b,
                                   unsigned int match_offset,
                                   unsigned int match_len, const char *rep,
                                   unsigned int rep_len)
{
	auto *ip6h = reinterpret_cast<ip6_hdr *>(b->network);
	auto *tcph = nfq_tcp_get_hdr(b);
	if (!tcph)
		return 0;
	const auto off = static_cast<unsigned>(b->transport - b->network) +
	                 tcph->doff * 4u;
	if (!nfq_ip6_mangle(b, off, match_offset, match_len, rep, rep_len))
		return 0;
	nfq_tcp_compute_checksum_ipv6(tcph, ip6h);
	return 1;
}

NFQ_EXPORT int nfq_tcp_snprintf(char *buf, size_t size,
                                const struct tcphdr *tcph)
{
	std::string flags;
	if (tcph->urg)
		flags += "URG ";
	if (tcph->ack)
		flags += "ACK ";
	if (tcph->psh)
		flags += "PSH ";
	if (tcph->rst)
		flags += "RST ";
	if (tcph->syn)
		flags += "SYN ";
	if (tcph->fin)
		flags += "FIN ";
	if (tcph->urg)
		flags += "URGP=" + std::to_string(ntohs(tcph->urg_ptr)) + " ";
	return std::snprintf(buf, size,
	                     "SPT=%u DPT=%u SEQ=%u ACK=%u WINDOW=%u RES=0x%02x %s",
	                     ntohs(tcph->source), ntohs(tcph->dest),
	                     ntohl(tcph->seq), ntohl(tcph->ack_seq),
	                     ntohs(tcph->window), tcph->res1, flags.c_str());
}

// UDP ------------------------------------------------------------------

NFQ_EXPORT struct udphdr *nfq_udp_get_hdr(struct pkt_buff *b)
{
	if (!b->transport || b->transport > tail(b) ||
	    static_cast<std::size_t>(tail(b) - b->transport) < sizeof(udphdr))
		return nullptr;
	return reinterpret_cast<udphdr *>(b->transport);
}

NFQ_EXPORT void *nfq_udp_get_payload(struct udphdr *udph, struct pkt_buff *b)
{
	const unsigned len = ntohs(udph->len);
	if (len < sizeof(udphdr) || b->transport + len > tail(b))
		return nullptr;
	return b->transport + sizeof(udphdr);
}

NFQ_EXPORT unsigned int nfq_udp_get_payload_len(struct udphdr *,
                                                struct pkt_buff *b)
{
	return static_cast<unsigned int>(tail(b) - b->transport -
	                                 sizeof(udphdr));
}

NFQ_EXPORT void nfq_udp_compute_checksum_ipv4(struct udphdr *udph,
                                              struct iphdr *iph)
{
	udph->check = 0;
	udph->check = htons(nfring::nfq::l4_sum_ipv4(iph, IPPROTO_UDP));
}

NFQ_EXPORT void nfq_udp_compute_checksum_ipv6(struct udphdr *udph,
                                              struct ip6_hdr *ip6h)
{
	udph->check = 0;
	udph->check = htons(nfring::nfq::l4_sum_ipv6(ip6h, udph, IPPROTO_UDP));
}

NFQ_EXPORT int nfq_udp_mangle_ipv4(struct pkt_buff *b,
                                   unsigned int match_offset,
                                   unsigned int match_len, const char *rep,
                                   unsigned int rep_len)
{
	auto *iph = reinterpret_cast<iphdr *>(b->network);
	auto *udph = reinterpret_cast<udphdr *>(b->network + iph->ihl * 4);
	if (!nfq_ip_mangle(b, iph->ihl * 4u + sizeof(udphdr), match_offset,
	                   match_len, rep, rep_len))
		return 0;
	udph->len = htons(static_cast<std::uint16_t>(
	        tail(b) - reinterpret_cast<std::uint8_t *>(udph)));
	nfq_udp_compute_checksum_ipv4(udph, iph);
	return 1;
}

NFQ_EXPORT int nfq_udp_mangle_ipv6(struct pkt_buff *b,
                                   unsigned int match_offset,
                                   unsigned int match_len, const char *rep,
                                   unsigned int rep_len)
{
	auto *ip6h = reinterpret_cast<ip6_hdr *>(b->network);
	auto *udph = nfq_udp_get_hdr(b);
	if (!udph)
		return 0;
	const auto off = static_cast<unsigned>(b->transport - b->network) +
	                 static_cast<unsigned>(sizeof(udphdr));
	if (!nfq_ip6_mangle(b, off, match_offset, match_len, rep, rep_len))
		return 0;
	udph->len = htons(static_cast<std::uint16_t>(
	        tail(b) - reinterpret_cast<std::uint8_t *>(udph)));
	nfq_udp_compute_checksum_ipv6(udph, ip6h);
	return 1;
}

NFQ_EXPORT int nfq_udp_snprintf(char *buf, size_t size,
                                const struct udphdr *udph)
{
	return std::snprintf(buf, size, "SPT=%u DPT=%u ", ntohs(udph->source),
	                     ntohs(udph->dest));
}
