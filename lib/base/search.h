// Binary search over small sorted arrays without data-dependent branches.
//
// The engine searches each member's sorted lists (dedup ids by hash, window
// counter times) on every event. Their keys are hashes and times, which a
// branch predictor cannot guess: std::lower_bound mispredicts about every
// other step. This search takes the same number of steps whatever the keys
// are, each a comparison and a conditional move.
#ifndef LEADSCORE_LIB_BASE_SEARCH_H_
#define LEADSCORE_LIB_BASE_SEARCH_H_

#include <cstddef>

namespace leadscore {

// The first element of [first, first + n) for which `before(x)` is false,
// where `before` is true on a prefix of the range and false after it (as
// std::partition_point); first + n when it holds on every element.
template <typename T, typename Before>
inline T* PartitionPoint(T* first, size_t n, Before before) {
  if (n == 0) return first;
  while (n > 1) {
    const size_t half = n / 2;
    // The answer is in [first, first + n]: after first[half] when before()
    // holds on it, at or before it otherwise.
    first = before(first[half]) ? first + half : first;
    n -= half;
  }
  return first + (before(*first) ? 1 : 0);
}

// std::upper_bound over a vector-like container with `<`, by PartitionPoint.
template <typename Vec, typename K>
inline auto UpperBoundOf(Vec& v, const K& key) {
  return v.begin() + (PartitionPoint(v.data(), v.size(),
                                     [&](const auto& x) { return !(key < x); }) -
                      v.data());
}

}  // namespace leadscore

#endif  // LEADSCORE_LIB_BASE_SEARCH_H_
