// The batch job on small logs held in memory: time order against arrival
// order, the as-of time, bad rows, output format and order, and the same
// bytes whatever the number of threads.
#include "lib/batch/batch.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "leadscore/model.h"
#include "lib/batch/progress.h"
#include "lib/io/csv_reader.h"
#include "lib/io/input.h"
#include "lib/io/json_writer.h"
#include "lib/io/pb_reader.h"

namespace leadscore::batch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Stages a -> b on "x", b -> c on "y": the order of x and y shows the order
// the events were applied in.
constexpr char kModel[] = R"pb(
  name: "batch-test"
  score { name: "engagement" }
  counter { name: "posts" on: "post" }
  rule { name: "post" on: "post" score: "engagement" points: 1 }
  tag { name: "seen" on: "*" }
  lifecycle {
    initial: "a"
    stage: ["a", "b", "c"]
    transition { from: "a" to: "b" on: "x" }
    transition { from: "b" to: "c" on: "y" }
  }
  flag { name: "hot" when: "score.engagement >= 2" }
)pb";

struct Output {
  absl::Status read_status;
  bool strict_failure = false;
  std::string diag;
  std::string members;
  std::string changes;
  BatchSummary summary;
};

std::shared_ptr<const Model> LoadModel(const std::string& text) {
  auto model = Model::LoadText(text, "test.textproto");
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

Output RunJob(const std::string& csv, BatchOptions options = {},
           const std::string& model_text = kModel) {
  Output out;
  auto model = LoadModel(model_text);
  if (model == nullptr) return out;
  auto source = io::CsvEventSource::FromString(csv, "log.csv");
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return out;
  BatchJob job(model, options);
  std::ostringstream diag, members, changes;
  out.read_status = job.Read(source->get(), &diag);
  out.strict_failure = job.strict_failure();
  out.diag = diag.str();
  if (out.read_status.ok()) {
    EXPECT_TRUE(job.Score(&members, &changes).ok());
  }
  out.members = members.str();
  out.changes = changes.str();
  out.summary = job.summary();
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The "kind" of each change line, in order.
std::vector<std::string> Kinds(const std::string& changes) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(changes)) {
    const size_t at = line.find("\"kind\":\"");
    const size_t from = at + 8;
    out.push_back(line.substr(from, line.find('"', from) - from));
  }
  return out;
}

constexpr char kHeader[] = "event_id,member_id,time,type,value\n";

TEST(BatchTest, TimeOrderAppliesEachMembersEventsByTime) {
  // y is logged before x but happened after it: a -> b -> c.
  Output out = RunJob(std::string(kHeader) + "e1,m1,2000,y,\ne2,m1,1000,x,\n");
  EXPECT_THAT(out.members, HasSubstr("\"stage\":\"c\""));
}

TEST(BatchTest, ArrivalOrderAppliesEventsAsLogged) {
  // y first does nothing in stage a; then x: a -> b.
  BatchOptions options;
  options.order = Order::kArrival;
  Output out = RunJob(std::string(kHeader) + "e1,m1,2000,y,\ne2,m1,1000,x,\n", options);
  EXPECT_THAT(out.members, HasSubstr("\"stage\":\"b\""));
}

TEST(BatchTest, TimeOrderKeepsLogOrderForEqualTimes) {
  Output out = RunJob(std::string(kHeader) + "e1,m1,1000,y,\ne2,m1,1000,x,\n");
  EXPECT_THAT(out.members, HasSubstr("\"stage\":\"b\""));
}

TEST(BatchTest, AsOfRejectsLaterEventsAndAdvancesToIt) {
  BatchOptions options;
  options.as_of = 3000;
  Output out = RunJob(std::string(kHeader) + "e1,m1,1000,x,\ne2,m1,5000,y,\n", options);
  EXPECT_THAT(out.members, HasSubstr("\"stage\":\"b\""));
  EXPECT_THAT(out.changes,
              HasSubstr("{\"member_id\":\"m1\",\"time\":5000,\"kind\":\"rejected\","
                        "\"event_id\":\"e2\",\"reason\":\"after_as_of\"}"));
  EXPECT_EQ(out.summary.stats.rejected[static_cast<int>(RejectReason::kAfterAsOf)], 1);
  EXPECT_EQ(out.summary.as_of, 3000);
}

TEST(BatchTest, DefaultAsOfIsTheLatestTimeOfAValidRow) {
  Output out = RunJob(std::string(kHeader) +
                   "e1,m1,1000,x,\n"
                   "e2,m1,4000,post,nan\n"    // non-finite: not valid
                   "e3,m1,9000,post,abc\n"    // bad row
                   "e4,,8000,post,\n"         // bad row
                   "e5,m2,1500,post,\n");
  EXPECT_TRUE(out.summary.has_as_of);
  EXPECT_EQ(out.summary.as_of, 1500);
}

TEST(BatchTest, BadRowsAreReportedWithTheirLineAndCountedAsInvalid) {
  Output out = RunJob(std::string(kHeader) +
                   "e1,m1,1000,x,\n"
                   "e2,m1,someday,x,\n"
                   "e3,m1,1000,x,1,extra\n");
  EXPECT_EQ(out.diag,
            "log.csv:3: bad time \"someday\": not milliseconds since the epoch "
            "nor an RFC 3339 date-time\n"
            "log.csv:4: wrong column count: 6 fields, the header has 5\n");
  EXPECT_EQ(out.summary.rows_read, 3);
  EXPECT_EQ(out.summary.bad_rows, 2);
  EXPECT_EQ(out.summary.stats.rejected[static_cast<int>(RejectReason::kInvalid)], 2);
  EXPECT_EQ(out.summary.stats.events_applied, 1);
  EXPECT_THAT(out.changes,
              HasSubstr("{\"member_id\":\"m1\",\"time\":null,\"kind\":\"rejected\","
                        "\"event_id\":\"e2\",\"reason\":\"invalid\"}"));
  EXPECT_THAT(out.changes,
              HasSubstr("\"time\":1000,\"kind\":\"rejected\",\"event_id\":\"e3\""));
}

