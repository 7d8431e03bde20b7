// JSON Lines output of batch scoring: one object per member (members.jsonl)
// and one per change (changes.jsonl), with model indices turned into names.
#ifndef LEADSCORE_LIB_IO_JSON_WRITER_H_
#define LEADSCORE_LIB_IO_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leadscore/changes.h"
#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore::io {

// Appends `s` as a JSON string literal (with the quotes). Control characters,
// '"' and '\\' are escaped; bytes that are not valid UTF-8 are replaced by
// U+FFFD, one per maximal ill-formed subsequence (as Unicode recommends).
void AppendJsonString(std::string* out, std::string_view s);

// Appends `s` as is when it is valid UTF-8; else with each maximal
// ill-formed subsequence replaced by U+FFFD, as AppendJsonString does.
void AppendUtf8(std::string* out, std::string_view s);

// Appends a double as the shortest text that reads back to the same value
// ("12.5", "1e+21", "-0"); non-finite values are written as null.
void AppendJsonDouble(std::string* out, double v);

void AppendJsonInt(std::string* out, int64_t v);

// Appends one line (with its '\n') describing a member as read:
// {"member_id", "stage", "stage_since", "scores": {name: value}, "tags":
// [names sorted bytewise], "counters": {name: n}, "flags": {name: {"armed",
// "raised", "last_raised"}}}. "stage" and "stage_since" are null when the
// model has no lifecycle; "last_raised" is null before the first raise.
void AppendMemberLine(std::string* out, const Model& model,
                      const MemberView& view);

// Appends one line (with its '\n') describing a change:
// {"member_id", "time", "kind", ...} where the rest depends on the kind:
//   tag_added / tag_removed: "tag"
//   stage_changed: "from", "to"
//   flag_raised: "flag", "scores": {name: value}, "reasons": [{"rule",
//     "score", "points"}]
//   flag_rearmed: "flag"
//   rejected: "event_id", "reason" (the detail goes to stderr only) ("time" is null when the event
//     had none)
void AppendChangeLine(std::string* out, const Model& model,
                      const Change& change);

// The two above for many lines of one model (batch scoring): the model's
// names are escaped once, here. The same bytes. Not thread-safe (one per
// thread); the model must outlive it.
class JsonLineWriter {
 public:
  explicit JsonLineWriter(const Model& model);
  void AppendMemberLine(std::string* out, const MemberView& view);
  void AppendChangeLine(std::string* out, const Change& change) const;

 private:
  struct Names;
  std::vector<std::string> score_keys_;    // "name":
  std::vector<std::string> scores_;        // "name"
  std::vector<std::string> counter_keys_;  // "name":
  std::vector<std::string> flag_keys_;     // "name":
  std::vector<std::string> flags_;         // "name"
  std::vector<std::string> tags_;          // "name"
  std::vector<int> tag_rank_;              // by tag: rank of its name, bytewise
  std::vector<std::string> stages_;        // "name"
  std::vector<std::string> contributors_;  // "name"
  std::vector<int> tags_scratch_;
};

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_JSON_WRITER_H_
