// Reading CSV event logs: RFC 4180 records, header mapping, times and
// values, and bad rows reported at the physical line where they start.
#include "lib/io/csv_reader.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "lib/io/csv_chunk.h"
#include "lib/io/time_parse.h"

namespace leadscore::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Records {
  std::vector<std::vector<std::string>> fields;
  std::vector<int64_t> lines;
  std::vector<std::string> errors;
};

Records ReadRecords(const std::string& data, size_t block_size = 1 << 20) {
  CsvOptions options;
  options.block_size = block_size;
  auto reader = CsvRecordReader::FromString(data, options);
  Records out;
  CsvRecord record;
  while (reader->Next(&record)) {
    std::vector<std::string> fields;
    for (size_t i = 0; i < record.size(); ++i) {
      fields.emplace_back(record.field(i));
    }
    out.fields.push_back(fields);
    out.lines.push_back(record.line);
    out.errors.push_back(record.error);
  }
  EXPECT_TRUE(reader->status().ok()) << reader->status();
  return out;
}

// Reads every row of a log held in memory.
std::vector<EventRecord> ReadEvents(const std::string& data,
                                    std::vector<std::string>* warnings = nullptr) {
  auto source = CsvEventSource::FromString(data, "log.csv");
  EXPECT_TRUE(source.ok()) << source.status();
  std::vector<EventRecord> rows;
  if (!source.ok()) return rows;
  if (warnings != nullptr) *warnings = (*source)->warnings();
  EventRecord record;
  while ((*source)->Next(&record)) rows.push_back(record);
  return rows;
}

std::vector<std::string> Keys(const std::vector<EventRecord::Pair>& pairs, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(pairs[i].key + "=" + pairs[i].value);
  return out;
}

// --- records -------------------------------------------------------------

TEST(CsvRecordTest, QuotedFieldKeepsCommas) {
  Records r = ReadRecords("a,\"b,c\",d\n");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("a", "b,c", "d")));
}

TEST(CsvRecordTest, DoubledQuotesInQuotedFieldAreOneQuote) {
  Records r = ReadRecords("\"say \"\"hi\"\"\",\"\"\"\"\n");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("say \"hi\"", "\"")));
}

TEST(CsvRecordTest, NewlineInsideQuotesStaysInTheField) {
  Records r = ReadRecords("x,\"line one\nline two\"\ny,z\n");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("x", "line one\nline two"),
                                    ElementsAre("y", "z")));
  // The second record starts on physical line 3.
  EXPECT_THAT(r.lines, ElementsAre(1, 3));
}

TEST(CsvRecordTest, CrLfLineEndsAreAccepted) {
  Records r = ReadRecords("a,b\r\nc,\"d\"\r\n");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d")));
  EXPECT_THAT(r.lines, ElementsAre(1, 2));
}

TEST(CsvRecordTest, LoneCarriageReturnInsideAFieldIsData) {
  Records r = ReadRecords("a\rb,c\n");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("a\rb", "c")));
}

TEST(CsvRecordTest, ByteOrderMarkAtTheStartIsSkipped) {
  Records r = ReadRecords("\xEF\xBB\xBFmember_id,time\n");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("member_id", "time")));
}

TEST(CsvRecordTest, LastRecordWithoutNewlineIsRead) {
  Records r = ReadRecords("a,b\nc,d");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d")));
}

TEST(CsvRecordTest, TrailingEmptyFieldIsKept) {
  Records r = ReadRecords("a,\nb,");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("a", ""), ElementsAre("b", "")));
}

TEST(CsvRecordTest, EmptyLinesAreSkippedButCounted) {
  Records r = ReadRecords("a\n\n\r\nb\n\n");
  EXPECT_THAT(r.fields, ElementsAre(ElementsAre("a"), ElementsAre("b")));
  EXPECT_THAT(r.lines, ElementsAre(1, 4));
}

