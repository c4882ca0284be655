#include "nfring/worker.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sstream>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>

#include "nfring/packet.hpp"

namespace nfring
{

namespace
{

// user_data of the worker's io_uring requests.
enum : std::uint64_t {
	ud_poll = 1,  // multishot poll: the device has packets
	ud_event = 2, // eventfd: stop or reload
	ud_timer = 3, // flow expiry and stats
	ud_kick = 4,  // write to the device: wake the reinject work
	ud_hold = 5,  // the oldest held packet's time runs out
};

[[noreturn]] void throw_uring(int neg_err, const char *what)
{
	throw std::system_error(-neg_err, std::generic_category(), what);
}

} // namespace

struct queue_worker::uring {
	io_uring ring{};
	__kernel_timespec tick{};
	__kernel_timespec hold_wait{};
	std::uint64_t event_value = 0;
	// Eight bytes: the device takes any write, an eventfd only these.
	std::uint64_t kick_value = 1;
	// Task work (a poll's wake-up, the timer) deferred to our own
	// io_uring_enter rather than signalled to the thread as it happens
	// (6.1+): a wake-up costs less.  The ring then belongs to the thread
	// that enables it (run()); kernels without it get a plain ring.
	bool deferred = false;
	explicit uring(bool defer)
	{
		int r = -EINVAL;
		if (defer) {
			r = io_uring_queue_init(
			        64, &ring,
			        IORING_SETUP_SINGLE_ISSUER |
			                IORING_SETUP_DEFER_TASKRUN |
			                IORING_SETUP_R_DISABLED);
			deferred = r == 0;
		}
		if (r == -EINVAL)
			r = io_uring_queue_init(64, &ring, 0);
		if (r < 0)
			throw_uring(r, "io_uring_queue_init");
	}
	~uring() { io_uring_queue_exit(&ring); }
	io_uring_sqe *sqe()
	{
		io_uring_sqe *s = io_uring_get_sqe(&ring);
		if (!s) { // full: make room by submitting
			io_uring_submit(&ring);
			s = io_uring_get_sqe(&ring);
		}
		return s;
	}
};

std::string probe_io_uring()
{
	io_uring ring{};
	const int r = io_uring_queue_init(4, &ring, 0);
	if (r < 0)
		throw std::system_error(
		        -r, std::generic_category(),
		        "io_uring_setup (is io_uring disabled by "
		        "kernel.io_uring_disabled or a seccomp filter?)");
	const unsigned features = ring.features;
	io_uring_probe *probe = io_uring_get_probe_ring(&ring);
	io_uring_queue_exit(&ring);
	if (!probe)
		throw std::system_error(ENOSYS, std::generic_category(),
		                        "io_uring opcode probe");
	struct need {
		int op;
		const char *name;
	};
	static constexpr need needs[] = {
	        {IORING_OP_POLL_ADD, "POLL_ADD"},
	        {IORING_OP_READ, "READ"},
	        {IORING_OP_WRITE, "WRITE"},
	        {IORING_OP_TIMEOUT, "TIMEOUT"},
	};
	std::string missing, have;
	for (const auto &n : needs) {
		if (io_uring_opcode_supported(probe, n.op)) {
			have += have.empty() ? "" : " ";
			have += n.name;
		} else {
			missing += missing.empty() ? "" : ", ";
			missing += n.name;
		}
	}
	io_uring_free_probe(probe);
	if (!missing.empty())
		throw std::system_error(ENOSYS, std::generic_category(),
		                        "io_uring lacks opcodes: " + missing);
	if (!(features & IORING_FEAT_NODROP))
		throw std::system_error(ENOSYS, std::generic_category(),
		                        "io_uring lacks IORING_FEAT_NODROP "
		                        "(kernel 5.5+ needed)");
	std::ostringstream out;
	out << "io_uring: opcodes " << have << "; features 0x" << std::hex
	    << features << " (NODROP"
	    << ((features & IORING_FEAT_FAST_POLL) ? " FAST_POLL" : "")
	    << ((features & IORING_FEAT_EXT_ARG) ? " EXT_ARG" : "") << ")";
	return out.str();
}

queue_worker::queue_worker(std::uint16_t queue_num, const worker_options &opts,
                           shared_rules &rules, stats_queue_slot *stats)
    : queue_worker(
              [&] {
	              bind_options b = opts.bind;
	              b.queue_num = queue_num;
	              return queue(b);
              }(),
              opts, rules, stats)
{
}

queue_worker::queue_worker(queue &&q, const worker_options &opts,
                           shared_rules &rules, stats_queue_slot *stats)
    : queue_num_(q.queue_num()), opts_(opts), shared_(rules), q_(std::move(q)),
      ring_(std::make_unique<uring>(!opts.busy_poll)), stats_(stats)
{
	std::vector<std::unique_ptr<filter>> filters;
	for (const auto &make : opts.filters)
		filters.push_back(make());
	verdict_options vo;
	vo.inspect = opts.inspect;
	vo.hold_time = opts.hold_time;
	vo.hold_packets = opts.hold_packets;
	vo.undecided = opts.undecided;
	vo.inconsistent = opts.inconsistent;
	vo.flow_max = opts.flow_max;
	vo.flow_idle = opts.flow_idle;
	vo.bypass = q_.layout().ct_bypass_mark != 0;
	const std::uint32_t entries = q_.layout().ring_entries;
	engine_ = std::make_unique<verdict_engine>(
	        vo, entries, std::move(filters),
	        [this](const nfring_rx_desc &d) { return q_.packet(d); },
	        queue_num_);
	out_.reserve(entries);
	if (opts.log)
		engine_->set_log(opts.log->open_queue());
	event_fd_ = ::eventfd(0, EFD_CLOEXEC);
	if (event_fd_ < 0)
		throw std::system_error(errno, std::generic_category(),
		                        "eventfd");
	reload_if_changed();
	skip_cqe_ = ring_->ring.features & IORING_FEAT_CQE_SKIP;
	kick_every_ = std::max<std::uint32_t>(q_.layout().ring_entries / 4, 1);

	// Arm the three standing requests.
	io_uring_sqe *s = ring_->sqe();
	io_uring_prep_poll_multishot(s, q_.poll_fd(), POLLIN);
	io_uring_sqe_set_data64(s, ud_poll);
	poll_armed_ = true;
	s = ring_->sqe();
	io_uring_prep_read(s, event_fd_, &ring_->event_value,
	                   sizeof(ring_->event_value), 0);
	io_uring_sqe_set_data64(s, ud_event);
	ring_->tick.tv_sec = 1;
	s = ring_->sqe();
	io_uring_prep_timeout(s, &ring_->tick, 0, 0);
	io_uring_sqe_set_data64(s, ud_timer);
	if (ring_->deferred)
		return; // submitted by run(), on the ring's own thread
	const int r = io_uring_submit(&ring_->ring);
	if (r < 0)
		throw_uring(r, "io_uring_submit");
}

queue_worker::~queue_worker()
{
	if (event_fd_ >= 0)
		::close(event_fd_);
}

void queue_worker::notify()
{
	const std::uint64_t one = 1;
	// An eventfd write of 1 cannot fail short of counter overflow.
	(void)!::write(event_fd_, &one, sizeof(one));
}

void queue_worker::reload_if_changed()
{
	const std::uint64_t gen = shared_.generation.load();
	if (have_rules_ && gen == generation_)
		return;
	generation_ = gen;
	have_rules_ = true;
	engine_->set_rules(shared_.current.load(), out_,
	                   verdict_engine::clock::now());
}

worker_counters queue_worker::counters() const
{
	worker_counters c = c_;
	static_cast<verdict_counters &>(c) = engine_->counters();
	return c;
}

// Puts decided verdicts on the ring, as many as fit; true when none wait.
bool queue_worker::flush_verdicts()
{
	if (out_.empty())
		return true;
	auto &vr = q_.verdicts();
	const std::uint32_t n =
	        vr.reserve(static_cast<std::uint32_t>(out_.size()));
	for (std::uint32_t i = 0; i < n; i++)
		vr.slot(i) = out_[i];
	if (n) {
		q_.publish_verdicts(n);
		unkicked_ += n;
		if (n == out_.size())
			out_.clear();
		else
			out_.erase(out_.begin(), out_.begin() + n);
	}
	return out_.empty();
}

// The kernel lags behind on verdicts: make sure it drains.
void queue_worker::on_lag()
{
	if (q_.kernel_wants_kick()) {
		kick();
		io_uring_submit(&ring_->ring);
		c_.syscalls++;
	}
	unkicked_ = 0;
}

std::size_t queue_worker::process_batch()
{
	auto &rx = q_.rx();
	if (!flush_verdicts()) {
		on_lag();
		return 0;
	}
	std::uint32_t n = rx.peek(static_cast<std::uint32_t>(opts_.batch));
	if (!n)
		return 0;
	// A verdict slot per packet; the ring sizes match, so this is all of
	// them unless the kernel lags behind on verdicts.
	n = q_.verdicts().reserve(n);
	if (!n) {
		on_lag();
		return 0;
	}
	const auto now = verdict_engine::clock::now();
	if (engine_->held())
		engine_->expire_holds(now, out_);
	for (std::uint32_t i = 0; i < n; i++)
		engine_->judge(rx.at(i), now, out_);
	rx.release(n);
	flush_verdicts();
	c_.batches++;
	awake_packets_ += n;
	if (unkicked_ >= kick_every_) {
		// A worker that never finds the ring empty never sleeps: its
		// kick (if due) goes out now, and the same io_uring_enter
		// collects the timer's and the eventfd's completions.
		kick_if_due(false);
		io_uring_submit_and_get_events(&ring_->ring);
		c_.syscalls++;
	}
	return n;
}

// Queues a write to the device: the kernel applies the verdicts inside
// it (K2).  Success posts no completion where the kernel can skip it, so
// a kick queued before a sleep does not end that sleep.
void queue_worker::kick()
{
	io_uring_sqe *s = ring_->sqe();
	io_uring_prep_write(s, q_.kick_fd(), &ring_->kick_value,
	                    sizeof(ring_->kick_value), 0);
	io_uring_sqe_set_data64(s, ud_kick);
	if (skip_cqe_)
		io_uring_sqe_set_flags(s, IOSQE_CQE_SKIP_SUCCESS);
	c_.kicks++;
}

// Kicks for the verdicts published since the last kick if the kernel's
// drain went idle (K2); a running drain sees them without one.  now:
// submit at once (one syscall) rather than with the next io_uring_enter.
bool queue_worker::kick_if_due(bool now)
{
	const bool due = unkicked_ && q_.kernel_wants_kick();
	unkicked_ = 0;
	if (!due)
		return false;
	kick();
	if (now) {
		io_uring_submit(&ring_->ring);
		c_.syscalls++;
	}
	return true;
}

// Before sleeping: coalesce wake-ups only when the last wake-up was
// worth more than a few packets, so an idle queue keeps its latency.
void queue_worker::choose_wake_mode()
{
	const bool want = opts_.coalesce_usecs && opts_.wake_batch > 1 &&
	                  awake_packets_ >= opts_.coalesce_min;
	if (want == coalescing_)
		return;
	coalescing_ = want;
	q_.set_wake_coalescing(want ? opts_.wake_batch : 1,
	                       want ? opts_.coalesce_usecs : 0);
}

void queue_worker::handle_completions(bool &stop)
{
	io_uring_cqe *cqe;
	unsigned head, seen = 0;
	io_uring_for_each_cqe(&ring_->ring, head, cqe)
	{
		seen++;
		switch (cqe->user_data) {
		case ud_poll:
			c_.wakeups++;
			q_.ack_wakeup();
			if (!(cqe->flags & IORING_CQE_F_MORE))
				poll_armed_ = false;
			break;
		case ud_event: {
			if (shared_.stop.load())
				stop = true;
			reload_if_changed();
			io_uring_sqe *s = ring_->sqe();
			io_uring_prep_read(s, event_fd_, &ring_->event_value,
			                   sizeof(ring_->event_value), 0);
			io_uring_sqe_set_data64(s, ud_event);
			break;
		}
		case ud_timer: {
			engine_->tick(verdict_engine::clock::now(), out_);
			publish_stats();
			if (opts_.stats_interval.count() &&
			    ++ticks_ % opts_.stats_interval.count() == 0)
				print_stats();
			io_uring_sqe *s = ring_->sqe();
			io_uring_prep_timeout(s, &ring_->tick, 0, 0);
			io_uring_sqe_set_data64(s, ud_timer);
			break;
		}
		case ud_hold:
			hold_timer_armed_ = false;
			engine_->expire_holds(verdict_engine::clock::now(),
			                      out_);
			break;
		case ud_kick:
			if (cqe->res < 0)
				std::fprintf(
				        stderr,
				        "nfring-worker: queue %u: kick: %s\n",
				        queue_num_, std::strerror(-cqe->res));
			break;
		default:
			break;
		}
	}
	io_uring_cq_advance(&ring_->ring, seen);
	if (!poll_armed_) {
		io_uring_sqe *s = ring_->sqe();
		io_uring_prep_poll_multishot(s, q_.poll_fd(), POLLIN);
		io_uring_sqe_set_data64(s, ud_poll);
		poll_armed_ = true;
	}
}

// A one-shot timeout at the oldest hold's deadline, so that a sleeping
// worker wakes to give up on it.
void queue_worker::arm_hold_timer()
{
	const auto due = engine_->next_deadline();
	if (hold_timer_armed_ || !due)
		return;
	const auto wait = std::max<verdict_engine::clock::duration>(
	        *due - verdict_engine::clock::now(),
	        std::chrono::milliseconds(1));
	const auto ns =
	        std::chrono::duration_cast<std::chrono::nanoseconds>(wait)
	                .count();
	ring_->hold_wait.tv_sec = ns / 1000000000;
	ring_->hold_wait.tv_nsec = ns % 1000000000;
	io_uring_sqe *s = ring_->sqe();
	io_uring_prep_timeout(s, &ring_->hold_wait, 0, 0);
	io_uring_sqe_set_data64(s, ud_hold);
	hold_timer_armed_ = true;
}

void queue_worker::run()
{
	if (ring_->deferred) {
		// Debian's liburing 2.3 does not export
		// io_uring_enable_rings: the register call it wraps.
		if (::syscall(__NR_io_uring_register, ring_->ring.ring_fd,
		              IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0)
			throw_uring(-errno, "IORING_REGISTER_ENABLE_RINGS");
		const int r = io_uring_submit(&ring_->ring);
		if (r < 0)
			throw_uring(r, "io_uring_submit");
	}
	bool stop = false;
	while (!stop) {
		handle_completions(stop);
		if (stop)
			break;
		if (process_batch()) {
			empty_polls_ = 0;
			continue;
		}
		if (opts_.busy_poll) {
			// The ring ran dry: kick for what we answered.  Re-arms
			// queued by handle_completions go out too; CQEs are
			// read from shared memory.
			kick_if_due(false);
			if (io_uring_sq_ready(&ring_->ring)) {
				io_uring_submit(&ring_->ring);
				c_.syscalls++;
			}
			// Spinning on an empty ring: let any other runnable
			// thread on this CPU (the application whose packets
			// we answer, say) run now rather than at the end of
			// our time slice.  Never happens while packets flow.
			if (++empty_polls_ >= 256) {
				empty_polls_ = 0;
				sched_yield();
				c_.syscalls++;
			}
			continue;
		}
		if (engine_->held()) {
			// Held packets do not wait past their time, whether
			// the worker sleeps or not.
			engine_->expire_holds(verdict_engine::clock::now(),
			                      out_);
			if (!flush_verdicts())
				continue;
			arm_hold_timer();
		}
		choose_wake_mode();
		if (!q_.prepare_sleep())
			continue;
		// One syscall: the kick for our verdicts (if due), re-arms,
		// and the wait for packets (poll), a stop/reload (eventfd)
		// or the timer.  Without CQE skipping the kick's completion
		// would end the wait at once, so it goes out first.
		kick_if_due(!skip_cqe_);
		c_.syscalls++;
		const int r = io_uring_submit_and_wait(&ring_->ring, 1);
		q_.end_sleep();
		awake_packets_ = 0;
		if (r < 0 && r != -EINTR)
			throw_uring(r, "io_uring_submit_and_wait");
	}
	// Stopping: everything already on the ring gets its verdict, and
	// held packets the undecided action.
	while (process_batch())
		;
	engine_->release_all(out_);
	while (!flush_verdicts()) {
		on_lag();
		sched_yield();
	}
	kick_if_due(true);
	publish_stats();
}

void queue_worker::publish_stats()
{
	if (!stats_)
		return;
	stats_queue_slot &s = *stats_;
	s.queue_num = queue_num_;
	const verdict_counters &v = engine_->counters();
	stats_store(s.packets, v.packets);
	stats_store(s.accepted, v.accepted);
	stats_store(s.dropped, v.dropped);
	stats_store(s.marked, v.marked);
	stats_store(s.flow_hits, v.flow_hits);
	stats_store(s.flows, engine_->flows());
	stats_store(s.flow_max, opts_.flow_max);
	stats_store(s.kicks, c_.kicks);
	stats_store(s.wakeups, c_.wakeups);
	stats_store(s.syscalls, c_.syscalls);
	// Called once per timer tick (1 s): the difference is packets/s.
	stats_store(s.pps, v.packets - packets_last_tick_);
	packets_last_tick_ = v.packets;
	const std::size_t n = std::min<std::size_t>(v.rule_hits.size(), 64);
	s.nrules = static_cast<std::uint32_t>(n);
	for (std::size_t i = 0; i < n; i++) {
		s.rule_line[i] = engine_->rules().rules()[i].line;
		stats_store(s.rule_hits[i], v.rule_hits[i]);
	}
}

std::string queue_worker::summary() const
{
	const verdict_counters &v = engine_->counters();
	const inspect_counters &in = engine_->inspect_stats();
	std::ostringstream out;
	out << "queue " << queue_num_ << ": packets " << v.packets
	    << " accepted " << v.accepted << " dropped " << v.dropped
	    << " marked " << v.marked << " bypassed " << v.bypassed
	    << " flow_hits " << v.flow_hits
	    << " flows " << engine_->flows() << " batches " << c_.batches
	    << " syscalls " << c_.syscalls << " kicks " << c_.kicks
	    << " wakeups " << c_.wakeups;
	if (engine_->rules().reads_tcp_l7() || engine_->rules().reads_quic() ||
	    v.held)
		out << "\n  l7: held " << v.held << " released " << v.released
		    << " undecided " << v.undecided << " inconsistent "
		    << v.inconsistent << " inspected " << in.slots_used
		    << " evicted " << in.evicted << " bad_checksum "
		    << in.bad_checksum << " out_of_window " << in.out_of_window
		    << " conflicts " << in.conflicts << " too_long "
		    << in.too_long << " too_scattered " << in.too_scattered
		    << " truncated " << in.truncated << " quic_flows "
		    << in.quic_flows << " quic_rejected " << in.quic_rejected;
	if (const auto &ps = engine_->rules().patterns())
		out << "\n  patterns: " << ps->size() << " in one database, "
		    << engine_->pattern_scans() << " scans of "
		    << engine_->pattern_bytes() << " bytes since the rules were loaded";
	for (std::size_t i = 0; i < engine_->filter_count(); i++)
		out << "\n  filter " << engine_->filter_name(i) << " hits "
		    << v.filter_hits[i];
	const ruleset &rs = engine_->rules();
	for (std::size_t i = 0; i < v.rule_hits.size(); i++)
		out << "\n  " << rs.source() << ":" << rs.rules()[i].line
		    << " hits " << v.rule_hits[i] << "  " << rs.rules()[i].text;
	return out.str();
}

void queue_worker::print_stats() const
{
	std::fprintf(stderr, "nfring-worker: %s\n", summary().c_str());
}

} // namespace nfring
