// The analysis helpers of the tools (tools/analysis.h): score bands, a
// flag's threshold, one scoring run kept in memory, and calibration, on a
// log small enough to count by hand.
#include "tools/analysis.h"

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "leadscore/model.h"

namespace leadscore::cli {
namespace {

std::shared_ptr<const Model> Load(const std::string& text) {
  auto model = Model::LoadText(text, "analysis_test.textproto");
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

// --- MakeBands and BandIndex ---------------------------------------------

TEST(MakeBandsTest, RoundStepWithoutThreshold) {
  const auto bands = MakeBands(0, 163.87, false, 0);
  ASSERT_EQ(bands.size(), 9u);
  EXPECT_EQ(bands.front().lo, 0);
  EXPECT_EQ(bands.front().hi, 20);
  EXPECT_EQ(bands.back().lo, 160);
  EXPECT_EQ(bands.back().hi, 180);
}

TEST(MakeBandsTest, QuarterOfTheThresholdWithTheThresholdAnEdge) {
  const auto bands = MakeBands(-100, 203.87, true, 100);
  ASSERT_EQ(bands.size(), 13u);
  EXPECT_EQ(bands.front().lo, -100);
  EXPECT_EQ(bands.back().hi, 225);
  EXPECT_EQ(bands[8].lo, 100);  // [100, 125)
  for (const auto& b : bands) EXPECT_EQ(b.hi - b.lo, 25);
}

// The bug this catches: the width doubled past the threshold and the edges
// stayed at multiples of the width, so the threshold fell inside a band.
TEST(MakeBandsTest, ThresholdStaysAnEdgeWhenTheWidthGrowsPastIt) {
  const auto bands = MakeBands(0, 500, true, 10);
  ASSERT_LE(bands.size(), 16u);
  ASSERT_FALSE(bands.empty());
  EXPECT_EQ(bands[0].hi - bands[0].lo, 40);  // 2.5 doubled four times
  EXPECT_LE(bands.front().lo, 0);
  EXPECT_GT(bands.back().hi, 500);
  bool edge = false;
  for (const auto& b : bands) edge = edge || b.lo == 10;
  EXPECT_TRUE(edge);
  EXPECT_EQ(bands[BandIndex(bands, 10)].lo, 10);
  EXPECT_EQ(bands[BandIndex(bands, 9.99)].hi, 10);
}

TEST(MakeBandsTest, EqualValuesGetOneRoundBand) {
  auto bands = MakeBands(0, 0, false, 0);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_EQ(bands[0].lo, 0);
  EXPECT_EQ(bands[0].hi, 1);
  bands = MakeBands(37, 37, false, 0);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_LE(bands[0].lo, 37);
  EXPECT_GT(bands[0].hi, 37);
}

TEST(MakeBandsTest, NothingForAnEmptyOrNonFiniteRange) {
  EXPECT_TRUE(MakeBands(5, 4, false, 0).empty());
  EXPECT_TRUE(MakeBands(NAN, 4, false, 0).empty());
  EXPECT_TRUE(MakeBands(0, INFINITY, false, 0).empty());
}

TEST(MakeBandsTest, BandsCoverTheRangeWithOneWidthAndAtMostMaxBands) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(-1000, 5000);
  std::uniform_int_distribution<int> max_bands(2, 30);
  for (int i = 0; i < 2000; ++i) {
    double lo = value(rng), hi = value(rng);
    if (hi < lo) std::swap(lo, hi);
    const bool has_threshold = i % 3 != 0;
    const double threshold = i % 6 == 1 ? -value(rng) / 10 : std::fabs(value(rng)) / 7 + 1;
    const int max = max_bands(rng);
    const auto bands = MakeBands(lo, hi, has_threshold, threshold, max);
    ASSERT_FALSE(bands.empty());
    ASSERT_LE(static_cast<int>(bands.size()), max) << lo << " " << hi << " " << threshold;
    EXPECT_LE(bands.front().lo, lo);
    EXPECT_GT(bands.back().hi, hi);
    const double width = bands[0].hi - bands[0].lo;
    for (size_t k = 0; k < bands.size(); ++k) {
      EXPECT_NEAR(bands[k].hi - bands[k].lo, width, 1e-9 * std::max(1.0, width));
      if (k > 0) EXPECT_EQ(bands[k].lo, bands[k - 1].hi);
    }
    if (has_threshold) {
      // The threshold is an edge (of the bands, or just past them).
      const double steps = (threshold - bands[0].lo) / width;
      EXPECT_NEAR(steps, std::round(steps), 1e-6) << lo << " " << hi << " " << threshold;
    }
    for (double v : {lo, hi, (lo + hi) / 2}) {
      const auto& b = bands[BandIndex(bands, v)];
      EXPECT_LE(b.lo, v);
      EXPECT_LT(v, b.hi);
    }
  }
}

TEST(MakeBandsTest, TwoBandsAtLeastWhenAnEdgeFallsInside) {
  const auto bands = MakeBands(-3, 5, false, 0, 1);
  ASSERT_EQ(bands.size(), 2u);
  EXPECT_LE(bands[0].lo, -3);
  EXPECT_EQ(bands[1].lo, 0);
  EXPECT_GT(bands[1].hi, 5);
}

TEST(BandIndexTest, ValuesOutsideGoToTheEndBands) {
  const auto bands = MakeBands(0, 99, false, 0);  // [0, 10) ... [90, 100)
  ASSERT_EQ(bands.size(), 10u);
  EXPECT_EQ(BandIndex(bands, -5), 0u);
  EXPECT_EQ(BandIndex(bands, 0), 0u);
  EXPECT_EQ(BandIndex(bands, 10), 1u);
  EXPECT_EQ(BandIndex(bands, 99.9), 9u);
  EXPECT_EQ(BandIndex(bands, 1e9), 9u);
  EXPECT_EQ(BandIndex({}, 3), 0u);
}

// --- FlagThreshold --------------------------------------------------------

constexpr char kThresholdModel[] = R"pb(
  name: "thresholds"
  score { name: "engagement" }
  score { name: "fit" }
  score { name: "lead" formula: "score.engagement + score.fit" }
  counter { name: "posts" on: "post" }
  fit { name: "dm" when: "member.role == 'dm'" score: "fit" points: 10 }
  tag { name: "vip" when: "score.fit > 5" }
  flag { name: "ready" when: "score.lead >= 100 && !('vip' in tags)" }
  flag { name: "strict" when: "score.engagement > 2.5e1" }
  flag { name: "tagged" when: "'vip' in tags" }
  flag { name: "second" when: "counter.posts >= 3 || score.fit >= -5" }
)pb";

TEST(FlagThresholdTest, FirstScoreComparisonOfTheCondition) {
  auto model = Load(kThresholdModel);
  ASSERT_NE(model, nullptr);
  Threshold t = FlagThreshold(*model, model->FindFlag("ready"));
  EXPECT_TRUE(t.found);
  EXPECT_EQ(t.score, model->FindScore("lead"));
  EXPECT_EQ(t.value, 100);
  t = FlagThreshold(*model, model->FindFlag("strict"));
  EXPECT_TRUE(t.found);
  EXPECT_EQ(t.score, model->FindScore("engagement"));
  EXPECT_EQ(t.value, 25);
  EXPECT_FALSE(FlagThreshold(*model, model->FindFlag("tagged")).found);
  t = FlagThreshold(*model, model->FindFlag("second"));
  EXPECT_TRUE(t.found);
  EXPECT_EQ(t.score, model->FindScore("fit"));
  EXPECT_EQ(t.value, -5);
  EXPECT_FALSE(FlagThreshold(*model, -1).found);
  EXPECT_FALSE(FlagThreshold(*model, 99).found);
}

// --- AnalyzeLog and Calibrate ----------------------------------------------

constexpr char kModel[] = R"pb(
  name: "analysis-test"
  score { name: "engagement" }
  rule { name: "post" on: "post" score: "engagement" points: 10 }
  rule { name: "big" on: "post" when: "event.value > 100" score: "engagement" points: 5 }
  rule { name: "never" on: "webinar" score: "engagement" points: 1 }
  tag { name: "poster" on: "post" }
  tag { name: "whale" when: "score.engagement >= 1000" }
  lifecycle {
    initial: "new"
    stage: ["new", "hot", "customer", "ghost"]
    transition { from: "new" to: "hot" when: "score.engagement >= 20" }
    transition { from: "*" to: "customer" on: "order.paid" }
  }
  flag { name: "ready" when: "score.engagement >= 20" }
)pb";

