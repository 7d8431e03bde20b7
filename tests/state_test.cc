// Durable state (lib/state, Store::SaveSnapshot / LoadSnapshot /
// ExportMember / ImportMember): round trips give identical views and
// identical futures, every flipped byte and every truncation is a DataLoss
// error, and a changed model keeps what docs/host-guide.md says it keeps.
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "leadscore/v1/state.pb.h"
#include "lib/io/json_writer.h"
#include "tests/engine_test_util.h"

namespace leadscore::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every kind of state: decaying and bounded scores, once, lifetime and
// windowed caps, windowed and lifetime counters, fit rules, state and event
// tags (one with a ttl), a lifecycle, flags with re-arm and cooldown.
constexpr char kModel[] = R"pb(
  name: "state"
  allowed_lateness: "10d"
  score { name: "eng" half_life: "10d" min: 0 max: 60 }
  score { name: "slow" half_life: "45d" }
  score { name: "fit" min: 0 max: 30 }
  score { name: "lead" formula: "score.eng + score.fit" }
  counter { name: "posts_3d" on: "post" window: "3d" }
  counter { name: "all" on: "*" }
  rule { name: "join" on: "*" score: "eng" points: 5 once: true }
  rule { name: "post" on: "post" score: "eng" points: 2 cap { max_points: 5 window: "1d" } }
  rule { name: "read" on: "content.*" score: "eng" points: 1.5 cap { max_points: 9 } }
  rule { name: "busy" on: "post" when: "counter.posts_3d >= 3" score: "slow" points: 4 }
  rule { name: "course" on: "course.*" score: "slow" points: 3 }
  rule { name: "spam" on: "spam" score: "eng" points: -7 }
  fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 25 }
  fit { name: "big" when: "member.employees >= 200" score: "fit" points: 10 }
  tag { name: "poster" when: "counter.posts_3d >= 3" }
  tag { name: "learner" on: "course.*" ttl: "5d" }
  tag { name: "spammer" on: "spam" }
  lifecycle {
    initial: "new"
    stage: [ "new", "engaged", "lead" ]
    transition { from: "new" to: "engaged" when: "score.eng >= 10.0" }
    transition { from: "*" to: "lead" on: "demo.request" }
    transition { from: "engaged" to: "new" when: "idle >= duration('20d')" }
  }
  flag { name: "hot" when: "score.lead >= 30.0" rearm: "score.lead < 15.0" cooldown: "3d" }
  flag { name: "once" when: "counter.all >= 5" }
)pb";

const char* const kTypes[] = {"post", "content.read", "course.attend", "spam",
                              "demo.request", "other"};

std::vector<Ev> RandomEvents(uint64_t seed, int members, int n, int64_t span) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> time(Day(0), Day(0) + span);
  std::uniform_int_distribution<int> member(0, members - 1);
  std::uniform_int_distribution<int> type(0, static_cast<int>(std::size(kTypes)) - 1);
  std::uniform_int_distribution<int> pick(0, 5);
  std::vector<Ev> out;
  for (int i = 0; i < n; ++i) {
    const int t = type(rng);
    if (t == 4 && pick(rng) != 0) continue;  // demo requests are rare
    // Some ids repeat (duplicates), some events arrive late.
    const int p = pick(rng);
    std::string id = p == 0 && i > 0 ? "e" + std::to_string(i - 1) : "e" + std::to_string(i);
    Ev e(id, "m" + std::to_string(member(rng)), time(rng), kTypes[t]);
    if (pick(rng) == 0) e.Profile("role", pick(rng) < 3 ? "dm" : "user");
    if (pick(rng) == 0) e.Profile("employees", std::to_string(100 * pick(rng)));
    if (pick(rng) == 0) e.Profile("city", "Shanghai");  // read by no condition
    out.push_back(std::move(e));
  }
  // Mostly in time order, with some disorder.
  std::stable_sort(out.begin(), out.end(), [](const Ev& a, const Ev& b) {
    return a.time() / kMsPerDay < b.time() / kMsPerDay;
  });
  return out;
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/leadscore_state_test_" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  // A new file each time: truncating one in place makes some file systems
  // flush it to disk on close (ext4 auto_da_alloc), which is slow.
  std::remove(path.c_str());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Every field of every member, read at t, through the serialized view (so
// names, the ledger, flags and clocks are all compared, bit for bit).
std::vector<std::string> AllViews(const Store& store, int64_t t) {
  std::vector<std::string> out;
  for (const std::string& id : store.MemberIds()) {
    auto v = store.Read(id, t);
    out.push_back(MemberViewToProto(store.model(), *v));
  }
  return out;
}

void ExpectSameStats(const StoreStats& a, const StoreStats& b) {
  EXPECT_EQ(a.events_applied, b.events_applied);
  EXPECT_EQ(a.rejected, b.rejected);
  EXPECT_EQ(a.members, b.members);
  EXPECT_EQ(a.flags_raised, b.flags_raised);
}

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::LoadText(kModel, "state.textproto");
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *m;
  }
  std::shared_ptr<const Model> model_;
};

