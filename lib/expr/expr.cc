// The checker and planner of the condition language: syntax tree -> typed,
// name-resolved tree of evaluation nodes (nodes.h). Every problem found is
// reported with the offset of the token it is about; a sub-expression that
// already has a problem is not reported again by the expressions around it.
#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/duration.h"
#include "lib/expr/expr.h"
#include "lib/expr/nodes.h"
#include "lib/expr/parser.h"

namespace leadscore::expr {

Program::~Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;

bool Program::EvalBool(const Context& ctx) const {
  return type_ == Type::kBool && root_->Test(ctx);
}

double Program::EvalNumber(const Context& ctx) const {
  Value v;
  switch (type_) {
    case Type::kInt:
      return root_->Eval(ctx, &v) ? static_cast<double>(v.i) : 0.0;
    case Type::kDouble:
      return root_->Eval(ctx, &v) ? v.d : 0.0;
    default:
      return 0.0;
  }
}

namespace {

// An item of a list literal.
struct ListItem {
  bool is_text = false;
  std::string text;
  Number number;
  int pos = 0;
};

// The checker's view of one sub-expression.
struct Checked {
  bool ok = false;
  Type type = Type::kBool;
  NodePtr node;  // null for lists and `tags`
  const Ast* ast = nullptr;
  // A literal (string, number, bool, duration('..')) whose value is known now;
  // comparisons then hold it inline instead of evaluating a node.
  bool literal = false;
  std::string text;
  Number number;
  std::vector<ListItem> items;  // kList
};

bool IsNumeric(Type t) { return t == Type::kInt || t == Type::kDouble; }
bool IsText(Type t) { return t == Type::kString || t == Type::kAttr; }

std::string TypeName(Type t) {
  switch (t) {
    case Type::kBool: return "true/false";
    case Type::kInt: return "a whole number";
    case Type::kDouble: return "a number";
    case Type::kString: return "text";
    case Type::kDuration: return "a duration";
    case Type::kTimestamp: return "a point in time";
    case Type::kAttr: return "an attribute (text)";
    case Type::kList: return "a list";
    case Type::kTags: return "the tag set";
    case Type::kStage: return "the stage";
  }
  return "?";
}

CmpOp ToCmpOp(std::string_view op) {
  if (op == "<") return CmpOp::kLt;
  if (op == "<=") return CmpOp::kLe;
  if (op == ">") return CmpOp::kGt;
  if (op == ">=") return CmpOp::kGe;
  if (op == "==") return CmpOp::kEq;
  return CmpOp::kNe;
}

// a op b  <=>  b Flip(op) a
CmpOp Flip(CmpOp op) {
  switch (op) {
    case CmpOp::kLt: return CmpOp::kGt;
    case CmpOp::kLe: return CmpOp::kGe;
    case CmpOp::kGt: return CmpOp::kLt;
    case CmpOp::kGe: return CmpOp::kLe;
    default: return op;
  }
}

template <template <CmpOp> class N, typename... Args>
NodePtr MakeCmp(CmpOp op, Args&&... args) {
  switch (op) {
    case CmpOp::kLt:
      return std::make_unique<N<CmpOp::kLt>>(std::forward<Args>(args)...);
    case CmpOp::kLe:
      return std::make_unique<N<CmpOp::kLe>>(std::forward<Args>(args)...);
    case CmpOp::kGt:
      return std::make_unique<N<CmpOp::kGt>>(std::forward<Args>(args)...);
    case CmpOp::kGe:
      return std::make_unique<N<CmpOp::kGe>>(std::forward<Args>(args)...);
    case CmpOp::kEq:
      return std::make_unique<N<CmpOp::kEq>>(std::forward<Args>(args)...);
    case CmpOp::kNe:
      return std::make_unique<N<CmpOp::kNe>>(std::forward<Args>(args)...);
  }
  return nullptr;
}

template <template <ArithOp> class N>
NodePtr MakeArith(ArithOp op, NodePtr l, NodePtr r) {
  switch (op) {
    case ArithOp::kAdd:
      return std::make_unique<N<ArithOp::kAdd>>(std::move(l), std::move(r));
    case ArithOp::kSub:
      return std::make_unique<N<ArithOp::kSub>>(std::move(l), std::move(r));
    case ArithOp::kMul:
      return std::make_unique<N<ArithOp::kMul>>(std::move(l), std::move(r));
    case ArithOp::kDiv:
      return std::make_unique<N<ArithOp::kDiv>>(std::move(l), std::move(r));
    case ArithOp::kMod:
      return std::make_unique<N<ArithOp::kMod>>(std::move(l), std::move(r));
  }
  return nullptr;
}

ArithOp ToArithOp(std::string_view op) {
  if (op == "+") return ArithOp::kAdd;
  if (op == "-") return ArithOp::kSub;
  if (op == "*") return ArithOp::kMul;
  if (op == "/") return ArithOp::kDiv;
  return ArithOp::kMod;
}

bool IsRelation(std::string_view op) {
  return op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" ||
         op == "!=";
}

enum class Family : uint8_t {
  kEvent, kMember, kScores, kCounters, kTags, kStage, kTime
};

// TimeShape::rises_with_scores. A program qualifies when it is a sum (+, and
// - of constants) of terms: a score, a constant, a score times a constant
// >= 0, a score divided by a constant > 0. Every constant is at most 2^500
// in size (a divisor at least 2^-500), and the engine takes the shortcut
// only while every score read is at most 2^500 in size: then no term and
// no partial sum of the at most 2^16 terms a condition can hold overflows
// (2^16 * 2^1000 < 2^1024), no NaN arises, and each operation, rounded, is
// non-decreasing in its operands, so the sum is in every score.
constexpr double kMaxMagnitude = 0x1p500;

bool IsConstantTerm(const Node& n) {
  double c;
  return n.ConstantValue(&c) && std::fabs(c) <= kMaxMagnitude;
}

bool IsRisingTerm(const Node& n) {
  if (dynamic_cast<const ScoreNode*>(&n) != nullptr) return true;
  if (IsConstantTerm(n)) return true;
  double c;
  if (auto* m = dynamic_cast<const DoubleArithNode<ArithOp::kMul>*>(&n)) {
    const Node* score = &m->left();
    const Node* factor = &m->right();
    if (dynamic_cast<const ScoreNode*>(score) == nullptr) std::swap(score, factor);
    return dynamic_cast<const ScoreNode*>(score) != nullptr &&
           factor->ConstantValue(&c) && c >= 0 && c <= kMaxMagnitude;
  }
  if (auto* d = dynamic_cast<const DoubleArithNode<ArithOp::kDiv>*>(&n)) {
    return dynamic_cast<const ScoreNode*>(&d->left()) != nullptr &&
           d->right().ConstantValue(&c) && c >= 1 / kMaxMagnitude &&
           c <= kMaxMagnitude;
  }
  return false;
}

bool IsRisingSum(const Node& n) {
  if (auto* a = dynamic_cast<const DoubleArithNode<ArithOp::kAdd>*>(&n)) {
    return IsRisingSum(a->left()) && IsRisingSum(a->right());
  }
  if (auto* d = dynamic_cast<const DoubleArithNode<ArithOp::kSub>*>(&n)) {
    return IsRisingSum(d->left()) && IsConstantTerm(d->right());
  }
  return IsRisingTerm(n);
}

}  // namespace

class Compiler {
 public:
  Compiler(std::string_view text, Scope& scope, std::vector<Problem>* problems)
      : text_(text), scope_(scope), problems_(problems) {}

