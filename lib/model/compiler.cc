// Checks a model and compiles it into flat tables (see compiled_model.h).
// Every check of the model format lives here; each problem is reported with
// the position of the offending field, or of the token inside a condition.
#include "lib/model/compiler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadscore/v1/model.pb.h"
#include "lib/base/duration.h"
#include "lib/base/strings.h"

namespace leadscore::internal {
namespace {

constexpr int kDefaultTopReasons = 3;

// Levenshtein distance, for "did you mean" hints on misspelled names.
int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Suggest(std::string_view name,
                    const absl::flat_hash_map<std::string, int>& known) {
  std::string best;
  int best_d = 3;
  for (const auto& [k, v] : known) {
    int d = EditDistance(name, k);
    if (d < best_d || (d == best_d && !best.empty() && k < best)) {
      best_d = d;
      best = k;
    }
  }
  return best.empty() ? "" : absl::StrCat("; did you mean '", best, "'?");
}

class ModelScope : public expr::Scope {
 public:
  explicit ModelScope(CompiledModel* m) : m_(m) {}
  int ScoreIndex(std::string_view n) const override { return Find(m_->score_index, n); }
  int CounterIndex(std::string_view n) const override { return Find(m_->counter_index, n); }
  int TagIndex(std::string_view n) const override { return Find(m_->tag_index, n); }
  int StageIndex(std::string_view n) const override { return Find(m_->stage_index, n); }
  bool HasLifecycle() const override { return !m_->stages.empty(); }
  int TagCount() const override { return static_cast<int>(m_->tags.size()); }
  int InternMemberAttr(std::string_view key) override {
    return Intern(key, &m_->member_attrs, &m_->member_attr_index);
  }
  int InternEventAttr(std::string_view key) override {
    return Intern(key, &m_->event_attrs, &m_->event_attr_index);
  }
  void NoteEventGroupOrChannel() override { m_->reads_event_group_or_channel = true; }
  void NoteEventValue() override { m_->reads_event_value = true; }

 private:
  static int Find(const absl::flat_hash_map<std::string, int>& map,
                  std::string_view n) {
    auto it = map.find(std::string(n));
    return it == map.end() ? -1 : it->second;
  }
  static int Intern(std::string_view key, std::vector<std::string>* names,
                    absl::flat_hash_map<std::string, int>* index) {
    auto [it, inserted] =
        index->emplace(std::string(key), static_cast<int>(names->size()));
    if (inserted) names->emplace_back(key);
    return it->second;
  }
  CompiledModel* m_;
};

class Compiler {
 public:
  Compiler(const v1::Model& proto, const SourceMap& source,
           const std::string& filename, const ModelLimits& limits,
           std::vector<Diagnostic>* diags)
      : p_(proto), src_(source), file_(filename), limits_(limits), diags_(diags),
        m_(std::make_unique<CompiledModel>()), scope_(m_.get()) {}

  std::unique_ptr<CompiledModel> Run() {
    size_t before = diags_->size();
    if (!WithinLimits()) return nullptr;
    Header();
    Scores();
    Counters();
    Tags();
    Lifecycle();
    Rules();
    Flags();
    Conditions();
    DerivedCycles();
    if (diags_->size() != before) return nullptr;
    FlagReasons();
    BuildDispatch();
    return std::move(m_);
  }

 private:
  // --- reporting ---
  void AddDiag(SourcePos pos, absl::string_view path, std::string msg) {
    Diagnostic d;
    d.file = file_;
    d.line = pos.line;
    d.column = pos.column;
    d.message = pos.line == 0 && !path.empty()
                    ? absl::StrCat(msg, " (at ", path, ")")
                    : std::move(msg);
    diags_->push_back(std::move(d));
  }
  void Error(absl::string_view path, std::string msg) {
    AddDiag(src_.Field(std::string_view(path.data(), path.size())), path, std::move(msg));
  }
  void ErrorInValue(absl::string_view path, int offset, std::string msg) {
    AddDiag(src_.InString(std::string_view(path.data(), path.size()), offset), path, std::move(msg));
  }

