// The evaluation stage of the condition language: a tree of small immutable
// nodes built by the checker (expr.cc). Types are settled at compile time, so
// every node knows the types of its children and no node checks a run-time
// type tag. Evaluation never allocates, throws or fails: a value that cannot
// be computed (a missing attribute, an integer division by zero) is
// "missing", and a comparison with a missing operand is false.
#ifndef LEADSCORE_LIB_EXPR_NODES_H_
#define LEADSCORE_LIB_EXPR_NODES_H_

#include <charconv>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/expr/expr.h"
#include "re2/re2.h"

namespace leadscore::expr {

// One run-time value. Which member is meaningful follows from the static
// type of the node that produced it: `i` for int, duration, timestamp and
// stage; `d` for double; `s` for string and attribute. `s` may point into
// `buf` (string() of a number), so a Value is filled in place and never
// copied while `s` is in use.
struct Value {
  Value() {}  // deliberately leaves everything uninitialised (hot path)
  union {
    int64_t i;
    double d;
  };
  std::string_view s;
  char buf[32];
};

class Node {
 public:
  virtual ~Node() = default;
  // For nodes of type kBool. Never missing.
  virtual bool Test(const Context& ctx) const { return false; }
  // For every other type: fills *out; false when the value is missing.
  virtual bool Eval(const Context& ctx, Value* out) const { return false; }
  // For TimeShape: what a comparison compares (the default: nothing known),
  // and the value of a numeric constant (false for any other node).
  virtual void DescribeComparison(TimeShape* shape) const {}
  virtual bool ConstantValue(double* value) const { return false; }
};

using NodePtr = std::unique_ptr<Node>;

// ---------------------------------------------------------------------------
// Helpers shared by nodes.

enum class CmpOp : uint8_t { kLt, kLe, kGt, kGe, kEq, kNe };

// Whether `op` compares a value with "greater than" (> or >=), "less than"
// (< or <=), or neither (== or !=): 1, -1 or 0.
constexpr int Direction(CmpOp op) {
  return op == CmpOp::kGt || op == CmpOp::kGe   ? 1
         : op == CmpOp::kLt || op == CmpOp::kLe ? -1
                                                : 0;
}

// Fills `shape` for a comparison `X op constant` of X `of` (`index`).
inline void Describe(CmpOp op, TimeShape::Of of, int index, TimeShape* shape) {
  if (Direction(op) == 0) return;
  shape->of = of;
  shape->index = index;
  shape->above = Direction(op) > 0;
}

template <CmpOp op, typename T>
inline bool Compare(const T& a, const T& b) {
  if constexpr (op == CmpOp::kLt) return a < b;
  if constexpr (op == CmpOp::kLe) return a <= b;
  if constexpr (op == CmpOp::kGt) return a > b;
  if constexpr (op == CmpOp::kGe) return a >= b;
  if constexpr (op == CmpOp::kEq) return a == b;
  if constexpr (op == CmpOp::kNe) return a != b;
}

// An attribute read as a number (semantics note 16): the whole string must
// be an integer or a decimal/scientific number; no spaces, no leading '+',
// no hex, no inf/nan. Integers that fit int64 stay exact.
struct Number {
  bool is_int = false;
  int64_t i = 0;
  double d = 0;
  double AsDouble() const { return is_int ? static_cast<double>(i) : d; }
};

inline bool ParseNumber(std::string_view s, Number* out) {
  if (s.empty()) return false;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto ri = std::from_chars(first, last, out->i);
  if (ri.ec == std::errc() && ri.ptr == last) {
    out->is_int = true;
    return true;
  }
  auto rd = std::from_chars(first, last, out->d);
  if (rd.ec != std::errc() || rd.ptr != last || !std::isfinite(out->d)) {
    return false;
  }
  out->is_int = false;
  return true;
}

template <CmpOp op>
inline bool CompareNumbers(const Number& a, const Number& b) {
  if (a.is_int && b.is_int) return Compare<op>(a.i, b.i);
  return Compare<op>(a.AsDouble(), b.AsDouble());
}

// Truncates toward zero; false for NaN and values outside int64.
inline bool DoubleToInt(double d, int64_t* out) {
  // -2^63 and 2^63 are exact doubles; the test is false for NaN.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

// ---------------------------------------------------------------------------
// Leaves.

class ConstIntNode final : public Node {
 public:
  explicit ConstIntNode(int64_t v) : v_(v) {}
  bool Eval(const Context&, Value* out) const override {
    out->i = v_;
    return true;
  }
  bool ConstantValue(double* value) const override {
    *value = static_cast<double>(v_);
    return true;
  }
 private:
  int64_t v_;
};

class ConstDoubleNode final : public Node {
 public:
  explicit ConstDoubleNode(double v) : v_(v) {}
  bool Eval(const Context&, Value* out) const override {
    out->d = v_;
    return true;
  }
  bool ConstantValue(double* value) const override {
    *value = v_;
    return true;
  }
 private:
  double v_;
};

class ConstStringNode final : public Node {
 public:
  explicit ConstStringNode(std::string v) : v_(std::move(v)) {}
  bool Eval(const Context&, Value* out) const override {
    out->s = v_;
    return true;
  }
 private:
  std::string v_;
};

class ConstBoolNode final : public Node {
 public:
  explicit ConstBoolNode(bool v) : v_(v) {}
  bool Test(const Context&) const override { return v_; }
 private:
  bool v_;
};

class ScoreNode final : public Node {
 public:
  explicit ScoreNode(int index) : index_(index) {}
  int index() const { return index_; }
  bool Eval(const Context& ctx, Value* out) const override {
    out->d = ctx.Score(index_);
    return true;
  }
 private:
  int index_;
};

class CounterNode final : public Node {
 public:
  explicit CounterNode(int index) : index_(index) {}
  int index() const { return index_; }
  bool Eval(const Context& ctx, Value* out) const override {
    out->i = ctx.Counter(index_);
    return true;
  }
 private:
  int index_;
};

class HasTagNode final : public Node {
 public:
  explicit HasTagNode(int index) : index_(index) {}
  bool Test(const Context& ctx) const override { return ctx.HasTag(index_); }
 private:
  int index_;
};

// Number of tags held, out of `count` declared.
class TagCountNode final : public Node {
 public:
  explicit TagCountNode(int count) : count_(count) {}
  bool Eval(const Context& ctx, Value* out) const override {
    int64_t n = 0;
    for (int i = 0; i < count_; ++i) n += ctx.HasTag(i) ? 1 : 0;
    out->i = n;
    return true;
  }
 private:
  int count_;
};

class StageNode final : public Node {
 public:
  bool Eval(const Context& ctx, Value* out) const override {
    out->i = ctx.Stage();
    return true;
  }
};

// stage == 'a' / stage in ['a', 'b'] (negated for !=).
class StageInNode final : public Node {
 public:
  StageInNode(std::vector<int> stages, bool negate)
      : stages_(std::move(stages)), negate_(negate) {}
  bool Test(const Context& ctx) const override {
    int s = ctx.Stage();
    for (int x : stages_) {
      if (x == s) return !negate_;
    }
    return negate_;
  }
 private:
  std::vector<int> stages_;
  bool negate_;
};

class NowNode final : public Node {
 public:
  bool Eval(const Context& ctx, Value* out) const override {
    out->i = ctx.Now();
    return true;
  }
};

class IdleNode final : public Node {
 public:
  bool Eval(const Context& ctx, Value* out) const override {
    out->i = ctx.Idle();
    return true;
  }
};

class StageAgeNode final : public Node {
 public:
  bool Eval(const Context& ctx, Value* out) const override {
    out->i = ctx.StageAge();
    return true;
  }
};

class MemberAttrNode final : public Node {
 public:
  explicit MemberAttrNode(int id) : id_(id) {}
  bool Eval(const Context& ctx, Value* out) const override {
    return ctx.MemberAttr(id_, &out->s);
  }
 private:
  int id_;
};

class EventAttrNode final : public Node {
 public:
  explicit EventAttrNode(int id) : id_(id) {}
  bool Eval(const Context& ctx, Value* out) const override {
    return ctx.EventAttr(id_, &out->s);
  }
 private:
  int id_;
};

class HasMemberAttrNode final : public Node {
 public:
  explicit HasMemberAttrNode(int id) : id_(id) {}
  bool Test(const Context& ctx) const override {
    std::string_view unused;
    return ctx.MemberAttr(id_, &unused);
  }
 private:
  int id_;
};

class HasEventAttrNode final : public Node {
 public:
  explicit HasEventAttrNode(int id) : id_(id) {}
  bool Test(const Context& ctx) const override {
    std::string_view unused;
    return ctx.EventAttr(id_, &unused);
  }
 private:
  int id_;
};

enum class EventField : uint8_t { kType, kGroup, kChannel };

class EventStringNode final : public Node {
 public:
  explicit EventStringNode(EventField field) : field_(field) {}
  bool Eval(const Context& ctx, Value* out) const override {
    switch (field_) {
      case EventField::kType: out->s = ctx.EventType(); break;
      case EventField::kGroup: out->s = ctx.EventGroup(); break;
      case EventField::kChannel: out->s = ctx.EventChannel(); break;
    }
    return true;
  }
 private:
  EventField field_;
};

class EventValueNode final : public Node {
 public:
  bool Eval(const Context& ctx, Value* out) const override {
    out->d = ctx.EventValue();
    return true;
  }
};

// ---------------------------------------------------------------------------
// Logic.

class NotNode final : public Node {
 public:
  explicit NotNode(NodePtr x) : x_(std::move(x)) {}
  bool Test(const Context& ctx) const override { return !x_->Test(ctx); }
 private:
  NodePtr x_;
};

class AndNode final : public Node {
 public:
  AndNode(NodePtr l, NodePtr r) : l_(std::move(l)), r_(std::move(r)) {}
  bool Test(const Context& ctx) const override {
    return l_->Test(ctx) && r_->Test(ctx);
  }
 private:
  NodePtr l_, r_;
};

class OrNode final : public Node {
 public:
  OrNode(NodePtr l, NodePtr r) : l_(std::move(l)), r_(std::move(r)) {}
  bool Test(const Context& ctx) const override {
    return l_->Test(ctx) || r_->Test(ctx);
  }
 private:
  NodePtr l_, r_;
};

// c ? a : b for every branch type; bool branches use Test, others Eval.
class CondNode final : public Node {
 public:
  CondNode(NodePtr c, NodePtr a, NodePtr b)
      : c_(std::move(c)), a_(std::move(a)), b_(std::move(b)) {}
  bool Test(const Context& ctx) const override {
    return c_->Test(ctx) ? a_->Test(ctx) : b_->Test(ctx);
  }
  bool Eval(const Context& ctx, Value* out) const override {
    return c_->Test(ctx) ? a_->Eval(ctx, out) : b_->Eval(ctx, out);
  }
 private:
  NodePtr c_, a_, b_;
};

// ---------------------------------------------------------------------------
// Arithmetic. Integer overflow and division by zero make the value missing
// (semantics note 17); the same nodes serve durations and timestamps.

enum class ArithOp : uint8_t { kAdd, kSub, kMul, kDiv, kMod };

template <ArithOp op>
class IntArithNode final : public Node {
 public:
  IntArithNode(NodePtr l, NodePtr r) : l_(std::move(l)), r_(std::move(r)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    Value b;
    if (!l_->Eval(ctx, out) || !r_->Eval(ctx, &b)) return false;
    int64_t x = out->i;
    int64_t y = b.i;
    if constexpr (op == ArithOp::kAdd) {
      return !__builtin_add_overflow(x, y, &out->i);
    } else if constexpr (op == ArithOp::kSub) {
      return !__builtin_sub_overflow(x, y, &out->i);
    } else if constexpr (op == ArithOp::kMul) {
      return !__builtin_mul_overflow(x, y, &out->i);
    } else {
      if (y == 0 || (x == INT64_MIN && y == -1)) return false;
      out->i = op == ArithOp::kDiv ? x / y : x % y;
      return true;
    }
  }
 private:
  NodePtr l_, r_;
};

template <ArithOp op>
class DoubleArithNode final : public Node {
 public:
  DoubleArithNode(NodePtr l, NodePtr r) : l_(std::move(l)), r_(std::move(r)) {}
  const Node& left() const { return *l_; }
  const Node& right() const { return *r_; }
  bool Eval(const Context& ctx, Value* out) const override {
    Value b;
    if (!l_->Eval(ctx, out) || !r_->Eval(ctx, &b)) return false;
    double x = out->d;
    double y = b.d;
    if constexpr (op == ArithOp::kAdd) out->d = x + y;
    if constexpr (op == ArithOp::kSub) out->d = x - y;
    if constexpr (op == ArithOp::kMul) out->d = x * y;
    if constexpr (op == ArithOp::kDiv) out->d = x / y;
    if constexpr (op == ArithOp::kMod) out->d = std::fmod(x, y);
    return true;
  }
 private:
  NodePtr l_, r_;
};

class NegIntNode final : public Node {
 public:
  explicit NegIntNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    if (!x_->Eval(ctx, out) || out->i == INT64_MIN) return false;
    out->i = -out->i;
    return true;
  }
 private:
  NodePtr x_;
};

class NegDoubleNode final : public Node {
 public:
  explicit NegDoubleNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    if (!x_->Eval(ctx, out)) return false;
    out->d = -out->d;
    return true;
  }
 private:
  NodePtr x_;
};

