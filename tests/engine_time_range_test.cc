// Times at the ends of int64 (SEMANTICS.md section 1: a time is any int64
// number of milliseconds; docs/semantics-notes.md, "Times at the ends of
// int64"). Each test puts one piece of the engine's time arithmetic where
// `t - duration`, `t + duration` or `t - t0` leaves int64, and checks the
// answer unbounded arithmetic gives. Before lib/base/time_math.h these
// differences wrapped (signed overflow, undefined behaviour; UBSan and the
// fuzz targets found them).
#include <cstdint>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/store.h"
#include "lib/base/time_math.h"
#include "tests/engine_test_util.h"

namespace leadscore::enginetest {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(TimeMathTest, SubSatClampsAtBothEnds) {
  EXPECT_EQ(SubSat(10, 3), 7);
  EXPECT_EQ(SubSat(kMin + 5, 7), kMin);   // -2^63 + 5 - 7 < -2^63
  EXPECT_EQ(SubSat(kMax - 5, -7), kMax);  // 2^63 - 6 + 7 > 2^63 - 1
  EXPECT_EQ(SubSat(kMax, kMin), kMax);    // 2^64 - 1
}

TEST(TimeMathTest, LowerBoundSaysWhenThereIsNone) {
  int64_t b = 0;
  EXPECT_TRUE(LowerBound(kMin + 10, 10, &b));
  EXPECT_EQ(b, kMin);
  EXPECT_FALSE(LowerBound(kMin + 10, 11, &b));  // one below INT64_MIN
}

TEST(TimeMathTest, DecayFactorOverTheWholeRangeIsZero) {
  // dt = 2^64 - 1 ms; 2^-(1.8e19 / 8.64e7) underflows to 0.
  EXPECT_EQ(DecayFactor(86400000.0, kMax, kMin), 0.0);
  // Within range the difference is exact: 2 half-lives, 1/4.
  EXPECT_EQ(DecayFactor(1000.0, kMin + 2000, kMin), 0.25);
}

// One point per event, lateness 7d (default).
constexpr char kCountModel[] = R"pb(
  score { name: "s" }
  rule { name: "any" on: "*" score: "s" points: 1 }
)pb";

TEST(TimeRangeTest, NothingIsTooLateWhenTheHorizonIsBelowInt64Min) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", kMin + Hours(24), "x"));
  // Horizon = clock - 7d, below INT64_MIN: an event a day earlier is within
  // the lateness and applies. 1 + 1 = 2.
  h.Apply(Ev("e2", "m", kMin, "x"));
  EXPECT_THAT(h.Changes(), ::testing::IsEmpty());
  EXPECT_EQ(h.Score("m", "s", kMin + Hours(24)), 2);
}

TEST(TimeRangeTest, DuplicateAtInt64MinIsADuplicate) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", kMin, "x"));
  h.Apply(Ev("e1", "m", kMin, "x"));
  // Not too late (horizon below INT64_MIN), and e1 is kept: duplicate.
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("duplicate", "e1")));
  EXPECT_EQ(h.Score("m", "s", kMin), 1);
}

TEST(TimeRangeTest, WindowedCounterCountsEventsNearInt64Min) {
  LS_HARNESS(h, R"pb(
    counter { name: "posts_2d" on: "post" window: "2d" }
  )pb");
  h.Apply(Ev("e1", "m", kMin, "post"));
  h.Apply(Ev("e2", "m", kMin + Hours(1), "post"));
  // Window (now - 2d, now] reaches below INT64_MIN: both events count.
  EXPECT_EQ(h.Counter("m", "posts_2d", kMin + Hours(1)), 2);
}

