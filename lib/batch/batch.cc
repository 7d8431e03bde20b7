// The batch job: read -> group per member -> order -> apply -> advance ->
// read views -> write, with members spread over threads.
#include "lib/batch/batch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/io/json_writer.h"

namespace leadscore::batch {

// Owns the bytes of every row: strings are copied into large blocks that
// never move, so the views in rows stay valid until the job ends.
class BatchJob::Arena {
 public:
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > left_) {
      const size_t size = std::max(kBlockSize, s.size());
      blocks_.push_back(std::make_unique<char[]>(size));
      next_ = blocks_.back().get();
      left_ = size;
    }
    std::memcpy(next_, s.data(), s.size());
    std::string_view out(next_, s.size());
    next_ += s.size();
    left_ -= s.size();
    return out;
  }

 private:
  static constexpr size_t kBlockSize = 1 << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

struct BatchJob::Row {
  std::string_view event_id;
  std::string_view member_id;
  std::string_view type;
  std::string_view account_id;
  std::string_view group_id;
  std::string_view channel;
  std::string_view error;  // non-empty: a bad row
  int64_t time = 0;
  int64_t line = 0;
  double value = 0;
  uint32_t pairs_begin = 0;  // attrs, then profile, in pairs_
  uint32_t num_attrs = 0;
  uint32_t num_profile = 0;
  uint32_t member = 0;  // while reading: the member in order of first appearance
  bool has_time = false;

  // Rows the time order rejects while reading, before any other row of the
  // member: the bad rows (among them those with no usable time or no
  // member). A row with a non-finite value is not one of them: the engine
  // rejects it at its place.
  bool RejectedWhileReading() const { return !error.empty(); }
};

namespace {

// FNV-1a: a hash that does not change between runs or builds, so that a
// member lands on the same thread every time.
uint64_t StableHash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Appends every change to the current member's text.
class BufferSink : public ChangeSink {
 public:
  explicit BufferSink(const Model* model) : model_(model) {}
  void set_out(std::string* out) { out_ = out; }
  void OnChange(const Change& change) override {
    io::AppendChangeLine(out_, *model_, change);
  }

 private:
  const Model* model_;
  std::string* out_ = nullptr;
};

// absl::string_view is not std::string_view in this Abseil build.
absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

std::string FormatTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

}  // namespace

BatchJob::BatchJob(std::shared_ptr<const Model> model, BatchOptions options)
    : model_(std::move(model)),
      options_(options),
      arena_(std::make_unique<Arena>()) {
  options_.threads = std::clamp(options_.threads, 1, kMaxThreads);
}

BatchJob::~BatchJob() = default;

void BatchJob::StoreRow(const io::EventRecord& r) {
  Row row;
  row.event_id = arena_->Copy(r.event_id);
  row.member_id = arena_->Copy(r.member_id);
  row.type = arena_->Copy(r.type);
  row.account_id = arena_->Copy(r.account_id);
  row.group_id = arena_->Copy(r.group_id);
  row.channel = arena_->Copy(r.channel);
  row.error = arena_->Copy(r.error);
  row.has_time = r.has_time;
  row.time = r.time;
  row.line = r.line;
  row.value = r.value;
  row.pairs_begin = static_cast<uint32_t>(pairs_.size());
  row.num_attrs = static_cast<uint32_t>(r.num_attrs);
  row.num_profile = static_cast<uint32_t>(r.num_profile);
  for (int i = 0; i < r.num_attrs; ++i) {
    pairs_.push_back({arena_->Copy(r.attrs[i].key), arena_->Copy(r.attrs[i].value)});
  }
  for (int i = 0; i < r.num_profile; ++i) {
    pairs_.push_back(
        {arena_->Copy(r.profile[i].key), arena_->Copy(r.profile[i].value)});
  }
  rows_.push_back(row);
}

