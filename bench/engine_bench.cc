// Micro benchmarks of the streaming engine through the public C++ API
// (leadscore/store.h): applying events to a hot member and to cold ones
// among many, a batch of events into a fresh store, advancing every member
// to a time, reading a member view, and the bytes of state per member.
//
// Durable state: writing and reading snapshots, and one member's state as
// bytes and back.
//
// Unless a name says otherwise the model is examples/models/community
// .textproto (caps, windows, once rules, fit rules, event tags with a ttl, a
// lifecycle and a flag: every evaluation does real work). "bench_model" is
// bench/compare/bench_model.textproto, the model of the peer comparison.
// Changes go to no sink (nullptr), as a host that only reads scores would
// run it; BM_ApplyBatch/.../sink:1 counts them in a trivial sink.
#include <malloc.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <map>
#include <numeric>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "bench/bench_util.h"
#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore::bench {
namespace {

constexpr int64_t kDay = 86400000;
constexpr int64_t kStart = 1704067200000;  // 2024-01-01T00:00:00Z

std::shared_ptr<const Model> Community() {
  static auto* m = new std::shared_ptr<const Model>(
      LoadModelOrDie(CommunityModelText(), "community.textproto"));
  return *m;
}
std::shared_ptr<const Model> CompareModel() {
  static auto* m = new std::shared_ptr<const Model>(
      LoadModelOrDie(CompareModelText(), "bench_model.textproto"));
  return *m;
}

class CountingSink : public ChangeSink {
 public:
  void OnChange(const Change& c) override { ++n; }
  int64_t n = 0;
};

std::string MemberId(int64_t m) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "m%07lld", static_cast<long long>(m + 1));
  return buf;
}

// A store with `n` members, each created by a group.join with a profile at
// kStart + its index (ms), kept across benchmark runs of the same size (the
// set-up of 1M members takes seconds). The benchmarks that use it move time
// forward only, so sharing it is harmless.
struct Population {
  std::unique_ptr<Store> store;
  std::vector<std::string> ids;
  int64_t now = 0;        // every member's clock is at or before this
  int64_t next_id = 0;    // for unique event ids
};

// `set` keeps populations apart: the apply benchmarks grow their members'
// state (the hot member gets hundreds of thousands of events), so the
// benchmarks of state bytes use a population of their own ("fresh").
Population& PopulationOf(int64_t n, const char* set = "shared") {
  static auto* cache =
      new std::map<std::pair<std::string, int64_t>, std::unique_ptr<Population>>();
  auto& slot = (*cache)[{set, n}];
  if (slot) return *slot;
  slot = std::make_unique<Population>();
  Population& p = *slot;
  p.store = std::make_unique<Store>(Community());
  p.ids.reserve(n);
  const KeyValue profile[] = {{"role", "end_user"},
                              {"industry", "manufacturing"},
                              {"employees", "120"},
                              {"identity", "store_owner"}};
  for (int64_t m = 0; m < n; ++m) {
    p.ids.push_back(MemberId(m));
    Event e;
    const std::string id = "j" + std::to_string(m);
    e.event_id = id;
    e.member_id = p.ids.back();
    e.has_time = true;
    e.time = kStart + m;
    e.type = "group.join";
    e.profile = profile;
    p.store->Apply(e, nullptr);
  }
  p.now = kStart + n;
  return p;
}

// The event types a busy member sends, in a fixed cycle.
const char* const kCycle[] = {
    "content.read",  "message.post",     "message.post",  "content.read",
    "message.react", "content.download", "course.attend", "quiz.answer",
    "message.post",  "poster.share",     "content.read",  "event.signup",
    "live.watch",    "invite.accepted",  "message.post",  "pricing.ask"};
constexpr int kCycleLen = sizeof(kCycle) / sizeof(kCycle[0]);

// One event with a fresh id "x<counter>" in `buf`.
Event NextEvent(Population& p, const std::string& member, int64_t time,
                int64_t k, char (&buf)[24]) {
  buf[0] = 'x';
  auto r = std::to_chars(buf + 1, buf + sizeof(buf), p.next_id++);
  Event e;
  e.event_id = std::string_view(buf, r.ptr - buf);
  e.member_id = member;
  e.has_time = true;
  e.time = time;
  e.type = kCycle[k % kCycleLen];
  e.value = 30;
  e.channel = "wechat_group";
  return e;
}

// One member among `members` receives every event, one minute apart (its
// state, windows and dedup ids stay in cache; the other members only make
// the index bigger).
void BM_ApplyHotMember(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)));
  const std::string& hot = p.ids[p.ids.size() / 2];
  char buf[24];
  int64_t k = 0;
  for (auto _ : state) {
    p.now += 60000;
    Event e = NextEvent(p, hot, p.now, k++, buf);
    p.store->Apply(e, nullptr);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["members"] = static_cast<double>(p.ids.size());
}
BENCHMARK(BM_ApplyHotMember)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20);

