// Reading member events from CSV logs (RFC 4180) as a stream: a record
// reader that splits the bytes into fields, and an EventSource that maps the
// header's columns onto events. Later readers (JSON Lines, protobuf, .gz)
// plug in behind the same EventSource seam.
#ifndef LEADSCORE_LIB_IO_CSV_READER_H_
#define LEADSCORE_LIB_IO_CSV_READER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadscore/event.h"
#include "lib/io/raw_event.h"

namespace leadscore::io {

// One event read from a log, owning its strings. Readers reuse one record
// from row to row, so its buffers keep their capacity.
struct EventRecord {
  struct Pair {
    std::string key;
    std::string value;
  };

  int64_t line = 0;  // 1-based physical line where the record starts
  int64_t row = 0;   // 0-based index of the record among the data rows
  // Non-empty: the row is bad (wrong column count, unparsable time or
  // number, empty member_id, no time, malformed quoting) and this says why.
  // The fields hold what could be read; of a malformed record (wrong column
  // count, bad quoting) only event_id, member_id and time are read, by
  // position.
  std::string error;

  std::string event_id;
  std::string member_id;
  bool has_time = false;
  int64_t time = 0;
  std::string type;
  std::string account_id;
  std::string group_id;
  std::string channel;
  double value = 0;  // may be non-finite ("nan"): the engine rejects those
  std::vector<Pair> attrs;    // present attributes, in column order
  std::vector<Pair> profile;  // present profile updates, in column order
  int num_attrs = 0;          // attrs[0, num_attrs) are in use
  int num_profile = 0;

  bool ok() const { return error.empty(); }
  // Resets every field; keeps the buffers.
  void Clear();
  void AddAttr(std::string_view key, std::string_view value);
  void AddProfile(std::string_view key, std::string_view value);
  // A view for Store::Apply; `storage` receives the key/value pairs and must
  // outlive the result, as must this record.
  Event AsEvent(std::vector<KeyValue>* storage) const;
};

// A stream of events from one input. Not thread-safe.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // Reads the next row into `record` (a bad row too: see EventRecord::error).
  // Returns false at the end of the input, or on an I/O error: then status()
  // is not OK.
  virtual bool Next(EventRecord* record) = 0;
  virtual absl::Status status() const = 0;
  // The input's name for messages (its path).
  virtual const std::string& name() const = 0;
  // Problems with the input as a whole that do not stop reading (unknown
  // columns), one message each, known once the source is open.
  virtual const std::vector<std::string>& warnings() const = 0;
};

// Opens a CSV log by its file name, as a stream of records. (The batch job
// reads every format through the faster readers of csv_chunk.h,
// jsonl_reader.h and pb_reader.h.)
absl::StatusOr<std::unique_ptr<EventSource>> OpenEventSource(
    const std::string& path);

// ---------------------------------------------------------------------------
// The columns of a CSV log, shared by the stream reader below and the chunk
// reader of csv_chunk.h.

struct CsvColumn {
  enum class Kind : uint8_t {
    kIgnored, kEventId, kMemberId, kTime, kType, kValue, kGroupId, kChannel,
    kAccountId, kAttr, kProfile,
  };
  Kind kind = Kind::kIgnored;
  std::string key;  // attr / profile key
};

// Maps a header row (its cells) onto columns. Unknown columns are ignored
// with a warning ("SOURCE:LINE: warning: ..."); a repeated column, or no
// member_id or time column, is an error naming SOURCE:LINE.
absl::Status MapCsvHeader(const std::vector<std::string_view>& names,
                          std::string_view source, int64_t line,
                          std::vector<CsvColumn>* columns,
                          std::vector<std::string>* warnings);

// Maps the cells of one data record onto `out` (whose other fields are left
// as they are). `record_error`: the record is malformed (bad quoting) and
// this says why. A malformed record, or one with another number of cells
// than columns, is a bad record of which only event_id, member_id and time
// are read, by position.
void MapCsvCells(const std::vector<CsvColumn>& columns,
                 const std::string_view* cells, size_t num_cells,
                 std::string_view record_error, RawEvent* out);

// ---------------------------------------------------------------------------
// CSV

