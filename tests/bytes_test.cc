// Short byte strings copied and compared inline (lib/base/bytes.h): each
// must give exactly what the C library's memcpy or memcmp gives, for every
// length and wherever the bytes start.
#include "lib/base/bytes.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace leadscore {
namespace {

// Bytes with every bit pattern that could go wrong when OR-ed, shifted or
// compared: zero, all ones, the sign bit.
constexpr unsigned char kBytes[40] = {
    0x00, 0xff, 0x80, 0x7f, 0x01, 0xfe, 0x10, 0xef, 0x55, 0xaa, 0x00, 0x00, 0xff, 0xff,
    0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x61, 0x62, 0x63, 0x00,
    0x7f, 0x80, 0x81, 0xfe, 0xff, 0x00, 0x01, 0x20, 0x7e, 0x30, 0x39, 0x5f};

const char* At(size_t i) { return reinterpret_cast<const char*>(kBytes) + i; }

// LoadUpTo8 reads 0..8 bytes without a call; it must give what memcpy into
// a zeroed word gives, for every length and wherever the bytes start.
TEST(LoadUpTo8Test, GivesWhatMemcpyGives) {
  for (size_t start = 0; start + 8 <= sizeof(kBytes); ++start) {
    const char* p = At(start);
    for (size_t n = 0; n <= 8; ++n) {
      uint64_t want = 0;
      std::memcpy(&want, p, n);
      EXPECT_EQ(LoadUpTo8(p, n), want) << "start " << start << ", n " << n;
    }
  }
}

TEST(CopyBytesTest, CopiesWhatMemcpyCopiesAndNothingElse) {
  for (size_t start = 0; start < 8; ++start) {
    for (size_t n = 0; n <= 32; ++n) {
      // Guard bytes around the copy must stay as they were.
      char got[48], want[48];
      std::memset(got, '#', sizeof got);
      std::memset(want, '#', sizeof want);
      CopyBytes(got + 8, At(start), n);
      std::memcpy(want + 8, At(start), n);
      ASSERT_EQ(std::string(got, sizeof got), std::string(want, sizeof want))
          << "start " << start << ", n " << n;
    }
  }
}

TEST(SameBytesTest, IsStringEquality) {
  // Every pair of slices of kBytes of lengths 0..24, and each with one
  // byte changed (the first, the last and one in the middle).
  for (size_t n = 0; n <= 24; ++n) {
    for (size_t i = 0; i + n <= sizeof(kBytes); i += 3) {
      for (size_t j = 0; j + n <= sizeof(kBytes); j += 5) {
        const std::string_view a(At(i), n), b(At(j), n);
        ASSERT_EQ(SameBytes(a, b), a == b) << i << " " << j << " " << n;
      }
      std::string a(At(i), n);
      for (size_t k : {size_t{0}, n / 2, n - 1}) {
        if (n == 0) break;
        std::string b = a;
        b[k] = static_cast<char>(b[k] ^ 0x01);
        ASSERT_FALSE(SameBytes(a, b)) << n << " " << k;
        ASSERT_TRUE(SameBytes(a, a));
      }
    }
  }
  EXPECT_FALSE(SameBytes("ab", "abc"));  // a prefix is not the same
  EXPECT_FALSE(SameBytes(std::string_view("a\0", 2), "a"));
}

TEST(CompareUpTo8Test, HasTheSignOfMemcmp) {
  for (size_t n = 0; n <= 8; ++n) {
    for (size_t i = 0; i + n <= sizeof(kBytes); ++i) {
      for (size_t j = 0; j + n <= sizeof(kBytes); ++j) {
        const int want = std::memcmp(At(i), At(j), n);
        const int got = CompareUpTo8(At(i), At(j), n);
        ASSERT_EQ(got < 0, want < 0) << i << " " << j << " " << n;
        ASSERT_EQ(got > 0, want > 0) << i << " " << j << " " << n;
      }
    }
  }
}

}  // namespace
}  // namespace leadscore
