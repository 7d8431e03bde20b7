// The engine skips re-evaluating a state tag when nothing its condition
// reads can have changed since it was last evaluated (lib/engine: dirty
// bits per input). SEMANTICS.md section 8 re-evaluates every state tag in
// every evaluation; these tests build the cases where a skip would be wrong
// if an input's change were forgotten, and check the contract's answer.
#include <string>

#include "gtest/gtest.h"
#include "leadscore/store.h"
#include "tests/engine_test_util.h"

namespace leadscore::enginetest {
namespace {

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

}  // namespace
}  // namespace leadscore::enginetest
