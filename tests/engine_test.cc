// Tests of the scoring engine (lib/engine through leadscore::Store) against
// ../shared/SEMANTICS.md sections 1-9 and docs/semantics-notes.md. Every
// expected number is worked by hand from the contract in a comment.
//
// Times: Day(n) is a UTC midnight n days after a fixed day in 2023 (see
// engine_test_util.h); "D3" in a comment means Day(3).
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/changes.h"
#include "leadscore/event.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "tests/engine_test_util.h"

namespace leadscore::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr double kEps = 1e-9;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// One non-decaying score, one point for any event; lateness 7d (default).
constexpr char kCountModel[] = R"pb(
  score { name: "s" }
  rule { name: "any" on: "*" score: "s" points: 1 }
)pb";

// The same with a lateness of 2 days.
constexpr char kCount2dModel[] = R"pb(
  allowed_lateness: "2d"
  score { name: "s" }
  rule { name: "any" on: "*" score: "s" points: 1 }
)pb";

// ===========================================================================
// Section 1: events and time
// ===========================================================================

TEST(ClockTest, ClockIsTheLargestEventTimeApplied) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", Day(5), "x"));
  h.Apply(Ev("e2", "m", Day(3), "x"));  // late, within 7d: accepted
  MemberView v = h.View("m", Day(0));
  EXPECT_EQ(v.clock, Day(5));
  EXPECT_EQ(h.Score("m", "s", Day(5)), 2);
}

TEST(ClockTest, AdvanceMovesTheClockForward) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", Day(1), "x"));
  ASSERT_TRUE(h.Advance("m", Day(4)));
  EXPECT_EQ(h.View("m", Day(0)).clock, Day(4));
}

TEST(ClockTest, AdvanceToAnEarlierTimeDoesNotMoveTheClockBack) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", Day(5), "x"));
  ASSERT_TRUE(h.Advance("m", Day(2)));
  EXPECT_EQ(h.View("m", Day(0)).clock, Day(5));
}

TEST(ClockTest, ClockIsPerMember) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("e1", "a", Day(100), "x"));
  // b has no clock yet: its first event is never late (note 3).
  h.Apply(Ev("e2", "b", Day(0), "x"));
  EXPECT_EQ(h.Score("b", "s", Day(0)), 1);
  EXPECT_EQ(h.View("b", Day(0)).clock, Day(0));
}

TEST(ClockTest, ReadAtAnEarlierTimeReadsAtTheClock) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    rule { name: "p" on: "p" score: "s" points: 8 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "p"));
  h.Apply(Ev("e2", "m", Day(2), "tick"));
  // Read at D0 reads at max(clock D2, D0) = D2: 8 * 2^-2 = 2 (note 7).
  MemberView v = h.View("m", Day(0));
  EXPECT_EQ(v.time, Day(2));
  EXPECT_NEAR(v.scores[0], 2.0, kEps);
}

TEST(ClockTest, LateEventIsEvaluatedAtTheClock) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "new"
      stage: [ "new", "customer" ]
      transition { from: "new" to: "customer" on: "order.paid" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(10), "tick"));
  h.Apply(Ev("e2", "m", Day(8), "order.paid"));
  // tau = max(clock D10, D8) = D10: the stage changes at D10, not D8.
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "customer", Day(10))));
  EXPECT_EQ(h.View("m", Day(10)).stage_since, Day(10));
  EXPECT_EQ(h.View("m", Day(10)).clock, Day(10));
}

TEST(ClockTest, LateEventPointsAreDecayedFromTheEventTime) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    rule { name: "p" on: "p" score: "s" points: 8 }
  )pb");
  h.Apply(Ev("e1", "m", Day(3), "tick"));
  h.Apply(Ev("e2", "m", Day(1), "p"));
  // 8 points at D1, added at tau D3: 8 * 2^-(3-1) = 2.
  EXPECT_NEAR(h.Score("m", "s", Day(3)), 2.0, kEps);
  // Read at D4: 8 * 2^-3 = 1.
  EXPECT_NEAR(h.Score("m", "s", Day(4)), 1.0, kEps);
}

TEST(ClockTest, LateEventConditionsReadScoresAtTheClock) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    score { name: "b" }
    rule { name: "seed" on: "seed" score: "s" points: 16 }
    rule { name: "probe" on: "probe" when: "score.s <= 4.0" score: "b" points: 100 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "seed"));
  h.Apply(Ev("e2", "m", Day(2), "tick"));
  h.Apply(Ev("e3", "m", Day(1), "probe"));
  // The probe is evaluated at tau = D2: s = 16 * 2^-2 = 4 <= 4 holds
  // (at its own time D1 it would be 16 * 2^-1 = 8, and fail).
  EXPECT_EQ(h.Score("m", "b", Day(2)), 100);
}

TEST(LatenessTest, EventExactlyAtClockMinusLatenessIsAccepted) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("e1", "m", Day(10), "x"));
  h.Apply(Ev("e2", "m", Day(8), "x"));  // D8 == D10 - 2d: not older
  EXPECT_THAT(h.Changes(), IsEmpty());
  EXPECT_EQ(h.Score("m", "s", Day(10)), 2);
  EXPECT_EQ(h.store().stats().rejected[static_cast<int>(RejectReason::kTooLate)], 0);
}

TEST(LatenessTest, EventOneMsOlderThanClockMinusLatenessIsTooLate) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("e1", "m", Day(10), "x"));
  h.Apply(Ev("e2", "m", Day(8) - 1, "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("too_late", "e2")));
  EXPECT_EQ(h.store().stats().rejected[static_cast<int>(RejectReason::kTooLate)], 1);
  // Never silently applied.
  EXPECT_EQ(h.Score("m", "s", Day(10)), 1);
  EXPECT_EQ(h.store().stats().events_applied, 1);
}

TEST(LatenessTest, DefaultAllowedLatenessIsSevenDays) {
  LS_HARNESS(h, kCountModel);
  EXPECT_EQ(h.model().allowed_lateness_ms(), 7 * kMsPerDay);
  h.Apply(Ev("e1", "m", Day(10), "x"));
  h.Apply(Ev("e2", "m", Day(3), "x"));      // D10 - 7d: accepted
  h.Apply(Ev("e3", "m", Day(3) - 1, "x"));  // 1 ms older: too late
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("too_late", "e3")));
  EXPECT_EQ(h.Score("m", "s", Day(10)), 2);
}

TEST(LatenessTest, LatenessIsMeasuredFromAnAdvancedClock) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("e1", "m", Day(0), "x"));
  ASSERT_TRUE(h.Advance("m", Day(10)));  // clock = D10 without an event
  h.Apply(Ev("e2", "m", Day(8) - 1, "x"));
  h.Apply(Ev("e3", "m", Day(8), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("too_late", "e2")));
  EXPECT_EQ(h.Score("m", "s", Day(10)), 2);
}

TEST(LatenessTest, ZeroLatenessAcceptsEventsAtTheClockButNoneOlder) {
  LS_HARNESS(h, R"pb(
    allowed_lateness: "0s"
    score { name: "s" }
    rule { name: "any" on: "*" score: "s" points: 1 }
  )pb");
  EXPECT_EQ(h.model().allowed_lateness_ms(), 0);
  h.Apply(Ev("e1", "m", Day(1), "x"));
  h.Apply(Ev("e2", "m", Day(1), "x"));      // == clock - 0: accepted
  h.Apply(Ev("e3", "m", Day(1) - 1, "x"));  // older: too late
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("too_late", "e3")));
  EXPECT_EQ(h.Score("m", "s", Day(1)), 2);
}

TEST(DedupTest, DuplicateWithinTheHorizonIsRejectedAndCounted) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("a", "m", Day(1), "x"));
  h.Apply(Ev("a", "m", Day(1), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("duplicate", "a")));
  EXPECT_EQ(h.store().stats().rejected[static_cast<int>(RejectReason::kDuplicate)], 1);
  EXPECT_EQ(h.Score("m", "s", Day(1)), 1);
}

TEST(DedupTest, SameIdAtAnotherTimeIsStillADuplicate) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("a", "m", Day(1), "x"));
  h.Apply(Ev("a", "m", Day(2), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("duplicate", "a")));
  EXPECT_EQ(h.Score("m", "s", Day(2)), 1);
  // A rejected event does not move the clock.
  EXPECT_EQ(h.View("m", Day(0)).clock, Day(1));
}

TEST(DedupTest, SameIdOfAnotherMemberIsNotADuplicate) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("a", "m1", Day(1), "x"));
  h.Apply(Ev("a", "m2", Day(1), "x"));
  EXPECT_THAT(h.Changes(), IsEmpty());
  EXPECT_EQ(h.Score("m2", "s", Day(1)), 1);
}

TEST(DedupTest, IdIsRememberedWhileItsEventIsAtTheHorizon) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("a", "m", Day(1), "x"));
  h.Apply(Ev("b", "m", Day(3), "x"));  // clock D3, horizon D3 - 2d = D1
  // "a" was applied at D1 >= horizon D1: still known.
  h.Apply(Ev("a", "m", Day(2), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("duplicate", "a")));
  EXPECT_EQ(h.Score("m", "s", Day(3)), 2);
}

TEST(DedupTest, IdIsForgottenOnceItsEventFallsBehindTheHorizon) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("a", "m", Day(1), "x"));
  h.Apply(Ev("b", "m", Day(3) + 1, "x"));  // horizon D1 + 1 ms > D1
  // The applied "a" (D1) is older than the horizon: forgotten; this copy,
  // at D2, is not too late, so it applies (note 4).
  h.Apply(Ev("a", "m", Day(2), "x"));
  EXPECT_THAT(h.Changes(), IsEmpty());
  EXPECT_EQ(h.Score("m", "s", Day(3) + 1), 3);
}

TEST(DedupTest, EmptyEventIdIsAnIdLikeAnyOther) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("", "m", Day(1), "x"));  // accepted (note 1)
  h.Apply(Ev("", "m", Day(1), "x"));  // the same id "" again
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("duplicate", "")));
  EXPECT_EQ(h.Score("m", "s", Day(1)), 1);
}

// A model with decay, bounds, caps, once, counters, tags, a lifecycle and a
// flag, for the replay tests.
constexpr char kRichModel[] = R"pb(
  score { name: "eng" half_life: "3d" min: 0 max: 60 }
  score { name: "fit" min: -10 max: 30 }
  score { name: "lead" formula: "score.eng + score.fit" }
  counter { name: "posts_2d" on: "post" window: "2d" }
  counter { name: "all" on: "*" }
  rule { name: "join" on: "join" score: "eng" points: 5 once: true }
  rule { name: "post" on: "post" score: "eng" points: 4 cap { max_points: 10 window: "1d" } }
  rule { name: "demo" on: "demo" score: "eng" points: 40 }
  rule { name: "spam" on: "spam" score: "eng" points: -15 }
  fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 20 }
  tag { name: "poster" when: "counter.posts_2d >= 2" }
  tag { name: "tax" on: "content.*" when: "event.attrs.topic == 'tax'" ttl: "2d" }
  lifecycle {
    initial: "new"
    stage: [ "new", "active", "mql" ]
    transition { from: "new" to: "active" when: "score.eng >= 5" }
    transition { from: "active" to: "mql" when: "score.lead >= 50" }
  }
  flag { name: "ready" when: "score.lead >= 50" rearm: "score.lead < 30" cooldown: "2d" }
)pb";

std::vector<Ev> RichEvents() {
  return {
      Ev("e1", "m", Day(0), "join"),
      Ev("e2", "m", Day(0) + Hours(1), "post").Profile("role", "dm"),
      Ev("e3", "m", Day(0) + Hours(2), "post"),
      Ev("e4", "m", Day(0) + Hours(3), "post"),
      Ev("e5", "m", Day(1), "content.read").Attr("topic", "tax"),
      Ev("e6", "m", Day(2), "demo"),
      Ev("e7", "m", Day(1) + Hours(5), "post"),  // late
      Ev("e8", "m", Day(9), "spam"),
      Ev("e9", "m", Day(10), "join"),
      Ev("e10", "m2", Day(3), "post"),
  };
}