// Every event goes to a different member, in a scattered order over all
// `members` (each apply finds a member whose state is cold in cache).
void BM_ApplyColdMember(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)));
  const uint64_t n = p.ids.size();
  // A stride co-prime with n walks every member in a scattered order.
  uint64_t stride = 2654435761u % n;
  while (stride == 0 || std::gcd(stride, n) != 1) ++stride;
  uint64_t pos = 0;
  char buf[24];
  int64_t k = 0;
  for (auto _ : state) {
    pos = (pos + stride) % n;
    p.now += 1000;
    Event e = NextEvent(p, p.ids[pos], p.now, k++, buf);
    p.store->Apply(e, nullptr);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["members"] = static_cast<double>(n);
}
BENCHMARK(BM_ApplyColdMember)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20);

// A batch of `events` events (members = events / 20, skewed activity, time
// order) applied through Store::Apply into a fresh store: what a host does
// with a day's log, minus the reading.
struct Batch {
  std::vector<OwnedEvent> owned;
  EventViews views;
};
const Batch& BatchOf(int64_t events) {
  static auto* cache = new std::map<int64_t, std::unique_ptr<Batch>>();
  auto& slot = (*cache)[events];
  if (!slot) {
    slot = std::make_unique<Batch>();
    slot->owned = MakeEvents(events, std::max<int64_t>(1, events / 20));
    slot->views = ViewsOf(slot->owned);
  }
  return *slot;
}

void ApplyBatch(benchmark::State& state, std::shared_ptr<const Model> model) {
  const Batch& b = BatchOf(Cap(state.range(0)));
  const bool with_sink = state.range(1) != 0;
  int64_t changes = 0;
  for (auto _ : state) {
    Store store(model);
    CountingSink sink;
    for (const Event& e : b.views.events) store.Apply(e, with_sink ? &sink : nullptr);
    changes += sink.n;
    benchmark::DoNotOptimize(store.stats().events_applied);
  }
  state.SetItemsProcessed(state.iterations() * b.views.events.size());
  if (with_sink) {
    state.counters["changes_per_event"] =
        static_cast<double>(changes) / (state.iterations() * b.views.events.size());
  }
}
BENCHMARK_CAPTURE(ApplyBatch, community, Community())
    ->ArgNames({"events", "sink"})
    ->ArgsProduct({{1 << 12, 1 << 16, 1 << 20}, {0}})
    ->Args({1 << 16, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ApplyBatch, bench_model, CompareModel())
    ->ArgNames({"events", "sink"})
    ->ArgsProduct({{1 << 12, 1 << 16, 1 << 20}, {0}})
    ->Unit(benchmark::kMillisecond);

// Store::AdvanceAll: one evaluation of every member (tags, lifecycle,
// flags at the new time), a day later each iteration.
void BM_AdvanceAll(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)));
  for (auto _ : state) {
    p.now += kDay;
    p.store->AdvanceAll(p.now, nullptr);
  }
  state.SetItemsProcessed(state.iterations() * p.ids.size());
}
BENCHMARK(BM_AdvanceAll)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20)
    ->Unit(benchmark::kMillisecond);

// The same evaluations through Store::Advance, member by member in the
// caller's order: a lookup by id for each (AdvanceAll walks its members
// directly, after sorting them by id).
void BM_AdvanceEach(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)));
  for (auto _ : state) {
    p.now += kDay;
    for (const std::string& id : p.ids) p.store->Advance(id, p.now, nullptr);
  }
  state.SetItemsProcessed(state.iterations() * p.ids.size());
}
BENCHMARK(BM_AdvanceEach)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20)
    ->Unit(benchmark::kMillisecond);

// Store::Read: a member view by value (scores decayed to now, tags, counters,
// flags, ledger), members in a scattered order.
void BM_ReadMember(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)));
  const uint64_t n = p.ids.size();
  uint64_t pos = 0;
  for (auto _ : state) {
    pos = (pos + 2654435761u) % n;
    auto view = p.store->Read(p.ids[pos], p.now);
    benchmark::DoNotOptimize(view);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadMember)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20);

// Heap bytes of state per member: a store of `members` members, each with
// `events` events (a mix of types over 30 days), measured with mallinfo2
// (bytes in use, main arena and mmapped blocks) before and after. One
// iteration: the figure is the counter, not the time.
size_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

