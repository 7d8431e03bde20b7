// Helpers for the engine tests (engine_test.cc, engine_property_test.cc):
// events that own their strings, a ChangeSink that records changes by name,
// and a harness around Model + Store.
#ifndef LEADSCORE_TESTS_ENGINE_TEST_UTIL_H_
#define LEADSCORE_TESTS_ENGINE_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "leadscore/changes.h"
#include "leadscore/event.h"
#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore::enginetest {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerHour = 3600 * kMsPerSecond;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;
// Day 0 of the tests: a UTC midnight in 2023 (not the epoch, so that an
// implementation that measures from time 0 by mistake shows).
constexpr int64_t kT0 = (1700000000000LL / kMsPerDay) * kMsPerDay;
inline int64_t Day(int64_t n) { return kT0 + n * kMsPerDay; }
inline int64_t Hours(int64_t n) { return n * kMsPerHour; }

// "D3" for Day(3), "D2+86399999" for Day(3) - 1; "T<ms>" for a time too far
// from Day(0) for int64 (engine_time_range_test.cc).
inline std::string TimeStr(int64_t t) {
  int64_t off;
  if (__builtin_sub_overflow(t, kT0, &off)) return "T" + std::to_string(t);
  int64_t d = off / kMsPerDay;
  int64_t rem = off % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    --d;
  }
  std::string s = "D" + std::to_string(d);
  if (rem != 0) s += "+" + std::to_string(rem);
  return s;
}

// An event that owns its strings; view() gives the engine's Event.
class Ev {
 public:
  Ev(std::string id, std::string member, int64_t time, std::string type)
      : id_(std::move(id)), member_(std::move(member)), time_(time),
        type_(std::move(type)) {}
  Ev& Value(double v) { value_ = v; return *this; }
  Ev& Attr(std::string k, std::string v) {
    attrs_.emplace_back(std::move(k), std::move(v));
    return *this;
  }
  Ev& Profile(std::string k, std::string v) {
    profile_.emplace_back(std::move(k), std::move(v));
    return *this;
  }
  Ev& Group(std::string g) { group_ = std::move(g); return *this; }
  Ev& Channel(std::string c) { channel_ = std::move(c); return *this; }
  Ev& NoTime() { has_time_ = false; return *this; }

  const std::string& id() const { return id_; }
  const std::string& member() const { return member_; }
  int64_t time() const { return time_; }
  const std::string& type() const { return type_; }

  // Valid until this Ev is changed or destroyed, or view() is called again.
  Event view() const {
    kv_.clear();
    for (const auto& [k, v] : attrs_) kv_.push_back(KeyValue{k, v});
    for (const auto& [k, v] : profile_) kv_.push_back(KeyValue{k, v});
    Event e;
    e.event_id = id_;
    e.member_id = member_;
    e.has_time = has_time_;
    e.time = has_time_ ? time_ : 0;
    e.type = type_;
    e.group_id = group_;
    e.channel = channel_;
    e.value = value_;
    e.attrs = absl::MakeConstSpan(kv_.data(), attrs_.size());
    e.profile = absl::MakeConstSpan(kv_.data() + attrs_.size(), profile_.size());
    return e;
  }

 private:
  std::string id_, member_;
  int64_t time_;
  std::string type_;
  std::string group_, channel_;
  bool has_time_ = true;
  double value_ = 0;
  std::vector<std::pair<std::string, std::string>> attrs_, profile_;
  mutable std::vector<KeyValue> kv_;
};

struct RecReason {
  std::string rule;
  std::string score;
  double points = 0;
};

// A change copied out of the sink call, with names instead of indices.
struct Rec {
  ChangeKind kind = ChangeKind::kTagAdded;
  std::string member;
  bool has_time = true;
  int64_t time = 0;
  std::string tag, from, to, flag;
  int transition = -1;
  std::vector<double> scores;
  std::vector<RecReason> reasons;
  std::string event_id;
  RejectReason reason = RejectReason::kInvalid;
  std::string detail;
};