TEST(DedupTest, ReapplyingTheSameEventsChangesNothing) {
  LS_HARNESS(h, kRichModel);
  for (const Ev& e : RichEvents()) h.Apply(e);
  MemberView before = h.View("m", Day(10));
  MemberView before2 = h.View("m2", Day(10));
  StoreStats stats = h.store().stats();
  h.ClearChanges();
  for (const Ev& e : RichEvents()) h.Apply(e);
  // Every copy is rejected (duplicate, or too late for the oldest ones).
  ASSERT_EQ(h.rec().changes.size(), RichEvents().size());
  for (const Rec& r : h.rec().changes) {
    EXPECT_EQ(r.kind, ChangeKind::kRejected) << Summary(r);
    EXPECT_TRUE(r.reason == RejectReason::kDuplicate ||
                r.reason == RejectReason::kTooLate)
        << Summary(r);
  }
  MemberView after = h.View("m", Day(10));
  EXPECT_EQ(after.scores, before.scores);
  EXPECT_EQ(after.tags, before.tags);
  EXPECT_EQ(after.stage, before.stage);
  EXPECT_EQ(after.counters, before.counters);
  EXPECT_EQ(after.clock, before.clock);
  EXPECT_EQ(h.View("m2", Day(10)).scores, before2.scores);
  EXPECT_EQ(h.store().stats().events_applied, stats.events_applied);
  EXPECT_EQ(h.store().stats().flags_raised, stats.flags_raised);
}

TEST(InvalidEventTest, EmptyMemberIdIsInvalid) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "", Day(1), "x"));
  ASSERT_THAT(h.Changes(), ElementsAre(Rejected("invalid", "e1")));
  EXPECT_EQ(h.rec().changes[0].member, "");
  EXPECT_FALSE(h.rec().changes[0].detail.empty());
  EXPECT_EQ(h.store().stats().rejected[static_cast<int>(RejectReason::kInvalid)], 1);
  EXPECT_THAT(h.store().MemberIds(), IsEmpty());
}

TEST(InvalidEventTest, MissingTimeIsInvalid) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", 0, "x").NoTime());
  ASSERT_THAT(h.Changes(), ElementsAre(Rejected("invalid", "e1")));
  EXPECT_FALSE(h.rec().changes[0].has_time);  // note 29: no time, null
  EXPECT_FALSE(h.rec().changes[0].detail.empty());
}

TEST(InvalidEventTest, NaNValueIsInvalid) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", Day(1), "x").Value(kNaN));
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("invalid", "e1")));
  EXPECT_FALSE(h.rec().changes[0].detail.empty());
}

TEST(InvalidEventTest, InfiniteValueIsInvalid) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", Day(1), "x").Value(kInf));
  h.Apply(Ev("e2", "m", Day(1), "x").Value(-kInf));
  EXPECT_THAT(h.Changes(),
              ElementsAre(Rejected("invalid", "e1"), Rejected("invalid", "e2")));
  EXPECT_EQ(h.store().stats().rejected[static_cast<int>(RejectReason::kInvalid)], 2);
}

TEST(InvalidEventTest, StreamGoesOnAfterAnInvalidEvent) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", Day(1), "x").Value(kNaN));
  // Same id, now valid: the invalid copy was never applied, so no duplicate.
  h.Apply(Ev("e1", "m", Day(1), "x"));
  h.Apply(Ev("e2", "m", Day(2), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("invalid", "e1")));
  EXPECT_EQ(h.Score("m", "s", Day(2)), 2);
}

TEST(InvalidEventTest, EmptyTypeIsValidAndMatchesOnlyStarPatterns) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "any" on: "*" score: "s" points: 1 }
    rule { name: "pre" on: "content.*" score: "s" points: 10 }
    rule { name: "exact" on: "x" score: "s" points: 100 }
  )pb");
  h.Apply(Ev("e1", "m", Day(1), ""));
  EXPECT_THAT(h.Changes(), IsEmpty());
  EXPECT_EQ(h.Score("m", "s", Day(1)), 1);  // note 1: only `*`
}

TEST(CheckOrderTest, InvalidIsCheckedBeforeTooLate) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("e1", "m", Day(10), "x"));
  h.Apply(Ev("e2", "m", Day(1), "x").Value(kNaN));  // too late and invalid
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("invalid", "e2")));
}

TEST(CheckOrderTest, InvalidIsCheckedBeforeDuplicate) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("a", "m", Day(1), "x"));
  h.Apply(Ev("a", "m", Day(1), "x").Value(kInf));  // duplicate and invalid
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("invalid", "a")));
}

TEST(CheckOrderTest, TooLateIsCheckedBeforeDuplicate) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("a", "m", Day(9), "x"));
  h.Apply(Ev("b", "m", Day(10), "x"));  // horizon D8; "a" (D9) still known
  h.Apply(Ev("a", "m", Day(7), "x"));   // D7 < D8: too late, and a known id
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("too_late", "a")));
  EXPECT_EQ(h.store().stats().rejected[static_cast<int>(RejectReason::kDuplicate)], 0);
}

TEST(MemberCreationTest, FirstAcceptedEventCreatesTheMemberInTheInitialStage) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "b"
      stage: [ "a", "b", "c" ]
      transition { from: "a" to: "c" on: "never" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(3), "x"));
  EXPECT_THAT(h.store().MemberIds(), ElementsAre("m"));
  EXPECT_EQ(h.Stage("m", Day(3)), "b");
  EXPECT_EQ(h.View("m", Day(3)).stage_since, Day(3));
  EXPECT_THAT(h.Changes(), IsEmpty());  // no stage_changed for the start (note 25)
  EXPECT_EQ(h.store().stats().members, 1);
}

TEST(MemberCreationTest, RejectedEventsCreateNoMember) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", 0, "x").NoTime());
  h.Apply(Ev("e2", "m", Day(1), "x").Value(kNaN));
  EXPECT_FALSE(h.store().Read("m", Day(1)).has_value());
  EXPECT_THAT(h.store().MemberIds(), IsEmpty());
  EXPECT_EQ(h.store().stats().members, 0);
  // The rejections are still written under the member id (note 5).
  ASSERT_EQ(h.rec().changes.size(), 2u);
  EXPECT_EQ(h.rec().changes[0].member, "m");
  EXPECT_EQ(h.rec().changes[1].member, "m");
}

TEST(MemberCreationTest, FirstEventSkipsTheEvaluationBeforeItsEffects) {
  // If step 2 ran for the first event, the empty member (s = 0) would get
  // "empty" and raise "zero" before the rule adds its point.
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "any" on: "*" score: "s" points: 1 }
    tag { name: "empty" when: "score.s < 1.0" }
    flag { name: "zero" when: "score.s < 1.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), IsEmpty());
  EXPECT_TRUE(h.Flag("m", "zero", Day(0)).armed);
}

TEST(MemberCreationTest, LaterEventRunsAnEvaluationBeforeItsEffects) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    rule { name: "p" on: "*" score: "s" points: 8 }
    tag { name: "low" when: "score.s < 2.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));  // s = 8: not low
  h.ClearChanges();
  h.Apply(Ev("e2", "m", Day(3), "x"));
  // Step 2 at D3: s = 8 * 2^-3 = 1 < 2: low added. Step 4: s = 1 + 8 = 9.
  // Step 5: 9 >= 2: low removed.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("low", Day(3)), TagRemoved("low", Day(3))));
}

TEST(MemberCreationTest, WithoutLifecycleMembersHaveNoStage) {
  LS_HARNESS(h, kCountModel);
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_EQ(h.model().num_stages(), 0);
  EXPECT_EQ(h.View("m", Day(0)).stage, -1);
}

TEST(OutputTest, StoreRejectIsCountedAndEmittedWithoutCreatingAMember) {
  LS_HARNESS(h, kCountModel);
  h.store().Reject("m", "e9", true, Day(5), RejectReason::kAfterAsOf,
                   "after the as-of time", &h.rec());
  EXPECT_THAT(h.Changes(), ElementsAre(Rejected("after_as_of", "e9")));
  EXPECT_EQ(h.rec().changes[0].time, Day(5));
  EXPECT_EQ(h.store().stats().rejected[static_cast<int>(RejectReason::kAfterAsOf)], 1);
  EXPECT_THAT(h.store().MemberIds(), IsEmpty());
}

TEST(OutputTest, RejectionCarriesTheEventsOwnTime) {
  LS_HARNESS(h, kCount2dModel);
  h.Apply(Ev("e1", "m", Day(10), "x"));
  h.Apply(Ev("e2", "m", Day(8) - 1, "x"));
  ASSERT_EQ(h.rec().changes.size(), 1u);
  EXPECT_TRUE(h.rec().changes[0].has_time);
  EXPECT_EQ(h.rec().changes[0].time, Day(8) - 1);  // note 29, not the clock
  EXPECT_EQ(h.rec().changes[0].member, "m");
}

// ===========================================================================
// Section 2: scores
// ===========================================================================

constexpr char kDecayModel[] = R"pb(
  score { name: "s" half_life: "1d" }
  rule { name: "p" on: "p" score: "s" points: 10 }
)pb";

TEST(DecayTest, ValueHalvesAfterOneHalfLife) {
  LS_HARNESS(h, kDecayModel);
  h.Apply(Ev("e1", "m", Day(0), "p"));
  // 10 at D0, half-life 1d, read at D1: 10 * 2^-1 = 5.
  EXPECT_NEAR(h.Score("m", "s", Day(1)), 5.0, kEps);
}

TEST(DecayTest, ValueQuartersAfterTwoHalfLives) {
  LS_HARNESS(h, kDecayModel);
  h.Apply(Ev("e1", "m", Day(0), "p"));
  // 10 * 2^-2 = 2.5.
  EXPECT_NEAR(h.Score("m", "s", Day(2)), 2.5, kEps);
}

TEST(DecayTest, DecayIsContinuousInMilliseconds) {
  LS_HARNESS(h, kDecayModel);
  h.Apply(Ev("e1", "m", Day(0), "p"));
  // Read at D0 + 12h: 10 * 2^-0.5 = 7.0710678118654755.
  EXPECT_NEAR(h.Score("m", "s", Day(0) + Hours(12)), 7.0710678118654755, kEps);
  // Read at D0 + 1 ms: 10 * 2^-(1/86400000) = 9.99999991977...
  EXPECT_NEAR(h.Score("m", "s", Day(0) + 1), 10.0 * std::exp2(-1.0 / 86400000.0), 1e-12);
  EXPECT_LT(h.Score("m", "s", Day(0) + 1), 10.0);
}

TEST(DecayTest, EachAdditionDecaysFromItsOwnTime) {
  LS_HARNESS(h, kDecayModel);
  h.Apply(Ev("e1", "m", Day(0), "p"));
  h.Apply(Ev("e2", "m", Day(1), "p"));
  // Read at D2: 10 * 2^-2 + 10 * 2^-1 = 2.5 + 5 = 7.5.
  EXPECT_NEAR(h.Score("m", "s", Day(2)), 7.5, kEps);
}

TEST(DecayTest, ScoreWithoutHalfLifeNeverDecays) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "p" score: "s" points: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "p"));
  EXPECT_EQ(h.Score("m", "s", Day(1000)), 10.0);
}

TEST(DecayTest, ScoreWithoutRulesOrFormulaStaysZero) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    score { name: "unused" half_life: "1d" min: 5 max: 10 }
    rule { name: "p" on: "p" score: "s" points: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "p"));
  EXPECT_EQ(h.Score("m", "unused", Day(3)), 0.0);  // note 9
}

TEST(DecayTest, DecayDoesNotDependOnHowOftenTheMemberIsEvaluated) {
  LS_HARNESS(a, kDecayModel);
  LS_HARNESS(b, kDecayModel);
  a.Apply(Ev("e1", "m", Day(0), "p"));
  b.Apply(Ev("e1", "m", Day(0), "p"));
  for (int d = 1; d <= 3; ++d) b.Advance("m", Day(d) + Hours(d));
  // 10 * 2^-4 = 0.625 either way.
  EXPECT_NEAR(a.Score("m", "s", Day(4)), 0.625, kEps);
  EXPECT_NEAR(b.Score("m", "s", Day(4)), 0.625, kEps);
}

TEST(BoundsTest, MaxBoundGrantsOnlyTheRoomLeft) {
  LS_HARNESS(h, R"pb(
    score { name: "s" max: 15 }
    rule { name: "p" on: "p" score: "s" points: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "p"));  // clamp(0 + 10, max 15) - 0 = 10
  h.Apply(Ev("e2", "m", Day(1), "p"));  // clamp(10 + 10, max 15) - 10 = 5
  EXPECT_EQ(h.Score("m", "s", Day(1)), 15.0);
}

TEST(BoundsTest, MinBoundGrantsOnlyTheRoomLeft) {
  LS_HARNESS(h, R"pb(
    score { name: "s" min: 0 }
    rule { name: "up" on: "up" score: "s" points: 10 }
    rule { name: "down" on: "down" score: "s" points: -30 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "up"));
  h.Apply(Ev("e2", "m", Day(0), "down"));  // clamp(10 - 30, min 0) - 10 = -10
  EXPECT_EQ(h.Score("m", "s", Day(0)), 0.0);
}