void StateBytes(benchmark::State& state, std::shared_ptr<const Model> model) {
  const int64_t members = Cap(state.range(0));
  const int64_t per_member = state.range(1);
  for (auto _ : state) {
    std::vector<std::string> ids;
    ids.reserve(members);
    for (int64_t m = 0; m < members; ++m) ids.push_back(MemberId(m));
    const KeyValue profile[] = {{"role", "decision_maker"},
                                {"industry", "accounting"},
                                {"employees", "250"},
                                {"identity", "store_owner"}};
    char buf[24];
    Population scratch;  // for NextEvent's ids only
    const size_t before = HeapInUse();
    auto store = std::make_unique<Store>(model);
    for (int64_t k = 0; k < per_member; ++k) {
      for (int64_t m = 0; m < members; ++m) {
        Event e = NextEvent(scratch, ids[m], kStart + k * (30 * kDay / per_member) + m,
                            k + m, buf);
        if (k == 0) {
          e.type = "group.join";
          e.profile = profile;
        }
        store->Apply(e, nullptr);
      }
    }
    const size_t after = HeapInUse();
    state.counters["bytes_per_member"] =
        static_cast<double>(after - before) / static_cast<double>(members);
    state.counters["members"] = static_cast<double>(store->stats().members);
    state.counters["events"] = static_cast<double>(store->stats().events_applied);
  }
}
BENCHMARK_CAPTURE(StateBytes, community, Community())
    ->ArgNames({"members", "events_per_member"})
    ->Args({1 << 20, 1})->Args({1 << 20, 8})
    ->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(StateBytes, bench_model, CompareModel())
    ->ArgNames({"members", "events_per_member"})
    ->Args({1 << 20, 8})
    ->Iterations(1)->Unit(benchmark::kMillisecond);

// --- Durable state (snapshots, member bytes) --------------------------------

// A file name in the temporary directory, removed when the benchmark ends.
struct TempPath {
  std::string path;
  explicit TempPath(const char* stem)
      : path(std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
             "/leadscore-bench-" + stem + "-" + std::to_string(::getpid())) {}
  ~TempPath() { std::remove(path.c_str()); }
};

int64_t FileSize(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  std::fseek(f, 0, SEEK_END);
  const int64_t n = std::ftell(f);
  std::fclose(f);
  return n;
}

// Store::SaveSnapshot of a store of N members (one group.join each, the
// community model; a population no other benchmark changes): members/s and snapshot bytes/s. Each save is atomic:
// a temporary file, fsync, rename, fsync of the directory, so small sizes
// measure the file system's fsync more than leadscore.
void BM_SnapshotWrite(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)), "fresh");
  TempPath file("snapshot-write");
  int64_t bytes = 0;
  for (auto _ : state) {
    absl::Status s = p.store->SaveSnapshot(file.path);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    state.PauseTiming();
    bytes += FileSize(file.path);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * p.ids.size());
  state.SetBytesProcessed(bytes);
  if (state.iterations() > 0) {
    state.counters["bytes_per_member"] =
        static_cast<double>(bytes) / state.iterations() / p.ids.size();
  }
}
BENCHMARK(BM_SnapshotWrite)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20)
    ->Unit(benchmark::kMillisecond);

// Store::LoadSnapshot of the same: a new store with every member restored
// (checksums, names matched against the model).
void BM_SnapshotRead(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)), "fresh");
  TempPath file("snapshot-read");
  if (absl::Status s = p.store->SaveSnapshot(file.path); !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  const int64_t size = FileSize(file.path);
  for (auto _ : state) {
    auto store = Store::LoadSnapshot(Community(), file.path);
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(store);
    state.PauseTiming();
    store->reset();  // freeing the store is not part of reading
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * p.ids.size());
  state.SetBytesProcessed(state.iterations() * size);
}
BENCHMARK(BM_SnapshotRead)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20)
    ->Unit(benchmark::kMillisecond);

// One member's state as bytes and back (a host that keeps member state in
// its own database: import, apply, export): ExportMember of members in a
// scattered order, and ImportMember of those bytes (replacing the member).
void BM_ExportMember(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)), "fresh");
  const uint64_t n = p.ids.size();
  uint64_t pos = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    pos = (pos + 2654435761u) % n;
    auto b = p.store->ExportMember(p.ids[pos]);
    bytes += b.ok() ? static_cast<int64_t>(b->size()) : 0;
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ExportMember)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20);

void BM_ImportMember(benchmark::State& state) {
  Population& p = PopulationOf(Cap(state.range(0)), "fresh");
  // A ring of exported members, imported back over themselves.
  std::vector<std::string> ring;
  const uint64_t n = p.ids.size();
  for (uint64_t k = 0, pos = 0; k < 1024; ++k) {
    pos = (pos + 2654435761u) % n;
    auto b = p.store->ExportMember(p.ids[pos]);
    if (b.ok()) ring.push_back(*std::move(b));
  }
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& b = ring[i++ % ring.size()];
    absl::Status s = p.store->ImportMember(b);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    bytes += static_cast<int64_t>(b.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ImportMember)->ArgName("members")->RangeMultiplier(32)->Range(1 << 10, 1 << 20);

// The C API's overhead on the ApplyBatch stream: bench/capi_bench.cc.

}  // namespace
}  // namespace leadscore::bench

BENCHMARK_MAIN();
