// `leadscore gen`: a deterministic sample log of a B2B community, for demos,
// tests and benchmarks. Members follow journeys (join, intro, reading,
// downloads, courses, bursts of posts, weeks of silence, conversions through
// demo requests, registrations, sales and orders, invites, spam); the log has
// the faults of real exports (duplicates, rows that arrive late or out of
// order, mixed time formats, a few bad rows).
//
// Determinism: std::mt19937_64 is specified exactly by the standard, and
// every distribution below is integer arithmetic written here, so a seed
// gives the same bytes with any standard library.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>

#include "absl/time/time.h"
#include "leadscore/event.h"
#include "lib/base/duration.h"
#include "lib/io/input.h"
#include "lib/io/json_writer.h"
#include "lib/io/pb_reader.h"
#include "lib/io/raw_event.h"
#include "lib/io/time_parse.h"
#include "tools/cli.h"

namespace leadscore::cli {

namespace {

constexpr char kGenUsage[] =
    R"(usage: leadscore gen --members N --events M --seed S --out FILE
                    [--format csv|jsonl|pb] [--start T] [--days D]

Writes a deterministic sample community log: N members, M rows in all
(duplicates, late rows and a few bad rows included), over D days from T.

  --members N   members (default 3000)
  --events M    rows (default 60000)
  --seed S      random seed (default 1); the same seed gives the same log
  --out FILE    where to write ("-" for stdout); a name ending in .gz is
                written gzip-compressed
  --format F    csv, jsonl or pb (length-delimited MemberEvent); default: by
                the name of FILE (.jsonl, .pb/.binpb, else csv). Every format
                holds the same events, bad rows included (each written as a
                bad record of that format), so they score the same.
  --start T     first day, ms or RFC 3339 (default 2024-01-01T00:00:00Z)
  --days D      length of the period in days (default 180)
)";

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, n), n > 0, without modulo bias.
  uint64_t Below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const uint64_t x = engine_();
      if (x >= threshold) return x % n;
    }
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability num / den.
  bool Chance(uint64_t num, uint64_t den) { return Below(den) < num; }
  // An index drawn with the given integer weights.
  size_t Pick(const std::vector<uint32_t>& weights) {
    uint64_t total = 0;
    for (uint32_t w : weights) total += w;
    uint64_t x = Below(total);
    for (size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return weights.size() - 1;
  }
  template <typename T>
  const T& Of(const std::vector<T>& items) {
    return items[Below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

enum Archetype {
  kLurker, kReader, kLearner, kPoster, kProspect, kAdvocate, kSpammer,
  kConsumer, kNumArchetypes,
};
// Share of members (per mille) and relative activity of each archetype.
const std::vector<uint32_t> kArchetypeShare = {330, 200, 120, 100, 110, 40, 30, 70};
const uint32_t kArchetypeActivity[kNumArchetypes] = {1, 4, 5, 8, 6, 8, 2, 2};

struct Member {
  std::string id;
  Archetype kind = kLurker;
  std::string identity, role, industry, employees, province, source;
  std::string group, account;
  int64_t budget = 0;
};

// One row of the log, before it is written.
struct Row {
  int64_t arrival = 0;
  int64_t seq = 0;  // tie-break, and the event id
  int64_t time = 0;
  uint32_t member = 0;
  std::string type, value, channel, topic, title;
  bool profile = false;  // carries the member's profile columns
  std::string role_update;  // a later profile change
  // Faults: a time written as RFC 3339, or a bad row of some kind.
  bool rfc3339 = false;
  enum Fault : uint8_t {
    kNone, kBadTime, kBadValue, kExtraColumn, kNoMember, kNoTime, kNanValue,
  } fault = kNone;
  std::string fault_text;
};

const std::vector<std::string> kProvinces = {
    "guangdong", "zhejiang", "jiangsu", "shandong", "sichuan",
    "hubei", "fujian", "henan", "beijing", "shanghai"};
const char* const kProvinceCodes[] = {"gd", "zj", "js", "sd", "sc",
                                      "hb", "fj", "ha", "bj", "sh"};
const std::vector<std::string> kIndustries = {
    "manufacturing", "accounting", "retail", "wholesale", "catering",
    "logistics", "education"};
const std::vector<std::string> kIdentities = {"store_owner", "wechat_merchant",
                                              "online_shop"};
const std::vector<std::string> kSources = {
    "ground_promotion", "douyin", "app_store", "fission_poster", "referral",
    "trade_show", "offline_event"};
const std::vector<std::string> kChannels = {"wechat_group", "wecom", "forum",
                                            "official_account", "mini_program"};
const std::vector<std::string> kTopics = {"tax", "payroll", "invoicing",
                                          "inventory", "bookkeeping", "audit"};
const std::vector<std::string> kTitles = {
    "VAT changes in 2024, explained",
    "Payroll checklist for \"small\" firms",
    "年终结账指南",
    "Invoice templates (Excel)",
    "Inventory counts: a quick start",
    "How we closed the books in 3 days",
    "电子发票常见问题, 一次讲清",
    "Month-end close:\nthe checklist",
    "Audit season survival guide",
};

// Gaps between sessions: minutes, hours, days, weeks, or a long silence.
int64_t SessionGap(Rng& rng, Archetype kind) {
  const std::vector<uint32_t> weights =
      kind == kLurker ? std::vector<uint32_t>{15, 15, 35, 20, 15}
                      : std::vector<uint32_t>{30, 22, 33, 11, 4};
  switch (rng.Pick(weights)) {
    case 0: return rng.Range(1, 30) * kMillisPerMinute;
    case 1: return rng.Range(1, 8) * kMillisPerHour + rng.Range(0, 59) * kMillisPerMinute;
    case 2: return rng.Range(1, 6) * kMillisPerDay + rng.Range(0, 23) * kMillisPerHour;
    case 3: return rng.Range(1, 4) * kMillisPerWeek + rng.Range(0, 6) * kMillisPerDay;
    default: return rng.Range(4, 10) * kMillisPerWeek + rng.Range(0, 6) * kMillisPerDay;
  }
}

class Generator {
 public:
  Generator(uint64_t seed, int64_t members, int64_t events, int64_t start,
            int64_t days)
      : rng_(seed), num_members_(members), num_events_(events), start_(start),
        span_(days * kMillisPerDay) {}

  void Run() {
    MakeMembers();
    for (uint32_t m = 0; m < members_.size(); ++m) MakeJourney(m);
    AddFaults();
    std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
      return a.arrival != b.arrival ? a.arrival < b.arrival : a.seq < b.seq;
    });
  }

  // Writes the rows in `format` through `sink` (called with ~1 MB pieces).
  template <typename Sink>
  void Write(io::LogFormat format, Sink sink) const;

 private:
  void MakeMembers();
  void MakeJourney(uint32_t m);
  Row& Add(uint32_t m, int64_t time, const std::string& type);
  void AddFaults();

  Rng rng_;
  int64_t num_members_;
  int64_t num_events_;
  int64_t start_;
  int64_t span_;
  int64_t next_seq_ = 1;
  int64_t clean_events_ = 0;
  int64_t carry_ = 0;
  std::vector<Member> members_;
  std::vector<Row> rows_;
};

void Generator::MakeMembers() {
  const int width = std::max<int>(5, std::to_string(num_members_).size());
  // Rows that are not journey events: duplicates and bad rows.
  const int64_t bad = num_events_ >= 200 ? std::max<int64_t>(8, num_events_ / 2000) : 0;
  const int64_t dups = num_events_ / 50;
  clean_events_ = std::max<int64_t>(0, num_events_ - bad - dups);
  uint64_t total_weight = 0;
  std::vector<uint64_t> weights;
  for (int64_t i = 0; i < num_members_; ++i) {
    Member mem;
    char id[32];
    std::snprintf(id, sizeof(id), "m%0*lld", width, static_cast<long long>(i + 1));
    mem.id = id;
    mem.kind = static_cast<Archetype>(rng_.Pick(kArchetypeShare));
    const bool keen = mem.kind == kProspect || mem.kind == kAdvocate;
    mem.identity = mem.kind == kConsumer ? "consumer" : rng_.Of(kIdentities);
    mem.role = rng_.Chance(keen ? 55 : 20, 100) ? "decision_maker" : "end_user";
    mem.industry = rng_.Chance(keen ? 60 : 30, 100)
                       ? (rng_.Chance(1, 2) ? "manufacturing" : "accounting")
                       : rng_.Of(kIndustries);
    const int64_t size_class = rng_.Pick({40, 30, 18, 9, 3});
    static const int64_t kSizeLo[] = {1, 10, 50, 200, 1000};
    static const int64_t kSizeHi[] = {9, 49, 199, 999, 5000};
    mem.employees = std::to_string(rng_.Range(kSizeLo[size_class], kSizeHi[size_class]));
    if (keen && rng_.Chance(1, 3)) mem.employees = std::to_string(rng_.Range(200, 3000));
    mem.source = rng_.Of(kSources);
    const size_t province = rng_.Below(kProvinces.size());
    mem.province = kProvinces[province];
    char group[32];
    std::snprintf(group, sizeof(group), "%s-%02d", kProvinceCodes[province],
                  static_cast<int>(rng_.Range(1, 12)));
    mem.group = group;
    char account[32];
    std::snprintf(account, sizeof(account), "acct-%05lld",
                  static_cast<long long>(rng_.Below(num_members_ / 2 + 1)));
    mem.account = account;
    const uint64_t w = kArchetypeActivity[mem.kind] * rng_.Range(1, 4);
    weights.push_back(w);
    total_weight += w;
    members_.push_back(std::move(mem));
  }
  // Share the journey events out by weight, exactly.
  int64_t given = 0;
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i].budget = static_cast<int64_t>(
        static_cast<unsigned __int128>(clean_events_) * weights[i] / total_weight);
    given += members_[i].budget;
  }
  for (size_t i = 0; given < clean_events_; i = (i + 1) % members_.size()) {
    ++members_[i].budget;
    ++given;
  }
}

