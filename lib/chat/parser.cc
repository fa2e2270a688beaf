#include "lib/chat/parser.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "lib/chat/lexer.h"

namespace llmtk::chat {
namespace {

using T = Token::Type;
constexpr int kMaxDepth = 200;

class Parser {
 public:
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
  absl::StatusOr<Body> ParseBody(std::initializer_list<std::string_view> ends, std::string* end) {
    Body body;
    for (;;) {
      const Token& tok = Cur();
      if (tok.type == T::kEof) {
        if (ends.size() == 0) return body;
        return ErrorAt(tok, absl::StrCat("unexpected end of template: a block is not closed (expected '",
                                         std::string(*ends.begin()), "')"));
      }
      if (tok.type == T::kText) {
        auto n = Make<Node>(tok);
        n->kind = Node::Kind::kText;
        n->text = tok.text;
        body.push_back(n);
        ++i_;
      } else if (tok.type == T::kVarBegin) {
        ++i_;
        auto n = Make<Node>(tok);
        n->kind = Node::Kind::kOutput;
        ASSIGN_OR_RETURN(n->expr, ParseTuple(true));
        RETURN_IF_ERROR(Expect(T::kVarEnd, "", "'}}'"));
        body.push_back(n);
      } else if (tok.type == T::kBlockBegin) {
        const Token& name = Peek();
        if (name.type == T::kName) {
          for (std::string_view e : ends) {
            if (name.text == e) {
              *end = name.text;
              i_ += 2;
              return body;
            }
          }
        }
        ASSIGN_OR_RETURN(NodeP n, ParseStatement());
        body.push_back(n);
      } else {
        return ErrorAt(tok, absl::StrCat("unexpected ", Describe(tok)));
      }
    }
  }

  absl::StatusOr<NodeP> ParseStatement() {
    ++i_;  // {%
    const Token& tok = Cur();
    if (tok.type != T::kName) return ErrorAt(tok, absl::StrCat("expected a tag name, found ", Describe(tok)));
    const std::string& name = tok.text;
    if (++depth_ > kMaxDepth) return ErrorAt(tok, "blocks nested too deeply");
    absl::StatusOr<NodeP> r;
    if (name == "if") r = ParseIf();
    else if (name == "for") r = ParseFor();
    else if (name == "set") r = ParseSet();
    else if (name == "macro") r = ParseMacro();
    else if (name == "break" || name == "continue") {
      ++i_;
      auto n = Make<Node>(tok);
      n->kind = name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      if (loop_depth_ == 0) return ErrorAt(tok, absl::StrCat("'", name, "' outside a loop"));
      RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
      r = NodeP(n);
    } else if (name == "elif" || name == "else" || name.rfind("end", 0) == 0) {
      return ErrorAt(tok, absl::StrCat("unexpected '", name, "' (no open block it could close)"));
    } else {
      return ErrorAt(tok, absl::StrCat("unsupported tag '", name, "'"));
    }
    --depth_;
    return r;
  }

  absl::StatusOr<NodeP> ParseIf() {
    auto n = Make<Node>(Cur());
    n->kind = Node::Kind::kIf;
    ++i_;
    for (;;) {
      ASSIGN_OR_RETURN(ExprP cond, ParseExpression());
      RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
      std::string end;
      ASSIGN_OR_RETURN(Body body, ParseBody({"elif", "else", "endif"}, &end));
      n->conds.push_back(cond);
      n->bodies.push_back(std::move(body));
      if (end == "elif") continue;
      if (end == "else") {
        RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
        ASSIGN_OR_RETURN(n->else_body, ParseBody({"endif"}, &end));
      }
      RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
      return NodeP(n);
    }
  }

  absl::StatusOr<std::vector<std::string>> ParseTargets() {
    std::vector<std::string> names;
    do {
      if (!names.empty()) ++i_;
      ASSIGN_OR_RETURN(std::string nm, ExpectName("a variable name"));
      names.push_back(nm);
    } while (IsOp(","));
    return names;
  }

