// Field positions for model files in protobuf text format and protobuf JSON.
#include "lib/model/source_map.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace leadscore::internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::TextFormat;

bool IsIdent(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Skips white space and, in text format, '#' comments.
size_t SkipSpace(const std::string& s, size_t i, bool comments) {
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
      ++i;
    } else if (comments && c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else {
      break;
    }
  }
  return i;
}

// From an opening quote, returns the offset just past the closing quote.
size_t SkipQuoted(const std::string& s, size_t i) {
  char q = s[i++];
  while (i < s.size() && s[i] != q && s[i] != '\n') {
    if (s[i] == '\\') ++i;
    ++i;
  }
  return std::min(s.size(), i + 1);
}

// Skips one text-format scalar value (adjacent string literals count as one).
size_t SkipTextScalar(const std::string& s, size_t i) {
  if (i < s.size() && (s[i] == '"' || s[i] == '\'')) {
    while (i < s.size() && (s[i] == '"' || s[i] == '\'')) {
      i = SkipQuoted(s, i);
      size_t j = SkipSpace(s, i, true);
      if (j < s.size() && (s[j] == '"' || s[j] == '\'')) i = j; else break;
    }
    return i;
  }
  while (i < s.size() && s[i] != ',' && s[i] != ']' && s[i] != '}' &&
         s[i] != '\n' && s[i] != ' ') {
    ++i;
  }
  return i;
}

class LineIndex {
 public:
  explicit LineIndex(const std::string& s) : s_(s) {
    starts_.push_back(0);
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n') starts_.push_back(i + 1);
    }
  }
  // Protobuf's tokenizer counts a tab as advancing to the next multiple of 8.
  size_t Offset(int line0, int col0) const {
    if (line0 < 0 || static_cast<size_t>(line0) >= starts_.size()) return 0;
    size_t i = starts_[line0];
    int col = 0;
    while (i < s_.size() && s_[i] != '\n' && col < col0) {
      col = s_[i] == '\t' ? col + 8 - col % 8 : col + 1;
      ++i;
    }
    return i;
  }

 private:
  const std::string& s_;
  std::vector<size_t> starts_;
};

struct TextWalker {
  const std::string& text;
  LineIndex lines;
  absl::flat_hash_map<std::string, size_t>* keys;
  absl::flat_hash_map<std::string, size_t>* values;

  // Offset of the value after "name:" at `key`; for a list, its k-th element.
  size_t ValueAfterKey(size_t key, int k) const {
    size_t i = key;
    while (i < text.size() && IsIdent(text[i])) ++i;
    i = SkipSpace(text, i, true);
    if (i < text.size() && text[i] == ':') i = SkipSpace(text, i + 1, true);
    if (i < text.size() && text[i] == '[') {
      i = SkipSpace(text, i + 1, true);
      for (int e = 0; e < k && i < text.size() && text[i] != ']'; ++e) {
        i = SkipSpace(text, SkipTextScalar(text, i), true);
        if (i < text.size() && text[i] == ',') i = SkipSpace(text, i + 1, true);
      }
    }
    return i;
  }

  void Walk(const Message& msg, const TextFormat::ParseInfoTree* tree,
            const std::string& prefix) {
    if (tree == nullptr) return;
    const Reflection* r = msg.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r->ListFields(msg, &fields);
    for (const FieldDescriptor* f : fields) {
      bool is_msg = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
      if (!f->is_repeated()) {
        std::string path = absl::StrCat(prefix, f->name());
        auto loc = tree->GetLocation(f, -1);
        if (loc.line < 0) continue;
        size_t key = lines.Offset(loc.line, loc.column);
        (*keys)[path] = key;
        (*values)[path] = is_msg ? key : ValueAfterKey(key, 0);
        if (is_msg) {
          Walk(r->GetMessage(msg, f), tree->GetTreeForNested(f, -1),
               path + ".");
        }
        continue;
      }
      int n = r->FieldSize(msg, f);
      int last_valid = -1;
      size_t last_key = 0;
      for (int i = 0; i < n; ++i) {
        std::string path = absl::StrCat(prefix, f->name(), "[", i, "]");
        auto loc = tree->GetLocation(f, i);
        if (loc.line >= 0) {
          last_valid = i;
          last_key = lines.Offset(loc.line, loc.column);
        }
        if (last_valid < 0) continue;
        (*keys)[path] = last_key;
        if (is_msg) {
          (*values)[path] = last_key;
          Walk(r->GetRepeatedMessage(msg, f, i),
               tree->GetTreeForNested(f, i), path + ".");
        } else {
          (*values)[path] = ValueAfterKey(last_key, i - last_valid);
        }
      }
    }
  }
};

