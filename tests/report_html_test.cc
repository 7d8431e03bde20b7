// tools/report_html: the HTML page of `leadscore report`, from hand-made
// data (the end-to-end test with a log is tests/report_test.sh).
#include "tools/report_html.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadscore::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int64_t Ms(int y, int m, int d) {
  // Days from civil, for the tests only (1970..2100 is enough).
  static const int kCum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  int64_t days = 0;
  for (int yy = 1970; yy < y; ++yy) {
    days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
  }
  days += kCum[m - 1] + d - 1;
  if (m > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) ++days;
  return days * 86400000LL;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos;
       p = text.find(needle, p + needle.size())) {
    ++n;
  }
  return n;
}

TEST(ReportHtmlTest, EscapesText) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(HtmlEscape("bad\xFF"), "bad\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape(std::string("nul\0x", 5)), "nul\xEF\xBF\xBDx");
}

TEST(ReportHtmlTest, FormatsNumbersForPeople) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatCount(-1234), "-1,234");
  EXPECT_EQ(FormatNumber(100), "100");
  EXPECT_EQ(FormatNumber(12.34), "12.3");
  EXPECT_EQ(FormatNumber(-0.01), "0");
  EXPECT_EQ(FormatNumber(1234.5), "1,234.5");
  EXPECT_EQ(FormatNumber(-1234567.25, 2), "-1,234,567.25");
  EXPECT_EQ(FormatPercent(1, 3), "33.3%");
  EXPECT_EQ(FormatPercent(0, 0), "-");
  EXPECT_EQ(FormatTime(1774080000000), "2026-03-21 08:00 UTC");
}

TEST(ReportHtmlTest, IsoWeeks) {
  // 2026-03-21 is a Saturday: its week starts on Monday 2026-03-16.
  EXPECT_EQ(IsoWeekStart(Ms(2026, 3, 21) + 5000), Ms(2026, 3, 16));
  EXPECT_EQ(IsoWeekStart(Ms(2026, 3, 16)), Ms(2026, 3, 16));
  EXPECT_EQ(IsoWeekStart(Ms(2026, 3, 16) - 1), Ms(2026, 3, 9));
  EXPECT_EQ(IsoWeekName(Ms(2026, 3, 21)), "2026-W12");
  // ISO years: 2026 has 53 weeks; 2027-01-01 (Friday) is in its last.
  EXPECT_EQ(IsoWeekName(Ms(2027, 1, 1)), "2026-W53");
  EXPECT_EQ(IsoWeekName(Ms(2027, 1, 4)), "2027-W01");
  // 2024-12-30 (Monday) starts 2025-W01.
  EXPECT_EQ(IsoWeekName(Ms(2024, 12, 30)), "2025-W01");
  EXPECT_EQ(IsoWeekName(Ms(2024, 12, 29)), "2024-W52");
  EXPECT_EQ(IsoWeekName(0), "1970-W01");
  EXPECT_EQ(IsoWeekStart(0), -3 * 86400000LL);  // Monday 1969-12-29
}

ReportData Sample() {
  ReportData d;
  d.title = "Report <of> \"us\"";
  d.model_name = "m&m";
  d.has_as_of = true;
  d.as_of = 1774080000000;
  d.rows_read = 12345;
  d.events_applied = 12000;
  d.rejected = {{"invalid", 5}, {"too_late", 0}, {"duplicate", 340}, {"after_as_of", 0}};
  d.members = 1000;
  ReportStage s;
  s.name = "new";
  s.reached = 1000;
  s.now = 400;
  d.stages.push_back(s);
  s = ReportStage();
  s.name = "active";
  s.reached = 600;
  s.now = 500;
  s.has_conversion = true;
  s.previous = "new";
  s.previous_reached = 1000;
  s.converted = 600;
  d.stages.push_back(s);
  s = ReportStage();
  s.name = "dormant";
  s.main_path = false;
  s.reached = 100;
  s.now = 100;
  d.stages.push_back(s);
  d.flag = "sales_ready";
  d.score = "lead";
  d.has_threshold = true;
  d.threshold = 100;
  for (int i = 0; i < 8; ++i) d.score_bins.push_back({i * 25.0, (i + 1) * 25.0, 100, 0});
  d.at_or_above_threshold = 400;
  d.flag_names = {"sales_ready"};
  d.weeks.push_back({IsoWeekStart(d.as_of) - 7 * 86400000LL, {3}});
  d.weeks.push_back({IsoWeekStart(d.as_of), {0}});
  d.total_raises = 3;
  d.tags.push_back({"<script>alert(1)</script>", 10, 12});
  ReportFlagged f;
  f.member_id = "m<1>&\xFF";
  f.stage = "mql";
  f.score = 120;
  f.raises = 1;
  f.last_raised = d.as_of;
  f.reasons.push_back({"demo", "engagement", 40});
  d.flagged.push_back(f);
  d.flagged_total = 3;
  return d;
}

