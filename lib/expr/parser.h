// The first stage of the condition language: text -> syntax tree. Knows the
// CEL-subset grammar and nothing about names, types or evaluation.
#ifndef LEADSCORE_LIB_EXPR_PARSER_H_
#define LEADSCORE_LIB_EXPR_PARSER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/expr/expr.h"

namespace leadscore::expr {

enum class AstKind : uint8_t {
  kInt,     // int_value
  kDouble,  // double_value
  kString,  // text (escapes resolved)
  kBool,    // bool_value
  kList,    // args: the elements
  kIdent,   // text: the name
  kSelect,  // args[0].text; text: the field name, at pos
  kIndex,   // args[0][args[1]]
  kCall,    // text(args...): a global function
  kMethod,  // args[0].text(args[1...])
  kUnary,   // op args[0]; op is "!" or "-"
  kBinary,  // args[0] op args[1]
  kCond,    // args[0] ? args[1] : args[2]
};

// One node of the syntax tree. `start`/`end` delimit the whole expression in
// the text; `pos` is the token problems about this node point at (the
// operator of a binary node, the field name of a selection, the function
// name of a call, the first character of a literal or name).
struct Ast {
  AstKind kind = AstKind::kInt;
  int start = 0;
  int end = 0;
  int pos = 0;
  std::string op;
  std::string text;
  int64_t int_value = 0;
  double double_value = 0;
  bool bool_value = false;
  int height = 1;  // of the tree under this node
  std::vector<std::unique_ptr<Ast>> args;
};

// Expressions nested deeper than this (parentheses, or the height of the
// tree: a chain of 600 `&&` is 600 deep) are reported rather than risking the
// stack in the recursive checker and evaluator.
inline constexpr int kMaxNesting = 500;
// Longer conditions are rejected outright.
inline constexpr size_t kMaxConditionBytes = 64 * 1024;

// Parses a whole condition. Returns null and appends to `problems` on a
// syntax error: the parser reports the first syntax error and stops.
std::unique_ptr<Ast> Parse(std::string_view text,
                           std::vector<Problem>* problems);

}  // namespace leadscore::expr

#endif  // LEADSCORE_LIB_EXPR_PARSER_H_
