// `leadscore explain`: one member's story. The log is scored exactly as
// `leadscore score` scores it (same readers, bad rows, order and as-of, via
// batch::BatchJob::Score with visitors); the member's events are traced
// through the engine (internal::Tracer): what each rule granted and what a
// cap, a late event's decay or a score bound withheld, the scores after each
// event, tags, stages, flags, rejected rows; then the ledger and the member
// at the as-of time. Readable text, or one JSON document (--json).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "leadscore/changes.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "leadscore/v1/model.pb.h"
#include "lib/batch/batch.h"
#include "lib/engine/engine.h"
#include "lib/engine/member_state.h"
#include "lib/io/json_writer.h"
#include "lib/model/compiled_model.h"
#include "tools/cli.h"
#include "tools/log_args.h"

namespace leadscore::cli {

namespace {

constexpr char kExplainUsage[] =
    R"(usage: leadscore explain --model M --events LOG [--events LOG2 ...]
                        --member ID [--as-of T] [--json]
                        [--format csv|jsonl|pb] [--order time|arrival]
                        [--threads N] [--strict] [--quiet]

Explains one member's scores: the log is scored exactly as `leadscore score`
scores it, and the member's rows are shown in the order they were applied:
for each event, the points each rule granted (and what a cap, the decay of a
late event, or the score's min/max withheld), the scores after it, tags
added and removed, stage changes, flags raised (with their reasons) and
re-armed; rejected rows with their reason. Then the ledger at the as-of time
(what each rule contributes now, after decay; fit rules too) and the final
scores, stage, tags, counters and flags.

  --member ID        the member to explain (its member_id, exactly)
  --json             one JSON document instead of text (docs/explain.md)
  --model, --events, --format, --as-of, --order, --threads, --strict, --quiet:
                     as for `leadscore score` (see `leadscore score --help`)

Exit codes: 0 ok; 1 bad usage, model error, I/O error, or no row of the
member in the log; 2 --strict met a bad row.
)";

using internal::CompiledModel;
using internal::RuleTrace;

// ---------------------------------------------------------------------------
// Formatting for people.

// RFC 3339 UTC; milliseconds only when there are some.
std::string Time(int64_t ms) {
  const absl::Time t = absl::FromUnixMillis(ms);
  const char* fmt = (ms % 1000 == 0) ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M:%E3SZ";
  return absl::FormatTime(fmt, t, absl::UTCTimeZone());
}

// "30d", "2d3h", "45m", "1s250ms"; "0s" for zero.
std::string Duration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::pair<int64_t, const char*> units[] = {
      {86400000LL, "d"}, {3600000LL, "h"}, {60000LL, "m"},
      {1000LL, "s"},     {1LL, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

// A number for reading: at most 6 decimals, no trailing zeros, no "-0";
// values too small for 6 decimals in 3 significant digits.
std::string Num(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  if (s == "0" && v != 0) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    s = buf;
  }
  return s;
}

// With a sign: "+5", "-20", "+0".
std::string Signed(double v) {
  std::string s = Num(v);
  return s[0] == '-' ? s : "+" + s;
}

// A member id for reading ("" would print as nothing).
std::string MemberName(const std::string& id) {
  return id.empty() ? "\"\" (no member_id)" : id;
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string RejectMeaning(RejectReason r) {
  switch (r) {
    case RejectReason::kInvalid:
      return "a bad row, reported on stderr with its line, or a value that is "
             "not a finite number";
    case RejectReason::kTooLate:
      return "older than the member's clock minus the allowed lateness";
    case RejectReason::kDuplicate:
      return "an event with this event_id was already applied";
    case RejectReason::kAfterAsOf:
      return "after the as-of time";
  }
  return "";
}

// ---------------------------------------------------------------------------
// The model's texts (conditions, formulas, durations), from the model file
// parsed once more as a message; the compiled model keeps no source text.

struct ModelTexts {
  std::map<std::string, std::string> formula;      // by score name
  std::map<std::string, std::string> score_bounds;  // "half-life 30d, min 0"
  std::map<std::string, std::string> rule_when;     // by rule name
  std::map<std::string, std::string> rule_cap;      // "at most 5 per 1d"
  std::map<std::string, std::string> tag_when;      // state tags
  std::map<std::string, std::string> tag_on;        // event tags
  std::map<std::string, std::string> tag_ttl;
  std::vector<std::string> transition;  // by index: "when ...", "on ..."
  std::map<std::string, std::string> flag_when, flag_rearm;
};

std::optional<v1::Model> ParseModelProto(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  v1::Model proto;
  const std::string text = buf.str();
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    if (!google::protobuf::util::JsonStringToMessage(text, &proto).ok()) {
      return std::nullopt;
    }
  } else if (!google::protobuf::TextFormat::ParseFromString(text, &proto)) {
    return std::nullopt;
  }
  return proto;
}

ModelTexts GetTexts(const std::string& path, const CompiledModel& cm) {
  ModelTexts t;
  std::optional<v1::Model> p = ParseModelProto(path);
  if (!p) return t;
  for (const v1::Score& s : p->score()) {
    if (!s.formula().empty()) t.formula[s.name()] = s.formula();
  }
  for (const v1::Rule& r : p->rule()) {
    if (!r.when().empty()) t.rule_when[r.name()] = r.when();
    if (r.has_cap()) {
      t.rule_cap[r.name()] =
          "at most " + Num(r.cap().max_points()) +
          (r.cap().window().empty() ? " in all" : " per " + r.cap().window());
    }
  }
  for (const v1::Tag& tag : p->tag()) {
    if (!tag.on().empty()) {
      t.tag_on[tag.name()] = tag.on();
      if (!tag.ttl().empty()) t.tag_ttl[tag.name()] = tag.ttl();
    } else {
      t.tag_when[tag.name()] = tag.when();
    }
  }
  const auto& transitions = p->lifecycle().transition();
  if (static_cast<size_t>(transitions.size()) == cm.transitions.size()) {
    for (int i = 0; i < transitions.size(); ++i) {
      const v1::Transition& tr = transitions[i];
      if (cm.transitions[i].to < 0 || cm.stages[cm.transitions[i].to] != tr.to()) {
        t.transition.clear();
        break;
      }
      std::string s;
      if (!tr.on().empty()) s = "on " + tr.on();
      if (!tr.when().empty()) s += (s.empty() ? "when " : " when ") + tr.when();
      t.transition.push_back(s);
    }
  }
  for (const v1::Flag& f : p->flag()) {
    t.flag_when[f.name()] = f.when();
    if (!f.rearm().empty()) t.flag_rearm[f.name()] = f.rearm();
  }
  return t;
}

std::string Lookup(const std::map<std::string, std::string>& m,
                   const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

// ---------------------------------------------------------------------------
// What is collected for the member.

// A change, copied out of the ChangeSink call.
struct ChangeRec {
  ChangeKind kind = ChangeKind::kTagAdded;
  bool has_time = true;
  int64_t time = 0;
  int tag = -1, from_stage = -1, to_stage = -1, transition = -1, flag = -1;
  std::vector<double> scores;
  std::vector<FlagReason> reasons;
  std::string event_id;
  RejectReason reason = RejectReason::kInvalid;
  std::string json;  // the changes.jsonl line, without its newline
};

struct RuleStep {
  RuleTrace trace;
  double before = 0;       // the score's value before this rule (at tau)
  double after = 0;        // and after it
  int bound = 0;           // -1: min reached, +1: max reached, 0: neither
};

struct Step {
  bool rejected = false;
  ChangeRec rejection;  // rejected rows
  // Applied events:
  std::string event_id, type, group_id, channel, account_id;
  int64_t time = 0, tau = 0;
  double value = 0;
  bool first = false;
  std::vector<std::pair<std::string, std::string>> attrs, profile;
  std::vector<std::pair<int, bool>> fit_changes;  // fit index, holds now
  std::vector<ChangeRec> changes_before;  // step 2: time passed, at tau
  MemberView before;  // read at tau after step 2, before profile and rules
  std::vector<RuleStep> rules;
  std::vector<ChangeRec> changes;  // steps 4-5
  MemberView after;  // the member read at tau, after the event
};

// One per scoring thread; only the one that meets the member collects.
class ExplainVisitor final : public batch::ScoreVisitor, public internal::Tracer {
 public:
  ExplainVisitor(const Model& model, std::string member)
      : model_(model), cm_(model.compiled()), member_(std::move(member)),
        reader_(cm_) {}

  bool Wants(std::string_view member_id) override { return member_id == member_; }
  void BeginMember(std::string_view) override { seen_ = true; }
  internal::Tracer* tracer() override { return this; }

  void OnChange(const Change& c) override {
    ChangeRec r;
    r.kind = c.kind;
    r.has_time = c.has_time;
    r.time = c.time;
    r.tag = c.tag;
    r.from_stage = c.from_stage;
    r.to_stage = c.to_stage;
    r.transition = c.transition;
    r.flag = c.flag;
    r.scores.assign(c.scores.begin(), c.scores.end());
    r.reasons.assign(c.reasons.begin(), c.reasons.end());
    r.event_id = std::string(c.event_id);
    r.reason = c.reason;
    io::AppendChangeLine(&r.json, model_, c);
    if (!r.json.empty() && r.json.back() == '\n') r.json.pop_back();
    if (c.kind == ChangeKind::kRejected) {
      Step s;
      s.rejected = true;
      s.rejection = std::move(r);
      steps_.push_back(std::move(s));
    } else if (in_event_) {
      Step& step = steps_.back();
      (time_passed_ ? step.changes : step.changes_before).push_back(std::move(r));
    } else {
      as_of_changes_.push_back(std::move(r));
    }
  }

  void OnEvent(const Event& e, int64_t tau, bool is_new) override {
    Step s;
    s.event_id = std::string(e.event_id);
    s.type = std::string(e.type);
    s.group_id = std::string(e.group_id);
    s.channel = std::string(e.channel);
    s.account_id = std::string(e.account_id);
    s.time = e.time;
    s.tau = tau;
    s.value = e.value;
    s.first = is_new;
    for (const KeyValue& kv : e.attrs) s.attrs.emplace_back(kv.key, kv.value);
    for (const KeyValue& kv : e.profile) s.profile.emplace_back(kv.key, kv.value);
    steps_.push_back(std::move(s));
    in_event_ = true;
    time_passed_ = false;
  }

  void OnTimePassed(const internal::MemberState& s, int64_t tau) override {
    time_passed_ = true;
    steps_.back().before = reader_.Read(s, tau);
    // The scores event rules add to, as the rules will find them (profile
    // updates change only fit scores).
    running_ = s.scores;
  }

  void OnRule(const RuleTrace& t) override {
    RuleStep r;
    r.trace = t;
    const internal::ScoreDef& sd = cm_.scores[cm_.rules[t.rule].score];
    double& v = running_[sd.slot];
    r.before = v;
    if (t.outcome == RuleTrace::kGranted) {
      const double sum = v + t.decayed;
      if (sd.has_max && sum > sd.max) r.bound = 1;
      if (sd.has_min && sum < sd.min) r.bound = -1;
      v = v + t.granted;
    }
    r.after = v;
    steps_.back().rules.push_back(r);
  }

  void OnApplied(const internal::MemberState& s, int64_t tau) override {
    Step& step = steps_.back();
    step.after = reader_.Read(s, tau);
    for (size_t f = 0; f < cm_.fits.size(); ++f) {
      const bool before = prev_fit_.empty() ? false : prev_fit_[f] != 0;
      if ((s.fit_holds[f] != 0) != before) {
        step.fit_changes.emplace_back(static_cast<int>(f), s.fit_holds[f] != 0);
      }
    }
    prev_fit_ = s.fit_holds;
    in_event_ = false;
  }

  void EndMember(std::string_view, const MemberView* view) override {
    if (view != nullptr) final_ = *view;
  }

  bool seen() const { return seen_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<ChangeRec>& as_of_changes() const { return as_of_changes_; }
  const std::optional<MemberView>& final_view() const { return final_; }

 private:
  const Model& model_;
  const CompiledModel& cm_;
  const std::string member_;
  internal::Engine reader_;  // only Read: the scores after each event
  bool seen_ = false;
  bool in_event_ = false;
  bool time_passed_ = false;
  std::vector<Step> steps_;
  std::vector<ChangeRec> as_of_changes_;
  std::optional<MemberView> final_;
  std::vector<double> running_;  // by score slot, during an event
  std::vector<uint8_t> prev_fit_;
};

// Per event rule: how many events granted something, and the sum granted
// (undecayed).
struct RuleTotals {
  int events = 0;
  double granted = 0;
};

std::vector<RuleTotals> Totals(const CompiledModel& cm, const std::vector<Step>& steps) {
  std::vector<RuleTotals> totals(cm.rules.size());
  for (const Step& s : steps) {
    for (const RuleStep& r : s.rules) {
      if (r.trace.outcome != RuleTrace::kGranted || r.trace.granted == 0) continue;
      ++totals[r.trace.rule].events;
      totals[r.trace.rule].granted += r.trace.granted;
    }
  }
  return totals;
}

const char* OutcomeName(RuleTrace::Outcome o) {
  switch (o) {
    case RuleTrace::kGranted:
      return "granted";
    case RuleTrace::kOnceDone:
      return "once_done";
    case RuleTrace::kConditionFalse:
      return "condition_false";
  }
  return "";
}

// ---------------------------------------------------------------------------
// JSON.

void Key(std::string* out, std::string_view k) {
  io::AppendJsonString(out, k);
  out->push_back(':');
}

void Pairs(std::string* out, const std::vector<std::pair<std::string, std::string>>& kv) {
  out->push_back('{');
  for (size_t i = 0; i < kv.size(); ++i) {
    if (i > 0) out->push_back(',');
    Key(out, kv[i].first);
    io::AppendJsonString(out, kv[i].second);
  }
  out->push_back('}');
}

void ChangeList(std::string* out, const std::vector<ChangeRec>& changes) {
  out->push_back('[');
  for (size_t i = 0; i < changes.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append(changes[i].json);
  }
  out->push_back(']');
}

std::string MemberJson(const Model& model, const MemberView& v) {
  std::string s;
  io::AppendMemberLine(&s, model, v);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string RenderJson(const Model& model, const std::string& member,
                       int64_t as_of, const ExplainVisitor& x) {
  const CompiledModel& cm = model.compiled();
  std::string o;
  o += "{";
  Key(&o, "member_id");
  io::AppendJsonString(&o, member);
  o += ",";
  Key(&o, "as_of");
  io::AppendJsonInt(&o, x.final_view() ? x.final_view()->time : as_of);
  // The model, as far as the timeline needs it to be checked.
  o += ",\"model\":{";
  Key(&o, "name");
  io::AppendJsonString(&o, cm.name);
  o += ",\"scores\":[";
  for (size_t i = 0; i < cm.scores.size(); ++i) {
    const internal::ScoreDef& d = cm.scores[i];
    if (i > 0) o += ",";
    o += "{\"name\":";
    io::AppendJsonString(&o, d.name);
    o += d.derived ? ",\"kind\":\"derived\"" : d.fit ? ",\"kind\":\"fit\"" : ",\"kind\":\"event\"";
    o += ",\"half_life_ms\":";
    io::AppendJsonDouble(&o, d.half_life_ms);
    o += ",\"min\":";
    if (d.has_min) io::AppendJsonDouble(&o, d.min); else o += "null";
    o += ",\"max\":";
    if (d.has_max) io::AppendJsonDouble(&o, d.max); else o += "null";
    o += "}";
  }
  o += "],\"fits\":[";
  for (size_t f = 0; f < cm.fits.size(); ++f) {
    if (f > 0) o += ",";
    o += "{\"rule\":";
    io::AppendJsonString(&o, cm.fits[f].name);
    o += ",\"score\":";
    io::AppendJsonString(&o, cm.scores[cm.fits[f].score].name);
    o += ",\"points\":";
    io::AppendJsonDouble(&o, cm.fits[f].points);
    o += "}";
  }
  o += "]},\"timeline\":[";
  int applied = 0;
  int rejected[kNumRejectReasons] = {};
  const auto& steps = x.steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (i > 0) o += ",";
    if (s.rejected) {
      // The changes.jsonl line of the rejection.
      o += s.rejection.json;
      ++rejected[static_cast<int>(s.rejection.reason)];
      continue;
    }
    ++applied;
    o += "{\"kind\":\"event\",\"event_id\":";
    io::AppendJsonString(&o, s.event_id);
    o += ",\"type\":";
    io::AppendJsonString(&o, s.type);
    o += ",\"time\":";
    io::AppendJsonInt(&o, s.time);
    o += ",\"tau\":";
    io::AppendJsonInt(&o, s.tau);
    o += s.first ? ",\"first\":true" : ",\"first\":false";
    o += ",\"value\":";
    io::AppendJsonDouble(&o, s.value);
    o += ",\"group_id\":";
    io::AppendJsonString(&o, s.group_id);
    o += ",\"channel\":";
    io::AppendJsonString(&o, s.channel);
    o += ",\"account_id\":";
    io::AppendJsonString(&o, s.account_id);
    o += ",\"attrs\":";
    Pairs(&o, s.attrs);
    o += ",\"profile\":";
    Pairs(&o, s.profile);
    o += ",\"changes_before\":";
    ChangeList(&o, s.changes_before);
    o += ",\"before\":";
    o += MemberJson(model, s.before);
    o += ",\"fit\":[";
    for (size_t k = 0; k < s.fit_changes.size(); ++k) {
      const internal::FitDef& fd = cm.fits[s.fit_changes[k].first];
      if (k > 0) o += ",";
      o += "{\"rule\":";
      io::AppendJsonString(&o, fd.name);
      o += ",\"score\":";
      io::AppendJsonString(&o, cm.scores[fd.score].name);
      o += ",\"points\":";
      io::AppendJsonDouble(&o, fd.points);
      o += s.fit_changes[k].second ? ",\"holds\":true}" : ",\"holds\":false}";
    }
    o += "],\"rules\":[";
    for (size_t k = 0; k < s.rules.size(); ++k) {
      const RuleStep& r = s.rules[k];
      const RuleTrace& t = r.trace;
      if (k > 0) o += ",";
      o += "{\"rule\":";
      io::AppendJsonString(&o, cm.rules[t.rule].name);
      o += ",\"score\":";
      io::AppendJsonString(&o, cm.scores[cm.rules[t.rule].score].name);
      o += ",\"outcome\":\"";
      o += OutcomeName(t.outcome);
      o += "\",\"points\":";
      io::AppendJsonDouble(&o, t.points);
      if (t.outcome == RuleTrace::kGranted) {
        o += ",\"after_cap\":";
        io::AppendJsonDouble(&o, t.after_cap);
        o += ",\"decayed\":";
        io::AppendJsonDouble(&o, t.decayed);
        o += ",\"granted\":";
        io::AppendJsonDouble(&o, t.granted);
        o += ",\"cap_withheld\":";
        io::AppendJsonDouble(&o, t.points - t.after_cap);
        o += ",\"decay_withheld\":";
        io::AppendJsonDouble(&o, t.after_cap - t.decayed);
        o += ",\"bound_withheld\":";
        io::AppendJsonDouble(&o, t.decayed - t.granted);
        o += ",\"bound\":";
        o += r.bound > 0 ? "\"max\"" : r.bound < 0 ? "\"min\"" : "null";
        o += ",\"score_before\":";
        io::AppendJsonDouble(&o, r.before);
        o += ",\"score_after\":";
        io::AppendJsonDouble(&o, r.after);
      }
      o += "}";
    }
    o += "],\"changes\":";
    ChangeList(&o, s.changes);
    o += ",\"after\":";
    o += MemberJson(model, s.after);
    o += "}";
  }
  o += "],\"as_of_changes\":";
  ChangeList(&o, x.as_of_changes());
  o += ",\"ledger\":[";
  if (x.final_view()) {
    const std::vector<RuleTotals> totals = Totals(cm, steps);
    const auto& ledger = x.final_view()->ledger;
    for (size_t i = 0; i < ledger.size(); ++i) {
      const MemberView::LedgerEntry& e = ledger[i];
      const bool fit = e.contributor >= static_cast<int>(cm.rules.size());
      if (i > 0) o += ",";
      o += "{\"rule\":";
      io::AppendJsonString(&o, model.contributor_name(e.contributor));
      o += fit ? ",\"kind\":\"fit\"" : ",\"kind\":\"event\"";
      o += ",\"score\":";
      io::AppendJsonString(&o, model.score_name(e.score));
      o += ",\"value\":";
      io::AppendJsonDouble(&o, e.value);
      if (!fit) {
        o += ",\"events\":";
        io::AppendJsonInt(&o, totals[e.contributor].events);
        o += ",\"granted\":";
        io::AppendJsonDouble(&o, totals[e.contributor].granted);
      }
      o += "}";
    }
  }
  o += "],\"final\":";
  o += x.final_view() ? MemberJson(model, *x.final_view()) : "null";
  o += ",\"counts\":{\"applied\":";
  io::AppendJsonInt(&o, applied);
  o += ",\"rejected\":{";
  for (int r = 0; r < kNumRejectReasons; ++r) {
    if (r > 0) o += ",";
    Key(&o, RejectReasonName(static_cast<RejectReason>(r)));
    io::AppendJsonInt(&o, rejected[r]);
  }
  o += "}}}\n";
  return o;
}

// ---------------------------------------------------------------------------
// Text.

constexpr size_t kLabel = 10;  // width of the label column inside an event

class TextWriter {
 public:
  TextWriter(const Model& model, const ModelTexts& texts, std::ostream& out)
      : model_(model), cm_(model.compiled()), texts_(texts), out_(out) {}

  void Line(const std::string& label, const std::string& text) {
    out_ << "    " << Pad(label, kLabel) << text << "\n";
  }

  std::string ScoreList(const std::vector<double>& scores, const char* sep) {
    std::string s;
    for (size_t i = 0; i < scores.size(); ++i) {
      if (i > 0) s += sep;
      s += cm_.scores[i].name + " " + Num(scores[i]);
    }
    return s;
  }

  std::string ScoreHeader() {
    std::string s;
    for (size_t i = 0; i < cm_.scores.size(); ++i) {
      const internal::ScoreDef& d = cm_.scores[i];
      if (i > 0) s += ", ";
      s += d.name;
      if (d.derived) {
        const std::string f = Lookup(texts_.formula, d.name);
        s += f.empty() ? " (derived)" : " = " + f;
        continue;
      }
      std::vector<std::string> parts;
      if (d.fit) parts.push_back("from fit rules");
      if (d.half_life_ms > 0) {
        parts.push_back("half-life " + Duration(static_cast<int64_t>(d.half_life_ms)));
      }
      if (d.has_min) parts.push_back("min " + Num(d.min));
      if (d.has_max) parts.push_back("max " + Num(d.max));
      if (!parts.empty()) {
        s += " (";
        for (size_t k = 0; k < parts.size(); ++k) s += (k ? ", " : "") + parts[k];
        s += ")";
      }
    }
    return s;
  }

  void Change(const ChangeRec& c) {
    switch (c.kind) {
      case ChangeKind::kTagAdded:
      case ChangeKind::kTagRemoved: {
        const bool added = c.kind == ChangeKind::kTagAdded;
        const std::string& name = cm_.tags[c.tag].name;
        std::string why;
        if (cm_.tags[c.tag].event_tag) {
          const std::string ttl = Lookup(texts_.tag_ttl, name);
          if (added) {
            const std::string on = Lookup(texts_.tag_on, name);
            why = on.empty() ? "event tag" : "event tag on " + on;
          } else {
            why = ttl.empty() ? "ttl passed" : "ttl " + ttl + " passed";
          }
        } else {
          const std::string when = Lookup(texts_.tag_when, name);
          if (!when.empty()) why = added ? when : "no longer " + when;
        }
        Line("tag", std::string(added ? "+ " : "- ") + name +
                        (why.empty() ? "" : "  (" + why + ")"));
        break;
      }
      case ChangeKind::kStageChanged: {
        std::string s = cm_.stages[c.from_stage] + " -> " + cm_.stages[c.to_stage] +
                        "  (transition " + std::to_string(c.transition);
        if (c.transition >= 0 && static_cast<size_t>(c.transition) < texts_.transition.size()) {
          s += ": " + texts_.transition[c.transition];
        }
        Line("stage", s + ")");
        break;
      }
      case ChangeKind::kFlagRaised: {
        const std::string& name = cm_.flags[c.flag].name;
        const std::string when = Lookup(texts_.flag_when, name);
        Line("flag", name + " raised" + (when.empty() ? "" : "  (" + when + ")"));
        std::string reasons;
        for (size_t i = 0; i < c.reasons.size(); ++i) {
          const FlagReason& r = c.reasons[i];
          if (i > 0) reasons += ", ";
          reasons += model_.contributor_name(r.contributor) + " " + Num(r.points) +
                     " (" + cm_.scores[r.score].name + ")";
        }
        Line("", "scores " + ScoreList(c.scores, ", "));
        Line("", "reasons " + (reasons.empty() ? std::string("(none)") : reasons));
        break;
      }
      case ChangeKind::kFlagRearmed: {
        const std::string& name = cm_.flags[c.flag].name;
        std::string why = Lookup(texts_.flag_rearm, name);
        if (cm_.flags[c.flag].cooldown_ms > 0) {
          why += (why.empty() ? "" : ", ") + std::string("cooldown ") +
                 Duration(cm_.flags[c.flag].cooldown_ms) + " passed";
        }
        Line("flag", name + " re-armed" + (why.empty() ? "" : "  (" + why + ")"));
        break;
      }
      case ChangeKind::kRejected:
        break;
    }
  }

  void Rule(const RuleStep& r, size_t name_width, int64_t time, int64_t tau) {
    const RuleTrace& t = r.trace;
    const internal::RuleDef& rd = cm_.rules[t.rule];
    const internal::ScoreDef& sd = cm_.scores[rd.score];
    std::string s = Pad(rd.name, name_width) + "  ";
    if (t.outcome == RuleTrace::kOnceDone) {
      Line("rule", s + "no points: a once rule, already applied");
      return;
    }
    if (t.outcome == RuleTrace::kConditionFalse) {
      const std::string when = Lookup(texts_.rule_when, rd.name);
      Line("rule", s + "no points: condition false" + (when.empty() ? "" : " (" + when + ")"));
      return;
    }
    s += Pad(Signed(t.granted), 9) + " " + sd.name + " " + Num(r.before) + " -> " + Num(r.after);
    std::vector<std::string> notes;
    if (t.points != t.after_cap) {
      const std::string cap = Lookup(texts_.rule_cap, rd.name);
      notes.push_back("cap withheld " + Num(t.points - t.after_cap) +
                      (cap.empty() ? "" : " (" + cap + ")"));
    }
    if (t.after_cap != t.decayed) {
      notes.push_back("late by " + Duration(tau - time) + ": " + Num(t.after_cap) +
                      " decayed to " + Num(t.decayed));
    }
    if (r.bound != 0) {
      // What the bound held back: points not granted, a deduction not made,
      // or (a score decayed below its min) points added to reach the min.
      const double w = t.decayed - t.granted;
      std::string note = (r.bound > 0 ? "max " + Num(sd.max) : "min " + Num(sd.min)) + " reached: ";
      if (w >= 0) {
        note += Num(w) + " withheld";
      } else if (t.decayed < 0) {
        note += Num(-w) + " not deducted";
      } else {
        note += Num(-w) + " more granted to reach it";
      }
      notes.push_back(note);
    }
    for (const std::string& n : notes) s += "; " + n;
    Line("rule", s);
  }

  void Event(const Step& s, const Step* prev, size_t name_width) {
    std::string head = Time(s.time) + "  " + (s.type.empty() ? "(no type)" : s.type) +
                       "  " + (s.event_id.empty() ? "(no event_id)" : s.event_id);
    if (s.value != 0) head += "  value=" + Num(s.value);
    for (const auto& [k, v] : s.attrs) head += "  " + k + "=" + v;
    out_ << head << "\n";
    if (s.first) {
      Line("member", cm_.stages.empty()
                         ? "created by this first event"
                         : "created by this first event, in stage " +
                               cm_.stages[cm_.initial_stage]);
    }
    if (s.tau != s.time) {
      Line("late", "applied at the member's clock, " + Time(s.tau) + " (" +
                       Duration(s.tau - s.time) + " later)");
    }
    // What time did before the event, when it changed something.
    if (prev != nullptr && !s.changes_before.empty()) {
      Line("before", (s.tau != prev->tau ? Duration(s.tau - prev->tau) + " later: " : "") +
                         ScoreList(s.before.scores, "  "));
    }
    for (const ChangeRec& c : s.changes_before) Change(c);
    if (!s.profile.empty()) {
      std::string p;
      for (size_t i = 0; i < s.profile.size(); ++i) {
        p += (i ? ", " : "") + s.profile[i].first + "=" + s.profile[i].second;
      }
      Line("profile", p);
    }
    for (const auto& [f, holds] : s.fit_changes) {
      const internal::FitDef& fd = cm_.fits[f];
      Line("fit", fd.name + (holds ? " holds: " + Signed(fd.points)
                                    : " no longer holds: " + Signed(-fd.points)) +
                      " " + cm_.scores[fd.score].name);
    }
    for (const RuleStep& r : s.rules) Rule(r, name_width, s.time, s.tau);
    for (const ChangeRec& c : s.changes) Change(c);
    // Counters that moved since the previous event (every non-zero one at
    // the first).
    std::string counters;
    for (size_t i = 0; i < s.after.counters.size(); ++i) {
      const int64_t before = prev != nullptr ? prev->after.counters[i] : 0;
      if (s.after.counters[i] == before) continue;
      counters += (counters.empty() ? "" : ", ") + cm_.counters[i].name + " " +
                  std::to_string(s.after.counters[i]);
    }
    if (!counters.empty()) Line("counters", counters);
    Line("scores", ScoreList(s.after.scores, "  "));
  }

 private:
  const Model& model_;
  const CompiledModel& cm_;
  const ModelTexts& texts_;
  std::ostream& out_;
};

void RenderText(const Model& model, const ModelTexts& texts,
                const std::string& member, int64_t as_of,
                const ExplainVisitor& x, std::ostream& out) {
  const CompiledModel& cm = model.compiled();
  TextWriter w(model, texts, out);
  const std::optional<MemberView>& fv = x.final_view();
  const int64_t t = fv ? fv->time : as_of;
  out << "member " << MemberName(member) << ", as of " << Time(t) << " (" << t << ")\n";
  out << "model " << cm.name << ": " << w.ScoreHeader() << "\n";

  const auto& steps = x.steps();
  int applied = 0, rejected = 0;
  size_t name_width = 0;
  for (const Step& s : steps) {
    if (s.rejected) {
      ++rejected;
      continue;
    }
    ++applied;
    for (const RuleStep& r : s.rules) {
      name_width = std::max(name_width, cm.rules[r.trace.rule].name.size());
    }
  }
  out << "\ntimeline: " << steps.size() << (steps.size() == 1 ? " row" : " rows")
      << ", " << applied << " applied, " << rejected << " rejected\n";
  const Step* prev = nullptr;
  for (const Step& s : steps) {
    if (s.rejected) {
      const ChangeRec& r = s.rejection;
      out << (r.has_time ? Time(r.time) : std::string("(no time)")) << "  rejected  "
          << (r.event_id.empty() ? "(no event_id)" : r.event_id) << ": "
          << RejectReasonName(r.reason) << " (" << RejectMeaning(r.reason) << ")\n";
      continue;
    }
    w.Event(s, prev, name_width);
    prev = &s;
  }
  if (!x.as_of_changes().empty()) {
    out << Time(x.as_of_changes().front().time) << "  as of: time advanced, no event\n";
    for (const ChangeRec& c : x.as_of_changes()) w.Change(c);
  }

  if (!fv) {
    out << "\nno event of " << MemberName(member)
        << " was accepted: rejected rows never create a member\n";
    return;
  }
  const MemberView& v = *fv;

  // Ledger: per score, its entries largest first (ties by rule name).
  const std::vector<RuleTotals> totals = Totals(cm, steps);
  out << "\nledger at as-of (what each rule contributes now, after decay):\n";
  size_t width = 0;
  for (const auto& e : v.ledger) width = std::max(width, model.contributor_name(e.contributor).size());
  for (size_t sc = 0; sc < cm.scores.size(); ++sc) {
    if (cm.scores[sc].derived) continue;
    std::vector<MemberView::LedgerEntry> entries;
    for (const auto& e : v.ledger) {
      if (e.score == static_cast<int>(sc)) entries.push_back(e);
    }
    std::stable_sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
      if (a.value != b.value) return a.value > b.value;
      return model.contributor_name(a.contributor) < model.contributor_name(b.contributor);
    });
    out << "  " << cm.scores[sc].name << " " << Num(v.scores[sc]);
    if (cm.scores[sc].fit) {
      double sum = 0;
      for (const auto& e : entries) sum += e.value;
      if (sum != v.scores[sc]) out << "  (the fit rules' " << Num(sum) << ", bounded)";
    }
    out << "\n";
    if (entries.empty()) out << "    (no contributions)\n";
    for (const auto& e : entries) {
      const bool fit = e.contributor >= static_cast<int>(cm.rules.size());
      std::string note;
      if (fit) {
        note = "fit rule holds";
      } else {
        const RuleTotals& rt = totals[e.contributor];
        note = Num(rt.granted) + " granted by " + std::to_string(rt.events) +
               (rt.events == 1 ? " event" : " events");
      }
      out << "    " << Pad(model.contributor_name(e.contributor), width) << "  "
          << Pad(Num(e.value), 12) << note << "\n";
    }
  }

  out << "\nfinal at " << Time(v.time) << ":\n";
  if (v.stage >= 0) {
    out << "  stage     " << cm.stages[v.stage] << " since " << Time(v.stage_since) << "\n";
  }
  out << "  scores    " << w.ScoreList(v.scores, "  ") << "\n";
  std::vector<std::string> tags;
  for (int tg : v.tags) tags.push_back(cm.tags[tg].name);
  std::sort(tags.begin(), tags.end());
  std::string tag_text;
  for (size_t i = 0; i < tags.size(); ++i) tag_text += (i ? ", " : "") + tags[i];
  out << "  tags      " << (tag_text.empty() ? "(none)" : tag_text) << "\n";
  if (!v.counters.empty()) {
    std::string c;
    for (size_t i = 0; i < v.counters.size(); ++i) {
      c += (i ? "  " : "") + cm.counters[i].name + " " + std::to_string(v.counters[i]);
    }
    out << "  counters  " << c << "\n";
  }
  for (size_t f = 0; f < v.flags.size(); ++f) {
    const MemberView::Flag& fl = v.flags[f];
    out << "  flag      " << cm.flags[f].name << ": " << (fl.armed ? "armed" : "not armed")
        << ", raised " << fl.raised << (fl.raised == 1 ? " time" : " times");
    if (fl.has_last_raised) out << ", last " << Time(fl.last_raised);
    out << "\n";
  }
}

}  // namespace

int RunExplain(const std::vector<std::string>& words) {
  std::set<std::string> value_options = kLogValueOptions;
  value_options.insert({"model", "member"});
  std::set<std::string> switches = kLogSwitches;
  switches.insert("json");
  const ParsedArgs args = ParseArgs(words, value_options, switches, {"events"});
  if (args.help) {
    std::cout << kExplainUsage;
    return kExitOk;
  }
  if (!args.error.empty()) return UsageError("explain", args.error);
  for (const char* required : {"model", "events", "member"}) {
    if (!args.has(required)) {
      return UsageError("explain", std::string("missing --") + required);
    }
  }
  LogArgs log;
  if (std::string error = ParseLogArgs(args, &log); !error.empty()) {
    return UsageError("explain", error);
  }
  const std::string& member = args.values.at("member");
  const bool json = args.switches.count("json") > 0;

  const std::string& model_path = args.values.at("model");
  auto model = Model::LoadFile(model_path);
  if (!model.ok()) {
    std::cerr << model.status().message() << "\n";
    return kExitError;
  }
  const Model& m = **model;

  LogRun run(*model, log);
  if (int code = run.Read("explain"); code != kExitOk) return code;
  std::vector<std::unique_ptr<ExplainVisitor>> owned;
  std::vector<batch::ScoreVisitor*> visitors;
  for (int t = 0; t < log.options.threads; ++t) {
    owned.push_back(std::make_unique<ExplainVisitor>(m, member));
    visitors.push_back(owned.back().get());
  }
  absl::Status s = run.job().Score(visitors);
  run.StopProgress();
  if (!s.ok()) {
    std::cerr << "leadscore explain: " << s.message() << "\n";
    return kExitError;
  }
  const ExplainVisitor* found = nullptr;
  for (const auto& v : owned) {
    if (v->seen()) found = v.get();
  }
  if (found == nullptr) {
    std::string logs;
    for (const std::string& e : args.lists.at("events")) logs += (logs.empty() ? "" : ", ") + e;
    std::cerr << "leadscore explain: no events for member " << MemberName(member) << " in "
              << logs << "\n";
    return kExitError;
  }
  const int64_t as_of = run.job().summary().as_of;
  if (json) {
    std::cout << RenderJson(m, member, as_of, *found);
  } else {
    RenderText(m, GetTexts(model_path, m.compiled()), member, as_of, *found, std::cout);
  }
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "leadscore explain: writing the output failed\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace leadscore::cli
