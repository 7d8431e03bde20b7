// Where each field of a model file stands in its text, so that the compiler
// can point every problem at file:line:col, down to a token inside a condition.
// Fields are named by paths such as "rule[5].when" or
// "lifecycle.transition[2].from[1]" (proto field names, 0-based indices).
#ifndef LEADSCORE_LIB_MODEL_SOURCE_MAP_H_
#define LEADSCORE_LIB_MODEL_SOURCE_MAP_H_

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace google::protobuf {
class Message;
}

namespace leadscore::internal {

struct SourcePos {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based, in bytes
};

class SourceMap {
 public:
  enum class Syntax { kNone, kText, kJson };

  SourceMap() = default;
  // Records positions for a message parsed from protobuf text format.
  // `info` is the parser's ParseInfoTree (passed as void* to keep protobuf's
  // nested type out of this header).
  static SourceMap ForText(std::string text, const google::protobuf::Message& msg,
                           const void* info);
  // Records positions for protobuf JSON text (any valid JSON).
  static SourceMap ForJson(std::string text);

  // Position of the field (its name in text format, its key in JSON), or of
  // the nearest enclosing field that has one; {0,0} when nothing is known.
  SourcePos Field(std::string_view path) const;
  // Position of byte `offset` of the decoded string value at `path`
  // (offset 0 = the first character after the opening quote).
  SourcePos InString(std::string_view path, int offset) const;

 private:
  struct Entry {
    size_t key = 0;    // byte offset of the field name / JSON key
    size_t value = 0;  // byte offset of the value's first character
  };
  SourcePos PosOf(size_t offset) const;
  const Entry* Find(std::string_view path) const;

  Syntax syntax_ = Syntax::kNone;
  std::string text_;
  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace leadscore::internal

#endif  // LEADSCORE_LIB_MODEL_SOURCE_MAP_H_
