// The engine skips re-evaluating a state tag when nothing its condition
// reads can have changed since it was last evaluated (lib/engine: dirty
// bits per input). SEMANTICS.md section 8 re-evaluates every state tag in
// every evaluation; these tests build the cases where a skip would be wrong
// if an input's change were forgotten, and check the contract's answer.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/store.h"
#include "tests/engine_test_util.h"

namespace leadscore::enginetest {
namespace {

using ::testing::ElementsAre;

// Tag `a` reads tag `b`, which comes later in model order.
constexpr char kTagReadsLaterTag[] = R"pb(
  score { name: "s" }
  rule { name: "any" on: "*" score: "s" points: 1 }
  tag { name: "a" when: "'b' in tags" }
  tag { name: "b" when: "score.s >= 1" }
)pb";

TEST(SkipTest, TagReadingALaterTagSeesItInTheNextEvaluation) {
  LS_HARNESS(h, kTagReadsLaterTag);
  // e1 at D1, step 5: a is evaluated first ('b' not held yet: false), then
  // b (s = 1 >= 1: true). Tags after e1: {b}.
  h.Apply(Ev("e1", "m", Day(1), "x"));
  EXPECT_FALSE(h.HasTag("m", "a", Day(1)));
  EXPECT_TRUE(h.HasTag("m", "b", Day(1)));
  // An evaluation at the same time: a now reads b held: true. Nothing a
  // reads changed after the last evaluation began except b, during it.
  ASSERT_TRUE(h.Advance("m", Day(1)));
  EXPECT_TRUE(h.HasTag("m", "a", Day(1)));
}

// A state tag reads the stage, which the lifecycle changes after the tags.
constexpr char kTagReadsStage[] = R"pb(
  score { name: "s" }
  rule { name: "any" on: "*" score: "s" points: 1 }
  tag { name: "is_active" when: "stage == 'active'" }
  lifecycle {
    initial: "new"
    stage: [ "new", "active" ]
    transition { from: "new" to: "active" when: "score.s >= 2" }
  }
)pb";

TEST(SkipTest, TagReadingTheStageSeesAChangeMadeAfterItInTheSameEvaluation) {
  LS_HARNESS(h, kTagReadsStage);
  h.Apply(Ev("e1", "m", Day(1), "x"));  // s = 1: stays new
  // e2 at D2, step 5: is_active (stage new: false), then new -> active.
  h.Apply(Ev("e2", "m", Day(2), "x"));
  EXPECT_EQ(h.Stage("m", Day(2)), "active");
  EXPECT_FALSE(h.HasTag("m", "is_active", Day(2)));
  // The next evaluation (Advance, same time) sees stage active.
  ASSERT_TRUE(h.Advance("m", Day(2)));
  EXPECT_TRUE(h.HasTag("m", "is_active", Day(2)));
}

// An `on` transition (step 4) changes the stage before step 5's tags.
constexpr char kTagReadsStageOnTransition[] = R"pb(
  tag { name: "is_customer" when: "stage == 'customer'" }
  lifecycle {
    initial: "new"
    stage: [ "new", "customer" ]
    transition { from: "*" to: "customer" on: "order.paid" }
  }
)pb";

TEST(SkipTest, TagReadingTheStageSeesAnEventTransition) {
  LS_HARNESS(h, kTagReadsStageOnTransition);
  h.Apply(Ev("e1", "m", Day(1), "x"));
  EXPECT_FALSE(h.HasTag("m", "is_customer", Day(1)));
  // e2: step 4 moves new -> customer; step 5 evaluates the tag: true.
  h.Apply(Ev("e2", "m", Day(2), "order.paid"));
  EXPECT_TRUE(h.HasTag("m", "is_customer", Day(2)));
}

// A state tag reads a member attribute that only a profile update changes.
constexpr char kTagReadsAttribute[] = R"pb(
  tag { name: "boss" when: "member.role == 'boss'" }
)pb";

TEST(SkipTest, TagReadingAnAttributeSeesAProfileUpdateOfAnEventWithNoRules) {
  LS_HARNESS(h, kTagReadsAttribute);
  h.Apply(Ev("e1", "m", Day(1), "x").Profile("role", "clerk"));
  EXPECT_FALSE(h.HasTag("m", "boss", Day(1)));
  // e2 feeds no rule; its profile (step 3) sets role = boss; step 5: true.
  h.Apply(Ev("e2", "m", Day(2), "x").Profile("role", "boss"));
  EXPECT_TRUE(h.HasTag("m", "boss", Day(2)));
  // And back: role = clerk removes it at e3's step 5.
  h.Apply(Ev("e3", "m", Day(3), "x").Profile("role", "clerk"));
  EXPECT_FALSE(h.HasTag("m", "boss", Day(3)));
}

