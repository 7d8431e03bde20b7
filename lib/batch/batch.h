// Batch scoring of a whole log (SEMANTICS.md section 1, "batch"):
//
//   read      every input file (CSV, JSON Lines or length-delimited
//             protobuf, gzip or not) in parts of a few MB, by several
//             threads; each record becomes a compact 32-byte EventRec plus
//             its strings, in the store of the thread that read it, in the
//             bucket of its member_id. Buckets hold neighbouring ids (split
//             points from a sample of the first file), about 32k rows each,
//             so that a bucket is grouped and scored in the caches. A CSV
//             part starts after a line break, a guess checked against where
//             the previous part really ended (and the part read again when
//             the break was inside quotes). The bytes of the input are given
//             back as the parts are done.
//   group and score
//             bucket by bucket on every thread: intern the bucket's member
//             ids, sort its members by member_id, place each member's
//             records side by side and order them (bad rows first, then by
//             (time, row number), or in log order with --order arrival);
//             then score its members in order, each thread with its own
//             engine (internal::Engine, event types resolved once to a
//             Dispatch) and one member state at a time. Buckets are written
//             in order, so that the output is the same bytes whatever the
//             number of threads, and only a few are held at once.
//
// Row numbers (the tie-break of time order) run on across the files of a
// log in the order they were read.
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
#include "lib/engine/engine.h"
#include "lib/io/csv_reader.h"
#include "lib/io/input.h"

namespace leadscore::batch {

class Progress;

// Receives what scoring produces, member by member, instead of the output
// files (for tools that aggregate: explain, diff, report). One visitor per
// scoring thread, used only by that thread; each visitor sees its members in
// member_id order, and every member goes to exactly one visitor.
class ScoreVisitor : public ChangeSink {
 public:
  // Whether to score this member at all.
  virtual bool Wants(std::string_view member_id) { return true; }
  // Before the member's first change.
  virtual void BeginMember(std::string_view member_id) {}
  // ChangeSink::OnChange: every change of the member, rejections included,
  // in emission order (as in changes.jsonl).
  // After the member's last change: the member read at the as-of time, or
  // null when none of its events was accepted.
  virtual void EndMember(std::string_view member_id, const MemberView* view) = 0;
  // Engine internals while this member is scored (explain); null: none.
  virtual internal::Tracer* tracer() { return nullptr; }
};

enum class Order {
  kTime,     // each member's rows by (time, row number): SEMANTICS.md batch
  kArrival,  // each member's rows in log order: as a stream would see them
};

enum class MembersFormat {
  kJsonl,  // io::AppendMemberLine
  kCsv,    // io::AppendMemberCsvLine, with a header row
};

struct BatchOptions {
  // Events later than this are rejected as after_as_of, and every member is
  // advanced to it. Unset: the latest time of a valid row of the log.
  std::optional<int64_t> as_of;
  Order order = Order::kTime;
  int threads = 1;      // 1..kMaxThreads
  bool strict = false;  // stop at the first bad row
  MembersFormat members_format = MembersFormat::kJsonl;
  Progress* progress = nullptr;  // not owned; may be null
  // Bytes of input one thread reads at a time (small values: tests).
  size_t part_bytes = 4 << 20;
  // The size of the whole log as stored, when it is read from several
  // files (0: unknown, as if the first file were all): buckets are sized
  // from the first file and this.
  int64_t log_bytes = 0;
  // Rows a bucket is made for (small values: tests); a bucket of more than
  // 8 times this many is split again before scoring.
  size_t bucket_rows = 32 << 10;
};

constexpr int kMaxThreads = 256;

struct BatchSummary {
  int64_t rows_read = 0;  // data rows, bad ones included
  int64_t bad_rows = 0;   // rows the reader could not use
  bool has_as_of = false;  // false: no --as-of and no valid row
  int64_t as_of = 0;
  StoreStats stats;        // summed over the threads
};

// What the job holds after reading (for docs/batch-performance.md).
struct MemoryUse {
  int64_t events = 0;
  int64_t members = 0;          // distinct member ids (after Score)
  int64_t record_bytes = 0;     // EventRecs
  int64_t arena_bytes = 0;      // their strings
  int64_t group_bytes = 0;      // member lists
  int64_t pool_bytes = 0;       // blocks mapped for records and strings, at most
};

// One batch run. Thread-compatible; it uses its own threads inside.
class BatchJob {
 public:
  BatchJob(std::shared_ptr<const Model> model, BatchOptions options);
  ~BatchJob();
  BatchJob(const BatchJob&) = delete;
  BatchJob& operator=(const BatchJob&) = delete;

  // Reads a log file (plain or gzip) in `format`. Warnings and every bad
  // record ("name:line: reason", or "name: record N at byte B: reason" for
  // protobuf) go to `diag`, in log order, once the file is read. Returns an
  // error on an I/O error or a bad CSV header, or (strict) when the file
  // has a bad record: then strict_failure() is true, only the first bad
  // record is reported, and the status message is its message. May be
  // called for several files: they form one log.
  absl::Status ReadFile(const std::string& path, io::LogFormat format,
                        std::ostream* diag);
  // The same for bytes held in memory (gzip bytes are inflated); `name` is
  // used in messages.
  absl::Status ReadBytes(std::string bytes, std::string name,
                         io::LogFormat format, std::ostream* diag);
  // Reads every row of a CSV stream source (one thread), reporting bad rows
  // as they come.
  absl::Status Read(io::EventSource* source, std::ostream* diag);

  // Scores the rows read and writes the members (JSON Lines or CSV, by
  // options.members_format) and changes.jsonl. Call once, after reading.
  absl::Status Score(std::ostream* members_out, std::ostream* changes_out);
  // Scores the rows read into visitors instead: one per thread
  // (visitors.size() must be options.threads). Call once, after reading,
  // instead of the other Score.
  absl::Status Score(const std::vector<ScoreVisitor*>& visitors);

  bool strict_failure() const { return strict_failure_; }
  const BatchSummary& summary() const { return summary_; }
  MemoryUse memory_use() const;
  // The closing report for people: rows read, events applied, rejected by
  // reason, members, flags raised.
  std::string SummaryText() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  BatchSummary summary_;
  bool strict_failure_ = false;
};

}  // namespace leadscore::batch

#endif  // LEADSCORE_LIB_BATCH_BATCH_H_
