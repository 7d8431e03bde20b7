// The C API's overhead: the event streams of engine_bench's ApplyBatch
// (same events, same models) through bindings/c (libleadscore_c.so), one
// ls_store_apply call per event and one ls_store_apply_batch call for all,
// with and without a change callback. Compare with
// ApplyBatch/<model>/events:N/sink:S of engine_bench (the C++ path).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "leadscore/c.h"

namespace leadscore::bench {
namespace {

// A model loaded through the C API, kept for the whole run.
ls_model_t* CModel(const std::string& text, const char* name) {
  char* err = nullptr;
  ls_model_t* m = ls_model_load_text(text.data(), text.size(), name, &err);
  if (m == nullptr) {
    std::fprintf(stderr, "bench: model %s: %s\n", name, err ? err : "?");
    std::abort();
  }
  return m;
}
ls_model_t* Community() {
  static ls_model_t* m = CModel(CommunityModelText(), "community.textproto");
  return m;
}
ls_model_t* CompareModel() {
  static ls_model_t* m = CModel(CompareModelText(), "bench_model.textproto");
  return m;
}

// The events of engine_bench's ApplyBatch (MakeEvents, N/20 members) as
// ls_events over the owned strings.
struct CBatch {
  std::vector<OwnedEvent> owned;
  std::vector<ls_kv> kvs;
  std::vector<ls_event> events;
};
const CBatch& CBatchOf(int64_t n) {
  static auto* cache = new std::map<int64_t, std::unique_ptr<CBatch>>();
  auto& slot = (*cache)[n];
  if (slot) return *slot;
  slot = std::make_unique<CBatch>();
  CBatch& b = *slot;
  b.owned = MakeEvents(n, std::max<int64_t>(1, n / 20));
  size_t pairs = 0;
  for (const OwnedEvent& o : b.owned) pairs += o.attrs.size() + o.profile.size();
  b.kvs.reserve(pairs);  // never reallocates: the pointers below stay valid
  for (const OwnedEvent& o : b.owned) {
    ls_event e{};
    e.event_id = o.event_id.data();
    e.event_id_len = o.event_id.size();
    e.member_id = o.member_id.data();
    e.member_id_len = o.member_id.size();
    e.has_time = 1;
    e.time = o.time;
    e.type = o.type.data();
    e.type_len = o.type.size();
    e.group_id = o.group_id.data();
    e.group_id_len = o.group_id.size();
    e.channel = o.channel.data();
    e.channel_len = o.channel.size();
    e.value = o.value;
    e.attrs = b.kvs.data() + b.kvs.size();
    for (const auto& [k, v] : o.attrs) b.kvs.push_back({k.data(), k.size(), v.data(), v.size()});
    e.num_attrs = o.attrs.size();
    e.profile = b.kvs.data() + b.kvs.size();
    for (const auto& [k, v] : o.profile) b.kvs.push_back({k.data(), k.size(), v.data(), v.size()});
    e.num_profile = o.profile.size();
    b.events.push_back(e);
  }
  return b;
}

void CountChange(void* user, const ls_change* change) { ++*static_cast<int64_t*>(user); }

// mode 0: ls_store_apply per event; 1: one ls_store_apply_batch.
void CApiApply(benchmark::State& state, ls_model_t* (*model)(), int mode) {
  const CBatch& b = CBatchOf(Cap(state.range(0)));
  const bool with_callback = state.range(1) != 0;
  int64_t changes = 0;
  for (auto _ : state) {
    char* err = nullptr;
    ls_store_t* store = ls_store_create(model(), &err);
    if (with_callback) ls_store_set_callback(store, CountChange, &changes);
    int rc = LS_OK;
    if (mode == 0) {
      for (const ls_event& e : b.events) rc |= ls_store_apply(store, &e, &err);
    } else {
      rc = ls_store_apply_batch(store, b.events.data(), b.events.size(), &err);
    }
    if (rc != LS_OK) {
      state.SkipWithError(err ? err : "apply failed");
      ls_free(err);
      ls_store_destroy(store);
      break;
    }
    ls_store_destroy(store);  // as engine_bench's ApplyBatch frees its Store
  }
  state.SetItemsProcessed(state.iterations() * b.events.size());
  if (with_callback && state.iterations() > 0) {
    state.counters["changes_per_event"] =
        static_cast<double>(changes) / (state.iterations() * b.events.size());
  }
}
BENCHMARK_CAPTURE(CApiApply, community_each, Community, 0)
    ->ArgNames({"events", "callback"})
    ->ArgsProduct({{1 << 12, 1 << 16, 1 << 20}, {0}})
    ->Args({1 << 16, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(CApiApply, community_batch, Community, 1)
    ->ArgNames({"events", "callback"})
    ->Args({1 << 16, 0})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(CApiApply, bench_model_each, CompareModel, 0)
    ->ArgNames({"events", "callback"})
    ->ArgsProduct({{1 << 12, 1 << 16, 1 << 20}, {0}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace leadscore::bench

BENCHMARK_MAIN();