// ---------------------------------------------------------------------------
// Comparisons. The right operand is either a node or, when the checker saw a
// literal, a constant held inline (saves a virtual call in the common
// `score.x >= 100` / `member.role == 'cto'`).

template <CmpOp op>
class CmpIntNode final : public Node {
 public:
  CmpIntNode(NodePtr l, NodePtr r, int64_t constant)
      : l_(std::move(l)), r_(std::move(r)), c_(constant) {}
  bool Test(const Context& ctx) const override {
    Value a;
    if (!l_->Eval(ctx, &a)) return false;
    if (!r_) return Compare<op>(a.i, c_);
    Value b;
    return r_->Eval(ctx, &b) && Compare<op>(a.i, b.i);
  }
 private:
  NodePtr l_, r_;
  int64_t c_;
};

template <CmpOp op>
class CmpDoubleNode final : public Node {
 public:
  CmpDoubleNode(NodePtr l, NodePtr r, double constant)
      : l_(std::move(l)), r_(std::move(r)), c_(constant) {}
  bool Test(const Context& ctx) const override {
    Value a;
    if (!l_->Eval(ctx, &a)) return false;
    if (!r_) return Compare<op>(a.d, c_);
    Value b;
    return r_->Eval(ctx, &b) && Compare<op>(a.d, b.d);
  }
 private:
  NodePtr l_, r_;
  double c_;
};

