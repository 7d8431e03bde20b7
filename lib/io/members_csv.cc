// members.csv rows.
#include "lib/io/members_csv.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "lib/io/json_writer.h"

namespace leadscore::io {

void AppendCsvCell(std::string* out, std::string_view cell) {
  std::string text;
  AppendUtf8(&text, cell);
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendMemberCsvHeader(std::string* out, const Model& model) {
  out->append("member_id,stage,stage_since");
  for (int i = 0; i < model.num_scores(); ++i) {
    out->push_back(',');
    AppendCsvCell(out, "score." + model.score_name(i));
  }
  out->append(",tags");
  for (int i = 0; i < model.num_counters(); ++i) {
    out->push_back(',');
    AppendCsvCell(out, "counter." + model.counter_name(i));
  }
  for (int i = 0; i < model.num_flags(); ++i) {
    const std::string prefix = "flag." + model.flag_name(i);
    for (const char* part : {".armed", ".raised", ".last_raised"}) {
      out->push_back(',');
      AppendCsvCell(out, prefix + part);
    }
  }
  out->push_back('\n');
}

void AppendMemberCsvLine(std::string* out, const Model& model,
                         const MemberView& view) {
  AppendCsvCell(out, view.member_id);
  out->push_back(',');
  if (view.stage >= 0) {
    AppendCsvCell(out, model.stage_name(view.stage));
    out->push_back(',');
    AppendJsonInt(out, view.stage_since);
  } else {
    out->push_back(',');
  }
  for (double v : view.scores) {
    out->push_back(',');
    if (std::isfinite(v)) AppendJsonDouble(out, v);
  }
  out->push_back(',');
  std::vector<std::string_view> tags;
  tags.reserve(view.tags.size());
  for (int t : view.tags) tags.push_back(model.tag_name(t));
  std::sort(tags.begin(), tags.end());
  std::string joined;
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) joined.push_back(';');
    joined.append(tags[i].data(), tags[i].size());
  }
  AppendCsvCell(out, joined);
  for (int64_t c : view.counters) {
    out->push_back(',');
    AppendJsonInt(out, c);
  }
  for (const MemberView::Flag& f : view.flags) {
    out->append(f.armed ? ",true," : ",false,");
    AppendJsonInt(out, f.raised);
    out->push_back(',');
    if (f.has_last_raised) AppendJsonInt(out, f.last_raised);
  }
  out->push_back('\n');
}

}  // namespace leadscore::io
