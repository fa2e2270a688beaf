#include "lib/chat/parser.h"
#include "lib/chat/parser_impl.h"

namespace llmtk::chat {

absl::StatusOr<ExprP> Parser::ParseTuple(bool with_condexpr) {
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

absl::StatusOr<ExprP> Parser::ParseExpression() {
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

absl::StatusOr<ExprP> Parser::Binary(ExprP l, const Token& at, std::string op, ExprP r) {
  auto b = MakeExpr(Expr::Kind::kBinary, at);
  b->name = std::move(op);
  b->args = {std::move(l), std::move(r)};
  return ExprP(b);
}

absl::StatusOr<ExprP> Parser::ParseOr() {
  ASSIGN_OR_RETURN(ExprP l, ParseAnd());
  while (IsName("or")) {
    const Token& at = t_[i_++];
    ASSIGN_OR_RETURN(ExprP r, ParseAnd());
    ASSIGN_OR_RETURN(l, Binary(l, at, "or", r));
  }
  return l;
}

absl::StatusOr<ExprP> Parser::ParseAnd() {
  ASSIGN_OR_RETURN(ExprP l, ParseNot());
  while (IsName("and")) {
    const Token& at = t_[i_++];
    ASSIGN_OR_RETURN(ExprP r, ParseNot());
    ASSIGN_OR_RETURN(l, Binary(l, at, "and", r));
  }
  return l;
}

absl::StatusOr<ExprP> Parser::ParseNot() {
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

absl::StatusOr<ExprP> Parser::ParseCompare() {
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

absl::StatusOr<ExprP> Parser::ParseMath1() {
  ASSIGN_OR_RETURN(ExprP l, ParseConcat());
  while (IsOp("+") || IsOp("-")) {
    const Token& at = t_[i_++];
    ASSIGN_OR_RETURN(ExprP r, ParseConcat());
    ASSIGN_OR_RETURN(l, Binary(l, at, at.text, r));
  }
  return l;
}

absl::StatusOr<ExprP> Parser::ParseConcat() {
  ASSIGN_OR_RETURN(ExprP l, ParseMath2());
  while (IsOp("~")) {
    const Token& at = t_[i_++];
    ASSIGN_OR_RETURN(ExprP r, ParseMath2());
    ASSIGN_OR_RETURN(l, Binary(l, at, "~", r));
  }
  return l;
}

absl::StatusOr<ExprP> Parser::ParseMath2() {
  ASSIGN_OR_RETURN(ExprP l, ParsePow());
  while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
    const Token& at = t_[i_++];
    ASSIGN_OR_RETURN(ExprP r, ParsePow());
    ASSIGN_OR_RETURN(l, Binary(l, at, at.text, r));
  }
  return l;
}

absl::StatusOr<ExprP> Parser::ParsePow() {
  ASSIGN_OR_RETURN(ExprP l, ParseUnary(true));
  while (IsOp("**")) {
    const Token& at = t_[i_++];
    ASSIGN_OR_RETURN(ExprP r, ParseUnary(true));
    ASSIGN_OR_RETURN(l, Binary(l, at, "**", r));
  }
  return l;
}

absl::StatusOr<ExprP> Parser::ParseUnary(bool with_filter) {
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

absl::StatusOr<ExprP> Parser::ParsePrimary() {
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

absl::Status Parser::ParseCallArgs(Expr* e) {
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

absl::StatusOr<ExprP> Parser::ParseSubscript(ExprP target, const Token& at) {
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

absl::StatusOr<ExprP> Parser::ParsePostfix(ExprP e) {
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

absl::StatusOr<ExprP> Parser::ParseFilterExpr(ExprP e) {
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

}  // namespace llmtk::chat