TEST(BatchTest, TimeOrderRejectsBadRowsBeforeTheMembersEvents) {
  Output out = RunJob(std::string(kHeader) + "e1,m1,1000,x,\ne2,m1,,x,\n");
  EXPECT_THAT(Kinds(out.changes),
              ElementsAre("rejected", "tag_added", "stage_changed"));
}

TEST(BatchTest, ArrivalOrderRejectsBadRowsInTheirPlace) {
  BatchOptions options;
  options.order = Order::kArrival;
  Output out = RunJob(std::string(kHeader) + "e1,m1,1000,x,\ne2,m1,,x,\n", options);
  EXPECT_THAT(Kinds(out.changes),
              ElementsAre("tag_added", "stage_changed", "rejected"));
}

TEST(BatchTest, NonFiniteValueIsRejectedAtItsPlaceInTimeOrder) {
  // The nan row is logged first but rejected by the engine at time 3000,
  // after x (1000) and before the posts (4000, 5000). It is later than the
  // as-of time too, but invalid is checked first.
  BatchOptions options;
  options.as_of = 2000;
  Output out = RunJob(std::string(kHeader) +
                   "e1,m1,3000,post,nan\n"
                   "e2,m1,1000,x,\n",
                   options);
  EXPECT_THAT(Kinds(out.changes),
              ElementsAre("tag_added", "stage_changed", "rejected"));
  EXPECT_THAT(out.changes, HasSubstr("\"time\":3000,\"kind\":\"rejected\","
                                     "\"event_id\":\"e1\",\"reason\":\"invalid\""));
  EXPECT_EQ(out.diag, "");  // not a bad row: the log is fine, the value is not
}

TEST(BatchTest, RejectedRowsOfUnknownMembersStillAppear) {
  Output out = RunJob(std::string(kHeader) +
                   "e1,m9,yesterday,x,\n"
                   "e2,,1000,x,\n"
                   "e3,m1,1000,x,\n");
  const std::vector<std::string> changes = Lines(out.changes);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_THAT(changes[0], HasSubstr("{\"member_id\":\"\",\"time\":1000,"
                                    "\"kind\":\"rejected\",\"event_id\":\"e2\""));
  EXPECT_THAT(changes[3], HasSubstr("{\"member_id\":\"m9\",\"time\":null,"
                                    "\"kind\":\"rejected\",\"event_id\":\"e1\""));
  EXPECT_THAT(Lines(out.members), ElementsAre(HasSubstr("\"m1\"")));
  EXPECT_EQ(out.summary.stats.members, 1);
}

TEST(BatchTest, MembersAreWrittenInByteOrder) {
  Output out = RunJob(std::string(kHeader) +
                   "e1,b,1,x,\ne2,\xC3\xA9,1,x,\ne3,a1,1,x,\ne4,B,1,x,\ne5,a,1,x,\n");
  std::vector<std::string> ids;
  for (const std::string& line : Lines(out.members)) {
    ids.push_back(line.substr(14, line.find('"', 14) - 14));
  }
  EXPECT_THAT(ids, ElementsAre("B", "a", "a1", "b", "\xC3\xA9"));
}

TEST(BatchTest, DuplicateEventIsRejectedByTheEngine) {
  Output out = RunJob(std::string(kHeader) + "e1,m1,1000,post,\ne1,m1,1000,post,\n");
  EXPECT_EQ(out.summary.stats.rejected[static_cast<int>(RejectReason::kDuplicate)], 1);
  EXPECT_THAT(out.members, HasSubstr("\"counters\":{\"posts\":1}"));
}

// The reader keeps a small cache of event types in front of its map
// (PartBuilder::TypeId): a type of at most 16 bytes is known by its length
// and its first and last 8 bytes. Types that share those words but not the
// length, one of exactly 16 bytes, one longer, and 300 others (more than
// the cache holds, so that slots are taken over) must each count as
// themselves.
TEST(BatchTest, EveryEventTypeIsItself) {
  constexpr char kTypesModel[] = R"pb(
    name: "types"
    counter { name: "a9" on: "aaaaaaaaa" }
    counter { name: "a10" on: "aaaaaaaaaa" }
    counter { name: "a16" on: "aaaaaaaaaaaaaaaa" }
    counter { name: "a17" on: "aaaaaaaaaaaaaaaaa" }
    counter { name: "short" on: "a" }
    counter { name: "fillers" on: "*" }
  )pb";
  std::string csv = kHeader;
  int row = 0;
  auto add = [&](const std::string& type) {
    csv += absl::StrCat("e", row, ",m1,", 1000 + row, ",", type, ",\n");
    ++row;
  };
  // Per round: a9 x1, a10 x2, a16 x3, a17 x4, short x5, and 300 fillers;
  // 2 rounds: a9 = 2, a10 = 4, a16 = 6, a17 = 8, short = 10, and every row
  // counts for "*": 2 * (1 + 2 + 3 + 4 + 5 + 300) = 630.
  for (int round = 0; round < 2; ++round) {
    for (int k = 0; k < 300; ++k) {
      add(absl::StrCat("filler.", k));
      if (k % 60 == 0) {
        const int i = k / 60;  // 0..4
        const char* types[] = {"aaaaaaaaa", "aaaaaaaaaa", "aaaaaaaaaaaaaaaa",
                               "aaaaaaaaaaaaaaaaa", "a"};
        for (int j = i; j < 5; ++j) add(types[j]);
      }
    }
  }
  Output out = RunJob(csv, {}, kTypesModel);
  ASSERT_TRUE(out.read_status.ok()) << out.read_status;
  EXPECT_THAT(out.members,
              HasSubstr("\"counters\":{\"a9\":2,\"a10\":4,\"a16\":6,\"a17\":8,"
                        "\"short\":10,\"fillers\":630}"));
}

