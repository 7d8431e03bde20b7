// Batch scoring of a whole log: read every row, group the rows by member,
// order each member's rows (by time or as they arrived), apply them through
// a Store, advance every member to the as-of time, and write one line per
// member and one per change, in member_id order. With several threads the
// members are partitioned by a hash of their id, one Store per thread; the
// output is the same bytes whatever the number of threads.
#ifndef LEADSCORE_LIB_BATCH_BATCH_H_
#define LEADSCORE_LIB_BATCH_BATCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "leadscore/event.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "lib/io/csv_reader.h"

namespace leadscore::batch {

enum class Order {
  kTime,     // each member's rows by (time, row number): SEMANTICS.md batch
  kArrival,  // each member's rows in log order: as a stream would see them
};

struct BatchOptions {
  // Events later than this are rejected as after_as_of, and every member is
  // advanced to it. Unset: the latest time of a valid row of the log.
  std::optional<int64_t> as_of;
  Order order = Order::kTime;
  int threads = 1;      // 1..kMaxThreads
  bool strict = false;  // stop at the first bad row
};

constexpr int kMaxThreads = 256;

struct BatchSummary {
  int64_t rows_read = 0;  // data rows, bad ones included
  int64_t bad_rows = 0;   // rows the reader could not use
  bool has_as_of = false;  // false: no --as-of and no valid row
  int64_t as_of = 0;
  StoreStats stats;        // summed over the threads' stores
};

// One batch run. Thread-compatible; Score uses its own threads inside.
class BatchJob {
 public:
  BatchJob(std::shared_ptr<const Model> model, BatchOptions options);
  ~BatchJob();
  BatchJob(const BatchJob&) = delete;
  BatchJob& operator=(const BatchJob&) = delete;

  // Reads every row of `source` into memory. Warnings about the source and
  // every bad row ("name:line: reason") go to `diag` as they are met.
  // Returns an error on an I/O error, or (strict) at the first bad row: then
  // strict_failure() is true and the status message is the row's message.
  absl::Status Read(io::EventSource* source, std::ostream* diag);

  // Scores the rows read and writes members.jsonl and changes.jsonl lines.
  // Call once, after Read.
  absl::Status Score(std::ostream* members_out, std::ostream* changes_out);

  bool strict_failure() const { return strict_failure_; }
  const BatchSummary& summary() const { return summary_; }
  // The closing report for people: rows read, events applied, rejected by
  // reason, members, flags raised.
  std::string SummaryText() const;

 private:
  struct Row;
  class Arena;
  struct MemberOutput {
    std::string member_line;
    std::string change_lines;
  };

  void StoreRow(const io::EventRecord& record);
  // Scores the members of partition `part` (all of them with one thread)
  // into outputs_.
  void ScorePartition(int part, StoreStats* stats);

  std::shared_ptr<const Model> model_;
  BatchOptions options_;
  BatchSummary summary_;
  bool strict_failure_ = false;
  bool read_done_ = false;
  std::unique_ptr<Arena> arena_;
  // After Read: the rows in the order they are applied, member by member in
  // member_id byte order; the rows of members_[m] are
  // rows_[member_rows_begin_[m], member_rows_begin_[m + 1]).
  std::vector<Row> rows_;
  std::vector<KeyValue> pairs_;              // attrs and profiles of rows_
  std::vector<std::string_view> members_;    // distinct member ids
  std::vector<uint32_t> member_rows_begin_;
  std::vector<MemberOutput> outputs_;        // parallel to members_
  std::string source_name_;
  bool has_max_time_ = false;
  int64_t max_time_ = 0;
};

}  // namespace leadscore::batch

#endif  // LEADSCORE_LIB_BATCH_BATCH_H_