Row& Generator::Add(uint32_t m, int64_t time, const std::string& type) {
  Row row;
  row.seq = next_seq_++;
  row.time = time;
  row.member = m;
  row.type = type;
  row.channel = rng_.Chance(7, 10) ? "wechat_group" : rng_.Of(kChannels);
  rows_.push_back(std::move(row));
  return rows_.back();
}

void Generator::MakeJourney(uint32_t m) {
  const Member& mem = members_[m];
  // Events a journey that ended early did not use pass on to the next one,
  // so that the log has exactly the rows asked for.
  int64_t left = mem.budget + carry_;
  carry_ = 0;
  if (left == 0) return;
  struct Step {
    int64_t offset;
    std::string type, value, topic, title;
  };
  std::vector<Step> steps;
  int64_t t = 0;
  auto step = [&](int64_t gap, const std::string& type) -> Step& {
    t += gap;
    steps.push_back({t, type, "", "", ""});
    --left;
    return steps.back();
  };
  auto content = [&](Step& s) {
    s.topic = rng_.Chance(3, 4) ? rng_.Of(kTopics) : "";
    if (rng_.Chance(1, 2)) {
      s.title = kTitles[rng_.Below(kTitles.size() - 1)];
      if (rng_.Chance(1, 40)) s.title = kTitles[7];  // the one with a newline
    }
  };

  step(0, "group.join");
  if (left > 0 && rng_.Chance(3, 4)) step(rng_.Range(1, 20) * kMillisPerMinute, "member.nickname");
  if (left > 0 && rng_.Chance(mem.kind == kLurker ? 1 : 3, 4)) {
    step(rng_.Range(5, 240) * kMillisPerMinute, "member.intro");
  }
  if (left > 0 && rng_.Chance(1, 2)) step(rng_.Range(1, 60) * kMillisPerMinute, "benefit.claim");

  // What each archetype does between sessions, by weight:
  // read, download, course, live, posts, react, quiz, share, invite, pricing,
  // signup, spam.
  static const std::vector<uint32_t> kActivity[kNumArchetypes] = {
      {60, 10, 2, 5, 5, 15, 2, 1, 0, 0, 0, 0},      // lurker
      {50, 25, 8, 8, 4, 10, 5, 3, 1, 1, 1, 0},      // reader
      {20, 15, 35, 15, 5, 5, 10, 2, 1, 1, 1, 0},    // learner
      {10, 5, 3, 5, 45, 20, 5, 5, 2, 0, 0, 0},      // poster
      {25, 20, 12, 8, 8, 5, 5, 4, 2, 6, 8, 0},      // prospect
      {15, 10, 8, 5, 15, 8, 5, 12, 15, 3, 5, 0},    // advocate
      {5, 2, 0, 0, 20, 5, 0, 5, 0, 0, 0, 40},       // spammer
      {45, 20, 3, 10, 8, 10, 5, 3, 1, 8, 1, 0},     // consumer
  };
  // The conversion funnel of prospects and advocates, in order.
  static const std::vector<std::string> kFunnel = {
      "event.signup", "event.attend", "pricing.ask", "demo.request",
      "product.register", "trial.start", "sales.accept", "order.paid"};
  const bool converts = mem.kind == kProspect || mem.kind == kAdvocate;
  size_t funnel = 0;
  bool funnel_open = converts;
  bool left_group = false;

  while (left > 0 && !left_group) {
    if (funnel_open && funnel < kFunnel.size() && rng_.Chance(1, 4)) {
      Step& s = step(SessionGap(rng_, mem.kind), kFunnel[funnel]);
      if (kFunnel[funnel] == "order.paid") {
        s.value = std::to_string(rng_.Range(98, 500) * 10 - 20);
      }
      ++funnel;
      // Most prospects stop somewhere along the way.
      if (rng_.Chance(mem.kind == kAdvocate ? 1 : 2, 10)) funnel_open = false;
      continue;
    }
    if (funnel == kFunnel.size() && rng_.Chance(1, 12)) {
      step(SessionGap(rng_, mem.kind), "order.repurchase").value =
          std::to_string(rng_.Range(50, 300) * 10);
      continue;
    }
    switch (rng_.Pick(kActivity[mem.kind])) {
      case 0: content(step(SessionGap(rng_, mem.kind), "content.read")); break;
      case 1: content(step(SessionGap(rng_, mem.kind), "content.download")); break;
      case 2: {
        Step& s = step(SessionGap(rng_, mem.kind), "course.attend");
        s.value = std::to_string(rng_.Range(5, 90));  // minutes attended
        content(s);
        break;
      }
      case 3: content(step(SessionGap(rng_, mem.kind), "live.watch")); break;
      case 4: {  // a burst of posts within a day
        step(SessionGap(rng_, mem.kind), rng_.Chance(1, 4) ? "topic.discuss" : "message.post");
        for (int64_t n = rng_.Range(2, 14); n > 0 && left > 0; --n) {
          step(rng_.Range(1, 25) * kMillisPerMinute, "message.post");
        }
        break;
      }
      case 5: step(SessionGap(rng_, mem.kind), "message.react"); break;
      case 6: step(SessionGap(rng_, mem.kind), "quiz.answer"); break;
      case 7: step(SessionGap(rng_, mem.kind), "poster.share"); break;
      case 8: step(SessionGap(rng_, mem.kind), "invite.accepted"); break;
      case 9: step(SessionGap(rng_, mem.kind), "pricing.ask"); break;
      case 10: {
        step(SessionGap(rng_, mem.kind), "event.signup");
        if (left > 0 && rng_.Chance(2, 3)) {
          step(rng_.Range(2, 12) * kMillisPerDay, "event.attend");
        }
        break;
      }
      default: {  // spam: a flood of posts, a report, then out
        for (int64_t n = rng_.Range(3, 10); n > 0 && left > 0; --n) {
          step(rng_.Range(0, 3) * kMillisPerMinute + 1000, "message.post");
        }
        if (left > 0) step(rng_.Range(10, 300) * kMillisPerMinute, "spam.report");
        if (left > 0 && rng_.Chance(2, 3)) {
          step(rng_.Range(1, 48) * kMillisPerHour,
               rng_.Chance(1, 2) ? "group.removed" : "group.leave");
          left_group = true;
        }
        break;
      }
    }
    if (mem.kind == kLurker && rng_.Chance(1, 3)) break;  // lurkers fade out
  }

  carry_ = left;

  // Place the journey in the period: join at some time (daytime, Beijing
  // time), and squeeze the journey if it would run past the end.
  // The community grows: later days see more joins (the larger of two
  // uniform draws).
  const uint64_t join_days = static_cast<uint64_t>(span_ * 4 / 5 / kMillisPerDay) + 1;
  const int64_t join_day = std::max(rng_.Below(join_days), rng_.Below(join_days));
  const int64_t join = start_ + join_day * kMillisPerDay +
                       rng_.Range(0, 13) * kMillisPerHour +  // 08:00-21:59 +08:00
                       rng_.Range(0, 59) * kMillisPerMinute +
                       rng_.Range(0, 59999);
  const int64_t length = steps.back().offset;
  int64_t room = start_ + span_ - join;
  if (length > room) room = room / 100 * rng_.Range(40, 100);
  for (const Step& s : steps) {
    int64_t offset = s.offset;
    if (length > room) {
      offset = static_cast<int64_t>(static_cast<__int128>(offset) * room / length);
    }
    Row& row = Add(m, join + offset, s.type);
    row.value = s.value;
    row.topic = s.topic;
    row.title = s.title;
    row.profile = s.type == "group.join";
  }
  // Some members change role later (promoted, or the boss joins the chat).
  if (steps.size() > 3 && rng_.Chance(1, 20)) {
    rows_[rows_.size() - steps.size() / 2].role_update = "decision_maker";
  }
}

