// Short byte strings copied and compared without a call into the C
// library: ids and types are a few bytes long, and a memcpy or memcmp of a
// length the compiler does not know is a call, which costs more than the
// bytes (each was a few percent of a batch run).
#ifndef LEADSCORE_LIB_BASE_BYTES_H_
#define LEADSCORE_LIB_BASE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

// For the few helpers of the hot paths that the compiler would otherwise
// call rather than inline (it did, at some call sites, with -O3).
#define LEADSCORE_ALWAYS_INLINE inline __attribute__((always_inline))

namespace leadscore {

// The n <= 8 bytes at p as std::memcpy puts them into a zeroed uint64_t,
// without a call: a memcpy of a length the compiler does not know is a
// call into the C library, which would cost more than the hash it feeds.
LEADSCORE_ALWAYS_INLINE uint64_t LoadUpTo8(const char* p, size_t n) {
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

// Copies n bytes from src to dst (which do not overlap), as std::memcpy.
LEADSCORE_ALWAYS_INLINE void CopyBytes(void* dst, const void* src, size_t n) {
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  if (n > 16) {
    std::memcpy(d, s, n);
  } else if (n >= 8) {
    // Two 8-byte words that overlap for n < 16.
    uint64_t a, b;
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + n - 8, 8);
    std::memcpy(d, &a, 8);
    std::memcpy(d + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(d, &a, 4);
    std::memcpy(d + n - 4, &b, 4);
  } else if (n > 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

// Whether a and b hold the same bytes (as a == b).
LEADSCORE_ALWAYS_INLINE bool SameBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
  if (n > 8) {
    return LoadUpTo8(a.data(), 8) == LoadUpTo8(b.data(), 8) &&
           LoadUpTo8(a.data() + n - 8, 8) == LoadUpTo8(b.data() + n - 8, 8);
  }
  return LoadUpTo8(a.data(), n) == LoadUpTo8(b.data(), n);
}

// The sign of memcmp(a, b, n) for n <= 8 (both at least n bytes long).
LEADSCORE_ALWAYS_INLINE int CompareUpTo8(const char* a, const char* b, size_t n) {
  const uint64_t x = __builtin_bswap64(LoadUpTo8(a, n));
  const uint64_t y = __builtin_bswap64(LoadUpTo8(b, n));
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace leadscore

#endif  // LEADSCORE_LIB_BASE_BYTES_H_
