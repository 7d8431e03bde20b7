// `leadscore summary`: a readable report of a scoring run from its
// members.jsonl and changes.jsonl: members per stage, tags, flags, rejected
// rows, and the flagged members with the highest lead score and why.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "leadscore/model.h"
#include "tools/cli.h"

namespace leadscore::cli {

namespace {

constexpr char kSummaryUsage[] =
    R"(usage: leadscore summary --members members.jsonl --changes changes.jsonl
                        [--model M] [--score NAME] [--top N]

Prints a report of a `leadscore score` run: members per stage, tags held,
flags raised, rejected rows by reason, and the flagged members with the
highest score NAME (default "lead") with the top reasons of their last raise.

  --model M     list the stages in lifecycle order (else by count)
  --score NAME  the score that ranks flagged members (default lead)
  --top N       how many flagged members to list (default 10)
)";

using google::protobuf::Struct;
using google::protobuf::Value;

const Value* Field(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string StringField(const Struct& s, const std::string& name) {
  const Value* v = Field(s, name);
  return v != nullptr && v->has_string_value() ? v->string_value() : "";
}

bool NumberField(const Struct& s, const std::string& name, double* out) {
  const Value* v = Field(s, name);
  if (v == nullptr || !v->has_number_value()) return false;
  *out = v->number_value();
  return true;
}

// Calls `fn` with every line of a JSON Lines file, parsed; false (with a
// message on stderr) when the file cannot be read or a line is not JSON.
template <typename Fn>
bool ForEachLine(const std::string& path, Fn fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "leadscore summary: cannot read " << path << "\n";
    return false;
  }
  std::string line;
  int64_t number = 0;
  Struct object;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    object.Clear();
    auto status = google::protobuf::util::JsonStringToMessage(line, &object);
    if (!status.ok()) {
      std::cerr << "leadscore summary: " << path << ":" << number
                << ": not a JSON object: " << status.message() << "\n";
      return false;
    }
    fn(object);
  }
  return true;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string Pad(const std::string& s, size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s
               : s + std::string(width - s.size(), ' ');
}

std::string Bar(int64_t n, int64_t total, int width) {
  if (total <= 0) return "";
  const int64_t len = (n * width + total - 1) / total;
  std::string bar;
  for (int64_t i = 0; i < len; ++i) bar += "\u2588";
  return bar;
}

std::string Date(double ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M",
                          absl::FromUnixMillis(static_cast<int64_t>(ms)),
                          absl::UTCTimeZone());
}

struct FlaggedMember {
  std::string id;
  std::string stage;
  double score = 0;
  int64_t raised = 0;
};

struct LastRaise {
  double time = 0;
  std::string flag;
  std::string reasons;
};

}  // namespace

