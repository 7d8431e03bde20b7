// CSV records (RFC 4180) read in large blocks, and their mapping onto events.
#include "lib/io/csv_reader.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/base/strings.h"
#include "lib/io/time_parse.h"

namespace leadscore::io {

// ---------------------------------------------------------------------------
// EventRecord

void EventRecord::Clear() {
  line = 0;
  row = 0;
  error.clear();
  event_id.clear();
  member_id.clear();
  has_time = false;
  time = 0;
  type.clear();
  account_id.clear();
  group_id.clear();
  channel.clear();
  value = 0;
  num_attrs = 0;
  num_profile = 0;
}

namespace {

void AddPair(std::vector<EventRecord::Pair>* pairs, int* used,
             std::string_view key, std::string_view value) {
  if (*used == static_cast<int>(pairs->size())) pairs->emplace_back();
  EventRecord::Pair& p = (*pairs)[*used];
  p.key.assign(key.data(), key.size());
  p.value.assign(value.data(), value.size());
  ++*used;
}

}  // namespace

void EventRecord::AddAttr(std::string_view key, std::string_view value) {
  AddPair(&attrs, &num_attrs, key, value);
}

void EventRecord::AddProfile(std::string_view key, std::string_view value) {
  AddPair(&profile, &num_profile, key, value);
}

Event EventRecord::AsEvent(std::vector<KeyValue>* storage) const {
  storage->clear();
  for (int i = 0; i < num_attrs; ++i) {
    storage->push_back({attrs[i].key, attrs[i].value});
  }
  for (int i = 0; i < num_profile; ++i) {
    storage->push_back({profile[i].key, profile[i].value});
  }
  Event e;
  e.event_id = event_id;
  e.member_id = member_id;
  e.has_time = has_time;
  e.time = time;
  e.type = type;
  e.account_id = account_id;
  e.group_id = group_id;
  e.channel = channel;
  e.value = value;
  e.attrs = absl::MakeConstSpan(storage->data(), num_attrs);
  e.profile = absl::MakeConstSpan(storage->data() + num_attrs, num_profile);
  return e;
}

// ---------------------------------------------------------------------------
// CsvRecordReader

CsvRecordReader::CsvRecordReader(std::FILE* file, std::string data,
                                 CsvOptions options)
    : file_(file), options_(options) {
  if (options_.block_size < 4) options_.block_size = 4;
  if (file_ == nullptr) {
    // Bytes in memory are served block by block like a file's, so that
    // both take the same path through the parser.
    memory_ = std::move(data);
  }
  buffer_.resize(options_.block_size);
}

CsvRecordReader::~CsvRecordReader() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::StatusOr<std::unique_ptr<CsvRecordReader>> CsvRecordReader::OpenFile(
    const std::string& path, CsvOptions options) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    std::string msg = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg)
                         : absl::PermissionDeniedError(msg);
  }
  auto reader = std::unique_ptr<CsvRecordReader>(
      new CsvRecordReader(f, std::string(), options));
  reader->display_name_ = path;
  return reader;
}

std::unique_ptr<CsvRecordReader> CsvRecordReader::FromString(
    std::string data, CsvOptions options) {
  auto reader = std::unique_ptr<CsvRecordReader>(
      new CsvRecordReader(nullptr, std::move(data), options));
  reader->display_name_ = "<memory>";
  return reader;
}