  std::unique_ptr<Program> Run(Want want) {
    size_t before = problems_->size();
    std::unique_ptr<Ast> ast = Parse(text_, problems_);
    if (!ast) return nullptr;
    Checked c = Check(*ast);
    if (c.ok) CheckWanted(want, c);
    if (problems_->size() != before) {
      std::stable_sort(problems_->begin() + static_cast<long>(before),
                       problems_->end(),
                       [](const Problem& a, const Problem& b) {
                         return a.offset < b.offset;
                       });
      return nullptr;
    }
    std::unique_ptr<Program> program(new Program());
    program->root_ = std::move(c.node);
    program->type_ = c.type;
    std::sort(reads_.scores.begin(), reads_.scores.end());
    reads_.scores.erase(std::unique(reads_.scores.begin(), reads_.scores.end()),
                        reads_.scores.end());
    std::sort(reads_.counter_ids.begin(), reads_.counter_ids.end());
    reads_.counter_ids.erase(
        std::unique(reads_.counter_ids.begin(), reads_.counter_ids.end()),
        reads_.counter_ids.end());
    program->reads_ = std::move(reads_);
    if (program->type_ == Type::kBool) {
      program->root_->DescribeComparison(&program->time_shape_);
    } else if (program->type_ == Type::kDouble) {
      program->time_shape_.rises_with_scores = IsRisingSum(*program->root_);
    }
    return program;
  }

 private:
  // ---- reporting ---------------------------------------------------------

  Checked Fail(int pos, std::string message) {
    problems_->push_back({pos, std::move(message)});
    return Checked();
  }

  // The source text of a node, shortened for messages.
  std::string Src(const Ast& a) const {
    std::string_view s = text_.substr(static_cast<size_t>(a.start),
                                      static_cast<size_t>(a.end - a.start));
    if (s.size() <= 40) return std::string(s);
    size_t cut = 37;  // not inside a UTF-8 sequence
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    return absl::StrCat(std::string(s.substr(0, cut)), "...");
  }

  // Src(a) as the operand of a new operator in a suggestion.
  std::string Operand(const Ast& a) const {
    std::string s = Src(a);
    bool compound = a.kind == AstKind::kBinary || a.kind == AstKind::kCond;
    if (compound && s.front() != '(') return absl::StrCat("(", s, ")");
    return s;
  }

  std::string Sees() const {
    const Allowed& al = scope_.allowed;
    std::vector<std::string> parts;
    if (al.event) parts.push_back("event fields");
    if (al.member) parts.push_back("member attributes");
    if (al.scores) parts.push_back("scores");
    if (al.counters) parts.push_back("counters");
    if (al.tags) parts.push_back("tags");
    if (al.stage) parts.push_back("the stage");
    if (al.time) parts.push_back("now and idle");
    if (parts.empty()) return "it can use only fixed values";
    if (parts.size() == 1) return absl::StrCat("it sees only ", parts[0]);
    std::string last = parts.back();
    parts.pop_back();
    return absl::StrCat("it sees only ", absl::StrJoin(parts, ", "), " and ",
                        last);
  }

  // Checks that names of `family` may be used here; `name` is the whole
  // name expression (e.g. event.value), reported at its start.
  bool Allow(Family family, const Ast& name) {
    const Allowed& al = scope_.allowed;
    bool ok = false;
    switch (family) {
      case Family::kEvent: ok = al.event; break;
      case Family::kMember: ok = al.member; break;
      case Family::kScores: ok = al.scores; break;
      case Family::kCounters: ok = al.counters; break;
      case Family::kTags: ok = al.tags; break;
      case Family::kStage: ok = al.stage; break;
      case Family::kTime: ok = al.time; break;
    }
    if (ok) return true;
    std::string why = Sees();
    if (family == Family::kEvent) {
      absl::StrAppend(&why, " (event fields exist only in conditions "
                            "evaluated for an event: rules, counters, event "
                            "tags and transitions with on)");
    }
    Fail(name.start, absl::StrCat(Src(name), " is not available in ",
                                  al.where, ": ", why));
    return false;
  }

  // ---- results -----------------------------------------------------------

  static Checked Ok(Type type, NodePtr node, const Ast& a) {
    Checked c;
    c.ok = true;
    c.type = type;
    c.node = std::move(node);
    c.ast = &a;
    return c;
  }

  static Checked IntLiteral(int64_t v, const Ast& a, Type type = Type::kInt) {
    Checked c = Ok(type, std::make_unique<ConstIntNode>(v), a);
    c.literal = true;
    c.number.is_int = true;
    c.number.i = v;
    return c;
  }

  static Checked DoubleLiteral(double v, const Ast& a) {
    Checked c = Ok(Type::kDouble, std::make_unique<ConstDoubleNode>(v), a);
    c.literal = true;
    c.number.d = v;
    return c;
  }

  // An int operand used where a double is needed.
  static NodePtr AsDouble(Checked& c) {
    if (c.type == Type::kInt) {
      if (c.literal) {
        c.number.d = static_cast<double>(c.number.i);
        c.number.is_int = false;
      }
      c.type = Type::kDouble;
      // A literal is converted once, here (the same double).
      c.node = c.literal
                   ? NodePtr(std::make_unique<ConstDoubleNode>(c.number.d))
                   : NodePtr(std::make_unique<IntToDoubleNode>(std::move(c.node)));
    }
    return std::move(c.node);
  }

  // ---- dispatch ----------------------------------------------------------

