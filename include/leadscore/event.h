// A member event as the engine reads it: a view over strings the caller owns
// (no copy per event). See proto/leadscore/v1/event.proto for the message.
#ifndef LEADSCORE_EVENT_H_
#define LEADSCORE_EVENT_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace leadscore {

namespace v1 {
class MemberEvent;
}

struct KeyValue {
  std::string_view key;
  std::string_view value;
};

// Plain data; valid as long as the strings it points to.
struct Event {
  std::string_view event_id;
  std::string_view member_id;
  bool has_time = false;  // false: "unknown time", rejected as invalid
  int64_t time = 0;       // ms since the Unix epoch, UTC
  std::string_view type;
  std::string_view account_id;
  std::string_view group_id;
  std::string_view channel;
  double value = 0;
  absl::Span<const KeyValue> attrs;    // event context
  absl::Span<const KeyValue> profile;  // member attribute updates
};

// Views `proto` as an Event; `storage` holds the attrs/profile pairs and must
// outlive the result (as must `proto`).
Event EventFromProto(const v1::MemberEvent& proto,
                     std::vector<KeyValue>* storage);

}  // namespace leadscore

#endif  // LEADSCORE_EVENT_H_