TEST(BoundsTest, LedgerRecordsTheGrantedAmountNotThePoints) {
  LS_HARNESS(h, R"pb(
    score { name: "s" min: 0 max: 15 }
    rule { name: "up" on: "up" score: "s" points: 10 }
    rule { name: "down" on: "down" score: "s" points: -30 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "up"));    // grants 10
  h.Apply(Ev("e2", "m", Day(0), "up"));    // grants 5
  h.Apply(Ev("e3", "m", Day(0), "down"));  // grants clamp(15 - 30, 0) - 15 = -15
  EXPECT_EQ(h.Ledger("m", "up", Day(0)), 15.0);
  EXPECT_EQ(h.Ledger("m", "down", Day(0)), -15.0);
}

TEST(BoundsTest, BoundIsAppliedToTheDecayedValue) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" max: 10 }
    rule { name: "p" on: "p" score: "s" points: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "p"));  // 10
  h.Apply(Ev("e2", "m", Day(1), "p"));  // v = 5; clamp(15, max 10) - 5 = 5
  EXPECT_NEAR(h.Score("m", "s", Day(1)), 10.0, kEps);
  // Ledger: 10 decayed to D1 (5) + 5 = 10.
  EXPECT_NEAR(h.Ledger("m", "p", Day(1)), 10.0, kEps);
}

TEST(BoundsTest, DecayMayTakeAValueBelowMinAndTheNextAdditionClamps) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" min: 5 }
    rule { name: "big" on: "big" score: "s" points: 10 }
    rule { name: "small" on: "small" score: "s" points: 1 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "big"));  // clamp(0 + 10, min 5) - 0 = 10
  // Decay alone goes below min: 10 * 2^-2 = 2.5 (note 8).
  EXPECT_NEAR(h.Score("m", "s", Day(2)), 2.5, kEps);
  h.Apply(Ev("e2", "m", Day(2), "small"));
  // clamp(2.5 + 1, min 5) - 2.5 = 2.5 granted: s = 5.
  EXPECT_NEAR(h.Score("m", "s", Day(2)), 5.0, kEps);
  EXPECT_NEAR(h.Ledger("m", "small", Day(2)), 2.5, kEps);
}

TEST(DerivedScoreTest, DerivedScoreIsComputedFromDecayedScoresAtReadTime) {
  LS_HARNESS(h, R"pb(
    score { name: "a" half_life: "1d" }
    score { name: "b" }
    score { name: "lead" formula: "score.a + score.b" }
    rule { name: "ra" on: "a" score: "a" points: 8 }
    rule { name: "rb" on: "b" score: "b" points: 3 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "a"));
  h.Apply(Ev("e2", "m", Day(0), "b"));
  // D1: 8/2 + 3 = 7; D2: 8/4 + 3 = 5.
  EXPECT_NEAR(h.Score("m", "lead", Day(1)), 7.0, kEps);
  EXPECT_NEAR(h.Score("m", "lead", Day(2)), 5.0, kEps);
}

TEST(DerivedScoreTest, DerivedScoreOfDerivedScoresIsComputedOnRead) {
  LS_HARNESS(h, R"pb(
    score { name: "a" half_life: "1d" }
    score { name: "b" }
    score { name: "lead" formula: "score.a + score.b" }
    score { name: "double_lead" formula: "2 * score.lead - score.b" }
    rule { name: "ra" on: "a" score: "a" points: 8 }
    rule { name: "rb" on: "b" score: "b" points: 3 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "a"));
  h.Apply(Ev("e2", "m", Day(0), "b"));
  // D1: lead = 4 + 3 = 7; double_lead = 14 - 3 = 11.
  EXPECT_NEAR(h.Score("m", "double_lead", Day(1)), 11.0, kEps);
}

TEST(DerivedScoreTest, DerivedScoreHoldsNoLedgerEntries) {
  LS_HARNESS(h, R"pb(
    score { name: "a" }
    score { name: "lead" formula: "score.a * 2" }
    rule { name: "ra" on: "a" score: "a" points: 8 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "a"));
  int lead = h.model().FindScore("lead");
  for (const auto& e : h.View("m", Day(0)).ledger) EXPECT_NE(e.score, lead);
  EXPECT_EQ(h.Score("m", "lead", Day(0)), 16.0);
}

constexpr char kLedgerModel[] = R"pb(
  score { name: "eng" half_life: "10d" }
  rule { name: "a" on: "a" score: "eng" points: 30 }
  rule { name: "b" on: "b" score: "eng" points: 20 }
  rule { name: "c" on: "c" score: "eng" points: -5 }
)pb";

TEST(LedgerTest, LedgerEntryIsTheDecayedSumOfWhatTheRuleGranted) {
  LS_HARNESS(h, kLedgerModel);
  h.Apply(Ev("e1", "m", Day(0), "a"));
  h.Apply(Ev("e2", "m", Day(10), "b"));
  h.Apply(Ev("e3", "m", Day(20), "c"));
  h.Apply(Ev("e4", "m", Day(20), "a"));
  // At D20: a = 30 * 2^-2 + 30 = 37.5; b = 20 * 2^-1 = 10; c = -5.
  EXPECT_NEAR(h.Ledger("m", "a", Day(20)), 37.5, kEps);
  EXPECT_NEAR(h.Ledger("m", "b", Day(20)), 10.0, kEps);
  EXPECT_NEAR(h.Ledger("m", "c", Day(20)), -5.0, kEps);
  // At D30 every entry halves: 18.75, 5, -2.5.
  EXPECT_NEAR(h.Ledger("m", "a", Day(30)), 18.75, kEps);
  EXPECT_NEAR(h.Ledger("m", "c", Day(30)), -2.5, kEps);
}

TEST(LedgerTest, LedgerSumsToTheScore) {
  LS_HARNESS(h, kLedgerModel);
  h.Apply(Ev("e1", "m", Day(0), "a"));
  h.Apply(Ev("e2", "m", Day(10), "b"));
  h.Apply(Ev("e3", "m", Day(20), "c"));
  // At D20: 7.5 + 10 - 5 = 12.5.
  EXPECT_NEAR(h.Score("m", "eng", Day(20)), 12.5, kEps);
  EXPECT_TRUE(NearRel(h.LedgerSum("m", "eng", Day(20)), h.Score("m", "eng", Day(20)), 1e-9));
  EXPECT_TRUE(NearRel(h.LedgerSum("m", "eng", Day(33)), h.Score("m", "eng", Day(33)), 1e-9));
}

TEST(LedgerTest, LedgerSumsToABoundedScore) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" half_life: "10d" max: 40 }
    rule { name: "a" on: "a" score: "eng" points: 30 }
    rule { name: "b" on: "b" score: "eng" points: 20 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "a"));   // 30
  h.Apply(Ev("e2", "m", Day(0), "b"));   // grants 10: 40
  h.Apply(Ev("e3", "m", Day(10), "a"));  // v = 20; grants clamp(50, 40) - 20 = 20
  // At D10: a = 15 + 20 = 35, b = 5; eng = 40.
  EXPECT_NEAR(h.Score("m", "eng", Day(10)), 40.0, kEps);
  EXPECT_NEAR(h.Ledger("m", "a", Day(10)), 35.0, kEps);
  EXPECT_NEAR(h.Ledger("m", "b", Day(10)), 5.0, kEps);
}

TEST(LedgerTest, RulesThatGrantedNothingHaveNoEntry) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "zero" on: "x" score: "s" points: 0 }
    rule { name: "one" on: "x" score: "s" points: 1 }
    rule { name: "unmatched" on: "y" score: "s" points: 1 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_FALSE(h.HasLedgerEntry("m", "zero", Day(0)));
  EXPECT_FALSE(h.HasLedgerEntry("m", "unmatched", Day(0)));
  EXPECT_TRUE(h.HasLedgerEntry("m", "one", Day(0)));
}

TEST(OrderIndependenceTest, ArrivalOrderDoesNotChangeScoresWithoutBoundsCapsOrOnce) {
  constexpr char kModel[] = R"pb(
    score { name: "s" half_life: "2d" }
    rule { name: "a" on: "a" score: "s" points: 8 }
    rule { name: "b" on: "b" score: "s" points: -3 }
  )pb";
  LS_HARNESS(x, kModel);
  LS_HARNESS(y, kModel);
  x.Apply(Ev("e1", "m", Day(0), "a"));
  x.Apply(Ev("e2", "m", Day(2), "b"));
  x.Apply(Ev("e3", "m", Day(4), "a"));
  y.Apply(Ev("e3", "m", Day(4), "a"));
  y.Apply(Ev("e1", "m", Day(0), "a"));
  y.Apply(Ev("e2", "m", Day(2), "b"));
  // At D4: 8 * 2^-2 - 3 * 2^-1 + 8 = 2 - 1.5 + 8 = 8.5 either way.
  EXPECT_NEAR(x.Score("m", "s", Day(4)), 8.5, kEps);
  EXPECT_NEAR(y.Score("m", "s", Day(4)), 8.5, kEps);
}

// ===========================================================================
// Section 3: event rules
// ===========================================================================

constexpr char kPatternModel[] = R"pb(
  score { name: "exact" }
  score { name: "prefix" }
  score { name: "any" }
  rule { name: "e" on: "course.attend" score: "exact" points: 1 }
  rule { name: "p" on: "content.*" score: "prefix" points: 1 }
  rule { name: "a" on: "*" score: "any" points: 1 }
)pb";

TEST(RulePatternTest, ExactPatternMatchesOnlyThatType) {
  LS_HARNESS(h, kPatternModel);
  int i = 0;
  for (const char* t : {"course.attend", "course.attend.late", "course", "course.attendx",
                        "Course.attend"}) {
    h.Apply(Ev("e" + std::to_string(i++), "m", Day(0), t));
  }
  EXPECT_EQ(h.Score("m", "exact", Day(0)), 1);
}

TEST(RulePatternTest, PrefixPatternMatchesTypesUnderThePrefix) {
  LS_HARNESS(h, kPatternModel);
  int i = 0;
  for (const char* t : {"content.read", "content.download", "content", "contentx.read",
                        "my.content.read"}) {
    h.Apply(Ev("e" + std::to_string(i++), "m", Day(0), t));
  }
  EXPECT_EQ(h.Score("m", "prefix", Day(0)), 2);
}

TEST(RulePatternTest, StarPatternMatchesEveryType) {
  LS_HARNESS(h, kPatternModel);
  int i = 0;
  for (const char* t : {"content.read", "course.attend", "x", "a.b.c"}) {
    h.Apply(Ev("e" + std::to_string(i++), "m", Day(0), t));
  }
  EXPECT_EQ(h.Score("m", "any", Day(0)), 4);
}

TEST(RuleTest, ConditionMustHoldForTheRuleToApply) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "c" on: "course.attend" when: "event.value >= 20" score: "s" points: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "course.attend").Value(19.99));
  EXPECT_EQ(h.Score("m", "s", Day(0)), 0);
  h.Apply(Ev("e2", "m", Day(0), "course.attend").Value(20));
  EXPECT_EQ(h.Score("m", "s", Day(0)), 10);
}

TEST(RuleTest, NegativePointsLowerTheScore) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    rule { name: "spam" on: "spam" score: "s" points: -6 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "spam"));
  h.Apply(Ev("e2", "m", Day(1), "spam"));
  // At D1: -6/2 - 6 = -9.
  EXPECT_NEAR(h.Score("m", "s", Day(1)), -9.0, kEps);
  EXPECT_NEAR(h.Ledger("m", "spam", Day(1)), -9.0, kEps);
}

constexpr char kCapModel[] = R"pb(
  score { name: "s" }
  rule { name: "r" on: "x" score: "s" points: 10 cap { max_points: 25 window: "7d" } }
)pb";

TEST(CapTest, CapAllowsAtMostMaxPointsInTheWindow) {
  LS_HARNESS(h, kCapModel);
  for (int d = 0; d <= 3; ++d) h.Apply(Ev("e" + std::to_string(d), "m", Day(d), "x"));
  // D0: min(10, 25 - 0) = 10; D1: min(10, 15) = 10; D2: min(10, 5) = 5;
  // D3: min(10, 0) = 0. Total 25.
  EXPECT_EQ(h.Score("m", "s", Day(3)), 25);
  EXPECT_EQ(h.Ledger("m", "r", Day(3)), 25);
}

TEST(CapTest, CapWindowExcludesItsLowerBound) {
  LS_HARNESS(h, kCapModel);
  for (int d = 0; d <= 2; ++d) h.Apply(Ev("e" + std::to_string(d), "m", Day(d), "x"));
  // At D7 the window is (D0, D7]: D0's 10 is out; D1 10 + D2 5 = 15 in;
  // allowed min(10, 25 - 15) = 10. Total 25 + 10 = 35.
  h.Apply(Ev("e7", "m", Day(7), "x"));
  EXPECT_EQ(h.Score("m", "s", Day(7)), 35);
}

