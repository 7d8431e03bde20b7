// BucketMap: ids to buckets of neighbouring ids, in id order.
#include "lib/batch/bucket_map.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace leadscore::batch {
namespace {

std::vector<std::string> Ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "m%06d", i);
    out.push_back(buf);
  }
  return out;
}

TEST(BucketMapTest, DefaultIsOneBucket) {
  BucketMap map;
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.Of("anything"), 0u);
  EXPECT_EQ(map.Of(""), 0u);
}

TEST(BucketMapTest, SplitsTheSampleIntoEvenBuckets) {
  // 1,000 ids m000000..m000999, 4 buckets: splits at the 250th, 500th and
  // 750th sorted id, so each bucket holds 250 of them.
  BucketMap map = BucketMap::FromSample(Ids(0, 1000), 4);
  ASSERT_EQ(map.size(), 4u);
  std::vector<int> count(4);
  for (const std::string& id : Ids(0, 1000)) ++count[map.Of(id)];
  EXPECT_EQ(count, (std::vector<int>{250, 250, 250, 250}));
}

TEST(BucketMapTest, NoMoreBucketsThanDistinctKeys) {
  // Two distinct ids, however many rows: at most two buckets.
  std::vector<std::string> sample(100, "a");
  sample.insert(sample.end(), 100, "b");
  EXPECT_EQ(BucketMap::FromSample(sample, 50).size(), 2u);
  EXPECT_EQ(BucketMap::FromSample(std::vector<std::string>(10, "x"), 5).size(), 1u);
}

TEST(BucketMapTest, IdsOutsideTheSamplesPrefixGoToTheEnds) {
  // Every sample id starts with "m000": "a..." sorts before all of them,
  // "z..." and "m1" after, "m" (a prefix of "m000") and "m/" before.
  BucketMap map = BucketMap::FromSample(Ids(0, 1000), 8);
  ASSERT_EQ(map.size(), 8u);
  EXPECT_EQ(map.Of("a"), 0u);
  EXPECT_EQ(map.Of(""), 0u);
  EXPECT_EQ(map.Of("m"), 0u);
  EXPECT_EQ(map.Of("m/"), 0u);  // '/' < '0'
  EXPECT_EQ(map.Of("z"), 7u);
  EXPECT_EQ(map.Of("m1"), 7u);
}

TEST(BucketMapTest, BucketsNeverFallAsIdsRise) {
  // Random ids of every length and byte, sorted: their buckets must not
  // decrease (the batch job writes buckets in order, members sorted in
  // each). The sample is some of them plus ids sharing a long prefix.
  std::mt19937_64 rng(7);
  std::vector<std::string> ids;
  for (int i = 0; i < 20000; ++i) {
    std::string id = (rng() % 3 == 0) ? "wxid_00012" : "";
    const size_t n = rng() % 14;
    for (size_t k = 0; k < n; ++k) {
      id.push_back(static_cast<char>(rng() % 4 == 0 ? rng() % 256 : '0' + rng() % 10));
    }
    ids.push_back(id);
  }
  std::vector<std::string> sample(ids.begin(), ids.begin() + 500);
  for (const std::vector<std::string>& s :
       {sample, std::vector<std::string>(ids.begin(), ids.begin() + 3), Ids(5, 900)}) {
    BucketMap map = BucketMap::FromSample(s, 64);
    std::vector<std::string> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 1; i < sorted.size(); ++i) {
      ASSERT_LE(map.Of(sorted[i - 1]), map.Of(sorted[i]))
          << "ids " << i - 1 << " and " << i;
    }
    ASSERT_LT(map.Of(sorted.back()), map.size());
  }
}

TEST(BucketMapTest, CountAtMostIsTheNumberOfSplitsAtOrBelowTheKey) {
  // Maps of every size up to 600 splits (one, two and three levels of
  // groups), each key at, between, below and above the splits.
  for (size_t buckets : {2, 3, 16, 17, 18, 60, 64, 255, 256, 257, 300, 600}) {
    std::vector<std::string> sample;
    for (size_t i = 0; i < 4 * buckets; ++i) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "k%07zu", i * 10);
      sample.push_back(buf);
    }
    BucketMap map = BucketMap::FromSample(sample, buckets);
    ASSERT_EQ(map.size(), buckets);
    std::vector<uint32_t> got;
    for (size_t i = 0; i < 4 * buckets * 10 + 20; ++i) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "k%07zu", i);
      got.push_back(map.Of(buf));
    }
    // The buckets of the sorted keys go 0, 1, 2, ... in steps of one, each
    // taking 40 consecutive keys (the split at its first one).
    for (size_t i = 1; i < got.size(); ++i) {
      ASSERT_LE(got[i - 1], got[i]) << buckets << " " << i;
      ASSERT_LE(got[i], got[i - 1] + 1) << buckets << " " << i;
    }
    EXPECT_EQ(got.front(), 0u);
    EXPECT_EQ(got.back(), buckets - 1);
    EXPECT_EQ(got[40], 1u);
    EXPECT_EQ(got[39], 0u);
    // The largest key there is: every split is below it.
    EXPECT_EQ(map.Of(std::string("k0") + std::string(8, '\xff')), buckets - 1) << buckets;
  }
  // A key at each split, just below it and just above it, against a count
  // of the splits: maps of 1 to 600 splits.
  for (size_t buckets = 2; buckets <= 601; buckets += 7) {
    std::vector<std::string> sample;
    for (size_t i = 0; i < buckets; ++i) sample.push_back("x" + std::to_string(1000 + i * 3));
    BucketMap map = BucketMap::FromSample(sample, buckets);
    std::vector<std::string> splits(sample.begin() + 1, sample.end());
    for (size_t i = 0; i < 1000 + buckets * 3 + 5; ++i) {
      const std::string id = "x" + std::to_string(i);
      const size_t want =
          std::upper_bound(splits.begin(), splits.end(), id) - splits.begin();
      ASSERT_EQ(map.Of(id), want) << buckets << " " << id;
    }
  }
}

}  // namespace
}  // namespace leadscore::batch
