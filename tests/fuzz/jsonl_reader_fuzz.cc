// libFuzzer target: the JSON Lines event reader (lib/io/jsonl_reader.h,
// simdjson). The input is the log. Checks, each aborting on a disagreement:
//  * one pass reads to the end of the input and counts its line breaks;
//  * the log read in parts, split at line breaks as the batch job splits
//    it, gives the records and unknown fields of one pass;
//  * every good record, written back as a JSON line (json_writer.h strings
//    and numbers), reads back as the same record;
//  * the batch job gives the same bytes with one part or small parts, and
//    with one thread or two.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lib/io/json_writer.h"
#include "lib/io/jsonl_reader.h"
#include "tests/fuzz/reader_util.h"

namespace {

using leadscore::KeyValue;
using leadscore::fuzz::CollectSink;
using leadscore::fuzz::ExpectSame;
using leadscore::io::JsonlFile;
using leadscore::io::RawEvent;

// Keeps copies of the good records (RawEvent views die with the call).
class KeepSink : public leadscore::io::JsonlSink {
 public:
  struct Kept {
    std::vector<std::string> strings;  // event_id, member_id, type, account, group, channel
    bool has_time = false;
    int64_t time = 0;
    double value = 0;
    std::vector<std::pair<std::string, std::string>> attrs, profile;
  };
  void Add(const RawEvent& e) override {
    if (!e.ok()) return;
    Kept k;
    for (std::string_view s : {e.event_id, e.member_id, e.type, e.account_id, e.group_id,
                               e.channel}) {
      k.strings.emplace_back(s);
    }
    k.has_time = e.has_time;
    k.time = e.time;
    k.value = e.value;
    for (const KeyValue& kv : e.attrs) k.attrs.emplace_back(kv.key, kv.value);
    for (const KeyValue& kv : e.profile) k.profile.emplace_back(kv.key, kv.value);
    kept.push_back(std::move(k));
    texts.push_back(Text(e));
  }
  void UnknownField(std::string_view, int64_t) override {}

  // A record without its place, NaN and zero made canonical (a value read
  // back from JSON keeps neither a NaN payload nor the sign of a zero).
  static std::string Text(const RawEvent& e) {
    RawEvent c;
    c.error = e.error;
    c.event_id = e.event_id;
    c.member_id = e.member_id;
    c.has_time = e.has_time;
    c.time = e.time;
    c.type = e.type;
    c.account_id = e.account_id;
    c.group_id = e.group_id;
    c.channel = e.channel;
    c.value = std::isnan(e.value) ? std::numeric_limits<double>::quiet_NaN()
              : e.value == 0      ? 0.0
                                  : e.value;
    c.attrs = e.attrs;
    c.profile = e.profile;
    return leadscore::fuzz::RecordText(c, 0);
  }

  std::vector<Kept> kept;
  std::vector<std::string> texts;
};

// A good record as one JSON line.
std::string JsonLine(const KeepSink::Kept& k) {
  static const char* const kNames[] = {"event_id",   "member_id", "type",
                                       "account_id", "group_id",  "channel"};
  std::string out = "{";
  for (size_t i = 0; i < k.strings.size(); ++i) {
    leadscore::io::AppendJsonString(&out, kNames[i]);
    out += ':';
    leadscore::io::AppendJsonString(&out, k.strings[i]);
    out += ',';
  }
  out += "\"time\":";
  if (k.has_time) {
    leadscore::io::AppendJsonInt(&out, k.time);
  } else {
    out += "null";
  }
  out += ",\"value\":";
  if (std::isfinite(k.value)) {
    leadscore::io::AppendJsonDouble(&out, k.value);
  } else {
    out += std::isnan(k.value) ? "\"nan\"" : k.value > 0 ? "\"inf\"" : "\"-inf\"";
  }
  for (const auto* pairs : {&k.attrs, &k.profile}) {
    out += pairs == &k.attrs ? ",\"attrs\":{" : ",\"profile\":{";
    for (size_t i = 0; i < pairs->size(); ++i) {
      if (i > 0) out += ',';
      leadscore::io::AppendJsonString(&out, (*pairs)[i].first);
      out += ':';
      leadscore::io::AppendJsonString(&out, (*pairs)[i].second);
    }
    out += '}';
  }
  return out + "}\n";
}

size_t CountNewlines(const std::string& s, size_t begin) {
  return static_cast<size_t>(std::count(s.begin() + begin, s.end(), '\n'));
}

// The log read in parts of about `part_bytes` (lib/batch/batch.cc: a part
// starts after a line break; every line break is a record boundary).
std::string PartsText(const JsonlFile& file, const std::string& bytes, size_t part_bytes) {
  const std::vector<size_t> starts =
      leadscore::io::LineStarts(bytes, file.data_begin(), part_bytes);
  CollectSink sink;
  int64_t line = 0;
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t limit = k + 1 < starts.size() ? starts[k + 1] : bytes.size();
    sink.StartPart(line);
    int64_t newlines = 0;
    const size_t end = file.ParseRange(starts[k], limit, &sink, &newlines);
    if (end != limit) {
      ExpectSame("jsonl: a part ends at its limit", std::to_string(end), std::to_string(limit));
    }
    line += newlines;
  }
  return sink.Text();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const uint64_t h = leadscore::fuzz::InputHash(data, size);

  const JsonlFile file(bytes);
  CollectSink sink;
  int64_t newlines = 0;
  const size_t end = file.ParseRange(file.data_begin(), bytes.size(), &sink, &newlines);
  ExpectSame("jsonl: one pass ends at the end", std::to_string(end), std::to_string(size));
  ExpectSame("jsonl: one pass counts the line breaks", std::to_string(newlines),
             std::to_string(CountNewlines(bytes, file.data_begin())));
  const std::string whole = sink.Text();
  ExpectSame("jsonl: one pass vs parts of 1..16 bytes", whole,
             PartsText(file, bytes, 1 + h % 16));
  ExpectSame("jsonl: one pass vs parts of 17..272 bytes", whole,
             PartsText(file, bytes, 17 + (h >> 4) % 256));

  // Good records written back as JSON read back alike.
  KeepSink good;
  file.ParseRange(file.data_begin(), bytes.size(), &good, &newlines);
  if (!good.kept.empty()) {
    std::string again;
    for (const KeepSink::Kept& k : good.kept) again += JsonLine(k);
    const JsonlFile file2(again);
    KeepSink back;
    file2.ParseRange(0, again.size(), &back, &newlines);
    std::string a, b;
    for (const std::string& t : good.texts) a += t + "\n";
    for (const std::string& t : back.texts) b += t + "\n";
    if (a != b) leadscore::fuzz::Mismatch("jsonl: good records written back", a + again, b);
  }

  leadscore::fuzz::CheckBatchAgrees(bytes, leadscore::io::LogFormat::kJsonl, h);
  return 0;
}