  // --- helpers ---
  // Parses a duration field; returns -1 when empty, -2 on error (reported).
  int64_t Duration(const std::string& text, const std::string& path,
                   absl::string_view what, bool positive = true) {
    if (text.empty()) return -1;
    auto d = ParseDuration(text);
    if (!d.ok()) {
      ErrorInValue(path, 0, absl::StrCat(what, ": ", d.status().message()));
      return -2;
    }
    if (positive && *d <= 0) {
      ErrorInValue(path, 0, absl::StrCat(what, " must be greater than zero"));
      return -2;
    }
    return *d;
  }

  bool Pattern(const std::string& text, const std::string& path,
               absl::string_view what, TypePattern* out) {
    if (text.empty()) {
      Error(path, absl::StrCat(what, " needs `on`: an event type such as "
                                     "\"course.attend\", a prefix such as "
                                     "\"content.*\", or \"*\""));
      return false;
    }
    size_t star = text.find('*');
    if (star == std::string::npos) {
      out->kind = TypePattern::Kind::kExact;
      out->text = text;
      return true;
    }
    if (text == "*") {
      out->kind = TypePattern::Kind::kAny;
      out->text.clear();
      return true;
    }
    if (star == text.size() - 1 && text.size() >= 3 &&
        text[text.size() - 2] == '.') {
      out->kind = TypePattern::Kind::kPrefix;
      out->text = text.substr(0, text.size() - 1);
      return true;
    }
    ErrorInValue(path, static_cast<int>(star),
                 absl::StrCat("bad event pattern \"", text,
                              "\": '*' may only stand alone or after a final "
                              "dot, as in \"content.*\""));
    return false;
  }

  void NameCheck(const std::string& name, const std::string& path,
                 absl::string_view kind,
                 absl::flat_hash_map<std::string, int>* index, int i) {
    if (name.empty()) {
      Error(path, absl::StrCat("a ", kind, " needs a name"));
      return;
    }
    if (!index->emplace(name, i).second) {
      Error(absl::StrCat(path, ".name"),
            absl::StrCat("duplicate ", kind, " name '", name, "'"));
    }
  }

  std::unique_ptr<expr::Program> Condition(const std::string& text,
                                           const std::string& path,
                                           expr::Allowed allowed,
                                           expr::Want want = expr::Want::kBool) {
    if (text.empty()) return nullptr;
    if (text.size() > limits_.max_condition_bytes) {
      ErrorInValue(path, 0, absl::StrCat("this expression is ", text.size(),
                                         " bytes, more than ModelLimits::max_condition_bytes (",
                                         limits_.max_condition_bytes, ")"));
      return nullptr;
    }
    scope_.allowed = std::move(allowed);
    std::vector<expr::Problem> problems;
    auto prog = expr::Compile(text, want, scope_, &problems);
    for (const auto& pr : problems) ErrorInValue(path, pr.offset, pr.message);
    if (prog == nullptr && problems.empty()) {
      ErrorInValue(path, 0, "this expression could not be compiled");
    }
    return problems.empty() ? std::move(prog) : nullptr;
  }

  // ModelLimits::max_items_per_kind, checked before anything is compiled.
  bool WithinLimits() {
    const int lifecycle_stages = p_.lifecycle().stage_size();
    const int transitions = p_.lifecycle().transition_size();
    const struct { const char* kind; const char* path; int n; } kinds[] = {
        {"scores", "score", p_.score_size()},
        {"counters", "counter", p_.counter_size()},
        {"event and fit rules", "rule", p_.rule_size() + p_.fit_size()},
        {"tags", "tag", p_.tag_size()},
        {"stages", "lifecycle.stage", lifecycle_stages},
        {"transitions", "lifecycle.transition", transitions},
        {"flags", "flag", p_.flag_size()},
    };
    bool ok = true;
    for (const auto& k : kinds) {
      if (k.n > limits_.max_items_per_kind) {
        Error(k.path, absl::StrCat("the model has ", k.n, " ", k.kind,
                                   ", more than ModelLimits::max_items_per_kind (",
                                   limits_.max_items_per_kind, ")"));
        ok = false;
      }
    }
    return ok;
  }