TEST_F(StateTest, SnapshotRoundTripGivesIdenticalViewsAndStats) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Store store(model_);
    const auto events = RandomEvents(seed, 12, 400, 40 * kMsPerDay);
    for (const Ev& e : events) store.Apply(e.view(), nullptr);
    const std::string path = TempPath("roundtrip.snap");
    ASSERT_TRUE(store.SaveSnapshot(path).ok());
    RestoreReport report;
    auto restored = Store::LoadSnapshot(model_, path, &report);
    ASSERT_TRUE(restored.ok()) << restored.status();
    EXPECT_EQ(report.members, store.stats().members);
    EXPECT_THAT(report.notes, ::testing::IsEmpty());
    EXPECT_EQ(AllViews(**restored, Day(45)), AllViews(store, Day(45)));
    EXPECT_EQ(AllViews(**restored, Day(90)), AllViews(store, Day(90)));
    ExpectSameStats((*restored)->stats(), store.stats());
    // Saving the restored store gives the same bytes.
    const std::string again = TempPath("roundtrip2.snap");
    ASSERT_TRUE((*restored)->SaveSnapshot(again).ok());
    EXPECT_EQ(ReadFile(again), ReadFile(path));
    std::remove(path.c_str());
    std::remove(again.c_str());
  }
}

// A restored store goes on exactly as the store it was saved from would
// have: same changes, same views (cap windows, dedup ids, once, ttl, flags).
TEST_F(StateTest, RestoredStoreContinuesLikeTheUninterruptedOne) {
  for (uint64_t seed = 10; seed < 16; ++seed) {
    const auto events = RandomEvents(seed, 8, 500, 60 * kMsPerDay);
    const size_t half = events.size() / 2;
    Store whole(model_);
    Recorder whole_rec(model_.get());
    Store first(model_);
    Recorder split_rec(model_.get());
    for (size_t i = 0; i < events.size(); ++i) {
      whole.Apply(events[i].view(), &whole_rec);
      if (i < half) first.Apply(events[i].view(), &split_rec);
    }
    whole.AdvanceAll(Day(70), &whole_rec);
    const std::string path = TempPath("continue.snap");
    ASSERT_TRUE(first.SaveSnapshot(path).ok());
    auto second = Store::LoadSnapshot(model_, path);
    ASSERT_TRUE(second.ok()) << second.status();
    for (size_t i = half; i < events.size(); ++i) {
      (*second)->Apply(events[i].view(), &split_rec);
    }
    (*second)->AdvanceAll(Day(70), &split_rec);
    EXPECT_EQ(split_rec.Summaries(), whole_rec.Summaries()) << "seed " << seed;
    EXPECT_EQ(AllViews(**second, Day(70)), AllViews(whole, Day(70))) << "seed " << seed;
    ExpectSameStats((*second)->stats(), whole.stats());
    std::remove(path.c_str());
  }
}

