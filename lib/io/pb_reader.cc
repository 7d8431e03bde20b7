// Length-delimited MemberEvent streams, decoded from the wire format.
#include "lib/io/pb_reader.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace leadscore::io {

namespace {

enum WireType : uint32_t {
  kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3,
  kEndGroup = 4, kFixed32 = 5,
};

// Reads a varint at *p (< e). False when it is cut off or longer than 10
// bytes.
inline bool ReadVarint(const uint8_t** p, const uint8_t* e, uint64_t* out) {
  const uint8_t* q = *p;
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (q == e) return false;
    const uint8_t b = *q++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *p = q;
      *out = v;
      return true;
    }
  }
  return false;
}

// Reads a field tag at *p (< e): a varint of at most 5 bytes that fits in
// 32 bits, as protobuf reads tags (field numbers are below 2^29). A longer
// or larger one does not decode (read as a 64-bit varint, a tag such as
// 80 80 80 80 80 80 80 80 80 01 passed for an unknown field, and one cut to
// 32 bits could pass for a field of ours).
inline bool ReadTag(const uint8_t** p, const uint8_t* e, uint64_t* out) {
  const uint8_t* start = *p;
  const uint8_t* q = *p;
  if (!ReadVarint(&q, e, out) || q - start > 5 || *out > 0xffffffffu) return false;
  *p = q;
  return true;
}

// Reads the length of a length-delimited field at *p (< e), as protobuf
// reads it: at most 5 bytes, below 2^31, and it must fit in what is left.
inline bool ReadLength(const uint8_t** p, const uint8_t* e, uint64_t* out) {
  const uint8_t* start = *p;
  const uint8_t* q = *p;
  if (!ReadVarint(&q, e, out) || q - start > 5 || *out > 0x7fffffffu ||
      *out > static_cast<uint64_t>(e - q)) {
    return false;
  }
  *p = q;
  return true;
}

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

const char* FieldName(uint32_t field) {
  switch (field) {
    case 1: return "event_id";
    case 2: return "member_id";
    case 3: return "time";
    case 4: return "type";
    case 5: return "account_id";
    case 6: return "group_id";
    case 7: return "channel";
    case 8: return "value";
    case 9: return "attrs";
    case 10: return "profile";
  }
  return "?";
}

uint32_t ExpectedWireType(uint32_t field) {
  switch (field) {
    case 3: return kVarint;
    case 8: return kFixed64;
    default: return kLengthDelimited;
  }
}

// Skips a field's payload of wire type `wt`. False when it does not decode.
bool SkipField(const uint8_t** p, const uint8_t* e, uint32_t wt) {
  uint64_t v;
  switch (wt) {
    case kVarint:
      return ReadVarint(p, e, &v);
    case kFixed64:
      if (e - *p < 8) return false;
      *p += 8;
      return true;
    case kLengthDelimited:
      if (!ReadLength(p, e, &v)) return false;
      *p += v;
      return true;
    case kFixed32:
      if (e - *p < 4) return false;
      *p += 4;
      return true;
    default:
      return false;  // groups are not used by MemberEvent
  }
}

void Fail(RawEvent* ev, std::string message) {
  if (ev->error.empty()) ev->error = std::move(message);
}

