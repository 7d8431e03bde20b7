// Micro benchmarks of reading and writing: CSV records and CSV events
// through the stream reader (lib/io/csv_reader.h), time parsing, the JSON
// Lines writers of the batch outputs, and, PARSER ONLY, JSON Lines
// (simdjson) and length-delimited protobuf (the protobuf library's own
// parser) over the same events: third-party parsers alone, a floor to
// compare leadscore's own readers with (see PENDING below).
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/bench_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "leadscore/v1/event.pb.h"
#include "lib/io/csv_reader.h"
#include "lib/io/json_writer.h"
#include "lib/io/time_parse.h"

#ifdef LEADSCORE_BENCH_HAVE_SIMDJSON
#include "simdjson.h"
#endif

namespace leadscore::bench {
namespace {

// The events of one size, and their CSV text (columns of `leadscore gen`;
// about 90 bytes a row, some quoted cells with commas, quotes and UTF-8).
struct Log {
  std::vector<OwnedEvent> events;
  std::string csv;
};
const Log& LogOf(int64_t rows) {
  static auto* cache = new std::map<int64_t, std::unique_ptr<Log>>();
  auto& slot = (*cache)[rows];
  if (!slot) {
    slot = std::make_unique<Log>();
    slot->events = MakeEvents(rows, std::max<int64_t>(1, rows / 20));
    slot->csv = ToCsv(slot->events);
  }
  return *slot;
}

// CsvRecordReader: splitting bytes into records and fields (RFC 4180).
void BM_CsvRecords(benchmark::State& state) {
  const Log& log = LogOf(Cap(state.range(0)));
  int64_t records = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string copy = log.csv;  // the reader takes the bytes
    state.ResumeTiming();
    auto reader = io::CsvRecordReader::FromString(std::move(copy));
    io::CsvRecord record;
    while (reader->Next(&record)) ++records;
  }
  benchmark::DoNotOptimize(records);
  state.SetItemsProcessed(state.iterations() * (log.events.size() + 1));
  state.SetBytesProcessed(state.iterations() * log.csv.size());
}
BENCHMARK(BM_CsvRecords)->ArgName("rows")->RangeMultiplier(16)->Range(1 << 10, 1 << 20);

// CsvEventSource: records mapped onto events (columns by name, times and
// values parsed, attrs and profile collected): what `leadscore score` reads
// a CSV log with.
void BM_CsvEvents(benchmark::State& state) {
  const Log& log = LogOf(Cap(state.range(0)));
  int64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string copy = log.csv;
    state.ResumeTiming();
    auto source = io::CsvEventSource::FromString(std::move(copy), "bench.csv");
    if (!source.ok()) {
      state.SkipWithError("bad header");
      break;
    }
    io::EventRecord record;
    while ((*source)->Next(&record)) events += record.ok();
  }
  benchmark::DoNotOptimize(events);
  state.SetItemsProcessed(state.iterations() * log.events.size());
  state.SetBytesProcessed(state.iterations() * log.csv.size());
}
BENCHMARK(BM_CsvEvents)->ArgName("rows")->RangeMultiplier(16)->Range(1 << 10, 1 << 20);

// The same from a file (in the page cache): adds fopen/fread.
void BM_CsvEventsFile(benchmark::State& state) {
  const Log& log = LogOf(Cap(state.range(0)));
  char path[] = "/tmp/leadscore-bench-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    state.SkipWithError("mkstemp failed");
    return;
  }
  std::FILE* f = fdopen(fd, "wb");
  std::fwrite(log.csv.data(), 1, log.csv.size(), f);
  std::fclose(f);
  int64_t events = 0;
  for (auto _ : state) {
    auto source = io::CsvEventSource::OpenFile(path);
    if (!source.ok()) {
      state.SkipWithError("cannot open");
      break;
    }
    io::EventRecord record;
    while ((*source)->Next(&record)) events += record.ok();
  }
  std::remove(path);
  benchmark::DoNotOptimize(events);
  state.SetItemsProcessed(state.iterations() * log.events.size());
  state.SetBytesProcessed(state.iterations() * log.csv.size());
}
BENCHMARK(BM_CsvEventsFile)->ArgName("rows")->Arg(1 << 20);

