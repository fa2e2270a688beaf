// chat/builtins: jinja2's filters, tests and global functions, as
// transformers' environment has them (its `tojson`, `raise_exception`, `strftime_now`).
#ifndef LLMTK_LIB_CHAT_BUILTINS_H_
#define LLMTK_LIB_CHAT_BUILTINS_H_

#include <ctime>
#include <optional>
#include <string_view>

#include "lib/base/status.h"
#include "lib/chat/value.h"

namespace llmtk::chat {

// Errors are InvalidArgument with Python's message (the caller adds where).
absl::StatusOr<Value> ApplyFilter(std::string_view name, const Value& v, const CallArgs& args);
absl::StatusOr<bool> ApplyTest(std::string_view name, const Value& v, const CallArgs& args);
// The global functions: range, namespace, raise_exception, strftime_now
// (formatting `now` in local time; null: the current time).
void AddGlobalFunctions(Dict* globals, std::optional<std::time_t> now);

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_BUILTINS_H_