  // --- sections ---
  void Header() {
    m_->name = p_.name();
    int64_t l = Duration(p_.allowed_lateness(), "allowed_lateness",
                         "allowed_lateness", /*positive=*/false);
    if (l >= 0) m_->allowed_lateness_ms = l;
  }

  void Scores() {
    for (int i = 0; i < p_.score_size(); ++i) {
      const v1::Score& s = p_.score(i);
      std::string path = absl::StrCat("score[", i, "]");
      NameCheck(s.name(), path, "score", &m_->score_index, i);
      ScoreDef d;
      d.name = s.name();
      d.derived = !s.formula().empty();
      int64_t h = Duration(s.half_life(), path + ".half_life", "half_life");
      if (h > 0) d.half_life_ms = static_cast<double>(h);
      d.has_min = s.has_min();
      d.has_max = s.has_max();
      d.min = s.min();
      d.max = s.max();
      if ((d.has_min && !std::isfinite(d.min)) ||
          (d.has_max && !std::isfinite(d.max))) {
        Error(path, absl::StrCat("score '", d.name, "': min and max must be finite"));
      }
      if (d.has_min && d.has_max && d.min > d.max) {
        Error(path + ".min", absl::StrCat("score '", d.name, "': min ", d.min,
                                          " is greater than max ", d.max));
      }
      if (d.derived) {
        if (!s.half_life().empty()) {
          Error(path + ".half_life",
                absl::StrCat("derived score '", d.name,
                             "' cannot have a half_life: it is computed from "
                             "other scores when read"));
        }
        if (d.has_min || d.has_max) {
          Error(path + (d.has_min ? ".min" : ".max"),
                absl::StrCat("derived score '", d.name,
                             "' cannot have bounds: bound the scores it reads"));
        }
      } else {
        d.slot = m_->num_score_slots++;
      }
      m_->scores.push_back(std::move(d));
    }
  }

  void Counters() {
    for (int i = 0; i < p_.counter_size(); ++i) {
      const v1::Counter& c = p_.counter(i);
      std::string path = absl::StrCat("counter[", i, "]");
      NameCheck(c.name(), path, "counter", &m_->counter_index, i);
      CounterDef d;
      d.name = c.name();
      Pattern(c.on(), path + ".on", absl::StrCat("counter '", c.name(), "'"), &d.on);
      int64_t w = Duration(c.window(), path + ".window", "window");
      if (w > 0) {
        d.window_ms = w;
        d.slot = m_->num_window_counters++;
      } else {
        d.slot = m_->num_lifetime_counters++;
      }
      m_->counters.push_back(std::move(d));
    }
  }

  void Tags() {
    absl::flat_hash_map<std::string, bool> kind_of;  // name -> is event tag
    for (int i = 0; i < p_.tag_size(); ++i) {
      const v1::Tag& t = p_.tag(i);
      std::string path = absl::StrCat("tag[", i, "]");
      TagDef d;
      d.name = t.name();
      d.event_tag = !t.on().empty();
      if (t.name().empty()) {
        Error(path, "a tag needs a name");
      } else if (auto it = kind_of.find(t.name()); it != kind_of.end()) {
        Error(path + ".name",
              it->second != d.event_tag
                  ? absl::StrCat("tag '", t.name(),
                                 "' is declared both as a state tag (no `on`) "
                                 "and as an event tag (with `on`); a name is "
                                 "one or the other")
                  : absl::StrCat("duplicate tag name '", t.name(), "'"));
      } else {
        kind_of[t.name()] = d.event_tag;
        m_->tag_index.emplace(t.name(), i);
      }
      if (d.event_tag) {
        Pattern(t.on(), path + ".on", absl::StrCat("tag '", t.name(), "'"), &d.on);
        int64_t ttl = Duration(t.ttl(), path + ".ttl", "ttl");
        if (ttl > 0) {
          d.ttl_ms = ttl;
          d.ttl_slot = m_->num_ttl++;
          m_->ttl_tags.push_back(i);
        }
      } else {
        if (!t.ttl().empty()) {
          Error(path + ".ttl",
                absl::StrCat("state tag '", t.name(),
                             "' cannot have a ttl: it is held exactly while its "
                             "condition holds (give it `on` to make it an event tag)"));
        }
        if (t.when().empty()) {
          Error(path, absl::StrCat("state tag '", t.name(),
                                   "' needs `when` (or `on` for an event tag)"));
        }
        m_->state_tags.push_back(i);
      }
      m_->tags.push_back(std::move(d));
    }
  }

