// JSON text of the batch outputs: string escaping (invalid UTF-8 becomes
// U+FFFD) and shortest round-trip numbers.
#include "lib/io/json_writer.h"

#include <cstdlib>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace leadscore::io {
namespace {

std::string Str(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string Num(double v) {
  std::string out;
  AppendJsonDouble(&out, v);
  return out;
}

TEST(JsonStringTest, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(Str("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(JsonStringTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(Str("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Str(std::string("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
}

TEST(JsonStringTest, ValidUtf8IsKeptAsIs) {
  EXPECT_EQ(Str("年终结账 é 😀"), "\"年终结账 é 😀\"");
}

TEST(JsonStringTest, InvalidUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(Str("a\xFFz"), "\"a" + fffd + "z\"");          // never valid
  EXPECT_EQ(Str("\xC0\xAF"), "\"" + fffd + fffd + "\"");     // overlong
  EXPECT_EQ(Str("\xE4\xB8"), "\"" + fffd + "\"");            // truncated: one
  EXPECT_EQ(Str("\xE4\xB8x"), "\"" + fffd + "x\"");
  EXPECT_EQ(Str("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");  // surrogate
  EXPECT_EQ(Str("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");
  EXPECT_EQ(Str("\x80"), "\"" + fffd + "\"");                // lone continuation
}

TEST(JsonNumberTest, DoublesAreShortestRoundTrip) {
  EXPECT_EQ(Num(5), "5");
  EXPECT_EQ(Num(12.5), "12.5");
  EXPECT_EQ(Num(0.1), "0.1");
  EXPECT_EQ(Num(-0.0), "-0");
  EXPECT_EQ(Num(1e21), "1e+21");
  const double third = 1.0 / 3.0;
  EXPECT_EQ(std::strtod(Num(third).c_str(), nullptr), third);
}

TEST(JsonNumberTest, NonFiniteDoublesAreNull) {
  EXPECT_EQ(Num(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(Num(std::numeric_limits<double>::quiet_NaN()), "null");
}

}  // namespace
}  // namespace leadscore::io
