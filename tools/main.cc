// `leadscore`: score member event logs with a model, generate sample logs,
// and summarise results. Dispatches to the subcommands.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli.h"

namespace leadscore::cli {

namespace {

constexpr char kUsage[] =
    R"(leadscore - score and tag members of B2B communities from their events

usage:
  leadscore score --model M --events LOG [--events LOG2 ...] --members-out FILE
                  --changes-out FILE [--format csv|jsonl|pb] [--as-of T]
                  [--order time|arrival] [--threads N] [--strict] [--quiet]
      Score an event log (CSV, JSON Lines or protobuf, gzip or not) with a
      model; write members (JSON Lines or CSV) and changes.jsonl.
  leadscore gen --members N --events M --seed S --out FILE [--format F]
      Write a deterministic sample community log (CSV, JSON Lines or
      protobuf, gzip when FILE ends in .gz).
  leadscore summary --members FILE --changes FILE [--model M] [--score NAME]
      Print a readable report of a scoring run.
  leadscore report --model M --events LOG [--events LOG2 ...] -o report.html
                   [--conversion TYPE ...] [--calibration-window D]
                   [--flag NAME] [--score NAME] [--title T] [log options]
      Write one self-contained HTML report: lifecycle funnel, score
      distribution, flags per week, tags, flagged members, calibration.
  leadscore diff --model OLD --model NEW --events LOG [--events LOG2 ...]
                 [--json] [--limit N] [--conversion TYPE] [--calibration-window D]
      What-if: score one log under two models; members whose stage, tags or
      flags differ, counts, flags gained and lost, score shift, calibration.
  leadscore validate MODEL [--events LOG ...] [--json] [--strict-lint]
      Check a model (every problem at file:line:col); with --events, lint it
      against a log (unused rules, tags, stages; unreachable stages).
  leadscore explain --model M --events LOG [--events LOG2 ...] --member ID
                    [--as-of T] [--json]
      Explain one member: each event with the points each rule granted (and
      what caps and bounds withheld), tags, stages, flags, rejected rows;
      the ledger and the final scores.

Run `leadscore COMMAND --help` for the options of a command.
Exit codes: 0 ok; 1 bad usage, model error or I/O error; 2 --strict met a
bad row; 3 validate --strict-lint found warnings.
)";

}  // namespace

ParsedArgs ParseArgs(const std::vector<std::string>& args,
                     const std::set<std::string>& value_options,
                     const std::set<std::string>& switch_options,
                     const std::set<std::string>& repeatable) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "-h" || word == "--help") {
      out.help = true;
      continue;
    }
    if (word.size() < 3 || word.compare(0, 2, "--") != 0) {
      out.error = "unexpected argument \"" + word + "\"";
      return out;
    }
    std::string name = word.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (switch_options.count(name)) {
      if (has_value) {
        out.error = "--" + name + " takes no value";
        return out;
      }
      out.switches.insert(name);
      continue;
    }
    if (!value_options.count(name)) {
      out.error = "unknown option --" + name;
      return out;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        out.error = "--" + name + " needs a value";
        return out;
      }
      value = args[++i];
    }
    if (repeatable.count(name)) {
      out.lists[name].push_back(value);
      out.values.emplace(name, value);
      continue;
    }
    if (out.values.count(name)) {
      out.error = "--" + name + " given twice";
      return out;
    }
    out.values[name] = value;
  }
  return out;
}

int UsageError(const std::string& subcommand, const std::string& message) {
  std::cerr << "leadscore " << subcommand << ": " << message << "\n"
            << "run `leadscore " << subcommand << " --help` for usage\n";
  return kExitError;
}

}  // namespace leadscore::cli

int main(int argc, char** argv) {
  using namespace leadscore::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return kExitError;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  if (command == "score") return RunScore(args);
  if (command == "gen") return RunGen(args);
  if (command == "summary") return RunSummary(args);
  if (command == "report") return RunReport(args);
  if (command == "diff") return RunDiff(args);
  if (command == "validate") return RunValidate(args);
  if (command == "explain") return RunExplain(args);
  std::cerr << "leadscore: unknown command \"" << command << "\"\n\n" << kUsage;
  return kExitError;
}