TEST(BatchTest, ConditionsSeeGroupChannelAndAttributes) {
  // The job passes a record's strings to the engine only when the model
  // reads them: this model reads all three.
  constexpr char kModelReadingStrings[] = R"pb(
    score { name: "s" }
    rule { name: "wechat" on: "*" score: "s" points: 1 when: "event.channel == 'wechat'" }
    rule { name: "g1" on: "*" score: "s" points: 10 when: "event.group == 'g1'" }
    rule { name: "tax" on: "*" score: "s" points: 100 when: "event.attrs.topic == 'tax'" }
  )pb";
  const std::string csv =
      "event_id,member_id,time,type,value,channel,group_id,attr.topic\n"
      "e1,m1,1000,x,,wechat,g1,tax\n"  // 1 + 10 + 100
      "e2,m1,2000,x,,qq,g1,\n"         // 10
      "e3,m1,3000,x,,wechat,g2,vat\n"; // 1
  for (int threads : {1, 2}) {
    BatchOptions options;
    options.threads = threads;
    Output out = RunJob(csv, options, kModelReadingStrings);
    // 111 + 10 + 1 = 122.
    EXPECT_THAT(out.members, HasSubstr("\"scores\":{\"s\":122}")) << threads;
  }
}

TEST(BatchTest, ConditionsSeeTheEventValue) {
  // The job keeps a row's value aside (not in the record) when it is not 0,
  // and reads it only for a model that reads event.value: this one does.
  // A non-finite value is invalid either way.
  constexpr char kModelReadingValue[] = R"pb(
    score { name: "s" }
    rule { name: "big" on: "*" score: "s" points: 1 when: "event.value >= 20" }
    rule { name: "neg" on: "*" score: "s" points: 10 when: "event.value < 0" }
    rule { name: "zero" on: "*" score: "s" points: 100 when: "event.value == 0" }
  )pb";
  const std::string csv = std::string(kHeader) +
                          "e1,m1,1000,x,25\n"      // big: 1
                          "e2,m1,2000,x,5\n"       // none
                          "e3,m1,3000,x,-0.5\n"    // neg: 10
                          "e4,m1,4000,x,\n"        // zero: 100
                          "e5,m1,5000,x,-0\n"      // -0 == 0: 100
                          "e6,m1,6000,x,1e300\n"   // big: 1
                          "e7,m1,7000,x,inf\n";    // invalid
  for (int threads : {1, 2}) {
    BatchOptions options;
    options.threads = threads;
    Output out = RunJob(csv, options, kModelReadingValue);
    // 1 + 10 + 100 + 100 + 1 = 212.
    EXPECT_THAT(out.members, HasSubstr("\"scores\":{\"s\":212}")) << threads;
    EXPECT_EQ(out.summary.stats.rejected[static_cast<int>(RejectReason::kInvalid)], 1);
  }
  // A model that does not read the value: only its finiteness counts.
  Output out = RunJob(csv, BatchOptions());
  EXPECT_EQ(out.summary.stats.rejected[static_cast<int>(RejectReason::kInvalid)], 1);
  EXPECT_EQ(out.summary.stats.events_applied, 6);
}

TEST(BatchTest, MemberAndChangeLinesHaveTheDocumentedShape) {
  Output out = RunJob(std::string(kHeader) +
                   "e1,m1,1000,x,\ne2,m1,2000,post,\ne3,m1,3000,post,\n");
  EXPECT_EQ(out.members,
            "{\"member_id\":\"m1\",\"stage\":\"b\",\"stage_since\":1000,"
            "\"scores\":{\"engagement\":2},\"tags\":[\"seen\"],"
            "\"counters\":{\"posts\":2},"
            "\"flags\":{\"hot\":{\"armed\":false,\"raised\":1,\"last_raised\":3000}}}\n");
  EXPECT_EQ(out.changes,
            "{\"member_id\":\"m1\",\"time\":1000,\"kind\":\"tag_added\",\"tag\":\"seen\"}\n"
            "{\"member_id\":\"m1\",\"time\":1000,\"kind\":\"stage_changed\","
            "\"from\":\"a\",\"to\":\"b\"}\n"
            "{\"member_id\":\"m1\",\"time\":3000,\"kind\":\"flag_raised\",\"flag\":\"hot\","
            "\"scores\":{\"engagement\":2},"
            "\"reasons\":[{\"rule\":\"post\",\"score\":\"engagement\",\"points\":2}]}\n");
}

TEST(BatchTest, ModelWithoutLifecycleWritesNullStage) {
  Output out = RunJob(std::string(kHeader) + "e1,m1,1000,post,\n", {},
                   "score { name: \"s\" }\n");
  EXPECT_EQ(out.members,
            "{\"member_id\":\"m1\",\"stage\":null,\"stage_since\":null,"
            "\"scores\":{\"s\":0},\"tags\":[],\"counters\":{},\"flags\":{}}\n");
}

