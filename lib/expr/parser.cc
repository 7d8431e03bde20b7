// Lexer and recursive-descent parser for the CEL subset of SEMANTICS.md
// section 7. Precedence, lowest first: ?: || && relations + - * / % unary
// postfix, as in CEL.
#include "lib/expr/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace leadscore::expr {
namespace {

enum class Tok : uint8_t {
  kEnd,
  kInt,
  kDouble,
  kString,
  kIdent,
  kPunct,  // operators and brackets; `text` holds the spelling
};

struct Token {
  Tok kind = Tok::kEnd;
  int pos = 0;
  int end = 0;
  std::string text;  // identifier, punctuation, or resolved string literal
  int64_t int_value = 0;
  bool int_overflow = false;  // literal does not fit int64 (may still be -2^63)
  uint64_t magnitude = 0;     // the literal's value as unsigned
  double double_value = 0;
};

struct SyntaxError {
  int pos;
  std::string message;
};

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits the text into tokens. The first problem stops lexing.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Fills `*out` with every token and a final kEnd; false on a problem.
  bool Run(std::vector<Token>* out, SyntaxError* error) {
    while (true) {
      SkipSpace();
      Token t;
      t.pos = static_cast<int>(i_);
      if (i_ >= text_.size()) {
        t.kind = Tok::kEnd;
        t.end = t.pos;
        out->push_back(std::move(t));
        return true;
      }
      if (!Next(&t, error)) return false;
      t.end = static_cast<int>(i_);
      out->push_back(std::move(t));
    }
  }