  Checked Check(const Ast& a) {
    switch (a.kind) {
      case AstKind::kInt: return IntLiteral(a.int_value, a);
      case AstKind::kDouble: return DoubleLiteral(a.double_value, a);
      case AstKind::kString: {
        Checked c = Ok(Type::kString, std::make_unique<ConstStringNode>(a.text),
                       a);
        c.literal = true;
        c.text = a.text;
        return c;
      }
      case AstKind::kBool: {
        Checked c = Ok(Type::kBool, std::make_unique<ConstBoolNode>(a.bool_value),
                       a);
        c.literal = true;
        return c;
      }
      case AstKind::kList: return CheckList(a);
      case AstKind::kIdent: return CheckIdent(a);
      case AstKind::kSelect: return CheckSelect(a);
      case AstKind::kIndex: return CheckIndex(a);
      case AstKind::kCall: return CheckCall(a);
      case AstKind::kMethod: return CheckMethod(a);
      case AstKind::kUnary: return CheckUnary(a);
      case AstKind::kBinary: return CheckBinary(a);
      case AstKind::kCond: return CheckCond(a);
    }
    return Fail(a.pos, "internal error: unknown syntax");
  }

  void CheckWanted(Want want, const Checked& c) {
    if (want == Want::kBool && c.type != Type::kBool) {
      std::string hint;
      if (IsNumeric(c.type)) {
        hint = absl::StrCat("; compare it, e.g. ", Operand(*c.ast), " >= 10");
      } else if (IsText(c.type)) {
        hint = absl::StrCat("; compare it, e.g. ", Operand(*c.ast),
                            " == 'yes'");
      } else if (c.type == Type::kStage) {
        hint = "; compare it, e.g. stage == 'mql'";
      } else if (c.type == Type::kTags) {
        hint = "; test one tag, e.g. 'vip' in tags";
      } else if (c.type == Type::kDuration) {
        hint = absl::StrCat("; compare it, e.g. ", Operand(*c.ast),
                            " > duration('7d')");
      }
      Fail(c.ast->start,
           absl::StrCat("a condition must be true or false, but ", Src(*c.ast),
                        " is ", TypeName(c.type), hint));
    } else if (want == Want::kNumber && !IsNumeric(c.type)) {
      Fail(c.ast->start,
           absl::StrCat("a formula must compute a number, but ", Src(*c.ast),
                        " is ", TypeName(c.type),
                        "; e.g. score.engagement + score.fit"));
    }
  }

  // ---- names -------------------------------------------------------------

  Checked CheckIdent(const Ast& a) {
    const std::string& n = a.text;
    if (n == "stage") {
      if (!Allow(Family::kStage, a)) return Checked();
      if (!scope_.HasLifecycle()) {
        return Fail(a.pos, "this model has no lifecycle, so there is no "
                           "stage to test");
      }
      reads_.stage = true;
      return Ok(Type::kStage, std::make_unique<StageNode>(), a);
    }
    if (n == "stage_age") {
      if (!Allow(Family::kStage, a)) return Checked();
      if (!scope_.HasLifecycle()) {
        return Fail(a.pos, "this model has no lifecycle, so there is no "
                           "stage_age");
      }
      reads_.stage = true;
      reads_.time = true;
      return Ok(Type::kDuration, std::make_unique<StageAgeNode>(), a);
    }
    if (n == "tags") {
      if (!Allow(Family::kTags, a)) return Checked();
      reads_.tags = true;
      return Ok(Type::kTags, nullptr, a);
    }
    if (n == "idle") {
      if (!Allow(Family::kTime, a)) return Checked();
      reads_.time = true;
      return Ok(Type::kDuration, std::make_unique<IdleNode>(), a);
    }
    if (n == "now") {
      if (!Allow(Family::kTime, a)) return Checked();
      reads_.time = true;
      return Ok(Type::kTimestamp, std::make_unique<NowNode>(), a);
    }
    if (n == "event") {
      return Fail(a.pos, "event needs a field: event.type, event.value, "
                         "event.group, event.channel or event.attrs.KEY");
    }
    if (n == "member") {
      return Fail(a.pos, "member needs an attribute name, e.g. member.role");
    }
    if (n == "score") {
      return Fail(a.pos, "score needs a score name, e.g. score.engagement");
    }
    if (n == "counter") {
      return Fail(a.pos, "counter needs a counter name, e.g. counter.posts");
    }
    if (n == "and" || n == "or" || n == "not") {
      return Fail(a.pos, absl::StrCat("'", n, "' is not an operator: write ",
                                      n == "and" ? "&&"
                                      : n == "or" ? "||"
                                                  : "!"));
    }
    return Fail(a.pos,
                absl::StrCat("unknown name '", n,
                             "'; names are event.*, member.*, score.*, "
                             "counter.*, stage, tags, idle, stage_age and now; "
                             "to mean the text, put it in quotes: '",
                             n, "'"));
  }

  static bool IsIdent(const Ast& a, std::string_view name) {
    return a.kind == AstKind::kIdent && a.text == name;
  }
  static bool IsEventAttrs(const Ast& a) {
    return a.kind == AstKind::kSelect && a.text == "attrs" &&
           IsIdent(*a.args[0], "event");
  }

  // member.K / event.attrs.K given the receiver, the key and the whole name.
  Checked Attr(const Ast& recv, const std::string& key, const Ast& whole) {
    if (IsIdent(recv, "member")) {
      if (!Allow(Family::kMember, whole)) return Checked();
      reads_.member = true;
      return Ok(Type::kAttr,
                std::make_unique<MemberAttrNode>(scope_.InternMemberAttr(key)),
                whole);
    }
    if (!Allow(Family::kEvent, whole)) return Checked();
    reads_.event = true;
    return Ok(Type::kAttr,
              std::make_unique<EventAttrNode>(scope_.InternEventAttr(key)),
              whole);
  }

