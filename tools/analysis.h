// What the tools that look at a whole scored log (diff, validate, report)
// share: one scoring run kept in memory, member by member, with what each
// rule, tag and stage did; a flag's threshold read from its condition; and
// threshold calibration against later conversions.
#ifndef LEADSCORE_TOOLS_ANALYSIS_H_
#define LEADSCORE_TOOLS_ANALYSIS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "leadscore/changes.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "lib/batch/batch.h"
#include "tools/log_args.h"

namespace leadscore::cli {

struct FlagRaise {
  int64_t time = 0;
  int flag = -1;
  std::vector<double> scores;       // every score at the raise, model order
  std::vector<FlagReason> reasons;  // its top reasons, largest first
};

struct StageChange {
  int64_t time = 0;
  int from = -1;
  int to = -1;
};

struct MemberResult {
  MemberView view;                          // read at the as-of time
  std::vector<FlagRaise> raises;            // in order
  std::vector<StageChange> stage_changes;   // in order
  int64_t conversions = 0;                  // accepted conversion events
  int64_t first_conversion = 0;             // time of the first (if any)
};

struct AnalyzeOptions {
  // Event types that count as a conversion (e.g. "order.paid").
  std::vector<std::string> conversion_types;
};

struct LogAnalysis {
  batch::BatchSummary summary;  // rows, rejections, as-of
  // Every member with an accepted event, in member_id byte order.
  std::vector<MemberResult> members;
  std::map<std::string, int64_t> events_by_type;  // accepted events
  std::vector<int64_t> rule_held;     // by rule: events where it applied
  std::vector<int64_t> rule_granted;  // by rule: events where it granted != 0
  std::vector<double> rule_points;    // by rule: points granted (at grant time)
  std::vector<int64_t> tag_added;     // by tag: tag_added changes
  std::vector<int64_t> tag_members;   // by tag: members holding it at as-of
  std::vector<int64_t> stage_reached; // by stage: members ever in it (initial too)
  std::vector<int64_t> stage_now;     // by stage: members in it at as-of
  std::vector<int64_t> flag_raised;   // by flag: raises
  std::vector<int64_t> flag_members;  // by flag: members raised at least once
};

// Reads the log (with its progress line) and scores it into `out`, exactly
// as `leadscore score` would score it. Returns kExitOk, or an exit code
// after printing "leadscore SUBCOMMAND: ...".
int AnalyzeLog(std::shared_ptr<const Model> model, const LogArgs& log,
               const std::string& subcommand, const AnalyzeOptions& options,
               LogAnalysis* out);

// A flag's threshold, read from the source of its `when`: the first
// comparison `score.NAME >= N` or `score.NAME > N` in it.
struct Threshold {
  bool found = false;
  int score = -1;  // model score index
  double value = 0;
  bool strict = false;  // `>` rather than `>=`
};
Threshold FlagThreshold(const Model& model, int flag);

// Per score band, how many members converted later.
struct CalibrationBand {
  double lo = 0;  // [lo, hi)
  double hi = 0;
  int64_t members = 0;
  int64_t converted = 0;
};

struct Calibration {
  bool available = false;  // false: see why_not
  std::string why_not;
  int score = -1;
  bool has_threshold = false;
  double threshold = 0;
  int64_t cutoff = 0;     // scores are read here ...
  int64_t as_of = 0;      // ... conversions counted in (cutoff, as_of]
  int64_t members = 0;    // scored at the cutoff, not converted by then
  int64_t excluded_converted_before = 0;  // converted at or before the cutoff
  int64_t excluded_new = 0;  // first accepted event after the cutoff
  std::vector<CalibrationBand> bands;
  int64_t above = 0, above_converted = 0;  // score >= threshold at the cutoff
  int64_t below = 0, below_converted = 0;
};

struct CalibrationOptions {
  std::vector<std::string> conversion_types;
  int64_t window_ms = 30LL * 24 * 3600 * 1000;  // cutoff = as_of - window
  int score = -1;          // the score to band
  bool has_threshold = false;
  double threshold = 0;
};

// Scores the log a second time as of (as_of - window) and bands the members
// by that score; `full` is the run at the as-of time (its conversions).
// Returns kExitOk or an exit code after printing an error.
int Calibrate(std::shared_ptr<const Model> model, const LogArgs& log,
              const std::string& subcommand, const CalibrationOptions& options,
              const LogAnalysis& full, Calibration* out);

// Score bands [lo, hi) of one width that cover every value in [lo, hi], at
// most `max_bands` of them (at least 2 are allowed: an edge may fall inside
// any range). Without a threshold the width is a round step
// (1, 2 or 5 times a power of ten, about a tenth of the range) and the edges
// are its multiples; with one, the width is a quarter of the threshold (when
// positive) and the edges are threshold + k * width, so that the threshold
// is always an edge. The width doubles until the bands fit in max_bands.
std::vector<CalibrationBand> MakeBands(double lo, double hi, bool has_threshold,
                                       double threshold, int max_bands = 16);

// The band of `bands` (from MakeBands) that holds `value`: values below the
// first band go to the first, values at or past the last band's hi to the last.
size_t BandIndex(const std::vector<CalibrationBand>& bands, double value);

}  // namespace leadscore::cli

#endif  // LEADSCORE_TOOLS_ANALYSIS_H_
