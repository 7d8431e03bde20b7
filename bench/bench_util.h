// Shared helpers of the micro benchmarks (bench/*_bench.cc): sizes, models,
// and seeded synthetic events and logs. Header-only; every benchmark binary
// includes it.
#ifndef LEADSCORE_BENCH_BENCH_UTIL_H_
#define LEADSCORE_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "leadscore/event.h"
#include "leadscore/model.h"

namespace leadscore::bench {

// LEADSCORE_BENCH_SMOKE=1 (the ctest smoke run): every size is capped so
// that each binary runs in a second or two.
inline bool Smoke() {
  const char* v = std::getenv("LEADSCORE_BENCH_SMOKE");
  return v != nullptr && *v != '\0' && *v != '0';
}
inline int64_t Cap(int64_t n) { return Smoke() && n > 1024 ? 1024 : n; }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) {
    std::fprintf(stderr, "bench: cannot read %s\n", path.c_str());
    std::abort();
  }
  return ss.str();
}

// The community model of examples/: every feature (caps, windows, once,
// fit, event tags with ttl, lifecycle, a flag). "The realistic one".
inline std::string CommunityModelText() {
  return ReadFile(std::string(LEADSCORE_SOURCE_DIR) +
                  "/examples/models/community.textproto");
}
// The bench model of bench/compare (what SQL can compute).
inline std::string CompareModelText() {
  return ReadFile(std::string(LEADSCORE_SOURCE_DIR) +
                  "/bench/compare/bench_model.textproto");
}

inline std::shared_ptr<const Model> LoadModelOrDie(const std::string& text,
                                                    const char* name) {
  auto m = Model::LoadText(text, name);
  if (!m.ok()) {
    std::fprintf(stderr, "bench: model %s: %s\n", name,
                 std::string(m.status().message()).c_str());
    std::abort();
  }
  return *m;
}

// Event types of a B2B community log, with weights (per mille): the types of
// the community model's rules plus some no rule reads.
struct TypeWeight {
  const char* type;
  int weight;
};
inline const std::vector<TypeWeight>& EventTypes() {
  static const std::vector<TypeWeight> kTypes = {
      {"content.read", 230},     {"message.post", 200},
      {"message.react", 110},    {"content.download", 80},
      {"live.watch", 50},        {"course.attend", 50},
      {"quiz.answer", 40},       {"poster.share", 30},
      {"group.join", 30},        {"member.intro", 20},
      {"invite.accepted", 20},   {"event.signup", 20},
      {"pricing.ask", 20},       {"event.attend", 15},
      {"demo.request", 10},      {"product.register", 10},
      {"spam.report", 5},        {"order.paid", 10},
  };
  return kTypes;
}

inline const char* const kTopics[] = {"", "tax", "payroll", "invoicing",
                                      "inventory", "bookkeeping", "audit"};
inline const char* const kTitles[] = {
    "", "", "", "VAT changes in 2024, explained",
    "Payroll checklist for \"small\" firms", "年终结账指南",
    "Invoice templates (Excel)", "How we closed the books in 3 days"};
inline const char* const kRoles[] = {"decision_maker", "end_user", "end_user"};
inline const char* const kIndustries[] = {"manufacturing", "accounting", "retail",
                                          "logistics", "education"};

// One synthetic event, owning its strings.
struct OwnedEvent {
  std::string event_id, member_id, type, group_id, channel;
  int64_t time = 0;
  double value = 0;
  std::vector<std::pair<std::string, std::string>> attrs, profile;
};

