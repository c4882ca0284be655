// libnetfilter_queue over nfring: the message builders of its libmnl API
// (nfq_nlmsg_*).  They only build and parse netlink messages in the
// caller's buffer, as libnetfilter_queue 1.0.5's do, without libmnl.  A
// program on this API sends them over its own netlink socket to
// nfnetlink_queue, which nfring replaces as the kernel's queue handler:
// such a program loads, but receives no packets (docs/nfqueue-compat.md).
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

#define NFQ_EXPORT extern "C" __attribute__((visibility("default")))

namespace
{

// libmnl's mnl_attr_put: one attribute at the message's end, padding
// zeroed.
void put_attr(nlmsghdr *nlh, std::uint16_t type, std::size_t len,
              const void *data)
{
	auto *attr = reinterpret_cast<nlattr *>(reinterpret_cast<char *>(nlh) +
	                                        NLMSG_ALIGN(nlh->nlmsg_len));
	const std::size_t total = NLA_HDRLEN + len;
	attr->nla_type = type;
	attr->nla_len = static_cast<std::uint16_t>(total);
	std::memcpy(reinterpret_cast<char *>(attr) + NLA_HDRLEN, data, len);
	std::memset(reinterpret_cast<char *>(attr) + total, 0,
	            NLA_ALIGN(total) - total);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) +
	                 static_cast<std::uint32_t>(NLA_ALIGN(total));
}

void put_u32(nlmsghdr *nlh, std::uint16_t type, std::uint32_t v)
{
	put_attr(nlh, type, sizeof(v), &v);
}

} // namespace

NFQ_EXPORT struct nlmsghdr *nfq_nlmsg_put(char *buf, int type,
                                          uint32_t queue_num)
{
	auto *nlh = reinterpret_cast<nlmsghdr *>(buf);
	std::memset(nlh, 0, NLMSG_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_QUEUE << 8) | type);
	nlh->nlmsg_flags = NLM_F_REQUEST;
	auto *nfg = reinterpret_cast<nfgenmsg *>(buf + NLMSG_HDRLEN);
	std::memset(nfg, 0, NLMSG_ALIGN(sizeof(*nfg)));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(static_cast<std::uint16_t>(queue_num));
	nlh->nlmsg_len += NLMSG_ALIGN(sizeof(*nfg));
	return nlh;
}

NFQ_EXPORT void nfq_nlmsg_cfg_put_cmd(struct nlmsghdr *nlh, uint16_t pf,
                                      uint8_t cmd)
{
	nfqnl_msg_config_cmd c{};
	c.command = cmd;
	c.pf = htons(pf);
	put_attr(nlh, NFQA_CFG_CMD, sizeof(c), &c);
}

NFQ_EXPORT void nfq_nlmsg_cfg_put_params(struct nlmsghdr *nlh, uint8_t mode,
                                         int range)
{
	nfqnl_msg_config_params p{};
	p.copy_range = htonl(static_cast<std::uint32_t>(range));
	p.copy_mode = mode;
	put_attr(nlh, NFQA_CFG_PARAMS, sizeof(p), &p);
}

NFQ_EXPORT void nfq_nlmsg_cfg_put_qmaxlen(struct nlmsghdr *nlh,
                                          uint32_t qmaxlen)
{
	put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(qmaxlen));
}

NFQ_EXPORT void nfq_nlmsg_verdict_put(struct nlmsghdr *nlh, int id,
                                      int verdict)
{
	nfqnl_msg_verdict_hdr v{};
	v.verdict = htonl(static_cast<std::uint32_t>(verdict));
	v.id = htonl(static_cast<std::uint32_t>(id));
	put_attr(nlh, NFQA_VERDICT_HDR, sizeof(v), &v);
}

NFQ_EXPORT void nfq_nlmsg_verdict_put_mark(struct nlmsghdr *nlh,
                                           uint32_t mark)
{
	put_u32(nlh, NFQA_MARK, htonl(mark));
}

NFQ_EXPORT void nfq_nlmsg_verdict_put_pkt(struct nlmsghdr *nlh,
                                          const void *pkt, uint32_t len)
{
	put_attr(nlh, NFQA_PAYLOAD, len, pkt);
}

// Fills attr[0..NFQA_MAX] with the message's attributes; 1 (libmnl's
// MNL_CB_OK), or -1 (MNL_CB_ERROR) when a known attribute is shorter than
// its type.  Unknown types are skipped.
NFQ_EXPORT int nfq_nlmsg_parse(const struct nlmsghdr *nlh,
                               struct nlattr **attr)
{
	const auto *base = reinterpret_cast<const char *>(nlh);
	std::size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
	const std::size_t end = nlh->nlmsg_len;
	while (off + NLA_HDRLEN <= end) {
		auto *a = reinterpret_cast<nlattr *>(const_cast<char *>(base + off));
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > end)
			break;
		const std::uint16_t type = a->nla_type & NLA_TYPE_MASK;
		const std::size_t len = a->nla_len - NLA_HDRLEN;
		std::size_t need = 0;
		switch (type) {
		case NFQA_MARK:
		case NFQA_IFINDEX_INDEV:
		case NFQA_IFINDEX_OUTDEV:
		case NFQA_IFINDEX_PHYSINDEV:
		case NFQA_IFINDEX_PHYSOUTDEV:
		case NFQA_CAP_LEN:
		case NFQA_SKB_INFO:
		case NFQA_UID:
		case NFQA_GID:
		case NFQA_CT_INFO:
			need = sizeof(std::uint32_t);
			break;
		case NFQA_TIMESTAMP:
			need = sizeof(nfqnl_msg_packet_timestamp);
			break;
		case NFQA_HWADDR:
			need = sizeof(nfqnl_msg_packet_hw);
			break;
		case NFQA_PACKET_HDR:
			need = sizeof(nfqnl_msg_packet_hdr);
			break;
		default:
			break;
		}
		if (type <= NFQA_MAX) {
			if (len < need) {
				errno = ERANGE;
				return -1;
			}
			attr[type] = a;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return 1;
}