int RunSummary(const std::vector<std::string>& words) {
  const ParsedArgs args =
      ParseArgs(words, {"members", "changes", "model", "score", "top"}, {});
  if (args.help) {
    std::cout << kSummaryUsage;
    return kExitOk;
  }
  if (!args.error.empty()) return UsageError("summary", args.error);
  if (!args.has("members")) return UsageError("summary", "missing --members");
  if (!args.has("changes")) return UsageError("summary", "missing --changes");
  const std::string score_name = args.has("score") ? args.values.at("score") : "lead";
  size_t top = 10;
  if (args.has("top")) {
    try {
      top = std::stoul(args.values.at("top"));
    } catch (...) {
      return UsageError("summary", "bad --top \"" + args.values.at("top") + "\"");
    }
  }
  std::vector<std::string> stage_order;
  if (args.has("model")) {
    auto model = Model::LoadFile(args.values.at("model"));
    if (!model.ok()) {
      std::cerr << model.status().message() << "\n";
      return kExitError;
    }
    for (int i = 0; i < (*model)->num_stages(); ++i) {
      stage_order.push_back((*model)->stage_name(i));
    }
  }

  // Members.
  int64_t members = 0;
  std::map<std::string, int64_t> per_stage, per_tag;
  std::map<std::string, int64_t> flag_members, flag_armed;
  std::vector<FlaggedMember> flagged;
  bool ok = ForEachLine(args.values.at("members"), [&](const Struct& m) {
    ++members;
    const Value* stage = Field(m, "stage");
    const std::string stage_text =
        stage != nullptr && stage->has_string_value() ? stage->string_value() : "";
    if (!stage_text.empty()) ++per_stage[stage_text];
    if (const Value* tags = Field(m, "tags"); tags && tags->has_list_value()) {
      for (const Value& t : tags->list_value().values()) ++per_tag[t.string_value()];
    }
    int64_t raised_total = 0;
    if (const Value* flags = Field(m, "flags"); flags && flags->has_struct_value()) {
      for (const auto& [name, f] : flags->struct_value().fields()) {
        double raised = 0;
        NumberField(f.struct_value(), "raised", &raised);
        if (raised > 0) ++flag_members[name];
        const Value* armed = Field(f.struct_value(), "armed");
        if (armed != nullptr && armed->bool_value()) ++flag_armed[name];
        raised_total += static_cast<int64_t>(raised);
      }
    }
    if (raised_total > 0) {
      FlaggedMember fm;
      fm.id = StringField(m, "member_id");
      fm.stage = stage_text;
      fm.raised = raised_total;
      if (const Value* scores = Field(m, "scores"); scores && scores->has_struct_value()) {
        const Struct& s = scores->struct_value();
        if (!NumberField(s, score_name, &fm.score) && !s.fields().empty()) {
          fm.score = s.fields().begin()->second.number_value();
        }
      }
      flagged.push_back(std::move(fm));
    }
  });
  if (!ok) return kExitError;

  // Changes.
  std::map<std::string, int64_t> per_kind, per_reason, raises_per_flag;
  std::map<std::string, LastRaise> last_raise;  // by member
  int64_t rejected_members_unknown = 0;
  ok = ForEachLine(args.values.at("changes"), [&](const Struct& c) {
    const std::string kind = StringField(c, "kind");
    ++per_kind[kind];
    if (kind == "rejected") {
      ++per_reason[StringField(c, "reason")];
      if (StringField(c, "member_id").empty()) ++rejected_members_unknown;
    } else if (kind == "flag_raised") {
      const std::string flag = StringField(c, "flag");
      ++raises_per_flag[flag];
      LastRaise& lr = last_raise[StringField(c, "member_id")];
      NumberField(c, "time", &lr.time);
      lr.flag = flag;
      lr.reasons.clear();
      if (const Value* rs = Field(c, "reasons"); rs && rs->has_list_value()) {
        for (const Value& r : rs->list_value().values()) {
          double points = 0;
          NumberField(r.struct_value(), "points", &points);
          if (!lr.reasons.empty()) lr.reasons += ", ";
          lr.reasons += StringField(r.struct_value(), "rule") + " " + Fixed(points, 1);
        }
      }
    }
  });
  if (!ok) return kExitError;

  std::ostream& out = std::cout;
  out << "Members: " << members << "\n";

  if (!per_stage.empty()) {
    out << "\nMembers per stage\n";
    std::vector<std::pair<std::string, int64_t>> rows;
    if (!stage_order.empty()) {
      for (const std::string& s : stage_order) {
        rows.emplace_back(s, per_stage.count(s) ? per_stage.at(s) : 0);
      }
    } else {
      rows.assign(per_stage.begin(), per_stage.end());
      std::stable_sort(rows.begin(), rows.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
    }
    for (const auto& [stage, n] : rows) {
      out << "  " << Pad(stage, 12) << Pad(std::to_string(n), 7, true) << "  "
          << Pad(Fixed(members ? 100.0 * n / members : 0, 1) + "%", 6, true) << "  "
          << Bar(n, members, 40) << "\n";
    }
  }

  if (!per_tag.empty()) {
    out << "\nTags held\n";
    std::vector<std::pair<std::string, int64_t>> rows(per_tag.begin(), per_tag.end());
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [tag, n] : rows) {
      out << "  " << Pad(tag, 16) << Pad(std::to_string(n), 7, true) << "\n";
    }
  }

  out << "\nFlags\n";
  if (flag_members.empty() && raises_per_flag.empty()) out << "  none raised\n";
  for (const auto& [flag, raises] : raises_per_flag) {
    const int64_t who = flag_members.count(flag) ? flag_members.at(flag) : 0;
    const int64_t armed = flag_armed.count(flag) ? flag_armed.at(flag) : 0;
    out << "  " << Pad(flag, 16) << raises << " raised, for " << who
        << " members; " << (members - armed) << " not armed now\n";
  }

  int64_t rejected = 0;
  for (const auto& [reason, n] : per_reason) rejected += n;
  out << "\nRejected rows: " << rejected << "\n";
  for (const char* reason : {"duplicate", "too_late", "invalid", "after_as_of"}) {
    const int64_t n = per_reason.count(reason) ? per_reason.at(reason) : 0;
    out << "  " << Pad(reason, 12) << Pad(std::to_string(n), 7, true) << "\n";
  }
  if (rejected_members_unknown > 0) {
    out << "  (" << rejected_members_unknown << " of them with no member_id)\n";
  }

  out << "\nChanges\n";
  for (const auto& [kind, n] : per_kind) {
    out << "  " << Pad(kind, 14) << Pad(std::to_string(n), 7, true) << "\n";
  }

  std::sort(flagged.begin(), flagged.end(),
            [](const FlaggedMember& a, const FlaggedMember& b) {
              return a.score != b.score ? a.score > b.score : a.id < b.id;
            });
  if (flagged.size() > top) flagged.resize(top);
  if (!flagged.empty()) {
    out << "\nTop " << flagged.size() << " flagged members by " << score_name
        << " score\n";
    out << "  " << Pad("member", 10) << Pad(score_name, 8, true) << "  "
        << Pad("stage", 10) << Pad("last raised (UTC)", 18)
        << "  top reasons at that raise\n";
    for (const FlaggedMember& fm : flagged) {
      const LastRaise* lr = last_raise.count(fm.id) ? &last_raise.at(fm.id) : nullptr;
      out << "  " << Pad(fm.id, 10) << Pad(Fixed(fm.score, 1), 8, true) << "  "
          << Pad(fm.stage.empty() ? "-" : fm.stage, 10)
          << Pad(lr ? Date(lr->time) : "-", 18) << "  "
          << (lr ? lr->reasons : "") << "\n";
    }
  }
  return kExitOk;
}

}  // namespace leadscore::cli
