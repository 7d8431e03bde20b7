// BatchJob::Score into per-thread visitors: what the visitors get is what
// Score(members_out, changes_out) writes. Each member goes to exactly one
// visitor, each visitor sees its members in member_id order, its changes are
// the lines of changes.jsonl and its view the line of members.jsonl; for one
// thread and for several.
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "leadscore/model.h"
#include "lib/batch/batch.h"
#include "lib/engine/engine.h"
#include "lib/io/csv_reader.h"
#include "lib/io/json_writer.h"

namespace leadscore::batch {
namespace {

// Several rules, tags, a lifecycle and a flag that re-arms, so that members
// have every kind of change.
constexpr char kModel[] = R"pb(
  name: "visitor-test"
  allowed_lateness: "2d"
  score { name: "engagement" half_life: "10d" min: 0 max: 200 }
  score { name: "fit" }
  score { name: "lead" formula: "score.engagement + score.fit" }
  counter { name: "posts_7d" on: "post" window: "7d" }
  rule { name: "post" on: "post" score: "engagement" points: 3
         cap { max_points: 9 window: "1d" } }
  rule { name: "read" on: "content.*" score: "engagement" points: 2 }
  rule { name: "demo" on: "demo" score: "engagement" points: 40 }
  rule { name: "spam" on: "spam" score: "engagement" points: -30 }
  fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 20 }
  tag { name: "poster" when: "counter.posts_7d >= 3" }
  tag { name: "reader" on: "content.*" ttl: "5d" }
  tag { name: "quiet" when: "idle >= duration('10d')" }
  lifecycle {
    initial: "new"
    stage: ["new", "active", "hot", "customer"]
    transition { from: "new" to: "active" when: "score.engagement >= 5" }
    transition { from: "active" to: "hot" when: "score.lead >= 50" }
    transition { from: "hot" to: "active" when: "score.lead < 30" }
    transition { from: "*" to: "customer" on: "order" }
  }
  flag { name: "ready" when: "score.lead >= 50" rearm: "score.lead < 30" }
)pb";

// A shuffled log with duplicates, late rows, bad rows and profile updates.
std::string Log(int members, int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto below = [&](uint64_t n) { return rng() % n; };
  const char* types[] = {"post", "content.read", "content.download", "demo",
                         "spam", "order", "other"};
  std::string csv = "event_id,member_id,time,type,value,profile.role\n";
  const int64_t start = 1704067200000;
  for (int i = 0; i < rows; ++i) {
    std::string line = "e" + std::to_string(below(rows)) + ",m" +
                       std::to_string(below(members)) + "," +
                       (below(150) == 0 ? std::string("bad-time")
                                        : std::to_string(start + below(60ull * 86400000))) +
                       "," + types[below(7)] + "," +
                       (below(100) == 0 ? "nan" : "") + "," +
                       (below(8) == 0 ? (below(2) ? "dm" : "user") : "") + "\n";
    csv += line;
    if (below(25) == 0) csv += line;  // a duplicate
  }
  return csv;
}

// Writes what it is given as members.jsonl and changes.jsonl would hold it,
// member by member, checking the order of the calls.
class Recorder final : public ScoreVisitor, public internal::Tracer {
 public:
  explicit Recorder(const Model& model) : model_(model) {}

  struct Member {
    std::string id;
    std::string member_line;  // empty: no accepted event
    std::string change_lines;
    int64_t events = 0;       // Tracer::OnEvent calls
  };

  void BeginMember(std::string_view id) override {
    EXPECT_FALSE(open_) << "BeginMember(" << id << ") inside another member";
    if (!members_.empty()) {
      EXPECT_LT(members_.back().id, std::string(id)) << "members out of order";
    }
    open_ = true;
    members_.push_back(Member{std::string(id), "", "", 0});
  }
  void OnChange(const Change& c) override {
    ASSERT_TRUE(open_) << "a change outside BeginMember/EndMember";
    EXPECT_EQ(c.member_id, members_.back().id);
    io::AppendChangeLine(&members_.back().change_lines, model_, c);
  }
  void EndMember(std::string_view id, const MemberView* view) override {
    ASSERT_TRUE(open_);
    EXPECT_EQ(members_.back().id, std::string(id));
    open_ = false;
    if (view != nullptr) {
      EXPECT_EQ(view->member_id, std::string(id));
      io::AppendMemberLine(&members_.back().member_line, model_, *view);
    }
  }
  internal::Tracer* tracer() override { return this; }
  void OnEvent(const Event&, int64_t, bool) override { ++members_.back().events; }
  void OnRule(const internal::RuleTrace&) override {}
  void OnApplied(const internal::MemberState&, int64_t) override {}

  const std::vector<Member>& members() const { return members_; }

 private:
  const Model& model_;
  bool open_ = false;
  std::vector<Member> members_;
};

struct Written {
  std::string members, changes;
  BatchSummary summary;
};