  int StageRef(const std::string& name, const std::string& path,
               absl::string_view role) {
    auto it = m_->stage_index.find(name);
    if (it != m_->stage_index.end()) return it->second;
    ErrorInValue(path, 0,
                 absl::StrCat("unknown stage '", name, "' in ", role,
                              Suggest(name, m_->stage_index)));
    return -1;
  }

  void Lifecycle() {
    if (!p_.has_lifecycle()) return;
    const v1::Lifecycle& l = p_.lifecycle();
    for (int i = 0; i < l.stage_size(); ++i) {
      std::string path = absl::StrCat("lifecycle.stage[", i, "]");
      if (l.stage(i).empty() || l.stage(i) == "*") {
        ErrorInValue(path, 0, "a stage needs a name (and \"*\" is reserved)");
        continue;
      }
      if (!m_->stage_index.emplace(l.stage(i), i).second) {
        ErrorInValue(path, 0, absl::StrCat("duplicate stage '", l.stage(i), "'"));
      }
    }
    m_->stages.assign(l.stage().begin(), l.stage().end());
    if (m_->stages.empty()) {
      Error("lifecycle", "a lifecycle needs at least one stage");
      return;
    }
    if (l.initial().empty()) {
      m_->initial_stage = 0;
    } else {
      m_->initial_stage = StageRef(l.initial(), "lifecycle.initial", "`initial`");
    }
    int n = static_cast<int>(m_->stages.size());
    for (int i = 0; i < l.transition_size(); ++i) {
      const v1::Transition& t = l.transition(i);
      std::string path = absl::StrCat("lifecycle.transition[", i, "]");
      TransitionDef d;
      d.from.assign(n, 0);
      if (t.from_size() == 0) {
        Error(path, "a transition needs `from`: stage names or \"*\"");
      }
      for (int k = 0; k < t.from_size(); ++k) {
        std::string fpath = absl::StrCat(path, ".from[", k, "]");
        if (t.from(k) == "*") {
          d.from_any = true;
          continue;
        }
        int s = StageRef(t.from(k), fpath, "`from`");
        if (s >= 0) d.from[s] = 1;
      }
      if (t.to().empty()) {
        Error(path, "a transition needs `to`");
      } else {
        d.to = StageRef(t.to(), path + ".to", "`to`");
      }
      d.has_on = !t.on().empty();
      if (d.has_on) Pattern(t.on(), path + ".on", "transition", &d.on);
      if (!d.has_on && t.when().empty()) {
        Error(path, "a transition needs a trigger: `on` an event type and/or "
                    "`when` a condition");
      }
      if (!d.has_on) m_->when_transitions.push_back(i);
      m_->transitions.push_back(std::move(d));
    }
  }