TEST(CapTest, CapWindowIncludesAnEventOneMsInsideIt) {
  LS_HARNESS(h, kCapModel);
  for (int d = 0; d <= 2; ++d) h.Apply(Ev("e" + std::to_string(d), "m", Day(d), "x"));
  // At D7 - 1 ms the window (D0 - 1 ms, D7 - 1 ms] holds all 25: allowed 0.
  h.Apply(Ev("e7", "m", Day(7) - 1, "x"));
  EXPECT_EQ(h.Score("m", "s", Day(7)), 25);
}

TEST(CapTest, CapWithoutWindowCapsTheLifetimeTotal) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" score: "s" points: 10 cap { max_points: 25 } }
  )pb");
  for (int i = 0; i < 4; ++i) h.Apply(Ev("e" + std::to_string(i), "m", Day(100 * i), "x"));
  // 10, 10, 5, 0 however far apart.
  EXPECT_EQ(h.Score("m", "s", Day(300)), 25);
}

TEST(CapTest, LateEventCapWindowSeesOnlyEventsUpToItsOwnTime) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" score: "s" points: 10 cap { max_points: 10 window: "7d" } }
  )pb");
  h.Apply(Ev("e1", "m", Day(5), "x"));  // window (D-2, D5]: 0 -> allowed 10
  h.Apply(Ev("e2", "m", Day(3), "x"));  // window (D-4, D3]: D5 not in it -> 10
  h.Apply(Ev("e3", "m", Day(6), "x"));  // window (D-1, D6]: 20 -> 0
  EXPECT_EQ(h.Score("m", "s", Day(6)), 20);
}

TEST(CapTest, CapCountsAllowedRawPointsBeforeDecay) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    rule { name: "r" on: "x" score: "s" points: 10 cap { max_points: 6 window: "7d" } }
  )pb");
  h.Apply(Ev("e1", "m", Day(2), "tick"));
  h.Apply(Ev("e2", "m", Day(1), "x"));
  // Allowed raw min(10, 6) = 6, decayed from D1 to tau D2: 3.
  EXPECT_NEAR(h.Score("m", "s", Day(2)), 3.0, kEps);
  h.Apply(Ev("e3", "m", Day(2), "x"));
  // The window holds the raw 6 (not the decayed 3): allowed 0.
  EXPECT_NEAR(h.Score("m", "s", Day(2)), 3.0, kEps);
}

TEST(CapTest, CapRemembersAllowedRawPointsNotTheBoundedGrant) {
  LS_HARNESS(h, R"pb(
    score { name: "s" max: 5 }
    rule { name: "r" on: "x" score: "s" points: 6 cap { max_points: 10 window: "7d" } }
    rule { name: "down" on: "down" score: "s" points: -5 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));     // raw 6, granted clamp(6, 5) = 5
  h.Apply(Ev("e2", "m", Day(0), "down"));  // 0
  h.Apply(Ev("e3", "m", Day(1), "x"));     // raw min(6, 10 - 6) = 4, granted 4
  EXPECT_EQ(h.Score("m", "s", Day(1)), 4);  // (5 if the window had kept 5)
}

TEST(OnceTest, OnceRuleAppliesOnlyOnce) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "j" on: "join" score: "s" points: 5 once: true }
  )pb");
  for (int i = 0; i < 3; ++i) h.Apply(Ev("e" + std::to_string(i), "m", Day(i), "join"));
  EXPECT_EQ(h.Score("m", "s", Day(2)), 5);
}

TEST(OnceTest, OnceRuleCountsOnlyWhenItsConditionHolds) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "j" on: "x" when: "event.value >= 10" score: "s" points: 5 once: true }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x").Value(5));   // does not apply
  h.Apply(Ev("e2", "m", Day(1), "x").Value(10));  // applies: 5
  h.Apply(Ev("e3", "m", Day(2), "x").Value(10));  // already applied
  EXPECT_EQ(h.Score("m", "s", Day(2)), 5);
}

TEST(OnceTest, OnceRuleWithheldByABoundHasStillApplied) {
  LS_HARNESS(h, R"pb(
    score { name: "s" max: 10 }
    rule { name: "full" on: "full" score: "s" points: 10 }
    rule { name: "bonus" on: "bonus" score: "s" points: 5 once: true }
    rule { name: "down" on: "down" score: "s" points: -10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "full"));   // 10
  h.Apply(Ev("e2", "m", Day(0), "bonus"));  // applies, grants 0 (note 10)
  h.Apply(Ev("e3", "m", Day(0), "down"));   // 0
  h.Apply(Ev("e4", "m", Day(0), "bonus"));  // once: nothing
  EXPECT_EQ(h.Score("m", "s", Day(0)), 0);
}

TEST(RuleOrderTest, LaterRuleSeesPointsOfEarlierRulesForTheSameEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r1" on: "x" score: "s" points: 10 }
    rule { name: "r2" on: "x" when: "score.s >= 10.0" score: "s" points: 1 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_EQ(h.Score("m", "s", Day(0)), 11);  // r1: 10; r2 sees 10: +1
}

TEST(RuleOrderTest, EarlierRuleDoesNotSeePointsOfLaterRules) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r2" on: "x" when: "score.s >= 10.0" score: "s" points: 1 }
    rule { name: "r1" on: "x" score: "s" points: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_EQ(h.Score("m", "s", Day(0)), 10);  // r2 sees 0
}

TEST(RuleOrderTest, RulesApplyInModelOrderAgainstABound) {
  LS_HARNESS(h, R"pb(
    score { name: "s" max: 10 }
    rule { name: "second_name" on: "x" score: "s" points: 8 }
    rule { name: "a_first_name" on: "x" score: "s" points: 8 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  // Model order, not name order: second_name grants 8, a_first_name 2.
  EXPECT_EQ(h.Ledger("m", "second_name", Day(0)), 8);
  EXPECT_EQ(h.Ledger("m", "a_first_name", Day(0)), 2);
}

TEST(RuleOrderTest, RuleConditionSeesCountersAlreadyUpdatedForThisEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    counter { name: "c" on: "x" }
    rule { name: "r" on: "x" when: "counter.c == 1" score: "s" points: 1 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));  // counter 0 -> 1, then r sees 1
  h.Apply(Ev("e2", "m", Day(0), "x"));  // r sees 2
  EXPECT_EQ(h.Score("m", "s", Day(0)), 1);
}

// ===========================================================================
// Section 4: attribute (fit) rules
// ===========================================================================

constexpr char kFitModel[] = R"pb(
  score { name: "fit" min: -20 max: 30 }
  fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 25 }
  fit { name: "big" when: "member.employees >= 200" score: "fit" points: 10 }
  fit { name: "consumer" when: "member.identity == 'consumer'" score: "fit" points: -100 }
  fit { name: "not_x" when: "member.kind != 'x'" score: "fit" points: 1 }
)pb";

TEST(FitTest, FitScoreIsTheSumOfTheHoldingFitRules) {
  LS_HARNESS(h, kFitModel);
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("role", "dm").Profile("employees", "150"));
  EXPECT_EQ(h.Score("m", "fit", Day(0)), 25);  // dm only: 150 < 200
}

TEST(FitTest, FitScoreIsBounded) {
  LS_HARNESS(h, kFitModel);
  h.Apply(Ev("e1", "a", Day(0), "x").Profile("role", "dm").Profile("employees", "250"));
  h.Apply(Ev("e2", "b", Day(0), "x").Profile("identity", "consumer"));
  EXPECT_EQ(h.Score("a", "fit", Day(0)), 30);   // 25 + 10 = 35 -> max 30
  EXPECT_EQ(h.Score("b", "fit", Day(0)), -20);  // -100 -> min -20
}

TEST(FitTest, FitIsRecomputedWhenAttributesChange) {
  LS_HARNESS(h, kFitModel);
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("role", "dm").Profile("employees", "250"));
  h.Apply(Ev("e2", "m", Day(1), "x").Profile("role", "intern"));
  EXPECT_EQ(h.Score("m", "fit", Day(1)), 10);  // big only
  h.Apply(Ev("e3", "m", Day(2), "x"));           // no profile: unchanged
  EXPECT_EQ(h.Score("m", "fit", Day(2)), 10);
}

TEST(FitTest, FitLedgerCountsTheFullPointsOfEachHoldingRule) {
  LS_HARNESS(h, kFitModel);
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("role", "dm").Profile("employees", "250"));
  // The score is bounded to 30, but each holding rule counts its points.
  EXPECT_EQ(h.Ledger("m", "dm", Day(0)), 25);
  EXPECT_EQ(h.Ledger("m", "big", Day(0)), 10);
  EXPECT_FALSE(h.HasLedgerEntry("m", "consumer", Day(0)));
}

TEST(FitTest, FitScoreDoesNotDecay) {
  LS_HARNESS(h, kFitModel);
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("role", "dm"));
  EXPECT_EQ(h.Score("m", "fit", Day(1000)), 25);
  EXPECT_EQ(h.Ledger("m", "dm", Day(1000)), 25);
}

TEST(FitTest, NonNumericAttributeMakesANumericComparisonFalse) {
  LS_HARNESS(h, kFitModel);
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("employees", "many"));
  EXPECT_FALSE(h.HasLedgerEntry("m", "big", Day(0)));
}

TEST(FitTest, MissingAttributeMakesEvenNotEqualFalse) {
  LS_HARNESS(h, kFitModel);
  h.Apply(Ev("e1", "a", Day(0), "x"));
  h.Apply(Ev("e2", "b", Day(0), "x").Profile("kind", "y"));
  EXPECT_FALSE(h.HasLedgerEntry("a", "not_x", Day(0)));  // note 15
  EXPECT_EQ(h.Score("a", "fit", Day(0)), 0);
  EXPECT_EQ(h.Score("b", "fit", Day(0)), 1);
}

TEST(FitTest, ProfileIsAppliedBeforeTheRulesOfTheSameEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    score { name: "fit" }
    rule { name: "r" on: "x" when: "member.role == 'dm'" score: "s" points: 1 }
    rule { name: "r2" on: "x" when: "score.fit >= 25.0" score: "s" points: 10 }
    fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 25 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("role", "dm"));
  EXPECT_EQ(h.Score("m", "s", Day(0)), 11);  // step 3 then step 4
}

// ===========================================================================
// Section 5: counters
// ===========================================================================

constexpr char kCounterModel[] = R"pb(
  score { name: "s" }
  counter { name: "posts_2d" on: "post" window: "2d" }
  counter { name: "posts" on: "post" }
  counter { name: "big_courses" on: "course.*" when: "event.value >= 20" }
)pb";

TEST(CounterTest, RollingCounterCountsEventsInTheWindow) {
  LS_HARNESS(h, kCounterModel);
  for (int d = 0; d <= 2; ++d) h.Apply(Ev("e" + std::to_string(d), "m", Day(d), "post"));
  // At D2: (D0, D2] holds D1 and D2.
  EXPECT_EQ(h.Counter("m", "posts_2d", Day(2)), 2);
}

TEST(CounterTest, RollingCounterExcludesItsLowerBound) {
  LS_HARNESS(h, kCounterModel);
  h.Apply(Ev("e1", "m", Day(0), "post"));
  h.Apply(Ev("e2", "m", Day(0) + 1, "post"));
  // At D2: (D0, D2] holds D0 + 1 ms but not D0.
  EXPECT_EQ(h.Counter("m", "posts_2d", Day(2)), 1);
}

TEST(CounterTest, RollingCounterForgetsEventsAsTimePasses) {
  LS_HARNESS(h, kCounterModel);
  for (int d = 0; d <= 2; ++d) h.Apply(Ev("e" + std::to_string(d), "m", Day(d), "post"));
  EXPECT_EQ(h.Counter("m", "posts_2d", Day(3)), 1);  // (D1, D3]: D2
  EXPECT_EQ(h.Counter("m", "posts_2d", Day(4)), 0);  // (D2, D4]: none
}

TEST(CounterTest, LifetimeCounterCountsEveryMatchingEvent) {
  LS_HARNESS(h, kCounterModel);
  for (int i = 0; i < 3; ++i) h.Apply(Ev("e" + std::to_string(i), "m", Day(100 * i), "post"));
  h.Apply(Ev("x", "m", Day(200), "other"));
  EXPECT_EQ(h.Counter("m", "posts", Day(500)), 3);
}

