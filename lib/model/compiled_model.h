// The compiled form of a model: flat tables indexed by small integers, with
// conditions compiled to expr::Programs. Built once by the compiler, then only
// read (thread-safe to share). The engine's hot path works on this alone.
#ifndef LEADSCORE_LIB_MODEL_COMPILED_MODEL_H_
#define LEADSCORE_LIB_MODEL_COMPILED_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/expr/expr.h"

namespace leadscore::internal {

// An `on` pattern: an exact type, a prefix ("content.*"), or any ("*").
struct TypePattern {
  enum class Kind : uint8_t { kExact, kPrefix, kAny };
  Kind kind = Kind::kAny;
  std::string text;  // the type, or the prefix without '*'
  bool Matches(std::string_view type) const;
};

struct ScoreDef {
  std::string name;
  bool derived = false;
  bool fit = false;          // targeted by fit rules
  double half_life_ms = 0;   // 0: does not decay
  bool has_min = false, has_max = false;
  double min = 0, max = 0;
  int slot = -1;             // index into the member's score values; -1 derived
  std::unique_ptr<expr::Program> formula;  // derived only
  double Clamp(double v) const {
    if (has_min && v < min) v = min;
    if (has_max && v > max) v = max;
    return v;
  }
};

struct CounterDef {
  std::string name;
  TypePattern on;
  std::unique_ptr<expr::Program> when;  // may be null
  int64_t window_ms = 0;                // 0: lifetime
  int slot = -1;  // windowed: index of its time list; lifetime: its count
};

struct RuleDef {
  std::string name;
  TypePattern on;
  std::unique_ptr<expr::Program> when;
  int score = -1;        // ScoreDef index
  double points = 0;
  bool once = false;
  int once_bit = -1;
  bool has_cap = false;
  double cap_max = 0;
  int64_t cap_window_ms = 0;  // 0: lifetime cap
  int cap_slot = -1;          // windowed: its entry list; lifetime: its total
  int contributor = -1;       // == index among rules (ledger slot)
};

struct FitDef {
  std::string name;
  std::unique_ptr<expr::Program> when;
  int score = -1;
  double points = 0;
  int contributor = -1;
};

struct TagDef {
  std::string name;
  bool event_tag = false;
  TypePattern on;                       // event tags
  std::unique_ptr<expr::Program> when;  // state tags: required
  int64_t ttl_ms = 0;                   // event tags; 0: never expires
  int ttl_slot = -1;                    // index of its last_set time
};

struct TransitionDef {
  std::vector<uint8_t> from;  // by stage index: 1 when the transition leaves it
  bool from_any = false;
  int to = -1;
  bool has_on = false;
  TypePattern on;
  std::unique_ptr<expr::Program> when;  // may be null when has_on
  bool FromHolds(int stage) const { return from_any || from[stage] != 0; }
};

struct FlagDef {
  std::string name;
  std::string when_text;  // the source of `when` (for tools: its threshold)
  std::unique_ptr<expr::Program> when;
  std::unique_ptr<expr::Program> rearm;  // may be null
  int64_t cooldown_ms = 0;               // 0: none
  int top_reasons = 3;
  std::vector<int> reason_scores;  // non-derived scores `when` reads, transitively
};

// Per event type: what the event feeds, each list in model order.
struct Dispatch {
  std::vector<int> counters;
  std::vector<int> rules;
  std::vector<int> event_tags;
  std::vector<int> transitions;  // with `on`
};

class CompiledModel {
 public:
  std::string name;
  int64_t allowed_lateness_ms = 7 * 24 * 3600 * 1000LL;

  std::vector<ScoreDef> scores;
  std::vector<CounterDef> counters;
  std::vector<RuleDef> rules;
  std::vector<FitDef> fits;
  std::vector<TagDef> tags;
  std::vector<std::string> stages;  // empty: no lifecycle
  int initial_stage = -1;
  std::vector<TransitionDef> transitions;
  std::vector<int> when_transitions;  // indices of transitions without `on`
  std::vector<FlagDef> flags;
  std::vector<int> state_tags;        // indices, model order
  std::vector<int> ttl_tags;          // event tags with a ttl
  std::vector<std::string> contributor_names;  // rules, then fits

  // Member attribute keys and event attribute keys the conditions read.
  std::vector<std::string> member_attrs;
  std::vector<std::string> event_attrs;
  absl::flat_hash_map<std::string, int> member_attr_index;
  absl::flat_hash_map<std::string, int> event_attr_index;
  // Whether some condition reads event.group or event.channel (the batch
  // job passes them to the engine only then).
  bool reads_event_group_or_channel = false;
  // Whether some condition reads event.value (the batch job reads the
  // values it keeps aside only then).
  bool reads_event_value = false;

  // Layout of a member's state.
  int num_score_slots = 0;
  int num_window_counters = 0;
  int num_lifetime_counters = 0;
  int num_window_caps = 0;
  int num_lifetime_caps = 0;
  int num_once = 0;
  int num_ttl = 0;

  // Dispatch for the exact types the model names; other types use
  // BuildDispatch (prefix and `*` patterns only).
  absl::flat_hash_map<std::string, Dispatch> dispatch_by_type;
  Dispatch BuildDispatch(std::string_view type) const;
  // The dispatch for `type`: precomputed, or built into `*scratch`.
  const Dispatch& DispatchFor(std::string_view type, Dispatch* scratch) const;

  // Name lookups (load time and reading outputs; never on the hot path).
  absl::flat_hash_map<std::string, int> score_index, counter_index, tag_index,
      stage_index, flag_index;
};

}  // namespace leadscore::internal

#endif  // LEADSCORE_LIB_MODEL_COMPILED_MODEL_H_
