// `leadscore diff`: what-if between two models. One log is scored under
// both (tools/analysis.h, in memory) and the results are matched by member
// id and by the names of stages, tags, flags and scores: members whose
// stage, tags or flags differ; counts per stage and flag; members newly
// flagged or no longer flagged; the shift of every score's distribution;
// and, when the log has conversions, threshold calibration of each model.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "leadscore/model.h"
#include "lib/base/duration.h"
#include "tools/analysis.h"
#include "tools/cli.h"
#include "tools/json_value.h"
#include "tools/log_args.h"

namespace leadscore::cli {

namespace {

constexpr char kDiffUsage[] =
    R"(usage: leadscore diff --model OLD --model NEW --events LOG [--events LOG2 ...]
                     [--format csv|jsonl|pb] [--as-of T] [--order time|arrival]
                     [--threads N] [--strict] [--quiet] [--json] [--limit N]
                     [--conversion TYPE ...] [--calibration-window D]

What-if: scores one log under two models and prints what differs. Stages,
tags, flags and scores are matched by name; members by member_id.

  * members whose stage, tags or flags (raises, armed, last raise) differ at
    the as-of time, with what differs; the counts are always complete;
  * members per stage, and flags raised, under each model;
  * for each flag name in both models: members newly flagged (raised at
    least once under NEW, never under OLD) and no longer flagged, with
    their scores under both;
  * for each score name in both: mean, p50, p90 and max under each model,
    and a histogram over bands common to both;
  * threshold calibration, when the log has conversion events: for each
    model and each flag whose condition has `score.X >= N` (or >), the
    members are scored at the as-of time minus the window and banded by
    score.X; how many of each band converted later, and the rate at or
    above N against below N.