absl::Status BatchJob::Read(io::EventSource* source, std::ostream* diag) {
  source_name_ = source->name();
  for (const std::string& w : source->warnings()) *diag << w << "\n";
  io::EventRecord record;
  absl::flat_hash_map<std::string_view, uint32_t> member_index;
  while (source->Next(&record)) {
    ++summary_.rows_read;
    if (!record.ok()) {
      ++summary_.bad_rows;
      std::string message =
          absl::StrCat(source_name_, ":", record.line, ": ", record.error);
      *diag << message << "\n";
      if (options_.strict) {
        strict_failure_ = true;
        return absl::InvalidArgumentError(message);
      }
    } else if (std::isfinite(record.value)) {
      if (!has_max_time_ || record.time > max_time_) max_time_ = record.time;
      has_max_time_ = true;
    }
    StoreRow(record);
    Row& row = rows_.back();
    auto [it, inserted] = member_index.try_emplace(
        row.member_id, static_cast<uint32_t>(members_.size()));
    if (inserted) members_.push_back(row.member_id);
    row.member = it->second;
  }
  if (!source->status().ok()) return source->status();

  summary_.has_as_of = options_.as_of.has_value() || has_max_time_;
  summary_.as_of = options_.as_of.has_value() ? *options_.as_of : max_time_;

  // Put the rows in the order they are applied: members in member_id byte
  // order (the output order), and each member's rows in time or log order.
  // The rows are moved into that order so that scoring reads them in
  // sequence.
  std::vector<uint32_t> by_name(members_.size());
  for (uint32_t m = 0; m < by_name.size(); ++m) by_name[m] = m;
  std::sort(by_name.begin(), by_name.end(), [this](uint32_t a, uint32_t b) {
    return members_[a] < members_[b];
  });
  std::vector<uint32_t> rank(members_.size());
  for (uint32_t pos = 0; pos < by_name.size(); ++pos) rank[by_name[pos]] = pos;
  struct Key {
    uint32_t member;  // rank in member_id order
    uint32_t row;     // log order
    int64_t time;     // time order only: 0 for the rows rejected while reading
    bool applied;     // time order only: false for the rows rejected while reading
  };
  std::vector<Key> keys(rows_.size());
  const bool by_time = options_.order == Order::kTime;
  for (uint32_t i = 0; i < rows_.size(); ++i) {
    const Row& row = rows_[i];
    const bool applied = by_time && !row.RejectedWhileReading();
    keys[i] = {rank[row.member], i, applied ? row.time : 0, applied};
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.member != b.member) return a.member < b.member;
    if (a.applied != b.applied) return b.applied;  // rejected while reading first
    if (a.time != b.time) return a.time < b.time;
    return a.row < b.row;
  });
  std::vector<Row> ordered;
  ordered.reserve(rows_.size());
  member_rows_begin_.assign(members_.size() + 1, 0);
  for (const Key& key : keys) {
    ordered.push_back(rows_[key.row]);
    ++member_rows_begin_[key.member + 1];
  }
  for (size_t m = 0; m < members_.size(); ++m) {
    member_rows_begin_[m + 1] += member_rows_begin_[m];
  }
  rows_ = std::move(ordered);
  std::vector<std::string_view> names(members_.size());
  for (uint32_t pos = 0; pos < by_name.size(); ++pos) names[pos] = members_[by_name[pos]];
  members_ = std::move(names);
  read_done_ = true;
  return absl::OkStatus();
}

