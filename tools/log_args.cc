#include "tools/log_args.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <utility>

#include "lib/io/time_parse.h"

namespace leadscore::cli {

const std::set<std::string> kLogValueOptions = {"events", "format", "as-of",
                                                "order", "threads"};
const std::set<std::string> kLogSwitches = {"strict", "quiet"};

std::string ParseLogArgs(const ParsedArgs& args, LogArgs* out) {
  batch::BatchOptions& options = out->options;
  if (!args.has("events")) return "missing --events";
  options.strict = args.switches.count("strict") > 0;
  out->quiet = args.switches.count("quiet") > 0;
  options.threads = static_cast<int>(
      std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                      batch::kMaxThreads)));
  if (args.has("as-of")) {
    auto t = io::ParseTimeMillis(args.values.at("as-of"));
    if (!t.ok()) {
      return "bad --as-of \"" + args.values.at("as-of") +
             "\": " + std::string(t.status().message());
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
      return "bad --order \"" + order + "\": expected time or arrival";
    }
  }
  if (args.has("threads")) {
    const std::string& text = args.values.at("threads");
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 ||
        n > batch::kMaxThreads) {
      return "bad --threads \"" + text + "\": expected a number from 1 to " +
             std::to_string(batch::kMaxThreads);
    }
    options.threads = n;
  }
  if (args.has("format")) {
    if (!io::ParseLogFormat(args.values.at("format"), &out->format)) {
      return "bad --format \"" + args.values.at("format") +
             "\": expected csv, jsonl or pb";
    }
    out->forced_format = true;
  }
  auto paths = io::ExpandEventPaths(args.lists.at("events"));
  if (!paths.ok()) return std::string(paths.status().message());
  out->paths = *std::move(paths);
  out->total_bytes = 0;
  for (const std::string& path : out->paths) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) out->total_bytes += st.st_size;
  }
  return "";
}

LogRun::LogRun(std::shared_ptr<const Model> model, const LogArgs& args)
    : args_(args) {
  batch::BatchOptions options = args.options;
  options.log_bytes = args.total_bytes;
  if (!args.quiet) {
    double interval = 5;
    if (const char* env = std::getenv("LEADSCORE_PROGRESS_INTERVAL")) {
      interval = std::atof(env);
    }
    progress_ = std::make_unique<batch::Progress>(stderr, isatty(2) != 0, interval);
    options.progress = progress_.get();
    progress_->Start(args.total_bytes);
  }
  job_ = std::make_unique<batch::BatchJob>(std::move(model), options);
}

int LogRun::Read(const std::string& subcommand) {
  for (const std::string& path : args_.paths) {
    const io::LogFormat f = args_.forced_format ? args_.format : io::FormatFromPath(path);
    std::ostream* diag = &std::cerr;
    std::ostream null_stream(nullptr);  // writes nothing
    if (args_.quiet_bad_rows) diag = &null_stream;
    if (absl::Status s = job_->ReadFile(path, f, diag); !s.ok()) {
      StopProgress();
      if (job_->strict_failure()) {
        std::cerr << "leadscore " << subcommand
                  << ": stopped at the first bad row (--strict)\n";
        return kExitStrict;
      }
      std::cerr << "leadscore " << subcommand << ": " << s.message() << "\n";
      return kExitError;
    }
  }
  return kExitOk;
}

void LogRun::StopProgress() {
  if (progress_ != nullptr) progress_->Stop();
}

}  // namespace leadscore::cli