// One CSV record: its fields as slices of one buffer.
class CsvRecord {
 public:
  int64_t line = 0;  // 1-based physical line where the record starts
  // Non-empty when the record is malformed (unterminated quote, text after a
  // closing quote); the fields then hold what was read.
  std::string error;

  size_t size() const { return ends_.size(); }
  std::string_view field(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_.data() + begin, ends_[i] - begin);
  }

 private:
  friend class CsvRecordReader;
  void Clear() {
    data_.clear();
    ends_.clear();
    error.clear();
  }
  std::string data_;
  std::vector<uint32_t> ends_;
};

struct CsvOptions {
  // Bytes read from the file at a time. Small values are for tests.
  size_t block_size = 1 << 20;
};

// Splits a byte stream into CSV records (RFC 4180): fields separated by
// commas, records by LF or CRLF; a field may be quoted with '"', and then
// holds commas, line breaks and doubled quotes ("" for one "). A UTF-8 byte
// order mark at the start is skipped; empty lines are skipped; the last
// record needs no line break. Not thread-safe.
class CsvRecordReader {
 public:
  // Reads a file (which it opens, and closes when destroyed).
  static absl::StatusOr<std::unique_ptr<CsvRecordReader>> OpenFile(
      const std::string& path, CsvOptions options = {});
  // Reads bytes held in memory.
  static std::unique_ptr<CsvRecordReader> FromString(std::string data,
                                                     CsvOptions options = {});
  ~CsvRecordReader();
  CsvRecordReader(const CsvRecordReader&) = delete;
  CsvRecordReader& operator=(const CsvRecordReader&) = delete;

  // Reads the next record. Returns false at the end of the input or on an
  // I/O error (then status() is not OK).
  bool Next(CsvRecord* record);
  const absl::Status& status() const { return status_; }

 private:
  CsvRecordReader(std::FILE* file, std::string data, CsvOptions options);
  // Makes at least `n` unread bytes available if the input has them (moving
  // the unread tail to the front of the buffer); returns how many there are.
  size_t Ensure(size_t n);

  std::FILE* file_;           // null when reading from memory_
  std::string display_name_;  // for I/O error messages
  std::string memory_;        // the input, when it is held in memory
  size_t memory_offset_ = 0;  // bytes of memory_ already in buffer_
  CsvOptions options_;
  std::string buffer_;
  size_t pos_ = 0;  // next unread byte in buffer_
  size_t end_ = 0;  // end of the bytes read into buffer_
  bool eof_ = false;
  bool started_ = false;  // the byte order mark check is done
  int64_t line_ = 1;      // physical line of the next unread byte
  absl::Status status_;
};

// Maps a CSV log with a header row onto events. Columns are found by name in
// any order: event_id, member_id, time, type, value, group_id, channel,
// account_id, attr.K (event attribute K), profile.K (member attribute K).
// An empty cell is an absent value. Unknown columns are ignored with a
// warning. member_id and time are required in the header.
class CsvEventSource : public EventSource {
 public:
  static absl::StatusOr<std::unique_ptr<CsvEventSource>> OpenFile(
      const std::string& path, CsvOptions options = {});
  // Reads a log held in memory; `name` is used in messages.
  static absl::StatusOr<std::unique_ptr<CsvEventSource>> FromString(
      std::string data, std::string name, CsvOptions options = {});

  bool Next(EventRecord* record) override;
  absl::Status status() const override { return records_->status(); }
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& warnings() const override {
    return warnings_;
  }

 private:
  CsvEventSource(std::unique_ptr<CsvRecordReader> records, std::string name);
  absl::Status ReadHeader();
  void MapRecord(EventRecord* record);

  std::unique_ptr<CsvRecordReader> records_;
  std::string name_;
  std::vector<CsvColumn> columns_;
  std::vector<std::string> warnings_;
  CsvRecord csv_;
  std::vector<std::string_view> cells_;
  RawEvent raw_;
  int64_t next_row_ = 0;
};

// The record as a RawEvent (the batch job's form), appended to `*ev`'s
// attribute and profile lists (clear it first). Views into `record`.
void ToRawEvent(const EventRecord& record, RawEvent* ev);

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_CSV_READER_H_