TEST(CsvRecordTest, UnterminatedQuoteAtEndOfInputIsAnError) {
  Records r = ReadRecords("a,b\nc,\"never closed\nmore\n");
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.errors[0], "");
  EXPECT_THAT(r.errors[1], HasSubstr("unterminated quoted field"));
  EXPECT_THAT(r.errors[1], HasSubstr("line 2"));
  EXPECT_EQ(r.lines[1], 2);
}

TEST(CsvRecordTest, TextAfterClosingQuoteIsAnError) {
  Records r = ReadRecords("\"ab\"c,d\n");
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_THAT(r.errors[0], HasSubstr("after the closing quote"));
  EXPECT_THAT(r.fields[0], ElementsAre("abc", "d"));
}

TEST(CsvRecordTest, EveryBlockSizeReadsTheSameRecords) {
  const std::string data =
      "\xEF\xBB\xBFh1,h2,h3\r\n"
      "\"a,\"\"b\"\"\r\nc\",,plain\r\n"
      "\n"
      "x\ry,\"\",\"z\"\n"
      "\"\"\"\",last,\"q\"";
  const Records expected = ReadRecords(data);
  ASSERT_EQ(expected.fields.size(), 4u);
  EXPECT_THAT(expected.fields[1], ElementsAre("a,\"b\"\r\nc", "", "plain"));
  EXPECT_THAT(expected.lines, ElementsAre(1, 2, 5, 6));
  for (size_t block = 4; block < 40; ++block) {
    const Records got = ReadRecords(data, block);
    EXPECT_EQ(got.fields, expected.fields) << "block size " << block;
    EXPECT_EQ(got.lines, expected.lines) << "block size " << block;
  }
}

TEST(CsvRecordTest, ReadsAFileFromDisk) {
  const std::string path = ::testing::TempDir() + "/csv_reader_test.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "a,b\n\"c\nd\",e";
  }
  auto reader = CsvRecordReader::OpenFile(path, CsvOptions{5});
  ASSERT_TRUE(reader.ok()) << reader.status();
  CsvRecord record;
  ASSERT_TRUE((*reader)->Next(&record));
  ASSERT_TRUE((*reader)->Next(&record));
  EXPECT_EQ(record.field(0), "c\nd");
  EXPECT_EQ(record.field(1), "e");
  EXPECT_FALSE((*reader)->Next(&record));
  EXPECT_TRUE((*reader)->status().ok());
  std::remove(path.c_str());
}

TEST(CsvRecordTest, MissingFileIsNotFound) {
  auto reader = CsvRecordReader::OpenFile("/nonexistent/dir/log.csv");
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(absl::IsNotFound(reader.status()));
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr("/nonexistent/dir/log.csv"));
}

// --- events ----------------------------------------------------------------

TEST(CsvEventTest, ColumnsMayComeInAnyOrder) {
  auto rows = ReadEvents(
      "type,time,value,member_id,event_id,channel,group_id,account_id\n"
      "post,1000,2.5,m1,e1,wecom,g1,acct\n");
  ASSERT_EQ(rows.size(), 1u);
  const EventRecord& r = rows[0];
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.event_id, "e1");
  EXPECT_EQ(r.member_id, "m1");
  EXPECT_TRUE(r.has_time);
  EXPECT_EQ(r.time, 1000);
  EXPECT_EQ(r.type, "post");
  EXPECT_EQ(r.value, 2.5);
  EXPECT_EQ(r.channel, "wecom");
  EXPECT_EQ(r.group_id, "g1");
  EXPECT_EQ(r.account_id, "acct");
}

