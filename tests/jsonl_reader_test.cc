// Reading JSON Lines event logs: the MemberEvent field names, null and
// missing fields, times and values in their two forms, attrs and profile,
// and bad records reported at their line with a reason.
#include "lib/io/jsonl_reader.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadscore::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A record as read, with its strings copied.
struct Rec {
  int64_t line = 0;
  std::string error;
  std::string event_id, member_id, type, account_id, group_id, channel;
  bool has_time = false;
  int64_t time = 0;
  double value = 0;
  std::vector<std::string> attrs, profile;  // "k=v"
};

class Sink : public JsonlSink {
 public:
  void Add(const RawEvent& e) override {
    Rec r;
    r.line = e.line;
    r.error = e.error;
    r.event_id = std::string(e.event_id);
    r.member_id = std::string(e.member_id);
    r.type = std::string(e.type);
    r.account_id = std::string(e.account_id);
    r.group_id = std::string(e.group_id);
    r.channel = std::string(e.channel);
    r.has_time = e.has_time;
    r.time = e.time;
    r.value = e.value;
    for (const KeyValue& kv : e.attrs) {
      r.attrs.push_back(std::string(kv.key) + "=" + std::string(kv.value));
    }
    for (const KeyValue& kv : e.profile) {
      r.profile.push_back(std::string(kv.key) + "=" + std::string(kv.value));
    }
    recs.push_back(r);
  }
  void UnknownField(std::string_view name, int64_t line) override {
    unknown.push_back(std::string(name) + "@" + std::to_string(line));
  }
  std::vector<Rec> recs;
  std::vector<std::string> unknown;
};

Sink Read(const std::string& data) {
  JsonlFile file(data);
  Sink sink;
  int64_t newlines = 0;
  const size_t end = file.ParseRange(file.data_begin(), data.size(), &sink, &newlines);
  EXPECT_EQ(end, data.size());
  return sink;
}

Rec One(const std::string& line) {
  Sink s = Read(line + "\n");
  EXPECT_EQ(s.recs.size(), 1u) << line;
  return s.recs.empty() ? Rec() : s.recs[0];
}