  Checked CheckSelect(const Ast& a) {
    const Ast& recv = *a.args[0];
    if (IsIdent(recv, "member") || IsEventAttrs(recv)) {
      return Attr(recv, a.text, a);
    }
    if (IsIdent(recv, "event")) {
      if (!Allow(Family::kEvent, a)) return Checked();
      const std::string& f = a.text;
      if (f == "attrs") {
        return Fail(a.pos, "event.attrs needs a key, e.g. event.attrs.topic");
      }
      NodePtr node;
      Type type = Type::kString;
      if (f == "type") {
        node = std::make_unique<EventStringNode>(EventField::kType);
      } else if (f == "group") {
        node = std::make_unique<EventStringNode>(EventField::kGroup);
        scope_.NoteEventGroupOrChannel();
      } else if (f == "channel") {
        node = std::make_unique<EventStringNode>(EventField::kChannel);
        scope_.NoteEventGroupOrChannel();
      } else if (f == "value") {
        node = std::make_unique<EventValueNode>();
        scope_.NoteEventValue();
        type = Type::kDouble;
      } else {
        return Fail(a.pos, absl::StrCat(
                               "unknown event field '", f,
                               "'; the fields are type, value, group, channel "
                               "and attrs.KEY (e.g. event.attrs.", f, ")"));
      }
      reads_.event = true;
      return Ok(type, std::move(node), a);
    }
    if (IsIdent(recv, "score")) {
      if (!Allow(Family::kScores, a)) return Checked();
      int index = scope_.ScoreIndex(a.text);
      if (index < 0) {
        return Fail(a.pos, absl::StrCat("unknown score '", a.text,
                                        "'; check the spelling against the "
                                        "scores the model declares"));
      }
      reads_.scores.push_back(index);
      return Ok(Type::kDouble, std::make_unique<ScoreNode>(index), a);
    }
    if (IsIdent(recv, "counter")) {
      if (!Allow(Family::kCounters, a)) return Checked();
      int index = scope_.CounterIndex(a.text);
      if (index < 0) {
        return Fail(a.pos, absl::StrCat("unknown counter '", a.text,
                                        "'; check the spelling against the "
                                        "counters the model declares"));
      }
      reads_.counters = true;
      reads_.counter_ids.push_back(index);
      return Ok(Type::kInt, std::make_unique<CounterNode>(index), a);
    }
    Checked r = Check(recv);
    if (!r.ok) return r;
    return Fail(a.pos, absl::StrCat(Src(recv), " is ", TypeName(r.type),
                                    " and has no field '", a.text, "'"));
  }

  Checked CheckIndex(const Ast& a) {
    const Ast& recv = *a.args[0];
    const Ast& key = *a.args[1];
    if (IsIdent(recv, "member") || IsEventAttrs(recv)) {
      if (key.kind != AstKind::kString) {
        return Fail(key.start, absl::StrCat("the key in ", Src(recv),
                                            "[...] must be text in quotes, "
                                            "e.g. ", Src(recv),
                                            "['job title']"));
      }
      return Attr(recv, key.text, a);
    }
    Checked r = Check(recv);
    if (!r.ok) return r;
    return Fail(a.pos, absl::StrCat("[...] looks up attributes only, e.g. "
                                    "member['job title'], but ", Src(recv),
                                    " is ", TypeName(r.type)));
  }

  // ---- functions ---------------------------------------------------------

  bool ArgCount(const Ast& call, size_t got, size_t want,
                std::string_view usage) {
    if (got == want) return true;
    Fail(call.pos, absl::StrCat(call.text, "() takes ", want,
                                want == 1 ? " argument" : " arguments",
                                ", e.g. ", std::string(usage)));
    return false;
  }

  // Checks every argument (so that all their problems are reported).
  std::vector<Checked> CheckAll(const std::vector<std::unique_ptr<Ast>>& args,
                                size_t from, bool* all_ok) {
    std::vector<Checked> out;
    *all_ok = true;
    for (size_t i = from; i < args.size(); ++i) {
      out.push_back(Check(*args[i]));
      if (!out.back().ok) *all_ok = false;
    }
    return out;
  }

  Checked CheckCall(const Ast& a) {
    const std::string& f = a.text;
    size_t n = a.args.size();
    if (f == "has") {
      if (!ArgCount(a, n, 1, "has(member.company)")) return Checked();
      return CheckHas(a, *a.args[0]);
    }
    if (f == "duration") {
      if (!ArgCount(a, n, 1, "duration('30d')")) return Checked();
      const Ast& arg = *a.args[0];
      if (arg.kind != AstKind::kString) {
        Checked c = Check(arg);
        if (!c.ok) return c;
        return Fail(arg.start, "duration() needs the duration as text in "
                               "quotes, e.g. duration('30d')");
      }
      absl::StatusOr<int64_t> ms = ParseDuration(arg.text);
      if (!ms.ok()) {
        return Fail(arg.start,
                    absl::StrCat("invalid duration: ", ms.status().message()));
      }
      return IntLiteral(*ms, a, Type::kDuration);
    }
    if (f == "matches") {
      if (!ArgCount(a, n, 2, "matches(member.email, '@acme\\\\.com$')")) {
        return Checked();
      }
      return CheckMatches(a, *a.args[0], *a.args[1]);
    }
    if (f == "size" || f == "int" || f == "double" || f == "string") {
      if (!ArgCount(a, n, 1, absl::StrCat(f, "(member.employees)"))) {
        return Checked();
      }
      Checked x = Check(*a.args[0]);
      if (!x.ok) return x;
      if (f == "size") return Size(a, std::move(x));
      if (f == "int") return ToInt(a, std::move(x));
      if (f == "double") return ToDouble(a, std::move(x));
      return ToText(a, std::move(x));
    }
    if (f == "startsWith" || f == "endsWith" || f == "contains") {
      return Fail(a.pos, absl::StrCat(f, " is written after the text it "
                                         "tests, e.g. member.email.",
                                      f, "('...')"));
    }
    bool ok;
    CheckAll(a.args, 0, &ok);
    return Fail(a.pos, absl::StrCat("unknown function '", f,
                                    "'; the functions are has, size, int, "
                                    "double, string, duration, matches, "
                                    "startsWith, endsWith and contains"));
  }