TEST(CounterTest, CounterConditionAndPatternFilterEvents) {
  LS_HARNESS(h, kCounterModel);
  h.Apply(Ev("e1", "m", Day(0), "course.attend").Value(10));  // value too low
  h.Apply(Ev("e2", "m", Day(0), "course.attend").Value(20));  // counted
  h.Apply(Ev("e3", "m", Day(0), "course.quiz").Value(30));    // counted
  h.Apply(Ev("e4", "m", Day(0), "other").Value(50));          // other type
  EXPECT_EQ(h.Counter("m", "big_courses", Day(0)), 2);
}

TEST(CounterTest, RollingCounterIsExactOverManyEvents) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    counter { name: "posts_1d" on: "post" window: "1d" }
  )pb");
  const int64_t step = 10 * 60 * kMsPerSecond;  // every 10 minutes
  for (int k = 0; k < 432; ++k) {                // D0 .. D3 - 10 min
    h.Apply(Ev("e" + std::to_string(k), "m", Day(0) + k * step, "post"));
  }
  // At D3: times in (D2, D3] are k * 10 min with 288 < k <= 431: 143 events.
  EXPECT_EQ(h.Counter("m", "posts_1d", Day(3)), 143);
  // At D3 + 5 min: 288 < k... still k*10min > D2 + 5 min: k >= 289: 143.
  EXPECT_EQ(h.Counter("m", "posts_1d", Day(3) + 5 * 60 * kMsPerSecond), 143);
  // At D3 + 10 min: k * 10 min > D2 + 10 min: k >= 290: 142.
  EXPECT_EQ(h.Counter("m", "posts_1d", Day(3) + step), 142);
}

TEST(CounterTest, LateEventIsCountedAtItsOwnTime) {
  LS_HARNESS(h, kCounterModel);
  h.Apply(Ev("e1", "m", Day(5), "post"));
  h.Apply(Ev("e2", "m", Day(2), "post"));  // late: at D2, outside (D3, D5]
  h.Apply(Ev("e3", "m", Day(4), "post"));  // late: at D4, inside
  EXPECT_EQ(h.Counter("m", "posts_2d", Day(5)), 2);
  EXPECT_EQ(h.Counter("m", "posts", Day(5)), 3);
}

TEST(CounterTest, StateTagOnACounterFollowsTheWindow) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    counter { name: "posts_2d" on: "post" window: "2d" }
    tag { name: "poster" when: "counter.posts_2d >= 2" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "post"));
  h.Apply(Ev("e2", "m", Day(1), "post"));  // 2 in (D-1, D1]: added
  h.Advance("m", Day(2) - 1);                // (D0 - 1, D2 - 1]: still 2
  h.Advance("m", Day(2));                    // (D0, D2]: 1: removed
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("poster", Day(1)),
                                       TagRemoved("poster", Day(2))));
}

// ===========================================================================
// Section 6: tags
// ===========================================================================

constexpr char kStateTagModel[] = R"pb(
  score { name: "s" half_life: "1d" }
  rule { name: "p" on: "x" score: "s" points: 8 }
  tag { name: "hot" when: "score.s >= 4.0" }
)pb";

TEST(StateTagTest, StateTagIsAddedWhenItsConditionHolds) {
  LS_HARNESS(h, kStateTagModel);
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("hot", Day(0))));
  EXPECT_TRUE(h.HasTag("m", "hot", Day(0)));
}

TEST(StateTagTest, StateTagIsHeldWhileItsConditionHolds) {
  LS_HARNESS(h, kStateTagModel);
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Advance("m", Day(1));  // 8/2 = 4 >= 4: held
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("hot", Day(0))));
  EXPECT_TRUE(h.HasTag("m", "hot", Day(1)));
}

TEST(StateTagTest, StateTagIsRemovedWhenItsConditionStopsHolding) {
  LS_HARNESS(h, kStateTagModel);
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Advance("m", Day(1) + 1);  // 8 * 2^-(1 + 1/86400000) < 4
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("hot", Day(0)), TagRemoved("hot", Day(1) + 1)));
  EXPECT_FALSE(h.HasTag("m", "hot", Day(1) + 1));
}

TEST(StateTagTest, StateTagSeesTagsAlreadyUpdatedInTheSameEvaluation) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "x" score: "s" points: 1 }
    tag { name: "a" when: "score.s >= 1.0" }
    tag { name: "b" when: "'a' in tags" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("a", Day(0)), TagAdded("b", Day(0))));
}

TEST(StateTagTest, StateTagDoesNotSeeTagsOfLaterStateTagsUntilTheNextEvaluation) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "x" score: "s" points: 1 }
    tag { name: "b" when: "'a' in tags" }
    tag { name: "a" when: "score.s >= 1.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("a", Day(0))));
  h.Advance("m", Day(0));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("a", Day(0)), TagAdded("b", Day(0))));
}

constexpr char kEventTagModel[] = R"pb(
  score { name: "s" }
  tag { name: "tax" on: "content.*" when: "event.attrs.topic == 'tax'" ttl: "2d" }
  tag { name: "joined" on: "join" }
)pb";

TEST(EventTagTest, EventTagIsSetByAMatchingEvent) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(0), "content.read").Attr("topic", "tax"));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(0))));
}

TEST(EventTagTest, EventTagNeedsItsConditionAndType) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(0), "content.read").Attr("topic", "vat"));
  h.Apply(Ev("e2", "m", Day(0), "course.read").Attr("topic", "tax"));
  EXPECT_THAT(h.Changes(), IsEmpty());
}

TEST(EventTagTest, EventTagIsRemovedAtTheFirstEvaluationAtOrAfterItsTtl) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(0), "content.read").Attr("topic", "tax"));
  h.Advance("m", Day(2) - 1);  // D0 + 2d not reached: held
  EXPECT_TRUE(h.HasTag("m", "tax", Day(2) - 1));
  h.Advance("m", Day(2));      // t >= last_set + ttl: removed
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(0)), TagRemoved("tax", Day(2))));
}

TEST(EventTagTest, MatchingEventRefreshesAHeldTagSilently) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(0), "content.read").Attr("topic", "tax"));
  h.Apply(Ev("e2", "m", Day(1), "content.read").Attr("topic", "tax"));
  // One tag_added only (note 23).
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(0))));
}

TEST(EventTagTest, RefreshExtendsTheTtlFromTheLaterEvent) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(0), "content.read").Attr("topic", "tax"));
  h.Apply(Ev("e2", "m", Day(1), "content.read").Attr("topic", "tax"));
  h.Advance("m", Day(2));  // D1 + 2d = D3 not reached
  h.Advance("m", Day(3));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(0)), TagRemoved("tax", Day(3))));
}

TEST(EventTagTest, LateEventTagTtlRunsFromTheEventTime) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(5), "tick"));
  h.Apply(Ev("e2", "m", Day(4), "content.read").Attr("topic", "tax"));
  h.Advance("m", Day(6) - 1);  // D4 + 2d = D6 not reached
  h.Advance("m", Day(6));
  // Added at tau (D5), removed at D6 = D4 + 2d (not D5 + 2d).
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(5)), TagRemoved("tax", Day(6))));
}

TEST(EventTagTest, LateRefreshDoesNotShortenTheTtl) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(5), "content.read").Attr("topic", "tax"));
  h.Apply(Ev("e2", "m", Day(4), "content.read").Attr("topic", "tax"));
  // last_set stays D5 (the later time): removed at D7, not D6.
  h.Advance("m", Day(6));
  h.Advance("m", Day(7));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(5)), TagRemoved("tax", Day(7))));
}

TEST(EventTagTest, LateEventWhoseTtlHasPassedIsRemovedByTheSameApply) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(5), "tick"));
  h.Apply(Ev("e2", "m", Day(1), "content.read").Attr("topic", "tax"));
  // Set in step 4 at tau D5; step 5 at D5 >= D1 + 2d removes it.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(5)), TagRemoved("tax", Day(5))));
}

TEST(EventTagTest, EventTagWithoutTtlStaysForGood) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(0), "join"));
  h.Advance("m", Day(1000));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("joined", Day(0))));
  EXPECT_TRUE(h.HasTag("m", "joined", Day(1000)));
}

TEST(EventTagTest, TtlExpiryRunsInTheEvaluationBeforeAnEvent) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "m", Day(0), "content.read").Attr("topic", "tax"));
  h.Apply(Ev("e2", "m", Day(3), "content.read").Attr("topic", "tax"));
  // Step 2 at D3 removes it (D0 + 2d <= D3); step 4 sets it again.
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("tax", Day(0)), TagRemoved("tax", Day(3)),
                                       TagAdded("tax", Day(3))));
}

// ===========================================================================
// Section 6: lifecycle
// ===========================================================================

constexpr char kChainModel[] = R"pb(
  score { name: "s" }
  rule { name: "x" on: "x" score: "s" points: 35 }
  rule { name: "y" on: "y" score: "s" points: 15 }
  lifecycle {
    initial: "new"
    stage: [ "new", "active", "engaged", "mql", "customer", "vip" ]
    transition { from: "new" to: "active" when: "score.s >= 10.0" }
    transition { from: "active" to: "engaged" when: "score.s >= 20.0" }
    transition { from: "engaged" to: "mql" when: "score.s >= 30.0" }
    transition { from: "*" to: "customer" on: "order.paid" }
    transition { from: "customer" to: "vip" on: "order.paid" }
  }
)pb";

TEST(LifecycleTest, TransitionsChainWithinOneEvaluation) {
  LS_HARNESS(h, kChainModel);
  h.Apply(Ev("e1", "m", Day(1), "x"));  // s = 35
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "active", Day(1)),
                                       StageChanged("active", "engaged", Day(1)),
                                       StageChanged("engaged", "mql", Day(1))));
  EXPECT_EQ(h.Stage("m", Day(1)), "mql");
  EXPECT_EQ(h.View("m", Day(1)).stage_since, Day(1));
}

TEST(LifecycleTest, ChainStopsWhereNoTransitionFires) {
  LS_HARNESS(h, kChainModel);
  h.Apply(Ev("e1", "m", Day(1), "y"));  // s = 15: active, not engaged
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "active", Day(1))));
}

TEST(LifecycleTest, StageChangeCarriesTheTransitionIndex) {
  LS_HARNESS(h, kChainModel);
  h.Apply(Ev("e1", "m", Day(1), "y"));
  ASSERT_EQ(h.rec().changes.size(), 1u);
  EXPECT_EQ(h.rec().changes[0].transition, 0);
  h.Apply(Ev("e2", "m", Day(2), "order.paid"));
  ASSERT_EQ(h.rec().changes.size(), 2u);
  EXPECT_EQ(h.rec().changes[1].transition, 3);
}

TEST(LifecycleTest, FirstTransitionInModelOrderWins) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "x" score: "s" points: 1 }
    lifecycle {
      initial: "new"
      stage: [ "new", "b", "a" ]
      transition { from: "new" to: "a" when: "score.s >= 1.0" }
      transition { from: "new" to: "b" when: "score.s >= 1.0" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "a", Day(0))));
}

constexpr char kCycleModel[] = R"pb(
  score { name: "s" }
  lifecycle {
    initial: "a"
    stage: [ "a", "b", "c" ]
    transition { from: "a" to: "b" when: "score.s >= 0.0" }
    transition { from: "b" to: "a" when: "score.s >= 0.0" }
  }
)pb";

TEST(LifecycleTest, EachStageIsVisitedAtMostOncePerEvaluation) {
  LS_HARNESS(h, kCycleModel);
  h.Apply(Ev("e1", "m", Day(0), "x"));
  // a -> b; b -> a is not eligible (a, the starting stage, was visited).
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("a", "b", Day(0))));
  h.ClearChanges();
  h.Advance("m", Day(1));  // a new evaluation: b -> a, then a -> b blocked
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("b", "a", Day(1))));
}

TEST(LifecycleTest, TransitionToAVisitedStageIsSkippedForTheNextOne) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "a"
      stage: [ "a", "b", "c" ]
      transition { from: "a" to: "b" when: "score.s >= 0.0" }
      transition { from: "b" to: "a" when: "score.s >= 0.0" }
      transition { from: "b" to: "c" when: "score.s >= 0.0" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("a", "b", Day(0)),
                                       StageChanged("b", "c", Day(0))));
}

TEST(LifecycleTest, TransitionToTheCurrentStageDoesNotFire) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "a"
      stage: [ "a", "b" ]
      transition { from: "*" to: "a" when: "score.s >= 0.0" }
      transition { from: "a" to: "b" on: "go" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Advance("m", Day(5));
  EXPECT_THAT(h.Changes(), IsEmpty());
  EXPECT_EQ(h.View("m", Day(5)).stage_since, Day(0));
}