  void Rules() {
    absl::flat_hash_map<std::string, int> rule_names;
    // Fit rules first: they decide which scores are fit scores.
    for (int i = 0; i < p_.fit_size(); ++i) {
      const v1::Fit& f = p_.fit(i);
      std::string path = absl::StrCat("fit[", i, "]");
      FitDef d;
      d.name = f.name();
      d.points = f.points();
      d.score = ScoreRef(f.score(), path + ".score", absl::StrCat("fit rule '", f.name(), "'"));
      if (d.score >= 0) {
        ScoreDef& s = m_->scores[d.score];
        if (s.derived) {
          ErrorInValue(path + ".score", 0,
                       absl::StrCat("fit rule '", f.name(), "' targets derived score '",
                                    s.name, "'; a derived score takes no rules"));
        } else if (s.half_life_ms > 0) {
          ErrorInValue(path + ".score", 0,
                       absl::StrCat("fit rule '", f.name(), "' targets decaying score '",
                                    s.name, "'; fit scores must not have a half_life"));
        } else {
          s.fit = true;
        }
      }
      if (f.when().empty()) Error(path, absl::StrCat("fit rule '", f.name(), "' needs `when`"));
      if (!std::isfinite(d.points)) Error(path + ".points", "points must be finite");
      m_->fits.push_back(std::move(d));
    }
    for (int i = 0; i < p_.rule_size(); ++i) {
      const v1::Rule& r = p_.rule(i);
      std::string path = absl::StrCat("rule[", i, "]");
      NameCheck(r.name(), path, "rule", &rule_names, i);
      RuleDef d;
      d.name = r.name();
      d.contributor = i;
      Pattern(r.on(), path + ".on", absl::StrCat("rule '", r.name(), "'"), &d.on);
      d.score = ScoreRef(r.score(), path + ".score", absl::StrCat("rule '", r.name(), "'"));
      if (d.score >= 0) {
        const ScoreDef& s = m_->scores[d.score];
        if (s.derived) {
          ErrorInValue(path + ".score", 0,
                       absl::StrCat("rule '", r.name(), "' targets derived score '",
                                    s.name, "'; a derived score takes no rules"));
        } else if (s.fit) {
          ErrorInValue(path + ".score", 0,
                       absl::StrCat("rule '", r.name(), "' targets score '", s.name,
                                    "', which fit rules feed; a fit score takes "
                                    "no event rules"));
        }
      }
      d.points = r.points();
      if (!std::isfinite(d.points)) Error(path + ".points", "points must be finite");
      d.once = r.once();
      if (d.once) d.once_bit = m_->num_once++;
      if (r.has_cap()) {
        d.has_cap = true;
        d.cap_max = r.cap().max_points();
        if (d.points <= 0) {
          Error(path + ".cap",
                absl::StrCat("rule '", r.name(), "' has a cap but ", d.points,
                             " points; caps are for rules with positive points"));
        }
        if (!(d.cap_max > 0) || !std::isfinite(d.cap_max)) {
          Error(path + ".cap.max_points",
                absl::StrCat("rule '", r.name(), "': cap max_points must be greater than zero"));
        }
        int64_t w = Duration(r.cap().window(), path + ".cap.window", "cap window");
        if (w > 0) {
          d.cap_window_ms = w;
          d.cap_slot = m_->num_window_caps++;
        } else {
          d.cap_slot = m_->num_lifetime_caps++;
        }
      }
      m_->contributor_names.push_back(r.name());
      m_->rules.push_back(std::move(d));
    }
    for (int i = 0; i < p_.fit_size(); ++i) {
      std::string path = absl::StrCat("fit[", i, "]");
      if (p_.fit(i).name().empty()) {
        Error(path, "a fit rule needs a name");
      } else if (!rule_names.emplace(p_.fit(i).name(), -1).second) {
        Error(path + ".name", absl::StrCat("duplicate rule name '", p_.fit(i).name(),
                                           "' (event and fit rules share names)"));
      }
      m_->fits[i].contributor = static_cast<int>(m_->contributor_names.size());
      m_->contributor_names.push_back(p_.fit(i).name());
    }
  }

  int ScoreRef(const std::string& name, const std::string& path,
               const std::string& who) {
    if (name.empty()) {
      Error(path, absl::StrCat(who, " needs `score`: the score it adds to"));
      return -1;
    }
    auto it = m_->score_index.find(name);
    if (it != m_->score_index.end()) return it->second;
    ErrorInValue(path, 0, absl::StrCat("unknown score '", name, "' in ", who,
                                       Suggest(name, m_->score_index)));
    return -1;
  }

