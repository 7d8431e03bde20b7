// Event log inputs for the batch job: which files (paths and glob patterns),
// in which format (by extension, or forced), and their bytes in memory: a
// plain file is mapped, a gzip file is inflated. The parsers read the bytes
// in place and give them back (Release) as they go, so that a large log does
// not stay resident once it has been parsed.
#ifndef LEADSCORE_LIB_IO_INPUT_H_
#define LEADSCORE_LIB_IO_INPUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace leadscore::io {

enum class LogFormat : uint8_t {
  kCsv,    // RFC 4180 with a header row (csv_reader.h, csv_chunk.h)
  kJsonl,  // one JSON object per line (jsonl_reader.h)
  kPb,     // varint-length-delimited leadscore.v1.MemberEvent (pb_reader.h)
};

// "csv", "jsonl", "pb".
std::string_view LogFormatName(LogFormat f);
// Accepts "csv", "jsonl" (or "ndjson"), "pb" (or "binpb"); false otherwise.
bool ParseLogFormat(std::string_view name, LogFormat* out);
// By extension, after a trailing ".gz": .jsonl/.ndjson -> JSON Lines,
// .pb/.binpb -> protobuf, anything else (.csv included) -> CSV.
LogFormat FormatFromPath(std::string_view path);

// Expands the --events arguments, in order: a word that names an existing
// file is that file; a word with glob characters (* ? [) is expanded with
// glob(3), matches sorted by name; a pattern that matches nothing, or a
// missing file, is an error.
absl::StatusOr<std::vector<std::string>> ExpandEventPaths(
    const std::vector<std::string>& words);

// The bytes of one input, in memory.
class InputBytes {
 public:
  // Maps `path`, or inflates it when it starts with the gzip magic bytes
  // (whatever its name; several gzip members one after another are read as
  // one stream). `bytes_read`, when given, is advanced as the file is read
  // (inflating: compressed bytes consumed), for progress reports.
  static absl::StatusOr<std::unique_ptr<InputBytes>> Open(
      const std::string& path, std::atomic<int64_t>* bytes_read = nullptr);
  // Bytes held in memory (tests); `gzip` bytes are inflated first.
  static absl::StatusOr<std::unique_ptr<InputBytes>> FromString(
      std::string bytes);

  ~InputBytes();
  InputBytes(const InputBytes&) = delete;
  InputBytes& operator=(const InputBytes&) = delete;

  std::string_view data() const { return {data_, size_}; }
  // Size of the file on disk (compressed size for gzip).
  int64_t file_size() const { return file_size_; }
  bool compressed() const { return compressed_; }

  // The bytes of [begin, end) will not be read again: the whole pages
  // inside are given back to the system. Thread-safe for disjoint ranges.
  void Release(size_t begin, size_t end);

 private:
  InputBytes() = default;
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_size_ = 0;  // length of the mapping at data_ (0: none)
  int64_t file_size_ = 0;
  bool compressed_ = false;
};

// Inflates gzip bytes (one or more members). Errors name `name`.
absl::StatusOr<std::string> Gunzip(std::string_view bytes,
                                   std::string_view name);
// Compresses to one gzip member (level 6).
std::string Gzip(std::string_view bytes);
bool LooksGzipped(std::string_view bytes);

// Where a line-based log (CSV, JSON Lines) is cut into parts of about
// `part_bytes` for parallel reading: `begin`, then just after the first
// line break at or after each multiple of `part_bytes` past it (a break
// that may sit inside a quoted CSV cell: the reader checks).
std::vector<size_t> LineStarts(std::string_view data, size_t begin, size_t part_bytes);

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_INPUT_H_
