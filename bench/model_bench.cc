// Micro benchmarks of the model: loading + checking + compiling a model
// (Model::LoadText), and evaluating compiled conditions (lib/expr), the
// innermost loop of every evaluation.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/bench_util.h"
#include "leadscore/model.h"
#include "lib/expr/expr.h"

namespace leadscore::bench {
namespace {

// The community model of examples/ (15 event rules, 4 fit rules, 7 tags, 8
// stages, a flag): models/s and model bytes/s.
void BM_ModelCompile_Community(benchmark::State& state) {
  const std::string text = CommunityModelText();
  for (auto _ : state) {
    auto m = Model::LoadText(text, "community.textproto");
    if (!m.ok()) state.SkipWithError("model does not load");
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ModelCompile_Community);

// A synthetic model with `rules` event rules (each with a condition), one
// counter and one state tag per 8 rules: items/s is rules compiled per
// second, bytes/s model text per second.
std::string SyntheticModel(int rules) {
  std::string t = "name: \"synthetic\"\n";
  t += "score { name: \"engagement\" half_life: \"30d\" min: 0 max: 1000 }\n";
  t += "score { name: \"intent\" half_life: \"14d\" }\n";
  t += "score { name: \"fit\" min: -100 max: 100 }\n";
  t += "score { name: \"lead\" formula: \"score.engagement + score.intent + score.fit\" }\n";
  t += "fit { name: \"dm\" when: \"member.role == 'decision_maker'\" score: \"fit\" points: 25 }\n";
  for (int i = 0; i < rules; ++i) {
    const std::string n = std::to_string(i);
    t += "rule { name: \"r" + n + "\" on: \"type" + n + ".*\" when: \"event.value >= " +
         n + " && event.attrs.topic in ['tax', 'audit']\" score: \"" +
         (i % 3 ? "engagement" : "intent") + "\" points: " + std::to_string(1 + i % 20) +
         (i % 5 == 0 ? " cap { max_points: 30 window: \"7d\" }" : "") + " }\n";
    if (i % 8 == 0) {
      t += "counter { name: \"c" + n + "\" on: \"type" + n + ".*\" window: \"14d\" }\n";
      t += "tag { name: \"t" + n + "\" when: \"counter.c" + n +
           " >= 3 || score.lead >= " + std::to_string(50 + i) + ".5\" }\n";
    }
  }
  return t;
}

void BM_ModelCompile_Rules(benchmark::State& state) {
  const std::string text = SyntheticModel(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto m = Model::LoadText(text, "synthetic.textproto");
    if (!m.ok()) {
      state.SkipWithError(std::string(m.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ModelCompile_Rules)->ArgName("rules")->RangeMultiplier(8)->Range(8, 512);

// --- Conditions ------------------------------------------------------------

class BenchScope : public expr::Scope {
 public:
  BenchScope() { allowed.event = true; }
  int ScoreIndex(std::string_view n) const override {
    return Index({"engagement", "fit", "lead"}, n);
  }
  int CounterIndex(std::string_view n) const override {
    return Index({"posts_14d", "invites"}, n);
  }
  int TagIndex(std::string_view n) const override {
    return Index({"disqualified", "koc", "dormant"}, n);
  }
  int StageIndex(std::string_view n) const override {
    return Index({"new", "active", "mql"}, n);
  }
  bool HasLifecycle() const override { return true; }
  int TagCount() const override { return 3; }
  int InternMemberAttr(std::string_view key) override { return Intern(&member_, key); }
  int InternEventAttr(std::string_view key) override { return Intern(&event_, key); }

  std::vector<std::string> member_, event_;

 private:
  static int Index(std::initializer_list<std::string_view> names, std::string_view n) {
    int i = 0;
    for (std::string_view s : names) {
      if (s == n) return i;
      ++i;
    }
    return -1;
  }
  static int Intern(std::vector<std::string>* v, std::string_view key) {
    for (size_t i = 0; i < v->size(); ++i) {
      if ((*v)[i] == key) return static_cast<int>(i);
    }
    v->emplace_back(key);
    return static_cast<int>(v->size() - 1);
  }
};

// Fixed values of one member at one time, as the engine's context gives them.
class BenchContext : public expr::Context {
 public:
  explicit BenchContext(const BenchScope& scope) : scope_(scope) {}
  double Score(int i) const override { return i == 2 ? 112.5 : 60.25; }
  int64_t Counter(int i) const override { return i == 0 ? 12 : 1; }
  bool HasTag(int i) const override { return i == 2; }
  int Stage() const override { return 1; }
  int64_t Now() const override { return 1717200000000; }
  int64_t Idle() const override { return 40LL * 86400000; }
  int64_t StageAge() const override { return 3LL * 86400000; }
  bool MemberAttr(int id, std::string_view* v) const override {
    const std::string& k = scope_.member_[id];
    if (k == "industry") *v = "accounting";
    else if (k == "employees") *v = "250";
    else if (k == "email") *v = "li.wei@corp.com";
    else return false;
    return true;
  }
  std::string_view EventType() const override { return "content.read"; }
  double EventValue() const override { return 35; }
  std::string_view EventGroup() const override { return "gd-03"; }
  std::string_view EventChannel() const override { return "wechat_group"; }
  bool EventAttr(int id, std::string_view* v) const override {
    if (scope_.event_[id] != "topic") return false;
    *v = "tax";
    return true;
  }

 private:
  const BenchScope& scope_;
};

// One condition evaluated over and over: evaluations/s.
void ConditionEval(benchmark::State& state, const char* text) {
  BenchScope scope;
  std::vector<expr::Problem> problems;
  auto program = expr::Compile(text, expr::Want::kBool, scope, &problems);
  if (program == nullptr) {
    state.SkipWithError(problems.empty() ? "does not compile" : problems[0].message.c_str());
    return;
  }
  BenchContext ctx(scope);
  int64_t held = 0;
  for (auto _ : state) {
    held += program->EvalBool(ctx);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(held);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(text);
}
BENCHMARK_CAPTURE(ConditionEval, score_and_tag,
                  "score.lead >= 100.0 && !('disqualified' in tags)");
BENCHMARK_CAPTURE(ConditionEval, attr_in_list,
                  "member.industry in ['manufacturing', 'accounting']");
BENCHMARK_CAPTURE(ConditionEval, attr_as_number, "member.employees >= 200");
BENCHMARK_CAPTURE(ConditionEval, idle_duration, "idle >= duration('30d')");
BENCHMARK_CAPTURE(ConditionEval, event_attr, "event.attrs.topic == 'tax'");
BENCHMARK_CAPTURE(ConditionEval, regex_match,
                  "member.email.matches('^[a-z.]+@corp\\\\.com$')");
BENCHMARK_CAPTURE(ConditionEval, mixed,
                  "counter.posts_14d >= 10 || (score.engagement > 50.5 && "
                  "stage == 'active' && event.value >= 20.0)");

}  // namespace
}  // namespace leadscore::bench

BENCHMARK_MAIN();
