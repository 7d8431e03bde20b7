// Atomic snapshot writes and checked snapshot reads (POSIX).
#include "lib/state/snapshot_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace leadscore::internal::state {
namespace {

constexpr size_t kWriteBuffer = 1 << 20;

absl::Status Errno(int err, const std::string& what) {
  return absl::ErrnoToStatus(err, what);
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
         static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, std::string tmp, int fd)
    : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}

absl::StatusOr<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(
    const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("snapshot: empty path");
  std::string tmp = absl::StrCat(path, ".tmp-", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Errno(errno, absl::StrCat("snapshot: cannot create ", tmp));
  }
  return std::unique_ptr<AtomicFileWriter>(
      new AtomicFileWriter(path, std::move(tmp), fd));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

absl::Status AtomicFileWriter::Append(std::string_view bytes) {
  buffer_.append(bytes.data(), bytes.size());
  if (buffer_.size() >= kWriteBuffer) return Flush();
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, absl::StrCat("snapshot: cannot write ", tmp_));
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (committed_ || fd_ < 0) return absl::FailedPreconditionError("snapshot: committed twice");
  if (absl::Status s = Flush(); !s.ok()) return s;
  if (::fsync(fd_) != 0) return Errno(errno, absl::StrCat("snapshot: cannot fsync ", tmp_));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return Errno(errno, absl::StrCat("snapshot: cannot close ", tmp_));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return Errno(errno, absl::StrCat("snapshot: cannot rename ", tmp_, " to ", path_));
  }
  committed_ = true;
  // The rename is durable once the directory is.
  const std::string dir = DirOf(path_);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    if (rc != 0 && err != EINVAL) {
      return Errno(err, absl::StrCat("snapshot: cannot fsync directory ", dir));
    }
  }
  return absl::OkStatus();
}

SnapshotReader::SnapshotReader(std::string path, std::FILE* f, uint64_t size)
    : path_(std::move(path)), f_(f), size_(size) {}

SnapshotReader::~SnapshotReader() { std::fclose(f_); }

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(
    const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Errno(errno, absl::StrCat("snapshot: cannot open ", path));
  struct stat st;
  if (::fstat(::fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(f);
    return absl::InvalidArgumentError(absl::StrCat("snapshot: ", path, " is not a regular file"));
  }
  std::unique_ptr<SnapshotReader> r(
      new SnapshotReader(path, f, static_cast<uint64_t>(st.st_size)));
  char pre[kSnapshotPreambleSize];
  const size_t got = std::fread(pre, 1, sizeof(pre), f);
  if (got == 0) return absl::DataLossError(absl::StrCat("snapshot: ", path, " is empty"));
  const std::string_view magic(kSnapshotMagic, sizeof(kSnapshotMagic));
  const std::string_view read(pre, got < magic.size() ? got : magic.size());
  const MagicMatch match = CompareMagic(magic, read);
  if (match == MagicMatch::kForeign) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot: ", path, " is not a leadscore snapshot (bad magic)"));
  }
  if (got < sizeof(pre)) {
    return absl::DataLossError(
        absl::StrCat("snapshot: ", path, " is truncated (", got, " bytes)"));
  }
  if (match == MagicMatch::kDamaged) {
    return absl::DataLossError(absl::StrCat("snapshot: ", path, ": corrupt magic"));
  }
  if (Crc32(std::string_view(pre, 12)) != GetU32(pre + 12)) {
    return absl::DataLossError(
        absl::StrCat("snapshot: ", path, ": checksum mismatch in the file header"));
  }
  const uint32_t version = GetU32(pre + sizeof(kSnapshotMagic));
  if (version == 0) {
    return absl::DataLossError(absl::StrCat("snapshot: ", path,
                                            ": format version 0 (corrupt)"));
  }
  if (version > kFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot: ", path, ": format version ", version,
        " is newer than this library reads (", kFormatVersion, ")"));
  }
  r->offset_ = sizeof(pre);
  return r;
}

absl::Status SnapshotReader::Next(RecordKind* kind, std::string* payload) {
  if (AtEnd()) return absl::OutOfRangeError("snapshot: no more records");
  const uint64_t at = offset_;
  auto loss = [&](const char* why) {
    return absl::DataLossError(absl::StrCat("snapshot: ", path_, ": record at byte ",
                                            at, ": ", why));
  };
  if (size_ - offset_ < kRecordOverhead) return loss("truncated");
  char head[5];
  if (std::fread(head, 1, 5, f_) != 5) return loss("truncated (read failed)");
  const uint32_t length = GetU32(head);
  const uint64_t left = size_ - offset_ - kRecordOverhead;
  if (length > kMaxPayload || length > left) {
    return loss(length > left ? "truncated (length runs past the end of the file)"
                              : "corrupt (length too large)");
  }
  payload->resize(length);
  if (length > 0 && std::fread(payload->data(), 1, length, f_) != length) {
    return loss("truncated (read failed)");
  }
  char tail[4];
  if (std::fread(tail, 1, 4, f_) != 4) return loss("truncated (read failed)");
  uint32_t crc = Crc32(std::string_view(head, 5));
  crc = Crc32(*payload, crc);
  if (crc != GetU32(tail)) return loss("checksum mismatch (corrupt bytes)");
  const uint8_t k = static_cast<uint8_t>(head[4]);
  if (k < 1 || k > 3) return loss("unknown record kind");
  *kind = static_cast<RecordKind>(k);
  offset_ += kRecordOverhead + length;
  return absl::OkStatus();
}

}  // namespace leadscore::internal::state
