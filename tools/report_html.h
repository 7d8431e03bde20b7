// `leadscore report`: the HTML page. Pure functions from the report's data
// to text: one self-contained HTML file (inline CSS, inline SVG charts, no
// script, nothing fetched), so that it can be tested without a log.
#ifndef LEADSCORE_TOOLS_REPORT_HTML_H_
#define LEADSCORE_TOOLS_REPORT_HTML_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leadscore::cli {

// One stage of the lifecycle funnel, in model order.
struct ReportStage {
  std::string name;
  int64_t reached = 0;  // members that were ever in it (the initial stage: all)
  int64_t now = 0;      // members in it at the as-of time
  // On the main path (see docs/report.md), or a side stage (e.g. dormant).
  bool main_path = true;
  // Main-path stages after the first: of the `previous_reached` members that
  // reached the previous main-path stage, `converted` reached this one later.
  bool has_conversion = false;
  std::string previous;
  int64_t previous_reached = 0;
  int64_t converted = 0;
};

// [lo, hi) and how many members (or members that converted) fall in it.
struct ReportBin {
  double lo = 0;
  double hi = 0;
  int64_t members = 0;
  int64_t converted = 0;  // calibration bands only
};

// One ISO week (Monday 00:00 UTC) and the raises of each flag in it.
struct ReportWeek {
  int64_t start_ms = 0;
  std::vector<int64_t> raises;  // by ReportData::flag_names
};

struct ReportTag {
  std::string name;
  int64_t members = 0;  // holding it at the as-of time
  int64_t added = 0;    // tag_added changes
};

struct ReportReason {
  std::string rule;
  std::string score;
  double points = 0;
};

struct ReportFlagged {
  std::string member_id;
  std::string stage;    // "" without a lifecycle
  double score = 0;     // the report's score at the as-of time
  int64_t raises = 0;   // of the report's flag
  int64_t last_raised = 0;
  double score_at_raise = 0;
  bool has_score_at_raise = false;
  std::vector<ReportReason> reasons;  // of the last raise, largest first
};

struct ReportCalibration {
  bool available = false;
  std::string why_not;  // when not available
  std::vector<std::string> conversion_types;
  std::string score;
  bool has_threshold = false;
  double threshold = 0;
  int64_t window_ms = 0;
  int64_t cutoff = 0;
  int64_t as_of = 0;
  int64_t members = 0;
  int64_t excluded_converted_before = 0;
  int64_t excluded_new = 0;
  std::vector<ReportBin> bands;
  int64_t above = 0, above_converted = 0;
  int64_t below = 0, below_converted = 0;
};

struct ReportData {
  std::string title;
  std::string model_name;
  std::string model_path;
  std::vector<std::string> log_paths;
  bool has_as_of = false;
  int64_t as_of = 0;
  int64_t rows_read = 0;
  int64_t bad_rows = 0;  // rows a reader could not use (also counted as invalid)
  int64_t events_applied = 0;
  std::vector<std::pair<std::string, int64_t>> rejected;  // by reason
  int64_t members = 0;

  // The lifecycle (empty: the model has none).
  std::vector<ReportStage> stages;

  // The flag the report is about ("" when the model has none), its
  // condition, and the score charted and ranked (with the flag's threshold
  // when the flag compares that score).
  std::string flag;
  std::string flag_when;
  std::string score;  // "" when there is no score to chart
  bool has_threshold = false;
  double threshold = 0;
  bool threshold_strict = false;  // the flag compares with `>`, not `>=`
  std::vector<ReportBin> score_bins;
  int64_t at_or_above_threshold = 0;  // members that meet it (> or >=)

  // Raises of every flag per ISO week, from the first raise's week to the
  // last's (weeks without a raise included).
  std::vector<std::string> flag_names;
  std::vector<ReportWeek> weeks;
  int64_t total_raises = 0;

  std::vector<ReportTag> tags;  // model order

  // Members raised by `flag`, highest score first, at most `flagged_limit`;
  // `flagged_total` of them in all.
  std::vector<ReportFlagged> flagged;
  int64_t flagged_total = 0;

  ReportCalibration calibration;
};

// The whole page.
std::string RenderReportHtml(const ReportData& data);

// Text for HTML (element content and attribute values): & < > " ' escaped;
// bytes that are not UTF-8 become U+FFFD.
std::string HtmlEscape(std::string_view text);
// 1234567 -> "1,234,567".
std::string FormatCount(int64_t n);
// A score or threshold for people: at most `decimals` decimals, no trailing
// zeros ("100", "12.5", "-3.25").
std::string FormatNumber(double v, int decimals = 1);
// n / d as "12.3%" ("-" when d is 0).
std::string FormatPercent(int64_t n, int64_t d);
// Milliseconds since the epoch as "2026-03-21 08:00 UTC".
std::string FormatTime(int64_t ms);
// The Monday 00:00 UTC that starts the ISO week of `ms`, and its name
// ("2026-W12"; ISO years: 2027-01-01 is in "2026-W53").
int64_t IsoWeekStart(int64_t ms);
std::string IsoWeekName(int64_t ms);

}  // namespace leadscore::cli

#endif  // LEADSCORE_TOOLS_REPORT_HTML_H_
