// The log options shared by the commands that score a log (score, explain,
// diff, validate, report): --events (repeated or a glob), --format, --as-of,
// --order, --threads, --strict, --quiet; and reading the log into a
// batch::BatchJob with a progress line.
#ifndef LEADSCORE_TOOLS_LOG_ARGS_H_
#define LEADSCORE_TOOLS_LOG_ARGS_H_

#include <memory>
#include <string>
#include <vector>

#include "lib/batch/batch.h"
#include "lib/batch/progress.h"
#include "lib/io/input.h"
#include "tools/cli.h"

namespace leadscore::cli {

// The value options ParseLogArgs reads ("events" is also repeatable), and
// its switches.
extern const std::set<std::string> kLogValueOptions;
extern const std::set<std::string> kLogSwitches;

struct LogArgs {
  batch::BatchOptions options;     // threads default to every core
  std::vector<std::string> paths;  // --events, globs expanded
  bool forced_format = false;
  io::LogFormat format = io::LogFormat::kCsv;
  bool quiet = false;
  // Bad rows are not reported on stderr (a second read of a log whose bad
  // rows were reported already); they are still counted.
  bool quiet_bad_rows = false;
  int64_t total_bytes = 0;  // of the files, for the progress line
};

// Fills `out` from parsed words. Returns "" or what is wrong (for
// UsageError). --events is required.
std::string ParseLogArgs(const ParsedArgs& args, LogArgs* out);

// A log being read and scored: the job and its progress line.
class LogRun {
 public:
  LogRun(std::shared_ptr<const Model> model, const LogArgs& args);
  // Reads every file; bad rows are reported on stderr. Returns kExitOk, or
  // kExitError / kExitStrict after printing "leadscore SUBCOMMAND: ...".
  int Read(const std::string& subcommand);
  // Stops the progress line (call before printing results).
  void StopProgress();
  batch::BatchJob& job() { return *job_; }

 private:
  const LogArgs& args_;
  std::unique_ptr<batch::Progress> progress_;
  std::unique_ptr<batch::BatchJob> job_;
};

}  // namespace leadscore::cli

#endif  // LEADSCORE_TOOLS_LOG_ARGS_H_
