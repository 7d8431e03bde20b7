// JSON Lines records with simdjson (DOM parser, one line at a time).
#include "lib/io/jsonl_reader.h"

#include <charconv>
#include <cstring>
#include <deque>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/base/strings.h"
#include "lib/io/time_parse.h"
#include "simdjson.h"

namespace leadscore::io {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

enum class Field : uint8_t {
  kUnknown, kEventId, kMemberId, kTime, kType, kValue, kAccountId, kGroupId,
  kChannel, kAttrs, kProfile,
};

Field FieldOf(std::string_view key) {
  switch (key.size()) {
    case 4:
      if (key == "time") return Field::kTime;
      if (key == "type") return Field::kType;
      break;
    case 5:
      if (key == "value") return Field::kValue;
      if (key == "attrs") return Field::kAttrs;
      break;
    case 7:
      if (key == "channel") return Field::kChannel;
      if (key == "profile") return Field::kProfile;
      break;
    case 8:
      if (key == "event_id") return Field::kEventId;
      if (key == "group_id") return Field::kGroupId;
      break;
    case 9:
      if (key == "member_id") return Field::kMemberId;
      break;
    case 10:
      if (key == "account_id") return Field::kAccountId;
      break;
  }
  return Field::kUnknown;
}

bool IsBlank(const char* b, const char* e) {
  for (; b < e; ++b) {
    if (*b != ' ' && *b != '\t' && *b != '\r') return false;
  }
  return true;
}

// Copies a JSON text with ".0" after each integer that does not fit in 64
// bits (simdjson's DOM parser fails on those, with NUMBER_ERROR, where JSON
// has a number): they then read as doubles, like 1e20. Strings are copied
// as they are. False when there is no such integer.
bool WidenBigIntegers(const char* json, size_t len, std::string* out) {
  static constexpr std::string_view kMinInt64 = "9223372036854775808";    // digits of -2^63
  static constexpr std::string_view kMaxUint64 = "18446744073709551615";  // 2^64 - 1
  out->clear();
  size_t copied = 0;
  size_t i = 0;
  bool in_string = false;
  while (i < len) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        i += 2;
        continue;
      }
      in_string = c != '"';
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      ++i;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      ++i;
      continue;
    }
    // A number: its digits, then whatever else it has (a fraction, an
    // exponent: then simdjson reads it as a double).
    const bool negative = c == '-';
    const size_t digits = negative ? i + 1 : i;
    size_t e = digits;
    while (e < len && json[e] >= '0' && json[e] <= '9') ++e;
    const std::string_view d(json + digits, e - digits);
    bool is_integer = true;
    while (e < len && ((json[e] >= '0' && json[e] <= '9') || json[e] == '.' || json[e] == 'e' ||
                       json[e] == 'E' || json[e] == '+' || json[e] == '-')) {
      is_integer = false;
      ++e;
    }
    const std::string_view limit = negative ? kMinInt64 : kMaxUint64;
    if (is_integer && !d.empty() && d[0] != '0' &&
        (d.size() > limit.size() || (d.size() == limit.size() && d > limit))) {
      out->append(json + copied, e - copied);
      out->append(".0");
      copied = e;
    }
    i = e;
  }
  if (copied == 0) return false;
  out->append(json + copied, len - copied);
  return true;
}