  --model M               given twice: OLD, then NEW
  --events LOG            the log, as for `leadscore score`: repeat it or
                          give a glob; --format, --as-of, --order, --threads,
                          --strict and --quiet as there
  --json                  one JSON object on stdout instead of text
  --limit N               list at most N members in each member list
                          (default 20; 0: all of them)
  --conversion TYPE       an event type that counts as a conversion; repeat
                          it for several (default order.paid)
  --calibration-window D  how long before the as-of time scores are read for
                          calibration (default 30d)

Exit codes: 0 ok (differences are not an error); 1 bad usage, model error or
I/O error; 2 --strict met a bad row.
)";

constexpr char kCmd[] = "diff";

std::string Fixed(double v, int decimals = 2) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// Band edges: shortest text that reads back ("%g" with enough digits).
std::string Edge(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

std::string Pad(const std::string& s, size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s
               : s + std::string(width - s.size(), ' ');
}

std::string Time(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string Percent(int64_t n, int64_t total) {
  if (total <= 0) return "-";
  return Fixed(100.0 * static_cast<double>(n) / static_cast<double>(total), 1) + "%";
}

struct Side {
  std::string path;
  std::shared_ptr<const Model> model;
  LogAnalysis run;
};

// A name present in both models: its index in each.
struct Common {
  std::string name;
  int old_index = -1;
  int new_index = -1;
};

// Names of one kind in both models (OLD order), and those in one only.
struct NameMatch {
  std::vector<Common> both;
  std::vector<std::string> only_old, only_new;
};

template <typename Count, typename NameOf, typename Find>
NameMatch MatchNames(const Model& o, const Model& n, Count count, NameOf name_of,
                     Find find) {
  NameMatch m;
  for (int i = 0; i < (o.*count)(); ++i) {
    const std::string& name = (o.*name_of)(i);
    const int j = (n.*find)(name);
    if (j >= 0) {
      m.both.push_back({name, i, j});
    } else {
      m.only_old.push_back(name);
    }
  }
  for (int j = 0; j < (n.*count)(); ++j) {
    const std::string& name = (n.*name_of)(j);
    if ((o.*find)(name) < 0) m.only_new.push_back(name);
  }
  return m;
}

std::optional<std::string> StageOf(const Model& m, const MemberResult& r) {
  if (r.view.stage < 0) return std::nullopt;
  return m.stage_name(r.view.stage);
}

std::set<std::string> TagsOf(const Model& m, const MemberResult& r) {
  std::set<std::string> tags;
  for (int t : r.view.tags) tags.insert(m.tag_name(t));
  return tags;
}

bool SameFlag(const MemberView::Flag& a, const MemberView::Flag& b) {
  return a.armed == b.armed && a.raised == b.raised &&
         a.has_last_raised == b.has_last_raised &&
         (!a.has_last_raised || a.last_raised == b.last_raised);
}

bool SameScore(double a, double b) {
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

// One member under both models (either may be missing: all its events were
// rejected under that model).
struct MemberPair {
  const MemberResult* o = nullptr;
  const MemberResult* n = nullptr;
  const std::string& id() const { return o != nullptr ? o->view.member_id : n->view.member_id; }
};

struct MemberDelta {
  MemberPair pair;
  bool stage = false;
  std::vector<std::string> tags_gained, tags_lost;  // held under NEW only / OLD only
  std::vector<size_t> flags;  // indices into the common flags that differ
  bool any() const {
    return pair.o == nullptr || pair.n == nullptr || stage || !tags_gained.empty() ||
           !tags_lost.empty() || !flags.empty();
  }
};

struct FlagChange {
  Common flag;
  std::vector<MemberPair> newly, no_longer;
  int64_t old_flagged = 0, new_flagged = 0;  // members raised at least once
};

struct ScoreStats {
  int64_t members = 0;
  double mean = NAN, p50 = NAN, p90 = NAN, max = NAN;
};

// Nearest rank: the value at rank ceil(q * n) of the sorted values.
double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  k = std::max<size_t>(k, 1);
  return sorted[std::min(k, sorted.size()) - 1];
}

ScoreStats Stats(std::vector<double> values) {
  ScoreStats s;
  s.members = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  s.p50 = Percentile(values, 0.5);
  s.p90 = Percentile(values, 0.9);
  s.max = values.back();
  return s;
}

struct ScoreShift {
  Common score;
  ScoreStats old_stats, new_stats;
  bool anchored = false;  // bands have the flag threshold as an edge
  double threshold = 0;
  std::vector<CalibrationBand> bands;
  std::vector<int64_t> old_counts, new_counts;
};

std::vector<double> ScoreValues(const LogAnalysis& run, int score) {
  std::vector<double> v;
  v.reserve(run.members.size());
  for (const MemberResult& r : run.members) v.push_back(r.view.scores[score]);
  return v;
}

// Calibration of one flag of one model.
struct FlagCalibration {
  int flag = -1;
  Calibration cal;
};

// What is printed about a member's flag under one model.
std::string FlagState(const MemberView::Flag& f) {
  std::string s = "raised " + std::to_string(f.raised) + ", " +
                  (f.armed ? "armed" : "disarmed");
  if (f.has_last_raised) s += ", last " + Time(f.last_raised);
  return s;
}

JsonValue FlagJson(const MemberView::Flag& f) {
  JsonValue o = JsonValue::Object();
  o.Set("armed", JsonValue::Bool(f.armed));
  o.Set("raised", JsonValue::Int(f.raised));
  o.Set("last_raised",
        f.has_last_raised ? JsonValue::Int(f.last_raised) : JsonValue::Null());
  return o;
}

JsonValue ScoresJson(const Model& m, const MemberResult* r) {
  if (r == nullptr) return JsonValue::Null();
  JsonValue o = JsonValue::Object();
  for (int s = 0; s < m.num_scores(); ++s) {
    o.Set(m.score_name(s), JsonValue::Number(r->view.scores[s]));
  }
  return o;
}

JsonValue StringsJson(const std::vector<std::string>& names) {
  JsonValue a = JsonValue::Array();
  for (const std::string& n : names) a.Add(JsonValue::String(n));
  return a;
}

JsonValue StatsJson(const ScoreStats& s) {
  JsonValue o = JsonValue::Object();
  o.Set("members", JsonValue::Int(s.members));
  o.Set("mean", JsonValue::Number(s.mean));
  o.Set("p50", JsonValue::Number(s.p50));
  o.Set("p90", JsonValue::Number(s.p90));
  o.Set("max", JsonValue::Number(s.max));
  return o;
}

JsonValue CalibrationJson(const Model& m, const FlagCalibration& fc) {
  const Calibration& c = fc.cal;
  JsonValue o = JsonValue::Object();
  o.Set("flag", JsonValue::String(m.flag_name(fc.flag)));
  o.Set("score", c.score >= 0 ? JsonValue::String(m.score_name(c.score))
                              : JsonValue::Null());
  o.Set("threshold", c.has_threshold ? JsonValue::Number(c.threshold) : JsonValue::Null());
  o.Set("available", JsonValue::Bool(c.available));
  if (!c.available) {
    o.Set("why_not", JsonValue::String(c.why_not));
    return o;
  }
  o.Set("cutoff", JsonValue::Int(c.cutoff));
  o.Set("as_of", JsonValue::Int(c.as_of));
  o.Set("members", JsonValue::Int(c.members));
  o.Set("excluded_converted_before", JsonValue::Int(c.excluded_converted_before));
  o.Set("excluded_new", JsonValue::Int(c.excluded_new));
  JsonValue bands = JsonValue::Array();
  for (const CalibrationBand& b : c.bands) {
    JsonValue j = JsonValue::Object();
    j.Set("lo", JsonValue::Number(b.lo));
    j.Set("hi", JsonValue::Number(b.hi));
    j.Set("members", JsonValue::Int(b.members));
    j.Set("converted", JsonValue::Int(b.converted));
    bands.Add(std::move(j));
  }
  o.Set("bands", std::move(bands));
  auto part = [](int64_t n, int64_t conv) {
    JsonValue j = JsonValue::Object();
    j.Set("members", JsonValue::Int(n));
    j.Set("converted", JsonValue::Int(conv));
    j.Set("rate", n > 0 ? JsonValue::Number(static_cast<double>(conv) / n)
                        : JsonValue::Null());
    return j;
  };
  o.Set("above", part(c.above, c.above_converted));
  o.Set("below", part(c.below, c.below_converted));
  return o;
}

}  // namespace

int RunDiff(const std::vector<std::string>& words) {
  std::set<std::string> value_options = kLogValueOptions;
  value_options.insert({"model", "limit", "conversion", "calibration-window"});
  std::set<std::string> switches = kLogSwitches;
  switches.insert("json");
  const ParsedArgs args =
      ParseArgs(words, value_options, switches, {"events", "model", "conversion"});
  if (args.help) {
    std::cout << kDiffUsage;
    return kExitOk;
  }
  if (!args.error.empty()) return UsageError(kCmd, args.error);
  if (!args.has("model") || args.lists.at("model").size() != 2) {
    return UsageError(kCmd, "give --model twice: the OLD model, then the NEW one");
  }
  LogArgs log;
  if (std::string error = ParseLogArgs(args, &log); !error.empty()) {
    return UsageError(kCmd, error);
  }
  const bool json = args.switches.count("json") > 0;
  size_t limit = 20;
  if (args.has("limit")) {
    const std::string& text = args.values.at("limit");
    char* end = nullptr;
    const long long n = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n < 0) {
      return UsageError(kCmd, "bad --limit \"" + text + "\": expected a number >= 0");
    }
    limit = n == 0 ? SIZE_MAX : static_cast<size_t>(n);
  }
  std::vector<std::string> conversions = {"order.paid"};
  if (args.has("conversion")) conversions = args.lists.at("conversion");
  int64_t window_ms = 30 * kMillisPerDay;
  std::string window_text = "30d";
  if (args.has("calibration-window")) {
    window_text = args.values.at("calibration-window");
    auto w = ParseDuration(window_text);
    if (!w.ok() || *w <= 0) {
      return UsageError(kCmd, "bad --calibration-window \"" + window_text +
                                  "\": expected a duration such as 30d");
    }
    window_ms = *w;
  }

  Side sides[2];
  for (int i = 0; i < 2; ++i) {
    sides[i].path = args.lists.at("model")[i];
    auto model = Model::LoadFile(sides[i].path);
    if (!model.ok()) {
      std::cerr << model.status().message() << "\n";
      return kExitError;
    }
    sides[i].model = *model;
  }
  AnalyzeOptions analyze;
  analyze.conversion_types = conversions;
  for (int i = 0; i < 2; ++i) {
    LogArgs side_log = log;
    if (i == 1) {  // one progress line and one report of bad rows are enough
      side_log.quiet = true;
      side_log.quiet_bad_rows = true;
    }
    if (int code = AnalyzeLog(sides[i].model, side_log, kCmd, analyze, &sides[i].run);
        code != kExitOk) {
      return code;
    }
  }
  const Model& om = *sides[0].model;
  const Model& nm = *sides[1].model;
  const LogAnalysis& orun = sides[0].run;
  const LogAnalysis& nrun = sides[1].run;

  // Structure: what is matched by name.
  const NameMatch stages =
      MatchNames(om, nm, &Model::num_stages, &Model::stage_name, &Model::FindStage);
  const NameMatch tags =
      MatchNames(om, nm, &Model::num_tags, &Model::tag_name, &Model::FindTag);
  const NameMatch flags =
      MatchNames(om, nm, &Model::num_flags, &Model::flag_name, &Model::FindFlag);
  const NameMatch scores =
      MatchNames(om, nm, &Model::num_scores, &Model::score_name, &Model::FindScore);

  // Members, merged by id.
  std::vector<MemberPair> pairs;
  {
    size_t i = 0, j = 0;
    while (i < orun.members.size() || j < nrun.members.size()) {
      MemberPair p;
      if (j == nrun.members.size() ||
          (i < orun.members.size() &&
           orun.members[i].view.member_id < nrun.members[j].view.member_id)) {
        p.o = &orun.members[i++];
      } else if (i == orun.members.size() ||
                 nrun.members[j].view.member_id < orun.members[i].view.member_id) {
        p.n = &nrun.members[j++];
      } else {
        p.o = &orun.members[i++];
        p.n = &nrun.members[j++];
      }
      pairs.push_back(p);
    }
  }

  // Members that differ.
  std::vector<MemberDelta> deltas;
  int64_t n_stage = 0, n_tags = 0, n_flags = 0, n_only_old = 0, n_only_new = 0,
          n_scores = 0;
  for (const MemberPair& p : pairs) {
    MemberDelta d;
    d.pair = p;
    if (p.o == nullptr) {
      ++n_only_new;
    } else if (p.n == nullptr) {
      ++n_only_old;
    } else {
      d.stage = StageOf(om, *p.o) != StageOf(nm, *p.n);
      const std::set<std::string> ot = TagsOf(om, *p.o), nt = TagsOf(nm, *p.n);
      std::set_difference(nt.begin(), nt.end(), ot.begin(), ot.end(),
                          std::back_inserter(d.tags_gained));
      std::set_difference(ot.begin(), ot.end(), nt.begin(), nt.end(),
                          std::back_inserter(d.tags_lost));
      for (size_t f = 0; f < flags.both.size(); ++f) {
        if (!SameFlag(p.o->view.flags[flags.both[f].old_index],
                      p.n->view.flags[flags.both[f].new_index])) {
          d.flags.push_back(f);
        }
      }
      n_stage += d.stage;
      n_tags += !d.tags_gained.empty() || !d.tags_lost.empty();
      n_flags += !d.flags.empty();
      for (const Common& s : scores.both) {
        if (!SameScore(p.o->view.scores[s.old_index], p.n->view.scores[s.new_index])) {
          ++n_scores;
          break;
        }
      }
    }
    if (d.any()) deltas.push_back(std::move(d));
  }

  // Flagged under one model and not the other.
  std::vector<FlagChange> flag_changes;
  for (const Common& f : flags.both) {
    FlagChange fc;
    fc.flag = f;
    for (const MemberPair& p : pairs) {
      const bool was = p.o != nullptr && p.o->view.flags[f.old_index].raised > 0;
      const bool is = p.n != nullptr && p.n->view.flags[f.new_index].raised > 0;
      fc.old_flagged += was;
      fc.new_flagged += is;
      if (is && !was) fc.newly.push_back(p);
      if (was && !is) fc.no_longer.push_back(p);
    }
    flag_changes.push_back(std::move(fc));
  }

  // Score distributions.
  std::vector<ScoreShift> shifts;
  for (const Common& s : scores.both) {
    ScoreShift sh;
    sh.score = s;
    std::vector<double> ov = ScoreValues(orun, s.old_index);
    std::vector<double> nv = ScoreValues(nrun, s.new_index);
    sh.old_stats = Stats(ov);
    sh.new_stats = Stats(nv);
    // Anchor the bands at a flag threshold on this score when the models
    // agree on one value (or only one model has one).
    std::set<double> thresholds;
    for (int f = 0; f < om.num_flags(); ++f) {
      Threshold t = FlagThreshold(om, f);
      if (t.found && t.score == s.old_index) thresholds.insert(t.value);
    }
    for (int f = 0; f < nm.num_flags(); ++f) {
      Threshold t = FlagThreshold(nm, f);
      if (t.found && t.score == s.new_index) thresholds.insert(t.value);
    }
    if (thresholds.size() == 1) {
      sh.anchored = true;
      sh.threshold = *thresholds.begin();
    }
    if (!ov.empty() || !nv.empty()) {
      double lo = INFINITY, hi = -INFINITY;
      for (double v : ov) lo = std::min(lo, v), hi = std::max(hi, v);
      for (double v : nv) lo = std::min(lo, v), hi = std::max(hi, v);
      sh.bands = MakeBands(lo, hi, sh.anchored, sh.threshold);
      sh.old_counts.assign(sh.bands.size(), 0);
      sh.new_counts.assign(sh.bands.size(), 0);
      if (!sh.bands.empty()) {
        for (double v : ov) ++sh.old_counts[BandIndex(sh.bands, v)];
        for (double v : nv) ++sh.new_counts[BandIndex(sh.bands, v)];
      }
    }
    shifts.push_back(std::move(sh));
  }

  // Calibration: only when the log has a conversion event.
  int64_t conversion_events = 0;
  for (const std::string& t : conversions) {
    auto it = orun.events_by_type.find(t);
    if (it != orun.events_by_type.end()) conversion_events += it->second;
  }
  std::string conversion_list;
  for (const std::string& t : conversions) {
    conversion_list += (conversion_list.empty() ? "" : ", ") + t;
  }
  std::vector<FlagCalibration> calibrations[2];
  if (conversion_events > 0) {
    for (int i = 0; i < 2; ++i) {
      const Model& m = *sides[i].model;
      for (int f = 0; f < m.num_flags(); ++f) {
        const Threshold t = FlagThreshold(m, f);
        if (!t.found) continue;
        CalibrationOptions co;
        co.conversion_types = conversions;
        co.window_ms = window_ms;
        co.score = t.score;
        co.has_threshold = true;
        co.threshold = t.value;
        FlagCalibration fc;
        fc.flag = f;
        if (int code = Calibrate(sides[i].model, log, kCmd, co, sides[i].run, &fc.cal);
            code != kExitOk) {
          return code;
        }
        calibrations[i].push_back(std::move(fc));
      }
    }
  }

  // The score shown beside a member in a flag list: the flag's threshold
  // score (OLD's, else NEW's), when both models have a score of that name.
  auto shown_score = [&](const Common& f) -> std::optional<Common> {
    std::string name;
    if (Threshold t = FlagThreshold(om, f.old_index); t.found) {
      name = om.score_name(t.score);
    } else if (Threshold t2 = FlagThreshold(nm, f.new_index); t2.found) {
      name = nm.score_name(t2.score);
    }
    for (const Common& s : scores.both) {
      if (s.name == name) return s;
    }
    return std::nullopt;
  };

  const batch::BatchSummary& osum = orun.summary;
  const batch::BatchSummary& nsum = nrun.summary;
  const int64_t differing = static_cast<int64_t>(deltas.size());

  if (json) {
    JsonValue root = JsonValue::Object();
    for (int i = 0; i < 2; ++i) {
      JsonValue side = JsonValue::Object();
      side.Set("path", JsonValue::String(sides[i].path));
      side.Set("name", JsonValue::String(sides[i].model->name()));
      side.Set("members", JsonValue::Int(static_cast<int64_t>(sides[i].run.members.size())));
      side.Set("events_applied", JsonValue::Int(sides[i].run.summary.stats.events_applied));
      side.Set("flags_raised", JsonValue::Int(sides[i].run.summary.stats.flags_raised));
      root.Set(i == 0 ? "old" : "new", std::move(side));
    }
    JsonValue logj = JsonValue::Object();
    logj.Set("rows_read", JsonValue::Int(osum.rows_read));
    logj.Set("as_of", osum.has_as_of ? JsonValue::Int(osum.as_of) : JsonValue::Null());
    root.Set("log", std::move(logj));
    JsonValue structure = JsonValue::Object();
    auto names = [](const NameMatch& m) {
      JsonValue o = JsonValue::Object();
      o.Set("only_old", StringsJson(m.only_old));
      o.Set("only_new", StringsJson(m.only_new));
      return o;
    };
    structure.Set("stages", names(stages));
    structure.Set("tags", names(tags));
    structure.Set("flags", names(flags));
    structure.Set("scores", names(scores));
    root.Set("names_in_one_model", std::move(structure));

    JsonValue diff = JsonValue::Object();
    diff.Set("members", JsonValue::Int(differing));
    diff.Set("stage", JsonValue::Int(n_stage));
    diff.Set("tags", JsonValue::Int(n_tags));
    diff.Set("flags", JsonValue::Int(n_flags));
    diff.Set("only_old", JsonValue::Int(n_only_old));
    diff.Set("only_new", JsonValue::Int(n_only_new));
    diff.Set("scores", JsonValue::Int(n_scores));
    JsonValue listed = JsonValue::Array();
    for (size_t k = 0; k < deltas.size() && k < limit; ++k) {
      const MemberDelta& d = deltas[k];
      JsonValue m = JsonValue::Object();
      m.Set("member_id", JsonValue::String(d.pair.id()));
      if (d.pair.o == nullptr || d.pair.n == nullptr) {
        m.Set("only", JsonValue::String(d.pair.o == nullptr ? "new" : "old"));
        listed.Add(std::move(m));
        continue;
      }
      if (d.stage) {
        auto so = StageOf(om, *d.pair.o), sn = StageOf(nm, *d.pair.n);
        JsonValue st = JsonValue::Object();
        st.Set("old", so ? JsonValue::String(*so) : JsonValue::Null());
        st.Set("new", sn ? JsonValue::String(*sn) : JsonValue::Null());
        m.Set("stage", std::move(st));
      }
      if (!d.tags_gained.empty() || !d.tags_lost.empty()) {
        JsonValue t = JsonValue::Object();
        t.Set("gained", StringsJson(d.tags_gained));
        t.Set("lost", StringsJson(d.tags_lost));
        m.Set("tags", std::move(t));
      }
      if (!d.flags.empty()) {
        JsonValue fl = JsonValue::Object();
        for (size_t f : d.flags) {
          const Common& c = flags.both[f];
          JsonValue one = JsonValue::Object();
          one.Set("old", FlagJson(d.pair.o->view.flags[c.old_index]));
          one.Set("new", FlagJson(d.pair.n->view.flags[c.new_index]));
          fl.Set(c.name, std::move(one));
        }
        m.Set("flags", std::move(fl));
      }
      listed.Add(std::move(m));
    }
    diff.Set("listed", std::move(listed));
    diff.Set("truncated", JsonValue::Bool(deltas.size() > limit));
    root.Set("differences", std::move(diff));

    JsonValue stage_counts = JsonValue::Array();
    auto stage_row = [&](const std::string& name, int oi, int ni) {
      JsonValue r = JsonValue::Object();
      r.Set("stage", JsonValue::String(name));
      r.Set("old", oi >= 0 ? JsonValue::Int(orun.stage_now[oi]) : JsonValue::Null());
      r.Set("new", ni >= 0 ? JsonValue::Int(nrun.stage_now[ni]) : JsonValue::Null());
      stage_counts.Add(std::move(r));
    };
    for (int i = 0; i < om.num_stages(); ++i) {
      stage_row(om.stage_name(i), i, nm.FindStage(om.stage_name(i)));
    }
    for (const std::string& name : stages.only_new) stage_row(name, -1, nm.FindStage(name));
    root.Set("stages", std::move(stage_counts));

    JsonValue flag_counts = JsonValue::Array();
    auto flag_side = [](const LogAnalysis& run, int f) {
      if (f < 0) return JsonValue::Null();
      JsonValue o = JsonValue::Object();
      o.Set("raised", JsonValue::Int(run.flag_raised[f]));
      o.Set("members", JsonValue::Int(run.flag_members[f]));
      return o;
    };
    auto flag_row = [&](const std::string& name, int oi, int ni) {
      JsonValue r = JsonValue::Object();
      r.Set("flag", JsonValue::String(name));
      r.Set("old", flag_side(orun, oi));
      r.Set("new", flag_side(nrun, ni));
      flag_counts.Add(std::move(r));
    };
    for (int i = 0; i < om.num_flags(); ++i) {
      flag_row(om.flag_name(i), i, nm.FindFlag(om.flag_name(i)));
    }
    for (const std::string& name : flags.only_new) flag_row(name, -1, nm.FindFlag(name));
    root.Set("flags", std::move(flag_counts));

    JsonValue changes = JsonValue::Array();
    for (const FlagChange& fc : flag_changes) {
      JsonValue c = JsonValue::Object();
      c.Set("flag", JsonValue::String(fc.flag.name));
      c.Set("flagged_old", JsonValue::Int(fc.old_flagged));
      c.Set("flagged_new", JsonValue::Int(fc.new_flagged));
      auto list = [&](const std::vector<MemberPair>& ps) {
        JsonValue o = JsonValue::Object();
        o.Set("count", JsonValue::Int(static_cast<int64_t>(ps.size())));
        JsonValue a = JsonValue::Array();
        for (size_t k = 0; k < ps.size() && k < limit; ++k) {
          JsonValue m = JsonValue::Object();
          m.Set("member_id", JsonValue::String(ps[k].id()));
          m.Set("old", ScoresJson(om, ps[k].o));
          m.Set("new", ScoresJson(nm, ps[k].n));
          a.Add(std::move(m));
        }
        o.Set("members", std::move(a));
        o.Set("truncated", JsonValue::Bool(ps.size() > limit));
        return o;
      };
      c.Set("newly_flagged", list(fc.newly));
      c.Set("no_longer_flagged", list(fc.no_longer));
      changes.Add(std::move(c));
    }
    root.Set("flag_changes", std::move(changes));

    JsonValue dist = JsonValue::Array();
    for (const ScoreShift& sh : shifts) {
      JsonValue o = JsonValue::Object();
      o.Set("score", JsonValue::String(sh.score.name));
      o.Set("old", StatsJson(sh.old_stats));
      o.Set("new", StatsJson(sh.new_stats));
      o.Set("bands_at_threshold",
            sh.anchored ? JsonValue::Number(sh.threshold) : JsonValue::Null());
      JsonValue bands = JsonValue::Array();
      for (size_t b = 0; b < sh.bands.size(); ++b) {
        JsonValue j = JsonValue::Object();
        j.Set("lo", JsonValue::Number(sh.bands[b].lo));
        j.Set("hi", JsonValue::Number(sh.bands[b].hi));
        j.Set("old", JsonValue::Int(sh.old_counts[b]));
        j.Set("new", JsonValue::Int(sh.new_counts[b]));
        bands.Add(std::move(j));
      }
      o.Set("bands", std::move(bands));
      dist.Add(std::move(o));
    }
    root.Set("scores", std::move(dist));

    JsonValue calib = JsonValue::Object();
    calib.Set("conversion_types", StringsJson(conversions));
    calib.Set("conversion_events", JsonValue::Int(conversion_events));
    calib.Set("window_ms", JsonValue::Int(window_ms));
    for (int i = 0; i < 2; ++i) {
      JsonValue a = JsonValue::Array();
      for (const FlagCalibration& fc : calibrations[i]) {
        a.Add(CalibrationJson(*sides[i].model, fc));
      }
      calib.Set(i == 0 ? "old" : "new", std::move(a));
    }
    root.Set("calibration", std::move(calib));
    std::cout << root.Write();
    return kExitOk;
  }

  // --- Text -------------------------------------------------------------
  std::string out;
  auto line = [&out](const std::string& s) { out += s + "\n"; };
  line("OLD  " + sides[0].path + "  (model \"" + om.name() + "\")");
  line("NEW  " + sides[1].path + "  (model \"" + nm.name() + "\")");
  line("log  " + std::to_string(osum.rows_read) + " rows" +
       (osum.has_as_of ? ", as of " + Time(osum.as_of) : std::string()) +
       "; events applied: OLD " + std::to_string(osum.stats.events_applied) +
       ", NEW " + std::to_string(nsum.stats.events_applied));

  // Names that are in one model only.
  {
    std::vector<std::string> notes;
    auto note = [&](const char* kind, const NameMatch& m) {
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
        return s;
      };
      if (!m.only_old.empty()) notes.push_back(std::string("  ") + kind + " in OLD only: " + join(m.only_old));
      if (!m.only_new.empty()) notes.push_back(std::string("  ") + kind + " in NEW only: " + join(m.only_new));
    };
    note("stages", stages);
    note("tags", tags);
    note("flags", flags);
    note("scores", scores);
    if (!notes.empty()) {
      line("");
      line("Names in one model only (matched by name, so not compared):");
      for (const std::string& n : notes) line(n);
    }
  }

