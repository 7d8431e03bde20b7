// CSV records out of bytes in memory: the batch job's reader.
#include "lib/io/csv_chunk.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "lib/base/strings.h"

namespace leadscore::io {

namespace {

// Bytes that end an unquoted cell.
struct PlainStops {
  bool stop[256] = {};
  constexpr PlainStops() : stop() {
    stop[static_cast<unsigned char>(',')] = true;
    stop[static_cast<unsigned char>('\n')] = true;
    stop[static_cast<unsigned char>('\r')] = true;
  }
};
constexpr PlainStops kPlainStops;

int64_t CountNewlines(const char* b, const char* e) {
  int64_t n = 0;
  while ((b = static_cast<const char*>(std::memchr(b, '\n', e - b))) != nullptr) {
    ++n;
    ++b;
  }
  return n;
}

}  // namespace

bool CsvScanner::SkipEmptyLines(size_t* pos, size_t limit,
                                int64_t* newlines) const {
  const char* d = data_.data();
  const size_t e = data_.size();
  size_t p = *pos;
  for (;;) {
    if (p >= limit || p >= e) {
      *pos = p;
      return false;
    }
    const char c = d[p];
    if (c == '\n') {
      ++p;
      ++*newlines;
    } else if (c == '\r' && p + 1 < e && d[p + 1] == '\n') {
      p += 2;
      ++*newlines;
    } else if (c == '\r' && p + 1 == e) {
      ++p;  // a lone CR ending the input
    } else {
      *pos = p;
      return true;
    }
  }
}

void CsvScanner::ReadRecord(size_t* pos, int64_t* newlines,
                            std::vector<std::string_view>* cells,
                            std::string* error, int64_t* error_line) {
  const size_t n = Read(pos, newlines, error, error_line);
  cells->assign(cells_.data(), cells_.data() + n);
}

size_t CsvScanner::Read(size_t* pos_io, int64_t* newlines, std::string* error,
                        int64_t* error_line) {
  const char* d = data_.data();
  const size_t e = data_.size();
  // The common case: a line without a quote is one record; its cells are
  // what lies between the commas (a CR before the line break, or at the end
  // of the input, ends the line; any other CR is data). Sixteen bytes at a
  // time: where the commas are, whether there is a quote, where the line
  // ends. At a quote, the rest of the record is read by ReadQuoted from the
  // cell it is in.
  const char* q = d + *pos_io;
  const char* c = q;  // the cell being read
  const char* end = d + e;
  const char* lf = nullptr;
  std::string_view* out = cells_.data();
  size_t cap = cells_.size();
  size_t n = 0;
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i quote = _mm_set1_epi8('"');
  while (end - q >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const unsigned nl_mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)));
    const unsigned q_mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)));
    unsigned c_mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)));
    unsigned before = 0xffffu;  // the bytes of this line in the block
    if (nl_mask != 0) before = (1u << __builtin_ctz(nl_mask)) - 1;
    if ((q_mask & before) != 0) {
      return ReadQuoted(c, n, pos_io, newlines, error, error_line);
    }
    c_mask &= before;
    while (c_mask != 0) {
      const char* at = q + __builtin_ctz(c_mask);
      if (n == cap) {
        Grow(n);
        out = cells_.data();
        cap = cells_.size();
      }
      out[n++] = std::string_view(c, at - c);
      c = at + 1;
      c_mask &= c_mask - 1;
    }
    if (nl_mask != 0) {
      lf = q + __builtin_ctz(nl_mask);
      break;
    }
    q += 16;
  }
#endif
  if (lf == nullptr) {
    for (; q < end; ++q) {
      const char ch = *q;
      if (ch == ',') {
        if (n == cap) {
          Grow(n);
          out = cells_.data();
          cap = cells_.size();
        }
        out[n++] = std::string_view(c, q - c);
        c = q + 1;
      } else if (ch == '\n') {
        lf = q;
        break;
      } else if (ch == '"') {
        return ReadQuoted(c, n, pos_io, newlines, error, error_line);
      }
    }
  }
  const char* cell_end = lf == nullptr ? end : lf;
  if (cell_end > c && cell_end[-1] == '\r') --cell_end;
  if (n == cap) {
    Grow(n);
    out = cells_.data();
  }
  out[n++] = std::string_view(c, cell_end - c);
  if (!error->empty()) error->clear();
  *error_line = -1;
  if (lf == nullptr) {
    *pos_io = e;
  } else {
    *pos_io = static_cast<size_t>(lf - d) + 1;
    ++*newlines;
  }
  return n;
}