// Reads one line's object into a RawEvent.
class LineReader {
 public:
  void Read(const char* json, size_t len, RawEvent* ev, JsonlSink* sink) {
    used_texts_ = 0;
    element doc;
    simdjson::error_code err = parser_.parse(json, len, false).get(doc);
    if (err == simdjson::NUMBER_ERROR && WidenBigIntegers(json, len, &widened_)) {
      const size_t n = widened_.size();
      widened_.append(simdjson::SIMDJSON_PADDING, ' ');
      if (parser_.parse(widened_.data(), n, false).get(doc) == simdjson::SUCCESS) {
        err = simdjson::SUCCESS;
      }
    }
    if (err != simdjson::SUCCESS) {
      ev->error = err == simdjson::UTF8_ERROR
                      ? std::string("not valid UTF-8")
                      : absl::StrCat("bad JSON: ", simdjson::error_message(err));
      return;
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) {
      ev->error = "not a JSON object";
      return;
    }
    for (const simdjson::dom::key_value_pair& kv : obj) {
      const element& v = kv.value;
      switch (FieldOf(kv.key)) {
        case Field::kUnknown:
          sink->UnknownField(kv.key, ev->line);
          break;
        case Field::kEventId:
          String(kv.key, v, &ev->event_id, ev);
          break;
        case Field::kMemberId:
          String(kv.key, v, &ev->member_id, ev);
          break;
        case Field::kType:
          String(kv.key, v, &ev->type, ev);
          break;
        case Field::kAccountId:
          String(kv.key, v, &ev->account_id, ev);
          break;
        case Field::kGroupId:
          String(kv.key, v, &ev->group_id, ev);
          break;
        case Field::kChannel:
          String(kv.key, v, &ev->channel, ev);
          break;
        case Field::kTime:
          Time(v, ev);
          break;
        case Field::kValue:
          Value(v, ev);
          break;
        case Field::kAttrs:
          Pairs(kv.key, v, &ev->attrs, ev);
          break;
        case Field::kProfile:
          Pairs(kv.key, v, &ev->profile, ev);
          break;
      }
    }
    if (!ev->error.empty()) return;
    if (ev->member_id.empty()) {
      ev->error = "empty member_id";
    } else if (!ev->has_time) {
      ev->error = "no time";
    }
  }

 private:
  static void Fail(RawEvent* ev, std::string message) {
    if (ev->error.empty()) ev->error = std::move(message);
  }

  static std::string_view TypeName(element_type t) {
    switch (t) {
      case element_type::ARRAY: return "an array";
      case element_type::OBJECT: return "an object";
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE: return "a number";
      case element_type::STRING: return "a string";
      case element_type::BOOL: return "a boolean";
      case element_type::NULL_VALUE: return "null";
    }
    return "something else";
  }

  void String(std::string_view key, const element& v, std::string_view* out,
              RawEvent* ev) {
    const element_type t = v.type();
    if (t == element_type::NULL_VALUE) {
      *out = {};
    } else if (t == element_type::STRING) {
      *out = std::string_view(v.get_string().value_unsafe());
    } else {
      Fail(ev, absl::StrCat(AsAbsl(key), ": expected a string, not ",
                            AsAbsl(TypeName(t))));
    }
  }

  void Time(const element& v, RawEvent* ev) {
    switch (v.type()) {
      case element_type::NULL_VALUE:
        ev->has_time = false;
        return;
      case element_type::INT64:
        ev->has_time = true;
        ev->time = v.get_int64().value_unsafe();
        return;
      case element_type::STRING: {
        const std::string_view text = v.get_string().value_unsafe();
        if (auto t = ParseTimeMillis(text); t.ok()) {
          ev->has_time = true;
          ev->time = *t;
        } else {
          ev->has_time = false;
          Fail(ev, absl::StrCat("bad time ", ShowCell(text), ": ",
                                t.status().message()));
        }
        return;
      }
      default:
        ev->has_time = false;
        Fail(ev, absl::StrCat(
                     "bad time: expected whole milliseconds or an RFC 3339 "
                     "string, not ",
                     AsAbsl(TypeName(v.type())),
                     v.type() == element_type::DOUBLE ||
                             v.type() == element_type::UINT64
                         ? " out of range or with a fraction"
                         : ""));
    }
  }

  void Value(const element& v, RawEvent* ev) {
    switch (v.type()) {
      case element_type::NULL_VALUE:
        ev->value = 0;
        return;
      case element_type::INT64:
        ev->value = static_cast<double>(v.get_int64().value_unsafe());
        return;
      case element_type::UINT64:
        ev->value = static_cast<double>(v.get_uint64().value_unsafe());
        return;
      case element_type::DOUBLE:
        ev->value = v.get_double().value_unsafe();
        return;
      case element_type::STRING: {
        const std::string_view text = v.get_string().value_unsafe();
        if (!ParseValueText(text, &ev->value)) {
          ev->value = 0;
          Fail(ev, absl::StrCat("bad value ", ShowCell(text), ": not a number"));
        }
        return;
      }
      default:
        ev->value = 0;
        Fail(ev, absl::StrCat("bad value: expected a number, not ",
                              AsAbsl(TypeName(v.type()))));
    }
  }

