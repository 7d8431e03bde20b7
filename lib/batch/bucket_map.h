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

  // The number of split points <= key. Not a binary search: its steps each
  // wait for the load before (a tenth of reading a row, with 60 splits);
  // here groups of up to 16 are compared at once, each compare independent
  // of the others, and a group picks the next (two steps up to 256 splits).
  uint32_t CountAtMost(uint64_t key) const {
    const uint64_t* s = splits_.data();
    size_t lo = 0, n = splits_.size();
    while (n > 16) {
      const size_t step = (n + 15) / 16;
      size_t c = 0;
      for (size_t k = step - 1; k < n; k += step) c += s[lo + k] <= key;
      lo += c * step;
      n = c * step + step <= n ? step : n - c * step;
    }
    size_t c = 0;
    for (size_t k = 0; k < n; ++k) c += s[lo + k] <= key;
    return static_cast<uint32_t>(lo + c);
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
};

}  // namespace leadscore::batch

#endif  // LEADSCORE_LIB_BATCH_BUCKET_MAP_H_
