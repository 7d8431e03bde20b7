// Reading length-delimited MemberEvent streams: the wire format as the
// protobuf library writes it, unknown fields, bad records (wrong wire
// types, bytes that are not UTF-8), and truncated streams with the record
// index and byte offset.
#include "lib/io/pb_reader.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/v1/event.pb.h"

namespace leadscore::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Rec {
  int64_t line = 0;
  int64_t offset = 0;
  std::string error;
  std::string event_id, member_id, type, account_id, group_id, channel;
  bool has_time = false;
  int64_t time = 0;
  double value = 0;
  std::vector<std::string> attrs, profile;
};

class Sink : public RawEventSink {
 public:
  void Add(const RawEvent& e) override {
    Rec r;
    r.line = e.line;
    r.offset = e.offset;
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
  std::vector<Rec> recs;
};

// A message with a varint length prefix, as SerializeDelimitedTo* writes.
std::string Delimited(const std::string& message) {
  std::string out;
  uint64_t n = message.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  return out + message;
}

std::string Serialized(const v1::MemberEvent& e) {
  std::string s;
  EXPECT_TRUE(e.SerializeToString(&s));
  return Delimited(s);
}

Sink ReadAll(const std::string& data, PbLayout* layout_out = nullptr) {
  PbLayout layout = ScanPbStream(data, 1 << 20);
  Sink sink;
  ParsePbRange(data, 0, layout.valid_end, &sink);
  if (layout_out != nullptr) *layout_out = layout;
  return sink;
}

v1::MemberEvent Sample() {
  v1::MemberEvent e;
  e.set_event_id("e1");
  e.set_member_id("m1");
  e.set_time(1767225600000);
  e.set_type("course.attend");
  e.set_account_id("a1");
  e.set_group_id("g1");
  e.set_channel("wecom");
  e.set_value(45.5);
  (*e.mutable_attrs())["topic"] = "tax";
  (*e.mutable_profile())["role"] = "decision_maker";
  return e;
}

TEST(PbReaderTest, ReadsWhatTheProtobufLibraryWrites) {
  const Sink s = ReadAll(Serialized(Sample()));
  ASSERT_EQ(s.recs.size(), 1u);
  const Rec& r = s.recs[0];
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.event_id, "e1");
  EXPECT_EQ(r.member_id, "m1");
  EXPECT_TRUE(r.has_time);
  EXPECT_EQ(r.time, 1767225600000);
  EXPECT_EQ(r.type, "course.attend");
  EXPECT_EQ(r.account_id, "a1");
  EXPECT_EQ(r.group_id, "g1");
  EXPECT_EQ(r.channel, "wecom");
  EXPECT_EQ(r.value, 45.5);
  EXPECT_THAT(r.attrs, ElementsAre("topic=tax"));
  EXPECT_THAT(r.profile, ElementsAre("role=decision_maker"));
}

TEST(PbReaderTest, TheProtobufLibraryReadsWhatWeWrite) {
  std::vector<KeyValue> attrs = {{"topic", "tax"}, {"empty", ""}};
  std::vector<KeyValue> profile = {{"role", "x"}};
  Event e;
  e.event_id = "e9";
  e.member_id = "m9";
  e.has_time = true;
  e.time = -12;  // negative: ten bytes as a varint
  e.type = "t";
  e.value = -0.0;
  e.attrs = attrs;
  e.profile = profile;
  std::string out;
  AppendDelimitedEvent(&out, e);
  const uint8_t size = static_cast<uint8_t>(out[0]);
  ASSERT_EQ(size + 1u, out.size());
  v1::MemberEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(out.substr(1)));
  EXPECT_EQ(parsed.event_id(), "e9");
  EXPECT_EQ(parsed.member_id(), "m9");
  EXPECT_TRUE(parsed.has_time());
  EXPECT_EQ(parsed.time(), -12);
  EXPECT_TRUE(std::signbit(parsed.value()));
  EXPECT_EQ(parsed.attrs().at("topic"), "tax");
  EXPECT_EQ(parsed.attrs().at("empty"), "");
  EXPECT_EQ(parsed.profile().at("role"), "x");
  // And back through our reader.
  const Sink s = ReadAll(out);
  ASSERT_EQ(s.recs.size(), 1u);
  EXPECT_EQ(s.recs[0].time, -12);
  EXPECT_THAT(s.recs[0].attrs, ElementsAre("topic=tax", "empty="));
}