  line("");
  {
    std::string head = "Members: " + std::to_string(orun.members.size()) +
                       " under OLD, " + std::to_string(nrun.members.size()) +
                       " under NEW; ";
    if (differing == 0) {
      line(head + "no member differs in stage, tags or flags" +
           (n_scores == 0 ? ", nor in any score"
                          : "; " + std::to_string(n_scores) + " differ in scores"));
    } else {
      std::string counts = "stage " + std::to_string(n_stage) + ", tags " +
                           std::to_string(n_tags) + ", flags " + std::to_string(n_flags);
      if (n_only_old + n_only_new > 0) {
        counts += ", OLD only " + std::to_string(n_only_old) + ", NEW only " +
                  std::to_string(n_only_new);
      }
      line(head + std::to_string(differing) + " differ (" + counts + "); " +
           std::to_string(n_scores) + " differ in scores");
    }
    size_t width = 0;
    for (size_t k = 0; k < deltas.size() && k < limit; ++k) {
      width = std::max(width, deltas[k].pair.id().size());
    }
    for (size_t k = 0; k < deltas.size() && k < limit; ++k) {
      const MemberDelta& d = deltas[k];
      std::string what;
      auto add = [&what](const std::string& s) { what += (what.empty() ? "" : "; ") + s; };
      if (d.pair.n == nullptr) {
        add("scored under OLD only (every event of it rejected under NEW)");
      } else if (d.pair.o == nullptr) {
        add("scored under NEW only (every event of it rejected under OLD)");
      } else {
        if (d.stage) {
          auto so = StageOf(om, *d.pair.o), sn = StageOf(nm, *d.pair.n);
          add("stage " + so.value_or("(none)") + " -> " + sn.value_or("(none)"));
        }
        if (!d.tags_gained.empty() || !d.tags_lost.empty()) {
          std::string t = "tags";
          for (const std::string& g : d.tags_gained) t += " +" + g;
          for (const std::string& l : d.tags_lost) t += " -" + l;
          add(t);
        }
        for (size_t f : d.flags) {
          const Common& c = flags.both[f];
          add(c.name + ": " + FlagState(d.pair.o->view.flags[c.old_index]) + " -> " +
              FlagState(d.pair.n->view.flags[c.new_index]));
        }
      }
      line("  " + Pad(d.pair.id(), width) + "  " + what);
    }
    if (deltas.size() > limit) {
      line("  ... and " + std::to_string(deltas.size() - limit) +
           " more (--limit 0 lists every one)");
    }
  }