size_t CsvRecordReader::Ensure(size_t n) {
  while (end_ - pos_ < n && !eof_) {
    if (pos_ > 0) {
      std::memmove(&buffer_[0], buffer_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    const size_t want = buffer_.size() - end_;
    size_t got = 0;
    if (file_ != nullptr) {
      got = std::fread(&buffer_[end_], 1, want, file_);
      if (got < want) {
        if (std::ferror(file_)) {
          status_ = absl::DataLossError(absl::StrCat(
              "read error on ", display_name_, ": ", std::strerror(errno)));
        }
        eof_ = true;
      }
    } else {
      got = std::min(want, memory_.size() - memory_offset_);
      std::memcpy(&buffer_[end_], memory_.data() + memory_offset_, got);
      memory_offset_ += got;
      if (memory_offset_ == memory_.size()) eof_ = true;
    }
    end_ += got;
  }
  if (!started_) {
    started_ = true;
    if (end_ - pos_ >= 3 && std::memcmp(buffer_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) {
      pos_ += 3;
      return Ensure(n);
    }
  }
  return end_ - pos_;
}

bool CsvRecordReader::Next(CsvRecord* record) {
  record->Clear();
  if (!status_.ok()) return false;
  if (!started_) Ensure(3);
  // Skip empty lines.
  for (;;) {
    if (Ensure(1) == 0) return false;
    const char c = buffer_[pos_];
    if (c == '\n') {
      ++pos_;
      ++line_;
    } else if (c == '\r' && Ensure(2) >= 2 && buffer_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
    } else if (c == '\r' && end_ - pos_ == 1) {
      ++pos_;  // a lone CR ending the input
    } else {
      break;
    }
  }
  record->line = line_;
  std::string& data = record->data_;
  auto end_field = [&] { record->ends_.push_back(static_cast<uint32_t>(data.size())); };

  for (;;) {  // one field per iteration
    if (Ensure(1) == 0) {  // the input ends right after a comma
      end_field();
      return status_.ok();
    }
    if (buffer_[pos_] == '"') {
      ++pos_;
      const int64_t quote_line = line_;
      for (;;) {
        if (Ensure(1) == 0) {
          record->error = absl::StrCat(
              "unterminated quoted field: the quote opened on line ",
              quote_line, " is still open at the end of the input");
          end_field();
          return status_.ok();
        }
        const char* p = buffer_.data() + pos_;
        const char* e = buffer_.data() + end_;
        const char* q = static_cast<const char*>(std::memchr(p, '"', e - p));
        const char* stop = q == nullptr ? e : q;
        for (const char* s = p; s < stop; ++s) line_ += (*s == '\n');
        data.append(p, stop - p);
        pos_ += stop - p;
        if (q == nullptr) continue;
        // A quote: doubled means one quote character, else the field closes.
        if (Ensure(2) >= 2 && buffer_[pos_ + 1] == '"') {
          data.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        break;
      }
      if (Ensure(1) == 0) {
        end_field();
        return status_.ok();
      }
      const char c = buffer_[pos_];
      if (c == ',') {
        ++pos_;
        end_field();
        continue;
      }
      if (c == '\n') {
        ++pos_;
        ++line_;
        end_field();
        return true;
      }
      if (c == '\r') {
        const size_t avail = Ensure(2);
        if (avail == 1 || buffer_[pos_ + 1] == '\n') {
          pos_ += avail == 1 ? 1 : 2;
          line_ += avail == 1 ? 0 : 1;
          end_field();
          return status_.ok();
        }
      }
      if (record->error.empty()) {
        record->error = "text after the closing quote of a quoted field";
      }
      // Keep reading the rest of the field as plain text.
    }
    {
      for (;;) {
        if (Ensure(1) == 0) {
          end_field();
          return status_.ok();
        }
        const char* p = buffer_.data() + pos_;
        const char* e = buffer_.data() + end_;
        const char* s = p;
        while (s < e && *s != ',' && *s != '\n' && *s != '\r') ++s;
        data.append(p, s - p);
        pos_ += s - p;
        if (s == e) continue;
        if (*s == ',') {
          ++pos_;
          end_field();
          break;
        }
        if (*s == '\n') {
          ++pos_;
          ++line_;
          end_field();
          return true;
        }
        // '\r': a line end when followed by '\n' or the end of the input.
        const size_t avail = Ensure(2);
        if (avail == 1) {
          ++pos_;
          end_field();
          return status_.ok();
        }
        if (buffer_[pos_ + 1] == '\n') {
          pos_ += 2;
          ++line_;
          end_field();
          return true;
        }
        data.push_back('\r');
        ++pos_;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Cells and columns

std::string ShowCell(std::string_view cell) {
  std::string out = "\"";
  const size_t n = std::min<size_t>(cell.size(), 40);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(cell[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (n < cell.size()) out += "...";
  out += "\"";
  return out;
}

void RawEventSink::AddPlain(const PlainRow& row) {
  RawEvent e;
  e.line = row.line;
  e.offset = row.offset;
  e.event_id = row.event_id;
  e.member_id = row.member_id;
  e.has_time = true;
  e.time = row.time;
  e.type = row.type;
  e.account_id = row.account_id;
  e.group_id = row.group_id;
  e.channel = row.channel;
  e.value = row.value;
  Add(e);
}

bool ParseValueText(std::string_view text, double* out) {
  if (text.empty()) return false;
  const char* b = text.data();
  const char* e = b + text.size();
  if (*b == '+' && e - b > 1 && b[1] != '-' && b[1] != '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, *out, std::chars_format::general);
  if (ptr != e) return false;
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow: take what strtod makes of it (inf or a tiny
    // number); the engine rejects the non-finite ones.
    *out = std::strtod(std::string(b, e).c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

absl::Status MapCsvHeader(const std::vector<std::string_view>& names,
                          std::string_view source, int64_t line,
                          std::vector<CsvColumn>* columns,
                          std::vector<std::string>* warnings) {
  using Kind = CsvColumn::Kind;
  static const auto* const kNames =
      new absl::flat_hash_map<absl::string_view, Kind>{
          {"event_id", Kind::kEventId},     {"member_id", Kind::kMemberId},
          {"time", Kind::kTime},            {"type", Kind::kType},
          {"value", Kind::kValue},          {"group_id", Kind::kGroupId},
          {"channel", Kind::kChannel},      {"account_id", Kind::kAccountId},
      };
  const absl::string_view src = AsAbsl(source);
  absl::flat_hash_map<std::string, size_t> seen;
  columns->assign(names.size(), CsvColumn());
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string_view name = names[i];
    CsvColumn& col = (*columns)[i];
    if (auto it = kNames->find(AsAbsl(name)); it != kNames->end()) {
      col.kind = it->second;
    } else if (name.size() > 5 && name.substr(0, 5) == "attr.") {
      col.kind = Kind::kAttr;
      col.key = std::string(name.substr(5));
    } else if (name.size() > 8 && name.substr(0, 8) == "profile.") {
      col.kind = Kind::kProfile;
      col.key = std::string(name.substr(8));
    } else {
      col.kind = Kind::kIgnored;
      warnings->push_back(absl::StrCat(src, ":", line,
                                       ": warning: unknown column ",
                                       ShowCell(name), " ignored"));
      continue;
    }
    if (auto [it, inserted] = seen.emplace(std::string(name), i); !inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(src, ":", line, ": column ", ShowCell(name),
                       " appears twice (columns ", it->second + 1, " and ",
                       i + 1, ")"));
    }
  }
  for (const char* required : {"member_id", "time"}) {
    if (!seen.contains(required)) {
      return absl::InvalidArgumentError(
          absl::StrCat(src, ":", line, ": the header has no ", required,
                       " column (member_id and time are required)"));
    }
  }
  return absl::OkStatus();
}

namespace {

// Whole milliseconds with at most 18 digits (no sign): the common case,
// without the general parser.
inline bool FastMillis(std::string_view cell, int64_t* out) {
  if (cell.empty() || cell.size() > 18) return false;
  int64_t v = 0;
  for (char c : cell) {
    const unsigned d = static_cast<unsigned char>(c) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace

void MapCsvCells(const std::vector<CsvColumn>& columns,
                 const std::string_view* cells, size_t num_cells,
                 std::string_view record_error, RawEvent* r) {
  using Kind = CsvColumn::Kind;
  if (!record_error.empty() || num_cells != columns.size()) {
    // A malformed record: only the columns that say whose event it was are
    // read, by position as far as the record goes, so that the rejection
    // can name the member, the event and its time.
    if (!record_error.empty()) {
      r->error.assign(record_error.data(), record_error.size());
    } else {
      r->error = absl::StrCat("wrong column count: ", num_cells,
                              num_cells == 1 ? " field" : " fields",
                              ", the header has ", columns.size());
    }
    for (size_t i = 0; i < columns.size() && i < num_cells; ++i) {
      const std::string_view cell = cells[i];
      switch (columns[i].kind) {
        case Kind::kEventId:
          r->event_id = cell;
          break;
        case Kind::kMemberId:
          r->member_id = cell;
          break;
        case Kind::kTime:
          if (auto t = ParseTimeMillis(cell); t.ok()) {
            r->has_time = true;
            r->time = *t;
          }
          break;
        default:
          break;
      }
    }
    return;
  }
  for (size_t i = 0; i < num_cells; ++i) {
    const std::string_view cell = cells[i];
    const CsvColumn& col = columns[i];
    switch (col.kind) {
      case Kind::kIgnored:
        break;
      case Kind::kEventId:
        r->event_id = cell;
        break;
      case Kind::kMemberId:
        r->member_id = cell;
        break;
      case Kind::kType:
        r->type = cell;
        break;
      case Kind::kGroupId:
        r->group_id = cell;
        break;
      case Kind::kChannel:
        r->channel = cell;
        break;
      case Kind::kAccountId:
        r->account_id = cell;
        break;
      case Kind::kTime:
        if (cell.empty()) break;
        if (FastMillis(cell, &r->time)) {
          r->has_time = true;
        } else if (auto t = ParseTimeMillis(cell); t.ok()) {
          r->has_time = true;
          r->time = *t;
        } else if (r->error.empty()) {
          r->error = absl::StrCat("bad time ", ShowCell(cell), ": ",
                                  t.status().message());
        }
        break;
      case Kind::kValue:
        if (cell.empty()) break;
        if (!ParseValueText(cell, &r->value)) {
          r->value = 0;
          if (r->error.empty()) {
            r->error = absl::StrCat("bad value ", ShowCell(cell), ": not a number");
          }
        }
        break;
      case Kind::kAttr:
        if (!cell.empty()) r->attrs.push_back({col.key, cell});
        break;
      case Kind::kProfile:
        if (!cell.empty()) r->profile.push_back({col.key, cell});
        break;
    }
  }
  if (!r->error.empty()) return;
  if (r->member_id.empty()) {
    r->error = "empty member_id";
  } else if (!r->has_time) {
    r->error = "no time";
  }
}

// ---------------------------------------------------------------------------
// CsvEventSource

CsvEventSource::CsvEventSource(std::unique_ptr<CsvRecordReader> records,
                               std::string name)
    : records_(std::move(records)), name_(std::move(name)) {}

absl::StatusOr<std::unique_ptr<CsvEventSource>> CsvEventSource::OpenFile(
    const std::string& path, CsvOptions options) {
  auto records = CsvRecordReader::OpenFile(path, options);
  if (!records.ok()) return records.status();
  auto source = std::unique_ptr<CsvEventSource>(
      new CsvEventSource(*std::move(records), path));
  if (absl::Status s = source->ReadHeader(); !s.ok()) return s;
  return source;
}

absl::StatusOr<std::unique_ptr<CsvEventSource>> CsvEventSource::FromString(
    std::string data, std::string name, CsvOptions options) {
  auto source = std::unique_ptr<CsvEventSource>(new CsvEventSource(
      CsvRecordReader::FromString(std::move(data), options), std::move(name)));
  if (absl::Status s = source->ReadHeader(); !s.ok()) return s;
  return source;
}

absl::Status CsvEventSource::ReadHeader() {
  if (!records_->Next(&csv_)) {
    if (!records_->status().ok()) return records_->status();
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": empty input: expected a header row"));
  }
  if (!csv_.error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ":", csv_.line, ": bad header row: ", csv_.error));
  }
  std::vector<std::string_view> names;
  for (size_t i = 0; i < csv_.size(); ++i) names.push_back(csv_.field(i));
  return MapCsvHeader(names, name_, csv_.line, &columns_, &warnings_);
}

bool CsvEventSource::Next(EventRecord* record) {
  if (!records_->Next(&csv_)) return false;
  record->Clear();
  record->line = csv_.line;
  record->row = next_row_++;
  MapRecord(record);
  return true;
}

void CsvEventSource::MapRecord(EventRecord* r) {
  cells_.clear();
  for (size_t i = 0; i < csv_.size(); ++i) cells_.push_back(csv_.field(i));
  raw_.Clear();
  MapCsvCells(columns_, cells_.data(), cells_.size(), csv_.error, &raw_);
  r->error = raw_.error;
  r->event_id.assign(raw_.event_id.data(), raw_.event_id.size());
  r->member_id.assign(raw_.member_id.data(), raw_.member_id.size());
  r->has_time = raw_.has_time;
  r->time = raw_.time;
  r->type.assign(raw_.type.data(), raw_.type.size());
  r->account_id.assign(raw_.account_id.data(), raw_.account_id.size());
  r->group_id.assign(raw_.group_id.data(), raw_.group_id.size());
  r->channel.assign(raw_.channel.data(), raw_.channel.size());
  r->value = raw_.value;
  for (const KeyValue& kv : raw_.attrs) r->AddAttr(kv.key, kv.value);
  for (const KeyValue& kv : raw_.profile) r->AddProfile(kv.key, kv.value);
}

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<EventSource>> OpenEventSource(
    const std::string& path) {
  auto csv = CsvEventSource::OpenFile(path);
  if (!csv.ok()) return csv.status();
  return std::unique_ptr<EventSource>(*std::move(csv));
}

void ToRawEvent(const EventRecord& record, RawEvent* out) {
  RawEvent& ev = *out;
  ev.line = record.line;
  ev.error = record.error;
  ev.event_id = record.event_id;
  ev.member_id = record.member_id;
  ev.has_time = record.has_time;
  ev.time = record.time;
  ev.type = record.type;
  ev.account_id = record.account_id;
  ev.group_id = record.group_id;
  ev.channel = record.channel;
  ev.value = record.value;
  for (int i = 0; i < record.num_attrs; ++i) {
    ev.attrs.push_back({record.attrs[i].key, record.attrs[i].value});
  }
  for (int i = 0; i < record.num_profile; ++i) {
    ev.profile.push_back({record.profile[i].key, record.profile[i].value});
  }
}

}  // namespace leadscore::io
