// Property tests of the engine over random event sets (seeded, so every run
// sees the same sets): SEMANTICS.md section 2 (order independence without
// bounds, caps and once; the ledger sums to the score) and section 1
// (re-reading a log, or overlapping exports, changes nothing).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "tests/engine_test_util.h"

namespace leadscore::enginetest {
namespace {

constexpr int kSeeds = 60;
constexpr double kRel = 1e-9;

// No bounds, no caps, no `once`, and no rule condition that reads state
// (scores, counters, tags, stage, idle): only event fields. Tags, a
// lifecycle and a flag are there too; they do not feed scores.
constexpr char kFreeModel[] = R"pb(
  allowed_lateness: "30d"
  score { name: "eng" half_life: "10d" }
  score { name: "slow" half_life: "45d" }
  score { name: "flat" }
  score { name: "lead" formula: "score.eng + score.flat" }
  counter { name: "posts_3d" on: "post" window: "3d" }
  counter { name: "courses_7d" on: "course.*" when: "event.value >= 20" window: "7d" }
  counter { name: "all" on: "*" }
  rule { name: "post" on: "post" score: "eng" points: 2 }
  rule { name: "read" on: "content.*" score: "eng" points: 1.5 }
  rule { name: "tax_read" on: "content.read" when: "event.attrs.topic == 'tax'" score: "slow" points: 4 }
  rule { name: "big_course" on: "course.attend" when: "event.value >= 20" score: "eng" points: 10 }
  rule { name: "course_any" on: "course.*" score: "slow" points: 3 }
  rule { name: "spam" on: "spam" score: "eng" points: -7 }
  rule { name: "every" on: "*" score: "flat" points: 0.25 }
  rule { name: "web" on: "*" when: "event.channel == 'web'" score: "flat" points: 1 }
  tag { name: "poster" when: "counter.posts_3d >= 3" }
  tag { name: "tax" on: "content.*" when: "event.attrs.topic == 'tax'" ttl: "5d" }
  lifecycle {
    initial: "new"
    stage: [ "new", "active" ]
    transition { from: "new" to: "active" when: "score.eng >= 20.0" }
  }
  flag { name: "hot" when: "score.lead >= 40.0" rearm: "score.lead < 20.0" }
)pb";

// With bounds, caps, once and state-reading conditions: order matters here,
// but the ledger must still sum to every event-fed score.
constexpr char kBoundedModel[] = R"pb(
  allowed_lateness: "30d"
  score { name: "eng" half_life: "10d" min: 0 max: 40 }
  score { name: "slow" half_life: "45d" min: -5 max: 25 }
  score { name: "flat" max: 12 }
  score { name: "fit" min: 0 max: 30 }
  score { name: "lead" formula: "score.eng + score.fit" }
  counter { name: "posts_3d" on: "post" window: "3d" }
  rule { name: "join" on: "*" score: "eng" points: 5 once: true }
  rule { name: "post" on: "post" score: "eng" points: 2 cap { max_points: 5 window: "1d" } }
  rule { name: "read" on: "content.*" score: "eng" points: 1.5 cap { max_points: 9 } }
  rule { name: "busy" on: "post" when: "counter.posts_3d >= 3" score: "slow" points: 4 }
  rule { name: "big_course" on: "course.attend" when: "event.value >= 20" score: "eng" points: 10 }
  rule { name: "course_any" on: "course.*" when: "score.eng < 30.0" score: "slow" points: 3 }
  rule { name: "spam" on: "spam" score: "eng" points: -7 }
  rule { name: "spam_slow" on: "spam" score: "slow" points: -9 }
  rule { name: "every" on: "*" score: "flat" points: 0.75 }
  fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 25 }
  fit { name: "big" when: "member.employees >= 200" score: "fit" points: 10 }
)pb";

const char* const kTypes[] = {"post", "content.read", "content.download", "course.attend",
                              "course.quiz", "spam", "other", ""};

// n events of `members` members, with times in [Day(0), Day(0) + span].
std::vector<Ev> RandomEvents(std::mt19937_64& rng, int members, int n, int64_t span) {
  std::uniform_int_distribution<int64_t> time(Day(0), Day(0) + span);
  std::uniform_int_distribution<int> member(0, members - 1);
  std::uniform_int_distribution<int> type(0, static_cast<int>(std::size(kTypes)) - 1);
  std::uniform_int_distribution<int> pick(0, 3);
  std::uniform_real_distribution<double> value(0, 40);
  std::vector<Ev> out;
  for (int i = 0; i < n; ++i) {
    Ev e("e" + std::to_string(i), "m" + std::to_string(member(rng)), time(rng),
         kTypes[type(rng)]);
    int p = pick(rng);
    e.Value(p == 0 ? 20.0 : value(rng));
    if (p == 1) e.Channel("web");
    if (p == 2) e.Channel("app");
    int t = pick(rng);
    if (t == 0) e.Attr("topic", "tax");
    if (t == 1) e.Attr("topic", "vat");
    int f = pick(rng);
    if (f == 0) e.Profile("role", "dm");
    if (f == 1) e.Profile("employees", std::to_string(50 * pick(rng) + 100));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Ev> SortedByTime(std::vector<Ev> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const Ev& a, const Ev& b) { return a.time() < b.time(); });
  return events;
}

