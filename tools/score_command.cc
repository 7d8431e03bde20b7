// `leadscore score`: batch scoring of a CSV log (lib/batch) from the command
// line.
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "leadscore/model.h"
#include "lib/batch/batch.h"
#include "lib/io/csv_reader.h"
#include "lib/io/time_parse.h"
#include "tools/cli.h"

namespace leadscore::cli {

namespace {

constexpr char kScoreUsage[] =
    R"(usage: leadscore score --model M --events LOG.csv
                      --members-out members.jsonl --changes-out changes.jsonl
                      [--as-of T] [--order time|arrival] [--threads N] [--strict]

Scores every member of a CSV event log with a model, as of a time.

  --model M          the model (protobuf text, or JSON when it ends in .json)
  --events LOG.csv   the log: a header row, then one event per row; columns by
                     name in any order: event_id, member_id, time, type, value,
                     group_id, channel, account_id, attr.K, profile.K
                     (member_id and time are required). Empty cells are absent.
                     time: milliseconds since the epoch, or RFC 3339.
  --members-out F    one JSON object per member, sorted by member_id
  --changes-out F    every change (tags, stages, flags, rejected rows),
                     grouped by member in member_id order
  --as-of T          ms or RFC 3339; later events are rejected (after_as_of)
                     and every member is advanced to T. Default: the latest
                     time of a valid row.
  --order time       each member's events by (time, row number) (default)
  --order arrival    each member's events in log order
  --threads N        score with N threads (default 1); same output for any N
  --strict           stop at the first bad row, exit status 2

A bad row (wrong column count, unparsable time or value, empty member_id,
no time) is reported on stderr as FILE:LINE: reason, rejected as invalid and
skipped. A summary goes to stderr at the end.
Exit codes: 0 ok; 1 bad usage, model error or I/O error; 2 --strict failure.
)";

}  // namespace

int RunScore(const std::vector<std::string>& words) {
  const ParsedArgs args = ParseArgs(
      words,
      {"model", "events", "as-of", "order", "threads", "members-out",
       "changes-out"},
      {"strict"});
  if (args.help) {
    std::cout << kScoreUsage;
    return kExitOk;
  }
  if (!args.error.empty()) return UsageError("score", args.error);
  for (const char* required : {"model", "events", "members-out", "changes-out"}) {
    if (!args.has(required)) {
      return UsageError("score", std::string("missing --") + required);
    }
  }

  batch::BatchOptions options;
  options.strict = args.switches.count("strict") > 0;
  if (args.has("as-of")) {
    auto t = io::ParseTimeMillis(args.values.at("as-of"));
    if (!t.ok()) {
      return UsageError("score", "bad --as-of \"" + args.values.at("as-of") +
                                     "\": " + std::string(t.status().message()));
    }
    options.as_of = *t;
  }
  if (args.has("order")) {
    const std::string& order = args.values.at("order");
    if (order == "time") {
      options.order = batch::Order::kTime;
    } else if (order == "arrival") {
      options.order = batch::Order::kArrival;
    } else {
      return UsageError("score", "bad --order \"" + order +
                                     "\": expected time or arrival");
    }
  }
  if (args.has("threads")) {
    const std::string& text = args.values.at("threads");
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 ||
        n > batch::kMaxThreads) {
      return UsageError("score", "bad --threads \"" + text +
                                     "\": expected a number from 1 to " +
                                     std::to_string(batch::kMaxThreads));
    }
    options.threads = n;
  }

  // The model: every problem, one "file:line:col: message" per line.
  const std::string& model_path = args.values.at("model");
  auto model = Model::LoadFile(model_path);
  if (!model.ok()) {
    std::cerr << model.status().message() << "\n";
    return kExitError;
  }

  auto source = io::OpenEventSource(args.values.at("events"));
  if (!source.ok()) {
    std::cerr << "leadscore score: " << source.status().message() << "\n";
    return kExitError;
  }

  batch::BatchJob job(*model, options);
  if (absl::Status s = job.Read(source->get(), &std::cerr); !s.ok()) {
    if (job.strict_failure()) {
      std::cerr << "leadscore score: stopped at the first bad row (--strict)\n";
      return kExitStrict;
    }
    std::cerr << "leadscore score: " << s.message() << "\n";
    return kExitError;
  }

  const std::string& members_path = args.values.at("members-out");
  const std::string& changes_path = args.values.at("changes-out");
  std::ofstream members(members_path, std::ios::binary | std::ios::trunc);
  if (!members) {
    std::cerr << "leadscore score: cannot write " << members_path << ": "
              << std::strerror(errno) << "\n";
    return kExitError;
  }
  std::ofstream changes(changes_path, std::ios::binary | std::ios::trunc);
  if (!changes) {
    std::cerr << "leadscore score: cannot write " << changes_path << ": "
              << std::strerror(errno) << "\n";
    return kExitError;
  }
  if (absl::Status s = job.Score(&members, &changes); !s.ok()) {
    std::cerr << "leadscore score: " << s.message() << " (" << members_path
              << ", " << changes_path << ")\n";
    return kExitError;
  }
  members.close();
  changes.close();
  if (!members || !changes) {
    std::cerr << "leadscore score: writing " << members_path << " or "
              << changes_path << " failed\n";
    return kExitError;
  }
  std::cerr << "leadscore score: " << job.SummaryText() << "\n";
  return kExitOk;
}

}  // namespace leadscore::cli