// io::ParseTimeMillis over 1024 cells per iteration: integer milliseconds,
// and RFC 3339 with an offset.
void ParseTimes(benchmark::State& state, bool rfc3339) {
  std::vector<std::string> cells;
  for (int i = 0; i < 1024; ++i) {
    const int64_t t = 1704067200000 + int64_t{i} * 86399123;
    if (!rfc3339) {
      cells.push_back(std::to_string(t));
    } else {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "2024-%02d-%02dT%02d:%02d:%02d.%03d+08:00",
                    1 + i % 12, 1 + i % 28, i % 24, i % 60, (i * 7) % 60, i % 1000);
      cells.push_back(buf);
    }
  }
  int64_t sum = 0;
  size_t bytes = 0;
  for (const std::string& c : cells) bytes += c.size();
  for (auto _ : state) {
    for (const std::string& c : cells) {
      auto t = io::ParseTimeMillis(c);
      sum += t.ok() ? *t : 0;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * cells.size());
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK_CAPTURE(ParseTimes, millis, false);
BENCHMARK_CAPTURE(ParseTimes, rfc3339, true);

// --- Writers of the batch outputs -------------------------------------------

// members.jsonl lines: io::AppendMemberLine of views read from a store with
// the community model (scores, tags, counters, flags by name).
void BM_WriteMemberLines(benchmark::State& state) {
  auto model = LoadModelOrDie(CommunityModelText(), "community.textproto");
  const Log& log = LogOf(Cap(state.range(0)));
  Store store(model);
  EventViews views = ViewsOf(log.events);
  for (const Event& e : views.events) store.Apply(e, nullptr);
  std::vector<MemberView> members;
  for (const std::string& id : store.MemberIds()) {
    members.push_back(*store.Read(id, log.events.back().time));
  }
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const MemberView& v : members) io::AppendMemberLine(&out, *model, v);
    bytes += out.size();
  }
  state.SetItemsProcessed(state.iterations() * members.size());
  state.SetBytesProcessed(bytes);
  state.counters["members"] = static_cast<double>(members.size());
}
BENCHMARK(BM_WriteMemberLines)->ArgName("events")->RangeMultiplier(16)->Range(1 << 12, 1 << 16);

// changes.jsonl lines: every change of applying the events, buffered as
// the batch job does.
class LineSink : public ChangeSink {
 public:
  explicit LineSink(const Model& m) : model_(m) {}
  void OnChange(const Change& c) override {
    io::AppendChangeLine(&out, model_, c);
    ++n;
  }
  std::string out;
  int64_t n = 0;

 private:
  const Model& model_;
};

void BM_WriteChangeLines(benchmark::State& state) {
  auto model = LoadModelOrDie(CommunityModelText(), "community.textproto");
  const Log& log = LogOf(Cap(state.range(0)));
  EventViews views = ViewsOf(log.events);
  // Collect the changes once, as owned copies of what the sink saw.
  struct Kept {
    Change change;
    std::string member;
    std::vector<double> scores;
    std::vector<FlagReason> reasons;
  };
  std::vector<Kept> kept;
  class Keep : public ChangeSink {
   public:
    explicit Keep(std::vector<Kept>* k) : k_(k) {}
    void OnChange(const Change& c) override {
      Kept x{c, std::string(c.member_id),
             std::vector<double>(c.scores.begin(), c.scores.end()),
             std::vector<FlagReason>(c.reasons.begin(), c.reasons.end())};
      k_->push_back(std::move(x));
    }

   private:
    std::vector<Kept>* k_;
  } keep(&kept);
  Store store(model);
  for (const Event& e : views.events) store.Apply(e, &keep);
  for (Kept& k : kept) {
    k.change.member_id = k.member;
    k.change.scores = k.scores;
    k.change.reasons = k.reasons;
    k.change.event_id = {};
    k.change.detail = {};
  }
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const Kept& k : kept) io::AppendChangeLine(&out, *model, k.change);
    bytes += out.size();
  }
  state.SetItemsProcessed(state.iterations() * kept.size());
  state.SetBytesProcessed(bytes);
  state.counters["changes"] = static_cast<double>(kept.size());
}
BENCHMARK(BM_WriteChangeLines)->ArgName("events")->RangeMultiplier(16)->Range(1 << 12, 1 << 16);

// --- Parser only: JSON Lines and protobuf -----------------------------------
// Not leadscore readers: the third-party parsers alone, pulling the fields an
// event has, over the same events. A floor for the readers of issue 4.

std::string JsonString(std::string_view s) {
  std::string out;
  io::AppendJsonString(&out, s);
  return out;
}

std::string ToJsonLines(const std::vector<OwnedEvent>& events) {
  std::string out;
  for (const OwnedEvent& e : events) {
    out += "{\"event_id\":" + JsonString(e.event_id) +
           ",\"member_id\":" + JsonString(e.member_id) +
           ",\"time\":" + std::to_string(e.time) + ",\"type\":" + JsonString(e.type);
    if (e.value != 0) out += ",\"value\":" + std::to_string(static_cast<int64_t>(e.value));
    out += ",\"channel\":" + JsonString(e.channel) + ",\"group_id\":" + JsonString(e.group_id);
    for (const auto* kv : {&e.attrs, &e.profile}) {
      if (kv->empty()) continue;
      out += kv == &e.attrs ? ",\"attrs\":{" : ",\"profile\":{";
      bool first = true;
      for (const auto& [k, v] : *kv) {
        if (!first) out += ',';
        first = false;
        out += JsonString(k) + ":" + JsonString(v);
      }
      out += '}';
    }
    out += "}\n";
  }
  return out;
}

