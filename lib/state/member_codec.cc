// MemberState <-> v1.MemberState, by names.
#include "lib/state/member_codec.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace leadscore::internal::state {
namespace {

int Find(const absl::flat_hash_map<std::string, int>& index,
         const std::string& name) {
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

}  // namespace

MemberCodec::MemberCodec(const CompiledModel& model) : m_(model) {
  for (size_t r = 0; r < m_.rules.size(); ++r) {
    rule_index_.emplace(m_.rules[r].name, static_cast<int>(r));
  }
}

void MemberCodec::Encode(const MemberState& s, v1::MemberState* out) const {
  out->Clear();
  out->set_member_id(s.id);
  out->set_model_name(m_.name);
  out->set_clock(s.clock);
  out->set_ref_time(s.ref_time);
  out->set_last_event_time(s.last_event_time);
  if (s.stage >= 0) out->set_stage(m_.stages[s.stage]);
  out->set_stage_since(s.stage_since);

  for (const ScoreDef& d : m_.scores) {
    if (d.slot < 0 || d.fit) continue;  // derived: no state; fit: recomputed
    auto* sc = out->add_scores();
    sc->set_name(d.name);
    sc->set_value(s.scores[d.slot]);
  }

  for (size_t r = 0; r < m_.rules.size(); ++r) {
    const RuleDef& rd = m_.rules[r];
    const bool once_done = rd.once && s.once_done[rd.once_bit] != 0;
    const bool lifetime_cap = rd.has_cap && rd.cap_window_ms == 0;
    const bool window_cap = rd.has_cap && rd.cap_window_ms > 0;
    const bool has_window_entries = window_cap && !s.window_caps[rd.cap_slot].empty();
    const bool has_lifetime_total = lifetime_cap && s.lifetime_caps[rd.cap_slot] != 0;
    if (s.ledger[r] == 0 && !once_done && !has_window_entries && !has_lifetime_total) {
      continue;  // nothing to remember: a fresh rule
    }
    auto* pr = out->add_rules();
    pr->set_name(rd.name);
    pr->set_score(m_.scores[rd.score].name);
    pr->set_ledger(s.ledger[r]);
    pr->set_once_done(once_done);
    if (lifetime_cap) {
      pr->set_has_lifetime_cap(true);
      pr->set_lifetime_cap_allowed(s.lifetime_caps[rd.cap_slot]);
    }
    if (window_cap) {
      for (const CapEntry& e : s.window_caps[rd.cap_slot]) {
        auto* pe = pr->add_window_cap();
        pe->set_time(e.time);
        pe->set_allowed(e.allowed);
      }
    }
  }

  for (size_t t = 0; t < m_.tags.size(); ++t) {
    if (!s.tags[t]) continue;
    auto* pt = out->add_tags();
    pt->set_name(m_.tags[t].name);
    pt->set_held(true);
    if (m_.tags[t].ttl_slot >= 0) {
      pt->set_has_last_set(true);
      pt->set_last_set(s.tag_last_set[m_.tags[t].ttl_slot]);
    }
  }

  for (const CounterDef& c : m_.counters) {
    if (c.window_ms == 0) {
      if (s.lifetime_counts[c.slot] == 0) continue;
      auto* pc = out->add_counters();
      pc->set_name(c.name);
      pc->set_lifetime_count(s.lifetime_counts[c.slot]);
    } else {
      const auto& times = s.window_counts[c.slot];
      if (times.empty()) continue;
      auto* pc = out->add_counters();
      pc->set_name(c.name);
      pc->set_windowed(true);
      pc->mutable_times()->Add(times.begin(), times.end());
    }
  }

  for (size_t f = 0; f < m_.flags.size(); ++f) {
    const FlagState& fs = s.flags[f];
    if (fs.armed && fs.raised == 0 && !fs.has_last) continue;  // as new
    auto* pf = out->add_flags();
    pf->set_name(m_.flags[f].name);
    pf->set_armed(fs.armed);
    pf->set_raised(fs.raised);
    pf->set_has_last_raised(fs.has_last);
    pf->set_last_raised(fs.last);
  }

  // Attributes the model reads and those it does not, merged by key.
  std::vector<std::pair<const std::string*, const std::string*>> attrs;
  for (size_t i = 0; i < m_.member_attrs.size(); ++i) {
    if (s.attr_present[i]) attrs.emplace_back(&m_.member_attrs[i], &s.attrs[i]);
  }
  for (const OtherAttr& a : s.other_attrs) attrs.emplace_back(&a.key, &a.value);
  std::sort(attrs.begin(), attrs.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [key, value] : attrs) {
    auto* pa = out->add_attributes();
    pa->set_key(*key);
    pa->set_value(*value);
  }

  out->mutable_dedup_hashes()->Reserve(static_cast<int>(s.dedup.size()));
  out->mutable_dedup_times()->Reserve(static_cast<int>(s.dedup.size()));
  for (const DedupEntry& d : s.dedup.Sorted()) {
    out->add_dedup_hashes(d.hash);
    out->add_dedup_times(d.time);
  }
}

absl::Status MemberCodec::Decode(const v1::MemberState& p, MemberState* s,
                                 std::set<std::string>* notes) const {
  if (p.member_id().empty()) {
    return absl::DataLossError("member state: no member_id");
  }
  if (p.dedup_hashes_size() != p.dedup_times_size()) {
    return absl::DataLossError(absl::StrCat(
        "member state of ", Quoted(p.member_id()), ": ", p.dedup_hashes_size(),
        " dedup hashes but ", p.dedup_times_size(), " times"));
  }
  s->id = p.member_id();
  s->clock = p.clock();
  s->ref_time = p.ref_time();
  s->last_event_time = p.last_event_time();
  s->stage_since = p.stage_since();

  // Stage: by name, else the initial stage entered at the member's clock.
  s->stage = -1;
  if (!m_.stages.empty()) {
    const int st = p.stage().empty() ? -1 : Find(m_.stage_index, p.stage());
    if (st >= 0) {
      s->stage = st;
    } else {
      s->stage = m_.initial_stage;
      s->stage_since = s->clock;
      notes->insert(p.stage().empty()
                        ? absl::StrCat("stage: the state has none (no lifecycle when it "
                                       "was written); members start in ",
                                       Quoted(m_.stages[m_.initial_stage]),
                                       " at their clock")
                        : absl::StrCat("stage ", Quoted(p.stage()),
                                       ": not in the model; members in it start in ",
                                       Quoted(m_.stages[m_.initial_stage]),
                                       " at their clock"));
    }
  } else if (!p.stage().empty()) {
    notes->insert("stage: the model has no lifecycle; stages dropped");
  }

  for (const auto& sc : p.scores()) {
    const int i = Find(m_.score_index, sc.name());
    if (i < 0) {
      notes->insert(absl::StrCat("score ", Quoted(sc.name()), ": not in the model, value dropped"));
      continue;
    }
    const ScoreDef& d = m_.scores[i];
    if (d.derived) {
      notes->insert(absl::StrCat("score ", Quoted(sc.name()),
                                 ": now derived, stored value dropped"));
    } else if (d.fit) {
      notes->insert(absl::StrCat("score ", Quoted(sc.name()),
                                 ": now a fit score, recomputed from the attributes"));
    } else {
      s->scores[d.slot] = sc.value();
    }
  }

  for (const auto& pr : p.rules()) {
    const int r = Find(rule_index_, pr.name());
    if (r < 0) {
      notes->insert(absl::StrCat("rule ", Quoted(pr.name()),
                                 ": not an event rule of the model, ledger and cap "
                                 "memory dropped (its points stay in the score)"));
      continue;
    }
    const RuleDef& rd = m_.rules[r];
    if (m_.scores[rd.score].name == pr.score()) {
      s->ledger[r] = pr.ledger();
    } else if (pr.ledger() != 0) {
      notes->insert(absl::StrCat("rule ", Quoted(pr.name()), ": now feeds ",
                                 Quoted(m_.scores[rd.score].name), " instead of ",
                                 Quoted(pr.score()), ", ledger dropped"));
    }
    if (pr.once_done()) {
      if (rd.once) {
        s->once_done[rd.once_bit] = 1;
      } else {
        notes->insert(absl::StrCat("rule ", Quoted(pr.name()),
                                   ": no longer `once`, applies again"));
      }
    }
    const bool had_window = pr.window_cap_size() > 0;
    const bool had_lifetime = pr.has_lifetime_cap() && pr.lifetime_cap_allowed() != 0;
    if (rd.has_cap && rd.cap_window_ms == 0) {
      if (pr.has_lifetime_cap()) {
        s->lifetime_caps[rd.cap_slot] = pr.lifetime_cap_allowed();
      } else if (had_window) {
        notes->insert(absl::StrCat("rule ", Quoted(pr.name()),
                                   ": cap changed from windowed to lifetime, starts "
                                   "from 0"));
      }
    } else if (rd.has_cap) {
      if (had_window) {
        auto& entries = s->window_caps[rd.cap_slot];
        for (const auto& e : pr.window_cap()) {
          entries.push_back(CapEntry{e.time(), e.allowed()});
        }
        std::stable_sort(entries.begin(), entries.end(),
                         [](const CapEntry& a, const CapEntry& b) { return a.time < b.time; });
      } else if (had_lifetime) {
        notes->insert(absl::StrCat("rule ", Quoted(pr.name()),
                                   ": cap changed from lifetime to windowed, starts "
                                   "from 0"));
      }
    } else if (had_window || had_lifetime) {
      notes->insert(absl::StrCat("rule ", Quoted(pr.name()),
                                 ": no longer capped, cap memory dropped"));
    }
  }

  for (const auto& pt : p.tags()) {
    if (!pt.held()) continue;
    const int t = Find(m_.tag_index, pt.name());
    if (t < 0) {
      notes->insert(absl::StrCat("tag ", Quoted(pt.name()), ": not in the model, dropped"));
      continue;
    }
    s->tags[t] = 1;  // a state tag is re-decided at the next evaluation
    const TagDef& td = m_.tags[t];
    if (td.ttl_slot >= 0) {
      if (pt.has_last_set()) {
        s->tag_last_set[td.ttl_slot] = pt.last_set();
      } else {
        s->tag_last_set[td.ttl_slot] = s->clock;
        notes->insert(absl::StrCat("tag ", Quoted(pt.name()),
                                   ": now has a ttl, counted from the member's clock"));
      }
    }
  }

  for (const auto& pc : p.counters()) {
    const int c = Find(m_.counter_index, pc.name());
    if (c < 0) {
      notes->insert(absl::StrCat("counter ", Quoted(pc.name()), ": not in the model, dropped"));
      continue;
    }
    const CounterDef& cd = m_.counters[c];
    const bool windowed = cd.window_ms > 0;
    if (windowed != pc.windowed()) {
      notes->insert(absl::StrCat("counter ", Quoted(pc.name()),
                                 ": changed between lifetime and windowed, starts from 0"));
      continue;
    }
    if (windowed) {
      auto& times = s->window_counts[cd.slot];
      times.assign(pc.times().begin(), pc.times().end());
      std::sort(times.begin(), times.end());
    } else {
      s->lifetime_counts[cd.slot] = pc.lifetime_count();
    }
  }

  for (const auto& pf : p.flags()) {
    const int f = Find(m_.flag_index, pf.name());
    if (f < 0) {
      notes->insert(absl::StrCat("flag ", Quoted(pf.name()), ": not in the model, dropped"));
      continue;
    }
    FlagState& fs = s->flags[f];
    fs.armed = pf.armed();
    fs.raised = pf.raised();
    fs.has_last = pf.has_last_raised();
    fs.last = pf.last_raised();
  }

  for (const auto& pa : p.attributes()) {
    const int id = Find(m_.member_attr_index, pa.key());
    if (id >= 0) {
      s->attrs[id] = pa.value();
      s->attr_present[id] = 1;
    } else {
      s->other_attrs.push_back(OtherAttr{pa.key(), pa.value()});
    }
  }
  std::sort(s->other_attrs.begin(), s->other_attrs.end(),
            [](const OtherAttr& a, const OtherAttr& b) { return a.key < b.key; });
  // Later duplicates (not written by this library) win, as in ApplyProfile.
  auto& oa = s->other_attrs;
  for (size_t i = 1; i < oa.size(); ++i) {
    if (oa[i].key == oa[i - 1].key) {
      return absl::DataLossError(absl::StrCat("member state of ", Quoted(p.member_id()),
                                              ": attribute ", Quoted(oa[i].key), " twice"));
    }
  }

  // One entry per hash, the latest time (as the engine keeps them).
  s->dedup.clear();
  for (int i = 0; i < p.dedup_hashes_size(); ++i) {
    s->dedup.Keep(p.dedup_hashes(i), p.dedup_times(i));
  }
  s->dedup_prune_at = std::max<size_t>(32, 2 * s->dedup.size());
  return absl::OkStatus();
}

}  // namespace leadscore::internal::state