TEST(BatchTest, StrictStopsAtTheFirstBadRow) {
  BatchOptions options;
  options.strict = true;
  Output out = RunJob(std::string(kHeader) +
                   "e1,m1,1000,x,\ne2,m1,1000,x,abc\ne3,m1,soon,x,\n",
                   options);
  EXPECT_FALSE(out.read_status.ok());
  EXPECT_TRUE(out.strict_failure);
  EXPECT_EQ(out.diag, "log.csv:3: bad value \"abc\": not a number\n");
  EXPECT_EQ(std::string(out.read_status.message()),
            "log.csv:3: bad value \"abc\": not a number");
}

// A messy log: many members, shuffled rows, duplicates, late rows, bad rows,
// non-finite values, profile updates, RFC 3339 times.
std::string MessyLog(int members, int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto below = [&](uint64_t n) { return rng() % n; };
  const char* types[] = {"group.join", "member.intro", "content.read",
                         "content.download", "course.attend", "message.post",
                         "quiz.answer", "poster.share", "invite.accepted",
                         "event.signup", "event.attend", "product.register",
                         "demo.request", "sales.accept", "order.paid",
                         "group.leave", "spam.report"};
  const char* roles[] = {"decision_maker", "end_user", ""};
  const char* industries[] = {"manufacturing", "accounting", "retail", ""};
  std::string csv =
      "event_id,member_id,time,type,value,attr.topic,profile.role,"
      "profile.industry,profile.employees,profile.identity\n";
  const int64_t start = 1704067200000;
  std::vector<std::string> lines;
  for (int i = 0; i < rows; ++i) {
    const std::string member = "m" + std::to_string(below(members));
    int64_t t = start + static_cast<int64_t>(below(120ull * 86400000));
    std::string time = std::to_string(t);
    if (below(10) == 0) time = "2024-03-0" + std::to_string(1 + below(9)) + "T10:00:00.5+08:00";
    std::string value = below(3) == 0 ? std::to_string(below(90)) : "";
    if (below(200) == 0) value = "nan";
    if (below(300) == 0) value = "abc";
    if (below(300) == 0) time = "garbage";
    std::string line = "e" + std::to_string(below(rows)) + "," + member + "," +
                       time + "," + types[below(17)] + "," + value + "," +
                       (below(4) == 0 ? "tax" : "") + "," + roles[below(3)] + "," +
                       industries[below(4)] + "," +
                       (below(5) == 0 ? std::to_string(below(500)) : "") + "," +
                       (below(30) == 0 ? "consumer" : "");
    if (below(400) == 0) line += ",extra";
    lines.push_back(line);
    if (below(20) == 0) lines.push_back(line);  // a duplicate
  }
  for (const std::string& line : lines) csv += line + "\n";
  return csv;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BatchTest, AnyNumberOfThreadsWritesTheSameBytes) {
  const std::string model =
      ReadFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/models/community.textproto");
  ASSERT_FALSE(model.empty());
  const std::string log = MessyLog(300, 6000, 42);
  for (Order order : {Order::kTime, Order::kArrival}) {
    BatchOptions one;
    one.order = order;
    const Output base = RunJob(log, one, model);
    ASSERT_GT(base.summary.stats.members, 200);
    ASSERT_GT(base.summary.bad_rows, 0);
    ASSERT_GT(base.summary.stats.rejected[static_cast<int>(RejectReason::kDuplicate)], 0);
    // A stream is read into one bucket; with buckets of 50 rows it is spread
    // over new ones before scoring (more than 400 rows in one).
    for (int threads : {1, 2, 3, 4}) {
      for (size_t bucket_rows : {size_t{32} << 10, size_t{50}}) {
        if (threads == 1 && bucket_rows != 50) continue;
        BatchOptions options = one;
        options.threads = threads;
        options.bucket_rows = bucket_rows;
        const Output out = RunJob(log, options, model);
        const std::string what =
            absl::StrCat(threads, " threads, buckets of ", bucket_rows, " rows");
        EXPECT_EQ(out.members, base.members) << what;
        EXPECT_EQ(out.changes, base.changes) << what;
        EXPECT_EQ(out.summary.stats.events_applied, base.summary.stats.events_applied);
        EXPECT_EQ(out.summary.stats.rejected, base.summary.stats.rejected);
        EXPECT_EQ(out.summary.stats.members, base.summary.stats.members);
        EXPECT_EQ(out.summary.stats.flags_raised, base.summary.stats.flags_raised);
      }
    }
  }
}

TEST(BatchTest, SummaryTextNamesEveryCount) {
  BatchOptions options;
  options.as_of = 0;
  auto model = LoadModel(kModel);
  auto source = io::CsvEventSource::FromString(
      std::string(kHeader) + "e1,m1,0,x,\ne2,m1,,x,\n", "log.csv");
  BatchJob job(model, options);
  std::ostringstream sink;
  ASSERT_TRUE(job.Read(source->get(), &sink).ok());
  ASSERT_TRUE(job.Score(&sink, &sink).ok());
  EXPECT_EQ(job.SummaryText(),
            "2 rows read, 1 events applied, 1 rejected (invalid 1, too_late 0, "
            "duplicate 0, after_as_of 0), 1 members, 0 flags raised, "
            "as of 1970-01-01T00:00:00.000Z (0)");
}


// --- against a plain Store, fed row by row -------------------------------