  Checked CheckMethod(const Ast& a) {
    const std::string& f = a.text;
    Checked recv = Check(*a.args[0]);
    size_t n = a.args.size() - 1;
    if (f == "matches") {
      if (!recv.ok) {
        // Still report a bad pattern.
        if (n == 1 && a.args[1]->kind == AstKind::kString) {
          CompilePattern(*a.args[1]);
        }
        return recv;
      }
      if (!ArgCount(a, n, 1, "member.email.matches('@acme\\\\.com$')")) {
        return Checked();
      }
      return Matches(a, std::move(recv), *a.args[1]);
    }
    if (f == "startsWith" || f == "endsWith" || f == "contains") {
      if (n != 1) {
        if (!recv.ok) return recv;
        ArgCount(a, n, 1, absl::StrCat("member.email.", f, "('...')"));
        return Checked();
      }
      Checked arg = Check(*a.args[1]);
      if (!recv.ok || !arg.ok) return Checked();
      bool bad = false;
      if (!IsText(recv.type)) {
        Fail(recv.ast->start, absl::StrCat(f, " works on text, but ",
                                           Src(*recv.ast), " is ",
                                           TypeName(recv.type)));
        bad = true;
      }
      if (!IsText(arg.type)) {
        Fail(arg.ast->start, absl::StrCat(f, " needs text, but ",
                                          Src(*arg.ast), " is ",
                                          TypeName(arg.type),
                                          "; put text in quotes"));
        bad = true;
      }
      if (bad) return Checked();
      NodePtr node;
      if (f == "startsWith") {
        node = std::make_unique<TextPredicateNode<TextOp::kStartsWith>>(
            std::move(recv.node), std::move(arg.node));
      } else if (f == "endsWith") {
        node = std::make_unique<TextPredicateNode<TextOp::kEndsWith>>(
            std::move(recv.node), std::move(arg.node));
      } else {
        node = std::make_unique<TextPredicateNode<TextOp::kContains>>(
            std::move(recv.node), std::move(arg.node));
      }
      return Ok(Type::kBool, std::move(node), a);
    }
    if (f == "size") {
      if (!recv.ok) return recv;
      if (!ArgCount(a, n, 0, absl::StrCat(Src(*a.args[0]), ".size()"))) {
        return Checked();
      }
      return Size(a, std::move(recv));
    }
    bool ok;
    CheckAll(a.args, 1, &ok);
    if (!recv.ok) return recv;
    return Fail(a.pos, absl::StrCat("unknown function '", f,
                                    "'; after a value you can write "
                                    "startsWith, endsWith, contains, matches "
                                    "or size"));
  }

  Checked CheckHas(const Ast& call, const Ast& arg) {
    bool select = arg.kind == AstKind::kSelect &&
                  (IsIdent(*arg.args[0], "member") ||
                   IsEventAttrs(*arg.args[0]));
    bool index = arg.kind == AstKind::kIndex &&
                 (IsIdent(*arg.args[0], "member") ||
                  IsEventAttrs(*arg.args[0]));
    if (!select && !index) {
      Checked c = Check(arg);
      if (!c.ok) return c;
      return Fail(arg.start, absl::StrCat("has() tests whether an attribute "
                                          "is present, e.g. "
                                          "has(member.company); ",
                                          Src(arg), " is not an attribute"));
    }
    Checked attr = Check(arg);
    if (!attr.ok) return attr;
    if (IsIdent(*arg.args[0], "member")) {
      // Re-derive the id: Check() interned it; interning is idempotent.
      std::string key = select ? arg.text : arg.args[1]->text;
      return Ok(Type::kBool,
                std::make_unique<HasMemberAttrNode>(
                    scope_.InternMemberAttr(key)),
                call);
    }
    std::string key = select ? arg.text : arg.args[1]->text;
    return Ok(Type::kBool,
              std::make_unique<HasEventAttrNode>(scope_.InternEventAttr(key)),
              call);
  }

  Checked CheckMatches(const Ast& call, const Ast& subject,
                       const Ast& pattern) {
    Checked s = Check(subject);
    if (!s.ok) {
      if (pattern.kind == AstKind::kString) CompilePattern(pattern);
      return s;
    }
    return Matches(call, std::move(s), pattern);
  }

  std::unique_ptr<RE2> CompilePattern(const Ast& pattern) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(pattern.text, options);
    if (!re->ok()) {
      Fail(pattern.start, absl::StrCat("invalid pattern: ", re->error(),
                                       " (patterns use RE2 syntax)"));
      return nullptr;
    }
    return re;
  }

  Checked Matches(const Ast& call, Checked s, const Ast& pattern) {
    bool bad = false;
    if (!IsText(s.type)) {
      Fail(s.ast->start, absl::StrCat("matches works on text, but ",
                                      Src(*s.ast), " is ", TypeName(s.type)));
      bad = true;
    }
    if (pattern.kind != AstKind::kString) {
      Checked p = Check(pattern);
      if (!p.ok) return p;
      return Fail(pattern.start, "the pattern of matches must be written in "
                                 "quotes, e.g. matches('^cfo$')");
    }
    std::unique_ptr<RE2> re = CompilePattern(pattern);
    if (!re || bad) return Checked();
    return Ok(Type::kBool,
              std::make_unique<MatchesNode>(std::move(s.node), std::move(re)),
              call);
  }

  Checked Size(const Ast& call, Checked x) {
    if (IsText(x.type)) {
      return Ok(Type::kInt, std::make_unique<TextSizeNode>(std::move(x.node)),
                call);
    }
    if (x.type == Type::kList) {
      return IntLiteral(static_cast<int64_t>(x.items.size()), call);
    }
    if (x.type == Type::kTags) {
      int count = scope_.TagCount();
      if (count < 0) {
        return Fail(call.pos, "size(tags) is not available here");
      }
      return Ok(Type::kInt, std::make_unique<TagCountNode>(count), call);
    }
    return Fail(x.ast->start, absl::StrCat("size() counts the characters of "
                                           "text or the items of a list, but ",
                                           Src(*x.ast), " is ",
                                           TypeName(x.type)));
  }

  Checked ToInt(const Ast& call, Checked x) {
    switch (x.type) {
      case Type::kInt:
        x.ast = &call;
        return x;
      case Type::kDouble:
        return Ok(Type::kInt,
                  std::make_unique<DoubleToIntNode>(std::move(x.node)), call);
      case Type::kString:
      case Type::kAttr:
        return Ok(Type::kInt,
                  std::make_unique<TextToIntNode>(std::move(x.node)), call);
      default:
        break;
    }
    return CannotConvert("int", x);
  }

  // int() or double() of something that is neither a number nor text.
  Checked CannotConvert(const char* fn, const Checked& x) {
    std::string hint;
    if (x.type == Type::kDuration) {
      hint = "; compare durations with durations, e.g. idle > duration('7d')";
    }
    return Fail(x.ast->start,
                absl::StrCat(fn, "() converts numbers and text, but ", Src(*x.ast),
                             " is ", TypeName(x.type), hint));
  }

  Checked ToDouble(const Ast& call, Checked x) {
    switch (x.type) {
      case Type::kInt: {
        NodePtr node = AsDouble(x);
        return Ok(Type::kDouble, std::move(node), call);
      }
      case Type::kDouble:
        x.ast = &call;
        return x;
      case Type::kString:
      case Type::kAttr:
        return Ok(Type::kDouble,
                  std::make_unique<TextToDoubleNode>(std::move(x.node)), call);
      default:
        break;
    }
    return CannotConvert("double", x);
  }

