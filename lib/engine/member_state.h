// The state the engine keeps for one member, laid out by the CompiledModel
// (every array is indexed by a slot the compiler assigned; no names).
#ifndef LEADSCORE_LIB_ENGINE_MEMBER_STATE_H_
#define LEADSCORE_LIB_ENGINE_MEMBER_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/engine/dedup_set.h"
#include "lib/model/compiled_model.h"

namespace leadscore::internal {

struct CapEntry {
  int64_t time;    // event time
  double allowed;  // raw points the cap allowed for that event
};


// A profile attribute that no condition of the model reads: kept only so
// that exported state carries every attribute (a later model may read it).
struct OtherAttr {
  std::string key;
  std::string value;
};

struct FlagState {
  bool armed = true;
  bool has_last = false;
  int64_t raised = 0;
  int64_t last = 0;
};

struct MemberState {
  explicit MemberState(const CompiledModel& m);
  // Back to what the constructor makes, keeping the arrays' memory (a batch
  // scores one member after another in one state). Every field below must
  // be reset there.
  void Clear();

  std::string id;
  int64_t clock = 0;            // m.clock: time never runs backwards
  int64_t ref_time = 0;         // decaying values below are as of this time
  int64_t last_event_time = 0;  // greatest time of an applied event
  int64_t stage_since = 0;
  int32_t stage = -1;

  std::vector<double> scores;  // by ScoreDef::slot
  std::vector<double> ledger;  // by rule index: decayed sum of what it granted
  std::vector<uint8_t> fit_holds;  // by fit index
  std::vector<uint8_t> tags;       // by tag index: held
  std::vector<int64_t> tag_last_set;  // by ttl slot
  std::vector<uint8_t> once_done;     // by once bit
  std::vector<int64_t> lifetime_counts;             // by counter slot
  std::vector<std::vector<int64_t>> window_counts;  // sorted event times
  std::vector<double> lifetime_caps;                // allowed so far
  std::vector<std::vector<CapEntry>> window_caps;   // sorted by time
  std::vector<FlagState> flags;
  std::vector<std::string> attrs;   // by member attribute id
  std::vector<uint8_t> attr_present;
  std::vector<OtherAttr> other_attrs;  // sorted by key; not read by the model
  DedupSet dedup;                   // event ids applied
  size_t dedup_prune_at = 32;

  // For the engine only, never exported: which inputs of conditions may
  // have changed since the last evaluation (Engine's dependency bits; all
  // set: evaluate every state tag), and the time of that evaluation.
  uint64_t dirty = ~uint64_t{0};
  int64_t eval_time = 0;
};

}  // namespace leadscore::internal

#endif  // LEADSCORE_LIB_ENGINE_MEMBER_STATE_H_
