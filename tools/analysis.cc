#include "tools/analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "lib/base/strings.h"
#include "lib/base/time_math.h"
#include "lib/engine/engine.h"
#include "lib/model/compiled_model.h"
#include "re2/re2.h"

namespace leadscore::cli {

namespace {

// One scoring thread's share of a LogAnalysis.
class Collector final : public batch::ScoreVisitor, public internal::Tracer {
 public:
  Collector(const Model& model, const AnalyzeOptions& options) : model_(model) {
    const int rules = static_cast<int>(model.compiled().rules.size());
    rule_held_.assign(rules, 0);
    rule_granted_.assign(rules, 0);
    rule_points_.assign(rules, 0.0);
    tag_added_.assign(model.num_tags(), 0);
    for (const std::string& t : options.conversion_types) conversion_.insert(t);
  }

  // ScoreVisitor
  void BeginMember(std::string_view) override { current_ = MemberResult(); }
  void OnChange(const Change& c) override {
    switch (c.kind) {
      case ChangeKind::kTagAdded:
        ++tag_added_[c.tag];
        break;
      case ChangeKind::kStageChanged:
        current_.stage_changes.push_back({c.time, c.from_stage, c.to_stage});
        break;
      case ChangeKind::kFlagRaised:
        current_.raises.push_back(
            {c.time, c.flag, std::vector<double>(c.scores.begin(), c.scores.end()),
             std::vector<FlagReason>(c.reasons.begin(), c.reasons.end())});
        break;
      default:
        break;
    }
  }
  void EndMember(std::string_view, const MemberView* view) override {
    if (view == nullptr) return;
    current_.view = *view;
    members_.push_back(std::move(current_));
  }
  internal::Tracer* tracer() override { return this; }

  // Tracer
  void OnEvent(const Event& e, int64_t, bool) override {
    auto it = types_.find(AsAbsl(e.type));
    if (it == types_.end()) it = types_.emplace(std::string(e.type), 0).first;
    ++it->second;
    if (!conversion_.empty() && conversion_.count(std::string(e.type)) > 0) {
      if (current_.conversions == 0 || e.time < current_.first_conversion) {
        current_.first_conversion = e.time;
      }
      ++current_.conversions;
    }
  }
  void OnRule(const internal::RuleTrace& t) override {
    if (t.outcome != internal::RuleTrace::kGranted) return;
    ++rule_held_[t.rule];
    if (t.granted != 0) {
      ++rule_granted_[t.rule];
      rule_points_[t.rule] += t.granted;
    }
  }
  void OnApplied(const internal::MemberState&, int64_t) override {}

  // Adds this thread's share to `out` (members are merged later).
  void MergeInto(LogAnalysis* out) {
    for (const auto& [type, n] : types_) out->events_by_type[type] += n;
    for (size_t r = 0; r < rule_held_.size(); ++r) {
      out->rule_held[r] += rule_held_[r];
      out->rule_granted[r] += rule_granted_[r];
      out->rule_points[r] += rule_points_[r];
    }
    for (size_t t = 0; t < tag_added_.size(); ++t) out->tag_added[t] += tag_added_[t];
  }
  std::vector<MemberResult>& members() { return members_; }