TEST(PbReaderTest, TimeZeroIsPresentAndAbsentTimeIsABadRecord) {
  v1::MemberEvent e;
  e.set_member_id("m");
  e.set_time(0);
  v1::MemberEvent no_time;
  no_time.set_member_id("m");
  const Sink s = ReadAll(Serialized(e) + Serialized(no_time));
  ASSERT_EQ(s.recs.size(), 2u);
  EXPECT_EQ(s.recs[0].error, "");
  EXPECT_TRUE(s.recs[0].has_time);
  EXPECT_EQ(s.recs[1].error, "no time");
  EXPECT_EQ(s.recs[1].line, 1);
}

TEST(PbReaderTest, EmptyMemberIsABadRecord) {
  v1::MemberEvent e;
  e.set_time(5);
  EXPECT_EQ(ReadAll(Serialized(e)).recs[0].error, "empty member_id");
}

TEST(PbReaderTest, UnknownFieldsAreSkipped) {
  v1::MemberEvent e = Sample();
  std::string body;
  ASSERT_TRUE(e.SerializeToString(&body));
  body += std::string("\x98\x06\x2a", 3);          // field 99, varint 42
  body += std::string("\xa2\x06\x03xyz", 6);       // field 100, "xyz"
  body += std::string("\xad\x06\x01\x02\x03\x04", 6);  // field 101, fixed32
  const Sink s = ReadAll(Delimited(body));
  ASSERT_EQ(s.recs.size(), 1u);
  EXPECT_EQ(s.recs[0].error, "");
  EXPECT_EQ(s.recs[0].member_id, "m1");
}

TEST(PbReaderTest, WrongWireTypeIsABadRecordThatKeepsTheOtherFields) {
  // member_id "m", event_id "e", then time as a string.
  const std::string body = std::string("\x12\x01m\x0a\x01" "e", 6) + "\x1a\x03" "now";
  const Sink s = ReadAll(Delimited(body));
  ASSERT_EQ(s.recs.size(), 1u);
  EXPECT_EQ(s.recs[0].error, "field time has wire type 2, not 0");
  EXPECT_EQ(s.recs[0].member_id, "m");
  EXPECT_EQ(s.recs[0].event_id, "e");
  EXPECT_FALSE(s.recs[0].has_time);
}

TEST(PbReaderTest, InvalidUtf8IsABadRecord) {
  v1::MemberEvent e;
  e.set_member_id("m");
  e.set_time(1);
  std::string body;
  ASSERT_TRUE(e.SerializeToString(&body));
  body += std::string("\x22\x02\xc3\x28", 4);  // type: not UTF-8
  const Sink s = ReadAll(Delimited(body));
  EXPECT_EQ(s.recs[0].error, "type: not valid UTF-8");
  EXPECT_TRUE(IsValidUtf8("plain \xe5\xb9\xb4"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(PbReaderTest, MessageThatDoesNotDecodeIsABadRecord) {
  // A string field whose length runs past the message's end.
  const Sink s = ReadAll(Delimited(std::string("\x12\x09m", 3)));
  ASSERT_EQ(s.recs.size(), 1u);
  EXPECT_THAT(s.recs[0].error, HasSubstr("does not decode"));
}

TEST(PbReaderTest, TruncatedLastRecordEndsTheStreamWithItsIndexAndOffset) {
  const std::string one = Serialized(Sample());
  const std::string data = one + one + one.substr(0, 10);
  PbLayout layout;
  const Sink s = ReadAll(data, &layout);
  EXPECT_EQ(s.recs.size(), 2u);
  EXPECT_TRUE(layout.broken);
  EXPECT_EQ(layout.num_records, 2);
  EXPECT_EQ(layout.valid_end, 2 * one.size());
  EXPECT_THAT(layout.broken_error, HasSubstr("truncated record"));
}

TEST(PbReaderTest, CutInsideALengthPrefix) {
  const std::string one = Serialized(Sample());
  PbLayout layout = ScanPbStream(one + "\xff", 1 << 20);
  EXPECT_TRUE(layout.broken);
  EXPECT_THAT(layout.broken_error, HasSubstr("inside its length prefix"));
}

TEST(PbReaderTest, PartsEndOnRecordBoundaries) {
  std::string data;
  for (int i = 0; i < 100; ++i) data += Serialized(Sample());
  PbLayout layout = ScanPbStream(data, 300);
  ASSERT_GT(layout.part_begin.size(), 5u);
  int64_t total = 0;
  for (size_t k = 0; k < layout.part_begin.size(); ++k) {
    const size_t end =
        k + 1 < layout.part_begin.size() ? layout.part_begin[k + 1] : layout.valid_end;
    Sink sink;
    const int64_t n = ParsePbRange(data, layout.part_begin[k], end, &sink);
    EXPECT_EQ(layout.part_first_record[k], total);
    for (const Rec& r : sink.recs) EXPECT_EQ(r.error, "");
    total += n;
  }
  EXPECT_EQ(total, 100);
}

}  // namespace
}  // namespace leadscore::io