void Generator::AddFaults() {
  const size_t clean = rows_.size();
  if (clean == 0) return;
  // Most rows arrive within minutes, some hours late, a few days or weeks
  // late (too late for members whose clock has moved on).
  for (Row& row : rows_) {
    const size_t kind = rng_.Pick({955, 35, 10});
    row.arrival = row.time + (kind == 0   ? rng_.Range(0, 300000)
                              : kind == 1 ? rng_.Range(1, 720) * kMillisPerMinute
                                          : rng_.Range(8, 30) * kMillisPerDay);
    row.rfc3339 = rng_.Chance(1, 20);
  }
  // Duplicates: the same event exported again, later.
  const int64_t dups = std::max<int64_t>(0, num_events_ - static_cast<int64_t>(clean) -
                                                (num_events_ >= 200 ? std::max<int64_t>(8, num_events_ / 2000) : 0));
  for (int64_t i = 0; i < dups; ++i) {
    Row copy = rows_[rng_.Below(clean)];
    copy.arrival += rng_.Range(1, 72) * kMillisPerHour;
    copy.rfc3339 = false;
    rows_.push_back(std::move(copy));
  }
  // Bad rows, cycling through the kinds of faults.
  const int64_t bad = num_events_ - static_cast<int64_t>(rows_.size());
  static const char* const kBadTimes[] = {"2024-02-30T25:00:00Z", "yesterday",
                                          "17O4067200000", "2024-03-01 10:00"};
  static const char* const kBadValues[] = {"abc", "12,5", "n/a"};
  for (int64_t i = 0; i < bad; ++i) {
    Row row = rows_[rng_.Below(clean)];
    row.seq = next_seq_++;
    row.arrival += rng_.Range(0, 60000);
    row.rfc3339 = false;
    row.fault = static_cast<Row::Fault>(1 + i % 6);
    if (row.fault == Row::kBadTime) row.fault_text = kBadTimes[(i / 6) % 4];
    if (row.fault == Row::kBadValue) row.fault_text = kBadValues[(i / 6) % 3];
    rows_.push_back(std::move(row));
  }
}