// The common thresholds without an operand node: score.x >= 80.5,
// counter.x >= 3, idle >= duration('30d'). The same as CmpDoubleNode /
// CmpIntNode over a ScoreNode, CounterNode or IdleNode and a constant.
template <CmpOp op>
class ScoreCmpNode final : public Node {
 public:
  ScoreCmpNode(int index, double constant) : index_(index), c_(constant) {}
  bool Test(const Context& ctx) const override {
    return Compare<op>(ctx.Score(index_), c_);
  }
  void DescribeComparison(TimeShape* shape) const override {
    Describe(op, TimeShape::Of::kScore, index_, shape);
  }
 private:
  int index_;
  double c_;
};

template <CmpOp op>
class CounterCmpNode final : public Node {
 public:
  CounterCmpNode(int index, int64_t constant) : index_(index), c_(constant) {}
  bool Test(const Context& ctx) const override {
    return Compare<op>(ctx.Counter(index_), c_);
  }
  void DescribeComparison(TimeShape* shape) const override {
    Describe(op, TimeShape::Of::kCounter, index_, shape);
  }
 private:
  int index_;
  int64_t c_;
};

template <CmpOp op>
class IdleCmpNode final : public Node {
 public:
  explicit IdleCmpNode(int64_t constant) : c_(constant) {}
  bool Test(const Context& ctx) const override {
    return Compare<op>(ctx.Idle(), c_);
  }
  void DescribeComparison(TimeShape* shape) const override {
    Describe(op, TimeShape::Of::kIdle, -1, shape);
  }
 private:
  int64_t c_;
};

