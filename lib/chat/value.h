// chat/value: the values a chat template computes with, behaving as the
// Python objects jinja2 hands around (str, int, float, bool, None, list,
// dict, callables, and jinja2's Undefined), because a template's output must
// be byte-identical to transformers' render: str() of a list is Python's
// repr, `tojson` is json.dumps, equality and truthiness are Python's.
//
// Strings are UTF-8; length, indexing and slicing count code points as
// Python does. Lists and dicts are shared (a namespace() is a dict marked as
// one, assigned through `set ns.attr`); dicts keep insertion order and have
// string keys only (JSON's and the templates' keys).
#ifndef LLMTK_LIB_CHAT_VALUE_H_
#define LLMTK_LIB_CHAT_VALUE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/status.h"

namespace llmtk::chat {

class Value;
using List = std::vector<Value>;

struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;
  const Value* Find(std::string_view key) const;
  void Set(std::string_view key, Value v);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> named;
};
using Function = std::function<absl::StatusOr<Value>(const CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // Undefined
  static Value Undefined(std::string name = "") {
    Value v;
    v.str_ = std::move(name);
    return v;
  }
  static Value None() { return Value(Kind::kNone); }
  static Value Bool(bool b) {
    Value v(Kind::kBool);
    v.int_ = b;
    return v;
  }
  static Value Int(int64_t i) {
    Value v(Kind::kInt);
    v.int_ = i;
    return v;
  }
  static Value Float(double d) {
    Value v(Kind::kFloat);
    v.float_ = d;
    return v;
  }
  static Value String(std::string s) {
    Value v(Kind::kString);
    v.str_ = std::move(s);
    return v;
  }
  static Value MakeList(List items = {}) {
    Value v(Kind::kList);
    v.list_ = std::make_shared<List>(std::move(items));
    return v;
  }
  // A Python tuple: a list that prints as (a, b) and equals only tuples.
  static Value MakeTuple(List items) {
    Value v = MakeList(std::move(items));
    v.int_ = 1;
    return v;
  }
  static Value MakeDict(std::shared_ptr<Dict> d = nullptr) {
    Value v(Kind::kDict);
    v.dict_ = d ? std::move(d) : std::make_shared<Dict>();
    return v;
  }
  static Value MakeFunction(std::string name, Function f) {
    Value v(Kind::kFunction);
    v.str_ = std::move(name);
    v.fn_ = std::make_shared<Function>(std::move(f));
    return v;
  }
  // A JSON text (messages, tools) as Python's json.loads gives it.
  static absl::StatusOr<Value> FromJson(std::string_view json);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool bool_value() const { return int_ != 0; }
  bool is_tuple() const { return kind_ == Kind::kList && int_ != 0; }
  int64_t int_value() const { return int_; }
  double float_value() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  // The string of a String; the variable name an Undefined stands for; a
  // function's name.
  const std::string& str() const { return str_; }
  const List& list() const { return *list_; }
  const std::shared_ptr<Dict>& dict() const { return dict_; }
  const Function& fn() const { return *fn_; }

  // Python's bool(x).
  bool Truthy() const;
  // Python's str(x) (jinja2 prints Undefined as "").
  std::string Str() const;
  // Python's repr(x).
  std::string Repr() const;
  // Python's type name, for error messages ("str", "NoneType", ...).
  const char* TypeName() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kUndefined;
  int64_t int_ = 0;
  double float_ = 0;
  std::string str_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// Python's ==.
bool Equals(const Value& a, const Value& b);
// Python's <, <=, >, >= for numbers, strings and lists; InvalidArgument
// otherwise, as Python's TypeError. `op` is one of "<", "<=", ">", ">=".
absl::StatusOr<bool> Compare(const Value& a, const Value& b, std::string_view op);

// json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
// sort_keys=sort_keys), as transformers' `tojson` filter calls it. indent < 0:
// none. Empty separators: json.dumps's defaults.
struct JsonStyle {
  int indent = -1;
  std::string item_sep, key_sep;
  bool sort_keys = false;
};
absl::StatusOr<std::string> ToJson(const Value& v, const JsonStyle& style);

// Python's repr of a float ("1.0", "1e+16", "0.1").
std::string PyFloatRepr(double d);

// Argument `pos` (or the keyword `name`) of a call, or `def`.
Value Arg(const CallArgs& a, size_t pos, std::string_view name, Value def = Value());

// UTF-8 <-> code points (invalid bytes pass through as U+FFFD-free bytes: a
// byte that starts no valid sequence is its own code point 0xDC80+byte, as
// Python's surrogateescape, so round trips keep the bytes).
std::vector<char32_t> ToCodePoints(std::string_view s);
std::string FromCodePoints(const std::vector<char32_t>& cps, size_t begin, size_t end);
// Python's str.isspace() for one code point.
bool IsPySpace(char32_t c);

}  // namespace llmtk::chat

#endif  // LLMTK_LIB_CHAT_VALUE_H_
