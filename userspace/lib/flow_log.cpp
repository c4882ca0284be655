#include "nfring/flow_log.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <boost/lockfree/spsc_queue.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <syslog.h>
#include <system_error>

namespace nfring
{

struct flow_log_queue::impl {
	explicit impl(std::size_t n) : q(n) {}
	boost::lockfree::spsc_queue<flow_event> q;
};

flow_log_queue::flow_log_queue(std::size_t capacity)
    : q_(std::make_unique<impl>(std::max<std::size_t>(capacity, 2)))
{
}

flow_log_queue::~flow_log_queue() = default;

bool flow_log_queue::push(const flow_event &e)
{
	if (q_->q.push(e))
		return true;
	dropped_++;
	return false;
}

bool flow_log_queue::pop(flow_event &e)
{
	return q_->q.pop(e);
}

namespace
{

void copy_name(char (&dst)[254], const std::string &s)
{
	const std::size_t n = std::min(s.size(), sizeof(dst) - 1);
	std::memcpy(dst, s.data(), n);
	dst[n] = '\0';
}

// JSON string escaping; names are printable ASCII already, ALPN ids and
// rule paths need not be.
void json_string(std::string &out, std::string_view s)
{
	out += '"';
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			out += '\\';
			out += static_cast<char>(c);
		} else if (c < 0x20 || c >= 0x7f) {
			char buf[8];
			std::snprintf(buf, sizeof(buf), "\\u%04x", c);
			out += buf;
		} else {
			out += static_cast<char>(c);
		}
	}
	out += '"';
}

std::string addr(const flow_event &e, const ip_addr &a)
{
	char buf[INET6_ADDRSTRLEN];
	if (e.family == 4)
		inet_ntop(AF_INET, &a[12], buf, sizeof(buf));
	else
		inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
	return buf;
}

const char *field_name(l7_field f)
{
	switch (f) {
	case l7_field::http_host:
		return "http.host";
	case l7_field::tls_sni:
		return "tls.sni";
	case l7_field::dns_qname:
		return "dns.qname";
	case l7_field::tls_alpn:
		return "tls.alpn";
	case l7_field::tls_ech:
		return "tls.ech";
	case l7_field::quic_sni:
		return "quic.sni";
	case l7_field::quic_alpn:
		return "quic.alpn";
	case l7_field::none:
		break;
	}
	return nullptr;
}

} // namespace

void flow_event::set_fields(const l7_state &st)
{
	using l7::status;
	if (st.tls == status::done || st.quic == status::done) {
		copy_name(sni, st.hello.sni);
		ech = st.hello.ech ? 1 : 0;
		alpn_len = 0;
		for (const auto &id : st.hello.alpn) {
			if (alpn_len + id.size() + 1 > sizeof(alpn))
				break;
			std::memcpy(alpn + alpn_len, id.data(), id.size());
			alpn_len = static_cast<std::uint16_t>(alpn_len +
			                                      id.size());
			alpn[alpn_len++] = '\0';
		}
	}
	if (st.http == status::done)
		copy_name(host, st.http_host);
	if (st.dns == status::done && !st.qnames.empty())
		copy_name(qname, st.qnames.front());
}