#ifdef LEADSCORE_BENCH_HAVE_SIMDJSON
void BM_JsonLinesParse_ParserOnly(benchmark::State& state) {
  const Log& log = LogOf(Cap(state.range(0)));
  const std::string jsonl = ToJsonLines(log.events);
  simdjson::padded_string padded(jsonl);
  simdjson::ondemand::parser parser;
  int64_t sum = 0;
  for (auto _ : state) {
    simdjson::ondemand::document_stream docs;
    if (parser.iterate_many(padded).get(docs)) {
      state.SkipWithError("iterate_many failed");
      break;
    }
    for (auto doc : docs) {
      simdjson::ondemand::object obj;
      if (doc.get_object().get(obj)) continue;
      for (auto field : obj) {
        std::string_view key = field.unescaped_key().value_unsafe();
        if (key == "time") {
          sum += field.value().get_int64().value_unsafe();
        } else if (key == "value") {
          sum += static_cast<int64_t>(field.value().get_double().value_unsafe());
        } else if (key == "attrs" || key == "profile") {
          for (auto kv : field.value().get_object().value_unsafe()) {
            sum += kv.value().get_string().value_unsafe().size();
          }
        } else {
          sum += field.value().get_string().value_unsafe().size();
        }
      }
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * log.events.size());
  state.SetBytesProcessed(state.iterations() * jsonl.size());
  state.SetLabel("simdjson ondemand, parser only");
}
BENCHMARK(BM_JsonLinesParse_ParserOnly)->ArgName("rows")->RangeMultiplier(16)->Range(1 << 10, 1 << 20);
#endif

// Length-delimited leadscore.v1.MemberEvent messages, parsed one by one into
// a reused message, then viewed as an Event (EventFromProto, leadscore's).
void BM_ProtobufParse_ParserOnly(benchmark::State& state) {
  const Log& log = LogOf(Cap(state.range(0)));
  std::string data;
  {
    google::protobuf::io::StringOutputStream sos(&data);
    google::protobuf::io::CodedOutputStream out(&sos);
    v1::MemberEvent m;
    for (const OwnedEvent& e : log.events) {
      m.Clear();
      m.set_event_id(e.event_id);
      m.set_member_id(e.member_id);
      m.set_time(e.time);
      m.set_type(e.type);
      m.set_channel(e.channel);
      m.set_group_id(e.group_id);
      m.set_value(e.value);
      for (const auto& [k, v] : e.attrs) (*m.mutable_attrs())[k] = v;
      for (const auto& [k, v] : e.profile) (*m.mutable_profile())[k] = v;
      out.WriteVarint32(static_cast<uint32_t>(m.ByteSizeLong()));
      m.SerializeWithCachedSizes(&out);
    }
  }
  int64_t sum = 0;
  v1::MemberEvent m;
  std::vector<KeyValue> storage;
  for (auto _ : state) {
    google::protobuf::io::ArrayInputStream ais(data.data(), static_cast<int>(data.size()));
    google::protobuf::io::CodedInputStream in(&ais);
    in.SetTotalBytesLimit(INT32_MAX);
    uint32_t size = 0;
    while (in.ReadVarint32(&size)) {
      auto limit = in.PushLimit(static_cast<int>(size));
      m.Clear();
      if (!m.MergeFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
        state.SkipWithError("parse failed");
        break;
      }
      in.PopLimit(limit);
      Event e = EventFromProto(m, &storage);
      sum += e.time + static_cast<int64_t>(e.attrs.size());
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * log.events.size());
  state.SetBytesProcessed(state.iterations() * data.size());
  state.SetLabel("libprotobuf + EventFromProto, parser only");
}
BENCHMARK(BM_ProtobufParse_ParserOnly)->ArgName("rows")->RangeMultiplier(16)->Range(1 << 10, 1 << 20);

// PENDING, issue 4: BM_JsonLinesEvents, BM_ProtobufEvents and the chunked
// CSV reader (lib/io/csv_chunk.h, jsonl_reader.h, pb_reader.h: the readers
// of the batch job since commit 3d4887b), events/s and bytes/s over the same
// logs as BM_CsvEvents, go here. BM_CsvRecords/BM_CsvEvents above measure
// the stream reader (io::CsvEventSource).

}  // namespace
}  // namespace leadscore::bench

BENCHMARK_MAIN();