// What batch scoring means, written the simple way: the stream reader, one
// Store, each member's rows ordered as SEMANTICS.md says, every member in
// member_id order.
Output ScoreWithStore(const std::string& csv, const BatchOptions& options,
                      const std::string& model_text) {
  Output out;
  auto model = LoadModel(model_text);
  auto source = io::CsvEventSource::FromString(csv, "log.csv");
  EXPECT_TRUE(source.ok());
  struct Row {
    io::EventRecord record;
    int64_t row;
  };
  std::map<std::string, std::vector<Row>> by_member;
  io::EventRecord record;
  bool has_max = false;
  int64_t max_time = 0;
  int64_t n = 0;
  while ((*source)->Next(&record)) {
    if (record.ok() && std::isfinite(record.value)) {
      if (!has_max || record.time > max_time) max_time = record.time;
      has_max = true;
    }
    by_member[record.member_id].push_back({record, n++});
  }
  const bool has_as_of = options.as_of.has_value() || has_max;
  const int64_t as_of = options.as_of.has_value() ? *options.as_of : max_time;
  Store store(model);
  struct Sink : ChangeSink {
    const Model* model;
    std::string* out;
    void OnChange(const Change& c) override { io::AppendChangeLine(out, *model, c); }
  } sink;
  sink.model = model.get();
  sink.out = &out.changes;
  for (auto& [member, rows] : by_member) {
    if (options.order == Order::kTime) {
      std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (a.record.ok() != b.record.ok()) return !a.record.ok();
        if (!a.record.ok()) return false;
        return a.record.time < b.record.time;
      });
    }
    std::vector<KeyValue> pairs;
    for (const Row& r : rows) {
      if (!r.record.ok()) {
        store.Reject(member, r.record.event_id, r.record.has_time, r.record.time,
                     RejectReason::kInvalid, r.record.error, &sink);
        continue;
      }
      if (std::isfinite(r.record.value) && has_as_of && r.record.time > as_of) {
        store.Reject(member, r.record.event_id, true, r.record.time,
                     RejectReason::kAfterAsOf, "", &sink);
        continue;
      }
      store.Apply(r.record.AsEvent(&pairs), &sink);
    }
    if (has_as_of && store.Advance(member, as_of, &sink)) {
      io::AppendMemberLine(&out.members, *model, *store.Read(member, as_of));
    }
  }
  out.summary.stats = store.stats();
  return out;
}

// The messy log, with quoted cells across lines and CRLF line ends here and
// there (for the split of the file in parts).
std::string MessierLog(int members, int rows, uint64_t seed) {
  std::string log = MessyLog(members, rows, seed);
  std::string out;
  std::mt19937_64 rng(seed);
  size_t line_start = 0;
  for (size_t i = 0; i < log.size(); ++i) {
    if (log[i] != '\n') continue;
    std::string line = log.substr(line_start, i - line_start);
    line_start = i + 1;
    if (line.find(",tax,") != std::string::npos && rng() % 3 == 0) {
      line.replace(line.find(",tax,"), 5, ",\"tax\nand \"\"more\"\"\",");
    }
    out += line + (rng() % 5 == 0 ? "\r\n" : "\n");
  }
  return out;
}

// The job reading `files` in order (ReadBytes: the parallel file reader,
// not the stream one) and scoring them.
Output RunBytes(const std::vector<std::pair<std::string, io::LogFormat>>& files,
                BatchOptions options = {}, const std::string& model_text = kModel) {
  Output out;
  BatchJob job(LoadModel(model_text), options);
  std::ostringstream diag, members, changes;
  for (const auto& [bytes, format] : files) {
    out.read_status = job.ReadBytes(bytes, "log", format, &diag);
    if (!out.read_status.ok()) break;
  }
  out.strict_failure = job.strict_failure();
  if (out.read_status.ok()) EXPECT_TRUE(job.Score(&members, &changes).ok());
  out.diag = diag.str();
  out.members = members.str();
  out.changes = changes.str();
  out.summary = job.summary();
  return out;
}

TEST(BatchTest, MatchesAStoreFedRowByRowForAnyThreadsAndParts) {
  const std::string model =
      ReadFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/models/community.textproto");
  const std::string log = MessierLog(200, 4000, 9);
  for (Order order : {Order::kTime, Order::kArrival}) {
    BatchOptions options;
    options.order = order;
    const Output want = ScoreWithStore(log, options, model);
    ASSERT_GT(want.summary.stats.members, 150);
    for (int threads : {1, 2, 3}) {
      for (size_t part_bytes : {size_t{4} << 20, size_t{997}, size_t{64}}) {
        // One bucket; about 100 buckets; a bucket per row (at most 4096).
        for (size_t bucket_rows : {size_t{32} << 10, size_t{37}, size_t{1}}) {
          BatchOptions o = options;
          o.threads = threads;
          o.part_bytes = part_bytes;
          o.bucket_rows = bucket_rows;
          const Output got = RunBytes({{log, io::LogFormat::kCsv}}, o, model);
          ASSERT_TRUE(got.read_status.ok()) << got.read_status;
          const std::string what = absl::StrCat(threads, " threads, parts of ", part_bytes,
                                                ", buckets of ", bucket_rows, " rows");
          EXPECT_EQ(got.members, want.members) << what;
          EXPECT_EQ(got.changes, want.changes) << what;
          EXPECT_EQ(got.summary.stats.rejected, want.summary.stats.rejected) << what;
          EXPECT_EQ(got.summary.stats.events_applied, want.summary.stats.events_applied)
              << what;
        }
      }
    }
  }
}

