// Loading models from text format or JSON, and the public Model accessors.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "leadscore/model.h"
#include "leadscore/v1/model.pb.h"
#include "lib/base/strings.h"
#include "lib/model/compiled_model.h"
#include "lib/model/compiler.h"
#include "lib/model/source_map.h"

namespace leadscore {
namespace {

using internal::CompiledModel;
using internal::SourceMap;

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  CollectErrors(std::string file, std::vector<Diagnostic>* out)
      : file_(std::move(file)), out_(out) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    out_->push_back(Diagnostic{file_, line + 1, column + 1, message});
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {}

 private:
  std::string file_;
  std::vector<Diagnostic>* out_;
};

absl::StatusOr<std::shared_ptr<const Model>> Finish(
    const v1::Model& proto, const SourceMap& source, std::string_view filename,
    std::vector<Diagnostic>* diags_out, const ModelLimits& limits) {
  std::vector<Diagnostic> diags;
  auto compiled = internal::CompileModel(proto, source, std::string(filename),
                                         limits, &diags);
  if (diags_out != nullptr) *diags_out = diags;
  if (compiled == nullptr || !diags.empty()) {
    std::vector<std::string> lines;
    for (const auto& d : diags) lines.push_back(d.ToString());
    return absl::InvalidArgumentError(absl::StrCat(
        AsAbsl(filename), ": ", diags.size(), diags.size() == 1 ? " problem" : " problems",
        "\n", absl::StrJoin(lines, "\n")));
  }
  return std::shared_ptr<const Model>(new Model(std::move(compiled)));
}

absl::Status ParseFailure(std::string_view filename,
                          const std::vector<Diagnostic>& diags) {
  std::vector<std::string> lines;
  for (const auto& d : diags) lines.push_back(d.ToString());
  return absl::InvalidArgumentError(absl::StrCat(
      AsAbsl(filename), ": cannot parse the model\n", absl::StrJoin(lines, "\n")));
}

absl::Status TooLarge(std::string_view filename, size_t size,
                      const ModelLimits& limits) {
  std::vector<Diagnostic> diags{Diagnostic{
      std::string(filename), 0, 0,
      absl::StrCat("the model is ", size, " bytes, more than ModelLimits::"
                   "max_model_bytes (", limits.max_model_bytes, ")")}};
  return ParseFailure(filename, diags);
}

}  // namespace

std::string Diagnostic::ToString() const {
  if (line <= 0) return absl::StrCat(file, ": ", message);
  return absl::StrCat(file, ":", line, ":", column, ": ", message);
}

Model::Model(std::unique_ptr<CompiledModel> compiled)
    : compiled_(std::move(compiled)) {}
Model::~Model() = default;

absl::StatusOr<std::shared_ptr<const Model>> Model::LoadText(
    std::string_view text, std::string_view filename,
    std::vector<Diagnostic>* diagnostics, const ModelLimits& limits) {
  if (text.size() > limits.max_model_bytes) return TooLarge(filename, text.size(), limits);
  v1::Model proto;
  google::protobuf::TextFormat::Parser parser;
  google::protobuf::TextFormat::ParseInfoTree info;
  std::vector<Diagnostic> diags;
  CollectErrors errors{std::string(filename), &diags};
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&info);
  std::string owned(text);
  if (!parser.ParseFromString(owned, &proto)) {
    if (diags.empty()) diags.push_back(Diagnostic{std::string(filename), 0, 0, "cannot parse"});
    if (diagnostics != nullptr) *diagnostics = diags;
    return ParseFailure(filename, diags);
  }
  SourceMap source = SourceMap::ForText(std::move(owned), proto, &info);
  return Finish(proto, source, filename, diagnostics, limits);
}

absl::StatusOr<std::shared_ptr<const Model>> Model::LoadJson(
    std::string_view json, std::string_view filename,
    std::vector<Diagnostic>* diagnostics, const ModelLimits& limits) {
  if (json.size() > limits.max_model_bytes) return TooLarge(filename, json.size(), limits);
  v1::Model proto;
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &proto, options);
  if (!status.ok()) {
    std::vector<Diagnostic> diags{
        Diagnostic{std::string(filename), 0, 0,
                   absl::StrCat("not a valid model in protobuf JSON: ",
                                std::string(status.message()))}};
    if (diagnostics != nullptr) *diagnostics = diags;
    return ParseFailure(filename, diags);
  }
  SourceMap source = SourceMap::ForJson(std::string(json));
  return Finish(proto, source, filename, diagnostics, limits);
}

absl::StatusOr<std::shared_ptr<const Model>> Model::FromProto(
    const v1::Model& proto, std::string_view filename,
    std::vector<Diagnostic>* diagnostics, const ModelLimits& limits) {
  return Finish(proto, SourceMap(), filename, diagnostics, limits);
}

absl::StatusOr<std::shared_ptr<const Model>> Model::LoadFile(
    const std::string& path, std::vector<Diagnostic>* diagnostics,
    const ModelLimits& limits) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open model file ", path));
  }
  // Refuse an oversized file before reading it.
  const auto size = static_cast<size_t>(std::max<std::streamoff>(0, in.tellg()));
  if (size > limits.max_model_bytes) return TooLarge(path, size, limits);
  in.seekg(0);
  std::stringstream buf;
  buf << in.rdbuf();
  if (absl::EndsWith(path, ".json")) return LoadJson(buf.str(), path, diagnostics, limits);
  return LoadText(buf.str(), path, diagnostics, limits);
}

const std::string& Model::name() const { return compiled_->name; }
int64_t Model::allowed_lateness_ms() const { return compiled_->allowed_lateness_ms; }
int Model::num_scores() const { return static_cast<int>(compiled_->scores.size()); }
const std::string& Model::score_name(int i) const { return compiled_->scores[i].name; }
bool Model::score_is_derived(int i) const { return compiled_->scores[i].derived; }
int Model::num_counters() const { return static_cast<int>(compiled_->counters.size()); }
const std::string& Model::counter_name(int i) const { return compiled_->counters[i].name; }
int Model::num_tags() const { return static_cast<int>(compiled_->tags.size()); }
const std::string& Model::tag_name(int i) const { return compiled_->tags[i].name; }
int Model::num_stages() const { return static_cast<int>(compiled_->stages.size()); }
const std::string& Model::stage_name(int i) const { return compiled_->stages[i]; }
int Model::num_flags() const { return static_cast<int>(compiled_->flags.size()); }
const std::string& Model::flag_name(int i) const { return compiled_->flags[i].name; }
int Model::num_contributors() const {
  return static_cast<int>(compiled_->contributor_names.size());
}
const std::string& Model::contributor_name(int i) const {
  return compiled_->contributor_names[i];
}

namespace {
int Lookup(const absl::flat_hash_map<std::string, int>& m, std::string_view n) {
  auto it = m.find(AsAbsl(n));
  return it == m.end() ? -1 : it->second;
}
}  // namespace

int Model::FindScore(std::string_view n) const { return Lookup(compiled_->score_index, n); }
int Model::FindTag(std::string_view n) const { return Lookup(compiled_->tag_index, n); }
int Model::FindStage(std::string_view n) const { return Lookup(compiled_->stage_index, n); }
int Model::FindFlag(std::string_view n) const { return Lookup(compiled_->flag_index, n); }
int Model::FindCounter(std::string_view n) const { return Lookup(compiled_->counter_index, n); }

}  // namespace leadscore
