// Snapshot files on disk: written atomically (a temporary file in the same
// directory, fsync, rename over the target, fsync of the directory), read
// back record by record with every length and checksum verified.
#ifndef LEADSCORE_LIB_STATE_SNAPSHOT_FILE_H_
#define LEADSCORE_LIB_STATE_SNAPSHOT_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/state/frame.h"

namespace leadscore::internal::state {

// Thread-compatible. Either Commit() succeeds and `path` holds exactly what
// was appended, or `path` is left as it was (the temporary file is removed).
class AtomicFileWriter {
 public:
  static absl::StatusOr<std::unique_ptr<AtomicFileWriter>> Create(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Buffered; errors may also surface at Commit.
  absl::Status Append(std::string_view bytes);
  absl::Status Commit();

 private:
  AtomicFileWriter(std::string path, std::string tmp, int fd);
  absl::Status Flush();

  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
  std::string buffer_;
};

// Thread-compatible. Reads the records of one snapshot file in order.
class SnapshotReader {
 public:
  // NotFound / PermissionDenied when the file cannot be opened;
  // InvalidArgument when it is not a snapshot (bad magic) or of a newer
  // format; DataLoss when it is too short to be one.
  static absl::StatusOr<std::unique_ptr<SnapshotReader>> Open(const std::string& path);
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // The next record. DataLoss on a truncated or corrupt record (the message
  // names the byte offset); OutOfRange at the end of the file.
  absl::Status Next(RecordKind* kind, std::string* payload);
  bool AtEnd() const { return offset_ >= size_; }
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  SnapshotReader(std::string path, std::FILE* f, uint64_t size);
  std::string path_;
  std::FILE* f_;
  uint64_t size_;
  uint64_t offset_ = 0;
};

}  // namespace leadscore::internal::state

#endif  // LEADSCORE_LIB_STATE_SNAPSHOT_FILE_H_
