// The engine: applying one event and evaluating one member, in the exact
// order of SEMANTICS.md section 8.
#include "lib/engine/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "lib/base/hash.h"
#include "lib/base/strings.h"
#include "lib/base/search.h"
#include "lib/base/time_math.h"

namespace leadscore::internal {
namespace {

// Dependency bits (MemberState::dirty): what may have changed since a
// member's last evaluation, by what conditions read. A state tag none of
// whose bits is set keeps the value that evaluation gave it.
constexpr int kScoreBits = 40;    // bits 0-39: scores by index (39: the rest)
constexpr int kCounterBase = 40;  // bits 40-55: counters by index (55: the rest)
constexpr int kCounterBits = 16;
constexpr uint64_t kTagsBit = uint64_t{1} << 56;    // any tag
constexpr uint64_t kStageBit = uint64_t{1} << 57;   // stage, stage_since
constexpr uint64_t kMemberBit = uint64_t{1} << 58;  // member attributes
constexpr uint64_t kTimeBit = uint64_t{1} << 59;    // now, idle, stage_age
constexpr uint64_t kAlwaysBit = uint64_t{1} << 60;  // set at every evaluation

uint64_t ScoreBit(int i) { return uint64_t{1} << std::min(i, kScoreBits - 1); }
uint64_t CounterBit(int i) {
  return uint64_t{1} << (kCounterBase + std::min(i, kCounterBits - 1));
}

// Values of names for conditions, for one member at one time.
class MemberContext final : public expr::Context {
 public:
  MemberContext(const CompiledModel& m, const MemberState& s, int64_t now)
      : m_(m), s_(s), now_(now) {}

  void SetEvent(const Event* e, int64_t idle) {
    event_ = e;
    idle_override_ = idle;
  }

  double Score(int i) const override {
    const ScoreDef& d = m_.scores[i];
    if (d.derived) return d.formula->EvalNumber(*this);
    return s_.scores[d.slot] * DecayFactor(d.half_life_ms, now_, s_.ref_time);
  }
  int64_t Counter(int i) const override {
    const CounterDef& c = m_.counters[i];
    if (c.window_ms == 0) return s_.lifetime_counts[c.slot];
    const auto& times = s_.window_counts[c.slot];
    // Events with time in (now - window, now].
    const int64_t* lo = times.data();
    const int64_t* end = times.data() + times.size();
    int64_t after;
    if (LowerBound(now_, c.window_ms, &after)) {
      lo = PartitionPoint(lo, end - lo, [after](int64_t x) { return x <= after; });
    }
    const int64_t now = now_;
    return PartitionPoint(lo, end - lo, [now](int64_t x) { return x <= now; }) - lo;
  }
  bool HasTag(int i) const override { return s_.tags[i] != 0; }
  int Stage() const override { return s_.stage; }
  int64_t Now() const override { return now_; }
  int64_t Idle() const override {
    return idle_override_ >= 0 ? idle_override_ : Age(now_, s_.last_event_time);
  }
  int64_t StageAge() const override { return Age(now_, s_.stage_since); }
  bool MemberAttr(int id, std::string_view* value) const override {
    if (!s_.attr_present[id]) return false;
    *value = s_.attrs[id];
    return true;
  }
  std::string_view EventType() const override { return event_->type; }
  double EventValue() const override { return event_->value; }
  std::string_view EventGroup() const override { return event_->group_id; }
  std::string_view EventChannel() const override { return event_->channel; }
  bool EventAttr(int id, std::string_view* value) const override {
    const std::string& key = m_.event_attrs[id];
    // Later pairs win, as they would in a map built from the list.
    for (size_t i = event_->attrs.size(); i-- > 0;) {
      if (event_->attrs[i].key == key) {
        *value = event_->attrs[i].value;
        return true;
      }
    }
    return false;
  }

