// JSON text for member views and changes.
#include "lib/io/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

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

void AppendKey(std::string* out, std::string_view key) {
  AppendJsonString(out, key);
  out->push_back(':');
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
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

void AppendJsonDouble(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end - buf);
}

void AppendJsonInt(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end - buf);
}

void AppendMemberLine(std::string* out, const Model& model,
                      const MemberView& view) {
  out->append("{\"member_id\":");
  AppendJsonString(out, view.member_id);
  out->append(",\"stage\":");
  if (view.stage >= 0) {
    AppendJsonString(out, model.stage_name(view.stage));
    out->append(",\"stage_since\":");
    AppendJsonInt(out, view.stage_since);
  } else {
    out->append("null,\"stage_since\":null");
  }
  out->append(",\"scores\":{");
  for (size_t i = 0; i < view.scores.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendKey(out, model.score_name(static_cast<int>(i)));
    AppendJsonDouble(out, view.scores[i]);
  }
  out->append("},\"tags\":[");
  std::vector<std::string_view> tags;
  tags.reserve(view.tags.size());
  for (int t : view.tags) tags.push_back(model.tag_name(t));
  std::sort(tags.begin(), tags.end());
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, tags[i]);
  }
  out->append("],\"counters\":{");
  for (size_t i = 0; i < view.counters.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendKey(out, model.counter_name(static_cast<int>(i)));
    AppendJsonInt(out, view.counters[i]);
  }
  out->append("},\"flags\":{");
  for (size_t i = 0; i < view.flags.size(); ++i) {
    const MemberView::Flag& f = view.flags[i];
    if (i > 0) out->push_back(',');
    AppendKey(out, model.flag_name(static_cast<int>(i)));
    out->append(f.armed ? "{\"armed\":true,\"raised\":"
                        : "{\"armed\":false,\"raised\":");
    AppendJsonInt(out, f.raised);
    out->append(",\"last_raised\":");
    if (f.has_last_raised) {
      AppendJsonInt(out, f.last_raised);
    } else {
      out->append("null");
    }
    out->push_back('}');
  }
  out->append("}}\n");
}

void AppendChangeLine(std::string* out, const Model& model,
                      const Change& change) {
  out->append("{\"member_id\":");
  AppendJsonString(out, change.member_id);
  out->append(",\"time\":");
  if (change.has_time) {
    AppendJsonInt(out, change.time);
  } else {
    out->append("null");
  }
  out->append(",\"kind\":");
  AppendJsonString(out, ChangeKindName(change.kind));
  switch (change.kind) {
    case ChangeKind::kTagAdded:
    case ChangeKind::kTagRemoved:
      out->append(",\"tag\":");
      AppendJsonString(out, model.tag_name(change.tag));
      break;
    case ChangeKind::kStageChanged:
      out->append(",\"from\":");
      AppendJsonString(out, model.stage_name(change.from_stage));
      out->append(",\"to\":");
      AppendJsonString(out, model.stage_name(change.to_stage));
      break;
    case ChangeKind::kFlagRaised:
      out->append(",\"flag\":");
      AppendJsonString(out, model.flag_name(change.flag));
      out->append(",\"scores\":{");
      for (size_t i = 0; i < change.scores.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendKey(out, model.score_name(static_cast<int>(i)));
        AppendJsonDouble(out, change.scores[i]);
      }
      out->append("},\"reasons\":[");
      for (size_t i = 0; i < change.reasons.size(); ++i) {
        const FlagReason& r = change.reasons[i];
        if (i > 0) out->push_back(',');
        out->append("{\"rule\":");
        AppendJsonString(out, model.contributor_name(r.contributor));
        out->append(",\"score\":");
        AppendJsonString(out, model.score_name(r.score));
        out->append(",\"points\":");
        AppendJsonDouble(out, r.points);
        out->push_back('}');
      }
      out->push_back(']');
      break;
    case ChangeKind::kFlagRearmed:
      out->append(",\"flag\":");
      AppendJsonString(out, model.flag_name(change.flag));
      break;
    case ChangeKind::kRejected:
      out->append(",\"event_id\":");
      AppendJsonString(out, change.event_id);
      out->append(",\"reason\":");
      AppendJsonString(out, RejectReasonName(change.reason));
      break;
  }
  out->append("}\n");
}

}  // namespace leadscore::io
