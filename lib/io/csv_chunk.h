// The fast CSV reader of the batch job: reads records of a log held in
// memory, from any record start, so that several threads can read parts of
// one file. It reads exactly what CsvRecordReader + CsvEventSource read
// (same fields, lines, errors; tests/csv_reader_test.cc checks both on the
// same inputs), without a copy of the cells that need no unquoting.
//
// Splitting a file: a part starts after a line break, a guess that holds
// unless the break was inside a quoted cell. ParseRange returns where its
// last record ended; when that is not where the next part started, the next
// part is read again from there (CsvFile below does not do this: the batch
// job does, see lib/batch/batch.cc).
#ifndef LEADSCORE_LIB_IO_CSV_CHUNK_H_
#define LEADSCORE_LIB_IO_CSV_CHUNK_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "lib/io/csv_reader.h"
#include "lib/io/raw_event.h"

namespace leadscore::io {

// Splits CSV records (RFC 4180, as CsvRecordReader) out of bytes in memory.
class CsvScanner {
 public:
  explicit CsvScanner(std::string_view data) : data_(data) {}

  // Skips empty lines at *pos while *pos < limit. Returns true when a record
  // starts at *pos (< limit), false at the limit or the end of the input.
  // Counts the line breaks it passes in *newlines.
  bool SkipEmptyLines(size_t* pos, size_t limit, int64_t* newlines) const;

  // Reads the record at *pos (where SkipEmptyLines left it): its cells (views
  // valid until the next call) and, for a malformed record, why (`error`,
  // with kLineMark for the line of an unterminated quote, given in
  // *error_line relative to *newlines on entry). Moves *pos past the record
  // and its line break, counting line breaks in *newlines.
  void ReadRecord(size_t* pos, int64_t* newlines,
                  std::vector<std::string_view>* cells, std::string* error,
                  int64_t* error_line);

  // The same, with the cells left in the scanner: cells() holds the
  // returned number of them (valid until the next call).
  size_t Read(size_t* pos, int64_t* newlines, std::string* error,
              int64_t* error_line);
  const std::string_view* cells() const { return cells_.data(); }

 private:
  // The record from `c` (a cell start, cells_[0, n) read before it) to its
  // end: quoted cells, and lines with a quote anywhere.
  size_t ReadQuoted(const char* c, size_t n, size_t* pos, int64_t* newlines,
                    std::string* error, int64_t* error_line);
  // Room for one more cell after n.
  void Grow(size_t n) {
    if (n == cells_.size()) cells_.resize(2 * cells_.size());
  }

  std::string_view data_;
  std::string scratch_;
  // The cells of the last record (its size is a capacity, not a count).
  std::vector<std::string_view> cells_ = std::vector<std::string_view>(64);
  // Cells in scratch_ (index, begin, size): made views once the record is
  // read (scratch_ may move while it grows).
  struct ScratchCell {
    size_t index, begin, size;
  };
  std::vector<ScratchCell> in_scratch_;
};

// A CSV file held in memory: its header, then parts of its data.
class CsvFile {
 public:
  // Reads the header row (after a UTF-8 byte order mark, and empty lines).
  // Errors name `name` and the line. Warnings (unknown columns) are
  // appended to `warnings`.
  // `keep_attrs`, when given: the attr.K columns whose K is not in it are
  // skipped as if they were not there (the batch job passes the attributes
  // the model reads).
  absl::Status Open(std::string_view data, std::string_view name,
                    std::vector<std::string>* warnings,
                    const std::vector<std::string>* keep_attrs = nullptr);

  // Where the data rows start, and the line of that position (1-based).
  size_t data_begin() const { return data_begin_; }
  int64_t data_begin_line() const { return data_begin_line_; }

  // Reads the records that start in [begin, limit) (begin must be where a
  // record, or an empty line, may start) and gives each to `sink`, with
  // RawEvent::line relative to `begin`. Returns the position after the
  // last record read, and the line breaks passed in *newlines. Thread-safe
  // (each call has its own scanner).
  size_t ParseRange(size_t begin, size_t limit, RawEventSink* sink,
                    int64_t* newlines) const;

 private:
  // Maps a well-formed record with as many cells as columns onto `out`
  // (as MapCsvCells would); false, with `out` untouched, when it takes the
  // general MapCsvCells (a time or value not in the common forms).
  bool MapCells(const std::string_view* cells, RawEvent* out) const;
  // The line at `p` as a plain row (PlainRow: what the general path would
  // read from it, for a good record without attrs or profile), when it is
  // one: no quote and no CR before its LF, as many cells as columns, a
  // member_id, a time of whole milliseconds and a value that is empty or a
  // whole number of up to 15 digits. Returns the position after its LF, or
  // 0 (`row` partly written) when the general path must read it.
  size_t ReadPlain(size_t p, PlainRow* row) const;

  std::string_view data_;
  std::vector<CsvColumn> columns_;
  // The column of each field (-1: none), and the kept attr / profile
  // columns in order, for MapCells.
  struct Layout {
    int event_id = -1, member_id = -1, time = -1, type = -1, value = -1,
        group_id = -1, channel = -1, account_id = -1;
    std::vector<int> attrs, profile;
  };
  Layout layout_;
  // Rows may take ReadPlain: the file has no attr or profile column kept.
  bool plain_ = false;
  static constexpr size_t kMaxPlainColumns = 16;
  // ReadPlain's fields and their columns (kMaxPlainColumns: none, an empty
  // cell).
  enum PlainField {
    kPlainEventId, kPlainMemberId, kPlainType, kPlainAccountId, kPlainGroupId,
    kPlainChannel, kPlainTime, kPlainValue, kNumPlainFields
  };
  uint8_t plain_cols_[kNumPlainFields] = {};
  size_t data_begin_ = 0;
  int64_t data_begin_line_ = 1;
};

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_CSV_CHUNK_H_