TEST(BatchTest, AMembersRowsFarOutOfOrderAreStillAppliedByTimeThenRow) {
  // One member's 600 rows in reverse time order, two at each time: y, then
  // x. Far from sorted, so the batch job gives up insertion sort for a
  // stable sort. Ties keep log order: at the first time y does nothing (in
  // stage a) and x moves a -> b; y at the second time moves b -> c. Had the
  // pair at the first time been swapped, b -> c would come at that time.
  std::string log = kHeader;
  for (int i = 300; i > 0; --i) {
    absl::StrAppend(&log, "y", i, ",m1,", i * 1000, ",y,\n");
    absl::StrAppend(&log, "x", i, ",m1,", i * 1000, ",x,\n");
  }
  // And a member whose rows are in order but for one late row at the end.
  for (int i = 1; i <= 200; ++i) absl::StrAppend(&log, "p", i, ",m2,", i * 1000, ",post,\n");
  absl::StrAppend(&log, "late,m2,500,x,\n");
  const Output want = ScoreWithStore(log, BatchOptions(), kModel);
  ASSERT_THAT(want.changes, HasSubstr("\"member_id\":\"m1\",\"time\":2000,\"kind\":\"stage_changed\","
                                      "\"from\":\"b\",\"to\":\"c\""));
  const Output got = RunBytes({{log, io::LogFormat::kCsv}});
  ASSERT_TRUE(got.read_status.ok()) << got.read_status;
  EXPECT_EQ(got.members, want.members);
  EXPECT_EQ(got.changes, want.changes);
}

TEST(BatchTest, LaterFilesMayHoldIdsTheFirstFilesSampleDidNotSee) {
  // The buckets are split by a sample of the first file, whose ids are all
  // "m" and digits; the second file adds ids before and after them, ids
  // that share their prefix and go on, bytes above 0x7f, and members of
  // both files. Every member still comes out once, in byte order.
  const std::string model =
      ReadFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/models/community.textproto");
  const std::string first = MessyLog(200, 3000, 5);
  std::string second = first.substr(0, first.find('\n') + 1);  // the same columns
  const char* ids[] = {"a1", "", "m", "m0", "m1000000", "m19z", "z", "\xc3\xa9l\xc3\xa8ve",
                       "m\xff", "m7", "0", "~~", "m150"};
  int n = 0;
  for (const char* id : ids) {
    for (int k = 0; k < 3; ++k) {
      absl::StrAppend(&second, "f", n++, ",", id, ",", 1704067200000 + 3600000 * (n % 7),
                      ",message.post,,,,,,\n");
    }
  }
  const Output want =
      ScoreWithStore(first + second.substr(second.find('\n') + 1), BatchOptions(), model);
  for (int threads : {1, 2}) {
    BatchOptions o;
    o.threads = threads;
    o.bucket_rows = 30;
    o.part_bytes = 4096;
    const Output got =
        RunBytes({{first, io::LogFormat::kCsv}, {second, io::LogFormat::kCsv}}, o, model);
    ASSERT_TRUE(got.read_status.ok()) << got.read_status;
    EXPECT_EQ(got.members, want.members) << threads << " threads";
    EXPECT_EQ(got.changes, want.changes) << threads << " threads";
  }
}

TEST(BatchTest, PlainRowsMatchAStoreFedRowByRow) {
  // A log without attr or profile columns: most rows take the reader's
  // plain path (CsvFile::ReadPlain, PartBuilder::AddPlain), the others the
  // general one; the outputs must be the store's.
  const std::string model =
      ReadFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/models/community.textproto");
  std::mt19937_64 rng(21);
  const char* types[] = {"group.join", "content.read", "course.attend", "message.post",
                         "event.attend", "demo.request", "product.register"};
  std::string log = "event_id,member_id,time,type,value,channel,group_id\n";
  for (int i = 0; i < 3000; ++i) {
    std::string value = rng() % 3 == 0 ? std::to_string(rng() % 60) : "";
    if (rng() % 50 == 0) value = "2.5";
    if (rng() % 200 == 0) value = "nan";
    std::string time = std::to_string(1704067200000 + static_cast<int64_t>(rng() % (90ull * 86400000)));
    if (rng() % 100 == 0) time = "2024-02-01T00:00:00Z";
    std::string line = "e" + std::to_string(rng() % 3000) + ",m" + std::to_string(rng() % 150) +
                       "," + time + "," + types[rng() % 7] + "," + value + "," +
                       (rng() % 4 == 0 ? "wechat" : "") + "," + (rng() % 5 == 0 ? "g1" : "");
    if (rng() % 150 == 0) line = "\"q\"" + line.substr(line.find(','));
    log += line + "\n";
  }
  const Output want = ScoreWithStore(log, BatchOptions(), model);
  ASSERT_GT(want.summary.stats.members, 100);
  for (int threads : {1, 2}) {
    for (size_t part_bytes : {size_t{4} << 20, size_t{997}}) {
      BatchOptions o;
      o.threads = threads;
      o.part_bytes = part_bytes;
      o.bucket_rows = 37;
      const Output got = RunBytes({{log, io::LogFormat::kCsv}}, o, model);
      ASSERT_TRUE(got.read_status.ok()) << got.read_status;
      EXPECT_EQ(got.members, want.members) << threads << " threads, parts of " << part_bytes;
      EXPECT_EQ(got.changes, want.changes) << threads << " threads, parts of " << part_bytes;
    }
  }
}