  absl::StatusOr<NodeP> ParseFor() {
    auto n = Make<Node>(Cur());
    n->kind = Node::Kind::kFor;
    ++i_;
    ASSIGN_OR_RETURN(n->targets, ParseTargets());
    if (!IsName("in")) return ErrorAt(Cur(), absl::StrCat("expected 'in', found ", Describe(Cur())));
    ++i_;
    ASSIGN_OR_RETURN(n->expr, ParseTuple(false));
    if (IsName("if")) {
      ++i_;
      ASSIGN_OR_RETURN(n->cond, ParseExpression());
    }
    if (IsName("recursive")) return ErrorAt(Cur(), "unsupported: recursive loops");
    RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
    std::string end;
    ++loop_depth_;
    ASSIGN_OR_RETURN(n->body, ParseBody({"else", "endfor"}, &end));
    --loop_depth_;
    if (end == "else") {
      RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
      ASSIGN_OR_RETURN(n->else_body, ParseBody({"endfor"}, &end));
    }
    RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
    return NodeP(n);
  }

  absl::StatusOr<NodeP> ParseSet() {
    auto n = Make<Node>(Cur());
    n->kind = Node::Kind::kSet;
    ++i_;
    ASSIGN_OR_RETURN(std::string first, ExpectName("a variable name"));
    n->targets.push_back(first);
    if (IsOp(".")) {
      ++i_;
      ASSIGN_OR_RETURN(n->attr, ExpectName("an attribute name"));
    } else {
      while (IsOp(",")) {
        ++i_;
        ASSIGN_OR_RETURN(std::string nm, ExpectName("a variable name"));
        n->targets.push_back(nm);
      }
    }
    if (Cur().type == T::kBlockEnd && n->targets.size() == 1 && n->attr.empty()) {
      ++i_;
      n->kind = Node::Kind::kSetBlock;
      std::string end;
      ASSIGN_OR_RETURN(n->body, ParseBody({"endset"}, &end));
      RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
      return NodeP(n);
    }
    RETURN_IF_ERROR(Expect(T::kOp, "=", "'='"));
    ASSIGN_OR_RETURN(n->expr, ParseTuple(true));
    RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
    return NodeP(n);
  }

  absl::StatusOr<NodeP> ParseMacro() {
    auto n = Make<Node>(Cur());
    n->kind = Node::Kind::kMacro;
    ++i_;
    ASSIGN_OR_RETURN(n->text, ExpectName("a macro name"));
    RETURN_IF_ERROR(Expect(T::kOp, "(", "'('"));
    while (!IsOp(")")) {
      if (!n->params.empty()) RETURN_IF_ERROR(Expect(T::kOp, ",", "','"));
      ASSIGN_OR_RETURN(std::string p, ExpectName("a parameter name"));
      ExprP def;
      if (IsOp("=")) {
        ++i_;
        ASSIGN_OR_RETURN(def, ParseExpression());
      }
      n->params.emplace_back(p, def);
    }
    ++i_;
    RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
    std::string end;
    const int saved = loop_depth_;
    loop_depth_ = 0;
    ASSIGN_OR_RETURN(n->body, ParseBody({"endmacro"}, &end));
    loop_depth_ = saved;
    if (Cur().type == T::kName) ++i_;  // {% endmacro name %}
    RETURN_IF_ERROR(Expect(T::kBlockEnd, "", "'%}'"));
    return NodeP(n);
  }

  // ---- expressions, lowest precedence first (as jinja2's parser) ----

  absl::StatusOr<ExprP> ParseTuple(bool with_condexpr) {
    const Token& start = Cur();
    ASSIGN_OR_RETURN(ExprP first, with_condexpr ? ParseExpression() : ParseOr());
    if (!IsOp(",")) return first;
    auto list = MakeExpr(Expr::Kind::kList, start);
    list->name = "tuple";
    list->args.push_back(first);
    while (IsOp(",")) {
      ++i_;
      if (Cur().type == T::kVarEnd || Cur().type == T::kBlockEnd || IsOp(")")) break;
      ASSIGN_OR_RETURN(ExprP e, with_condexpr ? ParseExpression() : ParseOr());
      list->args.push_back(e);
    }
    return ExprP(list);
  }

  absl::StatusOr<ExprP> ParseExpression() {
    if (++expr_depth_ > kMaxDepth) return ErrorAt(Cur(), "expression nested too deeply");
    const Token& start = Cur();
    ASSIGN_OR_RETURN(ExprP e, ParseOr());
    while (IsName("if")) {
      ++i_;
      auto c = MakeExpr(Expr::Kind::kCond, start);
      ASSIGN_OR_RETURN(ExprP cond, ParseOr());
      c->args = {cond, e, nullptr};
      if (IsName("else")) {
        ++i_;
        ASSIGN_OR_RETURN(c->args[2], ParseExpression());
      }
      e = c;
    }
    --expr_depth_;
    return e;
  }