void AppendCsvField(std::string* out, const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

template <typename Sink>
void Generator::Write(io::LogFormat format, Sink sink) const {
  std::string buf;
  if (format == io::LogFormat::kCsv) {
    buf =
        "event_id,time,member_id,type,value,channel,group_id,account_id,"
        "attr.topic,attr.title,profile.identity,profile.role,profile.industry,"
        "profile.employees,profile.province,profile.source\n";
  }
  const absl::TimeZone beijing = absl::FixedTimeZone(8 * 3600);
  static const char* const kProfileKeys[] = {"identity", "role", "industry",
                                             "employees", "province", "source"};
  for (const Row& row : rows_) {
    const Member& mem = members_[row.member];
    char id[32];
    std::snprintf(id, sizeof(id), "e%08lld", static_cast<long long>(row.seq));
    std::string time = std::to_string(row.time);
    if (row.rfc3339) {
      time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", absl::FromUnixMillis(row.time), beijing);
    }
    std::string value = row.value;
    std::string member = mem.id;
    switch (row.fault) {
      case Row::kBadTime: time = row.fault_text; break;
      case Row::kBadValue: value = row.fault_text; break;
      case Row::kNoMember: member.clear(); break;
      case Row::kNoTime: time.clear(); break;
      case Row::kNanValue: value = "nan"; break;
      default: break;
    }
    const std::string profile[] = {
        row.profile ? mem.identity : "",
        row.profile ? mem.role : row.role_update,
        row.profile ? mem.industry : "",
        row.profile ? mem.employees : "",
        row.profile ? mem.province : "",
        row.profile ? mem.source : ""};
    switch (format) {
      case io::LogFormat::kCsv: {
        const std::string fields[] = {
            id, time, member, row.type, value, row.channel, mem.group, mem.account,
            row.topic, row.title, profile[0], profile[1], profile[2], profile[3],
            profile[4], profile[5]};
        bool first = true;
        for (const std::string& f : fields) {
          if (!first) buf.push_back(',');
          first = false;
          AppendCsvField(&buf, f);
        }
        if (row.fault == Row::kExtraColumn) buf.append(",extra");
        buf.push_back('\n');
        break;
      }
      case io::LogFormat::kJsonl: {
        // The same event: empty cells left out; a time or value as the CSV
        // cell has it (a number when it is one, else a string); the extra
        // column of a CSV bad row becomes "attrs" of the wrong type.
        auto key = [&](const char* k) {
          buf.append(buf.back() == '{' ? "\"" : ",\"");
          buf.append(k);
          buf.append("\":");
        };
        auto text = [&](const char* k, const std::string& v) {
          if (v.empty()) return;
          key(k);
          io::AppendJsonString(&buf, v);
        };
        auto number_or_text = [&](const char* k, const std::string& v) {
          if (v.empty()) return;
          key(k);
          const bool digits = v.find_first_not_of("0123456789") == std::string::npos;
          if (digits && v.size() < 16) {
            buf.append(v);
          } else {
            io::AppendJsonString(&buf, v);
          }
        };
        buf.push_back('{');
        text("event_id", id);
        number_or_text("time", time);
        text("member_id", member);
        text("type", row.type);
        number_or_text("value", value);
        text("channel", row.channel);
        text("group_id", mem.group);
        text("account_id", mem.account);
        if (row.fault == Row::kExtraColumn) {
          key("attrs");
          buf.append("\"extra\"");
        } else if (!row.topic.empty() || !row.title.empty()) {
          key("attrs");
          buf.push_back('{');
          text("topic", row.topic);
          text("title", row.title);
          buf.push_back('}');
        }
        bool any_profile = false;
        for (const std::string& p : profile) any_profile |= !p.empty();
        if (any_profile) {
          key("profile");
          buf.push_back('{');
          for (int i = 0; i < 6; ++i) text(kProfileKeys[i], profile[i]);
          buf.push_back('}');
        }
        buf.append("}\n");
        break;
      }
      case io::LogFormat::kPb: {
        // The same event; the bad rows of CSV become bad records: a time or
        // value written as text (the wrong wire type), and for the extra
        // column, attrs of the wrong wire type.
        Event e;
        e.event_id = id;
        e.member_id = member;
        e.type = row.type;
        e.channel = row.channel;
        e.group_id = mem.group;
        e.account_id = mem.account;
        if (!time.empty() && row.fault != Row::kBadTime) {
          e.has_time = true;
          e.time = row.time;
        }
        if (!value.empty() && row.fault != Row::kBadValue) {
          io::ParseValueText(value, &e.value);
        }
        std::vector<KeyValue> attrs, prof;
        if (!row.topic.empty()) attrs.push_back({"topic", row.topic});
        if (!row.title.empty()) attrs.push_back({"title", row.title});
        for (int i = 0; i < 6; ++i) {
          if (!profile[i].empty()) prof.push_back({kProfileKeys[i], profile[i]});
        }
        e.attrs = attrs;
        e.profile = prof;
        std::string message;
        io::AppendDelimitedEvent(&message, e);
        if (row.fault == Row::kBadTime || row.fault == Row::kBadValue ||
            row.fault == Row::kExtraColumn) {
          // Re-frame the message with one more (bad) field at its end.
          std::string field;
          if (row.fault == Row::kExtraColumn) {
            field.push_back(static_cast<char>((9 << 3) | 0));  // attrs, varint
            field.push_back(1);
          } else {
            const int number = row.fault == Row::kBadTime ? 3 : 8;
            field.push_back(static_cast<char>((number << 3) | 2));  // as text
            field.push_back(static_cast<char>(row.fault_text.size()));
            field.append(row.fault_text);
          }
          size_t prefix = 0;
          while (static_cast<unsigned char>(message[prefix]) & 0x80) ++prefix;
          std::string body = message.substr(prefix + 1) + field;
          message.clear();
          for (uint64_t n = body.size(); ; n >>= 7) {
            if (n < 0x80) {
              message.push_back(static_cast<char>(n));
              break;
            }
            message.push_back(static_cast<char>((n & 0x7f) | 0x80));
          }
          message += body;
        }
        buf += message;
        break;
      }
    }
    if (buf.size() >= (1 << 20)) {
      sink(buf);
      buf.clear();
    }
  }
  sink(buf);
}

bool ParseCount(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= min &&
         *out <= max;
}

}  // namespace

