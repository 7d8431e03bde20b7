// The byte containers of durable state: a framed, checksummed member blob
// (Store::ExportMember), and the records of a snapshot file. Payloads are
// serialized leadscore.v1 messages (proto/leadscore/v1/state.proto); this
// layer only guarantees that what is read back is what was written.
//
// Member blob (little-endian):
//   "LSMB" | u32 format version | u32 payload length | u32 CRC-32 | payload
// where the CRC-32 (zlib) covers the version, the length and the payload.
//
// Snapshot file:
//   "LSSNAP\r\n" | u32 format version | u32 CRC-32 of the 12 bytes before |
//   record...
//   record = u32 payload length | u8 kind | payload | u32 CRC-32
// where the CRC-32 covers the length, the kind and the payload. The records
// are one header, the members, one footer; nothing may follow the footer.
#ifndef LEADSCORE_LIB_STATE_FRAME_H_
#define LEADSCORE_LIB_STATE_FRAME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace leadscore::internal::state {

// Bumped when the layout or the meaning of a stored field changes. A reader
// accepts every version up to its own.
constexpr uint32_t kFormatVersion = 1;

// Payloads larger than this are refused (a corrupt length must not make us
// allocate gigabytes).
constexpr uint32_t kMaxPayload = 256u << 20;

enum class RecordKind : uint8_t {
  kHeader = 1,
  kMember = 2,
  kFooter = 3,
};

uint32_t Crc32(std::string_view bytes, uint32_t crc = 0);

// A member blob around `payload`.
std::string FrameMember(std::string_view payload);

// The payload of a member blob. InvalidArgument when `bytes` is not a member
// blob at all (wrong magic) or is of a newer format; DataLoss when it is one
// but truncated (to nothing too), extended or corrupt (checksum, or a
// damaged magic).
absl::StatusOr<std::string_view> UnframeMember(std::string_view bytes);

// Snapshot framing.
constexpr char kSnapshotMagic[8] = {'L', 'S', 'S', 'N', 'A', 'P', '\r', '\n'};
constexpr size_t kSnapshotPreambleSize = 16;  // magic + version + crc
constexpr size_t kRecordOverhead = 9;         // length + kind + crc

// How a magic number compares with what was read: the same, damaged (most
// bytes match: a corrupt copy of ours) or foreign.
enum class MagicMatch { kSame, kDamaged, kForeign };
MagicMatch CompareMagic(std::string_view want, std::string_view got);

// Appends the snapshot preamble / one record to `out`.
void AppendSnapshotPreamble(std::string* out);
void AppendRecord(std::string* out, RecordKind kind, std::string_view payload);

}  // namespace leadscore::internal::state

#endif  // LEADSCORE_LIB_STATE_FRAME_H_
