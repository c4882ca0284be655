// Per-flow L7 inspection for one worker thread: follows each flow's client
// until its first message (ClientHello, HTTP request, DNS query) is
// complete, so that rules read fields that span segments.
//
// A flow gets a slot on its first packet while the rules read L7 fields.
// The client is the side that sent the SYN (or, for a flow picked up
// mid-stream, the first packet seen).  Its payload is put in sequence order
// (tcp_stream) and the parsers run on the bytes so far; while one of them
// needs more, packets bringing those bytes may be held by the caller.
//
// Validation before a packet's bytes are used: a TCP segment needs the ACK
// flag (or SYN), a sequence number inside the window, and an L4 checksum
// that holds whenever the sender finished it (a receiver discards a segment
// whose checksum fails, so such a fake must not decide anything).  A
// segment that repeats a range with other bytes makes the flow
// inconsistent.  Not validated: IP options, TCP options (MD5, timestamps
// that PAWS would reject), a TTL too short to reach the server.  The last
// is why a decision is kept in the slot, where a conflicting
// retransmission still shows, until the server acknowledges every byte the
// decision read; only then may the caller cache it for the flow.
//
// Patterns: while the rules hold content or regex matches that may apply
// to a flow's client, its contiguous bytes are scanned in stream mode as
// they arrive (l7/patterns.hpp), and the slot is kept until its window is
// full or the client ends, so that a match split across segments is seen.
//
// Memory: slots and stream buffers are allocated once (flows x
// stream_bytes of address space, touched only as used); nothing is
// allocated per packet once a slot's strings have grown.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "nfring/flow_table.hpp"
#include "nfring/l7/quic.hpp"
#include "nfring/packet.hpp"
#include "nfring/rules.hpp"
#include "nfring/tcp_stream.hpp"

namespace nfring
{

struct inspect_options {
	std::size_t stream_bytes = 16384; // first bytes kept per flow
	std::size_t stream_segments = 32; // pieces while out of order
	std::size_t flows = 4096;         // flows inspected at once
	std::chrono::seconds idle{10};    // a slot without packets is freed
};

struct inspect_counters {
	std::uint64_t slots_used = 0, evicted = 0, overflow = 0;
	std::uint64_t bad_checksum = 0, out_of_window = 0, conflicts = 0;
	std::uint64_t no_ack_flag = 0, too_long = 0, too_scattered = 0;
	std::uint64_t truncated = 0;
	std::uint64_t quic_flows = 0, quic_rejected = 0;
};

class inspector
{
public:
	using clock = std::chrono::steady_clock;
	static constexpr std::uint32_t no_slot = 0xffffffffu;

	explicit inspector(const inspect_options &opts);
	~inspector();
	inspector(const inspector &) = delete;
	inspector &operator=(const inspector &) = delete;

	// What the rules should see for this packet.
	struct observation {
		const l7_state *state = nullptr;
		std::uint32_t slot = no_slot;
		// The stream went wrong: conflicting bytes, too scattered,
		// longer than the window while still incomplete.  The caller
		// decides the flow without its fields.
		bool inconsistent = false;
		bool overflow = false;
		bool fresh = false; // the slot was taken for this packet
		// The packet is the client's, and the slot scans its stream
		// for patterns: its payload is in `hits` already.
		bool in_stream = false;
		// Patterns seen so far in the client's stream; null when the
		// slot does not scan.
		const l7::pattern_hits *hits = nullptr;
	};

	// The rules the slots serve, and the scanner of their patterns (null
	// when they have none).  A new scanner closes every stream of the
	// old one; slots in use are scanned again from their first byte.
	void set_rules(std::shared_ptr<const ruleset> rules,
	               l7::pattern_scanner *scanner);

	// Feeds a TCP packet of a flow the rules may read L7 fields of.
	// checksum_final: the sender finished the L4 checksum (no
	// NFRING_RX_CSUM_NOTREADY).
	observation observe_tcp(const packet_view &pkt, const flow_key &key,
	                        bool checksum_final, clock::time_point now);
	// Feeds a UDP datagram of a flow the rules may read QUIC fields of:
	// a flow gets a slot when its first datagram looks like a client
	// Initial, whose protection is then removed (l7/quic.hpp) and whose
	// CRYPTO frames are put together until the ClientHello is complete.
	// No slot for anything else (DNS is judged per datagram).
	observation observe_udp(const packet_view &pkt, const flow_key &key,
	                        bool checksum_final, clock::time_point now);

