// Shared by the event-reader fuzz targets (csv_reader, jsonl_reader,
// pb_reader): records as comparable text, a sink that collects them, splits
// of an input into parts as the batch job makes them, and the batch job run
// with several part sizes and thread counts, whose outputs must be the same
// bytes. A mismatch prints both sides and aborts (a finding).
#ifndef LEADSCORE_TESTS_FUZZ_READER_UTIL_H_
#define LEADSCORE_TESTS_FUZZ_READER_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <type_traits>

#include "absl/strings/str_replace.h"
#include "lib/batch/batch.h"
#include "lib/io/input.h"
#include "lib/io/jsonl_reader.h"
#include "lib/io/raw_event.h"
#include "tests/fuzz/fuzz_util.h"

namespace leadscore::fuzz {

// Text out of strings (std::string_view included: the Debian Abseil has its
// own string_view) and integers.
inline void Put(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }
inline void Put(std::string* out, const char* s) { out->append(s); }
inline void Put(std::string* out, const std::string& s) { out->append(s); }
template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void Put(std::string* out, T v) {
  out->append(std::to_string(v));
}
template <typename... A>
void Append(std::string* out, const A&... a) {
  (Put(out, a), ...);
}
template <typename... A>
std::string Cat(const A&... a) {
  std::string out;
  (Put(&out, a), ...);
  return out;
}

// Stops the run with both sides of a disagreement.
[[noreturn]] inline void Mismatch(const char* what, const std::string& a,
                                  const std::string& b) {
  std::fprintf(stderr, "MISMATCH: %s\n--- first:\n%s\n--- second:\n%s\n", what,
               a.c_str(), b.c_str());
  std::fflush(stderr);
  abort();
}

inline void ExpectSame(const char* what, const std::string& a, const std::string& b) {
  if (a != b) Mismatch(what, a, b);
}

// A cheap hash of the input: the parameters of a run (part sizes, block
// sizes) come from it, so that an input file is the log itself.
inline uint64_t InputHash(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ULL;
  return h ^ size;
}

inline void AppendField(std::string* out, std::string_view name, std::string_view v) {
  Append(out, " ", name, "=", v.size(), ":", v);
}

// One record as text: every field, with the value's bits (NaN included) and
// the error with its line mark resolved against `line_base`.
inline std::string RecordText(const io::RawEvent& e, int64_t line_base) {
  std::string out = Cat("line=", line_base + e.line);
  std::string error = e.error;
  if (e.error_line >= 0) {
    error = absl::StrReplaceAll(error, {{io::kLineMark, Cat(line_base + e.error_line)}});
  }
  AppendField(&out, "error", error);
  AppendField(&out, "event_id", e.event_id);
  AppendField(&out, "member_id", e.member_id);
  Append(&out, " time=", e.has_time ? Cat(e.time) : std::string("-"));
  AppendField(&out, "type", e.type);
  AppendField(&out, "account_id", e.account_id);
  AppendField(&out, "group_id", e.group_id);
  AppendField(&out, "channel", e.channel);
  uint64_t bits;
  std::memcpy(&bits, &e.value, sizeof bits);
  Append(&out, " value=", bits);
  for (const KeyValue& kv : e.attrs) {
    AppendField(&out, "attr.key", kv.key);
    AppendField(&out, "attr.value", kv.value);
  }
  for (const KeyValue& kv : e.profile) {
    AppendField(&out, "profile.key", kv.key);
    AppendField(&out, "profile.value", kv.value);
  }
  return out;
}

// Collects records as text, lines relative to `line_base` (set it before
// each part), and unknown JSON fields.
class CollectSink : public io::JsonlSink {
 public:
  void Add(const io::RawEvent& e) override {
    // The views are valid only during the call: a check that they are
    // readable, under ASan, is the copy into the text.
    records.push_back(RecordText(e, line_base));
    if (e.line <= last_line) Mismatch("records out of order", records.back(), "");
    last_line = e.line;
  }
  void UnknownField(std::string_view name, int64_t line) override {
    unknown.push_back(Cat(line_base + line, ":", name));
  }
  void StartPart(int64_t base) {
    line_base = base;
    last_line = -1;
  }
  std::string Text() const {
    std::string out;
    for (const std::string& r : records) Append(&out, r, "\n");
    for (const std::string& u : unknown) Append(&out, "unknown ", u, "\n");
    return out;
  }

  int64_t line_base = 0;
  int64_t last_line = -1;
  std::vector<std::string> records;
  std::vector<std::string> unknown;
};

// Scores `bytes` as one log with the community model; everything the job
// says (messages, members, changes, summary) as one text.
inline std::string BatchText(const std::string& bytes, io::LogFormat format,
                             size_t part_bytes, int threads,
                             size_t bucket_rows = size_t{32} << 10) {
  batch::BatchOptions options;
  options.threads = threads;
  options.part_bytes = part_bytes;
  options.bucket_rows = bucket_rows;
  batch::BatchJob job(CommunityModel(), options);
  std::ostringstream diag, members, changes;
  absl::Status read = job.ReadBytes(bytes, "fuzz.log", format, &diag);
  std::string out = Cat("read: ", read.ToString(), "\n", diag.str());
  if (read.ok()) {
    absl::Status scored = job.Score(&members, &changes);
    Append(&out, "score: ", scored.ToString(), "\n", job.SummaryText(), "\n",
                    "rows ", job.summary().rows_read, " bad ", job.summary().bad_rows,
                    "\n--- members\n", members.str(), "--- changes\n", changes.str());
  }
  return out;
}

// The batch job gives the same bytes for any part size, thread count and
// bucket size (README: "the same bytes for any --threads"). Part sizes
// below 64 are raised to 64 by the job.
inline void CheckBatchAgrees(const std::string& bytes, io::LogFormat format, uint64_t h) {
  const std::string whole = BatchText(bytes, format, size_t{1} << 22, 1);
  const size_t small = 64 + h % 64;
  ExpectSame("batch job: one part vs small parts", whole, BatchText(bytes, format, small, 1));
  ExpectSame("batch job: one thread vs two threads, small parts", whole,
             BatchText(bytes, format, 64 + (h >> 8) % 200, 2));
  ExpectSame("batch job: one bucket vs buckets of a few rows, two threads", whole,
             BatchText(bytes, format, 64 + (h >> 16) % 200, 2, 1 + (h >> 24) % 7));
}

}  // namespace leadscore::fuzz

#endif  // LEADSCORE_TESTS_FUZZ_READER_UTIL_H_
