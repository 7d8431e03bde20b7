// Input files: names, formats, mapping and inflating.
#include "lib/io/input.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/strings.h"

namespace leadscore::io {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = s[s.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

size_t RoundUpToPage(size_t n) {
  const size_t page = PageSize();
  return (n + page - 1) / page * page;
}

absl::Status OpenError(const std::string& path, int err) {
  std::string msg = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
  return err == ENOENT ? absl::NotFoundError(msg)
                       : absl::PermissionDeniedError(msg);
}

// An anonymous mapping that grows (mremap) while bytes are appended.
class GrowingMapping {
 public:
  ~GrowingMapping() {
    if (data_ != nullptr) munmap(data_, capacity_);
  }
  bool Reserve(size_t n) {
    if (n <= capacity_) return true;
    size_t cap = std::max(RoundUpToPage(n), capacity_ * 2);
    void* p;
    if (data_ == nullptr) {
      p = mmap(nullptr, cap, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    } else {
      p = mremap(data_, capacity_, cap, MREMAP_MAYMOVE);
    }
    if (p == MAP_FAILED) return false;
    data_ = static_cast<char*>(p);
    capacity_ = cap;
    return true;
  }
  char* data() { return data_; }
  size_t capacity() const { return capacity_; }
  // Hands the mapping over.
  char* Take(size_t* capacity) {
    char* d = data_;
    *capacity = capacity_;
    data_ = nullptr;
    capacity_ = 0;
    return d;
  }

 private:
  char* data_ = nullptr;
  size_t capacity_ = 0;
};

// Inflates `in` into `out` from out_size on; reports consumed input bytes.
absl::Status InflateInto(std::string_view in, std::string_view name,
                         GrowingMapping* out, size_t* out_size,
                         std::atomic<int64_t>* bytes_read) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    return absl::InternalError("zlib: inflateInit2 failed");
  }
  size_t pos = 0;
  size_t reported = 0;
  absl::Status status;
  bool member_done = false;
  for (;;) {
    if (member_done) {
      // Another member may follow; anything else after the data is an error.
      size_t rest = pos;
      while (rest < in.size() && in[rest] == '\0') ++rest;  // zero padding
      if (rest == in.size()) break;
      if (!LooksGzipped(in.substr(pos))) {
        status = absl::DataLossError(absl::StrCat(
            AsAbsl(name), ": unexpected bytes after the gzip data at byte ", pos));
        break;
      }
      inflateReset(&zs);
      member_done = false;
    }
    if (!out->Reserve(*out_size + (1 << 20))) {
      status = absl::ResourceExhaustedError(
          absl::StrCat(AsAbsl(name), ": out of memory inflating"));
      break;
    }
    const size_t in_chunk = std::min<size_t>(in.size() - pos, 1 << 22);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    zs.avail_in = static_cast<uInt>(in_chunk);
    const size_t out_room = std::min<size_t>(out->capacity() - *out_size, 1u << 30);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + *out_size);
    zs.avail_out = static_cast<uInt>(out_room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    pos += in_chunk - zs.avail_in;
    *out_size += out_room - zs.avail_out;
    if (bytes_read != nullptr && pos - reported >= (1 << 20)) {
      bytes_read->fetch_add(static_cast<int64_t>(pos - reported));
      reported = pos;
    }
    if (rc == Z_STREAM_END) {
      member_done = true;
      continue;
    }
    if (rc == Z_BUF_ERROR || rc == Z_OK) {
      if (pos == in.size() && zs.avail_out != 0) {
        status = absl::DataLossError(
            absl::StrCat(AsAbsl(name), ": truncated gzip data (the file ends inside a "
                               "compressed stream)"));
        break;
      }
      continue;
    }
    status = absl::DataLossError(absl::StrCat(
        AsAbsl(name), ": bad gzip data: ", zs.msg != nullptr ? zs.msg : "inflate failed"));
    break;
  }
  inflateEnd(&zs);
  if (bytes_read != nullptr && pos > reported) {
    bytes_read->fetch_add(static_cast<int64_t>(pos - reported));
  }
  return status;
}

}  // namespace

std::string_view LogFormatName(LogFormat f) {
  switch (f) {
    case LogFormat::kCsv: return "csv";
    case LogFormat::kJsonl: return "jsonl";
    case LogFormat::kPb: return "pb";
  }
  return "csv";
}

bool ParseLogFormat(std::string_view name, LogFormat* out) {
  if (name == "csv") {
    *out = LogFormat::kCsv;
  } else if (name == "jsonl" || name == "ndjson") {
    *out = LogFormat::kJsonl;
  } else if (name == "pb" || name == "binpb") {
    *out = LogFormat::kPb;
  } else {
    return false;
  }
  return true;
}