TEST(CsvEventTest, AttrAndProfileColumnsBecomeKeyValuePairs) {
  auto rows = ReadEvents(
      "member_id,attr.topic,time,profile.role,attr.title,profile.region\n"
      "m1,tax,5,boss,\"Guide, 2024\",south\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(Keys(rows[0].attrs, rows[0].num_attrs),
              ElementsAre("topic=tax", "title=Guide, 2024"));
  EXPECT_THAT(Keys(rows[0].profile, rows[0].num_profile),
              ElementsAre("role=boss", "region=south"));
  std::vector<KeyValue> storage;
  Event e = rows[0].AsEvent(&storage);
  ASSERT_EQ(e.attrs.size(), 2u);
  ASSERT_EQ(e.profile.size(), 2u);
  EXPECT_EQ(e.attrs[1].value, "Guide, 2024");
  EXPECT_EQ(e.profile[0].key, "role");
}

TEST(CsvEventTest, EmptyCellsAreAbsent) {
  auto rows = ReadEvents(
      "event_id,member_id,time,type,value,attr.topic,profile.role\n"
      "e1,m1,7,,,,\n");
  ASSERT_EQ(rows.size(), 1u);
  const EventRecord& r = rows[0];
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.type, "");
  EXPECT_EQ(r.value, 0);
  EXPECT_EQ(r.num_attrs, 0);    // no attribute "topic"
  EXPECT_EQ(r.num_profile, 0);  // no update of "role"
}

TEST(CsvEventTest, ReusedRecordForgetsThePreviousRow) {
  auto source = CsvEventSource::FromString(
      "member_id,time,attr.topic,value\nm1,1,tax,3\nm2,2,,\n", "log.csv");
  ASSERT_TRUE(source.ok());
  EventRecord record;
  ASSERT_TRUE((*source)->Next(&record));
  EXPECT_EQ(record.num_attrs, 1);
  ASSERT_TRUE((*source)->Next(&record));
  EXPECT_EQ(record.member_id, "m2");
  EXPECT_EQ(record.num_attrs, 0);
  EXPECT_EQ(record.value, 0);
  EXPECT_EQ(record.row, 1);
}

TEST(CsvEventTest, UnknownColumnWarnsOnceAndIsIgnored) {
  std::vector<std::string> warnings;
  auto rows = ReadEvents("member_id,colour,time\nm1,red,1\nm2,blue,2\n", &warnings);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("log.csv:1"));
  EXPECT_THAT(warnings[0], HasSubstr("unknown column \"colour\""));
}

TEST(CsvEventTest, HeaderWithoutTimeColumnIsAnError) {
  auto source = CsvEventSource::FromString("member_id,type\nm1,x\n", "log.csv");
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(std::string(source.status().message()),
              HasSubstr("log.csv:1: the header has no time column"));
}

TEST(CsvEventTest, DuplicateColumnIsAnError) {
  auto source = CsvEventSource::FromString("member_id,time,time\n", "log.csv");
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(std::string(source.status().message()),
              HasSubstr("column \"time\" appears twice"));
}

TEST(CsvEventTest, EmptyInputIsAnError) {
  auto source = CsvEventSource::FromString("", "log.csv");
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(std::string(source.status().message()), HasSubstr("log.csv"));
}