  Checked ToText(const Ast& call, Checked x) {
    switch (x.type) {
      case Type::kString:
      case Type::kAttr:
        // Stays a (possibly missing) value, but now counts as text: it is
        // compared as text even with numbers.
        return Ok(Type::kString, std::move(x.node), call);
      case Type::kInt:
        return Ok(Type::kString,
                  std::make_unique<IntToTextNode>(std::move(x.node)), call);
      case Type::kDouble:
        return Ok(Type::kString,
                  std::make_unique<DoubleToTextNode>(std::move(x.node)), call);
      case Type::kBool:
        return Ok(Type::kString,
                  std::make_unique<BoolToTextNode>(std::move(x.node)), call);
      default:
        break;
    }
    return Fail(x.ast->start,
                absl::StrCat("string() converts numbers, text and true/false, "
                             "but ", Src(*x.ast), " is ", TypeName(x.type)));
  }

  // ---- lists -------------------------------------------------------------

  Checked CheckList(const Ast& a) {
    Checked out = Ok(Type::kList, nullptr, a);
    bool ok = true;
    int first_kind = -1;  // 0 text, 1 number
    for (const auto& e : a.args) {
      Checked c = Check(*e);
      if (!c.ok) {
        ok = false;
        continue;
      }
      bool text = c.type == Type::kString;
      bool number = IsNumeric(c.type);
      if (!c.literal || (!text && !number)) {
        Fail(e->start, absl::StrCat("list items must be fixed values: numbers "
                                    "or text in quotes, but ", Src(*e),
                                    " is not"));
        ok = false;
        continue;
      }
      int kind = text ? 0 : 1;
      if (first_kind >= 0 && kind != first_kind) {
        Fail(e->start, "a list must hold only text or only numbers");
        ok = false;
        continue;
      }
      first_kind = kind;
      ListItem item;
      item.is_text = text;
      item.text = c.text;
      item.number = c.number;
      item.pos = e->start;
      out.items.push_back(std::move(item));
    }
    if (!ok) return Checked();
    return out;
  }

  // ---- operators ---------------------------------------------------------

  Checked CheckUnary(const Ast& a) {
    Checked x = Check(*a.args[0]);
    if (!x.ok) return x;
    if (a.op == "!") {
      if (x.type != Type::kBool) {
        return Fail(x.ast->start,
                    absl::StrCat("! needs true/false, but ", Src(*x.ast),
                                 " is ", TypeName(x.type)));
      }
      return Ok(Type::kBool, std::make_unique<NotNode>(std::move(x.node)), a);
    }
    // Unary minus.
    if (x.literal && x.type == Type::kInt) {
      if (x.number.i == INT64_MIN) {
        return Fail(a.pos, "number too large for a whole number");
      }
      return IntLiteral(-x.number.i, a);
    }
    if (x.literal && x.type == Type::kDouble) {
      return DoubleLiteral(-x.number.d, a);
    }
    if (x.type == Type::kInt || x.type == Type::kDuration) {
      return Ok(x.type, std::make_unique<NegIntNode>(std::move(x.node)), a);
    }
    if (x.type == Type::kDouble) {
      return Ok(x.type, std::make_unique<NegDoubleNode>(std::move(x.node)), a);
    }
    std::string hint;
    if (x.type == Type::kAttr) {
      hint = absl::StrCat("; write -double(", Src(*x.ast),
                          ") to use it as a number");
    }
    return Fail(x.ast->start, absl::StrCat("- needs a number, but ",
                                           Src(*x.ast), " is ",
                                           TypeName(x.type), hint));
  }

  Checked CheckCond(const Ast& a) {
    Checked c = Check(*a.args[0]);
    Checked x = Check(*a.args[1]);
    Checked y = Check(*a.args[2]);
    if (c.ok && c.type != Type::kBool) {
      Fail(c.ast->start, absl::StrCat("the part before ? must be true/false, "
                                      "but ", Src(*c.ast), " is ",
                                      TypeName(c.type)));
      return Checked();
    }
    if (!c.ok || !x.ok || !y.ok) return Checked();
    Type type;
    if (x.type == y.type &&
        (x.type == Type::kBool || IsNumeric(x.type) || IsText(x.type) ||
         x.type == Type::kDuration || x.type == Type::kTimestamp)) {
      type = x.type;
    } else if (IsNumeric(x.type) && IsNumeric(y.type)) {
      x.node = AsDouble(x);
      y.node = AsDouble(y);
      type = Type::kDouble;
    } else if (IsText(x.type) && IsText(y.type)) {
      type = Type::kAttr;
    } else {
      return Fail(a.pos, absl::StrCat("both branches of ?: must be the same "
                                      "kind of value, but ", Src(*x.ast),
                                      " is ", TypeName(x.type), " and ",
                                      Src(*y.ast), " is ", TypeName(y.type)));
    }
    return Ok(type,
              std::make_unique<CondNode>(std::move(c.node), std::move(x.node),
                                         std::move(y.node)),
              a);
  }

  Checked CheckBinary(const Ast& a) {
    Checked l = Check(*a.args[0]);
    Checked r = Check(*a.args[1]);
    const std::string& op = a.op;
    if (op == "&&" || op == "||") return Logic(a, std::move(l), std::move(r));
    if (!l.ok || !r.ok) return Checked();
    if (op == "in") return In(a, std::move(l), std::move(r));
    if (IsRelation(op)) return Relation(a, std::move(l), std::move(r));
    return Arith(a, std::move(l), std::move(r));
  }

  Checked Logic(const Ast& a, Checked l, Checked r) {
    bool bad = false;
    for (Checked* x : {&l, &r}) {
      if (x->ok && x->type != Type::kBool) {
        std::string hint;
        if (IsText(x->type)) {
          hint = absl::StrCat("; compare it, e.g. ", Operand(*x->ast),
                              " == 'yes'");
        } else if (IsNumeric(x->type)) {
          hint = absl::StrCat("; compare it, e.g. ", Operand(*x->ast), " > 0");
        }
        Fail(x->ast->start, absl::StrCat(a.op, " joins true/false values, "
                                         "but ", Src(*x->ast), " is ",
                                         TypeName(x->type), hint));
        bad = true;
      }
    }
    if (bad || !l.ok || !r.ok) return Checked();
    if (a.op == "&&") {
      return Ok(Type::kBool,
                std::make_unique<AndNode>(std::move(l.node), std::move(r.node)),
                a);
    }
    return Ok(Type::kBool,
              std::make_unique<OrNode>(std::move(l.node), std::move(r.node)),
              a);
  }