namespace {

// The first byte at or after s (before e) that ends an unquoted cell: a
// comma, LF or CR; e when there is none.
inline size_t FindPlainStop(const char* d, size_t s, size_t e) {
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  while (s + 16 <= e) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + s));
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, newline)),
        _mm_cmpeq_epi8(v, cr));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return s + __builtin_ctz(mask);
    s += 16;
  }
#endif
  while (s < e && !kPlainStops.stop[static_cast<unsigned char>(d[s])]) ++s;
  return s;
}

}  // namespace

size_t CsvScanner::ReadQuoted(const char* cell, size_t n, size_t* pos_io,
                              int64_t* newlines, std::string* error,
                              int64_t* error_line) {
  const char* d = data_.data();
  const size_t e = data_.size();
  size_t p = static_cast<size_t>(cell - d);
  int64_t nl = *newlines;
  scratch_.clear();
  in_scratch_.clear();
  error->clear();
  *error_line = -1;

  // The cell being read: a run of data_ while it is contiguous, else in
  // scratch_.
  bool has = false, in_scratch = false;
  size_t cbegin = 0, cend = 0, sbegin = 0;
  auto append = [&](size_t a, size_t b) {
    if (a == b) return;
    if (!has) {
      has = true;
      cbegin = a;
      cend = b;
      return;
    }
    if (!in_scratch && cend == a) {
      cend = b;
      return;
    }
    if (!in_scratch) {
      in_scratch = true;
      sbegin = scratch_.size();
      scratch_.append(d + cbegin, cend - cbegin);
    }
    scratch_.append(d + a, b - a);
  };
  auto end_cell = [&] {
    Grow(n);
    if (in_scratch) {
      in_scratch_.push_back({n, sbegin, scratch_.size() - sbegin});
      cells_[n] = std::string_view();
    } else if (has) {
      cells_[n] = std::string_view(d + cbegin, cend - cbegin);
    } else {
      cells_[n] = std::string_view(d + p, 0);
    }
    ++n;
    has = in_scratch = false;
  };

  bool more = true;  // another cell follows
  while (more) {
    if (p == e) {  // the input ends right after a comma
      end_cell();
      break;
    }
    if (d[p] == '"') {
      ++p;
      const int64_t quote_line = nl;
      bool closed = false;
      while (!closed) {
        const char* q = static_cast<const char*>(std::memchr(d + p, '"', e - p));
        const size_t stop = q == nullptr ? e : static_cast<size_t>(q - d);
        nl += CountNewlines(d + p, d + stop);
        append(p, stop);
        p = stop;
        if (q == nullptr) {
          *error = absl::StrCat(
              "unterminated quoted field: the quote opened on line ", kLineMark,
              " is still open at the end of the input");
          *error_line = quote_line;
          break;
        }
        if (p + 1 < e && d[p + 1] == '"') {  // "" is one quote
          append(p, p + 1);
          p += 2;
          continue;
        }
        ++p;
        closed = true;
      }
      if (!closed || p == e) {
        end_cell();
        break;
      }
      const char c = d[p];
      if (c == ',') {
        ++p;
        end_cell();
        continue;
      }
      if (c == '\n') {
        ++p;
        ++nl;
        end_cell();
        break;
      }
      if (c == '\r' && (p + 1 == e || d[p + 1] == '\n')) {
        if (p + 1 == e) {
          ++p;
        } else {
          p += 2;
          ++nl;
        }
        end_cell();
        break;
      }
      if (error->empty()) *error = "text after the closing quote of a quoted field";
      // The rest of the cell is read as plain text.
    }
    // A plain cell (or the rest of one after its closing quote).
    const size_t seg = p;
    size_t s = p;
    for (;;) {
      s = FindPlainStop(d, s, e);
      if (s == e) {
        append(seg, e);
        p = e;
        end_cell();
        more = false;
        break;
      }
      const char c = d[s];
      if (c == ',') {
        append(seg, s);
        p = s + 1;
        end_cell();
        break;
      }
      if (c == '\n') {
        append(seg, s);
        p = s + 1;
        ++nl;
        end_cell();
        more = false;
        break;
      }
      // '\r': a line end when followed by '\n' or the end of the input.
      if (s + 1 == e) {
        append(seg, s);
        p = e;
        end_cell();
        more = false;
        break;
      }
      if (d[s + 1] == '\n') {
        append(seg, s);
        p = s + 2;
        ++nl;
        end_cell();
        more = false;
        break;
      }
      ++s;  // a lone CR is data
    }
  }

  for (const ScratchCell& sc : in_scratch_) {
    cells_[sc.index] = std::string_view(scratch_.data() + sc.begin, sc.size);
  }
  *pos_io = p;
  *newlines = nl;
  return n;
}