int64_t MaxTime(const std::vector<Ev>& events) {
  int64_t t = Day(0);
  for (const Ev& e : events) t = std::max(t, e.time());
  return t;
}

int64_t Rejections(const Store& s) {
  int64_t n = 0;
  for (int64_t r : s.stats().rejected) n += r;
  return n;
}

// Everything a read returns, compared exactly.
void ExpectSameMembers(const Harness& a, const Harness& b, int64_t t, const std::string& what) {
  std::vector<std::string> ids = a.store().MemberIds();
  ASSERT_EQ(ids, b.store().MemberIds()) << what;
  for (const std::string& id : ids) {
    MemberView x = a.View(id, t);
    MemberView y = b.View(id, t);
    EXPECT_EQ(x.scores, y.scores) << what << " member " << id;
    EXPECT_EQ(x.tags, y.tags) << what << " member " << id;
    EXPECT_EQ(x.stage, y.stage) << what << " member " << id;
    EXPECT_EQ(x.stage_since, y.stage_since) << what << " member " << id;
    EXPECT_EQ(x.counters, y.counters) << what << " member " << id;
    EXPECT_EQ(x.clock, y.clock) << what << " member " << id;
    EXPECT_EQ(x.last_event_time, y.last_event_time) << what << " member " << id;
    ASSERT_EQ(x.flags.size(), y.flags.size());
    for (size_t f = 0; f < x.flags.size(); ++f) {
      EXPECT_EQ(x.flags[f].armed, y.flags[f].armed) << what << " member " << id;
      EXPECT_EQ(x.flags[f].raised, y.flags[f].raised) << what << " member " << id;
      EXPECT_EQ(x.flags[f].last_raised, y.flags[f].last_raised) << what << " member " << id;
    }
    ASSERT_EQ(x.ledger.size(), y.ledger.size()) << what << " member " << id;
    for (size_t i = 0; i < x.ledger.size(); ++i) {
      EXPECT_EQ(x.ledger[i].contributor, y.ledger[i].contributor);
      EXPECT_EQ(x.ledger[i].value, y.ledger[i].value) << what << " member " << id;
    }
  }
}

// For every event-fed score of every member read at t: the ledger entries
// of that score sum to it (relative 1e-9; values near 0 compared against
// the sum of the entries' magnitudes, at least 1).
void ExpectLedgerSums(const Harness& h, int64_t t, const std::string& what) {
  const Model& m = h.model();
  for (const std::string& id : h.store().MemberIds()) {
    MemberView v = h.View(id, t);
    for (int s = 0; s < m.num_scores(); ++s) {
      if (m.score_is_derived(s) || m.score_name(s) == "fit") continue;
      double sum = 0, mag = 0;
      for (const auto& e : v.ledger) {
        if (e.score != s) continue;
        sum += e.value;
        mag += std::fabs(e.value);
      }
      EXPECT_TRUE(NearRel(sum, v.scores[s], kRel, std::max(1.0, mag)))
          << what << " member " << id << " score " << m.score_name(s) << " at "
          << TimeStr(v.time);
    }
  }
}

TEST(OrderIndependencePropertyTest, FinalScoresDoNotDependOnArrivalOrder) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(seed);
    // Times within 30 days = the lateness: no event can be too late.
    std::vector<Ev> events = RandomEvents(rng, 1 + seed % 4, 5 + seed * 3, 30 * kMsPerDay);
    std::vector<Ev> sorted = SortedByTime(events);
    std::vector<Ev> shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);

    LS_HARNESS(a, kFreeModel);
    LS_HARNESS(b, kFreeModel);
    for (const Ev& e : sorted) a.Apply(e);
    for (const Ev& e : shuffled) b.Apply(e);
    ASSERT_EQ(Rejections(a.store()), 0) << "seed " << seed;
    ASSERT_EQ(Rejections(b.store()), 0) << "seed " << seed;

    const int64_t t = MaxTime(events) + 3 * kMsPerDay + 12345;
    ASSERT_EQ(a.store().MemberIds(), b.store().MemberIds());
    for (const std::string& id : a.store().MemberIds()) {
      MemberView x = a.View(id, t);
      MemberView y = b.View(id, t);
      ASSERT_EQ(x.scores.size(), y.scores.size());
      for (size_t s = 0; s < x.scores.size(); ++s) {
        EXPECT_TRUE(NearRel(x.scores[s], y.scores[s], kRel))
            << "seed " << seed << " member " << id << " score "
            << a.model().score_name(static_cast<int>(s));
      }
      // Counters are exact, and the clock is the latest event either way.
      EXPECT_EQ(x.counters, y.counters) << "seed " << seed << " member " << id;
      EXPECT_EQ(x.last_event_time, y.last_event_time) << "seed " << seed;
    }
  }
}