  Checked Arith(const Ast& a, Checked l, Checked r) {
    ArithOp op = ToArithOp(a.op);
    Type lt = l.type, rt = r.type;
    // Attributes are text: say how to make them numbers.
    for (Checked* x : {&l, &r}) {
      if (x->type == Type::kAttr && (IsNumeric(lt) || IsNumeric(rt) ||
                                     a.op != "+")) {
        return Fail(x->ast->start,
                    absl::StrCat(Src(*x->ast), " is an attribute (text); to "
                                 "calculate with it write double(",
                                 Src(*x->ast), ")"));
      }
    }
    if (op == ArithOp::kAdd && IsText(lt) && IsText(rt)) {
      return Fail(a.pos, "text cannot be joined with +; compare each part "
                         "separately, e.g. a == 'x' && b == 'y'");
    }
    if (IsNumeric(lt) && IsNumeric(rt)) {
      if (lt == Type::kInt && rt == Type::kInt) {
        return Ok(Type::kInt,
                  MakeArith<IntArithNode>(op, std::move(l.node),
                                          std::move(r.node)),
                  a);
      }
      NodePtr x = AsDouble(l);
      NodePtr y = AsDouble(r);
      return Ok(Type::kDouble,
                MakeArith<DoubleArithNode>(op, std::move(x), std::move(y)), a);
    }
    // Durations and points in time; integer milliseconds underneath.
    Type result = Type::kBool;
    bool ok = false;
    using T = Type;
    switch (op) {
      case ArithOp::kAdd:
        if (lt == T::kDuration && rt == T::kDuration) {
          result = T::kDuration, ok = true;
        } else if ((lt == T::kTimestamp && rt == T::kDuration) ||
                   (lt == T::kDuration && rt == T::kTimestamp)) {
          result = T::kTimestamp, ok = true;
        }
        break;
      case ArithOp::kSub:
        if (lt == T::kDuration && rt == T::kDuration) {
          result = T::kDuration, ok = true;
        } else if (lt == T::kTimestamp && rt == T::kDuration) {
          result = T::kTimestamp, ok = true;
        } else if (lt == T::kTimestamp && rt == T::kTimestamp) {
          result = T::kDuration, ok = true;
        }
        break;
      case ArithOp::kMul:
        if ((lt == T::kDuration && rt == T::kInt) ||
            (lt == T::kInt && rt == T::kDuration)) {
          result = T::kDuration, ok = true;
        }
        break;
      default:
        break;
    }
    if (ok) {
      return Ok(result,
                MakeArith<IntArithNode>(op, std::move(l.node),
                                        std::move(r.node)),
                a);
    }
    std::string hint;
    if ((lt == T::kDuration && IsNumeric(rt)) ||
        (IsNumeric(lt) && rt == T::kDuration)) {
      hint = "; add or subtract durations such as duration('1d'), and "
             "multiply a duration only by a whole number";
    }
    return Fail(a.pos, absl::StrCat("cannot apply ", a.op, " to ", Src(*l.ast),
                                    " (", TypeName(lt), ") and ", Src(*r.ast),
                                    " (", TypeName(rt), ")", hint));
  }

  Checked Relation(const Ast& a, Checked l, Checked r) {
    CmpOp op = ToCmpOp(a.op);
    for (Checked* x : {&l, &r}) {
      if (x->type == Type::kList) {
        return Fail(x->ast->start, "a list [...] can only stand on the right "
                                   "of 'in', e.g. member.country in ['DE', "
                                   "'AT']");
      }
      if (x->type == Type::kTags) {
        return Fail(x->ast->start, "tags can only be used as 'name' in tags "
                                   "or size(tags)");
      }
    }
    if (l.type == Type::kStage || r.type == Type::kStage) {
      return StageCompare(a, op, std::move(l), std::move(r));
    }
    // Keep a literal on the right, where the nodes hold it inline.
    if (l.literal && !r.literal) {
      std::swap(l, r);
      op = Flip(op);
    }
    Type lt = l.type, rt = r.type;
    if (lt == Type::kBool && rt == Type::kBool) {
      if (op != CmpOp::kEq && op != CmpOp::kNe) {
        return Fail(a.pos, "true/false values can only be compared with == "
                           "or !=");
      }
      return Ok(Type::kBool,
                MakeCmp<CmpBoolNode>(op, std::move(l.node), std::move(r.node)),
                a);
    }
    if (IsNumeric(lt) && IsNumeric(rt)) {
      if (lt == Type::kInt && rt == Type::kInt) {
        int64_t c = r.literal ? r.number.i : 0;
        if (r.literal) {
          if (auto* cn = dynamic_cast<const CounterNode*>(l.node.get())) {
            return Ok(Type::kBool, MakeCmp<CounterCmpNode>(op, cn->index(), c), a);
          }
        }
        NodePtr rn = r.literal ? nullptr : std::move(r.node);
        return Ok(Type::kBool,
                  MakeCmp<CmpIntNode>(op, std::move(l.node), std::move(rn), c),
                  a);
      }
      NodePtr ln = AsDouble(l);
      NodePtr rn = AsDouble(r);
      double c = r.literal ? r.number.d : 0;
      if (r.literal) {
        if (auto* sn = dynamic_cast<const ScoreNode*>(ln.get())) {
          return Ok(Type::kBool, MakeCmp<ScoreCmpNode>(op, sn->index(), c), a);
        }
        rn = nullptr;
      }
      return Ok(Type::kBool,
                MakeCmp<CmpDoubleNode>(op, std::move(ln), std::move(rn), c),
                a);
    }
    if (IsText(lt) && IsText(rt)) {
      std::string c = r.literal ? r.text : std::string();
      NodePtr rn = r.literal ? nullptr : std::move(r.node);
      return Ok(Type::kBool,
                MakeCmp<CmpStringNode>(op, std::move(l.node), std::move(rn),
                                       std::move(c)),
                a);
    }
    if ((lt == Type::kAttr && IsNumeric(rt)) ||
        (IsNumeric(lt) && rt == Type::kAttr)) {
      if (lt != Type::kAttr) {
        std::swap(l, r);
        op = Flip(op);
      }
      bool right_is_int = r.type == Type::kInt;
      Number c = r.number;
      NodePtr rn = r.literal ? nullptr : std::move(r.node);
      return Ok(Type::kBool,
                MakeCmp<CmpAttrNumberNode>(op, std::move(l.node),
                                           std::move(rn), right_is_int, c),
                a);
    }
    if ((lt == Type::kDuration && rt == Type::kDuration) ||
        (lt == Type::kTimestamp && rt == Type::kTimestamp)) {
      int64_t c = r.literal ? r.number.i : 0;
      if (r.literal && dynamic_cast<const IdleNode*>(l.node.get()) != nullptr) {
        return Ok(Type::kBool, MakeCmp<IdleCmpNode>(op, c), a);
      }
      NodePtr rn = r.literal ? nullptr : std::move(r.node);
      return Ok(Type::kBool,
                MakeCmp<CmpIntNode>(op, std::move(l.node), std::move(rn), c),
                a);
    }
    // A mismatch: name both sides in source order and suggest the fix.
    const Checked& first = l.ast->start <= r.ast->start ? l : r;
    const Checked& second = l.ast->start <= r.ast->start ? r : l;
    std::string hint;
    auto either = [&](Type x, auto pred) {
      return (first.type == x && pred(second.type)) ||
             (second.type == x && pred(first.type));
    };
    if (either(Type::kDuration, IsNumeric)) {
      hint = "; compare a duration with a duration, e.g. idle > "
             "duration('7d')";
    } else if (either(Type::kAttr, [](Type t) { return t == Type::kBool; })) {
      hint = "; attributes are text: compare with 'true' or 'false' in quotes";
    } else if (either(Type::kString, IsNumeric)) {
      hint = "; put the number in quotes to compare as text, or convert the "
             "text with double(...)";
    } else if (either(Type::kTimestamp,
                      [](Type t) { return t == Type::kDuration; })) {
      hint = "; compare now - ... with a duration, or now with another point "
             "in time";
    }
    return Fail(a.pos, absl::StrCat("cannot compare ", Src(*first.ast), " (",
                                    TypeName(first.type), ") with ",
                                    Src(*second.ast), " (",
                                    TypeName(second.type), ")", hint));
  }