template <CmpOp op>
class CmpStringNode final : public Node {
 public:
  CmpStringNode(NodePtr l, NodePtr r, std::string constant)
      : l_(std::move(l)), r_(std::move(r)), c_(std::move(constant)) {}
  bool Test(const Context& ctx) const override {
    Value a;
    if (!l_->Eval(ctx, &a)) return false;
    if (!r_) return Compare<op>(a.s, std::string_view(c_));
    Value b;
    return r_->Eval(ctx, &b) && Compare<op>(a.s, b.s);
  }
 private:
  NodePtr l_, r_;
  std::string c_;
};

// attribute <op> number: the attribute is read as a number.
template <CmpOp op>
class CmpAttrNumberNode final : public Node {
 public:
  // `right_is_int` tells how to read the right node's value; with a null
  // `r` the constant is used.
  CmpAttrNumberNode(NodePtr l, NodePtr r, bool right_is_int, Number constant)
      : l_(std::move(l)), r_(std::move(r)), right_is_int_(right_is_int),
        c_(constant) {}
  bool Test(const Context& ctx) const override {
    Value a;
    Number x;
    if (!l_->Eval(ctx, &a) || !ParseNumber(a.s, &x)) return false;
    if (!r_) return CompareNumbers<op>(x, c_);
    Value b;
    if (!r_->Eval(ctx, &b)) return false;
    Number y;
    y.is_int = right_is_int_;
    if (right_is_int_) {
      y.i = b.i;
    } else {
      y.d = b.d;
    }
    return CompareNumbers<op>(x, y);
  }
 private:
  NodePtr l_, r_;
  bool right_is_int_;
  Number c_;
};

