// The scoring engine: SEMANTICS.md sections 1-8 applied to one member's
// state. Works only on compiled tables and slots; names appear only in the
// changes it emits (as indices) and in rejection details.
#ifndef LEADSCORE_LIB_ENGINE_ENGINE_H_
#define LEADSCORE_LIB_ENGINE_ENGINE_H_

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "leadscore/changes.h"
#include "leadscore/event.h"
#include "leadscore/store.h"
#include "lib/base/hash.h"
#include "lib/engine/member_state.h"
#include "lib/model/compiled_model.h"

namespace leadscore::internal {

// Why an event is invalid, or null when it is not (section 1).
inline const char* InvalidReason(const Event& e) {
  if (e.member_id.empty()) return "missing member_id";
  if (!e.has_time) return "missing or unparsable time";
  if (!std::isfinite(e.value)) return "value is not a finite number";
  return nullptr;
}

// What one rule did with one event (for `leadscore explain`).
struct RuleTrace {
  enum Outcome : uint8_t {
    kGranted,         // the rule applied (granted may still be 0)
    kOnceDone,        // a `once` rule that already applied
    kConditionFalse,  // its `when` did not hold
  };
  int rule = -1;  // index in CompiledModel::rules
  Outcome outcome = kGranted;
  double points = 0;     // the rule's points
  double after_cap = 0;  // what the cap allowed (= points without a cap)
  double decayed = 0;    // after_cap decayed from the event time to tau (late events)
  double granted = 0;    // what the score gained: clamp(v + decayed) - v
};

// Receives the inside of Engine::Apply. Calls come in this order for each
// accepted event: OnEvent, the changes of step 2 (through the sink),
// OnTimePassed, one OnRule per rule dispatched for the event type, the
// changes of steps 4-5, OnApplied. Null (the default) costs one test per rule.
class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void OnEvent(const Event& e, int64_t tau, bool is_new) = 0;
  // After step 2: the evaluation at tau is done (skipped for a new member)
  // and the scores are decayed to tau; the event's profile, counters and
  // rules come next.
  virtual void OnTimePassed(const MemberState& s, int64_t tau) {}
  virtual void OnRule(const RuleTrace& t) = 0;
  virtual void OnApplied(const MemberState& s, int64_t tau) = 0;
};

// Thread-compatible: one Engine per thread (it keeps scratch buffers).
class Engine {
 public:
  explicit Engine(const CompiledModel& model);

  // Checks `e` against an existing member (null: none yet). Returns the
  // rejection, if any: too late or duplicate. Validity is checked before.
  std::optional<RejectReason> Check(const MemberState* s, const Event& e) const {
    return Check(s, e, EventIdHash(e));
  }
  // The same with `id_hash` = EventIdHash(e), computed once for Check and
  // Apply.
  std::optional<RejectReason> Check(const MemberState* s, const Event& e,
                                    uint64_t id_hash) const;
  static uint64_t EventIdHash(const Event& e) { return StableHash(e.event_id); }

  // Creates the state of a member from its first accepted event.
  std::unique_ptr<MemberState> Create(std::string_view member_id,
                                      const Event& first) const;
  // Makes `s` (a state of this model, any member's) what Create would
  // return, reusing its memory.
  void Reset(MemberState* s, std::string_view member_id, const Event& first) const;

  // Applies an accepted event (steps 2-5 of section 8). `is_new`: the state
  // was just created for this event (step 2 is skipped).
  void Apply(MemberState* s, const Event& e, const Dispatch& d, bool is_new,
             ChangeSink* sink, StoreStats* stats) {
    Apply(s, e, d, is_new, sink, stats, EventIdHash(e));
  }
  void Apply(MemberState* s, const Event& e, const Dispatch& d, bool is_new,
             ChangeSink* sink, StoreStats* stats, uint64_t id_hash);

  // One evaluation at max(clock, t); moves the clock there.
  void Advance(MemberState* s, int64_t t, ChangeSink* sink, StoreStats* stats);

  // The member read at max(clock, t), without changing it.
  MemberView Read(const MemberState& s, int64_t t) const;
  // The same into *v, reusing its vectors' memory; without the ledger
  // (v->ledger left empty) when `ledger` is false.
  void Read(const MemberState& s, int64_t t, MemberView* v, bool ledger = true) const;