constexpr int64_t kDay = 86400000;

// a: two posts (one big) and an order on day 40; b: one post; c: three posts;
// d: only a bad row. Every score is whole: no decay.
std::string WriteLog() {
  // One file per test: ctest runs the tests of this file at the same time.
  const std::string path =
      testing::TempDir() + "/analysis_test_log_" +
      testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv";
  std::ofstream out(path);
  out << "event_id,member_id,time,type,value\n"
      << "a1,a," << 1 * kDay << ",post,\n"
      << "a2,a," << 2 * kDay << ",post,200\n"
      << "a3,a," << 40 * kDay << ",order.paid,99\n"
      << "b1,b," << 1 * kDay << ",post,\n"
      << "c1,c," << 1 * kDay << ",post,\n"
      << "c2,c," << 3 * kDay << ",post,\n"
      << "c3,c," << 4 * kDay << ",post,\n"
      << "c3,c," << 4 * kDay << ",post,\n"  // a duplicate
      << "d1,d,not-a-time,post,\n";
  return path;
}

LogArgs Args(const std::string& path, int threads) {
  LogArgs log;
  log.paths = {path};
  log.options.threads = threads;
  log.quiet = true;
  log.quiet_bad_rows = true;
  return log;
}

TEST(AnalyzeLogTest, CountsWhatEachRuleTagStageAndFlagDid) {
  auto model = Load(kModel);
  ASSERT_NE(model, nullptr);
  const std::string path = WriteLog();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    AnalyzeOptions options;
    options.conversion_types = {"order.paid"};
    LogAnalysis a;
    ASSERT_EQ(AnalyzeLog(model, Args(path, threads), "test", options, &a), kExitOk);
    EXPECT_EQ(a.summary.rows_read, 9);
    EXPECT_EQ(a.summary.as_of, 40 * kDay);
    EXPECT_EQ(a.summary.stats.events_applied, 7);
    ASSERT_EQ(a.members.size(), 3u);  // d has no accepted event
    EXPECT_EQ(a.members[0].view.member_id, "a");
    EXPECT_EQ(a.members[1].view.member_id, "b");
    EXPECT_EQ(a.members[2].view.member_id, "c");
    EXPECT_EQ(a.members[0].view.scores[0], 25);
    EXPECT_EQ(a.members[1].view.scores[0], 10);
    EXPECT_EQ(a.members[2].view.scores[0], 30);
    EXPECT_EQ(a.events_by_type, (std::map<std::string, int64_t>{{"order.paid", 1},
                                                                {"post", 6}}));
    EXPECT_EQ(a.rule_held, (std::vector<int64_t>{6, 1, 0}));
    EXPECT_EQ(a.rule_granted, (std::vector<int64_t>{6, 1, 0}));
    EXPECT_EQ(a.rule_points, (std::vector<double>{60, 5, 0}));
    EXPECT_EQ(a.tag_added, (std::vector<int64_t>{3, 0}));
    EXPECT_EQ(a.tag_members, (std::vector<int64_t>{3, 0}));
    // new, hot, customer, ghost
    EXPECT_EQ(a.stage_reached, (std::vector<int64_t>{3, 2, 1, 0}));
    EXPECT_EQ(a.stage_now, (std::vector<int64_t>{1, 1, 1, 0}));
    EXPECT_EQ(a.flag_raised, (std::vector<int64_t>{2}));
    EXPECT_EQ(a.flag_members, (std::vector<int64_t>{2}));
    ASSERT_EQ(a.members[0].raises.size(), 1u);
    EXPECT_EQ(a.members[0].raises[0].time, 2 * kDay);
    ASSERT_EQ(a.members[0].stage_changes.size(), 2u);
    EXPECT_EQ(a.members[0].stage_changes[1].to, model->FindStage("customer"));
    EXPECT_EQ(a.members[0].conversions, 1);
    EXPECT_EQ(a.members[0].first_conversion, 40 * kDay);
    EXPECT_EQ(a.members[1].conversions, 0);
  }
}