  // Text kept for the record being read (numbers given as attributes).
  std::string_view Keep(std::string_view s) {
    if (used_texts_ == texts_.size()) texts_.emplace_back();
    std::string& t = texts_[used_texts_++];
    t.assign(s.data(), s.size());
    return t;
  }

  void Pairs(std::string_view key, const element& v, std::vector<KeyValue>* out,
             RawEvent* ev) {
    const element_type t = v.type();
    if (t == element_type::NULL_VALUE) return;
    if (t != element_type::OBJECT) {
      Fail(ev, absl::StrCat(AsAbsl(key), ": expected an object, not ",
                            AsAbsl(TypeName(t))));
      return;
    }
    simdjson::dom::object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS) return;
    for (const simdjson::dom::key_value_pair& kv : obj) {
      const element& x = kv.value;
      char buf[32];
      switch (x.type()) {
        case element_type::NULL_VALUE:
          break;
        case element_type::STRING:
          out->push_back({kv.key, std::string_view(x.get_string().value_unsafe())});
          break;
        case element_type::BOOL:
          out->push_back({kv.key, x.get_bool().value_unsafe() ? "true" : "false"});
          break;
        case element_type::INT64: {
          auto r = std::to_chars(buf, buf + sizeof(buf), x.get_int64().value_unsafe());
          out->push_back({kv.key, Keep(std::string_view(buf, r.ptr - buf))});
          break;
        }
        case element_type::UINT64: {
          auto r = std::to_chars(buf, buf + sizeof(buf), x.get_uint64().value_unsafe());
          out->push_back({kv.key, Keep(std::string_view(buf, r.ptr - buf))});
          break;
        }
        case element_type::DOUBLE: {
          auto r = std::to_chars(buf, buf + sizeof(buf), x.get_double().value_unsafe());
          out->push_back({kv.key, Keep(std::string_view(buf, r.ptr - buf))});
          break;
        }
        default:
          Fail(ev, absl::StrCat(AsAbsl(key), ".", AsAbsl(kv.key),
                                ": expected a string, not ",
                                AsAbsl(TypeName(x.type()))));
      }
    }
  }

  simdjson::dom::parser parser_;
  std::string widened_;  // the line with its big integers widened
  std::deque<std::string> texts_;
  size_t used_texts_ = 0;
};

}  // namespace

JsonlFile::JsonlFile(std::string_view data) : data_(data) {
  if (data.size() >= 3 && std::memcmp(data.data(), "\xEF\xBB\xBF", 3) == 0) {
    data_begin_ = 3;
  }
}

size_t JsonlFile::ParseRange(size_t begin, size_t limit, JsonlSink* sink,
                             int64_t* newlines) const {
  LineReader reader;
  RawEvent ev;
  std::string padded;
  const char* d = data_.data();
  const size_t e = data_.size();
  size_t p = begin;
  int64_t nl = 0;
  while (p < limit && p < e) {
    const char* q = static_cast<const char*>(std::memchr(d + p, '\n', e - p));
    const size_t line_end = q == nullptr ? e : static_cast<size_t>(q - d);
    const size_t next = q == nullptr ? e : line_end + 1;
    if (!IsBlank(d + p, d + line_end)) {
      ev.Clear();
      ev.line = nl;
      ev.offset = static_cast<int64_t>(p);
      const size_t len = line_end - p;
      // simdjson reads up to SIMDJSON_PADDING bytes past the text: the next
      // lines serve, except at the end of the input.
      if (line_end + simdjson::SIMDJSON_PADDING <= e) {
        reader.Read(d + p, len, &ev, sink);
      } else {
        padded.assign(d + p, len);
        padded.append(simdjson::SIMDJSON_PADDING, ' ');
        reader.Read(padded.data(), len, &ev, sink);
      }
      sink->Add(ev);
    }
    if (q != nullptr) ++nl;
    p = next;
  }
  *newlines = nl;
  return p;
}

}  // namespace leadscore::io