  // Recomputes which fit rules hold and the fit scores from the attributes
  // (also used when a state is restored, lib/state).
  void RecomputeFit(MemberState* s) const;

  // Not owned; null: no tracing.
  void set_tracer(Tracer* tracer) { tracer_ = tracer; }

  // Whether the ledger is kept (default: yes). A caller that never reads it
  // (no flag in the model, whose reasons come from it; no Read with the
  // ledger; no export of the state) may turn it off: scores, tags, stages
  // and flags are the same, and the ledger stays 0. It was a twentieth of
  // scoring a log (every decaying rule's entry multiplied at every event).
  void set_keep_ledger(bool keep) { keep_ledger_ = keep; }

 private:
  void Evaluate(MemberState* s, int64_t t, ChangeSink* sink, StoreStats* stats);
  // The parts of an evaluation that most models and events do not reach,
  // out of line: expired event tags (returns dirty bits), transitions
  // (returns the next evaluation's dirty bits), flags.
  uint64_t ExpireTags(MemberState* s, int64_t t, ChangeSink* sink) const;
  __attribute__((noinline)) uint64_t RunTransitions(MemberState* s, int64_t t,
                                                    ChangeSink* sink);
  __attribute__((noinline)) void EvaluateFlags(MemberState* s, int64_t t, ChangeSink* sink,
                                               StoreStats* stats);
  void DecayTo(MemberState* s, int64_t t);
  void Init(MemberState* s, std::string_view member_id, const Event& first) const;
  // The dependency bits (MemberState::dirty) of what a program reads,
  // through derived scores.
  uint64_t Deps(const expr::Program& p, int depth) const;
  bool ApplyProfile(MemberState* s, const Event& e) const;
  void TraceSkip(int rule, RuleTrace::Outcome outcome);
  void Emit(ChangeSink* sink, Change& c) const {
    if (sink != nullptr) sink->OnChange(c);
  }

  const CompiledModel& m_;
  Tracer* tracer_ = nullptr;
  bool keep_ledger_ = true;
  // Decaying (non-derived) scores, and the rules that feed them.
  struct DecayingScore {
    int score;
    int slot;
    double half_life_ms;
  };
  std::vector<DecayingScore> decaying_scores_;
  // Runs of consecutive rules that feed one decaying score (their ledger
  // entries decay with it).
  struct RuleRun {
    int score;
    int begin, end;  // rule indices
  };
  std::vector<RuleRun> decaying_rules_;
  uint64_t decay_bits_ = 0;  // dependency bits of the decaying scores
  uint64_t time_bits_ = 0;   // bits that change when the time moves
  uint64_t fit_bits_ = 0;    // bits of the scores fit rules feed
  std::vector<uint64_t> state_tag_deps_;  // by position in m_.state_tags
  // A state tag that time passing alone moves one way (by position in
  // m_.state_tags): Evaluate does not re-evaluate it while only time has
  // passed and its value is the one time cannot leave. See TimeGuardHolds.
  struct TimeGuard {
    expr::TimeShape::Of of = expr::TimeShape::Of::kNone;
    bool above = false;  // the condition is X > c or X >= c
    // kScore: the score slots X reads (X itself, or the raw scores of its
    // formula), those that decay and those that do not; `bounded`: their
    // values must be at most 2^500 in size (a formula; see TimeShape).
    std::vector<int> decaying, steady;
    bool bounded = false;
  };
  std::vector<TimeGuard> time_guards_;
  TimeGuard MakeTimeGuard(const expr::Program& p) const;
  bool TimeGuardHolds(const TimeGuard& g, const MemberState& s, bool holds) const;
  std::vector<double> factor_;     // scratch: decay factor per score
  std::vector<uint8_t> visited_;   // scratch: stages visited in an evaluation
  std::vector<double> score_buf_;  // scratch: scores of a flag raise
  std::vector<FlagReason> reasons_;
  std::vector<FlagReason> sorted_reasons_;                // scratch
  std::vector<std::pair<double, size_t>> reason_keys_;    // scratch: key, index
};

}  // namespace leadscore::internal

#endif  // LEADSCORE_LIB_ENGINE_ENGINE_H_
