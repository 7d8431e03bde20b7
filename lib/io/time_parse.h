// Event times as logs and the command line write them: integer milliseconds
// since the Unix epoch, or an RFC 3339 date-time. The one time parser of the
// readers and of `--as-of`.
#ifndef LEADSCORE_LIB_IO_TIME_PARSE_H_
#define LEADSCORE_LIB_IO_TIME_PARSE_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace leadscore::io {

// Parses `text` into milliseconds since the Unix epoch, UTC:
//   * an optionally negative decimal integer ("1700000000000"), or
//   * an RFC 3339 date-time ("2024-03-01T08:30:00Z",
//     "2024-03-01T16:30:00.250+08:00"); fractional seconds finer than a
//     millisecond are truncated toward the past.
// Leap seconds (:60) and surrounding spaces are not accepted. The error says
// what is wrong without quoting the input (callers say where it came from).
absl::StatusOr<int64_t> ParseTimeMillis(std::string_view text);

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_TIME_PARSE_H_