  if (om.num_stages() > 0 || nm.num_stages() > 0) {
    line("");
    size_t width = 18;
    for (int i = 0; i < om.num_stages(); ++i) width = std::max(width, om.stage_name(i).size() + 2);
    for (const std::string& s : stages.only_new) width = std::max(width, s.size() + 2);
    line(Pad("Members per stage", width + 2) + Pad("OLD", 8, true) + Pad("NEW", 8, true));
    auto row = [&](const std::string& name, int oi, int ni) {
      line("  " + Pad(name, width) +
           Pad(oi >= 0 ? std::to_string(orun.stage_now[oi]) : "-", 8, true) +
           Pad(ni >= 0 ? std::to_string(nrun.stage_now[ni]) : "-", 8, true));
    };
    for (int i = 0; i < om.num_stages(); ++i) {
      row(om.stage_name(i), i, nm.FindStage(om.stage_name(i)));
    }
    for (const std::string& name : stages.only_new) row(name, -1, nm.FindStage(name));
  }

  if (om.num_flags() > 0 || nm.num_flags() > 0) {
    line("");
    size_t width = 18;
    for (int i = 0; i < om.num_flags(); ++i) width = std::max(width, om.flag_name(i).size() + 2);
    for (const std::string& s : flags.only_new) width = std::max(width, s.size() + 2);
    line(Pad("Flags raised", width + 2) + Pad("OLD", 22, true) + Pad("NEW", 22, true));
    auto cell = [](const LogAnalysis& run, int f) -> std::string {
      if (f < 0) return "-";
      return std::to_string(run.flag_raised[f]) + " (" +
             std::to_string(run.flag_members[f]) + " members)";
    };
    auto row = [&](const std::string& name, int oi, int ni) {
      line("  " + Pad(name, width) + Pad(cell(orun, oi), 22, true) +
           Pad(cell(nrun, ni), 22, true));
    };
    for (int i = 0; i < om.num_flags(); ++i) {
      row(om.flag_name(i), i, nm.FindFlag(om.flag_name(i)));
    }
    for (const std::string& name : flags.only_new) row(name, -1, nm.FindFlag(name));
  }

