// libFuzzer target: restoring a snapshot file (Store::LoadSnapshot). A
// corrupt or truncated file must give an error, never a crash; a snapshot
// that loads must score on and save again, and that file must load.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return 0;
  static const std::string dir = [] {
    char tmpl[] = "/tmp/leadscore-snapfuzz.XXXXXX";
    const char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  const std::string in = dir + "/in.snap", out = dir + "/out.snap";
  FILE* f = std::fopen(in.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto model = leadscore::fuzz::CommunityModel();
  auto store = leadscore::Store::LoadSnapshot(model, in);
  if (!store.ok()) return 0;
  (*store)->AdvanceAll(1767225600000 + 86400000LL * 400, nullptr);
  if (!(*store)->SaveSnapshot(out).ok()) abort();
  if (!leadscore::Store::LoadSnapshot(model, out).ok()) abort();
  return 0;
}