template <CmpOp op>
class CmpBoolNode final : public Node {
 public:
  CmpBoolNode(NodePtr l, NodePtr r) : l_(std::move(l)), r_(std::move(r)) {}
  bool Test(const Context& ctx) const override {
    return Compare<op>(l_->Test(ctx), r_->Test(ctx));
  }
 private:
  NodePtr l_, r_;
};

// x in ['a', 'b'] for a string or attribute x.
class InStringsNode final : public Node {
 public:
  InStringsNode(NodePtr x, std::vector<std::string> items)
      : x_(std::move(x)), items_(std::move(items)) {}
  bool Test(const Context& ctx) const override {
    Value v;
    if (!x_->Eval(ctx, &v)) return false;
    for (const std::string& item : items_) {
      if (v.s == item) return true;
    }
    return false;
  }
 private:
  NodePtr x_;
  std::vector<std::string> items_;
};

// x in [1, 2.5] for an int, double or attribute x.
class InNumbersNode final : public Node {
 public:
  enum class Left : uint8_t { kInt, kDouble, kAttr };
  InNumbersNode(NodePtr x, Left left, std::vector<Number> items)
      : x_(std::move(x)), left_(left), items_(std::move(items)) {}
  bool Test(const Context& ctx) const override {
    Value v;
    if (!x_->Eval(ctx, &v)) return false;
    Number n;
    switch (left_) {
      case Left::kInt: n.is_int = true; n.i = v.i; break;
      case Left::kDouble: n.d = v.d; break;
      case Left::kAttr:
        if (!ParseNumber(v.s, &n)) return false;
        break;
    }
    for (const Number& item : items_) {
      if (CompareNumbers<CmpOp::kEq>(n, item)) return true;
    }
    return false;
  }
 private:
  NodePtr x_;
  Left left_;
  std::vector<Number> items_;
};

// ---------------------------------------------------------------------------
// Text functions.

enum class TextOp : uint8_t { kStartsWith, kEndsWith, kContains };

template <TextOp op>
class TextPredicateNode final : public Node {
 public:
  TextPredicateNode(NodePtr s, NodePtr arg)
      : s_(std::move(s)), arg_(std::move(arg)) {}
  bool Test(const Context& ctx) const override {
    Value a, b;
    if (!s_->Eval(ctx, &a) || !arg_->Eval(ctx, &b)) return false;
    std::string_view s = a.s, x = b.s;
    if (x.size() > s.size()) return false;
    if constexpr (op == TextOp::kStartsWith) return s.substr(0, x.size()) == x;
    if constexpr (op == TextOp::kEndsWith) {
      return s.substr(s.size() - x.size()) == x;
    }
    if constexpr (op == TextOp::kContains) {
      return s.find(x) != std::string_view::npos;
    }
  }
 private:
  NodePtr s_, arg_;
};