std::string flow_log::format(const flow_event &e, const std::string &rules)
{
	std::string out;
	out.reserve(400);
	const std::time_t secs =
	        static_cast<std::time_t>(e.unix_ns / 1000000000);
	std::tm tm{};
	gmtime_r(&secs, &tm);
	char ts[64];
	std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
	              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	              tm.tm_min, tm.tm_sec,
	              static_cast<unsigned>(e.unix_ns % 1000000000 / 1000));
	out += "{\"ts\":\"";
	out += ts;
	out += "\",\"queue\":" + std::to_string(e.queue);
	out += ",\"proto\":";
	out += e.proto == IPPROTO_TCP   ? "\"tcp\""
	       : e.proto == IPPROTO_UDP ? "\"udp\""
	                                : std::to_string(e.proto);
	out += ",\"src\":\"" + addr(e, e.src) + "\"";
	out += ",\"sport\":" + std::to_string(e.sport);
	out += ",\"dst\":\"" + addr(e, e.dst) + "\"";
	out += ",\"dport\":" + std::to_string(e.dport);
	if (e.line) {
		out += ",\"rule\":";
		json_string(out, rules + ":" + std::to_string(e.line));
	}
	out += ",\"action\":";
	out += e.action == action_kind::drop     ? "\"drop\""
	       : e.action == action_kind::mark   ? "\"mark\""
	       : e.action == action_kind::bypass ? "\"bypass\""
	                                         : "\"accept\"";
	if (e.action == action_kind::mark)
		out += ",\"mark\":" + std::to_string(e.mark);
	out += ",\"reason\":";
	out += e.reason == log_reason::rule        ? "\"rule\""
	       : e.reason == log_reason::undecided ? "\"undecided\""
	                                           : "\"inconsistent\"";
	if (const char *f = field_name(e.field)) {
		out += ",\"field\":\"";
		out += f;
		out += "\"";
	}
	if (e.sni[0]) {
		out += ",\"sni\":";
		json_string(out, e.sni);
	}
	if (e.host[0]) {
		out += ",\"host\":";
		json_string(out, e.host);
	}
	if (e.qname[0]) {
		out += ",\"qname\":";
		json_string(out, e.qname);
	}
	if (e.alpn_len) {
		out += ",\"alpn\":[";
		for (std::size_t i = 0; i < e.alpn_len;) {
			const std::size_t n = std::strlen(e.alpn + i);
			if (i)
				out += ',';
			json_string(out, std::string_view(e.alpn + i, n));
			i += n + 1;
		}
		out += "]";
	}
	if (e.ech >= 0)
		out += e.ech ? ",\"ech\":true" : ",\"ech\":false";
	out += "}";
	return out;
}

flow_log::flow_log(const std::string &target, std::string rules_path,
                   std::size_t per_queue)
    : rules_path_(std::move(rules_path)), per_queue_(per_queue)
{
	if (target == "syslog") {
		syslog_ = true;
		openlog("nfring-worker", LOG_PID, LOG_DAEMON);
	} else if (target == "-") {
		file_ = stdout;
	} else if (target == "stderr") {
		file_ = stderr;
	} else {
		file_ = std::fopen(target.c_str(), "ae");
		if (!file_)
			throw std::system_error(errno, std::generic_category(),
			                        "--log " + target);
		own_file_ = true;
	}
	thread_ = std::thread([this] { run(); });
}

flow_log::~flow_log()
{
	stop_ = true;
	if (thread_.joinable())
		thread_.join();
	if (own_file_)
		std::fclose(file_);
	if (syslog_)
		closelog();
}

flow_log_queue *flow_log::open_queue()
{
	std::lock_guard<std::mutex> lock(mu_);
	queues_.push_back(std::make_unique<flow_log_queue>(per_queue_));
	return queues_.back().get();
}

std::uint64_t flow_log::dropped() const
{
	std::uint64_t n = 0;
	auto &self = const_cast<flow_log &>(*this);
	std::lock_guard<std::mutex> lock(self.mu_);
	for (const auto &q : queues_)
		n += q->dropped();
	return n;
}

void flow_log::write_line(const std::string &line)
{
	if (syslog_) {
		syslog(LOG_INFO, "%s", line.c_str());
	} else {
		std::fputs(line.c_str(), file_);
		std::fputc('\n', file_);
	}
	written_++;
}

void flow_log::run()
{
	flow_event e;
	for (;;) {
		// stop_ is read before draining, so events pushed before the
		// destructor ran are all written.
		const bool last = stop_.load();
		bool any = false;
		{
			std::lock_guard<std::mutex> lock(mu_);
			for (auto &q : queues_)
				while (q->pop(e)) {
					write_line(format(e, rules_path_));
					any = true;
				}
		}
		if (any && file_)
			std::fflush(file_);
		if (last)
			return;
		if (!any)
			std::this_thread::sleep_for(
			        std::chrono::milliseconds(20));
	}
}

} // namespace nfring