TEST(OrderIndependencePropertyTest, ScoresMatchASumOfIndependentlyDecayedPoints) {
  // The same property stated against the contract directly: without
  // bounds, caps and once, each applied rule adds points * 2^-(T - t)/H.
  const std::map<std::string, double> kHalfLifeDays = {
      {"eng", 10}, {"slow", 45}, {"flat", 0}};
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(1000 + seed);
    std::vector<Ev> events = RandomEvents(rng, 2, 10 + seed * 2, 30 * kMsPerDay);
    std::vector<Ev> shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    LS_HARNESS(h, kFreeModel);
    for (const Ev& e : shuffled) h.Apply(e);
    const int64_t t = MaxTime(events) + kMsPerDay;

    // Expected, by the rules of kFreeModel.
    std::map<std::string, std::map<std::string, double>> want;  // member -> score
    for (const Ev& e : events) {
      auto add = [&](const std::string& score, double points) {
        double hl = kHalfLifeDays.at(score);
        double f = hl == 0 ? 1.0
                           : std::exp2(-static_cast<double>(t - e.time()) /
                                       (hl * static_cast<double>(kMsPerDay)));
        want[e.member()][score] += points * f;
      };
      Event v = e.view();
      const std::string& type = e.type();
      bool tax = false;
      for (const KeyValue& kv : v.attrs) tax = kv.key == "topic" && kv.value == "tax";
      if (type == "post") add("eng", 2);
      if (type.rfind("content.", 0) == 0) add("eng", 1.5);
      if (type == "content.read" && tax) add("slow", 4);
      if (type == "course.attend" && v.value >= 20) add("eng", 10);
      if (type.rfind("course.", 0) == 0) add("slow", 3);
      if (type == "spam") add("eng", -7);
      add("flat", 0.25);
      if (v.channel == "web") add("flat", 1);
    }
    for (const auto& [id, scores] : want) {
      for (const auto& [score, value] : scores) {
        EXPECT_TRUE(NearRel(h.Score(id, score, t), value, kRel))
            << "seed " << seed << " member " << id << " score " << score;
      }
    }
  }
}

TEST(LedgerPropertyTest, LedgerSumsToEveryEventFedScoreAtAnyTime) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(2000 + seed);
    std::vector<Ev> events = RandomEvents(rng, 3, 10 + seed * 2, 30 * kMsPerDay);
    std::shuffle(events.begin(), events.end(), rng);
    LS_HARNESS(h, kFreeModel);
    for (size_t i = 0; i < events.size(); ++i) {
      h.Apply(events[i]);
      if (i % 7 == 0) ExpectLedgerSums(h, Day(0), "seed " + std::to_string(seed));
    }
    const int64_t end = MaxTime(events);
    ExpectLedgerSums(h, end, "seed " + std::to_string(seed));
    ExpectLedgerSums(h, end + 17 * kMsPerDay + 3, "seed " + std::to_string(seed));
  }
}

TEST(LedgerPropertyTest, LedgerSumsToTheScoreWithBoundsCapsAndOnce) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(3000 + seed);
    std::vector<Ev> events = RandomEvents(rng, 3, 10 + seed * 2, 30 * kMsPerDay);
    std::shuffle(events.begin(), events.end(), rng);
    LS_HARNESS(h, kBoundedModel);
    for (size_t i = 0; i < events.size(); ++i) {
      h.Apply(events[i]);
      if (i % 5 == 0) ExpectLedgerSums(h, Day(0), "seed " + std::to_string(seed));
    }
    const int64_t end = MaxTime(events);
    ExpectLedgerSums(h, end, "seed " + std::to_string(seed));
    ExpectLedgerSums(h, end + 40 * kMsPerDay, "seed " + std::to_string(seed));
  }
}

