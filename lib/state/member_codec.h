// One member's engine state to and from its durable form (v1.MemberState),
// by names, so that a state written under one model can be restored under a
// changed one. What survives a change is listed in docs/host-guide.md
// ("Model upgrades"); the code below is that list, rule by rule.
#ifndef LEADSCORE_LIB_STATE_MEMBER_CODEC_H_
#define LEADSCORE_LIB_STATE_MEMBER_CODEC_H_

#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "leadscore/v1/state.pb.h"
#include "lib/engine/member_state.h"
#include "lib/model/compiled_model.h"

namespace leadscore::internal::state {

// Thread-compatible; holds name lookups the compiled model lacks (rules).
class MemberCodec {
 public:
  explicit MemberCodec(const CompiledModel& model);

  // `s` (laid out for this model) by names. Deterministic: equal states give
  // equal messages (and equal bytes with deterministic serialization).
  void Encode(const MemberState& s, v1::MemberState* out) const;

  // Fills `s`, a fresh state laid out for this model, from `p`. What does
  // not fit the model is dropped or reset and described in `notes` (one
  // line per item, e.g. `rule "x": not in the model, ledger dropped`).
  // Fit is not recomputed here: the caller runs Engine::RecomputeFit.
  // DataLoss when `p` is inconsistent (it passed its checksum, so it was
  // written that way: not by this library).
  absl::Status Decode(const v1::MemberState& p, MemberState* s,
                      std::set<std::string>* notes) const;

  const CompiledModel& model() const { return m_; }

 private:
  const CompiledModel& m_;
  absl::flat_hash_map<std::string, int> rule_index_;
};

}  // namespace leadscore::internal::state

#endif  // LEADSCORE_LIB_STATE_MEMBER_CODEC_H_
