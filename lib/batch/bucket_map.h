// Member ids -> buckets of neighbouring ids, for the batch job
// (lib/batch/batch.cc): a bucket's members are grouped and scored together,
// and the buckets in order, each with its members sorted, list every member
// in member_id byte order.
#ifndef LEADSCORE_LIB_BATCH_BUCKET_MAP_H_
#define LEADSCORE_LIB_BATCH_BUCKET_MAP_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/bytes.h"

namespace leadscore::batch {

// Buckets of member ids: a < b (byte order) implies Of(a) <= Of(b). The
// split points come from a sample of the log's ids (weighted by rows); a
// poor sample makes the buckets uneven (slower: the batch job then splits
// them again), never the output different. Immutable once made: Of() may be
// called from any thread.
//
// An id is placed by the 8 bytes that follow the sample's common prefix
// (big-endian, zero-padded: a key that never falls as the id rises); an id
// without that prefix goes to the first or the last bucket.
class BucketMap {
 public:
  BucketMap() = default;  // one bucket

  // About `buckets` buckets (at most as many as distinct sample keys).
  static BucketMap FromSample(std::vector<std::string> ids, size_t buckets) {
    BucketMap map;
    if (ids.empty() || buckets <= 1) return map;
    std::sort(ids.begin(), ids.end());
    const std::string& lo = ids.front();
    const std::string& hi = ids.back();
    size_t common = 0;
    while (common < lo.size() && common < hi.size() && lo[common] == hi[common]) ++common;
    map.prefix_ = lo.substr(0, common);
    if (common <= 8) map.prefix_head_ = __builtin_bswap64(LoadUpTo8(lo.data(), common));
    std::vector<uint64_t> keys;
    keys.reserve(ids.size());
    for (const std::string& id : ids) keys.push_back(map.KeyAfterPrefix(id));
    // (Sorted already: the ids are, and all share the prefix.)
    for (size_t j = 1; j < buckets; ++j) {
      const uint64_t split = keys[j * keys.size() / buckets];
      if (!map.splits_.empty() && map.splits_.back() >= split) continue;
      if (split <= keys.front()) continue;  // bucket 0 holds the smallest anyway
      map.splits_.push_back(split);
    }
    map.BuildTree();
    return map;
  }

  size_t size() const { return splits_.size() + 1; }

  LEADSCORE_ALWAYS_INLINE uint32_t Of(std::string_view id) const {
    if (splits_.empty()) return 0;
    const size_t n = prefix_.size();
    if (n != 0) {
      if (n <= 8 && id.size() >= n) {
        // The common case: a short prefix, compared as one word.
        const uint64_t head = __builtin_bswap64(LoadUpTo8(id.data(), n));
        if (head != prefix_head_) return head < prefix_head_ ? 0 : last();
      } else {
        const size_t k = std::min(n, id.size());
        const int c = k <= 8 ? CompareUpTo8(id.data(), prefix_.data(), k)
                             : std::memcmp(id.data(), prefix_.data(), k);
        if (c < 0 || (c == 0 && id.size() < n)) return 0;
        if (c > 0) return last();
      }
    }
    return CountAtMost(KeyAfterPrefix(id));
  }

  // The number of split points <= key. Not a binary search, whose steps
  // each wait for the load before (a tenth of reading a row, with 60
  // splits), nor a scan of groups of varying size: a tree of fan-out 8
  // (tree_), where a step compares the key with 8 keys at once, each
  // compare independent of the others, and picks the group below (two
  // steps up to 63 splits, three up to 511). 7.8 ns a key against 10.8 for
  // groups of 16, with 60 splits (a micro-benchmark of random keys).
  uint32_t CountAtMost(uint64_t key) const {
    // Every split is <= the largest key, and so would be the padding.
    if (key == ~uint64_t{0}) return static_cast<uint32_t>(splits_.size());
    const uint64_t* level = tree_.data();
    size_t group = 0;  // in the level being read
    for (size_t width : level_groups_) {  // top level first
      const uint64_t* g = level + 8 * group;
      size_t c = 0;
      for (int k = 0; k < 8; ++k) c += g[k] <= key;
      group = 8 * group + c;
      level += 8 * width;
    }
    return static_cast<uint32_t>(group);
  }

 private:
  uint32_t last() const { return static_cast<uint32_t>(splits_.size()); }
  // The 8 bytes of `id` after the prefix (which it has), big-endian.
  uint64_t KeyAfterPrefix(std::string_view id) const {
    id.remove_prefix(prefix_.size());
    return __builtin_bswap64(LoadUpTo8(id.data(), std::min<size_t>(8, id.size())));
  }

  std::string prefix_;
  uint64_t prefix_head_ = 0;  // prefix_, big-endian, when at most 8 bytes
  std::vector<uint64_t> splits_;  // increasing
  // The tree's levels, top first, each of groups of 8 keys: the bottom
  // level is splits_ padded with UINT64_MAX (at least once, so that a key
  // below it stops inside the last group); a group of a level above holds
  // the last key of each of 8 groups of the level below (padded the same
  // way); the top level is one group. level_groups_: each level's groups.
  std::vector<uint64_t> tree_;
  std::vector<size_t> level_groups_;

  void BuildTree() {
    constexpr uint64_t kPad = ~uint64_t{0};
    std::vector<std::vector<uint64_t>> levels;  // bottom first
    std::vector<uint64_t> level = splits_;
    size_t groups = level.size() / 8 + 1;  // a pad at least
    for (;;) {
      level.resize(8 * groups, kPad);
      levels.push_back(level);
      if (groups == 1) break;
      std::vector<uint64_t> up;
      for (size_t i = 0; i < groups; ++i) up.push_back(level[8 * i + 7]);
      level = std::move(up);
      groups = (level.size() + 7) / 8;  // the last entry is a pad already
    }
    tree_.clear();
    level_groups_.clear();
    for (size_t l = levels.size(); l-- > 0;) {
      tree_.insert(tree_.end(), levels[l].begin(), levels[l].end());
      level_groups_.push_back(levels[l].size() / 8);
    }
  }
};

}  // namespace leadscore::batch

#endif  // LEADSCORE_LIB_BATCH_BUCKET_MAP_H_
