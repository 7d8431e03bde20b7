// Parsing of model durations ("7d", "1w2d", "250ms").
#include "lib/base/duration.h"

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/strings.h"

namespace leadscore {

absl::StatusOr<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("empty duration; write e.g. \"7d\"");
  }
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed duration \"", AsAbsl(text),
          "\": expected digits followed by a unit (ms, s, m, h, d, w)"));
    }
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return absl::InvalidArgumentError(
            absl::StrCat("duration \"", AsAbsl(text), "\" is too large"));
      }
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    int64_t unit = 0;
    if (text.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < text.size()) {
      switch (text[i]) {
        case 's': unit = kMillisPerSecond; break;
        case 'm': unit = kMillisPerMinute; break;
        case 'h': unit = kMillisPerHour; break;
        case 'd': unit = kMillisPerDay; break;
        case 'w': unit = kMillisPerWeek; break;
        default: break;
      }
      if (unit != 0) ++i;
    }
    if (unit == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed duration \"", AsAbsl(text),
          "\": each number needs a unit (ms, s, m, h, d, w)"));
    }
    if (n > std::numeric_limits<int64_t>::max() / unit ||
        total > std::numeric_limits<int64_t>::max() - n * unit) {
      return absl::InvalidArgumentError(
          absl::StrCat("duration \"", AsAbsl(text), "\" is too large"));
    }
    total += n * unit;
  }
  return total;
}

}  // namespace leadscore