// Compact forms, for ElementsAre: built by the same formatter as Summary().
inline std::string TagAdded(const std::string& tag, int64_t t) {
  return "tag_added:" + tag + "@" + TimeStr(t);
}
inline std::string TagRemoved(const std::string& tag, int64_t t) {
  return "tag_removed:" + tag + "@" + TimeStr(t);
}
inline std::string StageChanged(const std::string& from, const std::string& to,
                                int64_t t) {
  return "stage_changed:" + from + ">" + to + "@" + TimeStr(t);
}
inline std::string FlagRaised(const std::string& flag, int64_t t) {
  return "flag_raised:" + flag + "@" + TimeStr(t);
}
inline std::string FlagRearmed(const std::string& flag, int64_t t) {
  return "flag_rearmed:" + flag + "@" + TimeStr(t);
}
inline std::string Rejected(const std::string& reason, const std::string& id) {
  return "rejected:" + reason + ":" + id;
}

inline std::string Summary(const Rec& r) {
  switch (r.kind) {
    case ChangeKind::kTagAdded: return TagAdded(r.tag, r.time);
    case ChangeKind::kTagRemoved: return TagRemoved(r.tag, r.time);
    case ChangeKind::kStageChanged: return StageChanged(r.from, r.to, r.time);
    case ChangeKind::kFlagRaised: return FlagRaised(r.flag, r.time);
    case ChangeKind::kFlagRearmed: return FlagRearmed(r.flag, r.time);
    case ChangeKind::kRejected:
      return Rejected(std::string(RejectReasonName(r.reason)), r.event_id);
  }
  return "?";
}

class Recorder : public ChangeSink {
 public:
  explicit Recorder(const Model* model) : model_(model) {}
  void OnChange(const Change& c) override {
    Rec r;
    r.kind = c.kind;
    r.member = std::string(c.member_id);
    r.has_time = c.has_time;
    r.time = c.time;
    if (c.tag >= 0) r.tag = model_->tag_name(c.tag);
    if (c.from_stage >= 0) r.from = model_->stage_name(c.from_stage);
    if (c.to_stage >= 0) r.to = model_->stage_name(c.to_stage);
    r.transition = c.transition;
    if (c.flag >= 0) r.flag = model_->flag_name(c.flag);
    r.scores.assign(c.scores.begin(), c.scores.end());
    for (const FlagReason& fr : c.reasons) {
      r.reasons.push_back(RecReason{
          fr.contributor >= 0 ? model_->contributor_name(fr.contributor) : "?",
          fr.score >= 0 ? model_->score_name(fr.score) : "?", fr.points});
    }
    r.event_id = std::string(c.event_id);
    r.reason = c.reason;
    r.detail = std::string(c.detail);
    changes.push_back(std::move(r));
  }
  std::vector<std::string> Summaries() const {
    std::vector<std::string> out;
    for (const Rec& r : changes) out.push_back(Summary(r));
    return out;
  }
  std::vector<Rec> changes;

 private:
  const Model* model_;
};