TEST(ReplayPropertyTest, ApplyingTheSameEventsTwiceChangesNothing) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(4000 + seed);
    std::vector<Ev> events = RandomEvents(rng, 3, 5 + seed * 2, 30 * kMsPerDay);
    std::shuffle(events.begin(), events.end(), rng);
    for (const char* model : {kFreeModel, kBoundedModel}) {
      LS_HARNESS(once, model);
      LS_HARNESS(twice, model);
      for (const Ev& e : events) once.Apply(e);
      for (const Ev& e : events) twice.Apply(e);
      twice.ClearChanges();
      std::vector<Ev> again = events;
      std::shuffle(again.begin(), again.end(), rng);
      for (const Ev& e : again) twice.Apply(e);
      // Every copy is a duplicate (all times are within the horizon).
      ASSERT_EQ(twice.rec().changes.size(), events.size()) << "seed " << seed;
      for (const Rec& r : twice.rec().changes) {
        EXPECT_EQ(Summary(r), Rejected("duplicate", r.event_id)) << "seed " << seed;
      }
      EXPECT_EQ(twice.store().stats().events_applied, once.store().stats().events_applied);
      ExpectSameMembers(once, twice, MaxTime(events) + kMsPerDay,
                        "seed " + std::to_string(seed));
    }
  }
}

TEST(ReplayPropertyTest, OverlappingExportsChangeNothing) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 rng(5000 + seed);
    std::vector<Ev> events =
        SortedByTime(RandomEvents(rng, 3, 10 + seed * 2, 30 * kMsPerDay));
    const size_t n = events.size();
    const size_t first_end = n * 6 / 10;   // export 1: [0, 60%)
    const size_t second_begin = n * 4 / 10;  // export 2: [40%, 100%)
    for (const char* model : {kFreeModel, kBoundedModel}) {
      LS_HARNESS(once, model);
      LS_HARNESS(both, model);
      for (const Ev& e : events) once.Apply(e);
      for (size_t i = 0; i < first_end; ++i) both.Apply(events[i]);
      for (size_t i = second_begin; i < n; ++i) both.Apply(events[i]);
      EXPECT_EQ(both.store().stats().rejected[static_cast<int>(RejectReason::kDuplicate)],
                static_cast<int64_t>(first_end - second_begin))
          << "seed " << seed;
      EXPECT_EQ(Rejections(once.store()), 0);
      ExpectSameMembers(once, both, MaxTime(events) + kMsPerDay,
                        "seed " + std::to_string(seed));
    }
  }
}

TEST(ReadPropertyTest, ReadingBetweenEventsChangesNothing) {
  for (int seed = 0; seed < kSeeds / 2; ++seed) {
    std::mt19937_64 rng(6000 + seed);
    std::vector<Ev> events = RandomEvents(rng, 2, 10 + seed * 3, 30 * kMsPerDay);
    std::shuffle(events.begin(), events.end(), rng);
    std::uniform_int_distribution<int64_t> when(Day(-10), Day(80));
    for (const char* model : {kFreeModel, kBoundedModel}) {
      LS_HARNESS(plain, model);
      LS_HARNESS(read, model);
      for (const Ev& e : events) {
        plain.Apply(e);
        read.Apply(e);
        for (const std::string& id : read.store().MemberIds()) {
          read.store().Read(id, when(rng));
        }
      }
      EXPECT_EQ(plain.Changes(), read.Changes()) << "seed " << seed;
      ExpectSameMembers(plain, read, MaxTime(events), "seed " + std::to_string(seed));
    }
  }
}

TEST(AdvancePropertyTest, AdvancingBetweenEventsDoesNotChangeScores) {
  // Evaluations decay, tag, stage and flag, but never change a score.
  for (int seed = 0; seed < kSeeds / 2; ++seed) {
    std::mt19937_64 rng(7000 + seed);
    std::vector<Ev> events =
        SortedByTime(RandomEvents(rng, 2, 10 + seed * 3, 30 * kMsPerDay));
    LS_HARNESS(plain, kFreeModel);
    LS_HARNESS(advanced, kFreeModel);
    for (const Ev& e : events) {
      plain.Apply(e);
      // In time order, advancing to the next event's time makes nothing late.
      advanced.Advance(e.member(), e.time());
      advanced.Apply(e);
    }
    const int64_t t = MaxTime(events) + 2 * kMsPerDay;
    for (const std::string& id : plain.store().MemberIds()) {
      MemberView x = plain.View(id, t);
      MemberView y = advanced.View(id, t);
      for (size_t s = 0; s < x.scores.size(); ++s) {
        EXPECT_TRUE(NearRel(x.scores[s], y.scores[s], kRel)) << "seed " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace leadscore::enginetest