absl::Status CsvFile::Open(std::string_view data, std::string_view name,
                           std::vector<std::string>* warnings,
                           const std::vector<std::string>* keep_attrs) {
  data_ = data;
  size_t p = 0;
  if (data.size() >= 3 && std::memcmp(data.data(), "\xEF\xBB\xBF", 3) == 0) p = 3;
  CsvScanner scanner(data);
  int64_t nl = 0;
  if (!scanner.SkipEmptyLines(&p, data.size(), &nl)) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(name), ": empty input: expected a header row"));
  }
  const int64_t header_line = 1 + nl;
  std::vector<std::string_view> cells;
  std::string error;
  int64_t error_line = -1;
  scanner.ReadRecord(&p, &nl, &cells, &error, &error_line);
  if (!error.empty()) {
    if (error_line >= 0) {
      error = absl::StrReplaceAll(error, {{kLineMark, absl::StrCat(1 + error_line)}});
    }
    return absl::InvalidArgumentError(absl::StrCat(
        AsAbsl(name), ":", header_line, ": bad header row: ", error));
  }
  if (absl::Status s = MapCsvHeader(cells, name, header_line, &columns_, warnings);
      !s.ok()) {
    return s;
  }
  if (keep_attrs != nullptr) {
    for (CsvColumn& col : columns_) {
      if (col.kind == CsvColumn::Kind::kAttr &&
          std::find(keep_attrs->begin(), keep_attrs->end(), col.key) == keep_attrs->end()) {
        col.kind = CsvColumn::Kind::kIgnored;
      }
    }
  }
  data_begin_ = p;
  data_begin_line_ = 1 + nl;
  layout_ = Layout();
  using Kind = CsvColumn::Kind;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const int c = static_cast<int>(i);
    switch (columns_[i].kind) {
      case Kind::kIgnored: break;
      case Kind::kEventId: layout_.event_id = c; break;
      case Kind::kMemberId: layout_.member_id = c; break;
      case Kind::kTime: layout_.time = c; break;
      case Kind::kType: layout_.type = c; break;
      case Kind::kValue: layout_.value = c; break;
      case Kind::kGroupId: layout_.group_id = c; break;
      case Kind::kChannel: layout_.channel = c; break;
      case Kind::kAccountId: layout_.account_id = c; break;
      case Kind::kAttr: layout_.attrs.push_back(c); break;
      case Kind::kProfile: layout_.profile.push_back(c); break;
    }
  }
  plain_ = layout_.attrs.empty() && layout_.profile.empty() && !columns_.empty() &&
           columns_.size() <= kMaxPlainColumns;
  const int cols[kNumPlainFields] = {layout_.event_id,   layout_.member_id, layout_.type,
                                     layout_.account_id, layout_.group_id,  layout_.channel,
                                     layout_.time,       layout_.value};
  for (int f = 0; f < kNumPlainFields; ++f) {
    plain_cols_[f] = static_cast<uint8_t>(cols[f] < 0 ? kMaxPlainColumns : cols[f]);
  }
  return absl::OkStatus();
}