// A map<string, string> entry: {1: key, 2: value}.
bool DecodeEntry(const uint8_t* p, const uint8_t* e, KeyValue* kv,
                 std::string* why) {
  kv->key = {};
  kv->value = {};
  while (p < e) {
    uint64_t tag;
    if (!ReadTag(&p, e, &tag) || (tag >> 3) == 0) {  // field 0 is no field
      *why = "a map entry does not decode";
      return false;
    }
    const uint32_t field = static_cast<uint32_t>(tag >> 3);
    const uint32_t wt = static_cast<uint32_t>(tag & 7);
    if ((field == 1 || field == 2) && wt == kLengthDelimited) {
      uint64_t len;
      if (!ReadLength(&p, e, &len)) {
        *why = "a map entry does not decode";
        return false;
      }
      std::string_view s(reinterpret_cast<const char*>(p), len);
      (field == 1 ? kv->key : kv->value) = s;
      p += len;
      continue;
    }
    if (field == 1 || field == 2) {
      *why = absl::StrCat("a map entry's ", field == 1 ? "key" : "value",
                          " has wire type ", wt, ", not 2");
      return false;
    }
    if (!SkipField(&p, e, wt)) {
      *why = "a map entry does not decode";
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* e = p + s.size();
  while (p < e) {
    // ASCII, eight bytes at a time.
    while (e - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p == e) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (static_cast<size_t>(e - p) <= need) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t k = 2; k <= need; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
    }
    p += need + 1;
  }
  return true;
}

void DecodeMemberEvent(std::string_view message, RawEvent* ev) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(message.data());
  const uint8_t* e = p + message.size();
  std::string why;
  while (p < e) {
    uint64_t tag;
    if (!ReadTag(&p, e, &tag) || (tag >> 3) == 0) {
      Fail(ev, "the message does not decode (bad field tag)");
      break;
    }
    const uint32_t field = static_cast<uint32_t>(tag >> 3);
    const uint32_t wt = static_cast<uint32_t>(tag & 7);
    if (field < 1 || field > 10) {
      if (!SkipField(&p, e, wt)) {
        Fail(ev, absl::StrCat("the message does not decode (field ", field, ")"));
        break;
      }
      continue;
    }
    if (wt != ExpectedWireType(field)) {
      Fail(ev, absl::StrCat("field ", FieldName(field), " has wire type ", wt,
                            ", not ", ExpectedWireType(field)));
      if (field == 3) ev->has_time = false;
      if (!SkipField(&p, e, wt)) break;
      continue;
    }
    if (field == 3) {
      uint64_t v;
      if (!ReadVarint(&p, e, &v)) {
        Fail(ev, "the message does not decode (field time)");
        break;
      }
      ev->has_time = true;
      ev->time = static_cast<int64_t>(v);
      continue;
    }
    if (field == 8) {
      if (e - p < 8) {
        Fail(ev, "the message does not decode (field value)");
        break;
      }
      std::memcpy(&ev->value, p, 8);  // little endian, as x86 and ARM
      p += 8;
      continue;
    }
    uint64_t len;
    if (!ReadLength(&p, e, &len)) {
      Fail(ev, absl::StrCat("the message does not decode (field ",
                            FieldName(field), ")"));
      break;
    }
    const std::string_view s(reinterpret_cast<const char*>(p), len);
    const uint8_t* payload = p;
    p += len;
    if (field == 9 || field == 10) {
      KeyValue kv;
      if (!DecodeEntry(payload, p, &kv, &why)) {
        Fail(ev, absl::StrCat(FieldName(field), ": ", why));
        continue;
      }
      if (!IsValidUtf8(kv.key) || !IsValidUtf8(kv.value)) {
        Fail(ev, absl::StrCat(FieldName(field), ": not valid UTF-8"));
      }
      (field == 9 ? ev->attrs : ev->profile).push_back(kv);
      continue;
    }
    if (!IsValidUtf8(s)) {
      Fail(ev, absl::StrCat(FieldName(field), ": not valid UTF-8"));
    }
    switch (field) {
      case 1: ev->event_id = s; break;
      case 2: ev->member_id = s; break;
      case 4: ev->type = s; break;
      case 5: ev->account_id = s; break;
      case 6: ev->group_id = s; break;
      case 7: ev->channel = s; break;
    }
  }
  if (!ev->error.empty()) return;
  if (ev->member_id.empty()) {
    ev->error = "empty member_id";
  } else if (!ev->has_time) {
    ev->error = "no time";
  }
}

