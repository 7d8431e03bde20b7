// libFuzzer target: the JSON model loader, its position map and the compiler.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > leadscore::fuzz::kMaxModelBytes) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = leadscore::Model::LoadJson(text, "fuzz.json");
  if (model.ok()) leadscore::fuzz::Exercise(*model);
  return 0;
}
