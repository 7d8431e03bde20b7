// JSON text of the batch outputs: string escaping (invalid UTF-8 becomes
// U+FFFD) and shortest round-trip numbers.
#include "lib/io/json_writer.h"

#include <cstdlib>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "leadscore/model.h"

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

TEST(JsonLineTest, MemberLinesQuoteIdsAndWriteNumbersAsTheirParts) {
  // A member line is built in a buffer of its own; ids and numbers of every
  // kind must come out as AppendJsonString and AppendJsonDouble write them.
  auto model = Model::LoadText(R"pb(score { name: "s" })pb", "m.textproto");
  ASSERT_TRUE(model.ok()) << model.status();
  JsonLineWriter writer(**model);
  const std::string ids[] = {"m1", "", "a\"b", "back\\slash", "\xc3\xa9", "x\x01",
                             std::string(64, 'x'), std::string(65, 'y'),
                             std::string(500, 'z') + "\n"};
  const double values[] = {0, -0.0, 5, 12.5, 99999, 100000, 1e21, 1.0 / 3.0, -2.75e-300,
                           std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()};
  std::string got, want;
  for (const std::string& id : ids) {
    for (double v : values) {
      MemberView view;
      view.member_id = id;
      view.scores = {v};
      writer.AppendMemberLine(&got, view);
      want += "{\"member_id\":" + Str(id) + ",\"stage\":null,\"stage_since\":null," +
              "\"scores\":{\"s\":" + Num(v) + "},\"tags\":[],\"counters\":{},\"flags\":{}}\n";
    }
  }
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace leadscore::io
