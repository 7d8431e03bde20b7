// Shared by the fuzz targets: limits, and a fixed workout for a loaded model
// (a few members, events of several types and attributes, advances, reads).
#ifndef LEADSCORE_TESTS_FUZZ_FUZZ_UTIL_H_
#define LEADSCORE_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore::fuzz {

constexpr size_t kMaxModelBytes = 64 * 1024;

class CountingSink : public ChangeSink {
 public:
  void OnChange(const Change& c) override { ++changes; }
  int64_t changes = 0;
};

inline void Exercise(const std::shared_ptr<const Model>& model) {
  Store store(model);
  CountingSink sink;
  const char* types[] = {"a.b", "a.c", "x", "", "order.paid"};
  const KeyValue attrs[] = {{"topic", "tax"}, {"k", "12"}};
  const KeyValue profile[] = {{"k", "v"}, {"role", "decision_maker"}, {"employees", "250"}};
  int64_t t = 1700000000000;
  for (int i = 0; i < 40; ++i) {
    std::string id = "e" + std::to_string(i % 33);
    std::string member = "m" + std::to_string(i % 3);
    Event e;
    e.event_id = id;
    e.member_id = member;
    e.has_time = true;
    e.time = t + (i % 7 == 3 ? -86400000LL * 2 : 3600000LL * i * i);
    e.type = types[i % 5];
    e.value = i * 1.5 - 10;
    e.attrs = absl::MakeConstSpan(attrs, i % 3);
    e.profile = absl::MakeConstSpan(profile, i % 4);
    store.Apply(e, &sink);
    if (i % 10 == 9) store.AdvanceAll(e.time + 86400000LL * i, &sink);
  }
  for (const auto& id : store.MemberIds()) (void)store.Read(id, t + 86400000LL * 400);
}

}  // namespace leadscore::fuzz

#endif  // LEADSCORE_TESTS_FUZZ_FUZZ_UTIL_H_
