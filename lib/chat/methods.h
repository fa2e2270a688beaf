// chat/methods: Python's semantics for what templates do with values —
// attribute and item access as jinja2 resolves them (a str's or dict's
// method first for `.name`, the key first for `[key]`, Undefined on a miss),
// slicing, iteration, len() and `in`, and the str methods templates call
// (strip, split, startswith, replace, upper, title, ...). Strings count
// code points.
#ifndef LLMTK_LIB_CHAT_METHODS_H_
#define LLMTK_LIB_CHAT_METHODS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/chat/value.h"

namespace llmtk::chat {

// jinja2's getattr: a method of a str or dict, else the dict's key; any
// other miss is Undefined.
Value GetAttr(const Value& obj, std::string_view name);
// A dict's method (items, keys, values, get) bound to it; Undefined if none.
Value DictMethod(const Value& d, std::string_view name);
// jinja2's getitem: obj[key], Undefined on a miss.
absl::StatusOr<Value> GetItem(const Value& obj, const Value& key);
// obj[start:stop:step] (null: omitted), Python's rules.
absl::StatusOr<Value> Slice(const Value& obj, const Value* start, const Value* stop, const Value* step);
// The items a for loop visits (a dict's keys, a string's characters;
// Undefined: none).
absl::StatusOr<List> Iterate(const Value& v);
// Python's len() (Undefined: 0).
absl::StatusOr<int64_t> Length(const Value& v);
// `needle in hay` (Undefined hay: false).
absl::StatusOr<bool> Contains(const Value& hay, const Value& needle);

// str methods. Strip: `chars` Undefined or None strips whitespace.
absl::StatusOr<std::string> Strip(const std::string& s, const Value& chars, bool left, bool right);
absl::StatusOr<Value> Split(const std::string& s, const Value& sep, const Value& maxsplit);
std::string Replace(const std::string& s, const std::string& from, const std::string& to, int64_t count);
char32_t Upper(char32_t c);
char32_t Lower(char32_t c);
std::string MapChars(const std::string& s, char32_t (*f)(char32_t));
std::string Capitalize(const std::string& s);
std::string Title(const std::string& s);

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_METHODS_H_