void BatchJob::ScorePartition(int part, StoreStats* stats) {
  const Model& model = *model_;
  Store store(model_);
  BufferSink sink(&model);
  const int parts = options_.threads;
  const int64_t as_of = summary_.as_of;
  std::string detail;
  for (size_t pos = 0; pos < members_.size(); ++pos) {
    const std::string_view member_id = members_[pos];
    if (parts > 1 && static_cast<int>(StableHash(member_id) % parts) != part) {
      continue;
    }
    MemberOutput& out = outputs_[pos];
    sink.set_out(&out.change_lines);
    for (uint32_t k = member_rows_begin_[pos]; k < member_rows_begin_[pos + 1]; ++k) {
      const Row& row = rows_[k];
      if (!row.error.empty()) {
        detail = absl::StrCat("line ", row.line, ": ", Sv(row.error));
        store.Reject(row.member_id, row.event_id, row.has_time, row.time,
                     RejectReason::kInvalid, detail, &sink);
        continue;
      }
      // A non-finite value goes to the engine, which rejects it as invalid
      // (checked before after_as_of).
      if (std::isfinite(row.value) && summary_.has_as_of && row.time > as_of) {
        detail = absl::StrCat("line ", row.line, ": time ", FormatTime(row.time),
                              " is after the as-of time ", FormatTime(as_of));
        store.Reject(row.member_id, row.event_id, row.has_time, row.time,
                     RejectReason::kAfterAsOf, detail, &sink);
        continue;
      }
      Event e;
      e.event_id = row.event_id;
      e.member_id = row.member_id;
      e.has_time = row.has_time;
      e.time = row.time;
      e.type = row.type;
      e.account_id = row.account_id;
      e.group_id = row.group_id;
      e.channel = row.channel;
      e.value = row.value;
      const KeyValue* pairs = pairs_.data() + row.pairs_begin;
      e.attrs = absl::MakeConstSpan(pairs, row.num_attrs);
      e.profile = absl::MakeConstSpan(pairs + row.num_attrs, row.num_profile);
      store.Apply(e, &sink);
    }
    if (summary_.has_as_of && store.Advance(member_id, as_of, &sink)) {
      if (std::optional<MemberView> view = store.Read(member_id, as_of)) {
        io::AppendMemberLine(&out.member_line, model, *view);
      }
    }
  }
  *stats = store.stats();
}

absl::Status BatchJob::Score(std::ostream* members_out,
                             std::ostream* changes_out) {
  if (!read_done_) {
    return absl::FailedPreconditionError("BatchJob::Score called before Read");
  }
  outputs_.assign(members_.size(), MemberOutput());

  const int parts = options_.threads;
  std::vector<StoreStats> stats(parts);
  if (parts == 1) {
    ScorePartition(0, &stats[0]);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(parts);
    for (int p = 0; p < parts; ++p) {
      threads.emplace_back(
          [this, p, &stats] { ScorePartition(p, &stats[p]); });
    }
    for (std::thread& t : threads) t.join();
  }
  StoreStats& total = summary_.stats;
  total = StoreStats();
  for (const StoreStats& s : stats) {
    total.events_applied += s.events_applied;
    for (int r = 0; r < kNumRejectReasons; ++r) total.rejected[r] += s.rejected[r];
    total.members += s.members;
    total.flags_raised += s.flags_raised;
  }

  for (MemberOutput& out : outputs_) {
    members_out->write(out.member_line.data(), out.member_line.size());
    changes_out->write(out.change_lines.data(), out.change_lines.size());
    out = MemberOutput();  // free as we go
  }
  members_out->flush();
  changes_out->flush();
  if (!*members_out || !*changes_out) {
    return absl::DataLossError("writing the output failed");
  }
  return absl::OkStatus();
}

std::string BatchJob::SummaryText() const {
  const StoreStats& s = summary_.stats;
  int64_t rejected = 0;
  for (int64_t n : s.rejected) rejected += n;
  std::string out = absl::StrCat(summary_.rows_read, " rows read, ",
                                 s.events_applied, " events applied, ",
                                 rejected, " rejected (");
  for (int r = 0; r < kNumRejectReasons; ++r) {
    if (r > 0) out += ", ";
    absl::StrAppend(&out, Sv(RejectReasonName(static_cast<RejectReason>(r))), " ",
                    s.rejected[r]);
  }
  absl::StrAppend(&out, "), ", s.members, " members, ", s.flags_raised,
                  " flags raised");
  if (summary_.has_as_of) {
    absl::StrAppend(&out, ", as of ", FormatTime(summary_.as_of), " (",
                    summary_.as_of, ")");
  }
  return out;
}

}  // namespace leadscore::batch