TEST_F(StateTest, ExportImportRoundTripGivesIdenticalViewsAndBytes) {
  Store store(model_);
  for (const Ev& e : RandomEvents(3, 10, 300, 30 * kMsPerDay)) store.Apply(e.view(), nullptr);
  Store other(model_);
  for (const std::string& id : store.MemberIds()) {
    auto bytes = store.ExportMember(id);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    RestoreReport report;
    ASSERT_TRUE(other.ImportMember(*bytes, &report).ok());
    EXPECT_EQ(report.members, 1);
    EXPECT_THAT(report.notes, ::testing::IsEmpty());
    auto again = other.ExportMember(id);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *bytes) << id;
  }
  EXPECT_EQ(AllViews(other, Day(31)), AllViews(store, Day(31)));
  EXPECT_EQ(other.stats().members, store.stats().members);
}

// Member ids and attributes are whatever bytes the host gave, not always
// UTF-8 (Latin-1 "caf\xe9", a lone continuation byte). Their state must
// export, import and snapshot like any other (state.proto: bytes fields;
// found by the c_api fuzz target, where a `string` field failed to parse
// and took the whole snapshot with it).
TEST_F(StateTest, MembersWhoseIdsAndAttributesAreNotUtf8RoundTrip) {
  Store store(model_);
  const std::string odd_id = "caf\xe9";
  store.Apply(Ev("e1", odd_id, Day(1), "x").Profile("city", "\x80\xff").view(), nullptr);
  store.Apply(Ev("e2", "plain", Day(1), "x").view(), nullptr);
  auto bytes = store.ExportMember(odd_id);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  Store other(model_);
  ASSERT_TRUE(other.ImportMember(*bytes).ok());
  auto again = other.ExportMember(odd_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
  const std::string path = TempPath("non_utf8.snap");
  ASSERT_TRUE(store.SaveSnapshot(path).ok());
  auto restored = Store::LoadSnapshot(model_, path);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(AllViews(**restored, Day(2)), AllViews(store, Day(2)));
  std::remove(path.c_str());
}

// The state-in-a-row pattern: for each event, import the member's bytes
// (if any), apply, export, erase. Same changes and views as one store.
TEST_F(StateTest, StatelessScoringThroughBytesMatchesOneStore) {
  const auto events = RandomEvents(21, 6, 400, 50 * kMsPerDay);
  Store whole(model_);
  Recorder whole_rec(model_.get());
  for (const Ev& e : events) whole.Apply(e.view(), &whole_rec);

  std::map<std::string, std::string> rows;  // the host's table
  Store scratch(model_);
  Recorder rec(model_.get());
  for (const Ev& e : events) {
    auto row = rows.find(e.member());
    if (row != rows.end()) ASSERT_TRUE(scratch.ImportMember(row->second).ok());
    scratch.Apply(e.view(), &rec);
    auto bytes = scratch.ExportMember(e.member());
    if (bytes.ok()) {
      rows[e.member()] = *bytes;
      EXPECT_TRUE(scratch.EraseMember(e.member()));
    } else {
      EXPECT_EQ(bytes.status().code(), absl::StatusCode::kNotFound);
    }
    EXPECT_EQ(scratch.stats().members, 0);
  }
  EXPECT_EQ(rec.Summaries(), whole_rec.Summaries());
  Store final_store(model_);
  for (const auto& [id, bytes] : rows) ASSERT_TRUE(final_store.ImportMember(bytes).ok());
  EXPECT_EQ(AllViews(final_store, Day(55)), AllViews(whole, Day(55)));
}

TEST_F(StateTest, ImportReplacesAMemberAndEraseForgetsIt) {
  Store store(model_);
  store.Apply(Ev("a", "m1", Day(0), "post").view(), nullptr);
  auto early = store.ExportMember("m1");
  ASSERT_TRUE(early.ok());
  store.Apply(Ev("b", "m1", Day(1), "post").view(), nullptr);
  store.Apply(Ev("c", "m2", Day(1), "post").view(), nullptr);
  ASSERT_TRUE(store.ImportMember(*early).ok());
  EXPECT_EQ(store.stats().members, 2);
  EXPECT_EQ(store.Read("m1", Day(0))->counters[1], 1);  // "all" back to 1
  EXPECT_TRUE(store.EraseMember("m1"));
  EXPECT_FALSE(store.EraseMember("m1"));
  EXPECT_THAT(store.MemberIds(), ElementsAre("m2"));
  EXPECT_EQ(store.stats().members, 1);
  EXPECT_TRUE(store.Read("m2", Day(1)).has_value());
  auto missing = store.ExportMember("m1");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StateTest, EveryFlippedByteOrTruncationOfASnapshotIsDataLoss) {
  Store store(model_);
  for (const Ev& e : RandomEvents(5, 3, 40, 5 * kMsPerDay)) store.Apply(e.view(), nullptr);
  const std::string path = TempPath("flip.snap");
  ASSERT_TRUE(store.SaveSnapshot(path).ok());
  const std::string good = ReadFile(path);
  const std::string bad = TempPath("flip_bad.snap");
  for (size_t i = 0; i < good.size(); ++i) {
    std::string b = good;
    b[i] = static_cast<char>(b[i] ^ 0xFF);
    WriteFile(bad, b);
    auto r = Store::LoadSnapshot(model_, bad);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << "byte " << i << ": "
                                                             << r.status();
  }
  for (size_t n = 0; n < good.size(); ++n) {
    WriteFile(bad, good.substr(0, n));
    auto r = Store::LoadSnapshot(model_, bad);
    ASSERT_FALSE(r.ok()) << "length " << n;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << "length " << n << ": "
                                                             << r.status();
  }
  WriteFile(bad, good + "x");
  EXPECT_EQ(Store::LoadSnapshot(model_, bad).status().code(), absl::StatusCode::kDataLoss);
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

TEST_F(StateTest, EveryFlippedByteOrTruncationOfMemberBytesIsDataLoss) {
  Store store(model_);
  for (const Ev& e : RandomEvents(6, 1, 30, 5 * kMsPerDay)) store.Apply(e.view(), nullptr);
  auto good = store.ExportMember("m0");
  ASSERT_TRUE(good.ok());
  for (size_t i = 0; i < good->size(); ++i) {
    std::string b = *good;
    b[i] = static_cast<char>(b[i] ^ 0xFF);
    Store s(model_);
    absl::Status st = s.ImportMember(b);
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << "byte " << i << ": " << st;
    EXPECT_EQ(s.stats().members, 0);
  }
  for (size_t n = 0; n < good->size(); ++n) {
    Store s(model_);
    absl::Status st = s.ImportMember(good->substr(0, n));
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << "length " << n << ": " << st;
  }
  Store s(model_);
  EXPECT_EQ(s.ImportMember(*good + "x").code(), absl::StatusCode::kDataLoss);
}

TEST_F(StateTest, ForeignFilesAndWrongModelsAreInvalidArguments) {
  Store store(model_);
  store.Apply(Ev("a", "m1", Day(0), "post").view(), nullptr);
  const std::string path = TempPath("foreign.snap");
  WriteFile(path, "event_id,member_id,time\n");
  EXPECT_EQ(Store::LoadSnapshot(model_, path).status().code(),
            absl::StatusCode::kInvalidArgument);
  Store s(model_);
  EXPECT_EQ(s.ImportMember("{\"member_id\":\"m1\"}").code(), absl::StatusCode::kInvalidArgument);

  auto other = Model::LoadText(R"pb(name: "other" score { name: "eng" })pb");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(store.SaveSnapshot(path).ok());
  auto r = Store::LoadSnapshot(*other, path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("\"state\""));
  Store o(*other);
  EXPECT_EQ(o.ImportMember(*store.ExportMember("m1")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Store::LoadSnapshot(model_, TempPath("no_such_file")).status().code(),
            absl::StatusCode::kNotFound);
  std::remove(path.c_str());
}

TEST_F(StateTest, SaveIsAtomicAndReportsErrors) {
  Store store(model_);
  store.Apply(Ev("a", "m1", Day(0), "post").view(), nullptr);
  EXPECT_EQ(store.SaveSnapshot(TempPath("no_dir/x.snap")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.SaveSnapshot("").code(), absl::StatusCode::kInvalidArgument);
  // Over an existing file: replaced whole; no temporary file left beside it.
  const std::string path = TempPath("atomic.snap");
  WriteFile(path, "old");
  ASSERT_TRUE(store.SaveSnapshot(path).ok());
  EXPECT_NE(ReadFile(path), "old");
  EXPECT_TRUE(Store::LoadSnapshot(model_, path).ok());
  std::ifstream tmp(path + ".tmp-" + std::to_string(::getpid()));
  EXPECT_FALSE(tmp.good());
  std::remove(path.c_str());
}

// docs/host-guide.md, "Model upgrades": a state written under kModel read
// under a changed model of the same name.
TEST_F(StateTest, AChangedModelKeepsStateByName) {
  Store store(model_);
  // m1: posts (eng via "post", counter posts_3d, busy), a course (learner
  // tag with ttl, slow), profile role=dm (fit 25) and city (read by no
  // condition of kModel), in stage "engaged".
  int n = 0;
  auto apply = [&](int64_t t, const char* type) {
    Ev e("e" + std::to_string(n++), "m1", t, type);
    if (n == 1) e.Profile("role", "dm").Profile("city", "Shanghai");
    store.Apply(e.view(), nullptr);
  };
  for (int i = 0; i < 4; ++i) apply(Day(0) + Hours(i), "post");
  apply(Day(1), "course.attend");
  apply(Day(1) + Hours(1), "content.read");
  apply(Day(1) + Hours(2), "content.read");
  for (int i = 0; i < 4; ++i) apply(Day(2) + Hours(i), "post");
  const MemberView before = *store.Read("m1", Day(2));
  ASSERT_EQ(model_->stage_name(before.stage), "engaged");
  auto bytes = store.ExportMember("m1");
  ASSERT_TRUE(bytes.ok());

  constexpr char kChanged[] = R"pb(
    name: "state"
    allowed_lateness: "10d"
    score { name: "eng" half_life: "20d" min: 0 max: 60 }
    score { name: "fit" min: 0 max: 100 }
    score { name: "lead" formula: "score.eng + score.fit" }
    counter { name: "posts_3d" on: "post" }
    counter { name: "all" on: "*" }
    rule { name: "post" on: "post" score: "eng" points: 2 cap { max_points: 5 window: "1d" } }
    rule { name: "read" on: "content.*" score: "eng" points: 1.5 cap { max_points: 9 window: "7d" } }
    rule { name: "join" on: "*" score: "eng" points: 5 }
    fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 25 }
    fit { name: "local" when: "member.city == 'Shanghai'" score: "fit" points: 7 }
    tag { name: "learner" on: "course.*" ttl: "5d" }
    tag { name: "new_tag" when: "score.eng > 0.0" }
    lifecycle {
      initial: "fresh"
      stage: [ "fresh", "lead" ]
      transition { from: "*" to: "lead" on: "demo.request" }
    }
    flag { name: "hot" when: "score.lead >= 30.0" rearm: "score.lead < 15.0" cooldown: "3d" }
  )pb";
  auto changed = Model::LoadText(kChanged, "changed.textproto");
  ASSERT_TRUE(changed.ok()) << changed.status();
  Store up(*changed);
  RestoreReport report;
  ASSERT_TRUE(up.ImportMember(*bytes, &report).ok());
  EXPECT_THAT(report.notes,
              ElementsAre(
                  "counter \"posts_3d\": changed between lifetime and windowed, starts from 0",
                  "flag \"once\": not in the model, dropped",
                  "rule \"busy\": not an event rule of the model, ledger and cap memory "
                  "dropped (its points stay in the score)",
                  "rule \"course\": not an event rule of the model, ledger and cap memory "
                  "dropped (its points stay in the score)",
                  "rule \"join\": no longer `once`, applies again",
                  "rule \"read\": cap changed from lifetime to windowed, starts from 0",
                  "score \"slow\": not in the model, value dropped",
                  "stage \"engaged\": not in the model; members in it start in \"fresh\" at "
                  "their clock",
                  "tag \"poster\": not in the model, dropped"));
  const Model& cm = **changed;
  const MemberView after = *up.Read("m1", before.clock);
  // eng keeps its value (same ref time, read at the clock).
  EXPECT_EQ(after.scores[cm.FindScore("eng")], before.scores[model_->FindScore("eng")]);
  // fit recomputed from the stored attributes: dm 25 + local 7 (city was
  // read by no condition of the old model, and kept all the same).
  EXPECT_EQ(after.scores[cm.FindScore("fit")], 32);
  EXPECT_EQ(cm.stage_name(after.stage), "fresh");
  EXPECT_EQ(after.stage_since, before.clock);
  EXPECT_EQ(after.counters[cm.FindCounter("all")], 11);
  EXPECT_EQ(after.counters[cm.FindCounter("posts_3d")], 0);
  // The learner tag is kept with its ttl; poster and spammer are gone;
  // new_tag is decided at the next evaluation.
  std::vector<std::string> tags;
  for (int t : after.tags) tags.push_back(cm.tag_name(t));
  EXPECT_THAT(tags, ElementsAre("learner"));
  up.Advance("m1", before.clock, nullptr);
  tags.clear();
  const MemberView advanced = *up.Read("m1", before.clock);
  for (int t : advanced.tags) tags.push_back(cm.tag_name(t));
  EXPECT_THAT(tags, ElementsAre("learner", "new_tag"));
  // The ledger of "post" survived; "join" too (same score).
  double post = 0, join = 0;
  for (const auto& e : after.ledger) {
    if (cm.contributor_name(e.contributor) == "post") post = e.value;
    if (cm.contributor_name(e.contributor) == "join") join = e.value;
  }
  EXPECT_GT(post, 0);
  EXPECT_GT(join, 0);
  // Flag "hot" kept its state (eng + fit = 40+ raised it before).
  EXPECT_EQ(after.flags[cm.FindFlag("hot")].raised,
            before.flags[model_->FindFlag("hot")].raised);
}

TEST_F(StateTest, ViewsAsProtoAndJson) {
  Store store(model_);
  Ev e("a", "m1", Day(0), "course.attend");
  e.Profile("role", "dm");
  store.Apply(e.view(), nullptr);
  const MemberView v = *store.Read("m1", Day(1));
  std::string line;
  io::AppendMemberLine(&line, *model_, v);
  EXPECT_EQ(MemberViewToJson(*model_, v) + "\n", line);
  v1::MemberView p;
  ASSERT_TRUE(p.ParseFromString(MemberViewToProto(*model_, v)));
  EXPECT_EQ(p.member_id(), "m1");
  EXPECT_EQ(p.time(), Day(1));
  EXPECT_TRUE(p.has_stage());
  EXPECT_EQ(p.stage(), "new");
  ASSERT_EQ(p.scores_size(), 4);
  EXPECT_EQ(p.scores(2).name(), "fit");
  EXPECT_EQ(p.scores(2).value(), 25);
  EXPECT_TRUE(p.scores(3).derived());
  EXPECT_THAT(p.tags(), ElementsAre("learner"));
  EXPECT_EQ(p.counters(1).name(), "all");
  EXPECT_EQ(p.counters(1).value(), 1);
  EXPECT_EQ(p.flags(0).name(), "hot");
  bool dm = false;
  for (const auto& le : p.ledger()) dm |= le.rule() == "dm" && le.value() == 25;
  EXPECT_TRUE(dm);
}

}  // namespace
}  // namespace leadscore::enginetest
