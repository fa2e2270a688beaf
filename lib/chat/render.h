// chat/render: runs a parsed template (chat/ast.h) over its variables,
// as jinja2 does: for-loops get their own scope (a `set` inside one does not
// leak out, hence templates' namespace()), `if` does not; Undefined prints as
// nothing and fails when used further (attribute access, arithmetic).
#ifndef LLMTK_LIB_CHAT_RENDER_H_
#define LLMTK_LIB_CHAT_RENDER_H_

#include <memory>
#include <string>

#include "lib/base/status.h"
#include "lib/chat/ast.h"

namespace llmtk::chat {

// `globals`: the variables and global functions. Errors are InvalidArgument
// "line L, column C: ..." (raise_exception's as "raise_exception: MSG").
absl::StatusOr<std::string> Render(const Body& body, const Dict& globals);

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_RENDER_H_
