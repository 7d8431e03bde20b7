// JSON text for member views and changes.
#include "lib/io/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <cmath>
#include <vector>

#include "lib/base/bytes.h"

namespace leadscore::io {

namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence at s[i], or 0 when it is
// ill-formed; then *skip is the length of its maximal ill-formed prefix (at
// least 1), which becomes one U+FFFD.
size_t Utf8SequenceLength(std::string_view s, size_t i, size_t* skip) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *skip = 1;
    return 0;
  }
  size_t k = 1;
  for (; k < need && i + k < s.size(); ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (d >= lo && d <= hi) : IsContinuation(d);
    if (!ok) break;
  }
  if (k == need) return need;
  *skip = k;
  return 0;
}

// Appends `s` quoted, then `suffix` (if not 0), in one append, when `s` is
// short and every byte stands for itself in JSON (printable ASCII but '"' and
// '\\'): the same bytes as AppendJsonString. False (nothing appended)
// otherwise.
bool AppendPlainString(std::string* out, std::string_view s, char suffix) {
  constexpr size_t kMax = 64;
  if (s.size() > kMax) return false;
  char buf[kMax + 3];
  buf[0] = '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) return false;
    buf[i + 1] = static_cast<char>(c);
  }
  size_t n = s.size() + 1;
  buf[n++] = '"';
  if (suffix != 0) buf[n++] = suffix;
  out->append(buf, n);
  return true;
}

void AppendKey(std::string* out, std::string_view key) {
  if (AppendPlainString(out, key, ':')) return;
  AppendJsonString(out, key);
  out->push_back(':');
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  if (AppendPlainString(out, s, 0)) return;
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one go.
    size_t j = i;
    while (j < s.size()) {
      const unsigned char c = static_cast<unsigned char>(s[j]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++j;
    }
    out->append(s.data() + i, j - i);
    i = j;
    if (i == s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t skip = 0;
      const size_t len = Utf8SequenceLength(s, i, &skip);
      if (len > 0) {
        out->append(s.data() + i, len);
        i += len;
      } else {
        out->append(kReplacement);
        i += skip;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
    ++i;
  }
  out->push_back('"');
}

void AppendUtf8(std::string* out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && static_cast<unsigned char>(s[j]) < 0x80) ++j;
    out->append(s.data() + i, j - i);
    i = j;
    if (i == s.size()) break;
    size_t skip = 0;
    const size_t len = Utf8SequenceLength(s, i, &skip);
    if (len > 0) {
      out->append(s.data() + i, len);
      i += len;
    } else {
      out->append(kReplacement);
      i += skip;
    }
  }
}

namespace {

// What AppendJsonDouble appends, written at p (kDoubleRoom bytes of room);
// returns the end.
constexpr size_t kDoubleRoom = 32;
char* WriteJsonDouble(char* p, double v) {
  if (!std::isfinite(v)) {
    std::memcpy(p, "null", 4);
    return p + 4;
  }
  // A whole number below 1e5 in magnitude (but -0) is written by the
  // shortest form as that integer ("15", not "1.5e+01"); from 1e5 on the
  // exponent form can be shorter ("1e+05"). The integer conversion is
  // cheaper and gives the same bytes.
  if (std::fabs(v) < 1e5 && v == std::trunc(v) && !(v == 0 && std::signbit(v))) {
    return std::to_chars(p, p + kDoubleRoom, static_cast<int64_t>(v)).ptr;
  }
  return std::to_chars(p, p + kDoubleRoom, v).ptr;
}

// Whether every byte of `s` stands for itself in a JSON string (printable
// ASCII but '"' and '\\').
bool IsPlain(std::string_view s) {
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) return false;
  }
  return true;
}

}  // namespace

void AppendJsonDouble(std::string* out, double v) {
  char buf[kDoubleRoom];
  out->append(buf, WriteJsonDouble(buf, v) - buf);
}

void AppendJsonInt(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end - buf);
}

namespace {

// Text of one line gathered on the stack and appended to the string in a
// few large pieces instead of many small ones.
class LineBuf {
 public:
  explicit LineBuf(std::string* out) : out_(out) {}
  ~LineBuf() { Flush(); }
  LineBuf(const LineBuf&) = delete;
  LineBuf& operator=(const LineBuf&) = delete;

