// chat/lexer: a chat template's source into tokens, with jinja2's whitespace
// rules as transformers configures them (trim_blocks, lstrip_blocks, `-`
// and `+` markers, newlines normalized to "\n", one trailing newline of the
// source dropped). Comments are dropped here.
#ifndef LLMTK_LIB_CHAT_LEXER_H_
#define LLMTK_LIB_CHAT_LEXER_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/chat/value.h"

namespace llmtk::chat {

struct Token {
  enum class Type { kText, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };
  Type type;
  std::string text;  // kText: the output text; kName/kOp: the name or operator
  Value value;       // kString/kInt/kFloat
  int line = 0, col = 0;
};

// InvalidArgument "line L, column C: ..." for an unclosed tag or comment, an
// unterminated string, an unexpected character or unbalanced brackets.
absl::StatusOr<std::vector<Token>> Lex(std::string_view source);

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_LEXER_H_