// RE2 partial match, as CEL's matches(). RE2 may grow its internal DFA
// cache on first use of a state (bounded by the pattern's max_mem); that is
// RE2's own memory, not a per-evaluation allocation of ours.
class MatchesNode final : public Node {
 public:
  MatchesNode(NodePtr s, std::unique_ptr<RE2> re)
      : s_(std::move(s)), re_(std::move(re)) {}
  bool Test(const Context& ctx) const override {
    Value a;
    if (!s_->Eval(ctx, &a)) return false;
    return RE2::PartialMatch(re2::StringPiece(a.s.data(), a.s.size()), *re_);
  }
 private:
  NodePtr s_;
  std::unique_ptr<RE2> re_;
};

// size() of a string: Unicode code points (as CEL), counted over UTF-8.
class TextSizeNode final : public Node {
 public:
  explicit TextSizeNode(NodePtr s) : s_(std::move(s)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    if (!s_->Eval(ctx, out)) return false;
    int64_t n = 0;
    for (char c : out->s) {
      n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    out->i = n;
    return true;
  }
 private:
  NodePtr s_;
};

// ---------------------------------------------------------------------------
// Conversions.

class IntToDoubleNode final : public Node {
 public:
  explicit IntToDoubleNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    if (!x_->Eval(ctx, out)) return false;
    out->d = static_cast<double>(out->i);
    return true;
  }
 private:
  NodePtr x_;
};

class DoubleToIntNode final : public Node {
 public:
  explicit DoubleToIntNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    if (!x_->Eval(ctx, out)) return false;
    double d = out->d;
    return DoubleToInt(d, &out->i);
  }
 private:
  NodePtr x_;
};

// int('42'): an integer, or a number truncated toward zero.
class TextToIntNode final : public Node {
 public:
  explicit TextToIntNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    Number n;
    if (!x_->Eval(ctx, out) || !ParseNumber(out->s, &n)) return false;
    if (n.is_int) {
      out->i = n.i;
      return true;
    }
    return DoubleToInt(n.d, &out->i);
  }
 private:
  NodePtr x_;
};

class TextToDoubleNode final : public Node {
 public:
  explicit TextToDoubleNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    Number n;
    if (!x_->Eval(ctx, out) || !ParseNumber(out->s, &n)) return false;
    out->d = n.AsDouble();
    return true;
  }
 private:
  NodePtr x_;
};

// string() of a number: formatted into the value's own buffer.
class IntToTextNode final : public Node {
 public:
  explicit IntToTextNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    if (!x_->Eval(ctx, out)) return false;
    auto r = std::to_chars(out->buf, out->buf + sizeof(out->buf), out->i);
    out->s = std::string_view(out->buf, static_cast<size_t>(r.ptr - out->buf));
    return true;
  }
 private:
  NodePtr x_;
};

// Shortest text that reads back as the same double ("1.5", "1e+21", "inf").
class DoubleToTextNode final : public Node {
 public:
  explicit DoubleToTextNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    if (!x_->Eval(ctx, out)) return false;
    auto r = std::to_chars(out->buf, out->buf + sizeof(out->buf), out->d);
    out->s = std::string_view(out->buf, static_cast<size_t>(r.ptr - out->buf));
    return true;
  }
 private:
  NodePtr x_;
};

class BoolToTextNode final : public Node {
 public:
  explicit BoolToTextNode(NodePtr x) : x_(std::move(x)) {}
  bool Eval(const Context& ctx, Value* out) const override {
    out->s = x_->Test(ctx) ? std::string_view("true")
                           : std::string_view("false");
    return true;
  }
 private:
  NodePtr x_;
};

}  // namespace leadscore::expr

#endif  // LEADSCORE_LIB_EXPR_NODES_H_