// A state tag reads an event tag that expires (TTL) during an evaluation.
constexpr char kTagReadsExpiringTag[] = R"pb(
  tag { name: "seen" on: "visit" ttl: "2d" }
  tag { name: "recent" when: "'seen' in tags" }
)pb";

TEST(SkipTest, TagReadingAnEventTagSeesItsTtlExpiryInTheSameEvaluation) {
  LS_HARNESS(h, kTagReadsExpiringTag);
  // e1 at D1: step 4 adds seen (last set D1); step 5: recent true.
  h.Apply(Ev("e1", "m", Day(1), "visit"));
  EXPECT_TRUE(h.HasTag("m", "recent", Day(1)));
  // Advance to D3 = D1 + 2d: the TTL removes seen first, then recent is
  // evaluated in the same evaluation: false. Nothing else changed.
  ASSERT_TRUE(h.Advance("m", Day(3)));
  EXPECT_FALSE(h.HasTag("m", "seen", Day(3)));
  EXPECT_FALSE(h.HasTag("m", "recent", Day(3)));
}

// A state tag reads a lifetime counter (it changes only with events).
constexpr char kTagReadsLifetimeCounter[] = R"pb(
  counter { name: "n" on: "post" }
  tag { name: "poster" when: "counter.n >= 2" }
)pb";

TEST(SkipTest, TagReadingALifetimeCounterSeesEachCount) {
  LS_HARNESS(h, kTagReadsLifetimeCounter);
  h.Apply(Ev("e1", "m", Day(1), "post"));  // n = 1: false
  h.Apply(Ev("e2", "m", Day(2), "read"));  // n = 1 (not counted): false
  EXPECT_FALSE(h.HasTag("m", "poster", Day(2)));
  h.Apply(Ev("e3", "m", Day(3), "post"));  // n = 2: true at step 5
  EXPECT_TRUE(h.HasTag("m", "poster", Day(3)));
}

// A member restored under a newer model that adds a state tag on an input
// that will not change again: the tag is evaluated at the next evaluation.
constexpr char kOldModel[] = R"pb(
  name: "m"
  counter { name: "n" on: "post" }
)pb";
constexpr char kNewModel[] = R"pb(
  name: "m"
  counter { name: "n" on: "post" }
  tag { name: "poster" when: "counter.n >= 1" }
)pb";

TEST(SkipTest, ARestoredMemberHasEveryStateTagEvaluatedAgain) {
  LS_HARNESS(old_h, kOldModel);
  old_h.Apply(Ev("e1", "m", Day(1), "post"));  // n = 1
  auto bytes = old_h.store().ExportMember("m");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  LS_HARNESS(new_h, kNewModel);
  ASSERT_TRUE(new_h.store().ImportMember(*bytes).ok());
  // Restored: tags as exported (none). An evaluation at the same time:
  // n = 1 >= 1, so poster is added.
  ASSERT_TRUE(new_h.Advance("m", Day(1)));
  EXPECT_TRUE(new_h.HasTag("m", "poster", Day(1)));
}

// --- Time alone --------------------------------------------------------
// When only time has passed since a state tag was evaluated, the engine
// skips it if time cannot have moved it (Engine::TimeGuardHolds): a score
// >= 0 only decays down, one <= 0 only up, idle only grows, a window
// counter only falls. Each test below has time move a tag the other way,
// where a skip would keep a stale value.

// A negative decaying score rises towards 0 and crosses "score.s >= -3".
constexpr char kNegativeScore[] = R"pb(
  score { name: "s" half_life: "1d" }
  rule { name: "spam" on: "spam" score: "s" points: -8 }
  tag { name: "ok" when: "score.s >= -3" }
)pb";

TEST(TimeSkipTest, ANegativeScoreDecaysUpAcrossAThreshold) {
  LS_HARNESS(h, kNegativeScore);
  h.Apply(Ev("e1", "m", Day(1), "spam"));  // s = -8: not ok
  h.Apply(Ev("e2", "m", Day(3), "visit"));
  // Step 2 at D3: s = -8 * 2^-2 = -2 >= -3: ok is added at D3.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("ok", Day(3))));
}

