// A scoring model: loaded from protobuf text or JSON, checked and compiled
// once, then shared by every store and thread that scores with it.
#ifndef LEADSCORE_MODEL_H_
#define LEADSCORE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace leadscore {

namespace v1 {
class Model;
}
namespace internal {
class CompiledModel;
}

// One problem in a model file, at a 1-based line and column.
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  // "file:line:col: message"
  std::string ToString() const;
};

// Limits on what a model may hold, so that a hostile or runaway model file
// cannot take unbounded memory or time. Exceeding one is a load problem that
// names the limit. Conditions are also limited to 500 levels of nesting (a
// fixed limit of the condition compiler).
struct ModelLimits {
  size_t max_model_bytes = 1 << 20;       // the model file or text
  int max_items_per_kind = 10000;         // scores, counters, rules (event and
                                          // fit), tags, stages, transitions, flags
  size_t max_condition_bytes = 16 * 1024; // one `when`, `rearm` or `formula`
};

// Thread-safe: a Model is immutable once loaded; share it through the
// shared_ptr the loaders return. Strings returned by the accessors live as
// long as the model.
class Model {
 public:
  // Loads a model file; ".json" files are read as protobuf JSON, anything
  // else as protobuf text format. On failure the status is InvalidArgument
  // (NotFound for a missing file) and its message lists every problem, one
  // "file:line:col: message" per line; `diagnostics`, when given, receives
  // them as a list too.
  static absl::StatusOr<std::shared_ptr<const Model>> LoadFile(
      const std::string& path, std::vector<Diagnostic>* diagnostics = nullptr,
      const ModelLimits& limits = ModelLimits());
  static absl::StatusOr<std::shared_ptr<const Model>> LoadText(
      std::string_view text, std::string_view filename = "<model>",
      std::vector<Diagnostic>* diagnostics = nullptr,
      const ModelLimits& limits = ModelLimits());
  static absl::StatusOr<std::shared_ptr<const Model>> LoadJson(
      std::string_view json, std::string_view filename = "<model>",
      std::vector<Diagnostic>* diagnostics = nullptr,
      const ModelLimits& limits = ModelLimits());
  // From an already parsed message; diagnostics carry line 0 and a field path.
  static absl::StatusOr<std::shared_ptr<const Model>> FromProto(
      const v1::Model& proto, std::string_view filename = "<model>",
      std::vector<Diagnostic>* diagnostics = nullptr,
      const ModelLimits& limits = ModelLimits());

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const;
  int64_t allowed_lateness_ms() const;

  // Names, in model order. Scores include derived ones. "Contributors" are
  // the event rules followed by the fit rules: the rows of the ledger.
  int num_scores() const;
  const std::string& score_name(int i) const;
  bool score_is_derived(int i) const;
  int num_counters() const;
  const std::string& counter_name(int i) const;
  int num_tags() const;
  const std::string& tag_name(int i) const;
  int num_stages() const;  // 0 without a lifecycle
  const std::string& stage_name(int i) const;
  int num_flags() const;
  const std::string& flag_name(int i) const;
  int num_contributors() const;
  const std::string& contributor_name(int i) const;
  // Index by name, or -1.
  int FindScore(std::string_view name) const;
  int FindTag(std::string_view name) const;
  int FindStage(std::string_view name) const;
  int FindFlag(std::string_view name) const;
  int FindCounter(std::string_view name) const;

  // For the library's own use.
  const internal::CompiledModel& compiled() const { return *compiled_; }
  explicit Model(std::unique_ptr<internal::CompiledModel> compiled);

 private:
  std::unique_ptr<internal::CompiledModel> compiled_;
};

}  // namespace leadscore

#endif  // LEADSCORE_MODEL_H_