  for (const FlagChange& fc : flag_changes) {
    line("");
    line("Flag " + fc.flag.name + ": flagged (raised at least once) OLD " +
         std::to_string(fc.old_flagged) + ", NEW " + std::to_string(fc.new_flagged) +
         "; " + std::to_string(fc.newly.size()) + " newly flagged, " +
         std::to_string(fc.no_longer.size()) + " no longer flagged");
    const std::optional<Common> score = shown_score(fc.flag);
    for (int which = 0; which < 2; ++which) {
      const std::vector<MemberPair>& ps = which == 0 ? fc.newly : fc.no_longer;
      if (ps.empty()) continue;
      size_t width = 20;
      for (size_t k = 0; k < ps.size() && k < limit; ++k) {
        width = std::max(width, ps[k].id().size() + 2);
      }
      std::string head = Pad(which == 0 ? "newly flagged" : "no longer flagged", width);
      if (score) {
        head += Pad(score->name + " OLD", 14, true) + Pad(score->name + " NEW", 14, true);
      }
      line("  " + head);
      for (size_t k = 0; k < ps.size() && k < limit; ++k) {
        std::string r = "  " + Pad(ps[k].id(), width);
        if (score) {
          r += Pad(ps[k].o ? Fixed(ps[k].o->view.scores[score->old_index]) : "-", 14, true);
          r += Pad(ps[k].n ? Fixed(ps[k].n->view.scores[score->new_index]) : "-", 14, true);
        }
        line(r);
      }
      if (ps.size() > limit) {
        line("  ... and " + std::to_string(ps.size() - limit) +
             " more (--limit 0 lists every one)");
      }
    }
  }