TEST(CalibrateTest, BandsTheScoresAtTheCutoffAgainstLaterConversions) {
  auto model = Load(kModel);
  ASSERT_NE(model, nullptr);
  const std::string path = WriteLog();
  AnalyzeOptions analyze;
  analyze.conversion_types = {"order.paid"};
  LogAnalysis full;
  ASSERT_EQ(AnalyzeLog(model, Args(path, 2), "test", analyze, &full), kExitOk);
  CalibrationOptions options;
  options.conversion_types = {"order.paid"};
  options.window_ms = 30 * kDay;  // cutoff: day 10
  options.score = 0;
  options.has_threshold = true;
  options.threshold = 20;
  Calibration c;
  ASSERT_EQ(Calibrate(model, Args(path, 2), "test", options, full, &c), kExitOk);
  ASSERT_TRUE(c.available) << c.why_not;
  EXPECT_EQ(c.cutoff, 10 * kDay);
  EXPECT_EQ(c.as_of, 40 * kDay);
  EXPECT_EQ(c.members, 3);
  EXPECT_EQ(c.excluded_converted_before, 0);
  EXPECT_EQ(c.excluded_new, 0);
  // a 25 (converted later), b 10, c 30; bands of 5 with 20 an edge.
  ASSERT_EQ(c.bands.size(), 5u);
  EXPECT_EQ(c.bands[0].lo, 10);
  EXPECT_EQ(c.bands[4].hi, 35);
  std::vector<int64_t> members, converted;
  for (const auto& b : c.bands) {
    members.push_back(b.members);
    converted.push_back(b.converted);
  }
  EXPECT_EQ(members, (std::vector<int64_t>{1, 0, 0, 1, 1}));
  EXPECT_EQ(converted, (std::vector<int64_t>{0, 0, 0, 1, 0}));
  EXPECT_EQ(c.above, 2);
  EXPECT_EQ(c.above_converted, 1);
  EXPECT_EQ(c.below, 1);
  EXPECT_EQ(c.below_converted, 0);

  // As of day 50 with a 5-day window: a converted before the cutoff and is
  // left out.
  LogArgs later = Args(path, 1);
  later.options.as_of = 50 * kDay;
  ASSERT_EQ(AnalyzeLog(model, later, "test", analyze, &full), kExitOk);
  options.window_ms = 5 * kDay;
  ASSERT_EQ(Calibrate(model, later, "test", options, full, &c), kExitOk);
  ASSERT_TRUE(c.available) << c.why_not;
  EXPECT_EQ(c.cutoff, 45 * kDay);
  EXPECT_EQ(c.excluded_converted_before, 1);
  EXPECT_EQ(c.members, 2);
  EXPECT_EQ(c.above, 1);  // c: 30
  EXPECT_EQ(c.below, 1);  // b: 10
  EXPECT_EQ(c.above_converted + c.below_converted, 0);
  // No conversion type in the log: not available, and why.
  LogAnalysis none;
  ASSERT_EQ(AnalyzeLog(model, Args(path, 1), "test", AnalyzeOptions(), &none), kExitOk);
  options.conversion_types = {"refund"};
  ASSERT_EQ(Calibrate(model, Args(path, 1), "test", options, none, &c), kExitOk);
  EXPECT_FALSE(c.available);
  EXPECT_EQ(c.why_not, "no conversion event (refund) in the log");
}

}  // namespace
}  // namespace leadscore::cli