  absl::StatusOr<ExprP> Binary(ExprP l, const Token& at, std::string op, ExprP r) {
    auto b = MakeExpr(Expr::Kind::kBinary, at);
    b->name = std::move(op);
    b->args = {std::move(l), std::move(r)};
    return ExprP(b);
  }

  absl::StatusOr<ExprP> ParseOr() {
    ASSIGN_OR_RETURN(ExprP l, ParseAnd());
    while (IsName("or")) {
      const Token& at = t_[i_++];
      ASSIGN_OR_RETURN(ExprP r, ParseAnd());
      ASSIGN_OR_RETURN(l, Binary(l, at, "or", r));
    }
    return l;
  }
  absl::StatusOr<ExprP> ParseAnd() {
    ASSIGN_OR_RETURN(ExprP l, ParseNot());
    while (IsName("and")) {
      const Token& at = t_[i_++];
      ASSIGN_OR_RETURN(ExprP r, ParseNot());
      ASSIGN_OR_RETURN(l, Binary(l, at, "and", r));
    }
    return l;
  }
  absl::StatusOr<ExprP> ParseNot() {
    if (IsName("not")) {
      if (++expr_depth_ > kMaxDepth) return ErrorAt(Cur(), "expression nested too deeply");
      auto u = MakeExpr(Expr::Kind::kUnary, t_[i_++]);
      u->name = "not";
      ASSIGN_OR_RETURN(ExprP a, ParseNot());
      u->args.push_back(a);
      --expr_depth_;
      return ExprP(u);
    }
    return ParseCompare();
  }
  absl::StatusOr<ExprP> ParseCompare() {
    const Token& start = Cur();
    ASSIGN_OR_RETURN(ExprP l, ParseMath1());
    std::shared_ptr<Expr> cmp;
    for (;;) {
      std::string op;
      if (Cur().type == T::kOp &&
          (Cur().text == "==" || Cur().text == "!=" || Cur().text == "<" || Cur().text == ">" ||
           Cur().text == "<=" || Cur().text == ">=")) {
        op = Cur().text;
        ++i_;
      } else if (IsName("in")) {
        op = "in";
        ++i_;
      } else if (IsName("not") && Peek().type == T::kName && Peek().text == "in") {
        op = "not in";
        i_ += 2;
      } else {
        break;
      }
      if (!cmp) {
        cmp = MakeExpr(Expr::Kind::kCompare, start);
        cmp->args.push_back(l);
      }
      ASSIGN_OR_RETURN(ExprP r, ParseMath1());
      cmp->ops.push_back(op);
      cmp->args.push_back(r);
    }
    return cmp ? ExprP(cmp) : l;
  }
  absl::StatusOr<ExprP> ParseMath1() {
    ASSIGN_OR_RETURN(ExprP l, ParseConcat());
    while (IsOp("+") || IsOp("-")) {
      const Token& at = t_[i_++];
      ASSIGN_OR_RETURN(ExprP r, ParseConcat());
      ASSIGN_OR_RETURN(l, Binary(l, at, at.text, r));
    }
    return l;
  }
  absl::StatusOr<ExprP> ParseConcat() {
    ASSIGN_OR_RETURN(ExprP l, ParseMath2());
    while (IsOp("~")) {
      const Token& at = t_[i_++];
      ASSIGN_OR_RETURN(ExprP r, ParseMath2());
      ASSIGN_OR_RETURN(l, Binary(l, at, "~", r));
    }
    return l;
  }
  absl::StatusOr<ExprP> ParseMath2() {
    ASSIGN_OR_RETURN(ExprP l, ParsePow());
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const Token& at = t_[i_++];
      ASSIGN_OR_RETURN(ExprP r, ParsePow());
      ASSIGN_OR_RETURN(l, Binary(l, at, at.text, r));
    }
    return l;
  }
  absl::StatusOr<ExprP> ParsePow() {
    ASSIGN_OR_RETURN(ExprP l, ParseUnary(true));
    while (IsOp("**")) {
      const Token& at = t_[i_++];
      ASSIGN_OR_RETURN(ExprP r, ParseUnary(true));
      ASSIGN_OR_RETURN(l, Binary(l, at, "**", r));
    }
    return l;
  }
  absl::StatusOr<ExprP> ParseUnary(bool with_filter) {
    if (++expr_depth_ > kMaxDepth) return ErrorAt(Cur(), "expression nested too deeply");
    ExprP e;
    if (IsOp("-") || IsOp("+")) {
      auto u = MakeExpr(Expr::Kind::kUnary, Cur());
      u->name = t_[i_++].text;
      ASSIGN_OR_RETURN(ExprP a, ParseUnary(false));
      u->args.push_back(a);
      e = u;
    } else {
      ASSIGN_OR_RETURN(e, ParsePrimary());
    }
    ASSIGN_OR_RETURN(e, ParsePostfix(e));
    if (with_filter) {
      ASSIGN_OR_RETURN(e, ParseFilterExpr(e));
    }
    --expr_depth_;
    return e;
  }