TEST(BatchTest, AModelWithoutFlagsScoresAsAStoreWithoutKeepingItsLedger) {
  // Without a flag nothing the batch job writes reads the ledger, so its
  // engines do not keep it (Engine::set_keep_ledger); decaying scores, a
  // bound, a derived score and a tag over them must still be the store's,
  // which keeps it.
  constexpr char kNoFlags[] = R"pb(
    allowed_lateness: "30d"
    score { name: "engagement" half_life: "30d" }
    score { name: "intent" half_life: "14d" max: 60 }
    score { name: "lead" formula: "score.engagement + 2 * score.intent" }
    rule { name: "read" on: "content.read" score: "engagement" points: 2 }
    rule { name: "post" on: "message.post" score: "engagement" points: 1 }
    rule { name: "course" on: "course.attend" score: "engagement" points: 10 once: true }
    rule { name: "demo" on: "demo.request" score: "intent" points: 40 }
    tag { name: "hot" when: "score.lead >= 60.5" }
  )pb";
  const std::string log = MessierLog(150, 3000, 17);
  const Output want = ScoreWithStore(log, BatchOptions(), kNoFlags);
  ASSERT_GT(want.summary.stats.members, 100);
  ASSERT_THAT(want.changes, HasSubstr("\"tag\":\"hot\""));
  for (int threads : {1, 2}) {
    BatchOptions o;
    o.threads = threads;
    const Output got = RunBytes({{log, io::LogFormat::kCsv}}, o, kNoFlags);
    ASSERT_TRUE(got.read_status.ok()) << got.read_status;
    EXPECT_EQ(got.members, want.members) << threads << " threads";
    EXPECT_EQ(got.changes, want.changes) << threads << " threads";
  }
}

TEST(BatchTest, BadRowMessagesAreInLogOrderWhateverTheParts) {
  const std::string log = MessierLog(50, 2000, 3);
  std::string want;
  for (size_t part_bytes : {size_t{4} << 20, size_t{128}}) {
    BatchOptions o;
    o.threads = 2;
    o.part_bytes = part_bytes;
    BatchJob job(LoadModel(kModel), o);
    std::ostringstream diag;
    ASSERT_TRUE(job.ReadBytes(log, "log.csv", io::LogFormat::kCsv, &diag).ok());
    if (want.empty()) {
      want = diag.str();
      ASSERT_THAT(want, HasSubstr("log.csv:"));
    }
    EXPECT_EQ(diag.str(), want) << part_bytes;
  }
  // The same lines as the stream reader reports.
  Output stream = RunJob(log);
  EXPECT_EQ(stream.diag, want);
}

// --- formats, files ------------------------------------------------------

// One log in the three formats.
struct Formats {
  std::string csv, jsonl, pb;
};

Formats SmallLogInEveryFormat() {
  struct E {
    const char* id;
    const char* member;
    int64_t time;
    const char* type;
    double value;
    const char* topic;
    const char* role;
  };
  const E events[] = {
      {"e1", "m1", 1000, "x", 0, "", "boss"}, {"e2", "m1", 3000, "post", 2.5, "tax", ""},
      {"e3", "m2", 2000, "post", 0, "", ""},  {"e2", "m1", 3000, "post", 2.5, "tax", ""},
      {"e4", "m1", 2500, "y", 0, "a,\"b\"", ""}, {"e5", "m2", 900, "post", 1, "", "cfo"},
  };
  Formats f;
  f.csv = "event_id,member_id,time,type,value,attr.topic,profile.role\n";
  for (const E& e : events) {
    std::string topic = e.topic;
    if (topic.find_first_of(",\"") != std::string::npos) {
      std::string q = "\"";
      for (char c : topic) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      topic = q + "\"";
    }
    char value[32];
    std::snprintf(value, sizeof(value), "%g", e.value);
    f.csv += std::string(e.id) + "," + e.member + "," + std::to_string(e.time) + "," +
             e.type + "," + (e.value != 0 ? value : "") + "," + topic + "," + e.role + "\n";
    f.jsonl += "{\"event_id\":\"" + std::string(e.id) + "\",\"member_id\":\"" + e.member +
               "\",\"time\":" + std::to_string(e.time) + ",\"type\":\"" + e.type + "\"";
    if (e.value != 0) f.jsonl += std::string(",\"value\":") + value;
    if (*e.topic) {
      f.jsonl += ",\"attrs\":{\"topic\":";
      io::AppendJsonString(&f.jsonl, e.topic);
      f.jsonl += "}";
    }
    if (*e.role) f.jsonl += std::string(",\"profile\":{\"role\":\"") + e.role + "\"}";
    f.jsonl += "}\n";
    std::vector<KeyValue> attrs, profile;
    if (*e.topic) attrs.push_back({"topic", e.topic});
    if (*e.role) profile.push_back({"role", e.role});
    Event ev;
    ev.event_id = e.id;
    ev.member_id = e.member;
    ev.has_time = true;
    ev.time = e.time;
    ev.type = e.type;
    ev.value = e.value;
    ev.attrs = attrs;
    ev.profile = profile;
    io::AppendDelimitedEvent(&f.pb, ev);
  }
  return f;
}

constexpr char kAttrModel[] = R"pb(
  score { name: "s" }
  rule { name: "post" on: "post" when: "event.attrs.topic == 'tax'" score: "s" points: 1 }
  rule { name: "v" on: "post" when: "event.value > 2" score: "s" points: 10 }
  tag { name: "boss" when: "member.role == 'boss'" }
  lifecycle { initial: "a" stage: ["a", "b", "c"]
              transition { from: "a" to: "b" on: "x" }
              transition { from: "b" to: "c" on: "y" } }
)pb";

