// The batch job on small logs held in memory: time order against arrival
// order, the as-of time, bad rows, output format and order, and the same
// bytes whatever the number of threads.
#include "lib/batch/batch.h"

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/model.h"
#include "lib/io/csv_reader.h"

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
    for (int threads : {2, 3, 4}) {
      BatchOptions options = one;
      options.threads = threads;
      const Output out = RunJob(log, options, model);
      EXPECT_EQ(out.members, base.members) << threads << " threads";
      EXPECT_EQ(out.changes, base.changes) << threads << " threads";
      EXPECT_EQ(out.summary.stats.events_applied, base.summary.stats.events_applied);
      EXPECT_EQ(out.summary.stats.rejected, base.summary.stats.rejected);
      EXPECT_EQ(out.summary.stats.members, base.summary.stats.members);
      EXPECT_EQ(out.summary.stats.flags_raised, base.summary.stats.flags_raised);
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

}  // namespace
}  // namespace leadscore::batch