 private:
  const Model& model_;
  absl::flat_hash_map<std::string, int64_t> types_;
  std::set<std::string> conversion_;
  std::vector<int64_t> rule_held_, rule_granted_, tag_added_;
  std::vector<double> rule_points_;
  MemberResult current_;
  std::vector<MemberResult> members_;
};

}  // namespace

int AnalyzeLog(std::shared_ptr<const Model> model, const LogArgs& log,
               const std::string& subcommand, const AnalyzeOptions& options,
               LogAnalysis* out) {
  const Model& m = *model;
  LogRun run(model, log);
  if (int code = run.Read(subcommand); code != kExitOk) return code;
  const int threads = log.options.threads;
  std::vector<std::unique_ptr<Collector>> collectors;
  std::vector<batch::ScoreVisitor*> visitors;
  for (int t = 0; t < threads; ++t) {
    collectors.push_back(std::make_unique<Collector>(m, options));
    visitors.push_back(collectors.back().get());
  }
  absl::Status s = run.job().Score(visitors);
  run.StopProgress();
  if (!s.ok()) {
    std::cerr << "leadscore " << subcommand << ": " << s.message() << "\n";
    return kExitError;
  }
  *out = LogAnalysis();
  out->summary = run.job().summary();
  const size_t rules = m.compiled().rules.size();
  out->rule_held.assign(rules, 0);
  out->rule_granted.assign(rules, 0);
  out->rule_points.assign(rules, 0.0);
  out->tag_added.assign(m.num_tags(), 0);
  out->tag_members.assign(m.num_tags(), 0);
  out->stage_reached.assign(m.num_stages(), 0);
  out->stage_now.assign(m.num_stages(), 0);
  out->flag_raised.assign(m.num_flags(), 0);
  out->flag_members.assign(m.num_flags(), 0);
  size_t n = 0;
  for (auto& c : collectors) {
    c->MergeInto(out);
    n += c->members().size();
  }
  out->members.reserve(n);
  for (auto& c : collectors) {
    for (MemberResult& r : c->members()) out->members.push_back(std::move(r));
    c->members().clear();
  }
  std::sort(out->members.begin(), out->members.end(),
            [](const MemberResult& a, const MemberResult& b) {
              return a.view.member_id < b.view.member_id;
            });
  const int initial = m.num_stages() > 0 ? m.compiled().initial_stage : -1;
  std::vector<uint8_t> seen(m.num_stages());
  std::vector<uint8_t> raised(m.num_flags());
  for (const MemberResult& r : out->members) {
    for (int t : r.view.tags) ++out->tag_members[t];
    if (r.view.stage >= 0) ++out->stage_now[r.view.stage];
    if (initial >= 0) {
      std::fill(seen.begin(), seen.end(), 0);
      seen[initial] = 1;
      for (const StageChange& c : r.stage_changes) seen[c.to] = 1;
      for (int st = 0; st < m.num_stages(); ++st) out->stage_reached[st] += seen[st];
    }
    std::fill(raised.begin(), raised.end(), 0);
    for (const FlagRaise& f : r.raises) {
      ++out->flag_raised[f.flag];
      raised[f.flag] = 1;
    }
    for (int f = 0; f < m.num_flags(); ++f) out->flag_members[f] += raised[f];
  }
  return kExitOk;
}

Threshold FlagThreshold(const Model& model, int flag) {
  Threshold t;
  if (flag < 0 || flag >= model.num_flags()) return t;
  static const RE2 kCmp(R"(score\.([A-Za-z_][A-Za-z0-9_]*)\s*(>=|>)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?))");
  re2::StringPiece input(model.compiled().flags[flag].when_text);
  std::string name, op, number;
  while (RE2::FindAndConsume(&input, kCmp, &name, &op, &number)) {
    const int score = model.FindScore(name);
    if (score < 0) continue;
    t.found = true;
    t.score = score;
    t.value = std::strtod(number.c_str(), nullptr);
    t.strict = op == ">";
    return t;
  }
  return t;
}

std::vector<CalibrationBand> MakeBands(double lo, double hi, bool has_threshold,
                                       double threshold, int max_bands) {
  std::vector<CalibrationBand> bands;
  if (!(hi >= lo) || !std::isfinite(lo) || !std::isfinite(hi)) return bands;
  // Two bands always suffice (an edge may fall between lo and hi whatever
  // the width); one may not.
  if (max_bands < 2) max_bands = 2;
  if (!std::isfinite(threshold)) has_threshold = false;
  double step;
  if (has_threshold && threshold > 0) {
    step = threshold / 4;
  } else {
    // All values equal: bands of a round width around them.
    const double range = hi > lo ? hi - lo : std::max(10.0, std::fabs(hi));
    const double raw = range / 10;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
  }
  // Edges are origin + k * step: with a threshold the threshold is always an
  // edge, even once the step has grown past it.
  const double origin = has_threshold ? threshold : 0;
  auto index = [&](double v, double st) { return std::floor((v - origin) / st); };
  auto count = [&](double st) {
    return static_cast<int64_t>(index(hi, st) - index(lo, st)) + 1;
  };
  while (count(step) > max_bands && std::isfinite(step)) step *= 2;
  const int64_t first = static_cast<int64_t>(index(lo, step));
  const int64_t n = count(step);
  for (int64_t k = 0; k < n; ++k) {
    CalibrationBand b;
    b.lo = origin + static_cast<double>(first + k) * step;
    b.hi = origin + static_cast<double>(first + k + 1) * step;
    bands.push_back(b);
  }
  return bands;
}

size_t BandIndex(const std::vector<CalibrationBand>& bands, double value) {
  if (bands.empty()) return 0;
  // The last band whose lo is <= value (the first band for values below it).
  auto it = std::upper_bound(
      bands.begin(), bands.end(), value,
      [](double v, const CalibrationBand& b) { return v < b.lo; });
  return it == bands.begin() ? 0 : static_cast<size_t>(it - bands.begin()) - 1;
}

int Calibrate(std::shared_ptr<const Model> model, const LogArgs& log,
              const std::string& subcommand, const CalibrationOptions& options,
              const LogAnalysis& full, Calibration* out) {
  *out = Calibration();
  out->score = options.score;
  out->has_threshold = options.has_threshold;
  out->threshold = options.threshold;
  if (options.score < 0) {
    out->why_not = "no score to band (give --score, or a flag `score.X >= N`)";
    return kExitOk;
  }
  int64_t converters = 0;
  for (const MemberResult& r : full.members) converters += r.conversions > 0;
  if (converters == 0) {
    std::string types;
    for (const std::string& t : options.conversion_types) {
      types += (types.empty() ? "" : ", ") + t;
    }
    out->why_not = "no conversion event (" + (types.empty() ? "none given" : types) +
                   ") in the log";
    return kExitOk;
  }
  if (!full.summary.has_as_of) {
    out->why_not = "the log has no valid row";
    return kExitOk;
  }
  out->as_of = full.summary.as_of;
  out->cutoff = SubSat(out->as_of, options.window_ms);
  LogArgs early = log;
  early.options.as_of = out->cutoff;
  early.quiet = true;
  early.quiet_bad_rows = true;  // reported by the first read
  LogAnalysis at_cutoff;
  if (int code = AnalyzeLog(model, early, subcommand, AnalyzeOptions(), &at_cutoff);
      code != kExitOk) {
    return code;
  }
  // Both lists are in member_id order.
  std::vector<std::pair<double, bool>> points;  // score at cutoff, converted later
  size_t j = 0;
  for (const MemberResult& r : full.members) {
    while (j < at_cutoff.members.size() &&
           at_cutoff.members[j].view.member_id < r.view.member_id) {
      ++j;
    }
    if (j == at_cutoff.members.size() ||
        at_cutoff.members[j].view.member_id != r.view.member_id) {
      ++out->excluded_new;
      continue;
    }
    if (r.conversions > 0 && r.first_conversion <= out->cutoff) {
      ++out->excluded_converted_before;
      continue;
    }
    const double score = at_cutoff.members[j].view.scores[options.score];
    const bool converted = r.conversions > 0;  // first one after the cutoff
    points.push_back({score, converted});
  }
  out->members = static_cast<int64_t>(points.size());
  if (points.empty()) {
    out->why_not = "no member was scored at the cutoff";
    return kExitOk;
  }
  double lo = points[0].first, hi = points[0].first;
  for (const auto& p : points) {
    lo = std::min(lo, p.first);
    hi = std::max(hi, p.first);
  }
  if (options.has_threshold) hi = std::max(hi, options.threshold);
  out->bands = MakeBands(lo, hi, options.has_threshold, options.threshold);
  for (const auto& [score, converted] : points) {
    const size_t k = BandIndex(out->bands, score);
    ++out->bands[k].members;
    out->bands[k].converted += converted;
    if (options.has_threshold) {
      if (score >= options.threshold) {
        ++out->above;
        out->above_converted += converted;
      } else {
        ++out->below;
        out->below_converted += converted;
      }
    }
  }
  out->available = true;
  return kExitOk;
}

}  // namespace leadscore::cli