PbLayout ScanPbStream(std::string_view data, size_t part_bytes) {
  PbLayout out;
  const uint8_t* base = reinterpret_cast<const uint8_t*>(data.data());
  const uint8_t* e = base + data.size();
  const uint8_t* p = base;
  size_t part_start = 0;
  out.part_begin.push_back(0);
  out.part_first_record.push_back(0);
  while (p < e) {
    const uint8_t* q = p;
    uint64_t len;
    if (!ReadVarint(&q, e, &len)) {
      // Cut off (every byte to the end says "more follows") or too long.
      bool cut = e - p < 10;
      for (const uint8_t* b = p; cut && b < e; ++b) cut = (*b & 0x80) != 0;
      out.broken = true;
      out.broken_error = cut ? "truncated record: the input ends inside its length prefix"
                             : "bad length prefix (not a varint)";
      break;
    }
    if (len > static_cast<uint64_t>(e - q)) {
      out.broken = true;
      out.broken_error = absl::StrCat("truncated record: its length prefix says ",
                                      len, " bytes, ", e - q, " remain");
      break;
    }
    p = q + len;
    ++out.num_records;
    const size_t pos = static_cast<size_t>(p - base);
    if (pos - part_start >= part_bytes && p < e) {
      part_start = pos;
      out.part_begin.push_back(pos);
      out.part_first_record.push_back(out.num_records);
    }
  }
  out.valid_end = static_cast<size_t>(p - base);
  return out;
}

int64_t ParsePbRange(std::string_view data, size_t begin, size_t end,
                     RawEventSink* sink) {
  const uint8_t* base = reinterpret_cast<const uint8_t*>(data.data());
  const uint8_t* p = base + begin;
  const uint8_t* e = base + end;
  RawEvent ev;
  int64_t n = 0;
  while (p < e) {
    uint64_t len;
    const uint8_t* start = p;
    if (!ReadVarint(&p, e, &len) || len > static_cast<uint64_t>(e - p)) break;
    ev.Clear();
    ev.line = n;
    ev.offset = static_cast<int64_t>(start - base);
    DecodeMemberEvent(std::string_view(reinterpret_cast<const char*>(p), len), &ev);
    p += len;
    sink->Add(ev);
    ++n;
  }
  return n;
}

void AppendDelimitedEvent(std::string* out, const Event& e) {
  // Field sizes first: the length prefix comes before them.
  auto str_size = [](uint32_t field, std::string_view s) -> size_t {
    if (s.empty()) return 0;
    return VarintSize(field << 3) + VarintSize(s.size()) + s.size();
  };
  auto entry_size = [](const KeyValue& kv) -> size_t {
    size_t n = 0;
    if (!kv.key.empty()) n += 1 + VarintSize(kv.key.size()) + kv.key.size();
    if (!kv.value.empty()) n += 1 + VarintSize(kv.value.size()) + kv.value.size();
    return n;
  };
  uint64_t value_bits;
  std::memcpy(&value_bits, &e.value, 8);
  size_t size = str_size(1, e.event_id) + str_size(2, e.member_id) +
                str_size(4, e.type) + str_size(5, e.account_id) +
                str_size(6, e.group_id) + str_size(7, e.channel);
  if (e.has_time) size += 1 + VarintSize(static_cast<uint64_t>(e.time));
  if (value_bits != 0) size += 9;
  for (const KeyValue& kv : e.attrs) {
    const size_t n = entry_size(kv);
    size += 1 + VarintSize(n) + n;
  }
  for (const KeyValue& kv : e.profile) {
    const size_t n = entry_size(kv);
    size += 1 + VarintSize(n) + n;
  }
  AppendVarint(out, size);
  auto put_str = [out](uint32_t field, std::string_view s) {
    if (s.empty()) return;
    AppendVarint(out, (field << 3) | kLengthDelimited);
    AppendVarint(out, s.size());
    out->append(s.data(), s.size());
  };
  put_str(1, e.event_id);
  put_str(2, e.member_id);
  if (e.has_time) {
    AppendVarint(out, (3 << 3) | kVarint);
    AppendVarint(out, static_cast<uint64_t>(e.time));
  }
  put_str(4, e.type);
  put_str(5, e.account_id);
  put_str(6, e.group_id);
  put_str(7, e.channel);
  if (value_bits != 0) {
    AppendVarint(out, (8 << 3) | kFixed64);
    char bytes[8];
    std::memcpy(bytes, &e.value, 8);
    out->append(bytes, 8);
  }
  auto put_map = [&](uint32_t field, absl::Span<const KeyValue> pairs) {
    for (const KeyValue& kv : pairs) {
      AppendVarint(out, (field << 3) | kLengthDelimited);
      AppendVarint(out, entry_size(kv));
      put_str(1, kv.key);
      put_str(2, kv.value);
    }
  };
  put_map(9, e.attrs);
  put_map(10, e.profile);
}

}  // namespace leadscore::io
