// Arithmetic on event times and durations that cannot overflow.
//
// An event time is any int64 number of milliseconds (SEMANTICS.md section 1)
// and a model duration any non-negative int64, so `t - window` or `t - t0`
// can fall outside int64 for times near its ends. These helpers give the
// result the unbounded arithmetic would give wherever the engine relies on
// it: a lower bound below INT64_MIN means "no bound", an age above INT64_MAX
// is INT64_MAX (older than any duration a model can write), and a decay
// factor is taken over the exact difference. See docs/semantics-notes.md, "Times
// at the ends of int64".
#ifndef LEADSCORE_LIB_BASE_TIME_MATH_H_
#define LEADSCORE_LIB_BASE_TIME_MATH_H_

#include <cmath>
#include <cstdint>
#include <limits>

namespace leadscore {

// a - b, clamped to [INT64_MIN, INT64_MAX].
inline int64_t SubSat(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b < 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}

// `t - window` for a window (or lateness) >= 0 as the bound of "times after
// t - window": false when it lies below INT64_MIN, where every time is after
// it. Otherwise true, with the bound in `*bound`.
inline bool LowerBound(int64_t t, int64_t window, int64_t* bound) {
  return !__builtin_sub_overflow(t, window, bound);
}

// The age `t - t0` of something at time t0 seen at t >= t0, saturated at
// INT64_MAX: `idle`, `stage_age`, TTLs and cooldowns compare it with
// durations, none of which exceeds INT64_MAX.
inline int64_t Age(int64_t t, int64_t t0) { return SubSat(t, t0); }

// 2^(-(t - t0) / half_life) for t >= t0; 1 for a half-life <= 0 (no decay).
// (t - t0) is formed exactly when it fits int64, else from the two times as
// doubles, so a gap wider than int64 still decays (to 0 for any half-life a
// model can write) instead of wrapping.
inline double DecayFactor(double half_life_ms, int64_t t, int64_t t0) {
  if (half_life_ms <= 0 || t == t0) return 1.0;
  int64_t dt;
  const double d = __builtin_sub_overflow(t, t0, &dt)
                       ? static_cast<double>(t) - static_cast<double>(t0)
                       : static_cast<double>(dt);
  return std::exp2(-d / half_life_ms);
}

}  // namespace leadscore

#endif  // LEADSCORE_LIB_BASE_TIME_MATH_H_