TEST(JsonlReaderTest, ReadsEveryFieldOfMemberEvent) {
  const Rec r = One(
      R"({"event_id":"e1","member_id":"m1","time":1767225600000,"type":"course.attend",)"
      R"("value":45.5,"account_id":"a1","group_id":"g1","channel":"wecom",)"
      R"("attrs":{"topic":"tax"},"profile":{"role":"decision_maker","industry":"retail"}})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.event_id, "e1");
  EXPECT_EQ(r.member_id, "m1");
  EXPECT_TRUE(r.has_time);
  EXPECT_EQ(r.time, 1767225600000);
  EXPECT_EQ(r.type, "course.attend");
  EXPECT_EQ(r.value, 45.5);
  EXPECT_EQ(r.account_id, "a1");
  EXPECT_EQ(r.group_id, "g1");
  EXPECT_EQ(r.channel, "wecom");
  EXPECT_THAT(r.attrs, ElementsAre("topic=tax"));
  EXPECT_THAT(r.profile, ElementsAre("role=decision_maker", "industry=retail"));
}

TEST(JsonlReaderTest, MissingAndNullFieldsAreAbsent) {
  const Rec r = One(R"({"member_id":"m1","time":5,"type":null,"value":null,"attrs":null})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.event_id, "");
  EXPECT_EQ(r.type, "");
  EXPECT_EQ(r.value, 0);
  EXPECT_THAT(r.attrs, IsEmpty());
}

TEST(JsonlReaderTest, TimeAsMillisecondsOrRfc3339String) {
  EXPECT_EQ(One(R"({"member_id":"m","time":"2026-03-02T17:00:00.250+08:00"})").time,
            1772442000250);
  EXPECT_EQ(One(R"({"member_id":"m","time":"1772442000250"})").time, 1772442000250);
  EXPECT_EQ(One(R"({"member_id":"m","time":-5})").time, -5);
}

TEST(JsonlReaderTest, ValueAsNumberOrNumericString) {
  EXPECT_EQ(One(R"({"member_id":"m","time":1,"value":"12.5"})").value, 12.5);
  EXPECT_EQ(One(R"({"member_id":"m","time":1,"value":7})").value, 7);
  const Rec nan = One(R"({"member_id":"m","time":1,"value":"nan"})");
  EXPECT_EQ(nan.error, "");  // the engine rejects it at its place
  EXPECT_TRUE(std::isnan(nan.value));
}

TEST(JsonlReaderTest, AttributeNumbersAndBooleansAreTheirText) {
  const Rec r = One(
      R"({"member_id":"m","time":1,"profile":{"employees":250,"share":0.5,"vip":true,"gone":null,"empty":""}})");
  EXPECT_EQ(r.error, "");
  EXPECT_THAT(r.profile, ElementsAre("employees=250", "share=0.5", "vip=true", "empty="));
}

TEST(JsonlReaderTest, EscapesAndUnicodeInStrings) {
  const Rec r = One(R"({"member_id":"m\u00e9\n\"x\"","time":1,"attrs":{"title":"\u5e74\u7ec8"}})");
  EXPECT_EQ(r.member_id, "m\xc3\xa9\n\"x\"");
  EXPECT_THAT(r.attrs, ElementsAre("title=\xe5\xb9\xb4\xe7\xbb\x88"));
}

TEST(JsonlReaderTest, CrLfLinesBlankLinesAndByteOrderMark) {
  const Sink s = Read("\xEF\xBB\xBF{\"member_id\":\"a\",\"time\":1}\r\n\r\n  \n"
                      "{\"member_id\":\"b\",\"time\":2}\r\n");
  ASSERT_EQ(s.recs.size(), 2u);
  EXPECT_EQ(s.recs[0].error, "");
  EXPECT_EQ(s.recs[1].member_id, "b");
  EXPECT_EQ(s.recs[1].line, 3);  // lines counted from 0 at the start
}

TEST(JsonlReaderTest, TruncatedLastLineWithoutBreakIsRead) {
  const Sink s = Read("{\"member_id\":\"a\",\"time\":1}\n{\"member_id\":\"b\",\"time\":2}");
  ASSERT_EQ(s.recs.size(), 2u);
  EXPECT_EQ(s.recs[1].error, "");
  EXPECT_EQ(s.recs[1].member_id, "b");
}

TEST(JsonlReaderTest, TruncatedJsonIsABadRecordAtItsLine) {
  const Sink s = Read("{\"member_id\":\"a\",\"time\":1}\n{\"member_id\":\"b\",\"ti");
  ASSERT_EQ(s.recs.size(), 2u);
  EXPECT_THAT(s.recs[1].error, HasSubstr("bad JSON"));
  EXPECT_EQ(s.recs[1].line, 1);
}

TEST(JsonlReaderTest, NotAnObjectIsABadRecord) {
  EXPECT_EQ(One("[1,2]").error, "not a JSON object");
  EXPECT_THAT(One("nonsense").error, HasSubstr("bad JSON"));
}

TEST(JsonlReaderTest, WrongTypesAreBadRecordsThatKeepTheOtherFields) {
  const Rec r = One(R"({"event_id":"e1","member_id":"m1","time":1000,"type":7})");
  EXPECT_EQ(r.error, "type: expected a string, not a number");
  EXPECT_EQ(r.event_id, "e1");  // the rejection can name them
  EXPECT_EQ(r.member_id, "m1");
  EXPECT_EQ(r.time, 1000);
  EXPECT_EQ(One(R"({"member_id":"m","time":1,"attrs":"x"})").error,
            "attrs: expected an object, not a string");
  EXPECT_EQ(One(R"({"member_id":"m","time":1,"attrs":{"k":[1]}})").error,
            "attrs.k: expected a string, not an array");
  EXPECT_THAT(One(R"({"member_id":"m","time":1.5})").error, HasSubstr("bad time"));
  EXPECT_EQ(One(R"({"member_id":"m","time":1,"value":"abc"})").error,
            "bad value \"abc\": not a number");
  EXPECT_EQ(One(R"({"member_id":"m","time":1,"value":[]})").error,
            "bad value: expected a number, not an array");
}

TEST(JsonlReaderTest, BadTimeStringSaysWhy) {
  const Rec r = One(R"({"member_id":"m","time":"yesterday"})");
  EXPECT_EQ(r.error,
            "bad time \"yesterday\": not milliseconds since the epoch nor an RFC 3339 "
            "date-time");
  EXPECT_FALSE(r.has_time);
}

TEST(JsonlReaderTest, NoMemberOrNoTimeIsABadRecord) {
  EXPECT_EQ(One(R"({"time":1})").error, "empty member_id");
  EXPECT_EQ(One(R"({"member_id":"m"})").error, "no time");
  EXPECT_EQ(One(R"({"member_id":"m","time":null})").error, "no time");
}

TEST(JsonlReaderTest, InvalidUtf8IsABadRecord) {
  const Rec r = One("{\"member_id\":\"m\xff\",\"time\":1}");
  EXPECT_EQ(r.error, "not valid UTF-8");
}

TEST(JsonlReaderTest, UnknownFieldsAreReportedWithTheirLine) {
  const Sink s = Read("{\"member_id\":\"a\",\"time\":1,\"colour\":\"red\"}\n");
  EXPECT_THAT(s.unknown, ElementsAre("colour@0"));
  EXPECT_EQ(s.recs[0].error, "");
}

TEST(JsonlReaderTest, ARangeReadsTheLinesThatStartInIt) {
  const std::string data =
      "{\"member_id\":\"a\",\"time\":1}\n{\"member_id\":\"b\",\"time\":2}\n"
      "{\"member_id\":\"c\",\"time\":3}\n";
  JsonlFile file(data);
  const size_t second = data.find("{\"member_id\":\"b\"");
  Sink first, rest;
  int64_t newlines = 0;
  EXPECT_EQ(file.ParseRange(0, second, &first, &newlines), second);
  EXPECT_EQ(newlines, 1);
  file.ParseRange(second, data.size(), &rest, &newlines);
  ASSERT_EQ(first.recs.size(), 1u);
  ASSERT_EQ(rest.recs.size(), 2u);
  EXPECT_EQ(rest.recs[1].member_id, "c");
  EXPECT_EQ(rest.recs[1].line, 1);
}

}  // namespace
}  // namespace leadscore::io