TEST(CsvEventTest, WrongColumnCountReportsTheLineWhereTheRecordStarts) {
  auto rows = ReadEvents(
      "event_id,member_id,time,attr.title\n"
      "e1,m1,1,\"two\nlines\"\n"
      "e2,m2,2,x,extra\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].ok());
  EXPECT_EQ(rows[1].line, 4);
  EXPECT_EQ(rows[1].error, "wrong column count: 5 fields, the header has 4");
  // Whose event it was is still read, by position.
  EXPECT_EQ(rows[1].event_id, "e2");
  EXPECT_EQ(rows[1].member_id, "m2");
  EXPECT_TRUE(rows[1].has_time);
  EXPECT_EQ(rows[1].time, 2);
}

TEST(CsvEventTest, TooFewColumnsIsAWrongColumnCount) {
  auto rows = ReadEvents("member_id,time,type\nm1\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].error, "wrong column count: 1 field, the header has 3");
  EXPECT_EQ(rows[0].member_id, "m1");
  EXPECT_FALSE(rows[0].has_time);
}

TEST(CsvEventTest, UnterminatedQuoteAtEndOfFileIsABadRow) {
  auto rows = ReadEvents("member_id,time,type\nm1,1,ok\nm2,2,\"open\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].ok());
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_THAT(rows[1].error, HasSubstr("unterminated quoted field"));
}

TEST(CsvEventTest, Rfc3339TimeWithOffsetAndFractionalSeconds) {
  auto rows = ReadEvents(
      "member_id,time\n"
      "m1,2024-03-01T16:30:00.250+08:00\n"
      "m1,2024-03-01T08:30:00.2509Z\n"
      "m1,2024-02-29t23:00:00-01:30\n");
  ASSERT_EQ(rows.size(), 3u);
  // 2024-03-01T08:30:00Z is 1709281800 s since the epoch.
  EXPECT_EQ(rows[0].time, 1709281800250);
  EXPECT_EQ(rows[1].time, 1709281800250);  // sub-millisecond digits dropped
  // 2024-02-29T23:00-01:30 = 2024-03-01T00:30Z = 1709253000 s.
  EXPECT_EQ(rows[2].time, 1709253000000);
}

TEST(CsvEventTest, IntegerMillisecondTimes) {
  auto rows = ReadEvents("member_id,time\nm1,1700000000123\nm1,-5\nm1,0\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].time, 1700000000123);
  EXPECT_EQ(rows[1].time, -5);
  EXPECT_EQ(rows[2].time, 0);
}

TEST(CsvEventTest, UnparsableTimeIsABadRow) {
  auto rows = ReadEvents(
      "member_id,time\nm1,yesterday\nm1,2024-02-30T00:00:00Z\nm1,1.5\n"
      "m1,2024-03-01 10:00:00Z\nm1, 17\n");
  ASSERT_EQ(rows.size(), 5u);
  for (const EventRecord& r : rows) {
    EXPECT_FALSE(r.has_time);
    EXPECT_THAT(r.error, HasSubstr("bad time"));
  }
  EXPECT_THAT(rows[0].error, HasSubstr("\"yesterday\""));
  EXPECT_EQ(rows[1].line, 3);
}

TEST(CsvEventTest, UnparsableValueIsABadRow) {
  auto rows = ReadEvents("member_id,time,value\nm1,1,abc\nm1,2,\"12,5\"\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].error, "bad value \"abc\": not a number");
  EXPECT_EQ(rows[1].error, "bad value \"12,5\": not a number");
  EXPECT_TRUE(rows[0].has_time);  // the rest of the row is still read
}

TEST(CsvEventTest, NumbersInManyFormsAreValues) {
  auto rows = ReadEvents(
      "member_id,time,value\nm1,1,-2.5e3\nm1,1,+4\nm1,1,.5\nm1,1,1e400\n");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].value, -2500);
  EXPECT_EQ(rows[1].value, 4);
  EXPECT_EQ(rows[2].value, 0.5);
  EXPECT_TRUE(std::isinf(rows[3].value));  // the engine rejects it
  for (const EventRecord& r : rows) EXPECT_TRUE(r.ok()) << r.error;
}

TEST(CsvEventTest, NanValueIsNotABadRow) {
  // Non-finite values are the engine's to reject, at the event's place.
  auto rows = ReadEvents("member_id,time,value\nm1,1,nan\nm1,2,-inf\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].ok());
  EXPECT_TRUE(std::isnan(rows[0].value));
  EXPECT_TRUE(rows[1].ok());
  EXPECT_TRUE(std::isinf(rows[1].value));
}

TEST(CsvEventTest, EmptyMemberIdIsABadRow) {
  auto rows = ReadEvents("event_id,member_id,time\ne1,,5\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].error, "empty member_id");
  EXPECT_EQ(rows[0].event_id, "e1");
  EXPECT_EQ(rows[0].time, 5);
}

TEST(CsvEventTest, EmptyTimeIsABadRow) {
  auto rows = ReadEvents("member_id,time\nm1,\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].error, "no time");
  EXPECT_FALSE(rows[0].has_time);
}

TEST(CsvEventTest, RowNumbersCountDataRowsOnly) {
  auto rows = ReadEvents("member_id,time\nm1,1\n\nm2,2\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].row, 0);
  EXPECT_EQ(rows[1].row, 1);
  EXPECT_EQ(rows[1].line, 4);
}

// --- times -----------------------------------------------------------------

TEST(TimeParseTest, MillisecondsAndRfc3339AgreeOnTheEpoch) {
  EXPECT_EQ(*ParseTimeMillis("0"), 0);
  EXPECT_EQ(*ParseTimeMillis("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimeMillis("1970-01-01T08:00:00+08:00"), 0);
}

TEST(TimeParseTest, FractionsAreTruncatedTowardThePast) {
  // 1969-12-31T23:59:59.9995Z is -0.5 ms: the millisecond it falls in is -1.
  EXPECT_EQ(*ParseTimeMillis("1969-12-31T23:59:59.9995Z"), -1);
  EXPECT_EQ(*ParseTimeMillis("1970-01-01T00:00:00.5Z"), 500);
}

TEST(TimeParseTest, RejectsWhatIsNotATime) {
  for (const char* bad : {"", "abc", "2024-01-01", "2024-01-01T00:00:00",
                          "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z",
                          "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00.Z",
                          " 5", "5 ", "-", "99999999999999999999"}) {
    EXPECT_FALSE(ParseTimeMillis(bad).ok()) << bad;
  }
}


// --- the chunk reader (csv_chunk.h) --------------------------------------
// It must read exactly what the stream reader reads: the same cells, lines
// and errors, from the start or from any record start.

// Records as CsvScanner reads them from `begin` (a record start), with
// lines relative to `first_line`.
Records ScanRecords(const std::string& data, size_t begin = 0,
                    int64_t first_line = 1) {
  CsvScanner scanner(data);
  Records out;
  size_t pos = begin;
  if (begin == 0 && data.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;
  int64_t nl = 0;
  std::vector<std::string_view> cells;
  std::string error;
  int64_t error_line = -1;
  while (scanner.SkipEmptyLines(&pos, data.size(), &nl)) {
    const int64_t line = first_line + nl;
    scanner.ReadRecord(&pos, &nl, &cells, &error, &error_line);
    out.fields.emplace_back(cells.begin(), cells.end());
    out.lines.push_back(line);
    if (error_line >= 0) {
      error = absl::StrReplaceAll(error, {{kLineMark, std::to_string(first_line + error_line)}});
    }
    out.errors.push_back(error);
  }
  return out;
}

void ExpectSameRecords(const std::string& data) {
  const Records a = ReadRecords(data);
  const Records b = ScanRecords(data);
  EXPECT_EQ(b.fields, a.fields) << data;
  EXPECT_EQ(b.lines, a.lines) << data;
  EXPECT_EQ(b.errors, a.errors) << data;
}

TEST(CsvChunkTest, ReadsQuotesEscapesAndLineBreaksAsTheStreamReader) {
  ExpectSameRecords("a,\"b,c\",d\n");
  ExpectSameRecords("\"say \"\"hi\"\"\",x\n");
  ExpectSameRecords("\"two\nlines\",x\ny,z\n");
  ExpectSameRecords("\"\"\"\",\"\"\n");
}

TEST(CsvChunkTest, CrLfAndLoneCarriageReturns) {
  ExpectSameRecords("a,b\r\nc,d\r\n");
  ExpectSameRecords("a\rb,c\n");        // a lone CR is data
  ExpectSameRecords("a,b\r");            // a CR ends the input
  ExpectSameRecords("a,\"q\"\r\nb,c");   // CRLF after a quoted cell
  ExpectSameRecords("a,b\r\r\n");        // one CR of two is data
}

TEST(CsvChunkTest, EmptyCellsAndEmptyLines) {
  ExpectSameRecords("a,,b\n,,\n\n\r\n,x\n");
  ExpectSameRecords("a,b,\n");
  ExpectSameRecords("a,b,");  // the input ends right after a comma
}

TEST(CsvChunkTest, TruncatedLastLineIsARecord) {
  ExpectSameRecords("a,b\nc,d");
  const Records r = ScanRecords("a,b\nc,d");
  EXPECT_THAT(r.fields[1], ElementsAre("c", "d"));
}

TEST(CsvChunkTest, UnterminatedQuoteNamesTheLineItOpenedOn) {
  const std::string data = "a,b\nc,\"open\nstill\nopen";
  ExpectSameRecords(data);
  const Records r = ScanRecords(data);
  EXPECT_THAT(r.errors[1], HasSubstr("opened on line 2"));
}

TEST(CsvChunkTest, TextAfterClosingQuoteIsKeptAndReported) {
  ExpectSameRecords("\"abc\"d,e\n");
  ExpectSameRecords("x,\"a\"\"b\"c\"d\",e\n");
}

TEST(CsvChunkTest, InvalidUtf8BytesPassThrough) {
  const std::string data = "a,\xff\xfe,\"\xc3\x28\"\n";
  ExpectSameRecords(data);
  EXPECT_THAT(ScanRecords(data).fields[0], ElementsAre("a", "\xff\xfe", "\xc3\x28"));
}

TEST(CsvChunkTest, ByteOrderMarkIsSkippedAtTheStartOnly) {
  // (The literal is split: "\xBFa" would be one out-of-range hex escape.)
  ExpectSameRecords("\xEF\xBB\xBF" "a,b\n\xEF\xBB\xBF" "c,d\n");
}

// Random inputs built from the characters that matter.
std::string RandomCsv(std::mt19937_64& rng, int size) {
  static const char* const kPieces[] = {"a", "bc", ",", "\"", "\"\"", "\n", "\r\n",
                                        "\r", " ", "x,y", "\"q\"", "\xff"};
  std::string out;
  while (static_cast<int>(out.size()) < size) {
    out += kPieces[rng() % (sizeof(kPieces) / sizeof(kPieces[0]))];
  }
  return out;
}

TEST(CsvChunkTest, RandomInputsReadAsTheStreamReader) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) ExpectSameRecords(RandomCsv(rng, 1 + i % 60));
}

TEST(CsvChunkTest, ReadingFromAnyRecordStartGivesTheRestOfTheRecords) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 300; ++i) {
    const std::string data = RandomCsv(rng, 80);
    // Record starts, as the scanner finds them from the beginning.
    CsvScanner scanner(data);
    size_t pos = 0;
    int64_t nl = 0;
    std::vector<size_t> starts;
    std::vector<int64_t> lines;
    std::vector<std::string_view> cells;
    std::string error;
    int64_t error_line;
    while (scanner.SkipEmptyLines(&pos, data.size(), &nl)) {
      starts.push_back(pos);
      lines.push_back(1 + nl);
      scanner.ReadRecord(&pos, &nl, &cells, &error, &error_line);
    }
    const Records all = ScanRecords(data);
    for (size_t k = 0; k < starts.size(); ++k) {
      const Records rest = ScanRecords(data, starts[k], lines[k]);
      std::vector<std::vector<std::string>> tail(all.fields.begin() + k, all.fields.end());
      std::vector<int64_t> tail_lines(all.lines.begin() + k, all.lines.end());
      EXPECT_EQ(rest.fields, tail) << data << " from " << starts[k];
      EXPECT_EQ(rest.lines, tail_lines) << data << " from " << starts[k];
    }
  }
}

// ParseRange: the records that start in [begin, limit), and where the last
// one ended (past the limit when a quoted cell ran over it).
class Collect : public RawEventSink {
 public:
  void Add(const RawEvent& e) override {
    ids.emplace_back(e.event_id);
    lines.push_back(e.line);
    errors.push_back(e.error);
  }
  std::vector<std::string> ids;
  std::vector<int64_t> lines;
  std::vector<std::string> errors;
};

TEST(CsvChunkTest, ParseRangeStopsAfterTheRecordThatCrossesTheLimit) {
  const std::string data =
      "event_id,member_id,time,attr.note\n"
      "e1,m1,1000,\"a\nb\"\n"
      "e2,m1,2000,c\n";
  CsvFile file;
  std::vector<std::string> warnings;
  ASSERT_TRUE(file.Open(data, "log.csv", &warnings).ok());
  EXPECT_EQ(file.data_begin_line(), 2);
  // A limit inside e1's quoted cell: e1 is read whole, e2 is not.
  const size_t inside = data.find("b\"");
  Collect sink;
  int64_t newlines = 0;
  const size_t end = file.ParseRange(file.data_begin(), inside, &sink, &newlines);
  EXPECT_THAT(sink.ids, ElementsAre("e1"));
  EXPECT_EQ(end, data.find("e2"));
  EXPECT_EQ(newlines, 2);
  // From there on, e2, at its line (relative 0: line 4 of the file).
  Collect rest;
  file.ParseRange(end, data.size(), &rest, &newlines);
  EXPECT_THAT(rest.ids, ElementsAre("e2"));
  EXPECT_THAT(rest.lines, ElementsAre(0));
}

TEST(CsvChunkTest, ValuesAreWhatParseValueTextReads) {
  // Whole numbers of up to 15 digits take a short path: it must give the
  // same double as the general one, and leave every other form to it.
  const std::vector<std::string> cells = {
      "0", "7", "007", "52", "999999999999999", "123456789012345",
      "1234567890123456", "9007199254740993", "-3", "+4", "2.5", "1e3", "00000000000000000001"};
  std::string data = "event_id,member_id,time,value\n";
  for (size_t i = 0; i < cells.size(); ++i) {
    data += "e" + std::to_string(i) + ",m1,1000," + cells[i] + "\n";
  }
  CsvFile file;
  std::vector<std::string> warnings;
  ASSERT_TRUE(file.Open(data, "log.csv", &warnings).ok());
  struct Values : RawEventSink {
    std::vector<double> values;
    void Add(const RawEvent& e) override { values.push_back(e.value); }
  } sink;
  int64_t newlines = 0;
  file.ParseRange(file.data_begin(), data.size(), &sink, &newlines);
  ASSERT_EQ(sink.values.size(), cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    double want = 0;
    ASSERT_TRUE(ParseValueText(cells[i], &want)) << cells[i];
    EXPECT_EQ(sink.values[i], want) << cells[i];
    EXPECT_EQ(std::signbit(sink.values[i]), std::signbit(want)) << cells[i];
  }
}

// Every field of a RawEvent as text, for comparisons.
std::string Describe(const RawEvent& e) {
  char value[40];
  std::snprintf(value, sizeof value, "%.17g", e.value);
  auto q = [](std::string_view v) { return "'" + std::string(v) + "'"; };
  return "line " + std::to_string(e.line) + " error " + q(e.error) + " id " + q(e.event_id) +
         " member " + q(e.member_id) + " time " + (e.has_time ? "" : "none ") +
         std::to_string(e.time) + " type " + q(e.type) + " account " + q(e.account_id) +
         " group " + q(e.group_id) + " channel " + q(e.channel) + " value " + value +
         (std::signbit(e.value) ? " (sign)" : "") + " attrs " + std::to_string(e.attrs.size()) +
         " profile " + std::to_string(e.profile.size());
}

// Rows of the columns the plain path takes (and an ignored one), most of
// them plain, some not: quotes, CRLF, empty member ids, RFC 3339 and bad
// times, values of every form, extra and missing cells, rows longer than
// the reader's 64-byte first look.
std::string PlainishCsv(std::mt19937_64& rng, int rows) {
  const char* const times[] = {"1704067200000", "1704067200001", "7", "12345678",
                               "123456789", "1234567890123456", "123456789012345678",
                               "2024-03-01T10:00:00Z", "", "x12", "1234567890123456789",
                               "99999999999999999"};
  const char* const values[] = {"", "", "", "0", "52", "007", "999999999999999",
                                "1234567890123456", "-3", "2.5", "nan", "+4", "1e400", "abc"};
  const char* const ids[] = {"m1", "m2", "", "m\xc3\xa9", "m3"};
  std::string out = "event_id,member_id,time,type,value,group_id,channel,colour,account_id\n";
  for (int i = 0; i < rows; ++i) {
    std::string line = absl::StrCat("e", rng() % 50, ",", ids[rng() % 5], ",",
                                    times[rng() % 12], ",t", rng() % 3, ",",
                                    values[rng() % 14], ",", rng() % 4 == 0 ? "g" : "", ",",
                                    rng() % 5 == 0 ? "wechat" : "", ",red,",
                                    rng() % 6 == 0   ? "acme"
                                    : rng() % 9 == 0 ? std::string(40 + rng() % 60, 'a')
                                                     : "");
    switch (rng() % 12) {
      case 0: line += ",extra"; break;
      case 1: line.replace(0, 0, "\"q\","); line.erase(line.find(',', 4), 1); break;
      case 2: line += "\r"; break;
      default: break;
    }
    out += line + "\n";
  }
  return out;
}

TEST(CsvChunkTest, PlainRowsReadAsTheGeneralPathReadsThem) {
  // The plain path (ReadPlain, a PlainRow given to AddPlain) must give what
  // the stream reader gives, field by field; and it must be the path most
  // of these rows take.
  struct Sink : RawEventSink {
    std::vector<std::string> rows;
    int plain = 0;
    void Add(const RawEvent& e) override { rows.push_back(Describe(e)); }
    void AddPlain(const PlainRow& row) override {
      ++plain;
      RawEventSink::AddPlain(row);
    }
  };
  std::mt19937_64 rng(3);
  int plain = 0, total = 0;
  for (int round = 0; round < 50; ++round) {
    const std::string data = PlainishCsv(rng, 200);
    CsvFile file;
    std::vector<std::string> warnings;
    ASSERT_TRUE(file.Open(data, "log.csv", &warnings).ok());
    Sink sink;
    int64_t newlines = 0;
    file.ParseRange(file.data_begin(), data.size(), &sink, &newlines);
    std::vector<std::string> want;
    for (const EventRecord& r : ReadEvents(data)) {
      RawEvent e;
      ToRawEvent(r, &e);
      e.line = r.line - 2;  // relative to the first data line (line 2)
      want.push_back(Describe(e));
    }
    ASSERT_EQ(sink.rows, want) << data;
    plain += sink.plain;
    total += static_cast<int>(sink.rows.size());
  }
  EXPECT_GT(plain, total / 10);  // about a fifth
  EXPECT_LT(plain, total);
}

TEST(CsvChunkTest, HeaderProblemsAreReportedAsByTheStreamReader) {
  CsvFile file;
  std::vector<std::string> warnings;
  EXPECT_THAT(std::string(file.Open("", "log.csv", &warnings).message()),
              HasSubstr("log.csv: empty input"));
  EXPECT_THAT(std::string(file.Open("\n\nmember_id,type\n", "log.csv", &warnings).message()),
              HasSubstr("log.csv:3: the header has no time column"));
  EXPECT_THAT(std::string(file.Open("member_id,\"time\n", "log.csv", &warnings).message()),
              HasSubstr("log.csv:1: bad header row: unterminated quoted field: the quote "
                        "opened on line 1"));
  ASSERT_TRUE(file.Open("member_id,time,colour\n", "log.csv", &warnings).ok());
  EXPECT_THAT(warnings, ElementsAre("log.csv:1: warning: unknown column \"colour\" ignored"));
}

}  // namespace
}  // namespace leadscore::io