  absl::StatusOr<ExprP> ParsePrimary() {
    const Token& tok = Cur();
    switch (tok.type) {
      case T::kName: {
        ++i_;
        auto e = MakeExpr(Expr::Kind::kLiteral, tok);
        if (tok.text == "true" || tok.text == "True") e->literal = Value::Bool(true);
        else if (tok.text == "false" || tok.text == "False") e->literal = Value::Bool(false);
        else if (tok.text == "none" || tok.text == "None") e->literal = Value::None();
        else {
          e->kind = Expr::Kind::kName;
          e->name = tok.text;
        }
        return ExprP(e);
      }
      case T::kString: {
        std::string s;
        while (Cur().type == T::kString) s += t_[i_++].value.str();  // adjacent literals join
        auto e = MakeExpr(Expr::Kind::kLiteral, tok);
        e->literal = Value::String(std::move(s));
        return ExprP(e);
      }
      case T::kInt:
      case T::kFloat: {
        ++i_;
        auto e = MakeExpr(Expr::Kind::kLiteral, tok);
        e->literal = tok.value;
        return ExprP(e);
      }
      case T::kOp:
        if (tok.text == "(") {
          ++i_;
          if (IsOp(")")) {  // the empty tuple
            ++i_;
            auto e = MakeExpr(Expr::Kind::kList, tok);
            e->name = "tuple";
            return ExprP(e);
          }
          ASSIGN_OR_RETURN(ExprP e, ParseTuple(true));
          RETURN_IF_ERROR(Expect(T::kOp, ")", "')'"));
          return e;
        }
        if (tok.text == "[") {
          ++i_;
          auto e = MakeExpr(Expr::Kind::kList, tok);
          while (!IsOp("]")) {
            if (!e->args.empty()) {
              RETURN_IF_ERROR(Expect(T::kOp, ",", "','"));
              if (IsOp("]")) break;
            }
            ASSIGN_OR_RETURN(ExprP item, ParseExpression());
            e->args.push_back(item);
          }
          ++i_;
          return ExprP(e);
        }
        if (tok.text == "{") {
          ++i_;
          auto e = MakeExpr(Expr::Kind::kDict, tok);
          while (!IsOp("}")) {
            if (!e->args.empty()) {
              RETURN_IF_ERROR(Expect(T::kOp, ",", "','"));
              if (IsOp("}")) break;
            }
            ASSIGN_OR_RETURN(ExprP k, ParseExpression());
            RETURN_IF_ERROR(Expect(T::kOp, ":", "':'"));
            ASSIGN_OR_RETURN(ExprP v, ParseExpression());
            e->args.push_back(k);
            e->args.push_back(v);
          }
          ++i_;
          return ExprP(e);
        }
        break;
      default:
        break;
    }
    return ErrorAt(tok, absl::StrCat("unexpected ", Describe(tok), " in an expression"));
  }

  absl::Status ParseCallArgs(Expr* e) {
    RETURN_IF_ERROR(Expect(T::kOp, "(", "'('"));
    while (!IsOp(")")) {
      if (Cur().type == T::kOp && (Cur().text == "*" || Cur().text == "**"))
        return ErrorAt(Cur(), "unsupported: *args and **kwargs in calls");
      if (Cur().type == T::kName && Peek().type == T::kOp && Peek().text == "=") {
        std::string key = Cur().text;
        i_ += 2;
        ASSIGN_OR_RETURN(ExprP v, ParseExpression());
        e->kwargs.emplace_back(key, v);
      } else {
        if (!e->kwargs.empty()) return ErrorAt(Cur(), "a positional argument follows a keyword argument");
        ASSIGN_OR_RETURN(ExprP v, ParseExpression());
        e->args.push_back(v);
      }
      if (!IsOp(")")) RETURN_IF_ERROR(Expect(T::kOp, ",", "',' or ')'"));
    }
    ++i_;
    return absl::OkStatus();
  }

