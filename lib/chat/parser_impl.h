// chat/parser_impl: the parser's class, shared by parser.cc (statements)
// and parser_expr.cc (expressions); internal to lib/chat (the interface is
// chat/parser.h).
#ifndef LLMTK_LIB_CHAT_PARSER_IMPL_H_
#define LLMTK_LIB_CHAT_PARSER_IMPL_H_

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/status.h"
#include "lib/chat/ast.h"
#include "lib/chat/lexer.h"

namespace llmtk::chat {

class Parser {
 public:
  using T = Token::Type;
  static constexpr int kMaxDepth = 200;

  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  absl::StatusOr<Body> Template() {
    std::string end;
    ASSIGN_OR_RETURN(Body body, ParseBody({}, &end));
    return body;
  }

 private:
  const Token& Cur() const { return t_[i_]; }
  const Token& Peek(int k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool IsOp(std::string_view op) const { return Cur().type == T::kOp && Cur().text == op; }
  bool IsName(std::string_view n) const { return Cur().type == T::kName && Cur().text == n; }

  absl::Status ErrorAt(const Token& tok, std::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrCat("line ", tok.line, ", column ", tok.col, ": ", std::string(msg)));
  }
  std::string Describe(const Token& tok) const {
    switch (tok.type) {
      case T::kEof: return "end of template";
      case T::kBlockEnd: return "'%}'";
      case T::kVarEnd: return "'}}'";
      case T::kName: return absl::StrCat("'", tok.text, "'");
      case T::kOp: return absl::StrCat("'", tok.text, "'");
      case T::kString: return "a string";
      default: return "a number";
    }
  }
  absl::Status Expect(T type, std::string_view text, std::string_view what) {
    if (Cur().type != type || (!text.empty() && Cur().text != text))
      return ErrorAt(Cur(), absl::StrCat("expected ", std::string(what), ", found ", Describe(Cur())));
    ++i_;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ExpectName(std::string_view what) {
    if (Cur().type != T::kName) return ErrorAt(Cur(), absl::StrCat("expected ", std::string(what), ", found ", Describe(Cur())));
    return t_[i_++].text;
  }

  template <typename N>
  std::shared_ptr<N> Make(const Token& at) {
    auto n = std::make_shared<N>();
    n->line = at.line;
    n->col = at.col;
    return n;
  }
  std::shared_ptr<Expr> MakeExpr(Expr::Kind k, const Token& at) {
    auto e = Make<Expr>(at);
    e->kind = k;
    return e;
  }

  // Statements until one of `ends` (a block tag name); *end receives it.
  absl::StatusOr<Body> ParseBody(std::initializer_list<std::string_view> ends, std::string* end);
  absl::StatusOr<NodeP> ParseStatement();
  absl::StatusOr<NodeP> ParseIf();
  absl::StatusOr<std::vector<std::string>> ParseTargets();
  absl::StatusOr<NodeP> ParseFor();
  absl::StatusOr<NodeP> ParseSet();
  absl::StatusOr<NodeP> ParseMacro();

  // Expressions, lowest precedence first (as jinja2's parser).
  absl::StatusOr<ExprP> ParseTuple(bool with_condexpr);
  absl::StatusOr<ExprP> ParseExpression();
  absl::StatusOr<ExprP> Binary(ExprP l, const Token& at, std::string op, ExprP r);
  absl::StatusOr<ExprP> ParseOr();
  absl::StatusOr<ExprP> ParseAnd();
  absl::StatusOr<ExprP> ParseNot();
  absl::StatusOr<ExprP> ParseCompare();
  absl::StatusOr<ExprP> ParseMath1();
  absl::StatusOr<ExprP> ParseConcat();
  absl::StatusOr<ExprP> ParseMath2();
  absl::StatusOr<ExprP> ParsePow();
  absl::StatusOr<ExprP> ParseUnary(bool with_filter);
  absl::StatusOr<ExprP> ParsePrimary();
  absl::Status ParseCallArgs(Expr* e);
  absl::StatusOr<ExprP> ParseSubscript(ExprP target, const Token& at);
  absl::StatusOr<ExprP> ParsePostfix(ExprP e);
  absl::StatusOr<ExprP> ParseFilterExpr(ExprP e);

  // Postfix nodes are where their target starts (`nothing.attr` fails at
  // `nothing`); operators keep their own position.
  static std::shared_ptr<Expr> At(std::shared_ptr<Expr> e, const Expr& start) {
    e->line = start.line;
    e->col = start.col;
    return e;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0, expr_depth_ = 0, loop_depth_ = 0;
};

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_PARSER_IMPL_H_