  // Resolves a stage name literal; -1 after reporting a problem.
  int StageName(const Checked& name) {
    if (!name.literal || name.type != Type::kString) {
      Fail(name.ast->start,
           absl::StrCat("stage is compared with a stage name in quotes, e.g. "
                        "stage == 'mql', but ", Src(*name.ast), " is not one"));
      return -1;
    }
    int index = scope_.StageIndex(name.text);
    if (index < 0) {
      Fail(name.ast->start,
           absl::StrCat("unknown stage '", name.text,
                        "'; check the spelling against the lifecycle's "
                        "stages"));
    }
    return index;
  }

  Checked StageCompare(const Ast& a, CmpOp op, Checked l, Checked r) {
    if (l.type == Type::kStage && r.type == Type::kStage) {
      return Fail(a.pos, "compare stage with a stage name in quotes, e.g. "
                         "stage == 'mql'");
    }
    if (op != CmpOp::kEq && op != CmpOp::kNe) {
      return Fail(a.pos, "stages have no order: use stage == 'name', "
                         "stage != 'name' or stage in ['a', 'b']");
    }
    const Checked& name = l.type == Type::kStage ? r : l;
    int index = StageName(name);
    if (index < 0) return Checked();
    return Ok(Type::kBool,
              std::make_unique<StageInNode>(std::vector<int>{index},
                                            op == CmpOp::kNe),
              a);
  }

  Checked In(const Ast& a, Checked l, Checked r) {
    if (r.type == Type::kTags) {
      if (!l.literal || l.type != Type::kString) {
        return Fail(l.ast->start, absl::StrCat("write the tag name in quotes, "
                                               "e.g. 'vip' in tags; ",
                                               Src(*l.ast),
                                               " is not a tag name"));
      }
      int index = scope_.TagIndex(l.text);
      if (index < 0) {
        return Fail(l.ast->start,
                    absl::StrCat("unknown tag '", l.text,
                                 "'; check the spelling against the tags the "
                                 "model declares"));
      }
      return Ok(Type::kBool, std::make_unique<HasTagNode>(index), a);
    }
    if (r.type != Type::kList) {
      return Fail(r.ast->start, absl::StrCat("the right side of 'in' must be a "
                                             "list such as ['a', 'b'] or "
                                             "tags, but ", Src(*r.ast), " is ",
                                             TypeName(r.type)));
    }
    bool text_items = !r.items.empty() && r.items[0].is_text;
    bool number_items = !r.items.empty() && !r.items[0].is_text;
    if (l.type == Type::kStage) {
      if (number_items) {
        return Fail(r.items[0].pos, "stage is compared with stage names in "
                                    "quotes, e.g. stage in ['mql', 'sql']");
      }
      std::vector<int> stages;
      bool ok = true;
      for (const ListItem& item : r.items) {
        int index = scope_.StageIndex(item.text);
        if (index < 0) {
          Fail(item.pos, absl::StrCat("unknown stage '", item.text,
                                      "'; check the spelling against the "
                                      "lifecycle's stages"));
          ok = false;
        }
        stages.push_back(index);
      }
      if (!ok) return Checked();
      return Ok(Type::kBool,
                std::make_unique<StageInNode>(std::move(stages), false), a);
    }
    if (l.type == Type::kTags || l.type == Type::kList) {
      return Fail(l.ast->start,
                  absl::StrCat(Src(*l.ast), " cannot stand left of 'in'"));
    }
    if (IsText(l.type) && !number_items) {
      std::vector<std::string> items;
      for (ListItem& item : r.items) items.push_back(std::move(item.text));
      return Ok(Type::kBool,
                std::make_unique<InStringsNode>(std::move(l.node),
                                                std::move(items)),
                a);
    }
    if ((IsNumeric(l.type) || l.type == Type::kAttr) && !text_items) {
      std::vector<Number> items;
      for (const ListItem& item : r.items) items.push_back(item.number);
      InNumbersNode::Left left = l.type == Type::kInt
                                     ? InNumbersNode::Left::kInt
                                 : l.type == Type::kDouble
                                     ? InNumbersNode::Left::kDouble
                                     : InNumbersNode::Left::kAttr;
      return Ok(Type::kBool,
                std::make_unique<InNumbersNode>(std::move(l.node), left,
                                                std::move(items)),
                a);
    }
    return Fail(a.pos, absl::StrCat("cannot look for ", Src(*l.ast), " (",
                                    TypeName(l.type), ") in a list of ",
                                    text_items ? "text" : "numbers"));
  }

  std::string_view text_;
  Scope& scope_;
  std::vector<Problem>* problems_;
  Reads reads_;
};

std::unique_ptr<Program> Compile(std::string_view text, Want want,
                                 Scope& scope, std::vector<Problem>* problems) {
  std::vector<Problem> local;
  if (problems == nullptr) problems = &local;
  Compiler compiler(text, scope, problems);
  return compiler.Run(want);
}

}  // namespace leadscore::expr
