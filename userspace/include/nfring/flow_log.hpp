// Structured logs: one JSON line per decided flow, for rules marked `log`
// and for flows given up on (undecided, inconsistent).
//
// Queue threads never wait for the log: each has a bounded lock-free queue
// of fixed-size events, and one log thread formats and writes them.  An
// event that finds its queue full is dropped and counted, so a slow disk or
// a stalled syslog never stalls the rings.
//
//   {"ts":"2026-12-02T14:20:01.123456Z","queue":0,"proto":"tcp",
//    "src":"10.0.1.2","sport":40000,"dst":"10.0.2.2","dport":443,
//    "rule":"/etc/nfring/main.rules:3","action":"drop","reason":"rule",
//    "field":"tls.sni","sni":"www.blocked.example","alpn":["h2"],
//    "ech":false}
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nfring/packet.hpp"
#include "nfring/rules.hpp"

namespace nfring
{

enum class log_reason : std::uint8_t { rule, undecided, inconsistent };

// Trivially copyable: it travels through a lock-free queue.
struct flow_event {
	std::uint64_t unix_ns = 0;
	std::uint16_t queue = 0;
	std::uint8_t family = 0, proto = 0;
	ip_addr src{}, dst{};
	std::uint16_t sport = 0, dport = 0;
	std::uint32_t line = 0; // the rule's line; 0 when no rule decided
	log_reason reason = log_reason::rule;
	action_kind action = action_kind::accept;
	std::uint32_t mark = 0;
	l7_field field = l7_field::none; // what the rule matched on
	std::int8_t ech = -1;            // -1 unknown, 0 no, 1 yes
	// Names are at most 253 characters; ALPN ids joined by '\0'.
	char sni[254] = {}, host[254] = {}, qname[254] = {};
	char alpn[128] = {};
	std::uint16_t alpn_len = 0;

	// Copies what the flow's client said (fields known so far).
	void set_fields(const l7_state &st);
};

class flow_log_queue; // one per queue thread

class flow_log
{
public:
	// target: a file path (appended to), "-" for stdout, "stderr", or
	// "syslog".  rules_path is what FILE in "FILE:LINE" shows.  Throws
	// std::system_error when the file cannot be opened.
	flow_log(const std::string &target, std::string rules_path,
	         std::size_t per_queue = 4096);
	~flow_log(); // writes what is queued, then stops the thread
	flow_log(const flow_log &) = delete;
	flow_log &operator=(const flow_log &) = delete;

	// A queue for one producer thread (set-up time, not the hot path).
	flow_log_queue *open_queue();

	std::uint64_t written() const { return written_.load(); }
	std::uint64_t dropped() const;

	// The JSON line for an event (without the newline).
	static std::string format(const flow_event &e,
	                          const std::string &rules);

private:
	void run();
	void write_line(const std::string &line);

	std::string rules_path_;
	std::FILE *file_ = nullptr;
	bool own_file_ = false, syslog_ = false;
	std::size_t per_queue_;
	std::mutex mu_; // guards queues_ against open_queue
	std::vector<std::unique_ptr<flow_log_queue>> queues_;
	std::atomic<bool> stop_{false};
	std::atomic<std::uint64_t> written_{0};
	std::thread thread_;
};

class flow_log_queue
{
public:
	explicit flow_log_queue(std::size_t capacity);
	~flow_log_queue();
	// Never blocks: false (and counted) when the queue is full.
	bool push(const flow_event &e);
	bool pop(flow_event &e);
	std::uint64_t dropped() const { return dropped_.load(); }

private:
	struct impl;
	std::unique_ptr<impl> q_;
	std::atomic<std::uint64_t> dropped_{0};
};

} // namespace nfring