  void Flags() {
    for (int i = 0; i < p_.flag_size(); ++i) {
      const v1::Flag& f = p_.flag(i);
      std::string path = absl::StrCat("flag[", i, "]");
      NameCheck(f.name(), path, "flag", &m_->flag_index, i);
      FlagDef d;
      d.name = f.name();
      d.when_text = f.when();
      if (f.when().empty()) Error(path, absl::StrCat("flag '", f.name(), "' needs `when`"));
      int64_t c = Duration(f.cooldown(), path + ".cooldown", "cooldown");
      if (c > 0) d.cooldown_ms = c;
      d.top_reasons = f.has_top_reasons() ? f.top_reasons() : kDefaultTopReasons;
      if (d.top_reasons < 0) {
        Error(path + ".top_reasons", "top_reasons cannot be negative");
      }
      m_->flags.push_back(std::move(d));
    }
  }

  void Conditions() {
    expr::Allowed event_ctx;  // everything, the event too
    event_ctx.event = true;
    expr::Allowed state_ctx;  // everything but the event
    for (int i = 0; i < p_.counter_size(); ++i) {
      event_ctx.where = absl::StrCat("counter '", p_.counter(i).name(), "'");
      m_->counters[i].when = Condition(p_.counter(i).when(),
                                       absl::StrCat("counter[", i, "].when"), event_ctx);
    }
    for (int i = 0; i < p_.rule_size(); ++i) {
      event_ctx.where = absl::StrCat("rule '", p_.rule(i).name(), "'");
      m_->rules[i].when = Condition(p_.rule(i).when(),
                                    absl::StrCat("rule[", i, "].when"), event_ctx);
    }
    expr::Allowed fit_ctx;
    fit_ctx.scores = fit_ctx.counters = fit_ctx.tags = fit_ctx.stage =
        fit_ctx.time = false;
    for (int i = 0; i < p_.fit_size(); ++i) {
      fit_ctx.where = absl::StrCat("fit rule '", p_.fit(i).name(), "'");
      m_->fits[i].when = Condition(p_.fit(i).when(),
                                   absl::StrCat("fit[", i, "].when"), fit_ctx);
    }
    for (int i = 0; i < p_.tag_size(); ++i) {
      bool ev = m_->tags[i].event_tag;
      expr::Allowed& ctx = ev ? event_ctx : state_ctx;
      ctx.where = absl::StrCat(ev ? "event tag '" : "state tag '", p_.tag(i).name(), "'");
      m_->tags[i].when = Condition(p_.tag(i).when(),
                                   absl::StrCat("tag[", i, "].when"), ctx);
    }
    if (p_.has_lifecycle()) {
      for (int i = 0; i < p_.lifecycle().transition_size() &&
                      i < static_cast<int>(m_->transitions.size()); ++i) {
        bool ev = m_->transitions[i].has_on;
        expr::Allowed& ctx = ev ? event_ctx : state_ctx;
        ctx.where = ev ? "a transition with `on`"
                       : "a transition without `on` (it fires in evaluations, "
                         "not on an event)";
        m_->transitions[i].when =
            Condition(p_.lifecycle().transition(i).when(),
                      absl::StrCat("lifecycle.transition[", i, "].when"), ctx);
      }
    }
    for (int i = 0; i < p_.flag_size(); ++i) {
      state_ctx.where = absl::StrCat("flag '", p_.flag(i).name(), "'");
      m_->flags[i].when = Condition(p_.flag(i).when(),
                                    absl::StrCat("flag[", i, "].when"), state_ctx);
      m_->flags[i].rearm = Condition(p_.flag(i).rearm(),
                                     absl::StrCat("flag[", i, "].rearm"), state_ctx);
    }
    expr::Allowed formula_ctx;
    formula_ctx.member = formula_ctx.counters = formula_ctx.tags =
        formula_ctx.stage = formula_ctx.time = false;
    for (int i = 0; i < p_.score_size(); ++i) {
      if (!m_->scores[i].derived) continue;
      formula_ctx.where = absl::StrCat("the formula of score '", p_.score(i).name(), "'");
      m_->scores[i].formula =
          Condition(p_.score(i).formula(), absl::StrCat("score[", i, "].formula"),
                    formula_ctx, expr::Want::kNumber);
    }
  }