LogFormat FormatFromPath(std::string_view path) {
  if (EndsWith(path, ".gz")) path.remove_suffix(3);
  if (EndsWith(path, ".jsonl") || EndsWith(path, ".ndjson")) return LogFormat::kJsonl;
  if (EndsWith(path, ".pb") || EndsWith(path, ".binpb")) return LogFormat::kPb;
  return LogFormat::kCsv;
}

absl::StatusOr<std::vector<std::string>> ExpandEventPaths(
    const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const std::string& word : words) {
    struct stat st;
    if (stat(word.c_str(), &st) == 0 ||
        word.find_first_of("*?[") == std::string::npos) {
      out.push_back(word);  // a missing plain file fails when opened
      continue;
    }
    glob_t g;
    std::memset(&g, 0, sizeof(g));
    const int rc = glob(word.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      globfree(&g);
      return absl::NotFoundError(absl::StrCat("no file matches ", word));
    }
    if (rc != 0) {
      globfree(&g);
      return absl::InvalidArgumentError(
          absl::StrCat("cannot expand the pattern ", word));
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
  }
  return out;
}

bool LooksGzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

absl::StatusOr<std::string> Gunzip(std::string_view bytes, std::string_view name) {
  GrowingMapping out;
  size_t size = 0;
  absl::Status s = InflateInto(bytes, name, &out, &size, nullptr);
  if (!s.ok()) return s;
  return std::string(out.data() == nullptr ? "" : out.data(), size);
}

std::string Gzip(std::string_view bytes) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, bytes.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

InputBytes::~InputBytes() {
  if (mapped_size_ > 0) munmap(data_, mapped_size_);
}

absl::StatusOr<std::unique_ptr<InputBytes>> InputBytes::Open(
    const std::string& path, std::atomic<int64_t>* bytes_read) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OpenError(path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return OpenError(path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory"));
  }
  auto in = std::unique_ptr<InputBytes>(new InputBytes());
  in->file_size_ = st.st_size;
  if (st.st_size == 0) {
    close(fd);
    return in;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  close(fd);
  if (p == MAP_FAILED) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(err)));
  }
  char* bytes = static_cast<char*>(p);
  std::string_view view(bytes, size);
  if (!LooksGzipped(view)) {
    madvise(p, size, MADV_SEQUENTIAL);
    in->data_ = bytes;
    in->size_ = size;
    in->mapped_size_ = size;
    if (bytes_read != nullptr) bytes_read->fetch_add(0);
    return in;
  }
  madvise(p, size, MADV_SEQUENTIAL);
  GrowingMapping out;
  size_t out_size = 0;
  out.Reserve(std::max<size_t>(size * 4, 1 << 20));
  absl::Status s = InflateInto(view, path, &out, &out_size, bytes_read);
  munmap(p, size);
  if (!s.ok()) return s;
  in->compressed_ = true;
  in->size_ = out_size;
  in->data_ = out.Take(&in->mapped_size_);
  return in;
}

absl::StatusOr<std::unique_ptr<InputBytes>> InputBytes::FromString(
    std::string bytes) {
  auto in = std::unique_ptr<InputBytes>(new InputBytes());
  in->file_size_ = static_cast<int64_t>(bytes.size());
  std::string plain;
  if (LooksGzipped(bytes)) {
    auto inflated = Gunzip(bytes, "<memory>");
    if (!inflated.ok()) return inflated.status();
    plain = *std::move(inflated);
    in->compressed_ = true;
  } else {
    plain = std::move(bytes);
  }
  if (plain.empty()) return in;
  GrowingMapping m;
  if (!m.Reserve(plain.size())) {
    return absl::ResourceExhaustedError("out of memory");
  }
  std::memcpy(m.data(), plain.data(), plain.size());
  in->size_ = plain.size();
  in->data_ = m.Take(&in->mapped_size_);
  return in;
}

std::vector<size_t> LineStarts(std::string_view data, size_t begin, size_t part_bytes) {
  std::vector<size_t> starts{begin};
  for (size_t at = begin + part_bytes; at < data.size(); at += part_bytes) {
    const void* q = std::memchr(data.data() + at, '\n', data.size() - at);
    if (q == nullptr) break;
    const size_t start = static_cast<const char*>(q) - data.data() + 1;
    if (start >= data.size()) break;
    if (start > starts.back()) starts.push_back(start);
    at = std::max(at, start);
  }
  return starts;
}

void InputBytes::Release(size_t begin, size_t end) {
  if (mapped_size_ == 0 || end <= begin) return;
  const size_t page = PageSize();
  const uintptr_t base = reinterpret_cast<uintptr_t>(data_);
  uintptr_t b = (base + begin + page - 1) / page * page;
  uintptr_t e = (base + std::min(end, size_)) / page * page;
  if (end >= size_) e = (base + mapped_size_) / page * page;
  if (e <= b) return;
  madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

}  // namespace leadscore::io
