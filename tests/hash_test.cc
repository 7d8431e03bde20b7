// The stable string hash (lib/base/hash.h). Its values are stored: the dedup
// ids of every snapshot are StableHash(event_id). A change to its values
// would make every stored state forget which events it has applied, so they
// are pinned here.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "lib/base/hash.h"

namespace leadscore {
namespace {

// Values of the hash as first shipped (02d3619, where the tail was read with
// memcpy), for strings of each tail length 0..7 and of one, two and five
// 8-byte words. The empty string hashes its length only.
TEST(StableHashTest, ValuesArePinned) {
  EXPECT_EQ(StableHash(""), 0x9ca066f1a4ab2eeaULL);
  EXPECT_EQ(StableHash("a"), 0xe8cc49c92c87737fULL);
  EXPECT_EQ(StableHash("ab"), 0x09a2658655e4ac21ULL);
  EXPECT_EQ(StableHash("abc"), 0xdbb380833b70deefULL);
  EXPECT_EQ(StableHash("abcd"), 0x2be4c0a2f750d183ULL);
  EXPECT_EQ(StableHash("abcde"), 0xeee3663b5a4161b4ULL);
  EXPECT_EQ(StableHash("abcdef"), 0x9f178a8fb5dac6ebULL);
  EXPECT_EQ(StableHash("m000001"), 0x9ffb305380d5e0c2ULL);
  EXPECT_EQ(StableHash("m0000001"), 0xed921a6fdc9d9dc8ULL);
  EXPECT_EQ(StableHash("e0000914366"), 0xf1d7b906af808b17ULL);
  EXPECT_EQ(StableHash("m00000001234"), 0x319ce6db37dc7daaULL);
  EXPECT_EQ(StableHash("e00009143661234"), 0x40db2335c8112ebfULL);
  EXPECT_EQ(StableHash("member-with-a-long-id-of-33-bytes"), 0x6373cdd83e9a641bULL);
  // Bytes that are not text, a zero byte among them.
  EXPECT_EQ(StableHash(std::string_view("\xff\x00\x01", 3)), 0xf61f01c3730c1383ULL);
}

// The length is part of the hash: a string and the same string with zero
// bytes after it (which a zero-padded tail would otherwise confuse) differ.
TEST(StableHashTest, TrailingZeroBytesChangeIt) {
  EXPECT_NE(StableHash(std::string_view("ab", 2)), StableHash(std::string_view("ab\0", 3)));
  EXPECT_NE(StableHash(std::string_view("", 0)), StableHash(std::string_view("\0", 1)));
}

}  // namespace
}  // namespace leadscore