namespace {

// Eight ASCII digits (the first the most significant) -> their value;
// false when one of the bytes is not a digit.
inline bool Digits8(const char* p, uint64_t* out) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  if (((x & 0xF0F0F0F0F0F0F0F0ULL) |
       (((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) !=
      0x3333333333333333ULL) {
    return false;
  }
  x = ((x & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
  x = ((x & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
  x = ((x & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
  *out = x;
  return true;
}

constexpr uint64_t kPow10[] = {1,       10,       100,       1000,      10000,
                               100000,  1000000,  10000000,  100000000};

// Whole milliseconds with 1 to 18 digits (no sign): the common case, as
// MapCsvCells' fast path reads it.
inline bool FastMillis(std::string_view cell, int64_t* out) {
  const size_t n = cell.size();
  if (n == 0 || n > 18) return false;
  const char* p = cell.data();
  if (n > 8 && n <= 16) {
    // Two windows of 8 digits that overlap: the first 8, and the last 8 of
    // which the last n - 8 are new (13 digits, a time in ms: one multiply).
    uint64_t hi, lo;
    if (!Digits8(p, &hi) || !Digits8(p + n - 8, &lo)) return false;
    const uint64_t scale = kPow10[n - 8];
    *out = static_cast<int64_t>(hi * scale + lo % scale);
    return true;
  }
  uint64_t v = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t d;
    if (!Digits8(p + i, &d)) return false;
    v = v * 100000000 + d;
  }
  for (; i < n; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = static_cast<int64_t>(v);
  return true;
}

// A value cell of up to 15 digits: a whole number that a double holds
// exactly (the value ParseValueText gives, without its call).
inline bool FastWholeValue(std::string_view v, double* out) {
  if (v.size() > 15) return false;
  uint64_t digits = 0;
  for (const char ch : v) {
    const unsigned d = static_cast<unsigned char>(ch) - '0';
    if (d > 9) return false;
    digits = digits * 10 + d;
  }
  *out = static_cast<double>(digits);
  return true;
}

}  // namespace

bool CsvFile::MapCells(const std::string_view* cells, RawEvent* r) const {
  const Layout& l = layout_;
  // The time and value first: when one of them is not in a common form,
  // the general mapping says what is wrong (errors in column order).
  int64_t time = 0;
  bool has_time = false;
  if (l.time >= 0 && !cells[l.time].empty()) {
    if (!FastMillis(cells[l.time], &time)) return false;
    has_time = true;
  }
  double value = 0;
  if (l.value >= 0 && !cells[l.value].empty()) {
    if (!FastWholeValue(cells[l.value], &value) &&
        !ParseValueText(cells[l.value], &value)) {
      return false;
    }
  }
  r->time = time;
  r->has_time = has_time;
  r->value = value;
  if (l.event_id >= 0) r->event_id = cells[l.event_id];
  if (l.member_id >= 0) r->member_id = cells[l.member_id];
  if (l.type >= 0) r->type = cells[l.type];
  if (l.group_id >= 0) r->group_id = cells[l.group_id];
  if (l.channel >= 0) r->channel = cells[l.channel];
  if (l.account_id >= 0) r->account_id = cells[l.account_id];
  for (int c : l.attrs) {
    if (!cells[c].empty()) r->attrs.push_back({columns_[c].key, cells[c]});
  }
  for (int c : l.profile) {
    if (!cells[c].empty()) r->profile.push_back({columns_[c].key, cells[c]});
  }
  if (r->member_id.empty()) {
    r->error = "empty member_id";
  } else if (!has_time) {
    r->error = "no time";
  }
  return true;
}

size_t CsvFile::ReadPlain(size_t p, PlainRow* row) const {
  const char* d = data_.data();
  const char* q = d + p;
  const char* end = d + data_.size();
  const size_t ncols = columns_.size();
  // Cells by column; the one after the last is empty, for fields the file
  // has no column for (plain_cols_).
  const char* begins[kMaxPlainColumns + 1];
  const char* ends[kMaxPlainColumns + 1];
  begins[kMaxPlainColumns] = ends[kMaxPlainColumns] = q;
  const char* c = q;  // the cell being read
  size_t n = 0;       // cells ended by a comma
  const char* lf = nullptr;
  // Ends a cell at each comma of `mask` (bit i: q[i]); false when there
  // are more cells than columns.
  auto cut = [&](uint64_t mask) {
    for (; mask != 0; mask &= mask - 1) {
      if (n + 1 >= ncols) return false;
      const char* at = q + __builtin_ctzll(mask);
      begins[n] = c;
      ends[n] = at;
      ++n;
      c = at + 1;
    }
    return true;
  };
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i cr = _mm_set1_epi8('\r');
  // Most rows fit in 64 bytes: their four blocks' masks at once, as 64 bits.
  if (end - q >= 64) {
    uint64_t nl_mask = 0, odd_mask = 0, c_mask = 0;
    for (int k = 0; k < 4; ++k) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16 * k));
      nl_mask |= static_cast<uint64_t>(static_cast<unsigned>(
                     _mm_movemask_epi8(_mm_cmpeq_epi8(v, newline))))
                 << (16 * k);
      odd_mask |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(
                      _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, cr)))))
                  << (16 * k);
      c_mask |= static_cast<uint64_t>(static_cast<unsigned>(
                    _mm_movemask_epi8(_mm_cmpeq_epi8(v, comma))))
                << (16 * k);
    }
    if (nl_mask != 0) {
      const int at_lf = __builtin_ctzll(nl_mask);
      const uint64_t before = (uint64_t{1} << at_lf) - 1;
      if ((odd_mask & before) != 0) return 0;
      if (!cut(c_mask & before)) return 0;
      lf = q + at_lf;
    } else {
      // A longer row: these 64 bytes are its first cells; on from there.
      if (odd_mask != 0) return 0;
      if (!cut(c_mask)) return 0;
      q += 64;
    }
  }
  while (lf == nullptr && end - q >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const unsigned nl_mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)));
    const unsigned odd_mask = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, cr))));
    const unsigned c_mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)));
    const unsigned before = nl_mask != 0 ? (1u << __builtin_ctz(nl_mask)) - 1 : 0xffffu;
    if ((odd_mask & before) != 0) return 0;
    if (!cut(c_mask & before)) return 0;
    if (nl_mask != 0) {
      lf = q + __builtin_ctz(nl_mask);
      break;
    }
    q += 16;
  }
