// A store of member states scored with one model: the streaming engine.
#ifndef LEADSCORE_STORE_H_
#define LEADSCORE_STORE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadscore/changes.h"
#include "leadscore/event.h"
#include "leadscore/model.h"

namespace leadscore {

// A member read at a time, by value (SEMANTICS.md section 9).
struct MemberView {
  std::string member_id;
  int64_t time = 0;         // the time it was read at
  int stage = -1;           // -1: the model has no lifecycle
  int64_t stage_since = 0;
  std::vector<double> scores;      // every score in model order, derived too
  std::vector<int> tags;           // tag indices held, ascending
  std::vector<int64_t> counters;   // model order
  struct Flag {
    bool armed = true;
    int64_t raised = 0;
    bool has_last_raised = false;
    int64_t last_raised = 0;
  };
  std::vector<Flag> flags;         // model order
  struct LedgerEntry {
    int contributor = -1;  // event rule or fit rule
    int score = -1;
    double value = 0;      // decayed to `time`
  };
  std::vector<LedgerEntry> ledger;  // non-zero entries, contributor order
  int64_t clock = 0;                // the member's clock
  int64_t last_event_time = 0;
};

struct StoreStats {
  int64_t events_applied = 0;
  std::array<int64_t, kNumRejectReasons> rejected{};  // by RejectReason
  int64_t members = 0;
  int64_t flags_raised = 0;
};

// What restoring state (Store::LoadSnapshot, Store::ImportMember) did with
// parts that do not fit the store's model: empty when the state was written
// under the same model. See docs/host-guide.md, "Model upgrades".
struct RestoreReport {
  int64_t members = 0;  // members restored
  // One line per item that was dropped or reset, e.g.
  // `rule "webinar": not an event rule of the model, ledger and cap memory
  // dropped (its points stay in the score)`; sorted, no duplicates.
  std::vector<std::string> notes;
};

// Limits on what one store accepts, so that hostile input cannot take
// unbounded memory. An event over a limit is rejected as `invalid`, with a
// detail naming the limit, and counted; it is never an error of the call.
struct StoreLimits {
  size_t max_members = 100000000;     // a new member beyond this is rejected
  size_t max_id_bytes = 4096;         // event_id, member_id
  size_t max_type_bytes = 1024;       // event type; also group, channel, account
  size_t max_attrs_per_event = 1024;  // attrs + profile pairs of one event
  size_t max_attr_bytes = 64 * 1024;  // one attribute key or value
};

// Thread-compatible: one thread at a time may use a Store (different stores
// may be used on different threads; they share the immutable Model). The
// Store owns its member states; views are returned by value.
class Store {
 public:
  explicit Store(std::shared_ptr<const Model> model,
                 StoreLimits limits = StoreLimits());
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const Model& model() const { return *model_; }

  // Applies one event (SEMANTICS.md section 8). A rejected event is reported
  // through `sink` as a kRejected change and counted; it is not an error.
  // `sink` may be null.
  void Apply(const Event& event, ChangeSink* sink);

  // Records a rejection decided outside the engine (a bad log row, an event
  // after the as-of time): counted and emitted like the engine's own.
  void Reject(std::string_view member_id, std::string_view event_id,
              bool has_time, int64_t time, RejectReason reason,
              std::string_view detail, ChangeSink* sink);

  // Runs one evaluation of the member at max(its clock, t) and moves its
  // clock there. Returns false when there is no such member.
  bool Advance(std::string_view member_id, int64_t t, ChangeSink* sink);
  // Advance for every member, in member_id byte order.
  void AdvanceAll(int64_t t, ChangeSink* sink);

  // Reads a member at max(its clock, t) without changing anything.
  std::optional<MemberView> Read(std::string_view member_id, int64_t t) const;

  // Whether the store holds a member of that id.
  bool Contains(std::string_view member_id) const;
  // Every member id, in byte order.
  std::vector<std::string> MemberIds() const;
  const StoreStats& stats() const;

  // --- Durable state (docs/host-guide.md) -------------------------------
  // State is keyed by names, framed with a format version and a CRC-32.

  // Writes every member and the statistics to `path` atomically (a
  // temporary file beside it, fsync, rename, fsync of the directory): on
  // failure `path` is untouched. Errors: the errno's code (e.g. NotFound for
  // a missing directory, PermissionDenied).
  absl::Status SaveSnapshot(const std::string& path) const;

  // A store scored with `model`, holding the members and statistics of the
  // snapshot at `path`. Errors: NotFound (no file); InvalidArgument (not a
  // snapshot, a newer format, or written by a model of another name);
  // DataLoss (truncated or corrupt: a flipped byte fails a checksum).
  // `report`, when given, says what did not fit a changed model.
  static absl::StatusOr<std::unique_ptr<Store>> LoadSnapshot(
      std::shared_ptr<const Model> model, const std::string& path,
      RestoreReport* report = nullptr);

  // One member's state as bytes (a host may keep them in its own database
  // row and score statelessly: import, apply, export, erase). NotFound when
  // there is no such member.
  absl::StatusOr<std::string> ExportMember(std::string_view member_id) const;

  // Adds the member in `bytes` (from ExportMember), replacing a member of
  // the same id. No change is emitted; statistics other than `members` are
  // unchanged. Errors: InvalidArgument (not member state, a newer format, or
  // another model's name); DataLoss (truncated or corrupt). On error the
  // store is unchanged.
  absl::Status ImportMember(std::string_view bytes, RestoreReport* report = nullptr);

  // Forgets a member (after exporting it, say). False when there is none.
  bool EraseMember(std::string_view member_id);

 private:
  class Impl;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Impl> impl_;
};

// A view as a serialized leadscore.v1.MemberView message (names instead of
// indices; proto/leadscore/v1/state.proto).
std::string MemberViewToProto(const Model& model, const MemberView& view);

// A view as one JSON object: a members.jsonl line (docs/outputs.md) without
// its newline.
std::string MemberViewToJson(const Model& model, const MemberView& view);

}  // namespace leadscore

#endif  // LEADSCORE_STORE_H_
