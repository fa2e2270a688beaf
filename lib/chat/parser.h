// chat/parser: tokens into the template's statement tree (chat/ast.h). The
// subset of jinja2 that chat templates use; anything else is an
// InvalidArgument naming the construct and its line and column.
#ifndef LLMTK_LIB_CHAT_PARSER_H_
#define LLMTK_LIB_CHAT_PARSER_H_

#include <string_view>

#include "lib/base/status.h"
#include "lib/chat/ast.h"

namespace llmtk::chat {

absl::StatusOr<Body> Parse(std::string_view source);

// The filters and tests the renderer implements (chat/builtins.cc), checked
// when parsing so that an unknown one is an error before any rendering.
bool IsKnownFilter(std::string_view name);
bool IsKnownTest(std::string_view name);

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_PARSER_H_
