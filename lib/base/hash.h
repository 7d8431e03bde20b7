// A stable 64-bit string hash: the same on every machine and every run, so it
// may be stored (dedup ids in snapshots) and used to partition members.
#ifndef LEADSCORE_LIB_BASE_HASH_H_
#define LEADSCORE_LIB_BASE_HASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace leadscore {

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// The n <= 8 bytes at p as std::memcpy puts them into a zeroed uint64_t,
// without a call: a memcpy of a length the compiler does not know is a
// call into the C library, which would cost more than the hash it feeds.
inline uint64_t LoadUpTo8(const char* p, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n >= 4) {
    // Two 4-byte loads that overlap for n < 8: a byte in both lands at the
    // same place from each, so OR-ing them is exact.
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return lo | (static_cast<uint64_t>(hi) << (8 * (n - 4)));
  }
  if (n == 0) return 0;
  const uint64_t a = static_cast<uint8_t>(p[0]);
  const uint64_t b = static_cast<uint8_t>(p[n / 2]);
  const uint64_t c = static_cast<uint8_t>(p[n - 1]);
  return a | (b << (8 * (n / 2))) | (c << (8 * (n - 1)));
#else
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
#endif
}

inline uint64_t StableHash(std::string_view s) {
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