TEST(LifecycleTest, EventTransitionToTheCurrentStageIsSkippedForTheNextOne) {
  LS_HARNESS(h, kChainModel);
  h.Apply(Ev("e1", "m", Day(1), "order.paid"));  // * -> customer
  h.Apply(Ev("e2", "m", Day(2), "order.paid"));  // * -> customer skipped; -> vip
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "customer", Day(1)),
                                       StageChanged("customer", "vip", Day(2))));
  EXPECT_EQ(h.View("m", Day(2)).stage_since, Day(2));
}

TEST(LifecycleTest, EventTransitionsFireOnlyOnEvents) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "new"
      stage: [ "new", "won" ]
      transition { from: "new" to: "won" on: "deal" when: "event.value >= 100" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "deal").Value(50));  // when fails
  h.Advance("m", Day(1));                              // no event: never
  EXPECT_THAT(h.Changes(), IsEmpty());
  h.Apply(Ev("e2", "m", Day(2), "deal").Value(100));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "won", Day(2))));
}

TEST(LifecycleTest, EventTransitionWithAConditionIsNotCheckedByEvaluations) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "x" score: "s" points: 1 }
    lifecycle {
      initial: "new"
      stage: [ "new", "won" ]
      transition { from: "new" to: "won" on: "deal" when: "score.s >= 1.0" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));  // s = 1: the `when` holds, no `deal`
  h.Advance("m", Day(1));
  EXPECT_THAT(h.Changes(), IsEmpty());
  h.Apply(Ev("e2", "m", Day(2), "deal"));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "won", Day(2))));
}

TEST(LifecycleTest, AtMostOneEventTransitionFiresPerEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "new"
      stage: [ "new", "a", "b" ]
      transition { from: "new" to: "a" on: "go" }
      transition { from: "a" to: "b" on: "go" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "go"));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "a", Day(0))));
  h.Apply(Ev("e2", "m", Day(1), "go"));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "a", Day(0)),
                                       StageChanged("a", "b", Day(1))));
}

TEST(LifecycleTest, StepFourConsidersOnlyTransitionsWithOn) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "x" score: "s" points: 1 }
    lifecycle {
      initial: "new"
      stage: [ "new", "a", "b" ]
      transition { from: "new" to: "a" when: "score.s >= 1.0" }
      transition { from: "new" to: "b" on: "x" }
    }
  )pb");
  // Step 4: only the `on` transition is a candidate: new -> b. Step 5: the
  // `when` transition is from new, and the member is in b now.
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "b", Day(0))));
}

TEST(LifecycleTest, EvaluationAfterAnEventTransitionContinuesTheChain) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "new"
      stage: [ "new", "a", "b" ]
      transition { from: "new" to: "a" on: "go" }
      transition { from: "a" to: "b" when: "score.s >= 0.0" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "go"));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "a", Day(0)),
                                       StageChanged("a", "b", Day(0))));
}

TEST(LifecycleTest, FromStarHoldsInEveryStage) {
  LS_HARNESS(h, kChainModel);
  h.Apply(Ev("e1", "a", Day(1), "x"));            // a: mql
  h.Apply(Ev("e2", "a", Day(2), "order.paid"));   // mql -> customer
  h.Apply(Ev("e3", "b", Day(2), "order.paid"));   // b: new -> customer
  EXPECT_EQ(h.Stage("a", Day(2)), "customer");
  EXPECT_EQ(h.Stage("b", Day(2)), "customer");
}

TEST(LifecycleTest, FromListHoldsInEachListedStageOnly) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "a"
      stage: [ "a", "b", "c", "d" ]
      transition { from: "a" to: "b" on: "ab" }
      transition { from: "c" to: "b" on: "cb" }
      transition { from: "a" to: "d" on: "ad" }
      transition { from: [ "a", "b" ] to: "c" on: "go" }
    }
  )pb");
  h.Apply(Ev("e1", "m1", Day(0), "go"));  // a -> c
  h.Apply(Ev("e2", "m2", Day(0), "ab"));  // a -> b
  h.Apply(Ev("e3", "m2", Day(1), "go"));  // b -> c
  h.Apply(Ev("e4", "m1", Day(1), "cb"));  // c -> b
  h.Apply(Ev("e5", "m3", Day(0), "ad"));  // a -> d
  h.Apply(Ev("e6", "m3", Day(1), "go"));  // d: not in [a, b]
  EXPECT_EQ(h.Stage("m1", Day(1)), "b");
  EXPECT_EQ(h.Stage("m2", Day(1)), "c");
  EXPECT_EQ(h.Stage("m3", Day(1)), "d");
}

TEST(LifecycleTest, StageSinceIsTheTimeTheStageWasEntered) {
  LS_HARNESS(h, kChainModel);
  h.Apply(Ev("e1", "m", Day(1), "y"));     // active at D1
  h.Apply(Ev("e2", "m", Day(3), "tick"));  // no change
  EXPECT_EQ(h.Stage("m", Day(3)), "active");
  EXPECT_EQ(h.View("m", Day(3)).stage_since, Day(1));
}

TEST(LifecycleTest, StageAgeMeasuresTimeSinceTheStageWasEntered) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "new"
      stage: [ "new", "stale" ]
      transition { from: "new" to: "stale" when: "stage_age >= duration('3d')" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));  // new since D0
  h.Advance("m", Day(3) - 1);
  EXPECT_THAT(h.Changes(), IsEmpty());
  h.Advance("m", Day(3));
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("new", "stale", Day(3))));
  EXPECT_EQ(h.View("m", Day(3)).stage_since, Day(3));
}

TEST(LifecycleTest, StarEventTransitionMatchesAnyEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    lifecycle {
      initial: "active"
      stage: [ "active", "dormant" ]
      transition { from: "active" to: "dormant" when: "idle >= duration('30d')" }
      transition { from: "dormant" to: "active" on: "*" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Advance("m", Day(30));                    // idle 30d: dormant
  h.Apply(Ev("e2", "m", Day(31), "whatever"));  // step 4: dormant -> active
  EXPECT_THAT(h.Changes(), ElementsAre(StageChanged("active", "dormant", Day(30)),
                                       StageChanged("dormant", "active", Day(31))));
}

// ===========================================================================
// Section 6: flags
// ===========================================================================

std::string FlagModel(const std::string& flag) {
  return R"pb(
    score { name: "s" }
    rule { name: "up10" on: "up10" score: "s" points: 10 }
    rule { name: "up50" on: "up50" score: "s" points: 50 }
    rule { name: "down10" on: "down10" score: "s" points: -10 }
    rule { name: "down50" on: "down50" score: "s" points: -50 }
  )pb" + flag;
}
const std::string kHysteresis =
    FlagModel(R"pb(flag { name: "hot" when: "score.s >= 100.0" rearm: "score.s < 70.0" })pb");
const std::string kCooldown =
    FlagModel(R"pb(flag { name: "hot" when: "score.s >= 100.0" cooldown: "2d" })pb");
const std::string kBoth = FlagModel(
    R"pb(flag { name: "hot" when: "score.s >= 100.0" rearm: "score.s < 70.0" cooldown: "2d" })pb");
const std::string kNeither = FlagModel(R"pb(flag { name: "hot" when: "score.s >= 100.0" })pb");

TEST(FlagTest, FlagsStartArmed) {
  LS_HARNESS(h, kHysteresis);
  h.Apply(Ev("e1", "m", Day(0), "up10"));
  MemberView::Flag f = h.Flag("m", "hot", Day(0));
  EXPECT_TRUE(f.armed);
  EXPECT_EQ(f.raised, 0);
  EXPECT_FALSE(f.has_last_raised);
}

TEST(FlagTest, FlagIsRaisedWhenItsConditionHoldsWhileArmed) {
  LS_HARNESS(h, kHysteresis);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(1), "up50"));  // 100
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(1))));
  MemberView::Flag f = h.Flag("m", "hot", Day(1));
  EXPECT_FALSE(f.armed);
  EXPECT_EQ(f.raised, 1);
  EXPECT_TRUE(f.has_last_raised);
  EXPECT_EQ(f.last_raised, Day(1));
}

TEST(FlagTest, FlagIsRaisedOnlyOnceWhileItsConditionKeepsHolding) {
  LS_HARNESS(h, kHysteresis);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(1), "up50"));
  h.Apply(Ev("e3", "m", Day(2), "up10"));
  h.Advance("m", Day(30));
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(1))));
}

TEST(FlagTest, HysteresisDoesNotRearmAtTheRearmLevel) {
  LS_HARNESS(h, kHysteresis);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(1), "up50"));  // raise at 100
  for (int i = 0; i < 3; ++i) h.Apply(Ev("d" + std::to_string(i), "m", Day(2), "down10"));
  // 70 is not < 70: still disarmed; back to 120: no raise.
  h.Apply(Ev("e3", "m", Day(3), "up50"));
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(1))));
  EXPECT_EQ(h.Flag("m", "hot", Day(3)).raised, 1);
}

TEST(FlagTest, HysteresisRearmsBelowTheRearmLevelAndRaisesAgain) {
  LS_HARNESS(h, kHysteresis);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(1), "up50"));    // 100: raise
  h.Apply(Ev("e3", "m", Day(2), "down50"));  // 50 < 70: re-armed
  h.Apply(Ev("e4", "m", Day(3), "up50"));    // 100: raise again
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(1)), FlagRearmed("hot", Day(2)),
                                       FlagRaised("hot", Day(3))));
  EXPECT_EQ(h.Flag("m", "hot", Day(3)).raised, 2);
}

TEST(FlagTest, CooldownAloneRearmsOnceTheCooldownHasPassed) {
  LS_HARNESS(h, kCooldown);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(0), "up50"));    // 100: raise at D0
  h.Apply(Ev("e3", "m", Day(0), "down50"));  // 50
  h.Advance("m", Day(2) - 1);                 // cooldown not passed
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0))));
  h.Advance("m", Day(2));                     // D2 - D0 >= 2d: re-armed
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0)), FlagRearmed("hot", Day(2))));
  EXPECT_TRUE(h.Flag("m", "hot", Day(2)).armed);
}

TEST(FlagTest, RearmAndRaiseHappenInOneEvaluationWhenTheConditionStillHolds) {
  LS_HARNESS(h, kCooldown);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(0), "up50"));  // raise at D0; s stays 100
  h.Advance("m", Day(2));                   // level, not edge: re-arm, raise
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0)), FlagRearmed("hot", Day(2)),
                                       FlagRaised("hot", Day(2))));
  EXPECT_EQ(h.Flag("m", "hot", Day(2)).raised, 2);
  EXPECT_EQ(h.Flag("m", "hot", Day(2)).last_raised, Day(2));
}

TEST(FlagTest, WithRearmAndCooldownTheCooldownMustAlsoPass) {
  LS_HARNESS(h, kBoth);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(0), "up50"));    // raise at D0
  h.Apply(Ev("e3", "m", Day(1), "down50"));  // 50 < 70, but only 1d passed
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0))));
  h.Advance("m", Day(2));                     // both hold now
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0)), FlagRearmed("hot", Day(2))));
}

TEST(FlagTest, WithRearmAndCooldownTheRearmConditionMustAlsoHold) {
  LS_HARNESS(h, kBoth);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(0), "up50"));    // raise at D0
  h.Advance("m", Day(5));                     // cooldown passed; 100 >= 70
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0))));
  h.Apply(Ev("e3", "m", Day(6), "down50"));  // 50 < 70: re-armed in step 5
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0)), FlagRearmed("hot", Day(6))));
}

TEST(FlagTest, WithoutRearmOrCooldownAFlagIsRaisedAtMostOnceEver) {
  LS_HARNESS(h, kNeither);
  h.Apply(Ev("e1", "m", Day(0), "up50"));
  h.Apply(Ev("e2", "m", Day(0), "up50"));  // raise
  h.Apply(Ev("e3", "m", Day(1), "down50"));
  h.Apply(Ev("e4", "m", Day(1), "down50"));  // 0
  h.Advance("m", Day(100));
  h.Apply(Ev("e5", "m", Day(101), "up50"));
  h.Apply(Ev("e6", "m", Day(101), "up50"));  // 100 again
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(0))));
  EXPECT_FALSE(h.Flag("m", "hot", Day(101)).armed);
  EXPECT_EQ(h.Flag("m", "hot", Day(101)).raised, 1);
}

TEST(FlagTest, RaiseTimeIsTheEvaluationTime) {
  LS_HARNESS(h, kNeither);
  h.Apply(Ev("e1", "m", Day(5), "up50"));
  h.Apply(Ev("e2", "m", Day(3), "up50"));  // late: tau = D5
  EXPECT_THAT(h.Changes(), ElementsAre(FlagRaised("hot", Day(5))));
}