TEST(BatchTest, EveryFormatAndItsGzipScoreTheSame) {
  const Formats f = SmallLogInEveryFormat();
  const Output csv = RunBytes({{f.csv, io::LogFormat::kCsv}}, {}, kAttrModel);
  ASSERT_THAT(csv.members, HasSubstr("\"boss\""));
  ASSERT_THAT(csv.changes, HasSubstr("duplicate"));
  for (const auto& [bytes, format] :
       std::vector<std::pair<std::string, io::LogFormat>>{
           {f.jsonl, io::LogFormat::kJsonl}, {f.pb, io::LogFormat::kPb},
           {io::Gzip(f.csv), io::LogFormat::kCsv},
           {io::Gzip(f.jsonl), io::LogFormat::kJsonl},
           {io::Gzip(f.pb), io::LogFormat::kPb}}) {
    const Output got = RunBytes({{bytes, format}}, {}, kAttrModel);
    EXPECT_EQ(got.members, csv.members) << io::LogFormatName(format);
    EXPECT_EQ(got.changes, csv.changes) << io::LogFormatName(format);
  }
}

TEST(BatchTest, SeveralFilesAreOneLogWithRowNumbersRunningOn) {
  // y then x at the same time: time order keeps log order across files.
  const std::string a = std::string(kHeader) + "e1,m1,1000,y,\n";
  const std::string b = std::string(kHeader) + "e2,m1,1000,x,\n";
  EXPECT_THAT(RunBytes({{a, io::LogFormat::kCsv}, {b, io::LogFormat::kCsv}}).members,
              HasSubstr("\"stage\":\"b\""));
  EXPECT_THAT(RunBytes({{b, io::LogFormat::kCsv}, {a, io::LogFormat::kCsv}}).members,
              HasSubstr("\"stage\":\"c\""));
  // Formats may differ from file to file.
  const std::string y_jsonl = "{\"event_id\":\"e1\",\"member_id\":\"m1\",\"time\":1000,\"type\":\"y\"}\n";
  const Output mixed = RunBytes({{b, io::LogFormat::kCsv}, {y_jsonl, io::LogFormat::kJsonl}});
  EXPECT_THAT(mixed.members, HasSubstr("\"stage\":\"c\""));
  EXPECT_EQ(mixed.summary.rows_read, 2);
}

TEST(BatchTest, BadRecordsOfEachFormatNameTheirPlace) {
  const Output jsonl = RunBytes(
      {{"{\"member_id\":\"m1\",\"time\":1}\n{\"member_id\":\"m1\",\"time\":\"soon\"}\n",
        io::LogFormat::kJsonl}});
  EXPECT_THAT(jsonl.diag, HasSubstr("log:2: bad time \"soon\""));
  std::string pb;
  Event e;
  e.member_id = "m1";
  e.has_time = true;
  e.time = 5;
  io::AppendDelimitedEvent(&pb, e);
  const size_t first = pb.size();
  io::AppendDelimitedEvent(&pb, e);
  pb.resize(pb.size() - 2);  // the second record is cut short
  const Output bin = RunBytes({{pb, io::LogFormat::kPb}});
  EXPECT_THAT(bin.diag, HasSubstr("log: record 2 at byte " + std::to_string(first) +
                                  ": truncated record"));
  EXPECT_EQ(bin.summary.rows_read, 2);
  EXPECT_EQ(bin.summary.bad_rows, 1);
}

TEST(BatchTest, StrictStopsAtTheFirstBadRecordOfAnyFormat) {
  BatchOptions options;
  options.strict = true;
  const Output out = RunBytes(
      {{"{\"member_id\":\"m1\",\"time\":1}\n[]\n{\"time\":1}\n", io::LogFormat::kJsonl}},
      options);
  EXPECT_TRUE(out.strict_failure);
  EXPECT_EQ(out.diag, "log:2: not a JSON object\n");
}

TEST(BatchTest, MembersAsCsv) {
  BatchOptions options;
  options.members_format = MembersFormat::kCsv;
  const Output out = RunBytes(
      {{std::string(kHeader) + "e1,m1,1000,post,\ne2,m1,1001,post,\ne3,\"m,2\",1002,x,\n",
        io::LogFormat::kCsv}},
      options);
  EXPECT_EQ(out.members,
            "member_id,stage,stage_since,score.engagement,tags,counter.posts,"
            "flag.hot.armed,flag.hot.raised,flag.hot.last_raised\n"
            "\"m,2\",b,1002,0,seen,0,true,0,\n"  // ',' sorts before '1'
            "m1,a,1000,2,seen,2,false,1,1001\n");
}

// --- progress ------------------------------------------------------------

TEST(ProgressTest, PlainLinesWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress progress(f, /*in_place=*/false, 0.01);
    progress.Start(1000);
    progress.AddBytes(500);
    progress.AddRows(12345);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    progress.StartScoring(10);
    progress.AddScored(4);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    progress.Stop();
  }
  std::rewind(f);
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
  std::fclose(f);
  EXPECT_THAT(text, HasSubstr("leadscore score: reading 0.0/0.0 MB, 12k rows"));
  EXPECT_THAT(text, HasSubstr("ETA"));
  EXPECT_THAT(text, HasSubstr("scoring 4/10 rows"));
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ProgressTest, InPlaceLineIsRewrittenAndErased) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress progress(f, /*in_place=*/true, 0);
    progress.Start(0);
    progress.AddRows(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    progress.Stop();
  }
  std::rewind(f);
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
  std::fclose(f);
  EXPECT_THAT(text, HasSubstr("\rleadscore score: reading"));
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\x1b[K");  // erased at the end
}

}  // namespace
}  // namespace leadscore::batch
