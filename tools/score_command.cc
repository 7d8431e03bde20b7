// `leadscore score`: batch scoring of an event log (lib/batch) from the
// command line.
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "leadscore/model.h"
#include "lib/batch/batch.h"
#include "lib/batch/progress.h"
#include "lib/io/input.h"
#include "lib/io/time_parse.h"
#include "tools/cli.h"
#include "tools/log_args.h"
#include "tools/output_file.h"

namespace leadscore::cli {

namespace {

constexpr char kScoreUsage[] =
    R"(usage: leadscore score --model M --events LOG [--events LOG2 ...]
                      --members-out members.jsonl|members.csv
                      --changes-out changes.jsonl
                      [--format csv|jsonl|pb] [--as-of T] [--order time|arrival]
                      [--threads N] [--strict] [--quiet]

Scores every member of an event log with a model, as of a time.

  --model M          the model (protobuf text, or JSON when it ends in .json)
  --events LOG       the log; repeat it, or give a glob pattern ('logs/*.csv'),
                     for a log in several files, read in that order (a pattern's
                     files sorted by name). The format is told by the name:
                       .csv    a header row, then one event per row; columns by
                               name in any order: event_id, member_id, time,
                               type, value, group_id, channel, account_id,
                               attr.K, profile.K (member_id and time required);
                               empty cells are absent
                       .jsonl  one JSON object per line with those names, attrs
                               and profile as objects; null or missing: absent
                       .pb     length-delimited leadscore.v1.MemberEvent
                               messages (varint length, then the message)
                     any other name is read as CSV; gzip files (.gz, or any
                     file that starts like one) are inflated on the way.
                     time: milliseconds since the epoch, or RFC 3339.
  --format F         read every --events file as csv, jsonl or pb
  --members-out F    one line per member, sorted by member_id: JSON Lines, or
                     CSV when F ends in .csv (a column per score, counter and
                     flag state; tags joined with ';')
  --changes-out F    every change (tags, stages, flags, rejected rows),
                     grouped by member in member_id order (JSON Lines)
  --as-of T          ms or RFC 3339; later events are rejected (after_as_of)
                     and every member is advanced to T. Default: the latest
                     time of a valid row.
  --order time       each member's events by (time, row number) (default)
  --order arrival    each member's events in log order
  --threads N        read and score with N threads (default: every core);
                     the same output for any N
  --strict           stop at the first bad row, exit status 2
  --quiet            no progress line

A bad row (wrong column count, bad JSON or protobuf, a field of the wrong
type, unparsable time or value, empty member_id, no time) is reported on
stderr as FILE:LINE: reason (FILE: record N at byte B: reason for protobuf),
rejected as invalid and skipped. Progress goes to stderr: one line updated in
place on a terminal, else a line every 5 s (LEADSCORE_PROGRESS_INTERVAL=S
changes that); a summary at the end.
Exit codes: 0 ok; 1 bad usage, model error or I/O error; 2 --strict failure.
)";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int RunScore(const std::vector<std::string>& words) {
  std::set<std::string> value_options = kLogValueOptions;
  value_options.insert({"model", "members-out", "changes-out"});
  const ParsedArgs args = ParseArgs(words, value_options, kLogSwitches, {"events"});
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
  LogArgs log;
  if (std::string error = ParseLogArgs(args, &log); !error.empty()) {
    return UsageError("score", error);
  }
  const std::string& members_path = args.values.at("members-out");
  const std::string& changes_path = args.values.at("changes-out");
  if (EndsWith(members_path, ".csv")) {
    log.options.members_format = batch::MembersFormat::kCsv;
  }

  // The model: every problem, one "file:line:col: message" per line.
  const std::string& model_path = args.values.at("model");
  auto model = Model::LoadFile(model_path);
  if (!model.ok()) {
    std::cerr << model.status().message() << "\n";
    return kExitError;
  }

  LogRun run(*model, log);
  if (int code = run.Read("score"); code != kExitOk) return code;
  batch::BatchJob& job = run.job();
  // Each output is written beside its path and put there whole at the end
  // (tools/output_file.h); the earlier one is removed meanwhile.
  std::unique_ptr<OutputFile> members = OutputFile::Open(members_path);
  if (members == nullptr) {
    run.StopProgress();
    std::cerr << "leadscore score: cannot write " << members_path << ": "
              << std::strerror(errno) << "\n";
    return kExitError;
  }
  std::unique_ptr<OutputFile> changes = OutputFile::Open(changes_path);
  if (changes == nullptr) {
    run.StopProgress();
    std::cerr << "leadscore score: cannot write " << changes_path << ": "
              << std::strerror(errno) << "\n";
    return kExitError;
  }
  absl::Status s = job.Score(&members->stream(), &changes->stream());
  run.StopProgress();
  if (!s.ok()) {
    std::cerr << "leadscore score: " << s.message() << " (" << members_path
              << ", " << changes_path << ")\n";
    return kExitError;
  }
  if (!members->Commit()) {
    std::cerr << "leadscore score: writing " << members_path
              << " failed: " << std::strerror(errno) << "\n";
    return kExitError;
  }
  if (!changes->Commit()) {
    std::cerr << "leadscore score: writing " << changes_path
              << " failed: " << std::strerror(errno) << "\n";
    return kExitError;
  }
  std::cerr << "leadscore score: " << job.SummaryText() << "\n";
  if (std::getenv("LEADSCORE_MEMORY_REPORT") != nullptr) {
    const batch::MemoryUse m = job.memory_use();
    std::cerr << "leadscore score: memory: " << m.events << " events, "
              << m.members << " members; records " << m.record_bytes
              << " B, strings " << m.arena_bytes << " B, grouping "
              << m.group_bytes << " B; blocks mapped " << m.pool_bytes << " B\n";
  }
  return kExitOk;
}

}  // namespace leadscore::cli
