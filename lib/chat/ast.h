// chat/ast: a parsed chat template — expression and statement nodes, each
// with the line and column it starts at, for error messages.
#ifndef LLMTK_LIB_CHAT_AST_H_
#define LLMTK_LIB_CHAT_AST_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/chat/value.h"

namespace llmtk::chat {

struct Expr;
using ExprP = std::shared_ptr<const Expr>;

struct Expr {
  enum class Kind {
    kLiteral,  // literal
    kName,     // name
    kList,     // args
    kDict,     // kwargs-like: keys in args[2i], values in args[2i+1]
    kAttr,     // args[0].name
    kItem,     // args[0][args[1]]
    kSlice,    // args[0][args[1]:args[2]:args[3]] (null: omitted)
    kCall,     // args[0](args[1..], kwargs)
    kFilter,   // args[0] | name(args[1..], kwargs)
    kTest,     // args[0] is [not] name(args[1..])
    kUnary,    // name ("-", "+", "not") args[0]
    kBinary,   // args[0] name args[1]  (+ - * / // % ** ~ and or)
    kCompare,  // args[0] ops[0] args[1] ops[1] args[2] ...
    kCond,     // args[1] if args[0] else args[2] (args[2] null: undefined)
  };
  Kind kind;
  int line = 0, col = 0;
  Value literal;
  std::string name;
  bool negated = false;  // kTest: "is not"
  std::vector<ExprP> args;
  std::vector<std::pair<std::string, ExprP>> kwargs;
  std::vector<std::string> ops;  // kCompare: "==", "in", "not in", ...
};

struct Node;
using NodeP = std::shared_ptr<const Node>;
using Body = std::vector<NodeP>;

struct Node {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // conds[i] -> bodies[i]; else_body
    kFor,       // for targets in expr [if cond]: body, else_body
    kSet,       // set targets (or target.attr) = expr
    kSetBlock,  // set targets[0] %}body{% endset
    kMacro,     // macro name(params): body
    kBreak,
    kContinue,
  };
  Kind kind;
  int line = 0, col = 0;
  std::string text;
  ExprP expr, cond;
  std::vector<ExprP> conds;
  std::vector<Body> bodies;
  Body body, else_body;
  std::vector<std::string> targets;
  std::string attr;  // kSet: ns.attr
  std::vector<std::pair<std::string, ExprP>> params;  // kMacro: name, default (may be null)
};

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_AST_H_