 private:
  void SkipSpace() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
          c == '\v') {
        ++i_;
      } else if (c == '/' && i_ + 1 < text_.size() && text_[i_ + 1] == '/') {
        // CEL line comments.
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  bool Fail(SyntaxError* error, size_t pos, std::string message) {
    error->pos = static_cast<int>(pos);
    error->message = std::move(message);
    return false;
  }

  bool Next(Token* t, SyntaxError* error) {
    char c = text_[i_];
    if (IsIdentStart(c)) {
      size_t b = i_;
      while (i_ < text_.size() && IsIdentChar(text_[i_])) ++i_;
      t->kind = Tok::kIdent;
      t->text = std::string(text_.substr(b, i_ - b));
      return true;
    }
    if (IsDigit(c) ||
        (c == '.' && i_ + 1 < text_.size() && IsDigit(text_[i_ + 1]))) {
      return Number(t, error);
    }
    if (c == '\'' || c == '"') return String(t, error);
    static constexpr std::string_view kTwo[] = {"<=", ">=", "==", "!=",
                                                "&&", "||"};
    for (std::string_view two : kTwo) {
      if (text_.substr(i_, 2) == two) {
        t->kind = Tok::kPunct;
        t->text = std::string(two);
        i_ += 2;
        return true;
      }
    }
    switch (c) {
      case '(': case ')': case '[': case ']': case '.': case ',': case '?':
      case ':': case '!': case '-': case '+': case '*': case '/': case '%':
      case '<': case '>':
        t->kind = Tok::kPunct;
        t->text = std::string(1, c);
        ++i_;
        return true;
      case '=':
        return Fail(error, i_, "'=' is not an operator: write == to compare");
      case '&':
        return Fail(error, i_, "'&' is not an operator: write && for \"and\"");
      case '|':
        return Fail(error, i_, "'|' is not an operator: write || for \"or\"");
      case '{': case '}':
        return Fail(error, i_, "maps ({...}) are not supported in conditions");
      default:
        break;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      return Fail(error, i_,
                  "unexpected non-ASCII character; text must be in quotes, "
                  "e.g. member.city == '上海'");
    }
    return Fail(error, i_, absl::StrCat("unexpected character '",
                                        std::string(1, c), "'"));
  }

  bool Number(Token* t, SyntaxError* error) {
    size_t b = i_;
    if (text_[i_] == '0' && i_ + 1 < text_.size() &&
        (text_[i_ + 1] == 'x' || text_[i_ + 1] == 'X')) {
      i_ += 2;
      uint64_t v = 0;
      bool overflow = false;
      size_t digits = 0;
      while (i_ < text_.size() && HexDigit(text_[i_]) >= 0) {
        if (v > (UINT64_MAX >> 4)) overflow = true;
        v = (v << 4) | static_cast<uint64_t>(HexDigit(text_[i_]));
        ++i_;
        ++digits;
      }
      if (digits == 0) {
        return Fail(error, b, "a hexadecimal number needs digits after 0x");
      }
      if (i_ < text_.size() && IsIdentChar(text_[i_])) {
        return Fail(error, i_, "unexpected letter after a number");
      }
      return SetInt(t, v, overflow, b, error);
    }
    while (i_ < text_.size() && IsDigit(text_[i_])) ++i_;
    bool is_double = false;
    if (i_ + 1 < text_.size() && text_[i_] == '.' && IsDigit(text_[i_ + 1])) {
      is_double = true;
      ++i_;
      while (i_ < text_.size() && IsDigit(text_[i_])) ++i_;
    }
    if (i_ < text_.size() && (text_[i_] == 'e' || text_[i_] == 'E')) {
      size_t e = i_ + 1;
      if (e < text_.size() && (text_[e] == '+' || text_[e] == '-')) ++e;
      if (e < text_.size() && IsDigit(text_[e])) {
        is_double = true;
        i_ = e;
        while (i_ < text_.size() && IsDigit(text_[i_])) ++i_;
      } else {
        return Fail(error, i_, "an exponent needs digits, e.g. 1e3");
      }
    }
    if (i_ < text_.size() && IsIdentChar(text_[i_])) {
      return Fail(error, i_,
                  absl::StrCat("unexpected letter after a number; durations "
                               "are written duration('",
                               std::string(text_.substr(b, i_ - b)),
                               "d')"));
    }
    std::string spelled(text_.substr(b, i_ - b));
    if (is_double) {
      t->kind = Tok::kDouble;
      // from_chars: locale-independent, and the token matches its grammar.
      auto r = std::from_chars(spelled.data(), spelled.data() + spelled.size(),
                               t->double_value);
      if (r.ec != std::errc() || !std::isfinite(t->double_value)) {
        return Fail(error, b, "number out of range");
      }
      return true;
    }
    uint64_t v = 0;
    bool overflow = false;
    for (char d : spelled) {
      uint64_t digit = static_cast<uint64_t>(d - '0');
      if (v > (UINT64_MAX - digit) / 10) overflow = true;
      v = v * 10 + digit;
    }
    return SetInt(t, v, overflow, b, error);
  }

  bool SetInt(Token* t, uint64_t v, bool overflow, size_t b,
              SyntaxError* error) {
    if (overflow) {
      return Fail(error, b, "number too large for a whole number");
    }
    t->kind = Tok::kInt;
    t->magnitude = v;
    t->int_overflow = v > static_cast<uint64_t>(INT64_MAX);
    t->int_value = t->int_overflow ? 0 : static_cast<int64_t>(v);
    return true;
  }

  bool String(Token* t, SyntaxError* error) {
    size_t b = i_;
    char quote = text_[i_++];
    std::string out;
    while (true) {
      if (i_ >= text_.size() || text_[i_] == '\n') {
        return Fail(error, b,
                    absl::StrCat("text opened with ", std::string(1, quote),
                                 " is not closed; add the closing ",
                                 std::string(1, quote)));
      }
      char c = text_[i_];
      if (c == quote) {
        ++i_;
        break;
      }
      if (c == '\\') {
        if (i_ + 1 >= text_.size()) {
          return Fail(error, b, "text ends with a lone backslash");
        }
        char e = text_[i_ + 1];
        switch (e) {
          case '\\': out.push_back('\\'); break;
          case '\'': out.push_back('\''); break;
          case '"': out.push_back('"'); break;
          case 'n': out.push_back('\n'); break;
          case 't': out.push_back('\t'); break;
          case 'r': out.push_back('\r'); break;
          default:
            return Fail(error, i_,
                        absl::StrCat("unknown escape \\", std::string(1, e),
                                     "; the escapes are \\\\ \\' \\\" \\n "
                                     "\\t \\r (in a pattern, double the "
                                     "backslash: '\\\\.' matches a dot)"));
        }
        i_ += 2;
        continue;
      }
      out.push_back(c);
      ++i_;
    }
    t->kind = Tok::kString;
    t->text = std::move(out);
    return true;
  }

  std::string_view text_;
  size_t i_ = 0;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd: return "the end of the condition";
    case Tok::kInt:
    case Tok::kDouble: return "a number";
    case Tok::kString: return "a text in quotes";
    case Tok::kIdent: return absl::StrCat("'", t.text, "'");
    case Tok::kPunct: return absl::StrCat("'", t.text, "'");
  }
  return "?";
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  std::unique_ptr<Ast> ParseAll(SyntaxError* error) {
    std::unique_ptr<Ast> e = Expr();
    if (failed_) {
      *error = error_;
      return nullptr;
    }
    if (Peek().kind != Tok::kEnd) {
      const Token& t = Peek();
      if (t.kind == Tok::kIdent && (t.text == "and" || t.text == "or")) {
        Fail(t.pos, absl::StrCat("'", t.text, "' is not an operator: write ",
                                 t.text == "and" ? "&&" : "||"));
      } else if (IsPunct(")")) {
        Fail(t.pos, "unmatched ')'");
      } else {
        Fail(t.pos, absl::StrCat("unexpected ", Describe(t),
                                 " after a complete condition; join "
                                 "conditions with && or ||"));
      }
      *error = error_;
      return nullptr;
    }
    return e;
  }

 private:
  const Token& Peek() const { return tokens_[k_]; }
  const Token& Take() {
    const Token& t = tokens_[k_];
    if (t.kind != Tok::kEnd) ++k_;
    return t;
  }
  bool IsPunct(std::string_view p) const {
    return Peek().kind == Tok::kPunct && Peek().text == p;
  }
  bool IsIdent(std::string_view name) const {
    return Peek().kind == Tok::kIdent && Peek().text == name;
  }
  int PrevEnd() const { return k_ == 0 ? 0 : tokens_[k_ - 1].end; }

  std::unique_ptr<Ast> Fail(int pos, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_.pos = pos;
      error_.message = std::move(message);
    }
    return nullptr;
  }

  bool Expect(std::string_view p, std::string_view what) {
    if (IsPunct(p)) {
      Take();
      return true;
    }
    Fail(Peek().pos,
         absl::StrCat("expected ", std::string(what), " but found ", Describe(Peek())));
    return false;
  }

  static std::unique_ptr<Ast> Make(AstKind kind, int start, int pos) {
    auto a = std::make_unique<Ast>();
    a->kind = kind;
    a->start = start;
    a->pos = pos;
    a->end = pos;
    return a;
  }

  // Sets a's height from its children; null (and a problem) when too deep.
  std::unique_ptr<Ast> Sized(std::unique_ptr<Ast> a) {
    for (const auto& arg : a->args) {
      a->height = std::max(a->height, arg->height + 1);
    }
    if (a->height > kMaxNesting) {
      return Fail(a->pos, "the condition is nested too deeply; split it up");
    }
    return a;
  }

  std::unique_ptr<Ast> Binary(std::string op, int pos,
                              std::unique_ptr<Ast> l, std::unique_ptr<Ast> r) {
    auto a = Make(AstKind::kBinary, l->start, pos);
    a->op = std::move(op);
    a->end = r->end;
    a->args.push_back(std::move(l));
    a->args.push_back(std::move(r));
    return Sized(std::move(a));
  }

  // Guards recursion depth.
  struct Nest {
    explicit Nest(Parser* owner) : parser(owner) { ++parser->depth_; }
    ~Nest() { --parser->depth_; }
    Parser* parser;
  };
  bool TooDeep() {
    if (depth_ > kMaxNesting) {
      Fail(Peek().pos, "the condition is nested too deeply; split it up");
      return true;
    }
    return false;
  }

  std::unique_ptr<Ast> Expr() {
    Nest nest(this);
    if (TooDeep()) return nullptr;
    std::unique_ptr<Ast> c = Or();
    if (!c) return nullptr;
    if (!IsPunct("?")) return c;
    int pos = Take().pos;
    std::unique_ptr<Ast> a = Or();
    if (!a) return nullptr;
    if (!Expect(":", "':' (the \"else\" part of ?:)")) return nullptr;
    std::unique_ptr<Ast> b = Expr();
    if (!b) return nullptr;
    auto n = Make(AstKind::kCond, c->start, pos);
    n->end = b->end;
    n->args.push_back(std::move(c));
    n->args.push_back(std::move(a));
    n->args.push_back(std::move(b));
    return Sized(std::move(n));
  }

  std::unique_ptr<Ast> Or() {
    std::unique_ptr<Ast> l = And();
    while (l && IsPunct("||")) {
      int pos = Take().pos;
      std::unique_ptr<Ast> r = And();
      if (!r) return nullptr;
      l = Binary("||", pos, std::move(l), std::move(r));
    }
    return l;
  }

  std::unique_ptr<Ast> And() {
    std::unique_ptr<Ast> l = Relation();
    while (l && IsPunct("&&")) {
      int pos = Take().pos;
      std::unique_ptr<Ast> r = Relation();
      if (!r) return nullptr;
      l = Binary("&&", pos, std::move(l), std::move(r));
    }
    return l;
  }

  std::unique_ptr<Ast> Relation() {
    std::unique_ptr<Ast> l = Additive();
    while (l) {
      std::string op;
      if (IsIdent("in")) {
        op = "in";
      } else if (Peek().kind == Tok::kPunct &&
                 (Peek().text == "<" || Peek().text == "<=" ||
                  Peek().text == ">" || Peek().text == ">=" ||
                  Peek().text == "==" || Peek().text == "!=")) {
        op = Peek().text;
      } else {
        break;
      }
      int pos = Take().pos;
      std::unique_ptr<Ast> r = Additive();
      if (!r) return nullptr;
      l = Binary(op, pos, std::move(l), std::move(r));
    }
    return l;
  }

  std::unique_ptr<Ast> Additive() {
    std::unique_ptr<Ast> l = Multiplicative();
    while (l && (IsPunct("+") || IsPunct("-"))) {
      std::string op = Peek().text;
      int pos = Take().pos;
      std::unique_ptr<Ast> r = Multiplicative();
      if (!r) return nullptr;
      l = Binary(op, pos, std::move(l), std::move(r));
    }
    return l;
  }

  std::unique_ptr<Ast> Multiplicative() {
    std::unique_ptr<Ast> l = Unary();
    while (l && (IsPunct("*") || IsPunct("/") || IsPunct("%"))) {
      std::string op = Peek().text;
      int pos = Take().pos;
      std::unique_ptr<Ast> r = Unary();
      if (!r) return nullptr;
      l = Binary(op, pos, std::move(l), std::move(r));
    }
    return l;
  }

  std::unique_ptr<Ast> Unary() {
    Nest nest(this);
    if (TooDeep()) return nullptr;
    if (IsPunct("!") || IsPunct("-")) {
      std::string op = Peek().text;
      int pos = Take().pos;
      // -<int literal> is folded so that -9223372036854775808 is expressible.
      if (op == "-" && Peek().kind == Tok::kInt) {
        const Token& t = Peek();
        bool postfix_follows = tokens_[k_ + 1].kind == Tok::kPunct &&
                               (tokens_[k_ + 1].text == "." ||
                                tokens_[k_ + 1].text == "[");
        if (!postfix_follows) {
          Take();
          if (t.magnitude > static_cast<uint64_t>(INT64_MAX) + 1) {
            return Fail(t.pos, "number too large for a whole number");
          }
          auto a = Make(AstKind::kInt, pos, pos);
          a->int_value = t.magnitude == static_cast<uint64_t>(INT64_MAX) + 1
                             ? INT64_MIN
                             : -static_cast<int64_t>(t.magnitude);
          a->end = t.end;
          return a;
        }
      }
      std::unique_ptr<Ast> operand = Unary();
      if (!operand) return nullptr;
      auto a = Make(AstKind::kUnary, pos, pos);
      a->op = op;
      a->end = operand->end;
      a->args.push_back(std::move(operand));
      return Sized(std::move(a));
    }
    return Postfix();
  }

  // Arguments of a call, after the '(' has been taken.
  bool Args(Ast* call) {
    if (IsPunct(")")) {
      Take();
      return true;
    }
    while (true) {
      std::unique_ptr<Ast> arg = Expr();
      if (!arg) return false;
      call->args.push_back(std::move(arg));
      if (IsPunct(",")) {
        Take();
        continue;
      }
      if (!Expect(")", "',' or ')' in the arguments")) return false;
      return true;
    }
  }

  std::unique_ptr<Ast> Postfix() {
    std::unique_ptr<Ast> e = Primary();
    while (e) {
      if (IsPunct(".")) {
        Take();
        if (Peek().kind != Tok::kIdent) {
          return Fail(Peek().pos, absl::StrCat("expected a name after '.' but "
                                               "found ",
                                               Describe(Peek())));
        }
        const Token& name = Take();
        if (IsPunct("(")) {
          Take();
          auto m = Make(AstKind::kMethod, e->start, name.pos);
          m->text = name.text;
          m->args.push_back(std::move(e));
          if (!Args(m.get())) return nullptr;
          m->end = PrevEnd();
          e = Sized(std::move(m));
        } else {
          auto s = Make(AstKind::kSelect, e->start, name.pos);
          s->text = name.text;
          s->end = name.end;
          s->args.push_back(std::move(e));
          e = Sized(std::move(s));
        }
      } else if (IsPunct("[")) {
        int pos = Take().pos;
        std::unique_ptr<Ast> index = Expr();
        if (!index) return nullptr;
        if (!Expect("]", "']'")) return nullptr;
        auto x = Make(AstKind::kIndex, e->start, pos);
        x->end = PrevEnd();
        x->args.push_back(std::move(e));
        x->args.push_back(std::move(index));
        e = Sized(std::move(x));
      } else {
        break;
      }
    }
    return e;
  }

  std::unique_ptr<Ast> Primary() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kInt: {
        Take();
        if (t.int_overflow) {
          return Fail(t.pos, "number too large for a whole number");
        }
        auto a = Make(AstKind::kInt, t.pos, t.pos);
        a->int_value = t.int_value;
        a->end = t.end;
        return a;
      }
      case Tok::kDouble: {
        Take();
        auto a = Make(AstKind::kDouble, t.pos, t.pos);
        a->double_value = t.double_value;
        a->end = t.end;
        return a;
      }
      case Tok::kString: {
        Take();
        auto a = Make(AstKind::kString, t.pos, t.pos);
        a->text = t.text;
        a->end = t.end;
        return a;
      }
      case Tok::kIdent: {
        if (t.text == "in") {
          return Fail(t.pos, "'in' needs a value on its left, e.g. "
                             "'vip' in tags");
        }
        if (t.text == "null") {
          return Fail(t.pos, "null is not supported; test presence with "
                             "has(member.K)");
        }
        Take();
        if (t.text == "true" || t.text == "false") {
          auto a = Make(AstKind::kBool, t.pos, t.pos);
          a->bool_value = t.text == "true";
          a->end = t.end;
          return a;
        }
        if (IsPunct("(")) {
          Take();
          auto c = Make(AstKind::kCall, t.pos, t.pos);
          c->text = t.text;
          if (!Args(c.get())) return nullptr;
          c->end = PrevEnd();
          return Sized(std::move(c));
        }
        auto a = Make(AstKind::kIdent, t.pos, t.pos);
        a->text = t.text;
        a->end = t.end;
        return a;
      }
      case Tok::kPunct: {
        if (t.text == "(") {
          int start = Take().pos;
          std::unique_ptr<Ast> inner = Expr();
          if (!inner) return nullptr;
          if (!Expect(")", "')'")) return nullptr;
          // Keep the inner node; widen its extent to the parentheses so that
          // quoted source slices read naturally.
          inner->start = start;
          inner->end = PrevEnd();
          return inner;
        }
        if (t.text == "[") {
          int start = Take().pos;
          auto l = Make(AstKind::kList, start, start);
          if (IsPunct("]")) {
            Take();
          } else {
            while (true) {
              std::unique_ptr<Ast> item = Expr();
              if (!item) return nullptr;
              l->args.push_back(std::move(item));
              if (IsPunct(",")) {
                Take();
                if (IsPunct("]")) {  // trailing comma, as CEL allows
                  Take();
                  break;
                }
                continue;
              }
              if (!Expect("]", "',' or ']' in the list")) return nullptr;
              break;
            }
          }
          l->end = PrevEnd();
          return Sized(std::move(l));
        }
        break;
      }
      case Tok::kEnd:
        return Fail(t.pos, "the condition ends too early: a value is "
                           "missing here");
    }
    return Fail(t.pos, absl::StrCat("expected a value but found ",
                                    Describe(t)));
  }

  std::vector<Token> tokens_;
  size_t k_ = 0;
  int depth_ = 0;
  bool failed_ = false;
  SyntaxError error_;
};

}  // namespace

std::unique_ptr<Ast> Parse(std::string_view text,
                           std::vector<Problem>* problems) {
  if (text.size() > kMaxConditionBytes) {
    problems->push_back(
        {0, absl::StrCat("the condition is too long (more than ",
                         kMaxConditionBytes, " bytes)")});
    return nullptr;
  }
  std::vector<Token> tokens;
  SyntaxError error;
  Lexer lexer(text);
  if (!lexer.Run(&tokens, &error)) {
    problems->push_back({error.pos, std::move(error.message)});
    return nullptr;
  }
  if (tokens.size() == 1) {
    problems->push_back({0, "the condition is empty"});
    return nullptr;
  }
  Parser parser(std::move(tokens));
  std::unique_ptr<Ast> ast = parser.ParseAll(&error);
  if (!ast) problems->push_back({error.pos, std::move(error.message)});
  return ast;
}

}  // namespace leadscore::expr
