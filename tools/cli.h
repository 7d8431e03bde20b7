// The `leadscore` command line: its subcommands and their shared helpers.
#ifndef LEADSCORE_TOOLS_CLI_H_
#define LEADSCORE_TOOLS_CLI_H_

#include <map>
#include <set>
#include <string>
#include <vector>

namespace leadscore::cli {

// Exit codes of every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;   // bad usage, model error, I/O error
constexpr int kExitStrict = 2;  // --strict met a bad row
constexpr int kExitLint = 3;    // validate --strict-lint: the model has warnings

// `leadscore score`, `leadscore gen`, `leadscore summary`: `args` are the
// words after the subcommand's name.
int RunScore(const std::vector<std::string>& args);
int RunGen(const std::vector<std::string>& args);
int RunSummary(const std::vector<std::string>& args);
// `leadscore report`: one self-contained HTML report of a scored log.
int RunReport(const std::vector<std::string>& args);
// `leadscore diff`: one log scored under two models, what differs.
int RunDiff(const std::vector<std::string>& args);
// `leadscore validate`: a model's problems, and lint against a log.
int RunValidate(const std::vector<std::string>& args);
// `leadscore explain`: one member's timeline, ledger and final state.
int RunExplain(const std::vector<std::string>& args);

// Options of the form --name VALUE, --name=VALUE, or --name for switches.
struct ParsedArgs {
  std::map<std::string, std::string> values;  // by name, without "--"
  // Options that may be given several times: every value, in order.
  std::map<std::string, std::vector<std::string>> lists;
  std::set<std::string> switches;
  bool help = false;  // -h or --help was given
  std::string error;  // non-empty: what is wrong with the words
  bool has(const std::string& name) const { return values.count(name) > 0; }
};
// `repeatable` options (also in value_options) may be given more than once:
// their values are in `lists` (and the first in `values`).
ParsedArgs ParseArgs(const std::vector<std::string>& args,
                     const std::set<std::string>& value_options,
                     const std::set<std::string>& switch_options,
                     const std::set<std::string>& repeatable = {});

// Prints "leadscore SUBCOMMAND: message" and a pointer to --help on stderr;
// returns kExitError.
int UsageError(const std::string& subcommand, const std::string& message);

}  // namespace leadscore::cli

#endif  // LEADSCORE_TOOLS_CLI_H_