TEST(FlagTest, RaiseCarriesEveryScoreIncludingDerivedOnes) {
  LS_HARNESS(h, R"pb(
    score { name: "a" half_life: "1d" }
    score { name: "lead" formula: "score.a + score.b" }
    score { name: "b" }
    rule { name: "ra" on: "a" score: "a" points: 80 }
    rule { name: "rb" on: "b" score: "b" points: 60 }
    flag { name: "f" when: "score.lead >= 100.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "a"));
  h.Apply(Ev("e2", "m", Day(1), "b"));
  // At D1: a = 80/2 = 40, b = 60, lead = 100: raise; scores in model order.
  ASSERT_THAT(h.Changes(), ElementsAre(FlagRaised("f", Day(1))));
  const std::vector<double>& s = h.rec().changes[0].scores;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], 40.0, kEps);
  EXPECT_NEAR(s[1], 100.0, kEps);
  EXPECT_NEAR(s[2], 60.0, kEps);
}

// ===========================================================================
// Section 6: top reasons of a raise
// ===========================================================================

std::vector<std::string> ReasonStrings(const Rec& r) {
  std::vector<std::string> out;
  for (const RecReason& x : r.reasons) {
    char buf[64];
    snprintf(buf, sizeof buf, "%g", x.points);
    out.push_back(x.rule + "/" + x.score + "=" + buf);
  }
  return out;
}

const Rec* FirstRaise(Harness& h) {
  for (const Rec& r : h.rec().changes) {
    if (r.kind == ChangeKind::kFlagRaised) return &r;
  }
  return nullptr;
}

TEST(TopReasonsTest, LargestValuesComeFirstAndThreeAreListedByDefault) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" }
    rule { name: "small" on: "small" score: "eng" points: 10 }
    rule { name: "big" on: "big" score: "eng" points: 40 }
    rule { name: "mid" on: "mid" score: "eng" points: 25 }
    rule { name: "tiny" on: "tiny" score: "eng" points: 5 }
    flag { name: "f" when: "score.eng >= 80.0" }
  )pb");
  for (const char* t : {"small", "big", "mid", "tiny"}) h.Apply(Ev(t, "m", Day(0), t));
  // 10 + 40 + 25 + 5 = 80: raised; top 3 of {big 40, mid 25, small 10, tiny 5}.
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(ReasonStrings(*r), ElementsAre("big/eng=40", "mid/eng=25", "small/eng=10"));
}

TEST(TopReasonsTest, TiesAreOrderedByRuleName) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" }
    rule { name: "zeta" on: "x" score: "eng" points: 30 }
    rule { name: "alpha" on: "x" score: "eng" points: 30 }
    rule { name: "mu" on: "x" score: "eng" points: 30 }
    flag { name: "f" when: "score.eng >= 90.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(ReasonStrings(*r), ElementsAre("alpha/eng=30", "mu/eng=30", "zeta/eng=30"));
}

TEST(TopReasonsTest, ValuesEqualUpToFloatingNoiseTieAndGoByName) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" }
    score { name: "fit" }
    score { name: "lead" formula: "score.eng + score.fit" }
    rule { name: "a_first" on: "x" score: "eng" points: 7.7 }
    rule { name: "b_rule" on: "x" score: "eng" points: 5 }
    fit { name: "z_fit" when: "member.k == 'v'" score: "fit" points: 5 }
    flag { name: "f" when: "score.lead >= 10.0" top_reasons: 2 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("k", "v"));
  // b_rule grants clamp(7.7 + 5) - 7.7 = 4.999999999999999 in doubles, 5 in
  // exact arithmetic: it ties with z_fit's 5 and wins the second place by
  // name (lead = 7.7 + 5 + 5 = 17.7 >= 10).
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->reasons.size(), 2u);
  EXPECT_EQ(r->reasons[0].rule, "a_first");
  EXPECT_EQ(r->reasons[1].rule, "b_rule");
}

TEST(TopReasonsTest, ZeroEntriesAreLeftOutAndNegativeOnesComeLast) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" }
    score { name: "fit" }
    rule { name: "zero" on: "x" score: "eng" points: 0 }
    rule { name: "neg" on: "x" score: "eng" points: -5 }
    rule { name: "pos" on: "x" score: "eng" points: 20 }
    fit { name: "nothing" when: "member.role == 'dm'" score: "fit" points: 0 }
    flag { name: "f" when: "score.eng + score.fit >= 15.0" top_reasons: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x").Profile("role", "dm"));
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(ReasonStrings(*r), ElementsAre("pos/eng=20", "neg/eng=-5"));
}

TEST(TopReasonsTest, TopReasonsSetsHowManyAreListed) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" }
    rule { name: "a" on: "x" score: "eng" points: 30 }
    rule { name: "b" on: "x" score: "eng" points: 20 }
    rule { name: "c" on: "x" score: "eng" points: 10 }
    flag { name: "f" when: "score.eng >= 60.0" top_reasons: 2 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(ReasonStrings(*r), ElementsAre("a/eng=30", "b/eng=20"));
}

TEST(TopReasonsTest, OnlyScoresTheFlagReadsThroughDerivedScoresCount) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" }
    score { name: "other" }
    score { name: "fit" }
    score { name: "fit2" }
    score { name: "lead" formula: "score.eng + score.fit" }
    rule { name: "post" on: "post" score: "eng" points: 30 }
    rule { name: "huge" on: "post" score: "other" points: 1000 }
    fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 50 }
    fit { name: "dm2" when: "member.role == 'dm'" score: "fit2" points: 500 }
    flag { name: "ready" when: "score.lead >= 80.0" top_reasons: 5 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "post").Profile("role", "dm"));
  // lead = 30 + 50 = 80: raised. Reasons: fit rule dm (50), rule post (30);
  // not huge (score other) nor dm2 (score fit2): the flag does not read them.
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(ReasonStrings(*r), ElementsAre("dm/fit=50", "post/eng=30"));
}

TEST(TopReasonsTest, DerivedScoresAreFollowedTransitively) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" }
    score { name: "fit" }
    score { name: "lead" formula: "score.eng + score.fit" }
    score { name: "lead2" formula: "score.lead * 1" }
    rule { name: "post" on: "post" score: "eng" points: 30 }
    fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 50 }
    flag { name: "ready" when: "score.lead2 >= 80.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "post").Profile("role", "dm"));
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(ReasonStrings(*r), ElementsAre("dm/fit=50", "post/eng=30"));
}

TEST(TopReasonsTest, ValuesAreLedgerValuesAtTheRaiseTime) {
  LS_HARNESS(h, R"pb(
    score { name: "eng" half_life: "1d" }
    rule { name: "a" on: "a" score: "eng" points: 80 }
    rule { name: "b" on: "b" score: "eng" points: 60 }
    flag { name: "f" when: "score.eng >= 100.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "a"));  // 80: no raise
  h.Apply(Ev("e2", "m", Day(1), "b"));  // 80/2 + 60 = 100: raise at D1
  const Rec* r = FirstRaise(h);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->time, Day(1));
  EXPECT_THAT(ReasonStrings(*r), ElementsAre("b/eng=60", "a/eng=40"));
}

// ===========================================================================
// Section 7: names in conditions, as the engine supplies them
// ===========================================================================

TEST(IdleTest, IdleIsZeroForTheFirstEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "first" on: "*" when: "idle == duration('0s')" score: "s" points: 1 }
    rule { name: "comeback" on: "*" when: "idle >= duration('30d')" score: "s" points: 5 }
  )pb");
  h.Apply(Ev("e1", "m", Day(100), "x"));
  EXPECT_EQ(h.Score("m", "s", Day(100)), 1);
}

TEST(IdleTest, IdleInEventRulesIsTheTimeSinceThePreviousEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "comeback" on: "*" when: "idle >= duration('30d')" score: "s" points: 5 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Apply(Ev("e2", "m", Day(29), "x"));  // idle 29d
  h.Apply(Ev("e3", "m", Day(60), "x"));  // idle 31d (since D29, not D0)
  EXPECT_EQ(h.Score("m", "s", Day(60)), 5);
}

TEST(IdleTest, StepFourSeesIdleBeforeTheEventAndStepFiveAfterIt) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "comeback" on: "*" when: "idle >= duration('30d')" score: "s" points: 5 }
    tag { name: "dormant" when: "idle >= duration('30d')" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Advance("m", Day(30));               // idle 30d: dormant
  h.Apply(Ev("e2", "m", Day(40), "x"));  // step 2: idle 40d, still dormant;
                                          // step 4: rule sees 40d: +5;
                                          // step 5: idle 0: not dormant
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("dormant", Day(30)),
                                       TagRemoved("dormant", Day(40))));
  EXPECT_EQ(h.Score("m", "s", Day(40)), 5);
}

TEST(IdleTest, LateEventDoesNotMakeTheMemberLookIdle) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "comeback" on: "*" when: "idle >= duration('3d')" score: "s" points: 5 }
    tag { name: "dormant" when: "idle >= duration('30d')" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Apply(Ev("e2", "m", Day(10), "x"));  // idle 10d: +5
  h.Apply(Ev("e3", "m", Day(5), "x"));   // late: idle = tau D10 - D10 = 0
  EXPECT_EQ(h.Score("m", "s", Day(10)), 5);
  EXPECT_EQ(h.View("m", Day(10)).last_event_time, Day(10));
  // From the latest event (D10): idle at D39 is 29d, not 34d.
  h.Advance("m", Day(39));
  EXPECT_THAT(h.Changes(), IsEmpty());
  h.Advance("m", Day(40));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("dormant", Day(40))));
}

TEST(ConditionNamesTest, EventFieldsAreReadByRuleConditions) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule {
      name: "r"
      on: "x"
      when: "event.group == 'g1' && event.channel == 'web' && event.attrs.topic == 'tax' && event.type == 'x'"
      score: "s"
      points: 1
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x").Group("g1").Channel("web").Attr("topic", "tax"));
  h.Apply(Ev("e2", "m", Day(0), "x").Group("g1").Channel("app").Attr("topic", "tax"));
  h.Apply(Ev("e3", "m", Day(0), "x").Channel("web").Attr("topic", "tax"));
  EXPECT_EQ(h.Score("m", "s", Day(0)), 1);
}

TEST(ConditionNamesTest, StageAndTagsAreReadByRuleConditions) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "in_b" on: "x" when: "stage == 'b'" score: "s" points: 1 }
    rule { name: "tagged" on: "x" when: "'t' in tags" score: "s" points: 10 }
    tag { name: "t" on: "mark" }
    lifecycle {
      initial: "a"
      stage: [ "a", "b" ]
      transition { from: "a" to: "b" on: "go" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));     // stage a, no tag: 0
  h.Apply(Ev("e2", "m", Day(0), "go"));
  h.Apply(Ev("e3", "m", Day(0), "x"));     // stage b: +1
  h.Apply(Ev("e4", "m", Day(0), "mark"));
  h.Apply(Ev("e5", "m", Day(0), "x"));     // b and t: +11
  EXPECT_EQ(h.Score("m", "s", Day(0)), 12);
}

TEST(ConditionNamesTest, ScoresInConditionsAreDecayedToNow) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    score { name: "b" }
    rule { name: "p" on: "p" score: "s" points: 8 }
    rule { name: "q" on: "q" when: "score.s < 4.5" score: "b" points: 1 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "p"));
  h.Apply(Ev("e2", "m", Day(0) + Hours(12), "q"));  // 8 * 2^-0.5 = 5.66: no
  h.Apply(Ev("e3", "m", Day(1), "q"));              // 8 * 2^-1 = 4: yes
  EXPECT_EQ(h.Score("m", "b", Day(1)), 1);
}

TEST(ConditionNamesTest, IntegerDivisionByZeroMakesAConditionFalseNotAnError) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    counter { name: "c" on: "x" }
    rule { name: "div" on: "x" when: "counter.c / 0 >= 0" score: "s" points: 1 }
    rule { name: "not_div" on: "x" when: "!(counter.c / 0 >= 0)" score: "s" points: 10 }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  // The missing value makes the comparison false (note 17); the negation of
  // that false comparison holds. The model never fails while scoring.
  EXPECT_EQ(h.Score("m", "s", Day(0)), 10);
}

TEST(ConditionNamesTest, UnknownNamesAreReportedAtLoadWithFileLineAndColumn) {
  std::vector<Diagnostic> diags;
  auto m = Model::LoadText(
      "score { name: \"s\" }\n"
      "rule { name: \"r\" on: \"x\" score: \"s\" points: 1 when: \"score.nope > 1\" }\n",
      "m.textproto", &diags);
  ASSERT_FALSE(m.ok());
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags[0].file, "m.textproto");
  EXPECT_EQ(diags[0].line, 2);
  EXPECT_GT(diags[0].column, 0);
  EXPECT_NE(diags[0].message.find("nope"), std::string::npos) << diags[0].ToString();
}

