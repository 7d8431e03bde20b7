// `leadscore validate`: checks a model (every problem at file:line:col, as
// Model::LoadFile reports them) and lints it: stages that no transition path
// reaches from the initial stage and, against a log (--events), event
// patterns that no event of the log matches, rules that never granted
// points, tags that never applied and stages that no member reached.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/text_format.h"
#include "leadscore/model.h"
#include "leadscore/v1/model.pb.h"
#include "lib/model/compiled_model.h"
#include "lib/model/source_map.h"
#include "tools/analysis.h"
#include "tools/cli.h"
#include "tools/json_value.h"
#include "tools/log_args.h"

namespace leadscore::cli {

namespace {

constexpr char kValidateUsage[] =
    R"(usage: leadscore validate MODEL [--events LOG [--events LOG2 ...]]
                         [--format csv|jsonl|pb] [--as-of T] [--order time|arrival]
                         [--threads N] [--strict] [--quiet] [--json] [--strict-lint]

Checks a model: every problem is printed as FILE:LINE:COL: message, as
`leadscore score` reports them. A model that loads is then linted, each
warning as FILE:LINE:COL: warning: message, in file order:

  * a stage that no chain of transitions leads to from the initial stage
    (from the model alone);
  with --events, against the log scored as `leadscore score` scores it:
  * a rule, counter, event tag or transition whose `on` matches no event
    type of the log (patterns with '*' match as in the model);
  * a rule whose events occur but that never granted points (its `when`
    never held, or caps and bounds left nothing);
  * a tag that no member ever got;
  * a flag that was never raised;
  * a stage that no member reached (the initial stage counts as reached).

  MODEL             the model (protobuf text, or JSON when it ends in .json);
                    also accepted as --model MODEL
  --events LOG      a log to lint against, as for `leadscore score` (repeat
                    it or give a glob; --format, --as-of, --order,
                    --threads, --strict and --quiet as there)
  --json            one JSON object on stdout instead of text
  --strict-lint     exit 3 when there is a warning

Exit codes: 0 the model loads (warnings or not); 1 the model has problems,
bad usage or an I/O error; 2 --strict met a bad row; 3 --strict-lint and
at least one warning.
)";

constexpr char kCmd[] = "validate";

struct Warning {
  int line = 0;
  int column = 0;
  std::string kind;  // stage_unreachable, no_matching_event, ...
  std::string item;  // "rule", "counter", "tag", "transition", "stage"
  std::string name;  // the item's name (transitions: "#N from -> to")
  std::string message;
};

std::string PatternText(const internal::TypePattern& p) {
  switch (p.kind) {
    case internal::TypePattern::Kind::kAny: return "*";
    case internal::TypePattern::Kind::kPrefix: return p.text + "*";
    case internal::TypePattern::Kind::kExact: return p.text;
  }
  return p.text;
}

// Where each field of the model file stands (the model is known to load).
internal::SourceMap MapSource(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (absl::EndsWith(path, ".json")) return internal::SourceMap::ForJson(std::move(text));
  v1::Model proto;
  google::protobuf::TextFormat::Parser parser;
  google::protobuf::TextFormat::ParseInfoTree info;
  parser.WriteLocationsTo(&info);
  if (!parser.ParseFromString(text, &proto)) return internal::SourceMap();
  return internal::SourceMap::ForText(std::move(text), proto, &info);
}

// "#3 (active, engaged -> mql)": 1-based, in model order.
std::string TransitionName(const Model& m, int i) {
  const internal::TransitionDef& t = m.compiled().transitions[i];
  std::string from;
  if (t.from_any) {
    from = "*";
  } else {
    for (int s = 0; s < m.num_stages(); ++s) {
      if (t.from[s]) from += (from.empty() ? "" : ", ") + m.stage_name(s);
    }
  }
  return "#" + std::to_string(i + 1) + " (" + from + " -> " +
         (t.to >= 0 ? m.stage_name(t.to) : "?") + ")";
}

// Stages reachable from the initial one through the transition graph.
std::vector<uint8_t> Reachable(const internal::CompiledModel& cm) {
  const int n = static_cast<int>(cm.stages.size());
  std::vector<uint8_t> seen(n, 0);
  if (n == 0 || cm.initial_stage < 0) return seen;
  std::vector<int> todo = {cm.initial_stage};
  seen[cm.initial_stage] = 1;
  while (!todo.empty()) {
    const int s = todo.back();
    todo.pop_back();
    for (const internal::TransitionDef& t : cm.transitions) {
      if (t.to < 0 || seen[t.to] || !t.FromHolds(s)) continue;
      seen[t.to] = 1;
      todo.push_back(t.to);
    }
  }
  return seen;
}

}  // namespace

