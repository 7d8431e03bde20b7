// The per-member set of applied event ids (lib/engine/dedup_set.h) and the
// branch-free binary search of the engine's sorted lists (lib/base/search.h).
// What "duplicate" means is tested through the store in engine_test.cc; these
// tests pin the data structures under it, where a slip (a lost id after the
// table grows, the wrong time kept) would show only on some logs.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/search.h"
#include "lib/engine/dedup_set.h"

namespace leadscore::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsNull;
using ::testing::Pointee;

MATCHER_P2(Entry, hash, time, "") { return arg.hash == hash && arg.time == time; }

TEST(DedupSetTest, FindsWhatItKeeps) {
  DedupSet s;
  s.Keep(42, 1000);
  EXPECT_THAT(s.Find(42), Pointee(1000));
  EXPECT_THAT(s.Find(43), IsNull());
  EXPECT_EQ(s.size(), 1u);
}

TEST(DedupSetTest, KeepsTheLatestTimeOfAnId) {
  DedupSet s;
  s.Keep(7, 500);
  s.Keep(7, 300);  // an earlier time does not replace 500
  EXPECT_THAT(s.Find(7), Pointee(500));
  s.Keep(7, 900);
  EXPECT_THAT(s.Find(7), Pointee(900));
  EXPECT_EQ(s.size(), 1u);
}

TEST(DedupSetTest, HashZeroIsAnIdLikeAnyOther) {
  // 0 marks a free slot in the table: the id whose hash is 0 is kept aside.
  DedupSet s;
  EXPECT_THAT(s.Find(0), IsNull());
  s.Keep(0, 5);
  s.Keep(0, 3);
  EXPECT_THAT(s.Find(0), Pointee(5));
  EXPECT_EQ(s.size(), 1u);
  s.ForgetBefore(6);
  EXPECT_THAT(s.Find(0), IsNull());
  EXPECT_EQ(s.size(), 0u);
}

TEST(DedupSetTest, NothingIsLostAsTheTableGrows) {
  // 10,000 ids in pairs that share their low 40 bits (h and h + 2^40 land in
  // the same slot of any table under 2^40 slots): every one is found with
  // its own time after 11 doublings (8 -> 16384 slots).
  auto h = [](uint64_t i) { return (i * 0x9e3779b97f4a7c15ULL) & ((uint64_t{1} << 40) - 1); };
  DedupSet s;
  for (uint64_t i = 1; i <= 5000; ++i) {
    s.Keep(h(i), static_cast<int64_t>(i));
    s.Keep(h(i) + (uint64_t{1} << 40), -static_cast<int64_t>(i));
  }
  EXPECT_EQ(s.size(), 10000u);
  for (uint64_t i = 1; i <= 5000; ++i) {
    ASSERT_THAT(s.Find(h(i)), Pointee(static_cast<int64_t>(i)));
    ASSERT_THAT(s.Find(h(i) + (uint64_t{1} << 40)), Pointee(-static_cast<int64_t>(i)));
  }
  EXPECT_THAT(s.Find(h(5001)), IsNull());
}

TEST(DedupSetTest, ForgetBeforeDropsOnlyOlderTimes) {
  // Kept: 10@100, 20@200, 30@300; forget before 200: 10 goes (100 < 200),
  // 20 stays (200 is not before 200).
  DedupSet s;
  s.Keep(10, 100);
  s.Keep(20, 200);
  s.Keep(30, 300);
  s.ForgetBefore(200);
  EXPECT_THAT(s.Find(10), IsNull());
  EXPECT_THAT(s.Find(20), Pointee(200));
  EXPECT_THAT(s.Find(30), Pointee(300));
  EXPECT_EQ(s.size(), 2u);
}

TEST(DedupSetTest, ForgetBeforeSeesATimeRaisedByALaterKeep) {
  // 10 was kept at 100 and again at 400: it is 400 now, so forgetting
  // before 200 keeps it.
  DedupSet s;
  s.Keep(10, 100);
  s.Keep(10, 400);
  s.ForgetBefore(200);
  EXPECT_THAT(s.Find(10), Pointee(400));
}

