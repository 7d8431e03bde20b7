// JSON Lines event logs: one JSON object per line, with the field names of
// leadscore.v1.MemberEvent:
//
//   {"event_id": "e1", "member_id": "m1", "time": 1767225600000,
//    "type": "course.attend", "value": 45, "account_id": "a1",
//    "group_id": "g1", "channel": "wecom",
//    "attrs": {"topic": "tax"}, "profile": {"role": "decision_maker"}}
//
// * A missing field, or null, is absent. Strings are read as strings;
//   "time" is a whole number of milliseconds or a string (milliseconds or
//   RFC 3339, as in CSV); "value" is a number or a string that CSV would
//   read as one ("nan" included).
// * "attrs" and "profile" are objects; their values are strings (numbers
//   and booleans are taken as their JSON text, null is absent). Unlike an
//   empty CSV cell, "" is a present, empty value.
// * An integer that does not fit in 64 bits (a JSON number all the same) is
//   read as a double: a "value" or attribute gets that double, a "time" is
//   bad (not whole milliseconds in range).
// * Empty (or blank) lines are skipped. Unknown fields are ignored, with one
//   warning per field name and file.
// * A bad record (not JSON, not an object, a field of the wrong type, bytes
//   that are not UTF-8, a time or value that does not parse, no member_id or
//   no time) is reported with its line and rejected as invalid, with what
//   could be read of it (nothing, when the line is not JSON).
//
// Lines are parsed with simdjson; a log may be split at any line break and
// read by several threads.
#ifndef LEADSCORE_LIB_IO_JSONL_READER_H_
#define LEADSCORE_LIB_IO_JSONL_READER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/io/raw_event.h"

namespace leadscore::io {

// Receives the names of unknown fields (with the relative line of the
// record), besides the records.
class JsonlSink : public RawEventSink {
 public:
  virtual void UnknownField(std::string_view name, int64_t line) = 0;
};

class JsonlFile {
 public:
  explicit JsonlFile(std::string_view data);

  // Where the records start (after a UTF-8 byte order mark).
  size_t data_begin() const { return data_begin_; }

  // Reads the lines that start in [begin, limit) (begin: the start of a
  // line) and gives each record to `sink`, with RawEvent::line relative to
  // `begin`. Returns the position after the last line read (limit, or the
  // end of the input) and the line breaks passed in *newlines.
  // Thread-safe (each call has its own parser).
  size_t ParseRange(size_t begin, size_t limit, JsonlSink* sink,
                    int64_t* newlines) const;

 private:
  std::string_view data_;
  size_t data_begin_ = 0;
};

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_JSONL_READER_H_