// ===========================================================================
// Model checks the engine relies on (notes 12, 14, 23; section 4)
// ===========================================================================

bool Loads(const std::string& text) { return Model::LoadText(text, "m.textproto").ok(); }

TEST(EngineModelCheckTest, CapOnARuleWithNegativePointsIsAModelError) {
  EXPECT_FALSE(Loads(R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" score: "s" points: -1 cap { max_points: 5 } }
  )pb"));
}

TEST(EngineModelCheckTest, CapWithNonPositiveMaxPointsIsAModelError) {
  EXPECT_FALSE(Loads(R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" score: "s" points: 1 cap { max_points: 0 window: "1d" } }
  )pb"));
}

TEST(EngineModelCheckTest, FitScoreWithAHalfLifeIsAModelError) {
  EXPECT_FALSE(Loads(R"pb(
    score { name: "fit" half_life: "1d" }
    fit { name: "f" when: "member.role == 'dm'" score: "fit" points: 1 }
  )pb"));
}

TEST(EngineModelCheckTest, EventRuleOnAFitScoreIsAModelError) {
  EXPECT_FALSE(Loads(R"pb(
    score { name: "fit" }
    fit { name: "f" when: "member.role == 'dm'" score: "fit" points: 1 }
    rule { name: "r" on: "x" score: "fit" points: 1 }
  )pb"));
}

TEST(EngineModelCheckTest, TtlOnAStateTagIsAModelError) {
  EXPECT_FALSE(Loads(R"pb(
    score { name: "s" }
    tag { name: "t" when: "score.s > 1.0" ttl: "1d" }
  )pb"));
}

TEST(EngineModelCheckTest, ANameIsEitherAStateTagOrAnEventTag) {
  EXPECT_FALSE(Loads(R"pb(
    score { name: "s" }
    tag { name: "t" when: "score.s > 1.0" }
    tag { name: "t" on: "x" }
  )pb"));
}

// ===========================================================================
// Section 8: the order of applying one event
// ===========================================================================

TEST(ApplyOrderTest, EventTagConditionSeesPointsOfThisEventsRules) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" score: "s" points: 10 }
    tag { name: "big" on: "x" when: "score.s >= 10.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("big", Day(0))));
}

TEST(ApplyOrderTest, RulesDoNotSeeEventTagsSetByTheSameEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" when: "'t' in tags" score: "s" points: 1 }
    tag { name: "t" on: "x" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));  // rules before event tags: 0
  EXPECT_EQ(h.Score("m", "s", Day(0)), 0);
  h.Apply(Ev("e2", "m", Day(0), "x"));  // tag held now: +1
  EXPECT_EQ(h.Score("m", "s", Day(0)), 1);
}

TEST(ApplyOrderTest, EventTransitionSeesEventTagsSetByTheSameEvent) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    tag { name: "t" on: "x" }
    lifecycle {
      initial: "new"
      stage: [ "new", "a" ]
      transition { from: "new" to: "a" on: "x" when: "'t' in tags" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("t", Day(0)), StageChanged("new", "a", Day(0))));
}

TEST(ApplyOrderTest, CountersAreUpdatedBeforeEventTagsAndTransitions) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    counter { name: "c" on: "x" }
    tag { name: "t" on: "x" when: "counter.c >= 2" }
    lifecycle {
      initial: "new"
      stage: [ "new", "a" ]
      transition { from: "new" to: "a" on: "x" when: "counter.c >= 2" }
    }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "x"));
  h.Apply(Ev("e2", "m", Day(1), "x"));  // counter 2 already in step 4
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("t", Day(1)), StageChanged("new", "a", Day(1))));
}

TEST(ApplyOrderTest, ChangesOfOneEventComeInStepOrder) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "r" on: "x" score: "s" points: 10 }
    tag { name: "t" on: "mark" ttl: "1d" }
    tag { name: "seen" on: "x" }
    tag { name: "hot" when: "score.s >= 10.0" }
    lifecycle {
      initial: "new"
      stage: [ "new", "active" ]
      transition { from: "new" to: "active" when: "'hot' in tags" }
    }
    flag { name: "f" when: "stage == 'active'" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "mark"));
  h.ClearChanges();
  h.Apply(Ev("e2", "m", Day(1), "x"));
  // Step 2 at D1: t expires. Step 4: +10, event tag seen. Step 5: state tag
  // hot, then the stage, then the flag.
  EXPECT_THAT(h.Changes(),
              ElementsAre(TagRemoved("t", Day(1)), TagAdded("seen", Day(1)),
                          TagAdded("hot", Day(1)), StageChanged("new", "active", Day(1)),
                          FlagRaised("f", Day(1))));
}

TEST(ChangeOrderTest, EvaluationRunsTtlStateTagsStagesThenFlags) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    tag { name: "t" on: "mark" ttl: "1d" }
    tag { name: "no_t" when: "!('t' in tags)" }
    lifecycle {
      initial: "new"
      stage: [ "new", "x" ]
      transition { from: "new" to: "x" when: "'no_t' in tags" }
    }
    flag { name: "f" when: "stage == 'x'" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "mark"));
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("t", Day(0))));
  h.ClearChanges();
  h.Advance("m", Day(1));
  // Each step sees the one before it in the same evaluation.
  EXPECT_THAT(h.Changes(), ElementsAre(TagRemoved("t", Day(1)), TagAdded("no_t", Day(1)),
                                       StageChanged("new", "x", Day(1)),
                                       FlagRaised("f", Day(1))));
}

// ===========================================================================
// Advancing and reading
// ===========================================================================

TEST(AdvanceTest, AdvanceRunsOneEvaluationAtTheGivenTime) {
  LS_HARNESS(h, R"pb(
    score { name: "s" half_life: "1d" }
    rule { name: "p" on: "p" score: "s" points: 8 }
    tag { name: "cold" when: "score.s < 4.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(0), "p"));
  h.Advance("m", Day(1));  // 4: not cold
  h.Advance("m", Day(2));  // 2: cold
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("cold", Day(2))));
  EXPECT_EQ(h.View("m", Day(0)).clock, Day(2));
}

TEST(AdvanceTest, AdvancingAnUnknownMemberReturnsFalseAndCreatesNothing) {
  LS_HARNESS(h, kCountModel);
  EXPECT_FALSE(h.Advance("nobody", Day(1)));
  EXPECT_THAT(h.store().MemberIds(), IsEmpty());
}

TEST(AdvanceTest, AdvanceToAnEarlierTimeEvaluatesAtTheClock) {
  LS_HARNESS(h, R"pb(
    score { name: "s" }
    rule { name: "p" on: "x" score: "s" points: 1 }
    tag { name: "b" when: "'a' in tags" }
    tag { name: "a" when: "score.s >= 1.0" }
  )pb");
  h.Apply(Ev("e1", "m", Day(5), "x"));  // a added; b not yet (model order)
  h.ClearChanges();
  h.Advance("m", Day(1));  // evaluates at max(clock D5, D1) = D5 (note 7)
  EXPECT_THAT(h.Changes(), ElementsAre(TagAdded("b", Day(5))));
  EXPECT_EQ(h.View("m", Day(0)).clock, Day(5));
}

TEST(AdvanceTest, AdvanceAllAdvancesEveryMemberInIdByteOrder) {
  LS_HARNESS(h, kEventTagModel);
  for (const char* m : {"b", "a", "B"}) {
    h.Apply(Ev(std::string("e") + m, m, Day(0), "content.read").Attr("topic", "tax"));
  }
  h.ClearChanges();
  h.AdvanceAll(Day(5));
  ASSERT_EQ(h.rec().changes.size(), 3u);
  EXPECT_EQ(h.rec().changes[0].member, "B");
  EXPECT_EQ(h.rec().changes[1].member, "a");
  EXPECT_EQ(h.rec().changes[2].member, "b");
  for (const Rec& r : h.rec().changes) EXPECT_EQ(Summary(r), TagRemoved("tax", Day(5)));
  for (const char* m : {"b", "a", "B"}) EXPECT_EQ(h.View(m, Day(0)).clock, Day(5));
}

TEST(ReadTest, ReadDoesNotChangeAnything) {
  LS_HARNESS(a, kRichModel);
  LS_HARNESS(b, kRichModel);
  for (const Ev& e : RichEvents()) {
    a.Apply(e);
    b.Apply(e);
    // Reads far ahead, and before the clock, on b only.
    b.store().Read(e.member(), Day(100));
    b.store().Read(e.member(), Day(-100));
  }
  EXPECT_EQ(a.Changes(), b.Changes());
  MemberView va = a.View("m", Day(10));
  MemberView vb = b.View("m", Day(10));
  EXPECT_EQ(va.scores, vb.scores);
  EXPECT_EQ(va.tags, vb.tags);
  EXPECT_EQ(va.stage, vb.stage);
  EXPECT_EQ(va.clock, vb.clock);
  EXPECT_EQ(va.counters, vb.counters);
  ASSERT_EQ(va.flags.size(), vb.flags.size());
  for (size_t i = 0; i < va.flags.size(); ++i) {
    EXPECT_EQ(va.flags[i].armed, vb.flags[i].armed);
    EXPECT_EQ(va.flags[i].raised, vb.flags[i].raised);
  }
}

TEST(ReadTest, ReadingAheadDoesNotMoveTheClock) {
  LS_HARNESS(h, kDecayModel);
  h.Apply(Ev("e1", "m", Day(0), "p"));
  MemberView ahead = h.View("m", Day(3));
  EXPECT_EQ(ahead.time, Day(3));
  EXPECT_NEAR(ahead.scores[0], 1.25, kEps);  // 10 * 2^-3
  MemberView now = h.View("m", Day(0));
  EXPECT_EQ(now.clock, Day(0));
  EXPECT_EQ(now.time, Day(0));
  EXPECT_NEAR(now.scores[0], 10.0, kEps);
}

TEST(ReadTest, ReadReturnsCountersAtTheReadTime) {
  LS_HARNESS(h, kCounterModel);
  h.Apply(Ev("e1", "m", Day(0), "post"));
  EXPECT_EQ(h.Counter("m", "posts_2d", Day(1)), 1);
  EXPECT_EQ(h.Counter("m", "posts_2d", Day(2)), 0);  // (D0, D2]
  EXPECT_EQ(h.Counter("m", "posts", Day(2)), 1);
}

TEST(ReadTest, ReadOfAnUnknownMemberIsEmpty) {
  LS_HARNESS(h, kCountModel);
  EXPECT_FALSE(h.store().Read("nobody", Day(0)).has_value());
}

TEST(ReadTest, ReadReturnsTheWholeMember) {
  LS_HARNESS(h, kRichModel);
  for (const Ev& e : RichEvents()) h.Apply(e);
  MemberView v = h.View("m", Day(10));
  EXPECT_EQ(v.member_id, "m");
  EXPECT_EQ(v.scores.size(), static_cast<size_t>(h.model().num_scores()));
  EXPECT_EQ(v.counters.size(), static_cast<size_t>(h.model().num_counters()));
  EXPECT_EQ(v.flags.size(), static_cast<size_t>(h.model().num_flags()));
  EXPECT_GE(v.stage, 0);
  // lifetime counter "all": 9 events of m.
  EXPECT_EQ(h.Counter("m", "all", Day(10)), 9);
  EXPECT_THAT(v.ledger, Not(IsEmpty()));
}

// ===========================================================================
// Outputs and counts
// ===========================================================================

TEST(OutputTest, StatsCountAppliedEventsMembersAndRaises) {
  LS_HARNESS(h, kNeither);
  h.Apply(Ev("e1", "m1", Day(0), "up50"));
  h.Apply(Ev("e2", "m1", Day(0), "up50"));  // raise
  h.Apply(Ev("e3", "m2", Day(0), "up10"));
  h.Apply(Ev("e3", "m2", Day(0), "up10"));  // duplicate
  const StoreStats& s = h.store().stats();
  EXPECT_EQ(s.events_applied, 3);
  EXPECT_EQ(s.members, 2);
  EXPECT_EQ(s.flags_raised, 1);
  EXPECT_EQ(s.rejected[static_cast<int>(RejectReason::kDuplicate)], 1);
}

TEST(OutputTest, ChangesAreEmittedMemberByMemberInApplicationOrder) {
  LS_HARNESS(h, kEventTagModel);
  h.Apply(Ev("e1", "z", Day(0), "join"));
  h.Apply(Ev("e2", "a", Day(0), "join"));
  ASSERT_EQ(h.rec().changes.size(), 2u);
  EXPECT_EQ(h.rec().changes[0].member, "z");
  EXPECT_EQ(h.rec().changes[1].member, "a");
}

}  // namespace
}  // namespace leadscore::enginetest
