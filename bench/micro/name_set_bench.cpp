// Name lists at blocklist scale: loading a million names from a file, the
// memory they take (the set's own count, and the process's RSS as a
// cross-check), and the cost of a lookup that hits and one that misses.
#include <benchmark/benchmark.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <malloc.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "nfring/name_set.hpp"

namespace
{

constexpr std::size_t list_names = 1000000;
constexpr std::size_t queries = 1 << 18; // spread over the whole table

// Host names shaped like a blocklist's: 2-4 labels of [a-z0-9-] ending in
// a popular top-level domain (a few two-label public suffixes among them).
class name_gen
{
public:
	explicit name_gen(std::uint64_t seed) : rng_(seed) {}

	std::string label()
	{
		static const char chars[] =
		        "abcdefghijklmnopqrstuvwxyz0123456789-";
		std::string s(3 + rng_() % 10, ' ');
		for (auto &c : s)
			c = chars[rng_() % 36]; // no '-' at the ends
		for (std::size_t i = 1; i + 1 < s.size(); i++)
			if (rng_() % 16 == 0)
				s[i] = '-';
		return s;
	}
	std::string name()
	{
		// Roughly by share of registered domains.
		static const char *tlds[] = {
		        "com", "com",   "com", "com", "com",    "com", "com",
		        "net", "net",   "org", "org", "de",     "ru",  "cn",
		        "uk",  "co.uk", "nl",  "br",  "com.br", "io",  "info",
		        "fr",  "jp",    "it",  "pl",  "xyz",    "top", "au"};
		std::string s = tlds[rng_() % std::size(tlds)];
		const unsigned r = rng_() % 100;
		for (unsigned n = r < 50 ? 1 : r < 85 ? 2 : 3; n; n--)
			s = label() + "." + s;
		return s;
	}
	bool coin() { return rng_() & 1; }

private:
	std::mt19937_64 rng_;
};

// One list, its file, and queries: names the list holds (an exact entry,
// or a name below a wildcard one) and fresh names it does not.
struct corpus {
	std::string path;
	std::vector<std::string> hits, misses;

	corpus()
	{
		name_gen gen(42);
		std::string text;
		std::vector<std::string> entries;
		for (std::size_t i = 0; i < list_names; i++) {
			std::string n = gen.name();
			if (gen.coin())
				n = "*." + n;
			text += n + "\n";
			entries.push_back(std::move(n));
		}
		for (std::size_t i = 0; i < queries; i++) {
			const std::string &e =
			        entries[i * (list_names / queries)];
			hits.push_back(e.starts_with("*.")
			                       ? gen.label() + e.substr(1)
			                       : e);
			misses.push_back(gen.name());
		}
		const char *tmp = std::getenv("TMPDIR");
		path = std::string(tmp ? tmp : "/tmp") + "/nfring-names-" +
		       std::to_string(::getpid()) + ".txt";
		std::ofstream(path, std::ios::binary) << text;
	}
	~corpus() { std::remove(path.c_str()); }
};

const corpus &shared_corpus()
{
	static const corpus c;
	return c;
}

const nfring::name_set &shared_set()
{
	static const nfring::name_set s =
	        nfring::name_set::load(shared_corpus().path);
	return s;
}

// Resident bytes of the process, with freed heap given back first so
// that only what is live counts.
std::size_t resident_bytes()
{
	::malloc_trim(0);
	std::ifstream statm("/proc/self/statm");
	std::size_t size = 0, resident = 0;
	statm >> size >> resident;
	return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

void BM_name_set_load_1M(benchmark::State &state)
{
	const std::string &path = shared_corpus().path;
	double names = 0, bytes = 0, rss = 0;
	for (auto _ : state) {
		state.PauseTiming();
		const std::size_t before = resident_bytes();
		state.ResumeTiming();
		const auto set = nfring::name_set::load(path);
		state.PauseTiming();
		names = static_cast<double>(set.size());
		bytes = static_cast<double>(set.memory_bytes());
		rss = static_cast<double>(resident_bytes()) -
		      static_cast<double>(before);
		state.ResumeTiming();
	}
	state.counters["names"] = names;
	state.counters["bytes_per_name"] = bytes / names;
	state.counters["rss_bytes_per_name"] = rss / names;
	state.counters["memory_MiB"] = bytes / (1 << 20);
	state.counters["file_bytes_per_name"] =
	        static_cast<double>(std::filesystem::file_size(path)) / names;
}
// One lookup per iteration, walking the queries in order: consecutive
// queries land in unrelated parts of the table, as packets' names would.
template <typename Lookup>
void run_lookups(benchmark::State &state, const std::vector<std::string> &q,
                 Lookup lookup)
{
	const auto &set = shared_set();
	std::size_t i = 0, found = 0;
	for (auto _ : state) {
		found += lookup(set, q[i]);
		i = (i + 1) & (queries - 1);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["found_share"] = static_cast<double>(found) /
	                                static_cast<double>(state.iterations());
}

bool contains(const nfring::name_set &s, const std::string &h)
{
	return s.contains(h);
}
bool match(const nfring::name_set &s, const std::string &h)
{
	return s.match(h).has_value();
}

void BM_name_set_contains_hit(benchmark::State &state)
{
	run_lookups(state, shared_corpus().hits, contains);
}
void BM_name_set_contains_miss(benchmark::State &state)
{
	run_lookups(state, shared_corpus().misses, contains);
}
void BM_name_set_match_hit(benchmark::State &state)
{
	run_lookups(state, shared_corpus().hits, match);
}
void BM_name_set_match_miss(benchmark::State &state)
{
	run_lookups(state, shared_corpus().misses, match);
}
// The same name every time: the table's lines stay in cache, so this is
// the hashing and comparing alone.
void BM_name_set_contains_hit_cached(benchmark::State &state)
{
	const auto &set = shared_set();
	const std::string &host = shared_corpus().hits[1];
	std::size_t found = 0;
	for (auto _ : state)
		found += set.contains(host);
	benchmark::DoNotOptimize(found);
	state.SetItemsProcessed(state.iterations());
}

} // namespace

BENCHMARK(BM_name_set_load_1M)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_name_set_contains_hit);
BENCHMARK(BM_name_set_contains_miss);
BENCHMARK(BM_name_set_match_hit);
BENCHMARK(BM_name_set_match_miss);
BENCHMARK(BM_name_set_contains_hit_cached);