// A model, a store and a recorder.
class Harness {
 public:
  explicit Harness(std::string_view model_text) {
    auto m = Model::LoadText(model_text, "test.textproto");
    if (!m.ok()) {
      error_ = m.status().ToString();
      return;
    }
    model_ = *m;
    store_ = std::make_unique<Store>(model_);
    rec_ = std::make_unique<Recorder>(model_.get());
  }
  bool ok() const { return store_ != nullptr; }
  const std::string& error() const { return error_; }
  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }
  Store& store() { return *store_; }
  const Store& store() const { return *store_; }
  Recorder& rec() { return *rec_; }

  void Apply(const Ev& e) { store_->Apply(e.view(), rec_.get()); }
  bool Advance(std::string_view member, int64_t t) {
    return store_->Advance(member, t, rec_.get());
  }
  void AdvanceAll(int64_t t) { store_->AdvanceAll(t, rec_.get()); }

  std::vector<std::string> Changes() const { return rec_->Summaries(); }
  void ClearChanges() { rec_->changes.clear(); }

  MemberView View(std::string_view member, int64_t t) const {
    auto v = store_->Read(member, t);
    if (!v.has_value()) {
      ADD_FAILURE() << "no member '" << member << "'";
      return MemberView{};
    }
    return *v;
  }
  double Score(std::string_view member, std::string_view score, int64_t t) const {
    int i = model_->FindScore(score);
    if (i < 0) {
      ADD_FAILURE() << "no score " << score;
      return NAN;
    }
    MemberView v = View(member, t);
    return i < static_cast<int>(v.scores.size()) ? v.scores[i] : NAN;
  }
  int64_t Counter(std::string_view member, std::string_view counter, int64_t t) const {
    int i = model_->FindCounter(counter);
    if (i < 0) {
      ADD_FAILURE() << "no counter " << counter;
      return -1;
    }
    MemberView v = View(member, t);
    return i < static_cast<int>(v.counters.size()) ? v.counters[i] : -1;
  }
  std::vector<std::string> Tags(std::string_view member, int64_t t) const {
    std::vector<std::string> out;
    for (int i : View(member, t).tags) out.push_back(model_->tag_name(i));
    return out;
  }
  bool HasTag(std::string_view member, std::string_view tag, int64_t t) const {
    for (const std::string& s : Tags(member, t)) {
      if (s == tag) return true;
    }
    return false;
  }
  std::string Stage(std::string_view member, int64_t t) const {
    int s = View(member, t).stage;
    return s < 0 ? "<none>" : model_->stage_name(s);
  }
  MemberView::Flag Flag(std::string_view member, std::string_view flag, int64_t t) const {
    int i = model_->FindFlag(flag);
    if (i < 0) {
      ADD_FAILURE() << "no flag " << flag;
      return {};
    }
    MemberView v = View(member, t);
    return i < static_cast<int>(v.flags.size()) ? v.flags[i] : MemberView::Flag{};
  }
  // The ledger entry of a rule (event or fit), 0 when absent.
  double Ledger(std::string_view member, std::string_view rule, int64_t t) const {
    double sum = 0;
    for (const auto& e : View(member, t).ledger) {
      if (model_->contributor_name(e.contributor) == rule) sum += e.value;
    }
    return sum;
  }
  bool HasLedgerEntry(std::string_view member, std::string_view rule, int64_t t) const {
    for (const auto& e : View(member, t).ledger) {
      if (model_->contributor_name(e.contributor) == rule) return true;
    }
    return false;
  }
  // Sum of the ledger entries of one score.
  double LedgerSum(std::string_view member, std::string_view score, int64_t t) const {
    int s = model_->FindScore(score);
    double sum = 0;
    for (const auto& e : View(member, t).ledger) {
      if (e.score == s) sum += e.value;
    }
    return sum;
  }

 private:
  std::string error_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Recorder> rec_;
};

// |a - b| <= rel * max(|a|, |b|, floor); floor keeps values near 0 sane.
inline ::testing::AssertionResult NearRel(double a, double b, double rel,
                                          double floor = 1.0) {
  double scale = std::max({std::fabs(a), std::fabs(b), floor});
  if (std::fabs(a - b) <= rel * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << a << " vs " << b << " (diff " << (a - b) << ", allowed "
         << rel * scale << ")";
}

}  // namespace leadscore::enginetest

// Declares `name`, a Harness over `text`, and stops the test if the model
// does not load.
#define LS_HARNESS(name, text) \
  ::leadscore::enginetest::Harness name(text); \
  ASSERT_TRUE(name.ok()) << name.error()

#endif  // LEADSCORE_TESTS_ENGINE_TEST_UTIL_H_