// A seeded community log: `events` events over `members` members in time
// order, over 180 days from 2024-01-01. Member activity is skewed (a few
// members are very active). Profiles ride on each member's group.join.
inline std::vector<OwnedEvent> MakeEvents(int64_t events, int64_t members,
                                          uint64_t seed = 42) {
  std::mt19937_64 rng(seed);
  auto below = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  const int64_t start = 1704067200000;
  const int64_t span = 180LL * 86400000;
  int total = 0;
  for (const TypeWeight& t : EventTypes()) total += t.weight;
  std::vector<OwnedEvent> out(events);
  for (int64_t i = 0; i < events; ++i) {
    OwnedEvent& e = out[i];
    // Skewed member choice: the square of a uniform draw favours low ids.
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    const int64_t m = static_cast<int64_t>(u * u * members) % members;
    char buf[32];
    std::snprintf(buf, sizeof(buf), "m%07lld", static_cast<long long>(m + 1));
    e.member_id = buf;
    std::snprintf(buf, sizeof(buf), "e%010lld", static_cast<long long>(i + 1));
    e.event_id = buf;
    e.time = start + static_cast<int64_t>(i * (span / std::max<int64_t>(1, events)));
    int x = static_cast<int>(below(total));
    for (const TypeWeight& t : EventTypes()) {
      if (x < t.weight) {
        e.type = t.type;
        break;
      }
      x -= t.weight;
    }
    e.channel = below(10) < 7 ? "wechat_group" : "forum";
    std::snprintf(buf, sizeof(buf), "g%02d", static_cast<int>(m % 97));
    e.group_id = buf;
    if (e.type == "course.attend") e.value = 5 + static_cast<double>(below(86));
    if (e.type == "order.paid") e.value = 980 + 10 * static_cast<double>(below(400));
    const char* topic = kTopics[below(7)];
    if (*topic) e.attrs.emplace_back("topic", topic);
    const char* title = kTitles[below(8)];
    if (*title) e.attrs.emplace_back("title", title);
    if (e.type == "group.join") {
      e.profile.emplace_back("role", kRoles[below(3)]);
      e.profile.emplace_back("industry", kIndustries[below(5)]);
      e.profile.emplace_back("employees", std::to_string(1 + below(2000)));
      e.profile.emplace_back("identity", below(10) == 0 ? "consumer" : "store_owner");
    }
  }
  return out;
}

// Views of owned events for Store::Apply; `pairs` holds the key/value views.
struct EventViews {
  std::vector<Event> events;
  std::vector<KeyValue> pairs;
};
inline EventViews ViewsOf(const std::vector<OwnedEvent>& owned) {
  EventViews v;
  size_t n = 0;
  for (const OwnedEvent& e : owned) n += e.attrs.size() + e.profile.size();
  v.pairs.reserve(n);  // never reallocates: the spans below stay valid
  v.events.reserve(owned.size());
  for (const OwnedEvent& o : owned) {
    Event e;
    e.event_id = o.event_id;
    e.member_id = o.member_id;
    e.has_time = true;
    e.time = o.time;
    e.type = o.type;
    e.group_id = o.group_id;
    e.channel = o.channel;
    e.value = o.value;
    const size_t a = v.pairs.size();
    for (const auto& [k, val] : o.attrs) v.pairs.push_back({k, val});
    const size_t p = v.pairs.size();
    for (const auto& [k, val] : o.profile) v.pairs.push_back({k, val});
    e.attrs = absl::MakeConstSpan(v.pairs.data() + a, p - a);
    e.profile = absl::MakeConstSpan(v.pairs.data() + p, v.pairs.size() - p);
    v.events.push_back(e);
  }
  return v;
}

inline void AppendCsvCell(std::string* out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// The events as a CSV log with the columns of `leadscore gen`.
inline std::string ToCsv(const std::vector<OwnedEvent>& events) {
  std::string out =
      "event_id,time,member_id,type,value,channel,group_id,attr.topic,"
      "attr.title,profile.role,profile.industry,profile.employees,"
      "profile.identity\n";
  auto find = [](const std::vector<std::pair<std::string, std::string>>& kv,
                 const char* key) -> std::string_view {
    for (const auto& [k, v] : kv) {
      if (k == key) return v;
    }
    return {};
  };
  for (const OwnedEvent& e : events) {
    out += e.event_id;
    out += ',';
    out += std::to_string(e.time);
    out += ',';
    out += e.member_id;
    out += ',';
    out += e.type;
    out += ',';
    if (e.value != 0) out += std::to_string(static_cast<int64_t>(e.value));
    out += ',';
    out += e.channel;
    out += ',';
    out += e.group_id;
    for (const char* k : {"topic", "title"}) {
      out += ',';
      AppendCsvCell(&out, find(e.attrs, k));
    }
    for (const char* k : {"role", "industry", "employees", "identity"}) {
      out += ',';
      AppendCsvCell(&out, find(e.profile, k));
    }
    out += '\n';
  }
  return out;
}

}  // namespace leadscore::bench

#endif  // LEADSCORE_BENCH_BENCH_UTIL_H_