  for (const ScoreShift& sh : shifts) {
    line("");
    line("Score " + sh.score.name +
         (sh.anchored ? " (bands have the flag threshold " + Edge(sh.threshold) +
                            " as an edge)"
                      : std::string()));
    line(Pad("", 7) + Pad("members", 10, true) + Pad("mean", 11, true) +
         Pad("p50", 11, true) + Pad("p90", 11, true) + Pad("max", 11, true));
    auto stats_row = [&](const char* label, const ScoreStats& s) {
      line(Pad(std::string("  ") + label, 7) + Pad(std::to_string(s.members), 10, true) +
           Pad(Fixed(s.mean), 11, true) + Pad(Fixed(s.p50), 11, true) +
           Pad(Fixed(s.p90), 11, true) + Pad(Fixed(s.max), 11, true));
    };
    stats_row("OLD", sh.old_stats);
    stats_row("NEW", sh.new_stats);
    if (sh.bands.empty()) continue;
    std::vector<std::string> labels;
    size_t width = 10;
    for (const CalibrationBand& b : sh.bands) {
      labels.push_back("[" + Edge(b.lo) + ", " + Edge(b.hi) + ")");
      width = std::max(width, labels.back().size() + 2);
    }
    line("  " + Pad("band", width) + Pad("OLD", 8, true) + Pad("NEW", 8, true));
    for (size_t b = 0; b < sh.bands.size(); ++b) {
      line("  " + Pad(labels[b], width) + Pad(std::to_string(sh.old_counts[b]), 8, true) +
           Pad(std::to_string(sh.new_counts[b]), 8, true));
    }
  }

