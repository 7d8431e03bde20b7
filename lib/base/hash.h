// A stable 64-bit string hash: the same on every machine and every run, so it
// may be stored (dedup ids in snapshots).
#ifndef LEADSCORE_LIB_BASE_HASH_H_
#define LEADSCORE_LIB_BASE_HASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#include "lib/base/bytes.h"

namespace leadscore {

LEADSCORE_ALWAYS_INLINE uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

LEADSCORE_ALWAYS_INLINE uint64_t StableHash(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (s.size() * 0x100000001b3ULL);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = Mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
  }
  const uint64_t tail = LoadUpTo8(s.data() + i, s.size() - i);
  return Mix64(h ^ tail ^ (static_cast<uint64_t>(s.size() - i) << 56));
}

}  // namespace leadscore

#endif  // LEADSCORE_LIB_BASE_HASH_H_
