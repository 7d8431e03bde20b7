// libFuzzer target: the length-delimited protobuf MemberEvent stream reader
// (lib/io/pb_reader.h). The input is the stream. Checks, each aborting on a
// disagreement:
//  * the layout (records, where the whole records end, the broken tail) is
//    the same whatever the part size;
//  * the records read part by part are those of one pass;
//  * every record the reader takes as good parses with the protobuf library
//    (leadscore.v1.MemberEvent) to the same fields (maps: a later entry for
//    a key wins);
//  * every good record, written back with AppendDelimitedEvent, reads back
//    as the same record;
//  * the batch job gives the same bytes with one part or small parts, and
//    with one thread or two.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "leadscore/v1/event.pb.h"
#include "lib/io/pb_reader.h"
#include "tests/fuzz/reader_util.h"

namespace {

using leadscore::KeyValue;
using leadscore::fuzz::CollectSink;
using leadscore::fuzz::ExpectSame;
using leadscore::fuzz::Mismatch;
using leadscore::io::RawEvent;

std::string LayoutText(const leadscore::io::PbLayout& l) {
  return leadscore::fuzz::Cat("records ", l.num_records, " valid_end ", l.valid_end, " broken ",
                      l.broken, " ", l.broken_error);
}

// The fields of a good record, as text, without its place.
std::string FieldsText(const RawEvent& e) {
  RawEvent c = e;
  c.line = 0;
  c.offset = 0;
  return leadscore::fuzz::RecordText(c, 0);
}

// A map as protobuf keeps it: a later entry for a key wins.
std::map<std::string, std::string> AsMap(const std::vector<KeyValue>& pairs) {
  std::map<std::string, std::string> out;
  for (const KeyValue& kv : pairs) out[std::string(kv.key)] = std::string(kv.value);
  return out;
}

std::string MapText(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) leadscore::fuzz::Append(&out, k.size(), ":", k, "=", v.size(), ":", v, ";");
  return out;
}

// The record's fields as the protobuf library reads its message.
std::string ProtoText(const leadscore::v1::MemberEvent& m) {
  uint64_t bits;
  const double value = m.value();
  std::memcpy(&bits, &value, sizeof bits);
  std::map<std::string, std::string> attrs(m.attrs().begin(), m.attrs().end());
  std::map<std::string, std::string> profile(m.profile().begin(), m.profile().end());
  return leadscore::fuzz::Cat(m.event_id().size(), ":", m.event_id(), "|", m.member_id().size(), ":",
                      m.member_id(), "|", m.has_time() ? leadscore::fuzz::Cat(m.time()) : "-", "|",
                      m.type().size(), ":", m.type(), "|", m.account_id().size(), ":",
                      m.account_id(), "|", m.group_id().size(), ":", m.group_id(), "|",
                      m.channel().size(), ":", m.channel(), "|", bits, "|", MapText(attrs),
                      "|", MapText(profile));
}

std::string ReaderText(const RawEvent& e) {
  uint64_t bits;
  std::memcpy(&bits, &e.value, sizeof bits);
  return leadscore::fuzz::Cat(e.event_id.size(), ":", e.event_id, "|", e.member_id.size(), ":",
                      e.member_id, "|", e.has_time ? leadscore::fuzz::Cat(e.time) : "-", "|",
                      e.type.size(), ":", e.type, "|", e.account_id.size(), ":", e.account_id,
                      "|", e.group_id.size(), ":", e.group_id, "|", e.channel.size(), ":",
                      e.channel, "|", bits, "|", MapText(AsMap(e.attrs)), "|",
                      MapText(AsMap(e.profile)));
}

