// nfring-pcap-names: the L7 names the worker's inspection finds in real
// captures, for scoring against the expected ones (docs/captures.md).
//
//   nfring-pcap-names CAPTURE...   prints capture, field, name, client,
//                                  server (tab-separated), one row per name
//
// Packets go, in capture order, through the same inspector the worker
// uses (reassembly, the parsers, QUIC Initials), one flow table for each
// capture.  Checksums are not checked: a capture taken on the sending host
// shows the checksums its NIC had not yet filled in.
#include <arpa/inet.h>
#include <cstdio>
#include <netinet/in.h>
#include <string>
#include <unordered_set>

#include "nfring/inspector.hpp"
#include "nfring/l7.hpp"
#include "pcap_reader.hpp"

namespace
{

std::string endpoint(const nfring::packet_view &p, const nfring::ip_addr &a,
                     std::uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];
	if (p.family == 4) {
		inet_ntop(AF_INET, &a[12], buf, sizeof(buf));
		return std::string(buf) + ":" + std::to_string(port);
	}
	inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
	// Appended, not "[" + string: GCC 12 at -O3 warns falsely
	// (-Wrestrict) on the operator+ that prepends.
	std::string s = "[";
	s += buf;
	s += "]:";
	s += std::to_string(port);
	return s;
}

class scanner
{
public:
	explicit scanner(std::string capture) : capture_(std::move(capture))
	{
		opts_.flows = 4096;
	}

	void packet(std::span<const std::byte> bytes)
	{
		const auto pkt = nfring::parse_packet(bytes);
		if (!pkt || !pkt->has_ports)
			return;
		const auto key = nfring::flow_key::of(*pkt);
		if (done_.count(key))
			return;
		if (pkt->proto == IPPROTO_UDP) {
			const auto ob =
			        insp_.observe_udp(*pkt, key, false, now_);
			if (ob.slot != nfring::inspector::no_slot) {
				finish(ob, key, *pkt);
				return;
			}
			// Each datagram is judged by itself: a flow (a reused
			// source port) may ask many names.
			if (auto q = nfring::l7::dns_qname(pkt->payload))
				print("dns.qname", *q, *pkt);
			return;
		}
		if (pkt->proto != IPPROTO_TCP)
			return;
		const auto ob = insp_.observe_tcp(*pkt, key, false, now_);
		if (ob.slot != nfring::inspector::no_slot)
			finish(ob, key, *pkt);
	}

private:
	// Prints a flow's names once its first message is decided.
	void finish(const nfring::inspector::observation &ob,
	            const nfring::flow_key &key, const nfring::packet_view &p)
	{
		const auto *pkt = &p;
		if (ob.inconsistent || ob.overflow) {
			insp_.release(ob.slot);
			done_.insert(key);
			return;
		}
		if (!insp_.decided(ob.slot))
			return;
		const auto &st = *ob.state;
		using nfring::l7::status;
		if (st.tls == status::done && !st.hello.sni.empty())
			print("tls.sni", st.hello.sni, *pkt);
		if (st.quic == status::done && !st.hello.sni.empty())
			print("quic.sni", st.hello.sni, *pkt);
		if (st.http == status::done && !st.http_host.empty())
			print("http.host", st.http_host, *pkt);
		if (st.dns == status::done)
			for (const auto &q : st.qnames)
				print("dns.qname", q, *pkt);
		insp_.release(ob.slot);
		done_.insert(key);
	}

	// The packet that completed a message is the client's.
	void print(const char *field, const std::string &name,
	           const nfring::packet_view &p)
	{
		std::printf("%s\t%s\t%s\t%s\t%s\n", capture_.c_str(), field,
		            name.c_str(), endpoint(p, p.src, p.sport).c_str(),
		            endpoint(p, p.dst, p.dport).c_str());
	}

	std::string capture_;
	nfring::inspect_options opts_;
	nfring::inspector insp_{opts_};
	std::unordered_set<nfring::flow_key, nfring::flow_key_hash> done_;
	nfring::inspector::clock::time_point now_ =
	        nfring::inspector::clock::now();
};

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: nfring-pcap-names CAPTURE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		std::string name = argv[i];
		if (const auto slash = name.rfind('/');
		    slash != std::string::npos)
			name = name.substr(slash + 1);
		try {
			test::pcap_reader reader(argv[i]);
			scanner s(name);
			while (auto f = reader.next())
				s.packet(f->ip_packet);
			if (!reader.error().empty())
				std::fprintf(stderr,
				             "nfring-pcap-names: %s: %s (names "
				             "before it are kept)\n",
				             argv[i], reader.error().c_str());
		} catch (const std::exception &e) {
			std::fprintf(stderr, "nfring-pcap-names: %s: %s\n",
			             argv[i], e.what());
		}
	}
	return 0;
}
