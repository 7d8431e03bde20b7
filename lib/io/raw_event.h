// What the fast readers (csv_chunk.h, jsonl_reader.h, pb_reader.h) hand to
// the batch job for each record: views into the input (or into the reader's
// scratch), valid only during the RawEventSink::Add call.
#ifndef LEADSCORE_LIB_IO_RAW_EVENT_H_
#define LEADSCORE_LIB_IO_RAW_EVENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leadscore/event.h"

namespace leadscore::io {

struct RawEvent {
  // Where the record is, relative to where the reader started: CSV and JSON
  // Lines count the line breaks before it (0 for the first line read);
  // protobuf counts the records before it. `offset` is the record's first
  // byte in the input.
  int64_t line = 0;
  int64_t offset = 0;
  // Non-empty: a bad record (it is rejected as invalid), and why. The fields
  // hold what could be read of it.
  std::string error;
  // When >= 0, the error names a line (relative, like `line`): the text
  // LINE_MARK in `error` stands for it (see csv_chunk.h).
  int64_t error_line = -1;

  std::string_view event_id;
  std::string_view member_id;
  bool has_time = false;
  int64_t time = 0;
  std::string_view type;
  std::string_view account_id;
  std::string_view group_id;
  std::string_view channel;
  double value = 0;
  std::vector<KeyValue> attrs;    // in input order; later keys win
  std::vector<KeyValue> profile;

  bool ok() const { return error.empty(); }
  void Clear() {
    line = offset = 0;
    error.clear();
    error_line = -1;
    event_id = member_id = type = account_id = group_id = channel = {};
    has_time = false;
    time = 0;
    value = 0;
    attrs.clear();
    profile.clear();
  }
};

// Stands for a line number in RawEvent::error (see error_line).
inline constexpr char kLineMark[] = "\x01LINE\x01";

// A record of the common shape, read without a RawEvent (the CSV reader's
// fast path, csv_chunk.h): it is good (no error), has a time, no attrs and
// no profile; `value` is finite. Views valid only during the call.
struct PlainRow {
  int64_t line = 0;    // as RawEvent::line
  int64_t offset = 0;  // as RawEvent::offset
  std::string_view event_id, member_id, type, account_id, group_id, channel;
  int64_t time = 0;
  double value = 0;
};

class RawEventSink {
 public:
  virtual ~RawEventSink() = default;
  virtual void Add(const RawEvent& e) = 0;
  // A plain record; by default it is given to Add as the RawEvent it is.
  virtual void AddPlain(const PlainRow& row);
};

// A value cell or field as CSV writes it: a decimal number in any form
// std::from_chars reads (a leading '+' allowed), "nan", "inf". Overflow
// gives infinity. False when it is not a number.
bool ParseValueText(std::string_view text, double* out);

// A cell quoted for a message: at most 40 bytes, control characters as '?'.
std::string ShowCell(std::string_view cell);

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_RAW_EVENT_H_