  line("");
  if (conversion_events == 0) {
    line("Calibration: no conversion event (" + conversion_list +
         ") in the log (--conversion TYPE names others)");
  } else {
    line("Calibration: " + std::to_string(conversion_events) + " conversion events (" +
         conversion_list + "); scores read " + window_text +
         " before the as-of time, conversions counted after that");
    for (int i = 0; i < 2; ++i) {
      const Model& m = *sides[i].model;
      const char* label = i == 0 ? "OLD" : "NEW";
      if (calibrations[i].empty()) {
        line(std::string("  ") + label + ": no flag whose condition reads score.X >= N");
        continue;
      }
      for (const FlagCalibration& fc : calibrations[i]) {
        const Calibration& c = fc.cal;
        std::string head = std::string("  ") + label + " " + m.flag_name(fc.flag) + " (" +
                           m.score_name(c.score) + " >= " + Edge(c.threshold) + ")";
        if (!c.available) {
          line(head + ": " + c.why_not);
          continue;
        }
        line(head + ": " + std::to_string(c.members) + " members scored at " +
             Time(c.cutoff) + " (left out: " +
             std::to_string(c.excluded_converted_before) + " converted by then, " +
             std::to_string(c.excluded_new) + " first seen after)");
        std::vector<std::string> labels;
        size_t width = 10;
        for (const CalibrationBand& b : c.bands) {
          labels.push_back("[" + Edge(b.lo) + ", " + Edge(b.hi) + ")");
          width = std::max(width, labels.back().size() + 2);
        }
        line("    " + Pad("band", width) + Pad("members", 9, true) +
             Pad("converted", 11, true) + Pad("rate", 8, true));
        for (size_t b = 0; b < c.bands.size(); ++b) {
          line("    " + Pad(labels[b], width) + Pad(std::to_string(c.bands[b].members), 9, true) +
               Pad(std::to_string(c.bands[b].converted), 11, true) +
               Pad(Percent(c.bands[b].converted, c.bands[b].members), 8, true));
        }
        line("    at or above " + Edge(c.threshold) + ": " + std::to_string(c.above) +
             " members, " + std::to_string(c.above_converted) + " converted (" +
             Percent(c.above_converted, c.above) + "); below: " + std::to_string(c.below) +
             " members, " + std::to_string(c.below_converted) + " converted (" +
             Percent(c.below_converted, c.below) + ")");
      }
    }
  }
  std::cout << out;
  return kExitOk;
}

}  // namespace leadscore::cli