  void Flush() {
    out_->append(buf_, n_);
    n_ = 0;
  }
  void Put(std::string_view s) {
    if (s.size() > kCap - n_) {
      Flush();
      if (s.size() > kCap) {
        out_->append(s.data(), s.size());
        return;
      }
    }
    CopyBytes(buf_ + n_, s.data(), s.size());
    n_ += s.size();
  }
  void PutChar(char c) {
    Room(1);
    buf_[n_++] = c;
  }
  void PutInt(int64_t v) {
    Room(24);
    n_ = static_cast<size_t>(std::to_chars(buf_ + n_, buf_ + kCap, v).ptr - buf_);
  }
  // As AppendJsonDouble.
  void PutDouble(double v) {
    Room(kDoubleRoom);
    n_ = static_cast<size_t>(WriteJsonDouble(buf_ + n_, v) - buf_);
  }
  // As AppendJsonString (in the buffer when it is short and plain).
  void PutString(std::string_view s) {
    if (s.size() <= 64 && IsPlain(s)) {
      Room(s.size() + 2);
      buf_[n_++] = '"';
      CopyBytes(buf_ + n_, s.data(), s.size());
      n_ += s.size();
      buf_[n_++] = '"';
      return;
    }
    Flush();
    AppendJsonString(out_, s);
  }
  // As AppendKey.
  void PutKey(std::string_view s) {
    Flush();
    AppendKey(out_, s);
  }

 private:
  static constexpr size_t kCap = 448;
  void Room(size_t k) {
    if (kCap - n_ < k) Flush();
  }
  std::string* out_;
  size_t n_ = 0;
  char buf_[kCap];
};

// The model's names, escaped as they are written (every line).
struct LiveNames {
  const Model& model;
  void ScoreKey(LineBuf& b, int i) const { b.PutKey(model.score_name(i)); }
  void Score(LineBuf& b, int i) const { b.PutString(model.score_name(i)); }
  void CounterKey(LineBuf& b, int i) const { b.PutKey(model.counter_name(i)); }
  void FlagKey(LineBuf& b, int i) const { b.PutKey(model.flag_name(i)); }
  void Flag(LineBuf& b, int i) const { b.PutString(model.flag_name(i)); }
  void Tag(LineBuf& b, int i) const { b.PutString(model.tag_name(i)); }
  void Stage(LineBuf& b, int i) const { b.PutString(model.stage_name(i)); }
  void Contributor(LineBuf& b, int i) const {
    b.PutString(model.contributor_name(i));
  }
  // Tag indices in the bytewise order of their names.
  void SortTags(std::vector<int>* tags) const {
    std::sort(tags->begin(), tags->end(), [&](int a, int b) {
      return std::string_view(model.tag_name(a)) < std::string_view(model.tag_name(b));
    });
  }
};

}  // namespace

// The model's names escaped once (JsonLineWriter).
struct JsonLineWriter::Names {
  const JsonLineWriter& w;
  void ScoreKey(LineBuf& b, int i) const { b.Put(w.score_keys_[i]); }
  void Score(LineBuf& b, int i) const { b.Put(w.scores_[i]); }
  void CounterKey(LineBuf& b, int i) const { b.Put(w.counter_keys_[i]); }
  void FlagKey(LineBuf& b, int i) const { b.Put(w.flag_keys_[i]); }
  void Flag(LineBuf& b, int i) const { b.Put(w.flags_[i]); }
  void Tag(LineBuf& b, int i) const { b.Put(w.tags_[i]); }
  void Stage(LineBuf& b, int i) const { b.Put(w.stages_[i]); }
  void Contributor(LineBuf& b, int i) const { b.Put(w.contributors_[i]); }
  void SortTags(std::vector<int>* tags) const {
    std::sort(tags->begin(), tags->end(),
              [&](int a, int b) { return w.tag_rank_[a] < w.tag_rank_[b]; });
  }
};

