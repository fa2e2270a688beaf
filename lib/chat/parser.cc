#include "lib/chat/parser.h"

#include "lib/chat/parser_impl.h"

namespace llmtk::chat {

// Statements until one of `ends` (a block tag name); *end receives it.
absl::StatusOr<Body> Parser::ParseBody(std::initializer_list<std::string_view> ends, std::string* end) {
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

absl::StatusOr<NodeP> Parser::ParseStatement() {
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

absl::StatusOr<NodeP> Parser::ParseIf() {
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

absl::StatusOr<std::vector<std::string>> Parser::ParseTargets() {
  std::vector<std::string> names;
  do {
    if (!names.empty()) ++i_;
    ASSIGN_OR_RETURN(std::string nm, ExpectName("a variable name"));
    names.push_back(nm);
  } while (IsOp(","));
  return names;
}

absl::StatusOr<NodeP> Parser::ParseFor() {
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

absl::StatusOr<NodeP> Parser::ParseSet() {
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

absl::StatusOr<NodeP> Parser::ParseMacro() {
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

absl::StatusOr<Body> Parse(std::string_view source) {
  ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(source));
  return Parser(std::move(toks)).Template();
}

}  // namespace llmtk::chat