 private:
  const CompiledModel& m_;
  const MemberState& s_;
  int64_t now_;
  const Event* event_ = nullptr;
  int64_t idle_override_ = -1;
};

// A contribution rounded to 12 significant digits, for ordering reasons.
double SortKey(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return std::strtod(buf, nullptr);
}

bool Holds(const std::unique_ptr<expr::Program>& p, const expr::Context& ctx) {
  return p == nullptr || p->EvalBool(ctx);
}

void KeepOtherAttr(MemberState* s, const KeyValue& kv) {
  auto& v = s->other_attrs;
  auto it = std::lower_bound(v.begin(), v.end(), kv.key,
                             [](const OtherAttr& a, std::string_view k) { return a.key < k; });
  if (it != v.end() && it->key == kv.key) {
    it->value.assign(kv.value.data(), kv.value.size());
  } else {
    v.insert(it, OtherAttr{std::string(kv.key), std::string(kv.value)});
  }
}

}  // namespace

MemberState::MemberState(const CompiledModel& m)
    : scores(m.num_score_slots, 0.0),
      ledger(m.rules.size(), 0.0),
      fit_holds(m.fits.size(), 0),
      tags(m.tags.size(), 0),
      tag_last_set(m.num_ttl, 0),
      once_done(m.num_once, 0),
      lifetime_counts(m.num_lifetime_counters, 0),
      window_counts(m.num_window_counters),
      lifetime_caps(m.num_lifetime_caps, 0.0),
      window_caps(m.num_window_caps),
      flags(m.flags.size()),
      attrs(m.member_attrs.size()),
      attr_present(m.member_attrs.size(), 0) {}

void MemberState::Clear() {
  id.clear();
  clock = ref_time = last_event_time = stage_since = 0;
  stage = -1;
  std::fill(scores.begin(), scores.end(), 0.0);
  std::fill(ledger.begin(), ledger.end(), 0.0);
  std::fill(fit_holds.begin(), fit_holds.end(), 0);
  std::fill(tags.begin(), tags.end(), 0);
  std::fill(tag_last_set.begin(), tag_last_set.end(), 0);
  std::fill(once_done.begin(), once_done.end(), 0);
  std::fill(lifetime_counts.begin(), lifetime_counts.end(), 0);
  for (auto& v : window_counts) v.clear();
  std::fill(lifetime_caps.begin(), lifetime_caps.end(), 0.0);
  for (auto& v : window_caps) v.clear();
  std::fill(flags.begin(), flags.end(), FlagState());
  for (auto& a : attrs) a.clear();
  std::fill(attr_present.begin(), attr_present.end(), 0);
  other_attrs.clear();
  dedup.clear();
  dedup_prune_at = 32;
  dirty = ~uint64_t{0};
  eval_time = 0;
}

Engine::Engine(const CompiledModel& model)
    : m_(model),
      factor_(model.scores.size(), 1.0),
      visited_(model.stages.size(), 0) {
  for (size_t i = 0; i < m_.scores.size(); ++i) {
    const ScoreDef& d = m_.scores[i];
    if (d.derived || d.slot < 0) continue;
    if (d.fit) fit_bits_ |= ScoreBit(static_cast<int>(i));
    if (!(d.half_life_ms <= 0)) {  // as DecayFactor tests it
      decaying_scores_.push_back({static_cast<int>(i), d.slot, d.half_life_ms});
      decay_bits_ |= ScoreBit(static_cast<int>(i));
    }
  }
  for (size_t r = 0; r < m_.rules.size(); ++r) {
    const int sc = m_.rules[r].score;
    if (m_.scores[sc].half_life_ms <= 0) continue;
    if (!decaying_rules_.empty() && decaying_rules_.back().score == sc &&
        decaying_rules_.back().end == static_cast<int>(r)) {
      ++decaying_rules_.back().end;
    } else {
      decaying_rules_.push_back({sc, static_cast<int>(r), static_cast<int>(r) + 1});
    }
  }
  time_bits_ = kTimeBit | decay_bits_;
  for (size_t c = 0; c < m_.counters.size(); ++c) {
    if (m_.counters[c].window_ms != 0) time_bits_ |= CounterBit(static_cast<int>(c));
  }
  for (int i : m_.state_tags) state_tag_deps_.push_back(Deps(*m_.tags[i].when, 0));
  for (int i : m_.state_tags) time_guards_.push_back(MakeTimeGuard(*m_.tags[i].when));
}

Engine::TimeGuard Engine::MakeTimeGuard(const expr::Program& p) const {
  using Of = expr::TimeShape::Of;
  const expr::TimeShape& shape = p.time_shape();
  TimeGuard g;
  g.above = shape.above;
  auto add = [&](const ScoreDef& d) {
    // As DecayTo tells them (a half-life that is not <= 0 decays).
    (!(d.half_life_ms <= 0) ? g.decaying : g.steady).push_back(d.slot);
  };
  switch (shape.of) {
    case Of::kNone:
      return g;
    case Of::kIdle:
      break;
    case Of::kCounter:
      // A lifetime counter does not move with time.
      if (m_.counters[shape.index].window_ms == 0) return g;
      break;
    case Of::kScore: {
      const ScoreDef& d = m_.scores[shape.index];
      if (!d.derived) {
        if (d.slot < 0) return g;
        add(d);
        break;
      }
      if (d.formula == nullptr || !d.formula->time_shape().rises_with_scores) return g;
      for (int sc : d.formula->reads().scores) {
        const ScoreDef& r = m_.scores[sc];
        if (r.derived || r.slot < 0) return g;  // one level of formulas only
        add(r);
      }
      g.bounded = true;
      break;
    }
  }
  g.of = shape.of;
  return g;
}

// Whether a state tag that `holds` (or not) as of its last evaluation, with
// only time passed since, still does: time moves each of its inputs one way.
//  * idle only grows;
//  * a window counter only falls (every counted time is at or before the
//    last evaluation; the window only leaves times behind);
//  * a decaying score is multiplied by a factor in [0, 1]: one >= 0 only
//    falls, one <= 0 only rises, and a formula that rises with its scores
//    (expr::TimeShape) falls when all its decaying scores are >= 0 and
//    rises when all are <= 0 (its other scores stay as they are).
// X > c (or >=) cannot become true while X falls, nor false while it rises;
// X < c the other way round.
bool Engine::TimeGuardHolds(const TimeGuard& g, const MemberState& s,
                            bool holds) const {
  using Of = expr::TimeShape::Of;
  bool falls = false, rises = false;
  switch (g.of) {
    case Of::kNone:
      return false;
    case Of::kIdle:
      rises = true;
      break;
    case Of::kCounter:
      falls = true;
      break;
    case Of::kScore: {
      constexpr double kMax = 0x1p500;
      const double limit = g.bounded ? kMax : std::numeric_limits<double>::max();
      bool all_nonneg = true, all_nonpos = true;
      for (int slot : g.decaying) {
        const double v = s.scores[slot];
        if (!(std::fabs(v) <= limit)) return false;  // NaN and infinities too
        all_nonneg &= v >= 0;
        all_nonpos &= v <= 0;
      }
      for (int slot : g.steady) {
        if (!(std::fabs(s.scores[slot]) <= kMax)) return false;
      }
      falls = all_nonneg;
      rises = all_nonpos;
      break;
    }
  }
  // Above: false stays false while X falls; true stays true while it rises.
  if (g.above) return holds ? rises : falls;
  return holds ? falls : rises;
}

uint64_t Engine::Deps(const expr::Program& p, int depth) const {
  if (depth > 64) return ~uint64_t{0};
  const expr::Reads& r = p.reads();
  uint64_t d = 0;
  for (int sc : r.scores) {
    const ScoreDef& sd = m_.scores[sc];
    if (sd.derived) {
      d |= sd.formula != nullptr ? Deps(*sd.formula, depth + 1) : ~uint64_t{0};
    } else {
      d |= ScoreBit(sc);
    }
  }
  for (int c : r.counter_ids) d |= CounterBit(c);
  if (r.counters && r.counter_ids.empty()) d |= ~uint64_t{0};
  if (r.tags) d |= kTagsBit;
  if (r.stage) d |= kStageBit;
  if (r.member) d |= kMemberBit;
  if (r.time) d |= kTimeBit;
  if (r.event) d |= kAlwaysBit;
  return d;
}

std::optional<RejectReason> Engine::Check(const MemberState* s, const Event& e,
                                          uint64_t h) const {
  if (s == nullptr) return std::nullopt;
  // Saturated: below INT64_MIN nothing is too late, every id is kept.
  const int64_t horizon = SubSat(s->clock, m_.allowed_lateness_ms);
  if (e.time < horizon) return RejectReason::kTooLate;
  const int64_t* kept = s->dedup.Find(h);
  if (kept != nullptr && *kept >= horizon) {
    return RejectReason::kDuplicate;
  }
  return std::nullopt;
}

std::unique_ptr<MemberState> Engine::Create(std::string_view member_id,
                                            const Event& first) const {
  auto s = std::make_unique<MemberState>(m_);
  Init(s.get(), member_id, first);
  return s;
}

void Engine::Reset(MemberState* s, std::string_view member_id,
                   const Event& first) const {
  s->Clear();
  Init(s, member_id, first);
}

void Engine::Init(MemberState* s, std::string_view member_id,
                  const Event& first) const {
  s->id.assign(member_id.data(), member_id.size());
  s->clock = s->ref_time = s->last_event_time = first.time;
  s->stage = m_.stages.empty() ? -1 : m_.initial_stage;
  s->stage_since = first.time;
  RecomputeFit(s);
}

void Engine::DecayTo(MemberState* s, int64_t t) {
  if (t == s->ref_time) return;
  // Scores (and rules) that do not decay would be multiplied by exactly 1.
  for (const DecayingScore& d : decaying_scores_) {
    const double f = DecayFactor(d.half_life_ms, t, s->ref_time);
    factor_[d.score] = f;
    s->scores[d.slot] *= f;
  }
  double* ledger = s->ledger.data();
  if (!keep_ledger_) {
    s->dirty |= decay_bits_;
    s->ref_time = t;
    return;
  }
  for (const RuleRun& run : decaying_rules_) {
    const double f = factor_[run.score];
    int r = run.begin;
#ifdef __SSE2__
    // Two at a time: the same products (each lane is one IEEE multiply).
    const __m128d ff = _mm_set1_pd(f);
    for (; r + 2 <= run.end; r += 2) {
      _mm_storeu_pd(ledger + r, _mm_mul_pd(_mm_loadu_pd(ledger + r), ff));
    }
#endif
    for (; r < run.end; ++r) ledger[r] *= f;
  }
  s->dirty |= decay_bits_;
  s->ref_time = t;
}

void Engine::RecomputeFit(MemberState* s) const {
  if (m_.fits.empty()) return;
  s->dirty |= fit_bits_;
  MemberContext ctx(m_, *s, s->ref_time);
  for (size_t f = 0; f < m_.fits.size(); ++f) {
    s->fit_holds[f] = m_.fits[f].when->EvalBool(ctx) ? 1 : 0;
  }
  for (const ScoreDef& d : m_.scores) {
    if (!d.fit) continue;
    double sum = 0;
    for (size_t f = 0; f < m_.fits.size(); ++f) {
      if (s->fit_holds[f] && &m_.scores[m_.fits[f].score] == &d) {
        sum += m_.fits[f].points;
      }
    }
    s->scores[d.slot] = d.Clamp(sum);
  }
}

bool Engine::ApplyProfile(MemberState* s, const Event& e) const {
  bool changed = false;
  for (const KeyValue& kv : e.profile) {
    auto it = m_.member_attr_index.find(AsAbsl(kv.key));
    if (it == m_.member_attr_index.end()) {
      // No condition reads it: kept aside for exported state only.
      KeepOtherAttr(s, kv);
      continue;
    }
    int id = it->second;
    if (s->attr_present[id] && s->attrs[id] == kv.value) continue;
    s->attrs[id].assign(kv.value.data(), kv.value.size());
    s->attr_present[id] = 1;
    changed = true;
  }
  if (changed) s->dirty |= kMemberBit;
  return changed;
}

void Engine::Apply(MemberState* s, const Event& e, const Dispatch& d,
                   bool is_new, ChangeSink* sink, StoreStats* stats,
                   uint64_t h) {
  // Step 2: time has passed.
  const int64_t tau = std::max(s->clock, e.time);
  if (tracer_ != nullptr) tracer_->OnEvent(e, tau, is_new);
  if (!is_new) Evaluate(s, tau, sink, stats);
  DecayTo(s, tau);
  if (tracer_ != nullptr) tracer_->OnTimePassed(*s, tau);

  // Step 3: profile updates, then fit.
  if (!e.profile.empty() && ApplyProfile(s, e)) RecomputeFit(s);

  // Step 4: counters, event rules, event tags, one event transition.
  MemberContext ctx(m_, *s, tau);
  ctx.SetEvent(&e, is_new ? 0 : Age(tau, s->last_event_time));
  for (int c : d.counters) {
    const CounterDef& cd = m_.counters[c];
    if (!Holds(cd.when, ctx)) continue;
    s->dirty |= CounterBit(c);
    if (cd.window_ms == 0) {
      ++s->lifetime_counts[cd.slot];
      continue;
    }
    auto& times = s->window_counts[cd.slot];
    times.insert(UpperBoundOf(times, e.time), e.time);
    // Times at or before tau - window are outside every later window.
    int64_t gone;
    if (LowerBound(tau, cd.window_ms, &gone)) {
      times.erase(times.begin(), UpperBoundOf(times, gone));
    }
  }
  for (int r : d.rules) {
    const RuleDef& rd = m_.rules[r];
    if (rd.once && s->once_done[rd.once_bit]) {
      if (tracer_ != nullptr) TraceSkip(r, RuleTrace::kOnceDone);
      continue;
    }
    if (!Holds(rd.when, ctx)) {
      if (tracer_ != nullptr) TraceSkip(r, RuleTrace::kConditionFalse);
      continue;
    }
    if (rd.once) s->once_done[rd.once_bit] = 1;
    double raw = rd.points;
    if (rd.has_cap) {
      if (rd.cap_window_ms == 0) {
        raw = std::max(0.0, std::min(rd.points, rd.cap_max - s->lifetime_caps[rd.cap_slot]));
        s->lifetime_caps[rd.cap_slot] += raw;
      } else {
        auto& entries = s->window_caps[rd.cap_slot];
        auto by_time = [](const CapEntry& a, int64_t t) { return a.time <= t; };
        // Allowed in (e.time - window, e.time].
        auto lo = entries.begin();
        int64_t after;
        if (LowerBound(e.time, rd.cap_window_ms, &after)) {
          lo = std::lower_bound(lo, entries.end(), after, by_time);
        }
        auto hi = std::lower_bound(lo, entries.end(), e.time, by_time);
        double in_window = 0;
        for (auto it = lo; it != hi; ++it) in_window += it->allowed;
        raw = std::max(0.0, std::min(rd.points, rd.cap_max - in_window));
        if (raw > 0) entries.insert(hi, CapEntry{e.time, raw});
        // Entries at or before clock - lateness - window are in no later window.
        int64_t horizon, gone;
        if (LowerBound(tau, m_.allowed_lateness_ms, &horizon) &&
            LowerBound(horizon, rd.cap_window_ms, &gone)) {
          entries.erase(entries.begin(),
                        std::lower_bound(entries.begin(), entries.end(), gone, by_time));
        }
      }
    }
    const ScoreDef& sd = m_.scores[rd.score];
    double p = raw * DecayFactor(sd.half_life_ms, tau, e.time);
    double v = s->scores[sd.slot];
    // Literally clamp(v + p) - v (section 2), even unbounded: an independent
    // implementation computes the same bits, which keeps ties in top
    // reasons ordered the same way.
    double granted = sd.Clamp(v + p) - v;
    s->scores[sd.slot] = v + granted;
    if (keep_ledger_) s->ledger[r] += granted;
    s->dirty |= ScoreBit(rd.score);
    if (tracer_ != nullptr) {
      RuleTrace t;
      t.rule = r;
      t.points = rd.points;
      t.after_cap = raw;
      t.decayed = p;
      t.granted = granted;
      tracer_->OnRule(t);
    }
  }
  for (int t : d.event_tags) {
    const TagDef& td = m_.tags[t];
    if (!Holds(td.when, ctx)) continue;
    if (td.ttl_slot >= 0) {
      int64_t& last = s->tag_last_set[td.ttl_slot];
      last = s->tags[t] ? std::max(last, e.time) : e.time;
    }
    if (!s->tags[t]) {
      s->tags[t] = 1;
      s->dirty |= kTagsBit;
      Change c;
      c.kind = ChangeKind::kTagAdded;
      c.member_id = s->id;
      c.time = tau;
      c.tag = t;
      Emit(sink, c);
    }
  }
  if (s->stage >= 0) {
    for (int ti : d.transitions) {
      const TransitionDef& tr = m_.transitions[ti];
      if (!tr.FromHolds(s->stage) || tr.to == s->stage) continue;
      if (!Holds(tr.when, ctx)) continue;
      Change c;
      c.kind = ChangeKind::kStageChanged;
      c.member_id = s->id;
      c.time = tau;
      c.from_stage = s->stage;
      c.to_stage = tr.to;
      c.transition = ti;
      s->stage = tr.to;
      s->stage_since = tau;
      s->dirty |= kStageBit | kTimeBit;
      Emit(sink, c);
      break;
    }
  }
  const int64_t last = is_new ? e.time : std::max(s->last_event_time, e.time);
  if (last != s->last_event_time) {
    s->last_event_time = last;
    s->dirty |= kTimeBit;
  }

  // Remember the id for dedup.
  s->dedup.Keep(h, e.time);
  ++stats->events_applied;

  // Step 5.
  Evaluate(s, tau, sink, stats);
  s->clock = tau;
  if (tracer_ != nullptr) tracer_->OnApplied(*s, tau);

  if (s->dedup.size() >= s->dedup_prune_at) {
    const int64_t horizon = SubSat(s->clock, m_.allowed_lateness_ms);
    s->dedup.ForgetBefore(horizon);
    s->dedup_prune_at = std::max<size_t>(32, 2 * s->dedup.size());
  }
}

void Engine::TraceSkip(int rule, RuleTrace::Outcome outcome) {
  RuleTrace t;
  t.rule = rule;
  t.outcome = outcome;
  t.points = m_.rules[rule].points;
  tracer_->OnRule(t);
}

void Engine::Advance(MemberState* s, int64_t t, ChangeSink* sink,
                     StoreStats* stats) {
  t = std::max(t, s->clock);
  Evaluate(s, t, sink, stats);
  s->clock = t;
}

void Engine::Evaluate(MemberState* s, int64_t t, ChangeSink* sink,
                      StoreStats* stats) {
  // What changed since the last evaluation other than the time (DecayTo
  // marks the decaying scores too), and whether only time moves forward.
  uint64_t changed = s->dirty | kAlwaysBit;
  const bool time_passed = t > s->eval_time && t >= s->ref_time;
  DecayTo(s, t);
  // What may have changed since the last evaluation (`dirty`), and what
  // changes in this one after a state tag is evaluated (`later`: the next
  // evaluation's `dirty`).
  uint64_t dirty = s->dirty | kAlwaysBit;
  if (t != s->eval_time) dirty |= time_bits_;
  uint64_t later = 0;

  // Event tags whose TTL has passed.
  if (!m_.ttl_tags.empty()) dirty |= ExpireTags(s, t, sink);
  // State tags, in model order. One whose inputs cannot have changed since
  // it was last evaluated keeps its value.
  if (!m_.state_tags.empty()) {
    MemberContext ctx(m_, *s, t);
    for (size_t k = 0; k < m_.state_tags.size(); ++k) {
      if ((state_tag_deps_[k] & dirty) == 0) continue;
      const int i = m_.state_tags[k];
      // Only time has moved its inputs, and it cannot have moved its value.
      if (time_passed && (state_tag_deps_[k] & changed) == 0 &&
          TimeGuardHolds(time_guards_[k], *s, s->tags[i] != 0)) {
        continue;
      }
      uint8_t holds = m_.tags[i].when->EvalBool(ctx) ? 1 : 0;
      if (holds == s->tags[i]) continue;
      s->tags[i] = holds;
      dirty |= kTagsBit;
      changed |= kTagsBit;
      later |= kTagsBit;
      Change c;
      c.member_id = s->id;
      c.time = t;
      c.kind = holds ? ChangeKind::kTagAdded : ChangeKind::kTagRemoved;
      c.tag = i;
      Emit(sink, c);
    }
  }
  // Lifecycle: first eligible transition fires, repeat from the new stage.
  if (s->stage >= 0 && !m_.when_transitions.empty()) later |= RunTransitions(s, t, sink);
  // Flags: re-arm, then raise.
  if (!m_.flags.empty()) EvaluateFlags(s, t, sink, stats);
  // Flags are read by no condition.
  s->dirty = later;
  s->eval_time = t;
}

uint64_t Engine::ExpireTags(MemberState* s, int64_t t, ChangeSink* sink) const {
  uint64_t dirty = 0;
  for (int i : m_.ttl_tags) {
    const TagDef& td = m_.tags[i];
    if (s->tags[i] && Age(t, s->tag_last_set[td.ttl_slot]) >= td.ttl_ms) {
      s->tags[i] = 0;
      dirty |= kTagsBit;
      Change c;
      c.member_id = s->id;
      c.time = t;
      c.kind = ChangeKind::kTagRemoved;
      c.tag = i;
      Emit(sink, c);
    }
  }
  return dirty;
}

uint64_t Engine::RunTransitions(MemberState* s, int64_t t, ChangeSink* sink) {
  MemberContext ctx(m_, *s, t);
  Change c;
  c.member_id = s->id;
  c.time = t;
  uint64_t later = 0;
  std::fill(visited_.begin(), visited_.end(), 0);
  visited_[s->stage] = 1;
  bool fired = true;
  while (fired) {
    fired = false;
    for (int ti : m_.when_transitions) {
      const TransitionDef& tr = m_.transitions[ti];
      if (!tr.FromHolds(s->stage) || visited_[tr.to]) continue;
      if (!tr.when->EvalBool(ctx)) continue;
      c.kind = ChangeKind::kStageChanged;
      c.from_stage = s->stage;
      c.to_stage = tr.to;
      c.transition = ti;
      s->stage = tr.to;
      s->stage_since = t;
      later |= kStageBit | kTimeBit;
      visited_[tr.to] = 1;
      Emit(sink, c);
      fired = true;
      break;
    }
  }
  return later;
}

void Engine::EvaluateFlags(MemberState* s, int64_t t, ChangeSink* sink,
                           StoreStats* stats) {
  MemberContext ctx(m_, *s, t);
  Change c;
  c.member_id = s->id;
  c.time = t;
  for (size_t f = 0; f < m_.flags.size(); ++f) {
    const FlagDef& fd = m_.flags[f];
    FlagState& fs = s->flags[f];
    c.flag = static_cast<int>(f);
    if (!fs.armed && (fd.rearm != nullptr || fd.cooldown_ms > 0)) {
      bool ok = (fd.cooldown_ms == 0 || Age(t, fs.last) >= fd.cooldown_ms) &&
                Holds(fd.rearm, ctx);
      if (ok) {
        fs.armed = true;
        c.kind = ChangeKind::kFlagRearmed;
        Emit(sink, c);
      }
    }
    if (!fs.armed || !fd.when->EvalBool(ctx)) continue;
    fs.armed = false;
    ++fs.raised;
    fs.has_last = true;
    fs.last = t;
    ++stats->flags_raised;
    if (sink == nullptr) continue;
    score_buf_.resize(m_.scores.size());
    for (size_t i = 0; i < m_.scores.size(); ++i) {
      score_buf_[i] = ctx.Score(static_cast<int>(i));
    }
    reasons_.clear();
    for (int sc : fd.reason_scores) {
      for (size_t r = 0; r < m_.rules.size(); ++r) {
        if (m_.rules[r].score == sc && s->ledger[r] != 0) {
          reasons_.push_back(FlagReason{m_.rules[r].contributor, sc, s->ledger[r]});
        }
      }
      for (size_t fi = 0; fi < m_.fits.size(); ++fi) {
        const FitDef& fit = m_.fits[fi];
        if (fit.score == sc && s->fit_holds[fi] && fit.points != 0) {
          reasons_.push_back(FlagReason{fit.contributor, sc, fit.points});
        }
      }
    }
    // Largest first, ties by rule name. Values are compared at 12 significant
    // digits: mathematically equal contributions (5 points of a fit rule, 5
    // points granted and decayed through other arithmetic) must tie, whatever
    // the last bits of floating point say.
    const auto& names = m_.contributor_names;
    reason_keys_.clear();
    for (size_t i = 0; i < reasons_.size(); ++i) {
      reason_keys_.push_back({SortKey(reasons_[i].points), i});
    }
    std::sort(reason_keys_.begin(), reason_keys_.end(),
              [&](const std::pair<double, size_t>& a, const std::pair<double, size_t>& b) {
                if (a.first != b.first) return a.first > b.first;
                return names[reasons_[a.second].contributor] <
                       names[reasons_[b.second].contributor];
              });
    sorted_reasons_.clear();
    for (const auto& k : reason_keys_) sorted_reasons_.push_back(reasons_[k.second]);
    reasons_.swap(sorted_reasons_);
    if (reasons_.size() > static_cast<size_t>(fd.top_reasons)) {
      reasons_.resize(fd.top_reasons);
    }
    c.kind = ChangeKind::kFlagRaised;
    c.scores = score_buf_;
    c.reasons = reasons_;
    Emit(sink, c);
    c.scores = {};
    c.reasons = {};
  }
}

MemberView Engine::Read(const MemberState& s, int64_t t) const {
  MemberView v;
  Read(s, t, &v);
  return v;
}

void Engine::Read(const MemberState& s, int64_t t, MemberView* out, bool ledger) const {
  t = std::max(t, s.clock);
  MemberContext ctx(m_, s, t);
  MemberView& v = *out;
  v.scores.clear();
  v.tags.clear();
  v.counters.clear();
  v.flags.clear();
  v.ledger.clear();
  v.member_id = s.id;
  v.time = t;
  v.stage = s.stage;
  v.stage_since = s.stage_since;
  v.clock = s.clock;
  v.last_event_time = s.last_event_time;
  for (size_t i = 0; i < m_.scores.size(); ++i) {
    v.scores.push_back(ctx.Score(static_cast<int>(i)));
  }
  for (size_t i = 0; i < m_.tags.size(); ++i) {
    if (s.tags[i]) v.tags.push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < m_.counters.size(); ++i) {
    v.counters.push_back(ctx.Counter(static_cast<int>(i)));
  }
  for (const FlagState& fs : s.flags) {
    v.flags.push_back(MemberView::Flag{fs.armed, fs.raised, fs.has_last, fs.last});
  }
  if (!ledger) return;
  // The decay factor of a run of rules of one score is computed once (the
  // same value for each of them).
  int factor_score = -1;
  double factor = 1;
  for (size_t r = 0; r < m_.rules.size(); ++r) {
    const int sc = m_.rules[r].score;
    if (sc != factor_score) {
      factor = DecayFactor(m_.scores[sc].half_life_ms, t, s.ref_time);
      factor_score = sc;
    }
    const double val = s.ledger[r] * factor;
    if (val != 0) {
      v.ledger.push_back({m_.rules[r].contributor, m_.rules[r].score, val});
    }
  }
  for (size_t f = 0; f < m_.fits.size(); ++f) {
    if (s.fit_holds[f] && m_.fits[f].points != 0) {
      v.ledger.push_back({m_.fits[f].contributor, m_.fits[f].score, m_.fits[f].points});
    }
  }
}

}  // namespace leadscore::internal