namespace {

template <typename Names>
void MemberLine(std::string* out, const Names& names, const MemberView& view,
                std::vector<int>* tags) {
  LineBuf b(out);
  b.Put("{\"member_id\":");
  b.PutString(view.member_id);
  b.Put(",\"stage\":");
  if (view.stage >= 0) {
    names.Stage(b, view.stage);
    b.Put(",\"stage_since\":");
    b.PutInt(view.stage_since);
  } else {
    b.Put("null,\"stage_since\":null");
  }
  b.Put(",\"scores\":{");
  for (size_t i = 0; i < view.scores.size(); ++i) {
    if (i > 0) b.PutChar(',');
    names.ScoreKey(b, static_cast<int>(i));
    b.PutDouble(view.scores[i]);
  }
  b.Put("},\"tags\":[");
  tags->assign(view.tags.begin(), view.tags.end());
  names.SortTags(tags);
  for (size_t i = 0; i < tags->size(); ++i) {
    if (i > 0) b.PutChar(',');
    names.Tag(b, (*tags)[i]);
  }
  b.Put("],\"counters\":{");
  for (size_t i = 0; i < view.counters.size(); ++i) {
    if (i > 0) b.PutChar(',');
    names.CounterKey(b, static_cast<int>(i));
    b.PutInt(view.counters[i]);
  }
  b.Put("},\"flags\":{");
  for (size_t i = 0; i < view.flags.size(); ++i) {
    const MemberView::Flag& f = view.flags[i];
    if (i > 0) b.PutChar(',');
    names.FlagKey(b, static_cast<int>(i));
    b.Put(f.armed ? "{\"armed\":true,\"raised\":" : "{\"armed\":false,\"raised\":");
    b.PutInt(f.raised);
    b.Put(",\"last_raised\":");
    if (f.has_last_raised) {
      b.PutInt(f.last_raised);
    } else {
      b.Put("null");
    }
    b.PutChar('}');
  }
  b.Put("}}\n");
}

template <typename Names>
void ChangeLine(std::string* out, const Names& names, const Change& change) {
  LineBuf b(out);
  b.Put("{\"member_id\":");
  b.PutString(change.member_id);
  b.Put(",\"time\":");
  if (change.has_time) {
    b.PutInt(change.time);
  } else {
    b.Put("null");
  }
  b.Put(",\"kind\":");
  b.PutString(ChangeKindName(change.kind));
  switch (change.kind) {
    case ChangeKind::kTagAdded:
    case ChangeKind::kTagRemoved:
      b.Put(",\"tag\":");
      names.Tag(b, change.tag);
      break;
    case ChangeKind::kStageChanged:
      b.Put(",\"from\":");
      names.Stage(b, change.from_stage);
      b.Put(",\"to\":");
      names.Stage(b, change.to_stage);
      break;
    case ChangeKind::kFlagRaised:
      b.Put(",\"flag\":");
      names.Flag(b, change.flag);
      b.Put(",\"scores\":{");
      for (size_t i = 0; i < change.scores.size(); ++i) {
        if (i > 0) b.PutChar(',');
        names.ScoreKey(b, static_cast<int>(i));
        b.PutDouble(change.scores[i]);
      }
      b.Put("},\"reasons\":[");
      for (size_t i = 0; i < change.reasons.size(); ++i) {
        const FlagReason& r = change.reasons[i];
        if (i > 0) b.PutChar(',');
        b.Put("{\"rule\":");
        names.Contributor(b, r.contributor);
        b.Put(",\"score\":");
        names.Score(b, r.score);
        b.Put(",\"points\":");
        b.PutDouble(r.points);
        b.PutChar('}');
      }
      b.PutChar(']');
      break;
    case ChangeKind::kFlagRearmed:
      b.Put(",\"flag\":");
      names.Flag(b, change.flag);
      break;
    case ChangeKind::kRejected:
      b.Put(",\"event_id\":");
      b.PutString(change.event_id);
      b.Put(",\"reason\":");
      b.PutString(RejectReasonName(change.reason));
      break;
  }
  b.Put("}\n");
}

}  // namespace

void AppendMemberLine(std::string* out, const Model& model,
                      const MemberView& view) {
  std::vector<int> tags;
  MemberLine(out, LiveNames{model}, view, &tags);
}

void AppendChangeLine(std::string* out, const Model& model,
                      const Change& change) {
  ChangeLine(out, LiveNames{model}, change);
}

JsonLineWriter::JsonLineWriter(const Model& model) {
  auto quoted = [](std::string_view name) {
    std::string s;
    AppendJsonString(&s, name);
    return s;
  };
  auto key = [](std::string_view name) {
    std::string s;
    AppendKey(&s, name);
    return s;
  };
  for (int i = 0; i < model.num_scores(); ++i) {
    score_keys_.push_back(key(model.score_name(i)));
    scores_.push_back(quoted(model.score_name(i)));
  }
  for (int i = 0; i < model.num_counters(); ++i) {
    counter_keys_.push_back(key(model.counter_name(i)));
  }
  for (int i = 0; i < model.num_flags(); ++i) {
    flag_keys_.push_back(key(model.flag_name(i)));
    flags_.push_back(quoted(model.flag_name(i)));
  }
  std::vector<int> order;
  for (int i = 0; i < model.num_tags(); ++i) {
    tags_.push_back(quoted(model.tag_name(i)));
    order.push_back(i);
  }
  LiveNames{model}.SortTags(&order);
  tag_rank_.resize(order.size());
  for (size_t r = 0; r < order.size(); ++r) tag_rank_[order[r]] = static_cast<int>(r);
  for (int i = 0; i < model.num_stages(); ++i) stages_.push_back(quoted(model.stage_name(i)));
  for (int i = 0; i < model.num_contributors(); ++i) {
    contributors_.push_back(quoted(model.contributor_name(i)));
  }
}

void JsonLineWriter::AppendMemberLine(std::string* out, const MemberView& view) {
  MemberLine(out, Names{*this}, view, &tags_scratch_);
}

void JsonLineWriter::AppendChangeLine(std::string* out, const Change& change) const {
  ChangeLine(out, Names{*this}, change);
}

}  // namespace leadscore::io
