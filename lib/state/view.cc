// Member views in wire forms: the v1.MemberView message and the JSON of a
// members.jsonl line (lib/io/json_writer.h writes it; not repeated here).
#include "leadscore/store.h"
#include "leadscore/v1/state.pb.h"
#include "lib/io/json_writer.h"

namespace leadscore {

std::string MemberViewToProto(const Model& model, const MemberView& view) {
  v1::MemberView p;
  p.set_member_id(view.member_id);
  p.set_time(view.time);
  if (view.stage >= 0) {
    p.set_has_stage(true);
    p.set_stage(model.stage_name(view.stage));
    p.set_stage_since(view.stage_since);
  }
  for (size_t i = 0; i < view.scores.size(); ++i) {
    auto* s = p.add_scores();
    s->set_name(model.score_name(static_cast<int>(i)));
    s->set_value(view.scores[i]);
    s->set_derived(model.score_is_derived(static_cast<int>(i)));
  }
  for (int t : view.tags) p.add_tags(model.tag_name(t));
  for (size_t i = 0; i < view.counters.size(); ++i) {
    auto* c = p.add_counters();
    c->set_name(model.counter_name(static_cast<int>(i)));
    c->set_value(view.counters[i]);
  }
  for (size_t i = 0; i < view.flags.size(); ++i) {
    const MemberView::Flag& f = view.flags[i];
    auto* pf = p.add_flags();
    pf->set_name(model.flag_name(static_cast<int>(i)));
    pf->set_armed(f.armed);
    pf->set_raised(f.raised);
    pf->set_has_last_raised(f.has_last_raised);
    pf->set_last_raised(f.last_raised);
  }
  for (const MemberView::LedgerEntry& e : view.ledger) {
    auto* pe = p.add_ledger();
    pe->set_rule(model.contributor_name(e.contributor));
    pe->set_score(model.score_name(e.score));
    pe->set_value(e.value);
  }
  p.set_clock(view.clock);
  p.set_last_event_time(view.last_event_time);
  std::string out;
  p.SerializeToString(&out);
  return out;
}

std::string MemberViewToJson(const Model& model, const MemberView& view) {
  std::string out;
  io::AppendMemberLine(&out, model, view);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace leadscore