// Checks each good record against the protobuf library and its own
// re-encoding, as it comes.
class CheckSink : public leadscore::io::RawEventSink {
 public:
  explicit CheckSink(std::string_view data) : data_(data) {}
  void Add(const RawEvent& e) override {
    if (!e.ok()) return;
    ++good;
    // The message: after the length prefix at e.offset.
    size_t p = static_cast<size_t>(e.offset);
    uint64_t len = 0;
    for (int shift = 0; p < data_.size(); shift += 7) {
      const uint8_t b = static_cast<uint8_t>(data_[p++]);
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    const std::string_view message = data_.substr(p, len);
    leadscore::v1::MemberEvent m;
    if (!m.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
      Mismatch("pb: a good record that protobuf does not parse", ReaderText(e),
               "(does not parse)");
    }
    ExpectSame("pb: reader vs protobuf", ReaderText(e), ProtoText(m));

    leadscore::Event ev;
    ev.event_id = e.event_id;
    ev.member_id = e.member_id;
    ev.has_time = e.has_time;
    ev.time = e.time;
    ev.type = e.type;
    ev.account_id = e.account_id;
    ev.group_id = e.group_id;
    ev.channel = e.channel;
    ev.value = e.value;
    ev.attrs = e.attrs;
    ev.profile = e.profile;
    std::string again;
    leadscore::io::AppendDelimitedEvent(&again, ev);
    const leadscore::io::PbLayout layout = leadscore::io::ScanPbStream(again, 1 << 20);
    if (layout.num_records != 1 || layout.broken || layout.valid_end != again.size()) {
      Mismatch("pb: a record written back is one whole record", LayoutText(layout), "");
    }
    struct One : leadscore::io::RawEventSink {
      void Add(const RawEvent& r) override { text = FieldsText(r); }
      std::string text;
    } one;
    leadscore::io::ParsePbRange(again, 0, again.size(), &one);
    ExpectSame("pb: a good record written back", FieldsText(e), one.text);
  }
  int64_t good = 0;

 private:
  std::string_view data_;
};

// The records read part by part (parts of about `part_bytes`).
std::string PartsText(const std::string& bytes, size_t part_bytes, const std::string& layout) {
  const leadscore::io::PbLayout l = leadscore::io::ScanPbStream(bytes, part_bytes);
  ExpectSame("pb: layout with small parts", layout, LayoutText(l));
  if (l.part_begin.size() != l.part_first_record.size() || l.part_begin.empty()) {
    Mismatch("pb: part lists", LayoutText(l), "");
  }
  CollectSink sink;
  int64_t records = 0;
  for (size_t k = 0; k < l.part_begin.size(); ++k) {
    const size_t end = k + 1 < l.part_begin.size() ? l.part_begin[k + 1] : l.valid_end;
    if (l.part_first_record[k] != records) {
      ExpectSame("pb: a part's first record", std::to_string(l.part_first_record[k]),
                 std::to_string(records));
    }
    sink.StartPart(l.part_first_record[k]);
    records += leadscore::io::ParsePbRange(bytes, l.part_begin[k], end, &sink);
  }
  ExpectSame("pb: records over the parts", std::to_string(records),
             std::to_string(l.num_records));
  return sink.Text();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const uint64_t h = leadscore::fuzz::InputHash(data, size);

  const leadscore::io::PbLayout whole = leadscore::io::ScanPbStream(bytes, size_t{1} << 30);
  const std::string layout = LayoutText(whole);
  CollectSink sink;
  const int64_t n = leadscore::io::ParsePbRange(bytes, 0, whole.valid_end, &sink);
  ExpectSame("pb: records in one pass", std::to_string(n), std::to_string(whole.num_records));
  const std::string records = sink.Text();
  ExpectSame("pb: one pass vs parts of 1..32 bytes", records,
             PartsText(bytes, 1 + h % 32, layout));
  ExpectSame("pb: one pass vs parts of 33..544 bytes", records,
             PartsText(bytes, 33 + (h >> 5) % 512, layout));

  CheckSink check(bytes);
  leadscore::io::ParsePbRange(bytes, 0, whole.valid_end, &check);

  leadscore::fuzz::CheckBatchAgrees(bytes, leadscore::io::LogFormat::kPb, h);
  return 0;
}