int RunValidate(const std::vector<std::string>& words) {
  std::set<std::string> value_options = kLogValueOptions;
  value_options.insert("model");
  std::set<std::string> switches = kLogSwitches;
  switches.insert({"json", "strict-lint"});
  // The model may be given as a plain word: take it out before parsing.
  std::vector<std::string> rest;
  std::vector<std::string> positional;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() >= 3 && w.compare(0, 2, "--") == 0) {
      rest.push_back(w);
      const std::string name = w.substr(2);
      if (name.find('=') == std::string::npos && value_options.count(name) &&
          i + 1 < words.size()) {
        rest.push_back(words[++i]);
      }
    } else if (w == "-h" || (!w.empty() && w[0] == '-')) {
      rest.push_back(w);
    } else {
      positional.push_back(w);
    }
  }
  const ParsedArgs args = ParseArgs(rest, value_options, switches, {"events"});
  if (args.help) {
    std::cout << kValidateUsage;
    return kExitOk;
  }
  if (!args.error.empty()) return UsageError(kCmd, args.error);
  if (args.has("model")) positional.push_back(args.values.at("model"));
  if (positional.size() != 1) {
    return UsageError(kCmd, positional.empty() ? "missing the MODEL to check"
                                               : "give one MODEL");
  }
  const std::string path = positional[0];
  const bool json = args.switches.count("json") > 0;
  const bool strict_lint = args.switches.count("strict-lint") > 0;
  const bool with_log = args.has("events");
  LogArgs log;
  if (with_log) {
    if (std::string error = ParseLogArgs(args, &log); !error.empty()) {
      return UsageError(kCmd, error);
    }
  }

  std::vector<Diagnostic> diags;
  auto loaded = Model::LoadFile(path, &diags);
  if (!loaded.ok()) {
    if (diags.empty()) {  // no file, or it cannot be read
      std::cerr << "leadscore validate: " << loaded.status().message() << "\n";
      return kExitError;
    }
    if (json) {
      JsonValue root = JsonValue::Object();
      root.Set("model", JsonValue::String(path));
      root.Set("valid", JsonValue::Bool(false));
      JsonValue errors = JsonValue::Array();
      for (const Diagnostic& d : diags) {
        JsonValue e = JsonValue::Object();
        e.Set("file", JsonValue::String(d.file));
        e.Set("line", JsonValue::Int(d.line));
        e.Set("column", JsonValue::Int(d.column));
        e.Set("message", JsonValue::String(d.message));
        errors.Add(std::move(e));
      }
      root.Set("errors", std::move(errors));
      root.Set("warnings", JsonValue::Array());
      std::cout << root.Write();
    } else {
      std::cout << loaded.status().message() << "\n";
    }
    return kExitError;
  }
  const std::shared_ptr<const Model> model = *loaded;
  const Model& m = *model;
  const internal::CompiledModel& cm = m.compiled();
  const internal::SourceMap source = MapSource(path);

  std::vector<Warning> warnings;
  auto warn = [&](internal::SourcePos pos, std::string kind, std::string item,
                  std::string name, std::string message) {
    warnings.push_back(Warning{pos.line, pos.column, std::move(kind), std::move(item),
                               std::move(name), std::move(message)});
  };
  auto field = [&](const std::string& p) { return source.Field(p); };
  auto value = [&](const std::string& p) { return source.InString(p, 0); };

  // Statically unreachable stages.
  const std::vector<uint8_t> reachable = Reachable(cm);
  for (int s = 0; s < m.num_stages(); ++s) {
    if (reachable[s]) continue;
    warn(value("lifecycle.stage[" + std::to_string(s) + "]"), "stage_unreachable",
         "stage", m.stage_name(s),
         "stage '" + m.stage_name(s) +
             "' is unreachable: no chain of transitions leads to it from the "
             "initial stage '" + m.stage_name(cm.initial_stage) + "'");
  }

  LogAnalysis run;
  if (with_log) {
    if (int code = AnalyzeLog(model, log, kCmd, AnalyzeOptions(), &run); code != kExitOk) {
      return code;
    }
    // Accepted events whose type the pattern matches.
    auto matching = [&](const internal::TypePattern& p) {
      int64_t n = 0;
      for (const auto& [type, count] : run.events_by_type) {
        if (p.Matches(type)) n += count;
      }
      return n;
    };
    auto no_event = [](const internal::TypePattern& p) {
      return "no event of the log matches on: \"" + PatternText(p) + "\"";
    };
    for (int i = 0; i < m.num_counters(); ++i) {
      const internal::CounterDef& c = cm.counters[i];
      if (matching(c.on) > 0) continue;
      warn(value("counter[" + std::to_string(i) + "].on"), "no_matching_event", "counter",
           c.name, "counter '" + c.name + "': " + no_event(c.on) + ", so it stays 0");
    }
    for (size_t i = 0; i < cm.rules.size(); ++i) {
      const internal::RuleDef& r = cm.rules[i];
      const std::string at = "rule[" + std::to_string(i) + "]";
      const int64_t n = matching(r.on);
      if (n == 0) {
        warn(value(at + ".on"), "no_matching_event", "rule", r.name,
             "rule '" + r.name + "': " + no_event(r.on) + ", so it never granted points");
      } else if (run.rule_granted[i] == 0) {
        std::string why =
            run.rule_held[i] == 0
                ? "its condition never held on the " + std::to_string(n) +
                      " matching events"
                : "it applied to " + std::to_string(run.rule_held[i]) + " events but " +
                      (r.points == 0 ? std::string("its points are 0")
                                     : std::string("caps and bounds left nothing"));
        warn(field(at), "rule_never_granted", "rule", r.name,
             "rule '" + r.name + "' never granted points: " + why);
      }
    }
    for (int i = 0; i < m.num_tags(); ++i) {
      const internal::TagDef& t = cm.tags[i];
      const std::string at = "tag[" + std::to_string(i) + "]";
      if (t.event_tag && matching(t.on) == 0) {
        warn(value(at + ".on"), "no_matching_event", "tag", t.name,
             "tag '" + t.name + "': " + no_event(t.on) + ", so it never applies");
      } else if (run.tag_added[i] == 0) {
        warn(field(at), "tag_never_applied", "tag", t.name,
             "tag '" + t.name + "' never applied to any member");
      }
    }
    for (size_t i = 0; i < cm.transitions.size(); ++i) {
      const internal::TransitionDef& t = cm.transitions[i];
      if (!t.has_on || matching(t.on) > 0) continue;
      const std::string name = TransitionName(m, static_cast<int>(i));
      warn(value("lifecycle.transition[" + std::to_string(i) + "].on"),
           "no_matching_event", "transition", name,
           "transition " + name + ": " + no_event(t.on) + ", so it never fires");
    }
    for (int f = 0; f < m.num_flags(); ++f) {
      if (run.flag_raised[f] > 0) continue;
      warn(field("flag[" + std::to_string(f) + "]"), "flag_never_raised", "flag",
           m.flag_name(f), "flag '" + m.flag_name(f) + "' was never raised in the log");
    }
    for (int s = 0; s < m.num_stages(); ++s) {
      if (!reachable[s] || run.stage_reached[s] > 0) continue;
      warn(value("lifecycle.stage[" + std::to_string(s) + "]"), "stage_never_reached",
           "stage", m.stage_name(s),
           "stage '" + m.stage_name(s) + "' was never reached by any member of the log");
    }
  }
  std::stable_sort(warnings.begin(), warnings.end(), [](const Warning& a, const Warning& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });

  const int code = strict_lint && !warnings.empty() ? kExitLint : kExitOk;
  auto count = [](int64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  if (json) {
    JsonValue root = JsonValue::Object();
    root.Set("model", JsonValue::String(path));
    root.Set("valid", JsonValue::Bool(true));
    root.Set("name", JsonValue::String(m.name()));
    root.Set("errors", JsonValue::Array());
    JsonValue ws = JsonValue::Array();
    for (const Warning& w : warnings) {
      JsonValue j = JsonValue::Object();
      j.Set("file", JsonValue::String(path));
      j.Set("line", JsonValue::Int(w.line));
      j.Set("column", JsonValue::Int(w.column));
      j.Set("kind", JsonValue::String(w.kind));
      j.Set("item", JsonValue::String(w.item));
      j.Set("name", JsonValue::String(w.name));
      j.Set("message", JsonValue::String(w.message));
      ws.Add(std::move(j));
    }
    root.Set("warnings", std::move(ws));
    if (with_log) {
      JsonValue l = JsonValue::Object();
      l.Set("rows_read", JsonValue::Int(run.summary.rows_read));
      l.Set("events_applied", JsonValue::Int(run.summary.stats.events_applied));
      l.Set("event_types", JsonValue::Int(static_cast<int64_t>(run.events_by_type.size())));
      l.Set("members", JsonValue::Int(static_cast<int64_t>(run.members.size())));
      root.Set("log", std::move(l));
    } else {
      root.Set("log", JsonValue::Null());
    }
    std::cout << root.Write();
    return code;
  }
  std::string out = path + ": ok: model \"" + m.name() + "\": " +
                    count(m.num_scores(), "score", "scores") + ", " +
                    count(m.num_counters(), "counter", "counters") + ", " +
                    count(static_cast<int64_t>(cm.rules.size()), "rule", "rules") + ", " +
                    count(static_cast<int64_t>(cm.fits.size()), "fit rule", "fit rules") +
                    ", " + count(m.num_tags(), "tag", "tags") + ", " +
                    count(m.num_stages(), "stage", "stages") + ", " +
                    count(static_cast<int64_t>(cm.transitions.size()), "transition",
                          "transitions") +
                    ", " + count(m.num_flags(), "flag", "flags") + "\n";
  for (const Warning& w : warnings) {
    Diagnostic d{path, w.line, w.column, "warning: " + w.message};
    out += d.ToString() + "\n";
  }
  out += count(static_cast<int64_t>(warnings.size()), "warning", "warnings");
  if (with_log) {
    out += " (against " + std::to_string(run.summary.rows_read) + " rows: " +
           std::to_string(run.summary.stats.events_applied) + " events applied, " +
           count(static_cast<int64_t>(run.events_by_type.size()), "event type",
                 "event types") +
           ", " + count(static_cast<int64_t>(run.members.size()), "member", "members") +
           ")";
  } else {
    out += " (the model alone; --events LOG lints it against a log)";
  }
  out += "\n";
  std::cout << out;
  return code;
}

}  // namespace leadscore::cli