Written ScoreToFiles(std::shared_ptr<const Model> model, const std::string& csv,
                     int threads) {
  BatchOptions options;
  options.threads = threads;
  BatchJob job(model, options);
  auto source = io::CsvEventSource::FromString(csv, "log.csv");
  EXPECT_TRUE(source.ok());
  std::ostringstream diag, members, changes;
  EXPECT_TRUE(job.Read(source->get(), &diag).ok());
  EXPECT_TRUE(job.Score(&members, &changes).ok());
  return Written{members.str(), changes.str(), job.summary()};
}

TEST(BatchVisitorTest, VisitorsGetWhatTheOutputFilesHold) {
  auto loaded = Model::LoadText(kModel, "visitor.textproto");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::shared_ptr<const Model> model = *loaded;
  // More members than one scoring block (1024), so that threads share them.
  const std::string csv = Log(2500, 12000, 11);
  const Written files = ScoreToFiles(model, csv, 1);
  ASSERT_GT(files.summary.stats.members, 2000);
  ASSERT_GT(files.summary.stats.flags_raised, 0);
  ASSERT_GT(files.summary.bad_rows, 0);
  ASSERT_GT(files.summary.stats.rejected[static_cast<int>(RejectReason::kDuplicate)], 0);
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    // The files themselves do not depend on the threads.
    const Written again = ScoreToFiles(model, csv, threads);
    EXPECT_EQ(again.members, files.members);
    EXPECT_EQ(again.changes, files.changes);

    BatchOptions options;
    options.threads = threads;
    BatchJob job(model, options);
    auto source = io::CsvEventSource::FromString(csv, "log.csv");
    ASSERT_TRUE(source.ok());
    std::ostringstream diag;
    ASSERT_TRUE(job.Read(source->get(), &diag).ok());
    std::vector<std::unique_ptr<Recorder>> recorders;
    std::vector<ScoreVisitor*> visitors;
    for (int t = 0; t < threads; ++t) {
      recorders.push_back(std::make_unique<Recorder>(*model));
      visitors.push_back(recorders.back().get());
    }
    ASSERT_TRUE(job.Score(visitors).ok());
    // Every member once, across the visitors, merged into member_id order.
    std::map<std::string, const Recorder::Member*> all;
    int64_t events = 0;
    for (const auto& r : recorders) {
      for (const Recorder::Member& m : r->members()) {
        EXPECT_TRUE(all.emplace(m.id, &m).second) << m.id << " visited twice";
        events += m.events;
      }
    }
    std::string members, changes;
    for (const auto& [id, m] : all) {
      members += m->member_line;
      changes += m->change_lines;
    }
    EXPECT_EQ(members, files.members);
    EXPECT_EQ(changes, files.changes);
    // The tracer saw every applied event; the summary is the same.
    EXPECT_EQ(events, files.summary.stats.events_applied);
    EXPECT_EQ(job.summary().stats.events_applied, files.summary.stats.events_applied);
    EXPECT_EQ(job.summary().stats.rejected, files.summary.stats.rejected);
    EXPECT_EQ(job.summary().stats.members, files.summary.stats.members);
    EXPECT_EQ(job.summary().stats.flags_raised, files.summary.stats.flags_raised);
    size_t n = 0;
    for (const auto& r : recorders) n += r->members().size();
    EXPECT_EQ(n, all.size());
  }
}

TEST(BatchVisitorTest, MembersAVisitorDoesNotWantAreNotScored) {
  auto loaded = Model::LoadText(kModel, "visitor.textproto");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::shared_ptr<const Model> model = *loaded;
  const std::string csv = Log(50, 800, 5);
  const Written files = ScoreToFiles(model, csv, 1);

  class EvenOnly final : public ScoreVisitor {
   public:
    explicit EvenOnly(const Model& model) : model_(model) {}
    bool Wants(std::string_view id) override { return (id.back() - '0') % 2 == 0; }
    void OnChange(const Change& c) override { io::AppendChangeLine(&changes, model_, c); }
    void EndMember(std::string_view, const MemberView* view) override {
      if (view != nullptr) io::AppendMemberLine(&members, model_, *view);
    }
    std::string members, changes;

   private:
    const Model& model_;
  };
  BatchJob job(model, BatchOptions());
  auto source = io::CsvEventSource::FromString(csv, "log.csv");
  ASSERT_TRUE(source.ok());
  std::ostringstream diag;
  ASSERT_TRUE(job.Read(source->get(), &diag).ok());
  EvenOnly visitor(*model);
  ASSERT_TRUE(job.Score({&visitor}).ok());
  // The lines of even members, in order, and only those.
  auto even_lines = [](const std::string& text) {
    std::string out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const size_t at = line.find("\"member_id\":\"m") + 14;
      const size_t end = line.find('"', at);
      if ((line[end - 1] - '0') % 2 == 0) out += line + "\n";
    }
    return out;
  };
  EXPECT_FALSE(visitor.members.empty());
  EXPECT_EQ(visitor.members, even_lines(files.members));
  EXPECT_EQ(visitor.changes, even_lines(files.changes));
}

}  // namespace
}  // namespace leadscore::batch
