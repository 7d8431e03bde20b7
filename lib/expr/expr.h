// The condition language (SEMANTICS.md section 7): a subset of Google CEL,
// parsed and type-checked once when a model loads, then evaluated many times
// without allocation. The model compiler supplies a Scope (which names exist
// here); the engine supplies a Context (their values for one member now).
#ifndef LEADSCORE_LIB_EXPR_EXPR_H_
#define LEADSCORE_LIB_EXPR_EXPR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace leadscore::expr {

// Static types of the checker.
enum class Type : uint8_t {
  kBool,
  kInt,
  kDouble,
  kString,
  kDuration,   // duration('30d'), idle, stage_age; milliseconds at run time
  kTimestamp,  // now; milliseconds since the epoch at run time
  kAttr,       // member.K / event.attrs.K: a string that may be missing
  kList,       // list literal, only as the right side of `in`
  kTags,       // `tags`: only `'name' in tags` and size(tags)
  kStage,      // `stage`: compared with stage-name string literals
};

// Which families of names a condition may use. Decided by where the condition
// stands in the model (a fit rule sees only member attributes, a derived
// score formula only scores, only event-driven conditions see `event`).
struct Allowed {
  bool event = false;     // event.type/value/group/channel/attrs.K
  bool member = true;     // member.K, has(member.K)
  bool scores = true;     // score.NAME
  bool counters = true;   // counter.NAME
  bool tags = true;       // tags
  bool stage = true;      // stage, stage_age
  bool time = true;       // now, idle
  // Where the condition stands, for messages: "a fit rule condition".
  std::string where = "this condition";
};

// Compile-time name resolution, implemented by the model compiler.
class Scope {
 public:
  virtual ~Scope() = default;
  // Index of the named item, or -1 when there is no such name.
  virtual int ScoreIndex(std::string_view name) const = 0;
  virtual int CounterIndex(std::string_view name) const = 0;
  virtual int TagIndex(std::string_view name) const = 0;
  virtual int StageIndex(std::string_view name) const = 0;
  virtual bool HasLifecycle() const = 0;
  // Number of declared tags (indices 0..TagCount()-1), for size(tags). The
  // default -1 means "not known": size(tags) is then reported as unavailable.
  virtual int TagCount() const { return -1; }
  // Attribute keys are interned: the program refers to them by id.
  virtual int InternMemberAttr(std::string_view key) = 0;
  virtual int InternEventAttr(std::string_view key) = 0;
  // Called when the program reads event.group or event.channel.
  virtual void NoteEventGroupOrChannel() {}
  // Called when the program reads event.value.
  virtual void NoteEventValue() {}
  Allowed allowed;
};

// Run-time values, implemented by the engine for one member at one time.
// Every accessor is called only for names the Scope resolved, so none fails.
class Context {
 public:
  virtual ~Context() = default;
  virtual double Score(int index) const = 0;  // decayed to now; derived: formula
  virtual int64_t Counter(int index) const = 0;
  virtual bool HasTag(int index) const = 0;
  virtual int Stage() const = 0;          // stage index
  virtual int64_t Now() const = 0;        // ms since epoch
  virtual int64_t Idle() const = 0;       // ms
  virtual int64_t StageAge() const = 0;   // ms
  // Sets *value and returns true when the attribute is present.
  virtual bool MemberAttr(int id, std::string_view* value) const = 0;
  // Event accessors: only called by programs compiled with Allowed::event.
  virtual std::string_view EventType() const = 0;
  virtual double EventValue() const = 0;
  virtual std::string_view EventGroup() const = 0;
  virtual std::string_view EventChannel() const = 0;
  virtual bool EventAttr(int id, std::string_view* value) const = 0;
};

// A problem found while compiling, at a byte offset into the condition text.
struct Problem {
  int offset = 0;
  std::string message;
};

// What a program reads, for dependency checks and flag reasons.
struct Reads {
  std::vector<int> scores;  // sorted, unique
  bool counters = false;
  std::vector<int> counter_ids;  // the counters read: sorted, unique
  bool tags = false;
  bool stage = false;
  bool member = false;
  bool event = false;
  bool time = false;  // now, idle, stage_age
};

// One node of the compiled expression tree (defined in the implementation).
class Node;

// A checked, compiled condition or formula. Immutable; Eval* are const and
// safe to call from many threads at once; they never allocate and never fail.
// What time alone does to a program's value (for the engine, which skips
// re-evaluating a state tag that time passing cannot change: see
// Engine::Evaluate and docs/semantics-notes.md).
struct TimeShape {
  // A kBool program that is one comparison `X op constant`, op one of
  // < <= > >= (not == or !=), X a score, a counter or idle:
  enum class Of : uint8_t { kNone, kScore, kCounter, kIdle };
  Of of = Of::kNone;
  int index = -1;        // the score or counter
  bool above = false;    // X > c or X >= c (else X < c or X <= c)
  // A kDouble or kInt program whose value, in floating point, never falls
  // when a score it reads rises: scores and constants combined by +, by *
  // with a constant >= 0, by / with a constant > 0, by - of a constant.
  bool rises_with_scores = false;
};

class Program {
 public:
  ~Program();
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;

  Type type() const { return type_; }
  const Reads& reads() const { return reads_; }
  // For a kBool program.
  bool EvalBool(const Context& ctx) const;
  // For a kInt or kDouble program (ints are widened to double). A missing
  // result (integer division by zero or overflow, int() of non-numeric text)
  // gives 0; double arithmetic follows IEEE and may give inf or NaN.
  double EvalNumber(const Context& ctx) const;
  const TimeShape& time_shape() const { return time_shape_; }

 private:
  friend class Compiler;
  Program() = default;
  std::unique_ptr<Node> root_;  // owns the whole tree
  Type type_ = Type::kBool;
  Reads reads_;
  TimeShape time_shape_;
};

enum class Want : uint8_t { kBool, kNumber };

// Parses, checks and compiles `text`. On success nothing is added to
// `problems`; on failure every problem found (not just the first) is appended,
// sorted by offset, and the result is null. A syntax error stops at the first
// one; type and name problems are all reported. `problems` may be null.
// `scope` is non-const because attribute keys get interned.
std::unique_ptr<Program> Compile(std::string_view text, Want want,
                                 Scope& scope, std::vector<Problem>* problems);

}  // namespace leadscore::expr

#endif  // LEADSCORE_LIB_EXPR_EXPR_H_
