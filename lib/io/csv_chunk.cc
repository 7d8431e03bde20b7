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

void CsvScanner::ReadRecord(size_t* pos_io, int64_t* newlines,
                            std::vector<std::string_view>* cells,
                            std::string* error, int64_t* error_line) {
  const char* d = data_.data();
  const size_t e = data_.size();
  size_t p = *pos_io;
  int64_t nl = *newlines;

  // The common case: a line without a quote is one record; its cells are
  // what lies between the commas (a CR before the line break, or at the end
  // of the input, ends the line; any other CR is data). Sixteen bytes at a
  // time: where the commas are, whether there is a quote, where the line
  // ends.
  {
    cells->clear();
    const char* line = d + p;
    const char* q = line;
    const char* c = line;  // the cell being read
    const char* end = d + e;
    const char* lf = nullptr;
    bool quoted = false;
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
        quoted = true;
        break;
      }
      c_mask &= before;
      while (c_mask != 0) {
        const char* at = q + __builtin_ctz(c_mask);
        cells->emplace_back(c, at - c);
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
    if (!quoted && lf == nullptr) {
      for (; q < end; ++q) {
        const char ch = *q;
        if (ch == ',') {
          cells->emplace_back(c, q - c);
          c = q + 1;
        } else if (ch == '\n') {
          lf = q;
          break;
        } else if (ch == '"') {
          quoted = true;
          break;
        }
      }
    }
    if (!quoted) {
      const char* cell_end = lf == nullptr ? end : lf;
      if (cell_end > c && cell_end[-1] == '\r') --cell_end;
      cells->emplace_back(c, cell_end - c);
      error->clear();
      *error_line = -1;
      if (lf == nullptr) {
        *pos_io = e;
      } else {
        *pos_io = static_cast<size_t>(lf - d) + 1;
        *newlines = nl + 1;
      }
      return;
    }
  }
  spans_.clear();
  scratch_.clear();
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
    if (in_scratch) {
      spans_.push_back({sbegin, scratch_.size() - sbegin, true});
    } else if (has) {
      spans_.push_back({cbegin, cend - cbegin, false});
    } else {
      spans_.push_back({p, 0, false});
    }
    has = in_scratch = false;
  };

  bool more = true;  // another cell follows
  while (more) {
    if (p == e) {  // the input ends right after a comma
      end_cell();
      break;
    }
    bool plain = true;
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
      plain = true;
    }
    if (plain) {
      size_t seg = p;
      size_t s = p;
      for (;;) {
        while (s < e && !kPlainStops.stop[static_cast<unsigned char>(d[s])]) ++s;
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
  }

  cells->resize(spans_.size());
  std::string_view* out = cells->data();
  for (size_t i = 0; i < spans_.size(); ++i) {
    const Span& sp = spans_[i];
    const char* base = sp.in_scratch ? scratch_.data() : d;
    out[i] = std::string_view(base + sp.begin, sp.size);
  }
  *pos_io = p;
  *newlines = nl;
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
  return absl::OkStatus();
}

size_t CsvFile::ParseRange(size_t begin, size_t limit, RawEventSink* sink,
                           int64_t* newlines) const {
  CsvScanner scanner(data_);
  RawEvent ev;
  std::vector<std::string_view> cells;
  std::string error;
  int64_t error_line = -1;
  size_t p = begin;
  int64_t nl = 0;
  while (scanner.SkipEmptyLines(&p, limit, &nl)) {
    ev.Clear();
    ev.line = nl;
    ev.offset = static_cast<int64_t>(p);
    scanner.ReadRecord(&p, &nl, &cells, &error, &error_line);
    MapCsvCells(columns_, cells.data(), cells.size(), error, &ev);
    ev.error_line = error_line;
    sink->Add(ev);
  }
  *newlines = nl;
  return p;
}

}  // namespace leadscore::io