TEST(ReportHtmlTest, OnePageWithEveryChart) {
  const std::string html = RenderReportHtml(Sample());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"chart-funnel", "chart-scores", "chart-weekly", "chart-tags"}) {
    EXPECT_THAT(html, HasSubstr(std::string("<svg id=\"") + id + "\""));
    EXPECT_THAT(html, HasSubstr(std::string("<title id=\"") + id + "-title\">"));
  }
  EXPECT_EQ(Count(html, "<svg "), 4u);  // no calibration: a sentence instead
  EXPECT_THAT(html, HasSubstr("id=\"calibration-none\""));
  // Self-contained: nothing fetched, no script.
  EXPECT_THAT(html, Not(HasSubstr("http:")));
  EXPECT_THAT(html, Not(HasSubstr("https:")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  // Text from data is escaped.
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("m&lt;1&gt;&amp;\xEF\xBF\xBD"));
  EXPECT_THAT(html, HasSubstr("<title>Report &lt;of&gt; &quot;us&quot;</title>"));
  // Numbers for people; the table says how many in all.
  EXPECT_THAT(html, HasSubstr("12,345"));
  EXPECT_THAT(html, HasSubstr("60.0% of new"));
  EXPECT_THAT(html, HasSubstr("data-total=\"3\" data-shown=\"1\""));
  EXPECT_EQ(Count(html, "<tr class=\"flagged\">"), 1u);
  EXPECT_THAT(html, HasSubstr("2026-W12"));
  EXPECT_THAT(html, HasSubstr("sales_ready threshold: lead &gt;= 100"));
}

TEST(ReportHtmlTest, StrictThresholdSaysAbove) {
  ReportData d = Sample();
  d.threshold_strict = true;
  const std::string html = RenderReportHtml(d);
  EXPECT_THAT(html, HasSubstr("sales_ready threshold: lead &gt; 100<"));
  EXPECT_THAT(html, HasSubstr("400 members (40.0%) are above it"));
}

TEST(ReportHtmlTest, CalibrationChartWhenAvailable) {
  ReportData d = Sample();
  ReportCalibration& c = d.calibration;
  c.available = true;
  c.conversion_types = {"order.paid"};
  c.score = "lead";
  c.has_threshold = true;
  c.threshold = 100;
  c.window_ms = 30LL * 86400000;
  c.cutoff = d.as_of - c.window_ms;
  c.as_of = d.as_of;
  c.members = 300;
  c.bands = {{0, 50, 200, 2}, {50, 100, 60, 3}, {100, 150, 40, 8}};
  c.above = 40;
  c.above_converted = 8;
  c.below = 260;
  c.below_converted = 5;
  const std::string html = RenderReportHtml(d);
  EXPECT_EQ(Count(html, "<svg "), 5u);
  EXPECT_THAT(html, HasSubstr("<svg id=\"chart-calibration\""));
  EXPECT_THAT(html, HasSubstr("8 of 40 converted (20.0%)"));
  EXPECT_THAT(html, HasSubstr("5 of 260 (1.9%)"));
  EXPECT_THAT(html, Not(HasSubstr("calibration-none")));
}

TEST(ReportHtmlTest, EmptyModelStillRenders) {
  ReportData d;
  d.title = "empty";
  d.members = 3;
  std::string html = RenderReportHtml(d);
  EXPECT_EQ(Count(html, "<svg "), 0u);
  EXPECT_THAT(html, HasSubstr("no lifecycle"));
  EXPECT_THAT(html, HasSubstr("No score to chart: the model has no flag"));
  EXPECT_THAT(html, HasSubstr("</html>"));
  d.members = 0;
  html = RenderReportHtml(d);
  EXPECT_THAT(html, HasSubstr("No member to chart"));
}

}  // namespace
}  // namespace leadscore::cli