  absl::StatusOr<ExprP> ParseSubscript(ExprP target, const Token& at) {
    ++i_;  // [
    std::vector<ExprP> parts(3);
    int colons = 0;
    for (;;) {
      if (IsOp("]")) break;
      if (IsOp(":")) {
        if (++colons > 2) return ErrorAt(Cur(), "unexpected ':'");
        ++i_;
        continue;
      }
      if (parts[colons]) return ErrorAt(Cur(), absl::StrCat("expected ']', found ", Describe(Cur())));
      ASSIGN_OR_RETURN(parts[colons], ParseExpression());
    }
    ++i_;
    if (colons == 0) {
      if (!parts[0]) return ErrorAt(at, "empty subscript");
      auto e = At(MakeExpr(Expr::Kind::kItem, at), *target);
      e->args = {target, parts[0]};
      return ExprP(e);
    }
    auto e = At(MakeExpr(Expr::Kind::kSlice, at), *target);
    e->args = {target, parts[0], parts[1], parts[2]};
    return ExprP(e);
  }

  absl::StatusOr<ExprP> ParsePostfix(ExprP e) {
    for (;;) {
      if (IsOp(".")) {
        ++i_;
        auto a = At(MakeExpr(Expr::Kind::kAttr, Cur()), *e);
        if (Cur().type == T::kName) {
          a->name = t_[i_++].text;
          a->args = {e};
        } else if (Cur().type == T::kInt) {  // foo.0 is foo[0]
          a->kind = Expr::Kind::kItem;
          auto idx = MakeExpr(Expr::Kind::kLiteral, Cur());
          idx->literal = t_[i_++].value;
          a->args = {e, idx};
        } else {
          return ErrorAt(Cur(), absl::StrCat("expected an attribute name, found ", Describe(Cur())));
        }
        e = a;
      } else if (IsOp("[")) {
        ASSIGN_OR_RETURN(e, ParseSubscript(e, Cur()));
      } else if (IsOp("(")) {
        auto c = At(MakeExpr(Expr::Kind::kCall, Cur()), *e);
        c->args.push_back(e);
        RETURN_IF_ERROR(ParseCallArgs(c.get()));
        e = c;
      } else {
        return e;
      }
    }
  }

  absl::StatusOr<ExprP> ParseFilterExpr(ExprP e) {
    for (;;) {
      if (IsOp("|")) {
        ++i_;
        const Token& at = Cur();
        ASSIGN_OR_RETURN(std::string name, ExpectName("a filter name"));
        while (IsOp(".")) {  // dotted filter names
          ++i_;
          ASSIGN_OR_RETURN(std::string part, ExpectName("a filter name"));
          name += "." + part;
        }
        if (!IsKnownFilter(name)) return ErrorAt(at, absl::StrCat("unknown filter '", name, "'"));
        auto f = MakeExpr(Expr::Kind::kFilter, at);
        f->name = name;
        f->args.push_back(e);
        if (IsOp("(")) RETURN_IF_ERROR(ParseCallArgs(f.get()));
        e = f;
      } else if (IsName("is")) {
        ++i_;
        auto tst = MakeExpr(Expr::Kind::kTest, Cur());
        if (IsName("not")) {
          tst->negated = true;
          ++i_;
        }
        const Token& at = Cur();
        ASSIGN_OR_RETURN(std::string name, ExpectName("a test name"));
        if (!IsKnownTest(name)) return ErrorAt(at, absl::StrCat("unknown test '", name, "'"));
        tst->name = name;
        tst->args.push_back(e);
        if (IsOp("(")) {
          RETURN_IF_ERROR(ParseCallArgs(tst.get()));
        } else if ((Cur().type == T::kName || Cur().type == T::kString || Cur().type == T::kInt ||
                    Cur().type == T::kFloat || IsOp("[") || IsOp("{")) &&
                   !IsName("else") && !IsName("or") && !IsName("and")) {
          if (IsName("is")) return ErrorAt(Cur(), "tests cannot be chained with 'is'");
          ASSIGN_OR_RETURN(ExprP arg, ParsePrimary());
          ASSIGN_OR_RETURN(arg, ParsePostfix(arg));
          tst->args.push_back(arg);
        }
        e = tst;
      } else if (IsOp("(")) {
        auto c = At(MakeExpr(Expr::Kind::kCall, Cur()), *e);
        c->args.push_back(e);
        RETURN_IF_ERROR(ParseCallArgs(c.get()));
        e = c;
      } else {
        return e;
      }
    }
  }

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

}  // namespace

absl::StatusOr<Body> Parse(std::string_view source) {
  ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(source));
  return Parser(std::move(toks)).Template();
}

}  // namespace llmtk::chat
