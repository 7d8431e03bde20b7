// A small JSON value tree for the reports of the analysis commands (diff,
// validate): built in memory, then written indented, with an object or array
// that holds only scalars (and fits in the line) kept on one line.
#ifndef LEADSCORE_TOOLS_JSON_VALUE_H_
#define LEADSCORE_TOOLS_JSON_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/io/json_writer.h"

namespace leadscore::cli {

class JsonValue {
 public:
  enum class Kind { kScalar, kObject, kArray };

  JsonValue() : kind_(Kind::kScalar), text_("null") {}
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Object() { return JsonValue(Kind::kObject); }
  static JsonValue Array() { return JsonValue(Kind::kArray); }
  static JsonValue String(std::string_view s) {
    JsonValue v;
    v.text_.clear();
    io::AppendJsonString(&v.text_, s);
    return v;
  }
  static JsonValue Number(double d) {
    JsonValue v;
    v.text_.clear();
    io::AppendJsonDouble(&v.text_, d);
    return v;
  }
  static JsonValue Int(int64_t i) {
    JsonValue v;
    v.text_.clear();
    io::AppendJsonInt(&v.text_, i);
    return v;
  }
  static JsonValue Bool(bool b) {
    JsonValue v;
    v.text_ = b ? "true" : "false";
    return v;
  }

  // Objects: adds a member (keys keep their order). Returns the new value.
  JsonValue& Set(std::string_view key, JsonValue value) {
    members_.emplace_back(std::string(key), std::move(value));
    return members_.back().second;
  }
  // Arrays: appends an element. Returns it.
  JsonValue& Add(JsonValue value) {
    items_.push_back(std::move(value));
    return items_.back();
  }

  // Indented text, ending with a newline.
  std::string Write() const {
    std::string out;
    WriteTo(&out, 0);
    out += '\n';
    return out;
  }

 private:
  explicit JsonValue(Kind kind) : kind_(kind) {}

  bool Empty() const { return members_.empty() && items_.empty(); }
  // Only scalars and empty containers inside.
  bool Flat() const {
    for (const auto& [k, v] : members_) {
      if (v.kind_ != Kind::kScalar && !v.Empty()) return false;
    }
    for (const JsonValue& v : items_) {
      if (v.kind_ != Kind::kScalar && !v.Empty()) return false;
    }
    return true;
  }
  void WriteCompact(std::string* out) const {
    if (kind_ == Kind::kScalar) {
      *out += text_;
      return;
    }
    const bool object = kind_ == Kind::kObject;
    *out += object ? '{' : '[';
    bool first = true;
    if (object) {
      for (const auto& [k, v] : members_) {
        if (!first) *out += ", ";
        first = false;
        io::AppendJsonString(out, k);
        *out += ": ";
        v.WriteCompact(out);
      }
    } else {
      for (const JsonValue& v : items_) {
        if (!first) *out += ", ";
        first = false;
        v.WriteCompact(out);
      }
    }
    *out += object ? '}' : ']';
  }
  void WriteTo(std::string* out, int indent) const {
    if (kind_ == Kind::kScalar || Flat()) {
      std::string line;
      WriteCompact(&line);
      if (kind_ == Kind::kScalar || line.size() + indent <= 100) {
        *out += line;
        return;
      }
    }
    const bool object = kind_ == Kind::kObject;
    const size_t n = object ? members_.size() : items_.size();
    if (n == 0) {
      *out += object ? "{}" : "[]";
      return;
    }
    *out += object ? "{\n" : "[\n";
    const std::string pad(indent + 2, ' ');
    for (size_t i = 0; i < n; ++i) {
      *out += pad;
      if (object) {
        io::AppendJsonString(out, members_[i].first);
        *out += ": ";
        members_[i].second.WriteTo(out, indent + 2);
      } else {
        items_[i].WriteTo(out, indent + 2);
      }
      if (i + 1 < n) *out += ',';
      *out += '\n';
    }
    *out += std::string(indent, ' ');
    *out += object ? '}' : ']';
  }

  Kind kind_;
  std::string text_;  // scalars
  std::vector<std::pair<std::string, JsonValue>> members_;
  std::vector<JsonValue> items_;
};

}  // namespace leadscore::cli

#endif  // LEADSCORE_TOOLS_JSON_VALUE_H_
