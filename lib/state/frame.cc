// Framing and checksums of durable state (see frame.h for the layouts).
#include "lib/state/frame.h"

#include <zlib.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace leadscore::internal::state {
namespace {

constexpr char kMemberMagic[4] = {'L', 'S', 'M', 'B'};
constexpr size_t kMemberHeaderSize = 16;

void PutU32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8),
               static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out->append(b, 4);
}

uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
         static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24;
}

}  // namespace

uint32_t Crc32(std::string_view bytes, uint32_t crc) {
  // zlib takes uInt lengths; feed large inputs in pieces.
  uLong c = crc;
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  size_t n = bytes.size();
  while (n > 0) {
    const uInt chunk = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

std::string FrameMember(std::string_view payload) {
  std::string out;
  out.reserve(kMemberHeaderSize + payload.size());
  out.append(kMemberMagic, 4);
  PutU32(&out, kFormatVersion);
  PutU32(&out, static_cast<uint32_t>(payload.size()));
  std::string covered = out.substr(4, 8);
  PutU32(&out, Crc32(payload, Crc32(covered)));
  out.append(payload.data(), payload.size());
  return out;
}

MagicMatch CompareMagic(std::string_view want, std::string_view got) {
  const size_t n = want.size() < got.size() ? want.size() : got.size();
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) same += want[i] == got[i];
  if (same == want.size()) return MagicMatch::kSame;
  // A short read that matches as far as it goes is a truncated copy.
  return n > 0 && 2 * same >= n ? MagicMatch::kDamaged : MagicMatch::kForeign;
}

absl::StatusOr<std::string_view> UnframeMember(std::string_view bytes) {
  if (bytes.empty()) {
    return absl::DataLossError("member state: empty input (truncated to nothing)");
  }
  const std::string_view magic(kMemberMagic, 4);
  const MagicMatch match = CompareMagic(magic, bytes.substr(0, 4));
  if (match == MagicMatch::kForeign) {
    return absl::InvalidArgumentError(
        "member state: not leadscore member state (bad magic)");
  }
  if (match == MagicMatch::kDamaged) {
    return absl::DataLossError(bytes.size() < 4 ? "member state: truncated magic"
                                                : "member state: corrupt magic");
  }
  if (bytes.size() < kMemberHeaderSize) {
    return absl::DataLossError(absl::StrCat(
        "member state: truncated header (", bytes.size(), " of ",
        kMemberHeaderSize, " bytes)"));
  }
  const uint32_t version = GetU32(bytes.data() + 4);
  const uint32_t length = GetU32(bytes.data() + 8);
  const uint32_t crc = GetU32(bytes.data() + 12);
  const size_t have = bytes.size() - kMemberHeaderSize;
  if (have != length) {
    return absl::DataLossError(absl::StrCat(
        "member state: ", have < length ? "truncated" : "trailing bytes or corrupt length",
        " (payload ", have, " bytes, header says ", length, ")"));
  }
  std::string_view payload = bytes.substr(kMemberHeaderSize);
  // The checksum covers the version too: a damaged version is corruption,
  // not a format from the future.
  if (Crc32(payload, Crc32(bytes.substr(4, 8))) != crc) {
    return absl::DataLossError("member state: checksum mismatch (corrupt bytes)");
  }
  if (version == 0) {
    return absl::DataLossError("member state: format version 0 (corrupt)");
  }
  if (version > kFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "member state: format version ", version,
        " is newer than this library reads (", kFormatVersion, ")"));
  }
  return payload;
}

void AppendSnapshotPreamble(std::string* out) {
  const size_t start = out->size();
  out->append(kSnapshotMagic, sizeof(kSnapshotMagic));
  PutU32(out, kFormatVersion);
  PutU32(out, Crc32(std::string_view(*out).substr(start)));
}

void AppendRecord(std::string* out, RecordKind kind, std::string_view payload) {
  const size_t start = out->size();
  PutU32(out, static_cast<uint32_t>(payload.size()));
  out->push_back(static_cast<char>(kind));
  out->append(payload.data(), payload.size());
  const uint32_t crc = Crc32(std::string_view(*out).substr(start));
  PutU32(out, crc);
}

}  // namespace leadscore::internal::state