	// A slot's fields are all decided (none pending), and its pattern
	// scanning is over.
	bool decided(std::uint32_t slot) const;
	const l7::pattern_hits *hits(std::uint32_t slot) const;
	// The server acknowledged every byte the decision read: a cached
	// decision can no longer be contradicted by a retransmission.
	bool acknowledged(std::uint32_t slot) const;
	const flow_key &key(std::uint32_t slot) const;
	bool in_use(std::uint32_t slot) const { return slots_[slot].used; }
	// The slot's fields, for judging held packets again (which may set
	// can_wait: they brought the message's bytes).
	l7_state &state(std::uint32_t slot) { return slots_[slot].state; }
	std::size_t capacity() const { return slots_.size(); }
	void release(std::uint32_t slot);

	// Frees slots idle longer than opts.idle whose holders let go
	// (busy(slot) false); returns how many.
	template <class Busy>
	std::size_t expire(clock::time_point now, Busy busy)
	{
		std::size_t n = 0;
		for (std::uint32_t i = lru_tail_; i != no_slot;) {
			const std::uint32_t prev = slots_[i].lru_prev;
			if (now - slots_[i].last_seen <= opts_.idle)
				break;
			if (!busy(i)) {
				release(i);
				n++;
			}
			i = prev;
		}
		return n;
	}
	std::size_t size() const { return map_.size(); }
	const inspect_counters &counters() const { return c_; }
	void clear();

	// The caller's per-slot mark of packets it holds, so that eviction
	// skips such slots.
	void set_pinned(std::uint32_t slot, bool pinned);

private:
	struct slot {
		flow_key key{};
		ip_addr client{};
		std::uint16_t client_port = 0;
		bool used = false;
		bool pinned = false;
		bool inconsistent = false, overflow = false;
		bool ended = false; // client FIN or RST reached
		bool settled = false; // nothing pending: decided_len is set
		bool acked = false;   // server acknowledged decided_len
		std::uint32_t decided_len = 0;
		tcp_stream stream;
		l7_state state;
		bool quic = false;
		// Pattern scanning of the client's stream (patterns_ below).
		bool scans = false;
		std::uint32_t scanned = 0; // bytes of contiguous() scanned
		clock::time_point last_seen{};
		std::uint32_t lru_prev = no_slot, lru_next = no_slot;
	};

	std::uint32_t acquire(const flow_key &key, clock::time_point now);
	std::uint32_t slot_for(const flow_key &key, clock::time_point now,
	                       bool start, bool &fresh);
	void touch(std::uint32_t i, clock::time_point now);
	void unlink(std::uint32_t i);
	void run_parsers(slot &s, bool at_end);
	bool scanning(const slot &s) const;
	void scan_new_bytes(std::uint32_t i);
	// Once nothing is pending, what the decision read and must see
	// acknowledged.
	void settle(slot &s);
	bool usable(const packet_view &pkt, bool checksum_final, slot &s,
	            observation &ob);

	inspect_options opts_;
	std::vector<slot> slots_;
	std::unique_ptr<std::byte[]> buffers_;
	std::vector<std::uint32_t> free_;
	std::unordered_map<flow_key, std::uint32_t, flow_key_hash> map_;
	std::uint32_t lru_head_ = no_slot, lru_tail_ = no_slot;
	std::vector<std::byte> scratch_; // joins TLS records
	// QUIC: one decoder (OpenSSL contexts) for all flows; a flow's
	// Initial state is made on its first Initial and kept for the slot.
	std::unique_ptr<l7::quic::initial_decoder> quic_;
	std::vector<std::unique_ptr<l7::quic::initial_state>> quic_states_;
	std::shared_ptr<const ruleset> rules_;
	bool tcp_fields_ = true;
	l7::pattern_scanner *scanner_ = nullptr;
	struct pattern_stream {
		hs_stream *stream = nullptr; // opened on first use, then reset
		l7::pattern_hits hits;
	};
	std::vector<pattern_stream> pstreams_; // per slot
	inspect_counters c_;
};

} // namespace nfring
