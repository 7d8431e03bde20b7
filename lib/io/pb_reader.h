// Binary event logs: a stream of leadscore.v1.MemberEvent messages, each
// preceded by its length as a varint (the protobuf convention for
// length-delimited streams: what SerializeDelimitedTo* writes and
// ParseDelimitedFrom* reads).
//
// * The messages are decoded here from the wire format (proto/leadscore/v1/
//   event.proto), without copies. Unknown fields are skipped. A field that
//   appears twice keeps its last value; map entries are kept in order (a
//   later entry for a key wins). A map entry with no value is present with
//   the value "".
// * A bad record (a known field with the wrong wire type, a message that
//   does not decode, a string that is not UTF-8, no member_id or no time)
//   is reported with its record index and byte offset and rejected as
//   invalid, with what could be read of it; the stream goes on with the
//   next record.
// * A length prefix that does not decode, or that runs past the end of the
//   input (a truncated last record), ends the stream: the rest is one bad
//   record.
#ifndef LEADSCORE_LIB_IO_PB_READER_H_
#define LEADSCORE_LIB_IO_PB_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leadscore/event.h"
#include "lib/io/raw_event.h"

namespace leadscore::io {

// The record boundaries of a stream, found by reading the length prefixes.
struct PbLayout {
  // Parts of about `part_bytes` bytes each, in whole records: part k is
  // [part_begin[k], part_begin[k + 1]) (the last ends at valid_end), and its
  // first record is record part_first_record[k] of the stream.
  std::vector<size_t> part_begin;
  std::vector<int64_t> part_first_record;
  size_t valid_end = 0;       // end of the last whole record
  int64_t num_records = 0;    // whole records
  // The stream breaks at valid_end (a bad or truncated length prefix): the
  // record there, and why.
  bool broken = false;
  std::string broken_error;
};

// Reads the length prefixes of `data`.
PbLayout ScanPbStream(std::string_view data, size_t part_bytes);

// Decodes the whole records of [begin, end) and gives each to `sink`, with
// RawEvent::line = index of the record relative to `begin`. Returns the
// number of records read.
int64_t ParsePbRange(std::string_view data, size_t begin, size_t end,
                     RawEventSink* sink);

// Decodes one MemberEvent message (no length prefix) into `ev`.
void DecodeMemberEvent(std::string_view message, RawEvent* ev);

// Appends `e` as one length-delimited MemberEvent (fields in number order;
// empty strings, a zero value and empty maps are left out, as proto3 does;
// the time is written when e.has_time).
void AppendDelimitedEvent(std::string* out, const Event& e);

bool IsValidUtf8(std::string_view s);

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_PB_READER_H_
