// Event views over protobuf messages, and the names of change kinds.
#include "leadscore/changes.h"
#include "leadscore/event.h"
#include "leadscore/v1/event.pb.h"

namespace leadscore {

Event EventFromProto(const v1::MemberEvent& p, std::vector<KeyValue>* storage) {
  storage->clear();
  storage->reserve(p.attrs_size() + p.profile_size());
  for (const auto& [k, v] : p.attrs()) storage->push_back(KeyValue{k, v});
  size_t n_attrs = storage->size();
  for (const auto& [k, v] : p.profile()) storage->push_back(KeyValue{k, v});
  Event e;
  e.event_id = p.event_id();
  e.member_id = p.member_id();
  e.has_time = p.has_time();
  e.time = p.time();
  e.type = p.type();
  e.account_id = p.account_id();
  e.group_id = p.group_id();
  e.channel = p.channel();
  e.value = p.value();
  e.attrs = absl::MakeConstSpan(storage->data(), n_attrs);
  e.profile = absl::MakeConstSpan(storage->data() + n_attrs, storage->size() - n_attrs);
  return e;
}

std::string_view RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kInvalid: return "invalid";
    case RejectReason::kTooLate: return "too_late";
    case RejectReason::kDuplicate: return "duplicate";
    case RejectReason::kAfterAsOf: return "after_as_of";
  }
  return "unknown";
}

std::string_view ChangeKindName(ChangeKind k) {
  switch (k) {
    case ChangeKind::kTagAdded: return "tag_added";
    case ChangeKind::kTagRemoved: return "tag_removed";
    case ChangeKind::kStageChanged: return "stage_changed";
    case ChangeKind::kFlagRaised: return "flag_raised";
    case ChangeKind::kFlagRearmed: return "flag_rearmed";
    case ChangeKind::kRejected: return "rejected";
  }
  return "unknown";
}

}  // namespace leadscore
