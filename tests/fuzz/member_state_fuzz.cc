// libFuzzer target: importing one member's state bytes (Store::ImportMember).
// Corrupt bytes must give an error, never a crash; bytes that import must
// score on, export again, and that export must import.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return 0;
  auto model = leadscore::fuzz::CommunityModel();
  leadscore::Store store(model);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!store.ImportMember(bytes).ok()) return 0;
  for (const std::string& id : store.MemberIds()) {
    leadscore::Event e;
    e.event_id = "fuzz-e";
    e.member_id = id;
    e.has_time = true;
    auto view = store.Read(id, 0);
    e.time = view ? view->clock + 3600000 : 0;
    e.type = "demo.request";
    store.Apply(e, nullptr);
    store.AdvanceAll(e.time + 86400000LL * 40, nullptr);
    auto again = store.ExportMember(id);
    if (!again.ok()) abort();
    leadscore::Store other(model);
    if (!other.ImportMember(*again).ok()) abort();
  }
  return 0;
}
