// `leadscore report`: scores a log and writes one self-contained HTML page
// with the lifecycle funnel, the score distribution, flags per week, tags,
// the flagged members with their reasons, and threshold calibration.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "leadscore/changes.h"
#include "leadscore/model.h"
#include "lib/base/duration.h"
#include "lib/model/compiled_model.h"
#include "tools/analysis.h"
#include "tools/cli.h"
#include "tools/log_args.h"
#include "tools/report_html.h"

namespace leadscore::cli {

namespace {

constexpr char kReportUsage[] =
    R"(usage: leadscore report --model M --events LOG [--events LOG2 ...]
                       -o report.html [--conversion TYPE ...]
                       [--calibration-window D] [--flag NAME] [--score NAME]
                       [--title T] [--top N]
                       [--format csv|jsonl|pb] [--as-of T] [--order time|arrival]
                       [--threads N] [--strict] [--quiet]

Scores an event log as `leadscore score` does and writes one self-contained
HTML file (inline CSS and SVG, no script, nothing fetched): the lifecycle
funnel, the score distribution with the flag's threshold, flags raised per
ISO week, tags, the flagged members with the reasons of their last raise,
and threshold calibration against later conversions.

  -o, --out F               the HTML file to write
  --flag NAME               the flag the report is about (default: the first)
  --score NAME              the score charted and ranked (default: the score
                            of the flag's first `score.X >= N`)
  --conversion TYPE         an event type that counts as a conversion; repeat
                            for several (default order.paid)
  --calibration-window D    calibration reads scores D before the as-of time
                            and counts conversions after that (default 30d)
  --title T                 the page title (default: "Lead scoring report:
                            MODEL NAME")
  --top N                   list at most N flagged members (default 200)

The log options (--events, --format, --as-of, --order, --threads,
--strict, --quiet) are those of `leadscore score`. What each chart shows and
how it is computed: docs/report.md.
Exit codes: 0 ok; 1 bad usage, model error or I/O error; 2 --strict failure.
)";

// The stages of the main path: the initial stage, then each stage in model
// order that a transition enters from the last stage kept (or from `*`).
std::vector<bool> MainPath(const Model& model) {
  const auto& c = model.compiled();
  std::vector<bool> main(model.num_stages(), false);
  if (c.initial_stage < 0) return main;
  main[c.initial_stage] = true;
  int last = c.initial_stage;
  for (int s = 0; s < model.num_stages(); ++s) {
    if (s == c.initial_stage) continue;
    for (const auto& t : c.transitions) {
      if (t.to == s && t.FromHolds(last)) {
        main[s] = true;
        last = s;
        break;
      }
    }
  }
  return main;
}

void BuildFunnel(const Model& model, const LogAnalysis& a, ReportData* d) {
  const int n = model.num_stages();
  if (n == 0) return;
  const int initial = model.compiled().initial_stage;
  const std::vector<bool> main = MainPath(model);
  std::vector<int> path;  // main-path stages, in order
  for (int s = 0; s < n; ++s) {
    if (main[s]) path.push_back(s);
  }
  // conversions[k]: members that reached path[k] at or after first reaching
  // path[k-1], by their stage history (the initial stage, then each change).
  std::vector<int64_t> conversions(path.size(), 0);
  std::vector<int> first(n), last(n);
  for (const MemberResult& r : a.members) {
    std::fill(first.begin(), first.end(), -1);
    std::fill(last.begin(), last.end(), -1);
    first[initial] = last[initial] = 0;
    for (size_t i = 0; i < r.stage_changes.size(); ++i) {
      const int to = r.stage_changes[i].to;
      if (to < 0 || to >= n) continue;
      if (first[to] < 0) first[to] = static_cast<int>(i) + 1;
      last[to] = static_cast<int>(i) + 1;
    }
    for (size_t k = 1; k < path.size(); ++k) {
      const int prev = path[k - 1], cur = path[k];
      if (first[prev] >= 0 && last[cur] > first[prev]) ++conversions[k];
    }
  }
  for (int s = 0; s < n; ++s) {
    ReportStage st;
    st.name = model.stage_name(s);
    st.reached = a.stage_reached[s];
    st.now = a.stage_now[s];
    st.main_path = main[s];
    for (size_t k = 1; k < path.size(); ++k) {
      if (path[k] != s) continue;
      st.has_conversion = true;
      st.previous = model.stage_name(path[k - 1]);
      st.previous_reached = a.stage_reached[path[k - 1]];
      st.converted = conversions[k];
    }
    d->stages.push_back(std::move(st));
  }
  // In main-path order first (which is model order), side stages after.
  std::stable_partition(d->stages.begin(), d->stages.end(),
                        [](const ReportStage& s) { return s.main_path; });
}

void BuildScores(const LogAnalysis& a, int score, ReportData* d) {
  if (score < 0 || a.members.empty()) return;
  double lo = a.members[0].view.scores[score], hi = lo;
  for (const MemberResult& r : a.members) {
    const double v = r.view.scores[score];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (d->has_threshold && (d->threshold_strict ? v > d->threshold : v >= d->threshold)) {
      ++d->at_or_above_threshold;
    }
  }
  if (d->has_threshold) {
    hi = std::max(hi, d->threshold);
    lo = std::min(lo, d->threshold);
  }
  const std::vector<CalibrationBand> bands =
      MakeBands(lo, hi, d->has_threshold, d->threshold, 40);
  if (bands.empty()) return;
  for (const CalibrationBand& b : bands) {
    ReportBin bin;
    bin.lo = b.lo;
    bin.hi = b.hi;
    d->score_bins.push_back(bin);
  }
  for (const MemberResult& r : a.members) {
    ++d->score_bins[BandIndex(bands, r.view.scores[score])].members;
  }
}

void BuildWeeks(const Model& model, const LogAnalysis& a, ReportData* d) {
  for (int f = 0; f < model.num_flags(); ++f) d->flag_names.push_back(model.flag_name(f));
  std::map<int64_t, std::vector<int64_t>> weeks;
  for (const MemberResult& r : a.members) {
    for (const FlagRaise& raise : r.raises) {
      auto& w = weeks[IsoWeekStart(raise.time)];
      w.resize(model.num_flags(), 0);
      ++w[raise.flag];
      ++d->total_raises;
    }
  }
  if (weeks.empty()) return;
  constexpr int64_t kWeek = 7 * kMillisPerDay;
  for (int64_t t = weeks.begin()->first; t <= weeks.rbegin()->first; t += kWeek) {
    ReportWeek w;
    w.start_ms = t;
    auto it = weeks.find(t);
    w.raises = it != weeks.end() ? it->second
                                 : std::vector<int64_t>(model.num_flags(), 0);
    d->weeks.push_back(std::move(w));
  }
}

void BuildFlagged(const Model& model, const LogAnalysis& a, int flag, int score,
                  size_t top, ReportData* d) {
  if (flag < 0) return;
  std::vector<const MemberResult*> flagged;
  for (const MemberResult& r : a.members) {
    for (const FlagRaise& raise : r.raises) {
      if (raise.flag == flag) {
        flagged.push_back(&r);
        break;
      }
    }
  }
  d->flagged_total = static_cast<int64_t>(flagged.size());
  auto last_raise = [flag](const MemberResult* r) {
    const FlagRaise* last = nullptr;
    for (const FlagRaise& raise : r->raises) {
      if (raise.flag == flag) last = &raise;
    }
    return last;
  };
  // Highest score now first (no score: latest raise first); ties by member_id.
  std::stable_sort(flagged.begin(), flagged.end(),
                   [&](const MemberResult* x, const MemberResult* y) {
                     const double sx = score >= 0 ? x->view.scores[score]
                                                  : double(last_raise(x)->time);
                     const double sy = score >= 0 ? y->view.scores[score]
                                                  : double(last_raise(y)->time);
                     return sx > sy;
                   });
  if (flagged.size() > top) flagged.resize(top);
  for (const MemberResult* r : flagged) {
    ReportFlagged row;
    row.member_id = r->view.member_id;
    if (r->view.stage >= 0) row.stage = model.stage_name(r->view.stage);
    if (score >= 0) row.score = r->view.scores[score];
    for (const FlagRaise& raise : r->raises) row.raises += raise.flag == flag;
    const FlagRaise* last = last_raise(r);
    row.last_raised = last->time;
    if (score >= 0 && static_cast<size_t>(score) < last->scores.size()) {
      row.has_score_at_raise = true;
      row.score_at_raise = last->scores[score];
    }
    for (const FlagReason& reason : last->reasons) {
      ReportReason rr;
      if (reason.contributor >= 0 && reason.contributor < model.num_contributors()) {
        rr.rule = model.contributor_name(reason.contributor);
      }
      if (reason.score >= 0 && reason.score < model.num_scores()) {
        rr.score = model.score_name(reason.score);
      }
      rr.points = reason.points;
      row.reasons.push_back(std::move(rr));
    }
    d->flagged.push_back(std::move(row));
  }
}

}  // namespace

int RunReport(const std::vector<std::string>& words_in) {
  // -o FILE is --out FILE.
  std::vector<std::string> words;
  for (const std::string& w : words_in) words.push_back(w == "-o" ? "--out" : w);
  std::set<std::string> value_options = kLogValueOptions;
  value_options.insert({"model", "out", "conversion", "calibration-window", "flag",
                        "score", "title", "top"});
  const ParsedArgs args =
      ParseArgs(words, value_options, kLogSwitches, {"events", "conversion"});
  if (args.help) {
    std::cout << kReportUsage;
    return kExitOk;
  }
  if (!args.error.empty()) return UsageError("report", args.error);
  for (const char* required : {"model", "events", "out"}) {
    if (!args.has(required)) {
      return UsageError("report", std::string("missing --") + required +
                                      (std::string(required) == "out" ? " (-o)" : ""));
    }
  }
  LogArgs log;
  if (std::string error = ParseLogArgs(args, &log); !error.empty()) {
    return UsageError("report", error);
  }
  int64_t window_ms = 30 * kMillisPerDay;
  if (args.has("calibration-window")) {
    auto w = ParseDuration(args.values.at("calibration-window"));
    if (!w.ok() || *w <= 0) {
      return UsageError("report", "bad --calibration-window \"" +
                                      args.values.at("calibration-window") +
                                      "\": expected a positive duration such as 30d");
    }
    window_ms = *w;
  }
  size_t top = 200;
  if (args.has("top")) {
    const std::string& text = args.values.at("top");
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), top);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return UsageError("report", "bad --top \"" + text + "\": expected a number");
    }
  }
  std::vector<std::string> conversion_types = {"order.paid"};
  if (args.lists.count("conversion")) conversion_types = args.lists.at("conversion");

  const std::string& model_path = args.values.at("model");
  auto loaded = Model::LoadFile(model_path);
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return kExitError;
  }
  std::shared_ptr<const Model> model = *loaded;
  const Model& m = *model;

  int flag = m.num_flags() > 0 ? 0 : -1;
  if (args.has("flag")) {
    flag = m.FindFlag(args.values.at("flag"));
    if (flag < 0) {
      return UsageError("report", "the model has no flag \"" + args.values.at("flag") + "\"");
    }
  }
  const Threshold threshold = FlagThreshold(m, flag);
  int score = threshold.found ? threshold.score : -1;
  if (args.has("score")) {
    score = m.FindScore(args.values.at("score"));
    if (score < 0) {
      return UsageError("report",
                        "the model has no score \"" + args.values.at("score") + "\"");
    }
  }
  const bool has_threshold = threshold.found && threshold.score == score;

  const std::string& out_path = args.values.at("out");
  AnalyzeOptions analyze;
  analyze.conversion_types = conversion_types;
  LogAnalysis a;
  if (int code = AnalyzeLog(model, log, "report", analyze, &a); code != kExitOk) {
    return code;
  }

  ReportData d;
  d.model_name = m.name();
  d.model_path = model_path;
  d.title = args.has("title") ? args.values.at("title")
                              : "Lead scoring report: " + (m.name().empty() ? model_path
                                                                              : m.name());
  d.log_paths = log.paths;
  d.has_as_of = a.summary.has_as_of;
  d.as_of = a.summary.as_of;
  d.rows_read = a.summary.rows_read;
  d.bad_rows = a.summary.bad_rows;
  d.events_applied = a.summary.stats.events_applied;
  for (int r = 0; r < kNumRejectReasons; ++r) {
    d.rejected.emplace_back(std::string(RejectReasonName(static_cast<RejectReason>(r))),
                            a.summary.stats.rejected[r]);
  }
  d.members = static_cast<int64_t>(a.members.size());
  if (flag >= 0) {
    d.flag = m.flag_name(flag);
    d.flag_when = m.compiled().flags[flag].when_text;
  }
  if (score >= 0) d.score = m.score_name(score);
  d.has_threshold = has_threshold;
  d.threshold = threshold.value;
  d.threshold_strict = threshold.strict;

  BuildFunnel(m, a, &d);
  BuildScores(a, score, &d);
  BuildWeeks(m, a, &d);
  for (int t = 0; t < m.num_tags(); ++t) {
    d.tags.push_back({m.tag_name(t), a.tag_members[t], a.tag_added[t]});
  }
  BuildFlagged(m, a, flag, score, top, &d);

  // Calibration: a second run as of (as-of - window).
  CalibrationOptions co;
  co.conversion_types = conversion_types;
  co.window_ms = window_ms;
  co.score = score;
  co.has_threshold = has_threshold;
  co.threshold = threshold.value;
  Calibration cal;
  if (int code = Calibrate(model, log, "report", co, a, &cal); code != kExitOk) {
    return code;
  }
  ReportCalibration& rc = d.calibration;
  rc.available = cal.available;
  rc.why_not = cal.why_not;
  rc.conversion_types = conversion_types;
  rc.score = d.score;
  rc.has_threshold = cal.has_threshold;
  rc.threshold = cal.threshold;
  rc.window_ms = window_ms;
  rc.cutoff = cal.cutoff;
  rc.as_of = cal.as_of;
  rc.members = cal.members;
  rc.excluded_converted_before = cal.excluded_converted_before;
  rc.excluded_new = cal.excluded_new;
  for (const CalibrationBand& b : cal.bands) {
    rc.bands.push_back({b.lo, b.hi, b.members, b.converted});
  }
  rc.above = cal.above;
  rc.above_converted = cal.above_converted;
  rc.below = cal.below;
  rc.below_converted = cal.below_converted;

  const std::string html = RenderReportHtml(d);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "leadscore report: cannot write " << out_path << ": "
              << std::strerror(errno) << "\n";
    return kExitError;
  }
  out << html;
  out.close();
  if (!out) {
    std::cerr << "leadscore report: writing " << out_path << " failed\n";
    return kExitError;
  }
  std::cerr << "leadscore report: wrote " << out_path << ": "
            << FormatCount(d.members) << " members, " << FormatCount(d.flagged_total)
            << " flagged, "
            << (rc.available ? "calibration against " + FormatCount(rc.members) + " members"
                             : "no calibration (" + rc.why_not + ")")
            << "\n";
  return kExitOk;
}

}  // namespace leadscore::cli