// Records JSON object members and array elements by path.
struct JsonWalker {
  const std::string& s;
  absl::flat_hash_map<std::string, size_t>* keys;
  absl::flat_hash_map<std::string, size_t>* values;
  int depth = 0;

  static std::string Normalize(std::string_view key) {
    std::string out;
    for (char c : key) {
      if (std::isupper(static_cast<unsigned char>(c))) {
        out.push_back('_');
        out.push_back(static_cast<char>(std::tolower(c)));
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  // Where to go on after a value that started at `from` and ended at `to`:
  // at least one byte further. Text that the protobuf parser accepts but
  // this walker does not follow (say a string with a raw line break) must
  // not stop a loop over array elements from moving on.
  static size_t Progress(size_t from, size_t to) { return to > from ? to : from + 1; }

  // Parses the value at i; returns the offset after it (s.size() on error).
  size_t Value(size_t i, const std::string& path) {
    if (++depth > 200) return s.size();
    i = SkipSpace(s, i, false);
    if (i >= s.size()) return i;
    size_t end;
    if (s[i] == '{') {
      i = SkipSpace(s, i + 1, false);
      while (i < s.size() && s[i] != '}') {
        if (s[i] != '"') { end = s.size(); --depth; return end; }
        size_t key_at = i;
        size_t key_end = SkipQuoted(s, i);
        std::string key = Normalize(s.substr(i + 1, key_end - i - 2));
        i = SkipSpace(s, key_end, false);
        if (i < s.size() && s[i] == ':') ++i;
        i = SkipSpace(s, i, false);
        std::string child = path.empty() ? key : absl::StrCat(path, ".", key);
        (*keys)[child] = key_at;
        if (i < s.size() && s[i] == '[') {
          // Repeated field: elements are child[k].
          size_t j = SkipSpace(s, i + 1, false);
          int k = 0;
          while (j < s.size() && s[j] != ']') {
            std::string elem = absl::StrCat(child, "[", k, "]");
            (*keys)[elem] = j;
            (*values)[elem] = j;
            j = SkipSpace(s, Progress(j, Value(j, elem)), false);
            if (j < s.size() && s[j] == ',') j = SkipSpace(s, j + 1, false);
            ++k;
          }
          (*values)[child] = i;
          i = std::min(s.size(), j + 1);
        } else {
          (*values)[child] = i;
          i = Value(i, child);
        }
        i = SkipSpace(s, i, false);
        if (i < s.size() && s[i] == ',') i = SkipSpace(s, i + 1, false);
      }
      end = std::min(s.size(), i + 1);
    } else if (s[i] == '[') {
      size_t j = SkipSpace(s, i + 1, false);
      while (j < s.size() && s[j] != ']') {
        j = SkipSpace(s, Progress(j, Value(j, path)), false);
        if (j < s.size() && s[j] == ',') j = SkipSpace(s, j + 1, false);
      }
      end = std::min(s.size(), j + 1);
    } else if (s[i] == '"') {
      end = SkipQuoted(s, i);
    } else {
      end = i;
      while (end < s.size() && s[end] != ',' && s[end] != '}' &&
             s[end] != ']' && !std::isspace(static_cast<unsigned char>(s[end]))) {
        ++end;
      }
    }
    --depth;
    return end;
  }
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Utf8Length(unsigned cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

}  // namespace

SourceMap SourceMap::ForText(std::string text, const Message& msg,
                             const void* info) {
  SourceMap map;
  map.syntax_ = Syntax::kText;
  map.text_ = std::move(text);
  absl::flat_hash_map<std::string, size_t> keys, values;
  TextWalker walker{map.text_, LineIndex(map.text_), &keys, &values};
  walker.Walk(msg, static_cast<const TextFormat::ParseInfoTree*>(info), "");
  for (const auto& [path, key] : keys) {
    map.entries_[path] = Entry{key, values.count(path) ? values[path] : key};
  }
  return map;
}

SourceMap SourceMap::ForJson(std::string text) {
  SourceMap map;
  map.syntax_ = Syntax::kJson;
  map.text_ = std::move(text);
  absl::flat_hash_map<std::string, size_t> keys, values;
  JsonWalker walker{map.text_, &keys, &values};
  walker.Value(0, "");
  for (const auto& [path, key] : keys) {
    map.entries_[path] = Entry{key, values.count(path) ? values[path] : key};
  }
  return map;
}

SourcePos SourceMap::PosOf(size_t offset) const {
  SourcePos pos{1, 1};
  offset = std::min(offset, text_.size());
  for (size_t i = 0; i < offset; ++i) {
    if (text_[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

const SourceMap::Entry* SourceMap::Find(std::string_view path) const {
  std::string p(path);
  while (!p.empty()) {
    auto it = entries_.find(p);
    if (it != entries_.end()) return &it->second;
    size_t cut = p.find_last_of(".[");
    if (cut == std::string::npos) break;
    p.resize(cut);
  }
  return nullptr;
}

SourcePos SourceMap::Field(std::string_view path) const {
  const Entry* e = Find(path);
  return e == nullptr ? SourcePos{} : PosOf(e->key);
}

SourcePos SourceMap::InString(std::string_view path, int offset) const {
  auto it = entries_.find(std::string(path));
  if (it == entries_.end()) return Field(path);
  size_t i = it->second.value;
  if (i >= text_.size() || (text_[i] != '"' && text_[i] != '\'')) {
    return PosOf(it->second.key);
  }
  // Walk the literal, decoding escapes, until `offset` bytes are consumed.
  char quote = text_[i++];
  int consumed = 0;
  while (i < text_.size() && consumed < offset) {
    char c = text_[i];
    if (c == quote) {
      // Text format: adjacent literals continue the same string.
      size_t j = syntax_ == Syntax::kText ? SkipSpace(text_, i + 1, true) : i;
      if (syntax_ == Syntax::kText && j < text_.size() &&
          (text_[j] == '"' || text_[j] == '\'')) {
        quote = text_[j];
        i = j + 1;
        continue;
      }
      break;
    }
    if (c != '\\') {
      ++i;
      ++consumed;
      continue;
    }
    if (i + 1 >= text_.size()) break;
    char e = text_[i + 1];
    if (e == 'u' && i + 5 < text_.size()) {
      unsigned cp = 0;
      for (int k = 2; k < 6; ++k) cp = cp * 16 + std::max(0, HexValue(text_[i + k]));
      i += 6;
      if (cp >= 0xD800 && cp < 0xDC00 && i + 5 < text_.size() &&
          text_[i] == '\\' && text_[i + 1] == 'u') {
        i += 6;  // low surrogate: one 4-byte character together
        consumed += 4;
      } else {
        consumed += Utf8Length(cp);
      }
    } else if (e == 'x' && syntax_ == Syntax::kText) {
      i += 2;
      for (int k = 0; k < 2 && i < text_.size() && HexValue(text_[i]) >= 0; ++k) ++i;
      ++consumed;
    } else if (e >= '0' && e <= '7' && syntax_ == Syntax::kText) {
      i += 1;
      for (int k = 0; k < 3 && i < text_.size() && text_[i] >= '0' && text_[i] <= '7'; ++k) ++i;
      ++consumed;
    } else {
      i += 2;
      ++consumed;
    }
  }
  return PosOf(i);
}

}  // namespace leadscore::internal
