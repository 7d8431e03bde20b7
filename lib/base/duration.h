// Durations as operators write them in models and conditions: "30d", "36h",
// "1w2d", "90m", "45s", "250ms". The one parser for durations in the project.
#ifndef LEADSCORE_LIB_BASE_DURATION_H_
#define LEADSCORE_LIB_BASE_DURATION_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace leadscore {

constexpr int64_t kMillisPerSecond = 1000;
constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;
constexpr int64_t kMillisPerWeek = 7 * kMillisPerDay;

// Parses one or more <non-negative integer><unit> terms, units ms s m h d w,
// into milliseconds. "" and a bare number without unit are rejected; "0s" is
// zero (callers that need a positive duration check that themselves). Errors
// say what is wrong, without a position.
absl::StatusOr<int64_t> ParseDuration(std::string_view text);

}  // namespace leadscore

#endif  // LEADSCORE_LIB_BASE_DURATION_H_