TEST(DedupSetTest, ForgetBeforeWorksAtTheEndsOfInt64) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  DedupSet s;
  s.Keep(1, kMin);
  s.Keep(2, kMin + 1);
  s.ForgetBefore(kMin);  // nothing is before INT64_MIN
  EXPECT_EQ(s.size(), 2u);
  s.ForgetBefore(kMin + 1);
  EXPECT_THAT(s.Find(1), IsNull());
  EXPECT_THAT(s.Find(2), Pointee(kMin + 1));
}

TEST(DedupSetTest, AddsAfterForgetting) {
  DedupSet s;
  for (uint64_t i = 1; i <= 100; ++i) s.Keep(i, static_cast<int64_t>(i));
  s.ForgetBefore(51);  // 1..50 go, 51..100 stay
  EXPECT_EQ(s.size(), 50u);
  for (uint64_t i = 101; i <= 300; ++i) s.Keep(i, static_cast<int64_t>(i));
  EXPECT_EQ(s.size(), 250u);
  EXPECT_THAT(s.Find(50), IsNull());
  EXPECT_THAT(s.Find(51), Pointee(51));
  EXPECT_THAT(s.Find(300), Pointee(300));
}

TEST(DedupSetTest, ClearEmptiesASmallAndALargeTable) {
  DedupSet s;
  s.Keep(0, 1);
  for (uint64_t i = 1; i <= 3; ++i) s.Keep(i, 1);
  s.clear();
  EXPECT_EQ(s.size(), 0u);
  EXPECT_THAT(s.Find(0), IsNull());
  EXPECT_THAT(s.Find(2), IsNull());
  for (uint64_t i = 1; i <= 1000; ++i) s.Keep(i, 1);
  s.clear();  // more than 64 slots: the memory is given back
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.capacity_bytes(), 0u);
  EXPECT_THAT(s.Find(999), IsNull());
  s.Keep(999, 2);
  EXPECT_THAT(s.Find(999), Pointee(2));
}

TEST(DedupSetTest, ReserveKeepsWhatIsThereAndMakesRoom) {
  // 1000 ids fit in 2048 slots at most 3/4 full (1000 * 4 <= 2048 * 3), not
  // in 1024 (4000 > 3072).
  DedupSet s;
  s.Keep(5, 50);
  s.Reserve(1000);
  EXPECT_EQ(s.capacity_bytes(), 2048 * sizeof(DedupEntry));
  EXPECT_THAT(s.Find(5), Pointee(50));
  for (uint64_t i = 6; i < 1005; ++i) s.Keep(i, 1);
  EXPECT_EQ(s.capacity_bytes(), 2048 * sizeof(DedupEntry));  // no growth
  EXPECT_EQ(s.size(), 1000u);
}

TEST(DedupSetTest, SortedListsEveryIdByHash) {
  DedupSet s;
  s.Keep(30, 3);
  s.Keep(0, 9);
  s.Keep(10, 1);
  s.Keep(20, 2);
  EXPECT_THAT(s.Sorted(), ElementsAre(Entry(0u, 9), Entry(10u, 1), Entry(20u, 2),
                                      Entry(30u, 3)));
}

TEST(PartitionPointTest, AgreesWithTheStandardLibraryOnEverySizeAndKey) {
  // Sorted lists of 0..40 elements with repeats (i / 3); every key from
  // below the first to above the last.
  for (int n = 0; n <= 40; ++n) {
    std::vector<int64_t> v;
    for (int i = 0; i < n; ++i) v.push_back(i / 3);
    for (int64_t key = -1; key <= n / 3 + 1; ++key) {
      const int64_t* got =
          PartitionPoint(v.data(), v.size(), [key](int64_t x) { return x <= key; });
      const auto want = std::upper_bound(v.begin(), v.end(), key);
      ASSERT_EQ(got - v.data(), want - v.begin()) << "n=" << n << " key=" << key;
      ASSERT_EQ(UpperBoundOf(v, key) - v.begin(), want - v.begin());
    }
  }
}

}  // namespace
}  // namespace leadscore::internal