#endif
  // (Near the end of the input, and without SSE2, the general path reads.)
  if (lf == nullptr || n + 1 != ncols) return 0;
  begins[n] = c;
  ends[n] = lf;
  auto cell = [&](PlainField f) {
    const size_t col = plain_cols_[f];
    return std::string_view(begins[col], static_cast<size_t>(ends[col] - begins[col]));
  };
  row->member_id = cell(kPlainMemberId);
  if (row->member_id.empty()) return 0;  // a bad row
  if (!FastMillis(cell(kPlainTime), &row->time)) return 0;
  const std::string_view value = cell(kPlainValue);
  row->value = 0;
  if (!value.empty() && !FastWholeValue(value, &row->value)) return 0;
  row->event_id = cell(kPlainEventId);
  row->type = cell(kPlainType);
  row->account_id = cell(kPlainAccountId);
  row->group_id = cell(kPlainGroupId);
  row->channel = cell(kPlainChannel);
  return static_cast<size_t>(lf - d) + 1;
}

size_t CsvFile::ParseRange(size_t begin, size_t limit, RawEventSink* sink,
                           int64_t* newlines) const {
  CsvScanner scanner(data_);
  RawEvent ev;
  std::string error;
  int64_t error_line = -1;
  size_t p = begin;
  int64_t nl = 0;
  PlainRow row;
  const char* d = data_.data();
  const size_t size = data_.size();
  for (;;) {
    // A record starts here unless the line is empty (SkipEmptyLines, without
    // its call for the common case).
    const bool starts = p < limit && p < size && d[p] != '\n' && d[p] != '\r';
    if (!starts && !scanner.SkipEmptyLines(&p, limit, &nl)) break;
    if (plain_) {
      const size_t next = ReadPlain(p, &row);
      if (next != 0) {
        row.line = nl;
        row.offset = static_cast<int64_t>(p);
        sink->AddPlain(row);
        p = next;
        ++nl;
        continue;
      }
    }
    ev.Clear();
    ev.line = nl;
    ev.offset = static_cast<int64_t>(p);
    const size_t n = scanner.Read(&p, &nl, &error, &error_line);
    if (!error.empty() || n != columns_.size() || !MapCells(scanner.cells(), &ev)) {
      MapCsvCells(columns_, scanner.cells(), n, error, &ev);
    }
    ev.error_line = error_line;
    sink->Add(ev);
  }
  *newlines = nl;
  return p;
}

}  // namespace leadscore::io