int RunGen(const std::vector<std::string>& words) {
  const ParsedArgs args =
      ParseArgs(words, {"members", "events", "seed", "out", "start", "days", "format"}, {});
  if (args.help) {
    std::cout << kGenUsage;
    return kExitOk;
  }
  if (!args.error.empty()) return UsageError("gen", args.error);
  if (!args.has("out")) return UsageError("gen", "missing --out");
  int64_t members = 3000, events = 60000, seed = 1, days = 180;
  int64_t start = 1704067200000;  // 2024-01-01T00:00:00Z
  auto get = [&](const char* name, int64_t min, int64_t max, int64_t* v) {
    if (!args.has(name)) return true;
    if (ParseCount(args.values.at(name), min, max, v)) return true;
    UsageError("gen", std::string("bad --") + name + " \"" + args.values.at(name) +
                          "\": expected a whole number from " + std::to_string(min) +
                          " to " + std::to_string(max));
    return false;
  };
  if (!get("members", 1, 100000000, &members) ||
      !get("events", 0, 2000000000, &events) ||
      !get("seed", 0, INT64_MAX, &seed) || !get("days", 1, 3650, &days)) {
    return kExitError;
  }
  if (args.has("start")) {
    auto t = io::ParseTimeMillis(args.values.at("start"));
    if (!t.ok()) {
      return UsageError("gen", "bad --start \"" + args.values.at("start") +
                                   "\": " + std::string(t.status().message()));
    }
    start = *t;
  }
  const std::string& path = args.values.at("out");
  io::LogFormat format = io::FormatFromPath(path);
  if (args.has("format") && !io::ParseLogFormat(args.values.at("format"), &format)) {
    return UsageError("gen", "bad --format \"" + args.values.at("format") +
                                 "\": expected csv, jsonl or pb");
  }
  const bool gzip = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  Generator gen(static_cast<uint64_t>(seed), members, events, start, days);
  gen.Run();
  bool ok = true;
  if (gzip) {
    gzFile out = gzopen(path.c_str(), "wb6");
    if (out == nullptr) {
      std::cerr << "leadscore gen: cannot write " << path << ": "
                << std::strerror(errno) << "\n";
      return kExitError;
    }
    gen.Write(format, [&](const std::string& piece) {
      if (!piece.empty() &&
          gzwrite(out, piece.data(), static_cast<unsigned>(piece.size())) <= 0) {
        ok = false;
      }
    });
    ok = gzclose(out) == Z_OK && ok;
  } else {
    std::FILE* out = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
    if (out == nullptr) {
      std::cerr << "leadscore gen: cannot write " << path << ": "
                << std::strerror(errno) << "\n";
      return kExitError;
    }
    gen.Write(format, [&](const std::string& piece) {
      std::fwrite(piece.data(), 1, piece.size(), out);
    });
    ok = std::fflush(out) == 0 && !std::ferror(out);
    if (out != stdout) std::fclose(out);
  }
  if (!ok) {
    std::cerr << "leadscore gen: writing " << path << " failed\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace leadscore::cli