// A formula of a fast-decaying negative score and a slow positive one.
constexpr char kMixedSigns[] = R"pb(
  score { name: "a" half_life: "1d" }
  score { name: "b" half_life: "100d" }
  score { name: "lead" formula: "score.a + score.b" }
  rule { name: "neg" on: "n" score: "a" points: -40 }
  rule { name: "pos" on: "p" score: "b" points: 30 }
  tag { name: "hot" when: "score.lead >= 5" }
)pb";

TEST(TimeSkipTest, AFormulaOfScoresOfBothSignsIsEvaluated) {
  LS_HARNESS(h, kMixedSigns);
  h.Apply(Ev("e1", "m", Day(1), "n"));
  h.Apply(Ev("e2", "m", Day(1), "p"));  // lead = -40 + 30 = -10: not hot
  h.Apply(Ev("e3", "m", Day(5), "visit"));
  // Step 2 at D5: a = -40 * 2^-4 = -2.5, b = 30 * 2^-0.04 = 29.18;
  // lead = 26.68 >= 5.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("hot", Day(5))));
}

// "score.a - score.b" falls as b rises: not a formula the shortcut covers.
constexpr char kDifference[] = R"pb(
  score { name: "a" half_life: "100d" }
  score { name: "b" half_life: "1d" }
  score { name: "lead" formula: "score.a - score.b" }
  rule { name: "ra" on: "x" score: "a" points: 10 }
  rule { name: "rb" on: "y" score: "b" points: 30 }
  tag { name: "hot" when: "score.lead >= 5" }
)pb";

TEST(TimeSkipTest, ADifferenceOfDecayingScoresIsEvaluated) {
  LS_HARNESS(h, kDifference);
  h.Apply(Ev("e1", "m", Day(1), "x"));  // lead = 10: hot
  h.Apply(Ev("e2", "m", Day(1), "y"));  // lead = 10 - 30 = -20: not hot
  h.Apply(Ev("e3", "m", Day(5), "visit"));
  // Step 2 at D5: a = 10 * 2^-0.04 = 9.73, b = 30 * 2^-4 = 1.875;
  // lead = 7.85 >= 5. Both scores are >= 0 and decay down, yet lead rises.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("hot", Day(1)), TagRemoved("hot", Day(1)),
                                       TagAdded("hot", Day(5))));
}

// "score.s < 5" of a positive score that decays below 5.
constexpr char kBelow[] = R"pb(
  score { name: "s" half_life: "1d" }
  rule { name: "r" on: "x" score: "s" points: 10 }
  tag { name: "cold" when: "score.s < 5" }
)pb";

TEST(TimeSkipTest, APositiveScoreDecaysBelowAThreshold) {
  LS_HARNESS(h, kBelow);
  h.Apply(Ev("e1", "m", Day(1), "x"));  // s = 10: not cold
  h.Apply(Ev("e2", "m", Day(3), "visit"));
  // Step 2 at D3: s = 10 * 2^-2 = 2.5 < 5.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("cold", Day(3))));
}

// "idle < 1d" holds after an event and stops holding a day later.
constexpr char kFresh[] = R"pb(
  tag { name: "fresh" when: "idle < duration('1d')" }
)pb";

TEST(TimeSkipTest, IdleGrowsPastAnUpperBound) {
  LS_HARNESS(h, kFresh);
  h.Apply(Ev("e1", "m", Day(1), "visit"));  // idle 0: fresh at D1
  h.Apply(Ev("e2", "m", Day(3), "visit"));
  // Step 2 at D3: idle = 2d, not < 1d: removed; step 5: idle = 0: added.
  EXPECT_THAT(h.Changes(),
              ElementsAre(TagAdded("fresh", Day(1)), TagRemoved("fresh", Day(3)),
                          TagAdded("fresh", Day(3))));
}

// A window counter at its threshold loses its events as the window moves.
constexpr char kBusy[] = R"pb(
  counter { name: "w" on: "post" window: "2d" }
  tag { name: "busy" when: "counter.w >= 2" }
)pb";

TEST(TimeSkipTest, AWindowCounterFallsBelowAThreshold) {
  LS_HARNESS(h, kBusy);
  h.Apply(Ev("e1", "m", Day(1), "post"));
  h.Apply(Ev("e2", "m", Day(1) + Hours(1), "post"));  // w = 2: busy
  h.Apply(Ev("e3", "m", Day(5), "visit"));
  // Step 2 at D5: both posts are out of (D3, D5]: w = 0.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("busy", Day(1) + Hours(1)),
                                       TagRemoved("busy", Day(5))));
}

}  // namespace
}  // namespace leadscore::enginetest
