// Integer milliseconds or RFC 3339 -> milliseconds since the epoch.
#include "lib/io/time_parse.h"

#include <charconv>

#include "absl/status/status.h"

namespace leadscore::io {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads `n` digits at text[*pos] into *out.
bool Digits(std::string_view text, size_t* pos, int n, int* out) {
  if (*pos + n > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char a, char b = 0) {
  if (*pos >= text.size()) return false;
  const char c = text[*pos];
  if (c != a && (b == 0 || c != b)) return false;
  ++*pos;
  return true;
}

// Days from 1970-01-01 to the given proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
  return m == 2 && leap ? 29 : kDays[m - 1];
}

absl::Status NotATime() {
  return absl::InvalidArgumentError(
      "not milliseconds since the epoch nor an RFC 3339 date-time");
}

// YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); 't' and 'z' may be lower case.
absl::StatusOr<int64_t> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !Digits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !Digits(text, &pos, 2, &day) || !Expect(text, &pos, 'T', 't') ||
      !Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &second)) {
    return NotATime();
  }
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t begin = pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      // Digits past the third are truncated: toward the past.
      if (pos - begin < 3) millis = millis * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == begin) return NotATime();
    for (size_t n = pos - begin; n < 3; ++n) millis *= 10;
  }
  int64_t offset_minutes = 0;
  if (Expect(text, &pos, 'Z', 'z')) {
    // UTC
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool east = text[pos] == '+';
    ++pos;
    int oh, om;
    if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') ||
        !Digits(text, &pos, 2, &om)) {
      return NotATime();
    }
    if (oh > 23 || om > 59) {
      return absl::InvalidArgumentError("UTC offset out of range");
    }
    offset_minutes = (east ? 1 : -1) * (oh * 60 + om);
  } else {
    return NotATime();
  }
  if (pos != text.size()) return NotATime();
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return absl::InvalidArgumentError("no such date");
  }
  // Leap seconds (:60) are not accepted: event clocks do not have them.
  if (hour > 23 || minute > 59 || second > 59) {
    return absl::InvalidArgumentError("no such time of day");
  }
  const int64_t seconds = DaysFromCivil(year, month, day) * 86400 +
                          hour * 3600 + minute * 60 + second -
                          offset_minutes * 60;
  return seconds * 1000 + millis;
}

}  // namespace

absl::StatusOr<int64_t> ParseTimeMillis(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty time");
  size_t digits_from = text[0] == '-' ? 1 : 0;
  bool all_digits = digits_from < text.size();
  for (size_t i = digits_from; i < text.size() && all_digits; ++i) {
    all_digits = IsDigit(text[i]);
  }
  if (all_digits) {
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return absl::InvalidArgumentError(
          "integer time out of range for milliseconds since the epoch");
    }
    return ms;
  }
  return ParseRfc3339(text);
}

}  // namespace leadscore::io