TEST(TimeRangeTest, WindowedCapHoldsNearInt64Min) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" score: "s" points: 10 cap { max_points: 25 window: "7d" } }
  )pb");
  h.Apply(Ev("e1", "m", kMin, "x"));
  h.Apply(Ev("e2", "m", kMin + Hours(1), "x"));
  h.Apply(Ev("e3", "m", kMin + Hours(2), "x"));
  // All three in one 7-day window: 10 + 10 + min(10, 25 - 20) = 25.
  EXPECT_EQ(h.Score("m", "s", kMin + Hours(2)), 25);
}

constexpr char kDecayModel[] = R"pb(
  score { name: "s" half_life: "1d" }
  rule { name: "p" on: "p" score: "s" points: 8 }
)pb";

TEST(TimeRangeTest, ScoreDecaysToZeroAcrossTheWholeRange) {
  LS_HARNESS(h, kDecayModel);
  h.Apply(Ev("e1", "m", kMin, "p"));
  h.Apply(Ev("e2", "m", kMax, "tick"));
  // 8 * 2^-((2^64 - 1) / 86400000): 0 in double.
  EXPECT_EQ(h.Score("m", "s", kMax), 0.0);
  EXPECT_EQ(h.Ledger("m", "p", kMax), 0.0);
}

TEST(TimeRangeTest, ReadAcrossTheWholeRangeDecaysToZero) {
  LS_HARNESS(h, kDecayModel);
  h.Apply(Ev("e1", "m", kMin, "p"));
  // A read at INT64_MAX, clock still at INT64_MIN: 8 * 2^-(huge) = 0.
  EXPECT_EQ(h.Score("m", "s", kMax), 0.0);
  EXPECT_EQ(h.Score("m", "s", kMin), 8.0);  // and the read changed nothing
}

TEST(TimeRangeTest, IdleWiderThanInt64IsLongerThanAnyDuration) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "back" on: "x" score: "s" points: 5 when: "idle > duration('30d')" }
  )pb");
  h.Apply(Ev("e1", "m", kMin, "x"));  // first event: idle 0, no points
  h.Apply(Ev("e2", "m", kMax, "x"));  // idle 2^64 - 1 ms > 30d: 5 points
  EXPECT_EQ(h.Score("m", "s", kMax), 5);
}

TEST(TimeRangeTest, StageAgeWiderThanInt64IsLongerThanAnyDuration) {
  LS_HARNESS(h, R"pb(
    lifecycle {
      initial: "new"
      stage: [ "new", "stale" ]
      transition { from: "new" to: "stale" when: "stage_age > duration('30d')" }
    }
  )pb");
  h.Apply(Ev("e1", "m", kMin, "x"));
  ASSERT_TRUE(h.Advance("m", kMax));
  // stage_age = 2^64 - 1 ms > 30d: the transition fires at INT64_MAX.
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "stale", kMax)));
}

TEST(TimeRangeTest, EventTagTtlReachingPastInt64MaxKeepsTheTag) {
  LS_HARNESS(h, R"pb(
    tag { name: "hot" on: "x" ttl: "7d" }
  )pb");
  h.Apply(Ev("e1", "m", kMax - Hours(24), "x"));
  // Set at INT64_MAX - 1d with a 7d TTL: held at the last representable time.
  ASSERT_TRUE(h.Advance("m", kMax));
  EXPECT_TRUE(h.HasTag("m", "hot", kMax));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("hot", kMax - Hours(24))));
}

TEST(TimeRangeTest, FlagCooldownWiderThanInt64HasPassed) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "p" score: "s" points: 10 }
    flag { name: "f" when: "score.s >= 10" cooldown: "1d" }
  )pb");
  h.Apply(Ev("e1", "m", kMin, "p"));
  ASSERT_TRUE(h.Advance("m", kMax));
  // Raised at INT64_MIN; at INT64_MAX the cooldown (1d) has passed and the
  // condition still holds (10 >= 10): re-armed and raised again.
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("f", kMin), FlagRearmed("f", kMax),
                                       FlagRaised("f", kMax)));
}

}  // namespace
}  // namespace leadscore::enginetest
