// What applying events and advancing time emits (SEMANTICS.md section 9).
#ifndef LEADSCORE_CHANGES_H_
#define LEADSCORE_CHANGES_H_

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"

namespace leadscore {

enum class ChangeKind : uint8_t {
  kTagAdded = 0,
  kTagRemoved = 1,
  kStageChanged = 2,
  kFlagRaised = 3,
  kFlagRearmed = 4,
  kRejected = 5,
};

enum class RejectReason : uint8_t {
  kInvalid = 0,
  kTooLate = 1,
  kDuplicate = 2,
  kAfterAsOf = 3,
};
constexpr int kNumRejectReasons = 4;

// "duplicate", "too_late", "invalid", "after_as_of"
std::string_view RejectReasonName(RejectReason r);
// "tag_added", "tag_removed", "stage_changed", "flag_raised", ...
std::string_view ChangeKindName(ChangeKind k);

// One reason of a raised flag: what a rule (event or fit) contributes to a
// score at the time of the raise.
struct FlagReason {
  int contributor = -1;  // Model::contributor_name
  int score = -1;        // Model::score_name
  double points = 0;
};

// A change, valid only during the ChangeSink call that receives it. Indices
// name model items (Model::tag_name, stage_name, flag_name, score_name).
struct Change {
  ChangeKind kind = ChangeKind::kTagAdded;
  std::string_view member_id;
  bool has_time = true;  // false only for rejected events with no time
  int64_t time = 0;      // evaluation time; for rejections the event's time
  int tag = -1;          // tag_added / tag_removed
  int from_stage = -1;   // stage_changed
  int to_stage = -1;
  int transition = -1;   // index of the transition in the model
  int flag = -1;         // flag_raised / flag_rearmed
  absl::Span<const double> scores;       // flag_raised: every score, model order
  absl::Span<const FlagReason> reasons;  // flag_raised: top reasons
  std::string_view event_id;             // rejected
  RejectReason reason = RejectReason::kInvalid;
  std::string_view detail;               // rejected: why, for people
};

// Receives changes in emission order. Implementations decide thread-safety;
// the engine calls a sink from the thread that applies the event.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void OnChange(const Change& change) = 0;
};

}  // namespace leadscore

#endif  // LEADSCORE_CHANGES_H_
