#include "tools/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "lib/io/json_writer.h"

namespace leadscore::cli {

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t YearFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return y + (m <= 2);
}

// A coordinate or size in SVG: one decimal.
std::string F(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

// A round step for about `target` ticks from 0 to `max`.
double NiceStep(double max, int target, bool integer) {
  if (!(max > 0)) return 1;
  const double raw = max / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / p;
  double step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  if (integer) step = std::max(step, 1.0);
  return step;
}

// Colours (also in the CSS legend swatches).
constexpr char kBlue[] = "#2f6db5";
constexpr char kLightBlue[] = "#b5cdea";
constexpr char kTeal[] = "#0c8599";
constexpr char kOrange[] = "#e8590c";
constexpr char kGreen[] = "#2b8a3e";
const char* const kSeries[] = {"#2f6db5", "#e8590c", "#2b8a3e", "#ae3ec9",
                               "#f59f00", "#0c8599", "#c2255c", "#5c940d"};

// A colour square in text, for the legend of a chart.
std::string Swatch(const char* colour) {
  return std::string("<span class=\"swatch\" style=\"background:") + colour +
         "\"></span>";
}

// The opening of a chart: its id, accessible title and description.
void OpenSvg(std::string* out, const std::string& id, double height,
             const std::string& title, const std::string& desc) {
  *out += "<svg id=\"" + id + "\" class=\"chart\" role=\"img\" viewBox=\"0 0 1200 " +
          F(height) + "\" width=\"1200\" height=\"" + F(height) +
          "\" aria-labelledby=\"" + id + "-title " + id + "-desc\">\n<title id=\"" + id +
          "-title\">" + HtmlEscape(title) + "</title>\n<desc id=\"" + id + "-desc\">" +
          HtmlEscape(desc) + "</desc>\n";
}

void Text(std::string* out, double x, double y, const std::string& text,
          const char* anchor = "start", const char* cls = nullptr,
          const std::string& extra = "") {
  *out += "<text x=\"" + F(x) + "\" y=\"" + F(y) + "\" text-anchor=\"" + anchor + "\"";
  if (cls != nullptr) *out += std::string(" class=\"") + cls + "\"";
  if (!extra.empty()) *out += " " + extra;
  *out += ">" + HtmlEscape(text) + "</text>\n";
}

void Rect(std::string* out, double x, double y, double w, double h, const char* fill,
          const std::string& tooltip = "") {
  if (w < 0) w = 0;
  if (h < 0) h = 0;
  *out += "<rect x=\"" + F(x) + "\" y=\"" + F(y) + "\" width=\"" + F(w) +
          "\" height=\"" + F(h) + "\" fill=\"" + fill + "\"";
  if (tooltip.empty()) {
    *out += "/>\n";
  } else {
    *out += "><title>" + HtmlEscape(tooltip) + "</title></rect>\n";
  }
}

void Line(std::string* out, double x1, double y1, double x2, double y2,
          const char* cls) {
  *out += "<line x1=\"" + F(x1) + "\" y1=\"" + F(y1) + "\" x2=\"" + F(x2) +
          "\" y2=\"" + F(y2) + "\" class=\"" + cls + "\"/>\n";
}

void LegendItem(std::string* out, double x, double y, const char* colour,
                const std::string& label) {
  Rect(out, x, y - 11, 14, 14, colour);
  Text(out, x + 20, y, label);
}

// A vertical axis from 0 to `max` with gridlines over the plot area, and
// its title (rotated).
double YAxis(std::string* out, double left, double top, double width, double height,
             double max, bool integer, const std::string& title,
             const std::string& suffix = "") {
  const double step = NiceStep(max, 5, integer);
  const double top_value = std::max(step, std::ceil(max / step) * step);
  for (int k = 0;; ++k) {
    const double v = k * step;
    if (v > top_value + step * 1e-9) break;
    const double y = top + height - height * v / top_value;
    Line(out, left, y, left + width, y, k == 0 ? "axis" : "grid");
    Text(out, left - 8, y + 4,
         (integer ? FormatCount(static_cast<int64_t>(std::llround(v)))
                  : FormatNumber(v, 1)) + suffix,
         "end", "tick");
  }
  Text(out, 18, top + height / 2, title, "middle", "axis-title",
       "transform=\"rotate(-90 18 " + F(top + height / 2) + ")\"");
  return top_value;
}

std::string BinLabel(const ReportBin& b) {
  return "[" + FormatNumber(b.lo, 2) + ", " + FormatNumber(b.hi, 2) + ")";
}

// Tick labels under `n` slots of `slot` pixels: every k-th, k chosen so that
// labels of `label_px` pixels do not overlap.
int LabelEvery(int n, double slot, double label_px) {
  int every = 1;
  while (every < n && slot * every < label_px) ++every;
  return every;
}

// --- the sections -----------------------------------------------------------

void Header(std::string* out, const ReportData& d) {
  *out += "<header>\n<h1>" + HtmlEscape(d.title) + "</h1>\n<p class=\"sub\">Model <b>" +
          HtmlEscape(d.model_name) + "</b>";
  if (!d.model_path.empty()) *out += " (" + HtmlEscape(d.model_path) + ")";
  *out += ", as of <b>" + (d.has_as_of ? HtmlEscape(FormatTime(d.as_of)) : "-") +
          "</b>.";
  if (!d.log_paths.empty()) {
    *out += " Log: ";
    for (size_t i = 0; i < d.log_paths.size(); ++i) {
      if (i > 0) *out += ", ";
      if (i == 8) {
        *out += "and " + FormatCount(static_cast<int64_t>(d.log_paths.size()) - 8) +
                " more files";
        break;
      }
      *out += "<code>" + HtmlEscape(d.log_paths[i]) + "</code>";
    }
    *out += ".";
  }
  *out += "</p>\n</header>\n";
  int64_t rejected = 0;
  for (const auto& r : d.rejected) rejected += r.second;
  *out += "<section id=\"summary\" class=\"cards\">\n";
  auto card = [&](const std::string& id, const std::string& label,
                  const std::string& value, const std::string& note) {
    *out += "<div class=\"card\" id=\"" + id + "\"><div class=\"label\">" +
            HtmlEscape(label) + "</div><div class=\"value\">" + HtmlEscape(value) +
            "</div><div class=\"note\">" + note + "</div></div>\n";
  };
  card("card-members", "Members", FormatCount(d.members), "with an accepted event");
  card("card-rows", "Rows read", FormatCount(d.rows_read),
       HtmlEscape(FormatCount(d.bad_rows)) + " unreadable");
  card("card-applied", "Events applied", FormatCount(d.events_applied), "");
  std::string reasons;
  for (const auto& [reason, n] : d.rejected) {
    if (!reasons.empty()) reasons += ", ";
    reasons += HtmlEscape(reason) + " " + HtmlEscape(FormatCount(n));
  }
  card("card-rejected", "Rejected rows", FormatCount(rejected), reasons);
  if (!d.flag.empty()) {
    card("card-flagged", "Flagged members", FormatCount(d.flagged_total),
         HtmlEscape(d.flag) + ", raised at least once");
  }
  *out += "</section>\n";
}

void FunnelSection(std::string* out, const ReportData& d) {
  *out += "<section id=\"funnel\">\n<h2>Lifecycle funnel</h2>\n";
  if (d.stages.empty()) {
    *out += "<p class=\"none\">The model has no lifecycle: members have no stage.</p>\n"
            "</section>\n";
    return;
  }
  *out += "<p>Members who ever reached each stage (light) and who are in it at the "
          "as-of time (dark). Conversion: of the members who reached the previous "
          "stage of the main path, the share who reached this stage after it. Side "
          "stages are off the main path.</p>\n";
  std::vector<const ReportStage*> main, side;
  for (const ReportStage& s : d.stages) (s.main_path ? main : side).push_back(&s);
  const double row = 40, top = 46, label_w = 170, bar_x = 180, bar_w = 560;
  const double height =
      top + row * (main.size() + side.size()) + (side.empty() ? 0 : 30) + 10;
  int64_t max = 1;
  for (const ReportStage& s : d.stages) max = std::max(max, s.reached);
  std::string desc = "Horizontal bars per stage: members who reached it, and in it now.";
  OpenSvg(out, "chart-funnel", height, "Lifecycle funnel: members per stage", desc);
  LegendItem(out, bar_x, 20, kBlue, "in the stage now");
  LegendItem(out, bar_x + 170, 20, kLightBlue, "reached it, moved on since");
  Text(out, 760, 20, "reached / now", "start", "head");
  Text(out, 1000, 20, "conversion from previous", "start", "head");
  double y = top;
  auto draw = [&](const ReportStage& s) {
    const double bar_h = 26;
    const double by = y + (row - bar_h) / 2;
    Text(out, label_w, by + 18, s.name, "end", "label");
    Rect(out, bar_x, by, bar_w * s.reached / max, bar_h, kLightBlue,
         s.name + ": " + FormatCount(s.reached) + " reached");
    Rect(out, bar_x, by, bar_w * s.now / max, bar_h, kBlue,
         s.name + ": " + FormatCount(s.now) + " now");
    Text(out, 760, by + 18, FormatCount(s.reached) + " / " + FormatCount(s.now),
         "start", "num");
    if (s.has_conversion) {
      Text(out, 1000, by + 18,
           FormatPercent(s.converted, s.previous_reached) + " of " + s.previous,
           "start", "conv");
    }
    y += row;
  };
  for (const ReportStage* s : main) draw(*s);
  if (!side.empty()) {
    Line(out, 20, y + 8, 1180, y + 8, "grid");
    Text(out, bar_x, y + 24, "side stages (off the main path)", "start", "note");
    y += 30;
    for (const ReportStage* s : side) draw(*s);
  }
  *out += "</svg>\n";
  // The numbers, as a table.
  *out += "<table id=\"funnel-table\" class=\"numbers\">\n<thead><tr><th>stage</th>"
          "<th>reached (ever)</th><th>now</th><th>conversion from previous</th>"
          "</tr></thead>\n<tbody>\n";
  for (const ReportStage& s : d.stages) {
    *out += "<tr data-stage=\"" + HtmlEscape(s.name) + "\" data-reached=\"" +
            std::to_string(s.reached) + "\" data-now=\"" + std::to_string(s.now) + "\"";
    if (s.has_conversion) {
      *out += " data-converted=\"" + std::to_string(s.converted) +
              "\" data-previous-reached=\"" + std::to_string(s.previous_reached) + "\"";
    }
    *out += "><td>" + HtmlEscape(s.name) + (s.main_path ? "" : " <i>(side)</i>") +
            "</td><td>" + FormatCount(s.reached) + "</td><td>" + FormatCount(s.now) +
            "</td><td>";
    if (s.has_conversion) {
      *out += HtmlEscape(FormatPercent(s.converted, s.previous_reached)) + " (" +
              FormatCount(s.converted) + " of " + FormatCount(s.previous_reached) +
              " who reached " + HtmlEscape(s.previous) + ")";
    } else {
      *out += "-";
    }
    *out += "</td></tr>\n";
  }
  *out += "</tbody>\n</table>\n</section>\n";
}

void ScoreSection(std::string* out, const ReportData& d) {
  *out += "<section id=\"scores\">\n<h2>Score distribution</h2>\n";
  if (d.score.empty() || d.score_bins.empty()) {
    if (d.members == 0) {
      *out += "<p class=\"none\">No member to chart.</p>\n</section>\n";
      return;
    }
    *out += std::string("<p class=\"none\">No score to chart: ") +
            (d.flag.empty() ? "the model has no flag"
                            : "the flag compares no score (<code>score.X &gt;= N</code>)") +
            " and no <code>--score</code> was given.</p>\n</section>\n";
    return;
  }
  *out += "<p>Members by their <b>" + HtmlEscape(d.score) + "</b> score at the as-of time";
  const std::string op = d.threshold_strict ? ">" : ">=";
  if (d.has_threshold) {
    *out += "; the line is the threshold of <b>" + HtmlEscape(d.flag) + "</b> (" +
            HtmlEscape(d.score + " " + op + " " + FormatNumber(d.threshold, 2)) +
            "): " + FormatCount(d.at_or_above_threshold) + " members (" +
            FormatPercent(d.at_or_above_threshold, d.members) + ") are " +
            (d.threshold_strict ? "above" : "at or above") + " it. " + Swatch(kBlue) +
            " bands below the threshold, " + Swatch(kTeal) + " bands from it up";
  }
  *out += ".</p>\n";
  const double left = 80, top = 20, width = 1090, height = 320, bottom = 70;
  const double total_h = top + height + bottom;
  int64_t max = 0;
  for (const ReportBin& b : d.score_bins) max = std::max(max, b.members);
  std::string title = "Distribution of the " + d.score + " score";
  if (d.has_threshold) title += ", threshold " + FormatNumber(d.threshold, 2) + " marked";
  OpenSvg(out, "chart-scores", total_h, title,
          "Histogram: members per score band at the as-of time.");
  const double top_value = YAxis(out, left, top, width, height, max, true, "members");
  const double lo = d.score_bins.front().lo, hi = d.score_bins.back().hi;
  auto x_of = [&](double v) { return left + width * (v - lo) / (hi - lo); };
  const int n = static_cast<int>(d.score_bins.size());
  const double slot = width / n;
  const int every = LabelEvery(n + 1, slot, 44);
  for (int i = 0; i < n; ++i) {
    const ReportBin& b = d.score_bins[i];
    const double x = x_of(b.lo);
    const double h = height * b.members / top_value;
    const bool above = d.has_threshold && b.lo >= d.threshold;
    Rect(out, x + 1, top + height - h, slot - 2, h, above ? kTeal : kBlue,
         d.score + " " + BinLabel(b) + ": " + FormatCount(b.members) + " members");
    if (slot >= 30 && b.members > 0) {
      Text(out, x + slot / 2, top + height - h - 4, FormatCount(b.members), "middle",
           "small");
    }
  }
  for (int i = 0; i <= n; i += every) {
    const double v = i < n ? d.score_bins[i].lo : d.score_bins.back().hi;
    Line(out, x_of(v), top + height, x_of(v), top + height + 5, "axis");
    Text(out, x_of(v), top + height + 20, FormatNumber(v, 2), "middle", "tick");
  }
  Text(out, left + width / 2, top + height + 52, d.score + " score at the as-of time",
       "middle", "axis-title");
  if (d.has_threshold && d.threshold >= lo && d.threshold <= hi) {
    const double x = x_of(d.threshold);
    Line(out, x, top - 6, x, top + height, "threshold");
    Text(out, x + 6, top + 8,
         d.flag + " threshold: " + d.score + " " + op + " " + FormatNumber(d.threshold, 2),
         "start", "threshold-label");
  }
  *out += "</svg>\n</section>\n";
}

void WeeklySection(std::string* out, const ReportData& d) {
  *out += "<section id=\"weekly\">\n<h2>Flags raised per week</h2>\n";
  if (d.flag_names.empty()) {
    *out += "<p class=\"none\">The model has no flag.</p>\n</section>\n";
    return;
  }
  if (d.weeks.empty()) {
    *out += "<p class=\"none\">No flag was raised.</p>\n</section>\n";
    return;
  }
  *out += "<p>Raises per ISO week (Monday to Sunday, UTC), " +
          FormatCount(d.total_raises) + " in all, from the week of the first raise to "
          "the week of the last.</p>\n";
  const bool legend = d.flag_names.size() > 1;
  const double left = 80, top = legend ? 40 : 20, width = 1090, height = 260,
               bottom = 90;
  const double total_h = top + height + bottom;
  int64_t max = 0;
  for (const ReportWeek& w : d.weeks) {
    int64_t sum = 0;
    for (int64_t r : w.raises) sum += r;
    max = std::max(max, sum);
  }
  OpenSvg(out, "chart-weekly", total_h, "Flags raised per ISO week (UTC)",
          "Bars: raises of each flag per week.");
  if (legend) {
    for (size_t f = 0; f < d.flag_names.size(); ++f) {
      LegendItem(out, left + 200.0 * f, 20, kSeries[f % 8], d.flag_names[f]);
    }
  }
  const double top_value = YAxis(out, left, top, width, height, max, true, "raises");
  const int n = static_cast<int>(d.weeks.size());
  const double slot = width / n;
  const double bar = std::min(slot * 0.8, 60.0);
  const int every = LabelEvery(n, slot, 18);
  for (int i = 0; i < n; ++i) {
    const ReportWeek& w = d.weeks[i];
    const double cx = left + slot * (i + 0.5);
    double y = top + height;
    int64_t sum = 0;
    for (size_t f = 0; f < w.raises.size(); ++f) {
      const double h = height * w.raises[f] / top_value;
      if (w.raises[f] > 0) {
        Rect(out, cx - bar / 2, y - h, bar, h, kSeries[f % 8],
             IsoWeekName(w.start_ms) + " (from " +
                 FormatTime(w.start_ms).substr(0, 10) + "): " +
                 FormatCount(w.raises[f]) + " " + d.flag_names[f]);
      }
      y -= h;
      sum += w.raises[f];
    }
    if (slot >= 24 && sum > 0) {
      Text(out, cx, y - 4, FormatCount(sum), "middle", "small");
    }
    if (i % every == 0) {
      const double ly = top + height + 14;
      Text(out, cx, ly, IsoWeekName(w.start_ms), "end", "tick",
           "transform=\"rotate(-45 " + F(cx) + " " + F(ly) + ")\"");
    }
  }
  Text(out, left + width / 2, top + height + 84, "ISO week (UTC)", "middle",
       "axis-title");
  *out += "</svg>\n</section>\n";
}

void TagSection(std::string* out, const ReportData& d) {
  *out += "<section id=\"tags\">\n<h2>Tags</h2>\n";
  if (d.tags.empty()) {
    *out += "<p class=\"none\">The model has no tag.</p>\n</section>\n";
    return;
  }
  *out += "<p>Per tag: members holding it at the as-of time, and how many times it "
          "was added over the log (a tag removed and added again counts again).</p>\n";
  const double row = 40, top = 40, label_x = 210, bar_x = 220, bar_w = 860;
  const double height = top + row * d.tags.size() + 30;
  int64_t max = 1;
  for (const ReportTag& t : d.tags) max = std::max({max, t.members, t.added});
  OpenSvg(out, "chart-tags", height, "Tags: members holding each tag, and times added",
          "Two horizontal bars per tag.");
  LegendItem(out, bar_x, 20, kBlue, "members holding it now");
  LegendItem(out, bar_x + 220, 20, kOrange, "times added");
  const double step = NiceStep(static_cast<double>(max), 6, true);
  const double top_value = std::max(step, std::ceil(max / step) * step);
  const double bottom = top + row * d.tags.size();
  for (int k = 0; k * step <= top_value + 1e-9; ++k) {
    const double x = bar_x + bar_w * k * step / top_value;
    Line(out, x, top, x, bottom, k == 0 ? "axis" : "grid");
    Text(out, x, bottom + 16, FormatCount(static_cast<int64_t>(std::llround(k * step))),
         "middle", "tick");
  }
  double y = top;
  for (const ReportTag& t : d.tags) {
    Text(out, label_x, y + 24, t.name, "end", "label");
    const double wm = bar_w * t.members / top_value;
    const double wa = bar_w * t.added / top_value;
    Rect(out, bar_x, y + 6, wm, 13, kBlue,
         t.name + ": " + FormatCount(t.members) + " members hold it");
    Text(out, bar_x + wm + 6, y + 17, FormatCount(t.members), "start", "small");
    Rect(out, bar_x, y + 21, wa, 13, kOrange,
         t.name + ": added " + FormatCount(t.added) + " times");
    Text(out, bar_x + wa + 6, y + 32, FormatCount(t.added), "start", "small");
    y += row;
  }
  *out += "</svg>\n</section>\n";
}

void FlaggedSection(std::string* out, const ReportData& d) {
  *out += "<section id=\"flagged\">\n<h2>Flagged members</h2>\n";
  if (d.flag.empty()) {
    *out += "<p class=\"none\">The model has no flag.</p>\n</section>\n";
    return;
  }
  if (d.flagged_total == 0) {
    *out += "<p class=\"none\">No member was raised by <b>" + HtmlEscape(d.flag) +
            "</b>.</p>\n</section>\n";
    return;
  }
  *out += "<p id=\"flagged-count\" data-total=\"" + std::to_string(d.flagged_total) +
          "\" data-shown=\"" + std::to_string(d.flagged.size()) + "\">" +
          FormatCount(d.flagged_total) + " members were raised by <b>" +
          HtmlEscape(d.flag) + "</b> at least once";
  if (static_cast<int64_t>(d.flagged.size()) < d.flagged_total) {
    *out += "; the " + FormatCount(static_cast<int64_t>(d.flagged.size())) +
            " with the highest " + HtmlEscape(d.score.empty() ? "score" : d.score) +
            " score now are listed";
  } else {
    *out += ", highest " + HtmlEscape(d.score.empty() ? "score" : d.score) +
            " score first";
  }
  *out += ". Reasons are the top contributions at their last raise.</p>\n";
  const std::string score = d.score.empty() ? "score" : d.score;
  *out += "<table id=\"flagged-table\">\n<thead><tr><th>#</th><th>member</th>";
  if (!d.stages.empty()) *out += "<th>stage now</th>";
  *out += "<th>" + HtmlEscape(score) + " now</th><th>raises</th>"
          "<th>last raised (UTC)</th><th>" + HtmlEscape(score) +
          " then</th><th>top reasons of the last raise</th></tr></thead>\n<tbody>\n";
  int rank = 0;
  for (const ReportFlagged& m : d.flagged) {
    *out += "<tr class=\"flagged\"><td>" + std::to_string(++rank) + "</td><td>" +
            HtmlEscape(m.member_id) + "</td>";
    if (!d.stages.empty()) *out += "<td>" + HtmlEscape(m.stage) + "</td>";
    *out += "<td class=\"n\">" + HtmlEscape(FormatNumber(m.score, 1)) +
            "</td><td class=\"n\">" + FormatCount(m.raises) + "</td><td class=\"t\">" +
            HtmlEscape(FormatTime(m.last_raised)) + "</td><td class=\"n\">" +
            (m.has_score_at_raise ? HtmlEscape(FormatNumber(m.score_at_raise, 1)) : "-") +
            "</td><td>";
    for (size_t i = 0; i < m.reasons.size(); ++i) {
      const ReportReason& r = m.reasons[i];
      if (i > 0) *out += "; ";
      *out += "<span class=\"reason\">" + HtmlEscape(r.rule) + " <small>(" +
              HtmlEscape(r.score) + ")</small> " + HtmlEscape(FormatNumber(r.points, 1)) +
              "</span>";
    }
    *out += "</td></tr>\n";
  }
  *out += "</tbody>\n</table>\n</section>\n";
}

void CalibrationSection(std::string* out, const ReportData& d) {
  const ReportCalibration& c = d.calibration;
  *out += "<section id=\"calibration\">\n<h2>Threshold calibration</h2>\n";
  std::string types;
  for (const std::string& t : c.conversion_types) {
    types += (types.empty() ? "" : ", ") + std::string("<code>") + HtmlEscape(t) +
             "</code>";
  }
  if (!c.available) {
    *out += "<p class=\"none\" id=\"calibration-none\">No calibration: " +
            HtmlEscape(c.why_not) + ". Conversion events: " +
            (types.empty() ? std::string("none given") : types) +
            " (<code>--conversion TYPE</code>).</p>\n</section>\n";
    return;
  }
  *out += "<p>Scores read " + HtmlEscape(FormatNumber(c.window_ms / double(kDayMs), 2)) +
          " days before the as-of time, at " + HtmlEscape(FormatTime(c.cutoff)) +
          "; a member converted when its first conversion event (" + types +
          ") came after that and by the as-of time. " + FormatCount(c.members) +
          " members are counted; left out: " + FormatCount(c.excluded_converted_before) +
          " who had converted by then, and " + FormatCount(c.excluded_new) +
          " first seen after it.</p>\n";
  int64_t converted = 0;
  for (const ReportBin& b : c.bands) converted += b.converted;
  if (c.has_threshold) {
    const double ra = c.above ? double(c.above_converted) / c.above : 0;
    const double rb = c.below ? double(c.below_converted) / c.below : 0;
    *out += "<p id=\"calibration-split\"><b>At or above the threshold</b> (" +
            HtmlEscape(c.score) + " &gt;= " + HtmlEscape(FormatNumber(c.threshold, 2)) +
            "): " + FormatCount(c.above_converted) + " of " + FormatCount(c.above) +
            " converted (" + FormatPercent(c.above_converted, c.above) +
            "). <b>Below</b>: " + FormatCount(c.below_converted) + " of " +
            FormatCount(c.below) + " (" + FormatPercent(c.below_converted, c.below) + ").";
    if (c.above > 0 && c.below > 0 && rb > 0) {
      *out += " Members above the threshold converted " +
              HtmlEscape(FormatNumber(ra / rb, 1)) + " times as often.";
    }
    *out += " " + Swatch(kGreen) + " below the threshold, " + Swatch(kTeal) +
            " at or above it.</p>\n";
  }
  const double left = 80, top = 20, width = 1090, height = 280, bottom = 90;
  const double total_h = top + height + bottom;
  double max = 0;
  for (const ReportBin& b : c.bands) {
    if (b.members > 0) max = std::max(max, 100.0 * b.converted / b.members);
  }
  OpenSvg(out, "chart-calibration", total_h,
          "Conversion rate by " + c.score + " score band at the cutoff",
          "Bars: share of the members of each score band who converted later.");
  const double top_value =
      YAxis(out, left, top, width, height, std::max(max, 1.0), false, "converted", "%");
  const int n = static_cast<int>(c.bands.size());
  const double slot = width / n;
  const double lo = c.bands.front().lo, hi = c.bands.back().hi;
  for (int i = 0; i < n; ++i) {
    const ReportBin& b = c.bands[i];
    const double x = left + slot * i;
    const double rate = b.members > 0 ? 100.0 * b.converted / b.members : 0;
    const double h = height * rate / top_value;
    const bool above = c.has_threshold && b.lo >= c.threshold;
    if (b.members > 0) {
      Rect(out, x + 3, top + height - h, slot - 6, h, above ? kTeal : kGreen,
           c.score + " " + BinLabel(b) + ": " + FormatCount(b.converted) + " of " +
               FormatCount(b.members) + " converted");
      Text(out, x + slot / 2, top + height - h - 4, FormatPercent(b.converted, b.members),
           "middle", "small");
    }
    Text(out, x + slot / 2, top + height + 18, BinLabel(b), "middle", "tick");
    Text(out, x + slot / 2, top + height + 34, "n=" + FormatCount(b.members), "middle",
         "small muted");
  }
  Text(out, left + width / 2, top + height + 62,
       c.score + " score band at the cutoff (n = members in the band)", "middle",
       "axis-title");
  if (c.has_threshold && c.threshold >= lo && c.threshold <= hi) {
    const double x = left + width * (c.threshold - lo) / (hi - lo);
    Line(out, x, top - 6, x, top + height, "threshold");
    Text(out, x + 6, top + 8, "threshold " + FormatNumber(c.threshold, 2), "start",
         "threshold-label");
  }
  *out += "</svg>\n";
  *out += "<table id=\"calibration-table\" class=\"numbers\">\n<thead><tr><th>" +
          HtmlEscape(c.score) + " at the cutoff</th><th>members</th><th>converted</th>"
          "<th>rate</th></tr></thead>\n<tbody>\n";
  for (const ReportBin& b : c.bands) {
    *out += "<tr><td>" + HtmlEscape(BinLabel(b)) + "</td><td>" + FormatCount(b.members) +
            "</td><td>" + FormatCount(b.converted) + "</td><td>" +
            HtmlEscape(FormatPercent(b.converted, b.members)) + "</td></tr>\n";
  }
  *out += "<tr class=\"total\"><td>all</td><td>" + FormatCount(c.members) + "</td><td>" +
          FormatCount(converted) + "</td><td>" +
          HtmlEscape(FormatPercent(converted, c.members)) + "</td></tr>\n";
  *out += "</tbody>\n</table>\n</section>\n";
}

constexpr char kStyle[] = R"(
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #212529;
       margin: 0; background: #f8f9fa; font-size: 15px; }
main { max-width: 1220px; margin: 0 auto; padding: 16px 10px 40px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 0 0 8px; }
p.sub { color: #495057; margin: 0 0 14px; }
section { background: #fff; border: 1px solid #dee2e6; border-radius: 6px;
          padding: 14px 18px; margin: 14px 0; }
section.cards { display: flex; gap: 12px; background: none; border: none; padding: 0; }
.card { flex: 1; background: #fff; border: 1px solid #dee2e6; border-radius: 6px;
        padding: 10px 14px; }
.card .label { color: #495057; font-size: 13px; }
.card .value { font-size: 26px; font-weight: bold; margin: 2px 0; }
.card .note { color: #6c757d; font-size: 12px; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; }
svg text { font-family: inherit; font-size: 13px; fill: #343a40; }
svg text.tick { font-size: 12px; fill: #495057; }
svg text.small { font-size: 11px; fill: #343a40; }
svg text.muted { fill: #868e96; }
svg text.label { font-size: 14px; }
svg text.head { font-weight: bold; }
svg text.num { font-variant-numeric: tabular-nums; }
svg text.conv { font-weight: bold; fill: #2b8a3e; }
svg text.note { fill: #868e96; font-style: italic; }
svg text.axis-title { font-size: 13px; fill: #495057; }
svg text.threshold-label { fill: #c92a2a; font-weight: bold; }
svg line.axis { stroke: #495057; stroke-width: 1; }
svg line.grid { stroke: #e9ecef; stroke-width: 1; }
svg line.threshold { stroke: #c92a2a; stroke-width: 2; stroke-dasharray: 6 4; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 8px; }
th, td { border-bottom: 1px solid #e9ecef; padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #f1f3f5; }
td.t { white-space: nowrap; }
td.n, table.numbers td + td { text-align: right; font-variant-numeric: tabular-nums; }
table.numbers { width: auto; min-width: 50%; }
tr.total td { font-weight: bold; }
.reason small { color: #6c757d; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; }
p.none { color: #868e96; font-style: italic; }
footer { color: #868e96; font-size: 12px; }
)";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string utf8;
  io::AppendUtf8(&utf8, text);
  std::string out;
  out.reserve(utf8.size());
  for (char c : utf8) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters (not tab or line breaks) are not allowed in HTML.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string FormatCount(int64_t n) {
  const bool negative = n < 0;
  std::string digits = std::to_string(negative ? -static_cast<uint64_t>(n)
                                                : static_cast<uint64_t>(n));
  std::string out;
  const size_t len = digits.size();
  for (size_t i = 0; i < len; ++i) {
    if (i > 0 && (len - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string FormatNumber(double v, int decimals) {
  if (!std::isfinite(v)) return v != v ? "NaN" : v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  // Thousands separators for the integer part.
  const size_t start = s[0] == '-' ? 1 : 0;
  size_t dot = s.find('.');
  if (dot == std::string::npos) dot = s.size();
  for (ptrdiff_t i = static_cast<ptrdiff_t>(dot) - 3; i > static_cast<ptrdiff_t>(start);
       i -= 3) {
    s.insert(static_cast<size_t>(i), ",");
  }
  return s;
}

std::string FormatPercent(int64_t n, int64_t d) {
  if (d == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * static_cast<double>(n) / d);
  return buf;
}

std::string FormatTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

int64_t IsoWeekStart(int64_t ms) {
  const int64_t days = FloorDiv(ms, kDayMs);
  // 1970-01-05 (day 4) was a Monday.
  const int64_t monday = days - (((days - 4) % 7) + 7) % 7;
  return monday * kDayMs;
}

std::string IsoWeekName(int64_t ms) {
  const int64_t monday = IsoWeekStart(ms) / kDayMs;
  const int64_t thursday = monday + 3;  // its year is the ISO year
  const int64_t year = YearFromDays(thursday);
  const int64_t week = (thursday - DaysFromCivil(year, 1, 1)) / 7 + 1;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-W%02lld", static_cast<long long>(year),
                static_cast<long long>(week));
  return buf;
}

std::string RenderReportHtml(const ReportData& d) {
  std::string out;
  out.reserve(64 * 1024 + d.flagged.size() * 400);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         // Nothing is fetched: no scripts, no fonts, no images.
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>" +
         HtmlEscape(d.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  Header(&out, d);
  FunnelSection(&out, d);
  ScoreSection(&out, d);
  WeeklySection(&out, d);
  TagSection(&out, d);
  FlaggedSection(&out, d);
  CalibrationSection(&out, d);
  out += "<footer>Made by <code>leadscore report</code>. Times are UTC. "
         "How each chart is computed: docs/report.md.</footer>\n"
         "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace leadscore::cli