  void DerivedCycles() {
    int n = static_cast<int>(m_->scores.size());
    std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
    std::vector<int> stack;
    std::function<void(int)> visit = [&](int s) {
      state[s] = 1;
      stack.push_back(s);
      const ScoreDef& d = m_->scores[s];
      if (d.formula != nullptr) {
        for (int r : d.formula->reads().scores) {
          if (!m_->scores[r].derived) continue;
          if (state[r] == 1) {
            std::vector<std::string> names;
            auto it = std::find(stack.begin(), stack.end(), r);
            for (; it != stack.end(); ++it) names.push_back(m_->scores[*it].name);
            names.push_back(m_->scores[r].name);
            Error(absl::StrCat("score[", s, "].formula"),
                  absl::StrCat("derived scores form a cycle: ",
                               absl::StrJoin(names, " -> ")));
          } else if (state[r] == 0) {
            visit(r);
          }
        }
      }
      stack.pop_back();
      state[s] = 2;
    };
    for (int s = 0; s < n; ++s) {
      if (state[s] == 0) visit(s);
    }
  }

  void FlagReasons() {
    for (FlagDef& f : m_->flags) {
      std::set<int> seen;
      std::function<void(int)> add = [&](int s) {
        if (!seen.insert(s).second) return;
        const ScoreDef& d = m_->scores[s];
        if (d.formula != nullptr) {
          for (int r : d.formula->reads().scores) add(r);
        }
      };
      if (f.when != nullptr) {
        for (int s : f.when->reads().scores) add(s);
      }
      for (int s : seen) {
        if (!m_->scores[s].derived) f.reason_scores.push_back(s);
      }
    }
  }

  void BuildDispatch() {
    std::set<std::string> exact;
    auto note = [&](const TypePattern& p) {
      if (p.kind == TypePattern::Kind::kExact) exact.insert(p.text);
    };
    for (const auto& c : m_->counters) note(c.on);
    for (const auto& r : m_->rules) note(r.on);
    for (const auto& t : m_->tags) if (t.event_tag) note(t.on);
    for (const auto& t : m_->transitions) if (t.has_on) note(t.on);
    for (const auto& type : exact) {
      m_->dispatch_by_type.emplace(type, m_->BuildDispatch(type));
    }
  }

  const v1::Model& p_;
  const SourceMap& src_;
  std::string file_;
  const ModelLimits& limits_;
  std::vector<Diagnostic>* diags_;
  std::unique_ptr<CompiledModel> m_;
  ModelScope scope_;
};

}  // namespace

bool TypePattern::Matches(std::string_view type) const {
  switch (kind) {
    case Kind::kAny: return true;
    case Kind::kExact: return type == text;
    case Kind::kPrefix:
      return type.size() >= text.size() && type.substr(0, text.size()) == text;
  }
  return false;
}

Dispatch CompiledModel::BuildDispatch(std::string_view type) const {
  Dispatch d;
  for (size_t i = 0; i < counters.size(); ++i) {
    if (counters[i].on.Matches(type)) d.counters.push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].on.Matches(type)) d.rules.push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < tags.size(); ++i) {
    if (tags[i].event_tag && tags[i].on.Matches(type)) {
      d.event_tags.push_back(static_cast<int>(i));
    }
  }
  for (size_t i = 0; i < transitions.size(); ++i) {
    if (transitions[i].has_on && transitions[i].on.Matches(type)) {
      d.transitions.push_back(static_cast<int>(i));
    }
  }
  return d;
}

const Dispatch& CompiledModel::DispatchFor(std::string_view type,
                                           Dispatch* scratch) const {
  auto it = dispatch_by_type.find(AsAbsl(type));
  if (it != dispatch_by_type.end()) return it->second;
  *scratch = BuildDispatch(type);
  return *scratch;
}

std::unique_ptr<CompiledModel> CompileModel(const v1::Model& proto,
                                            const SourceMap& source,
                                            const std::string& filename,
                                            const ModelLimits& limits,
                                            std::vector<Diagnostic>* diagnostics) {
  return Compiler(proto, source, filename, limits, diagnostics).Run();
}

}  // namespace leadscore::internal
