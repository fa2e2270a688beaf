// chat/builtins: jinja2's filters, tests and global functions, and the
// Python methods templates call on strings and dicts, as transformers'
// environment has them (its `tojson`, `raise_exception`, `strftime_now`).
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
// jinja2's getattr: a method of a str or dict, else the dict's key; any
// other miss is Undefined.
Value GetAttr(const Value& obj, std::string_view name);
// jinja2's getitem: obj[key], Undefined on a miss.
absl::StatusOr<Value> GetItem(const Value& obj, const Value& key);
// obj[start:stop:step] (null: omitted), Python's rules.
absl::StatusOr<Value> Slice(const Value& obj, const Value* start, const Value* stop, const Value* step);
// The items a for loop visits (a dict's keys, a string's characters).
absl::StatusOr<List> Iterate(const Value& v);
// Python's len().
absl::StatusOr<int64_t> Length(const Value& v);
// `needle in hay`.
absl::StatusOr<bool> Contains(const Value& hay, const Value& needle);

// The global functions: range, namespace, raise_exception, strftime_now
// (formatting `now` in local time; null: the current time).
void AddGlobalFunctions(Dict* globals, std::optional<std::time_t> now);

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_BUILTINS_H_
