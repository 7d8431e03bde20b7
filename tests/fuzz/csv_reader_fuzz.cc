// libFuzzer target: the CSV event readers (lib/io/csv_reader.h, the stream
// reader; lib/io/csv_chunk.h, the batch job's reader). The input is the log.
// Checks, each aborting on a disagreement:
//  * the stream reader gives the same header result and records with tiny
//    read blocks as with one block;
//  * the chunk reader gives what the stream reader gives: the same header
//    error or warnings, and every record (fields, line, error) alike;
//  * the chunk reader over parts, split as the batch job splits a file (a
//    part starts after a line break and is read again from where the part
//    before it really ended), gives the records of one pass;
//  * the batch job gives the same bytes with one part or small parts, and
//    with one thread or two.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/io/csv_chunk.h"
#include "lib/io/csv_reader.h"
#include "tests/fuzz/reader_util.h"

namespace {

using leadscore::fuzz::CollectSink;
using leadscore::fuzz::ExpectSame;
using leadscore::fuzz::RecordText;
using leadscore::io::CsvFile;

// What the stream reader reads, with blocks of `block_size` bytes.
std::string StreamText(const std::string& bytes, size_t block_size) {
  leadscore::io::CsvOptions options;
  options.block_size = block_size;
  auto source = leadscore::io::CsvEventSource::FromString(bytes, "fuzz.csv", options);
  if (!source.ok()) return "header error: " + std::string(source.status().message()) + "\n";
  std::string out;
  for (const std::string& w : (*source)->warnings()) out += w + "\n";
  leadscore::io::EventRecord record;
  int64_t row = 0;
  int64_t last_line = 0;
  while ((*source)->Next(&record)) {
    if (record.row != row++ || record.line <= last_line) {
      leadscore::fuzz::Mismatch("stream reader: rows and lines increase", out, "");
    }
    last_line = record.line;
    leadscore::io::RawEvent ev;
    leadscore::io::ToRawEvent(record, &ev);
    out += RecordText(ev, 0) + "\n";
  }
  if (!(*source)->status().ok()) out += "status: " + (*source)->status().ToString() + "\n";
  return out;
}

// The header result of the chunk reader, as StreamText writes it.
std::string HeaderText(const absl::Status& open, const std::vector<std::string>& warnings) {
  if (!open.ok()) return "header error: " + std::string(open.message()) + "\n";
  std::string out;
  for (const std::string& w : warnings) out += w + "\n";
  return out;
}

// The chunk reader over parts of about `part_bytes`, read as the batch job
// reads them (lib/batch/batch.cc, ReadInput): each part from its guessed
// start, then again from where the part before it ended when that differs.
std::string PartsText(const CsvFile& file, const std::string& bytes, size_t part_bytes) {
  const std::vector<size_t> starts =
      leadscore::io::LineStarts(bytes, file.data_begin(), part_bytes);
  CollectSink sink;
  size_t verified_end = starts[0];
  int64_t line = file.data_begin_line();
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t limit = k + 1 < starts.size() ? starts[k + 1] : bytes.size();
    auto parse = [&](size_t begin, CollectSink* out, int64_t* newlines) {
      *newlines = 0;
      if (begin >= limit) return begin;
      return file.ParseRange(begin, limit, out, newlines);
    };
    // The guess, which may start inside a quoted cell: read it (it must not
    // fail), keep it only when the part before ended there.
    CollectSink part;
    part.StartPart(line);
    int64_t newlines = 0;
    size_t begin = starts[k];
    size_t end = parse(begin, &part, &newlines);
    if (begin != verified_end) {
      part.records.clear();
      part.StartPart(line);
      begin = verified_end;
      end = parse(begin, &part, &newlines);
    }
    sink.records.insert(sink.records.end(), part.records.begin(), part.records.end());
    verified_end = std::max(end, begin);
    line += newlines;
  }
  if (verified_end != bytes.size()) {
    ExpectSame("chunk reader: parts end at the end of the input",
               std::to_string(verified_end), std::to_string(bytes.size()));
  }
  return sink.Text();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const uint64_t h = leadscore::fuzz::InputHash(data, size);

  // The stream reader, with blocks of 4..12 bytes and with one block.
  const std::string stream = StreamText(bytes, size + 16);
  ExpectSame("stream reader: small blocks vs one block", stream, StreamText(bytes, 4 + h % 9));

  // The chunk reader in one pass.
  CsvFile file;
  std::vector<std::string> warnings;
  const absl::Status open = file.Open(bytes, "fuzz.csv", &warnings);
  std::string chunk = HeaderText(open, warnings);
  if (open.ok()) {
    CollectSink sink;
    sink.StartPart(file.data_begin_line());
    int64_t newlines = 0;
    const size_t end = file.ParseRange(file.data_begin(), bytes.size(), &sink, &newlines);
    if (end != bytes.size()) {
      ExpectSame("chunk reader: one pass ends at the end", std::to_string(end),
                 std::to_string(bytes.size()));
    }
    const std::string records = sink.Text();
    chunk += records;
    // Over parts, as the batch job reads them.
    ExpectSame("chunk reader: one pass vs parts of 1..16 bytes", records,
               PartsText(file, bytes, 1 + h % 16));
    ExpectSame("chunk reader: one pass vs parts of 17..272 bytes", records,
               PartsText(file, bytes, 17 + (h >> 4) % 256));
  }
  ExpectSame("stream reader vs chunk reader", stream, chunk);

  leadscore::fuzz::CheckBatchAgrees(bytes, leadscore::io::LogFormat::kCsv, h);
  return 0;
}
