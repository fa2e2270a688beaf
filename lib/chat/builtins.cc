#include "lib/chat/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "lib/chat/methods.h"
#include "lib/chat/parser.h"

namespace llmtk::chat {
namespace {
absl::Status TypeError(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

absl::StatusOr<Value> ToInt(const Value& v, const Value& def) {
  switch (v.kind()) {
    case Value::Kind::kBool:
    case Value::Kind::kInt: return Value::Int(v.int_value());
    case Value::Kind::kFloat: return std::isfinite(v.float_value()) ? Value::Int(static_cast<int64_t>(v.float_value())) : def;
    case Value::Kind::kString: {
      ASSIGN_OR_RETURN(std::string t, Strip(v.str(), Value(), true, true));
      char* end = nullptr;
      errno = 0;
      const long long i = std::strtoll(t.c_str(), &end, 10);
      if (!t.empty() && *end == '\0' && errno == 0) return Value::Int(i);
      const double d = std::strtod(t.c_str(), &end);
      if (!t.empty() && *end == '\0' && std::isfinite(d)) return Value::Int(static_cast<int64_t>(d));
      return def;
    }
    default: return def;
  }
}

absl::StatusOr<List> SelectItems(const Value& v, const CallArgs& a, bool attr_mode, bool keep) {
  ASSIGN_OR_RETURN(List items, Iterate(v));
  size_t first = 0;
  std::string attr;
  if (attr_mode) {
    const Value at = Arg(a, 0, "attr");
    if (!at.is_string()) return TypeError("selectattr/rejectattr need an attribute name");
    attr = at.str();
    first = 1;
  }
  std::string test;
  CallArgs targs;
  if (a.positional.size() > first) {
    if (!a.positional[first].is_string()) return TypeError("the test name must be a string");
    test = a.positional[first].str();
    targs.positional.assign(a.positional.begin() + first + 1, a.positional.end());
  }
  List out;
  for (const Value& item : items) {
    const Value x = attr_mode ? GetAttr(item, attr) : item;
    bool r;
    if (test.empty()) {
      r = x.Truthy();
    } else {
      ASSIGN_OR_RETURN(r, ApplyTest(test, x, targs));
    }
    if (r == keep) out.push_back(item);
  }
  return out;
}

std::string Indent(const std::string& s, const std::string& pad, bool first, bool blank) {
  std::string out;
  size_t pos = 0;
  bool is_first = true;
  for (;;) {
    const size_t nl = s.find('\n', pos);
    const std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if ((is_first ? first : true) && (blank || !line.empty())) out += pad;
    out += line;
    if (nl == std::string::npos) break;
    out += '\n';
    pos = nl + 1;
    is_first = false;
  }
  return out;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

constexpr std::string_view kFilters[] = {
    "abs",   "attr",       "capitalize", "count",  "d",      "default", "e",       "escape",  "first",
    "float", "indent",     "int",        "items",  "join",   "last",    "length",  "list",    "lower",
    "map",   "reject",     "rejectattr", "replace", "reverse", "safe",  "select",  "selectattr", "string",
    "title", "tojson",     "trim",       "unique", "upper",  "wordcount"};
constexpr std::string_view kTests[] = {
    "boolean", "callable", "defined", "divisibleby", "eq",  "equalto", "escaped", "even", "false",
    "float",   "ge",       "gt",      "greaterthan", "in",  "integer", "iterable", "le",  "lessthan",
    "lower",   "lt",       "mapping", "ne",          "none", "number", "odd",     "sameas", "sequence",
    "string",  "true",     "undefined", "upper"};

}  // namespace

bool IsKnownFilter(std::string_view name) {
  return std::find(std::begin(kFilters), std::end(kFilters), name) != std::end(kFilters);
}
bool IsKnownTest(std::string_view name) {
  return std::find(std::begin(kTests), std::end(kTests), name) != std::end(kTests);
}

absl::StatusOr<bool> ApplyTest(std::string_view name, const Value& v, const CallArgs& a) {
  using K = Value::Kind;
  const Value arg = Arg(a, 0, "value");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind() == K::kBool;
  if (name == "true") return v.kind() == K::kBool && v.bool_value();
  if (name == "false") return v.kind() == K::kBool && !v.bool_value();
  if (name == "integer") return v.kind() == K::kInt;
  if (name == "float") return v.kind() == K::kFloat;
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.kind() == K::kDict;
  if (name == "iterable") return v.kind() == K::kList || v.kind() == K::kDict || v.is_string() || v.is_undefined();
  if (name == "sequence") return v.kind() == K::kList || v.kind() == K::kDict || v.is_string() || v.is_undefined();
  if (name == "callable") return v.kind() == K::kFunction;
  if (name == "escaped") return false;
  if (name == "sameas") {
    if (v.kind() != arg.kind()) return false;
    if (v.kind() == K::kList || v.kind() == K::kDict) return v.kind() == K::kList ? &v.list() == &arg.list() : v.dict() == arg.dict();
    return Equals(v, arg);
  }
  if (name == "eq" || name == "equalto" || name == "==") return Equals(v, arg);
  if (name == "ne" || name == "!=") return !Equals(v, arg);
  if (name == "lt" || name == "lessthan" || name == "<") return Compare(v, arg, "<");
  if (name == "le" || name == "<=") return Compare(v, arg, "<=");
  if (name == "gt" || name == "greaterthan" || name == ">") return Compare(v, arg, ">");
  if (name == "ge" || name == ">=") return Compare(v, arg, ">=");
  if (name == "in") return Contains(arg, v);
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (v.kind() != K::kInt && v.kind() != K::kBool) return TypeError(absl::StrCat("test '", std::string(name), "' needs an integer"));
    const int64_t i = v.int_value();
    if (name == "odd") return i % 2 != 0;
    if (name == "even") return i % 2 == 0;
    if (arg.kind() != K::kInt || arg.int_value() == 0) return TypeError("divisibleby needs a non-zero integer");
    return i % arg.int_value() == 0;
  }
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return TypeError(absl::StrCat("test '", std::string(name), "' needs a string"));
    const std::string mapped = MapChars(v.str(), name == "lower" ? Lower : Upper);
    return mapped == v.str();
  }
  return TypeError(absl::StrCat("unknown test '", std::string(name), "'"));
}

absl::StatusOr<Value> ApplyFilter(std::string_view name, const Value& v, const CallArgs& a) {
  using K = Value::Kind;
  if (name == "safe") return v;
  if (name == "trim") {
    ASSIGN_OR_RETURN(std::string s, Strip(v.Str(), Arg(a, 0, "chars"), true, true));
    return Value::String(std::move(s));
  }
  if (name == "string") return v.is_string() ? v : Value::String(v.Str());
  if (name == "upper") return Value::String(MapChars(v.Str(), Upper));
  if (name == "lower") return Value::String(MapChars(v.Str(), Lower));
  if (name == "capitalize") return Value::String(Capitalize(v.Str()));
  if (name == "title") return Value::String(Title(v.Str()));
  if (name == "e" || name == "escape") return Value::String(Escape(v.Str()));
  if (name == "length" || name == "count") {
    ASSIGN_OR_RETURN(int64_t n, Length(v));
    return Value::Int(n);
  }
  if (name == "wordcount") {
    ASSIGN_OR_RETURN(Value words, Split(v.Str(), Value(), Value()));
    return Value::Int(static_cast<int64_t>(words.list().size()));
  }
  if (name == "default" || name == "d") {
    const bool boolean = Arg(a, 1, "boolean", Value::Bool(false)).Truthy();
    if (v.is_undefined() || (boolean && !v.Truthy())) return Arg(a, 0, "default_value", Value::String(""));
    return v;
  }
  if (name == "tojson") {
    JsonStyle st;
    const Value indent = Arg(a, 0, "indent", Value::None());
    if (indent.kind() == K::kInt) st.indent = static_cast<int>(std::clamp<int64_t>(indent.int_value(), 0, 64));
    else if (!indent.is_none()) return TypeError("tojson: indent must be an integer or None");
    const Value seps = Arg(a, 2, "separators", Value::None());
    if (seps.kind() == K::kList && seps.list().size() == 2 && seps.list()[0].is_string() && seps.list()[1].is_string()) {
      st.item_sep = seps.list()[0].str();
      st.key_sep = seps.list()[1].str();
      if (st.item_sep.empty()) st.item_sep = std::string();
    } else if (!seps.is_none()) {
      return TypeError("tojson: separators must be a pair of strings");
    }
    st.sort_keys = Arg(a, 3, "sort_keys", Value::Bool(false)).Truthy();
    if (Arg(a, 1, "ensure_ascii", Value::Bool(false)).Truthy())
      return TypeError("tojson: ensure_ascii=True is not supported");
    ASSIGN_OR_RETURN(std::string s, ToJson(v, st));
    return Value::String(std::move(s));
  }
  if (name == "join") {
    ASSIGN_OR_RETURN(List items, Iterate(v));
    const Value sep = Arg(a, 0, "d", Value::String(""));
    const Value attr = Arg(a, 1, "attribute", Value::None());
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += sep.Str();
      out += (attr.is_string() ? GetAttr(items[i], attr.str()) : items[i]).Str();
    }
    return Value::String(std::move(out));
  }
  if (name == "replace") {
    const Value from = Arg(a, 0, "old"), to = Arg(a, 1, "new"), count = Arg(a, 2, "count", Value::None());
    return Value::String(Replace(v.Str(), from.Str(), to.Str(), count.kind() == K::kInt ? count.int_value() : -1));
  }
  if (name == "first" || name == "last") {
    ASSIGN_OR_RETURN(List items, Iterate(v));
    if (items.empty()) return Value::Undefined();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    ASSIGN_OR_RETURN(List items, Iterate(v));
    return Value::MakeList(std::move(items));
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<char32_t> cps = ToCodePoints(v.str());
      std::reverse(cps.begin(), cps.end());
      return Value::String(FromCodePoints(cps, 0, cps.size()));
    }
    ASSIGN_OR_RETURN(List items, Iterate(v));
    std::reverse(items.begin(), items.end());
    return Value::MakeList(std::move(items));
  }
  if (name == "unique") {
    ASSIGN_OR_RETURN(List items, Iterate(v));
    List out;
    for (const Value& x : items)
      if (std::none_of(out.begin(), out.end(), [&](const Value& y) { return Equals(x, y); })) out.push_back(x);
    return Value::MakeList(std::move(out));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::MakeList();
    if (v.kind() != K::kDict) return TypeError(absl::StrCat("items: expected a mapping, got ", v.TypeName()));
    return GetAttr(v, "items").fn()(CallArgs{});
  }
  if (name == "attr") {
    // jinja2's attr is getattr alone: a dict's keys are not attributes.
    const std::string attr = Arg(a, 0, "name").Str();
    return v.kind() == K::kDict && !v.dict()->is_namespace ? DictMethod(v, attr) : GetAttr(v, attr);
  }
  if (name == "int") return ToInt(v, Arg(a, 0, "default", Value::Int(0)));
  if (name == "float") {
    if (v.is_number()) return Value::Float(v.float_value());
    if (v.is_string()) {
      char* end = nullptr;
      const double d = std::strtod(v.str().c_str(), &end);
      if (!v.str().empty() && *end == '\0') return Value::Float(d);
    }
    return Arg(a, 0, "default", Value::Float(0));
  }
  if (name == "abs") {
    if (v.kind() == K::kFloat) return Value::Float(std::fabs(v.float_value()));
    if (v.is_number()) return Value::Int(v.int_value() < 0 ? -v.int_value() : v.int_value());
    return TypeError(absl::StrCat("bad operand type for abs(): '", v.TypeName(), "'"));
  }
  if (name == "indent") {
    const Value width = Arg(a, 0, "width", Value::Int(4));
    const std::string pad = width.is_string() ? width.str() : std::string(std::clamp<int64_t>(width.int_value(), 0, 256), ' ');
    return Value::String(Indent(v.Str(), pad, Arg(a, 1, "first").Truthy(), Arg(a, 2, "blank").Truthy()));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    ASSIGN_OR_RETURN(List out, SelectItems(v, a, name.size() > 6, name[0] == 's'));
    return Value::MakeList(std::move(out));
  }
  if (name == "map") {
    ASSIGN_OR_RETURN(List items, Iterate(v));
    const Value attr = Arg(a, 99, "attribute");
    List out;
    if (attr.is_string()) {
      const Value def = Arg(a, 99, "default");
      for (const Value& x : items) {
        Value y = GetAttr(x, attr.str());
        out.push_back(y.is_undefined() && !def.is_undefined() ? def : y);
      }
    } else {
      if (a.positional.empty() || !a.positional[0].is_string()) return TypeError("map needs a filter name or attribute=");
      const std::string f = a.positional[0].str();
      if (!IsKnownFilter(f) || f == "map") return TypeError(absl::StrCat("unknown filter '", f, "'"));
      CallArgs fa;
      fa.positional.assign(a.positional.begin() + 1, a.positional.end());
      for (const Value& x : items) {
        ASSIGN_OR_RETURN(Value y, ApplyFilter(f, x, fa));
        out.push_back(std::move(y));
      }
    }
    return Value::MakeList(std::move(out));
  }
  return TypeError(absl::StrCat("unknown filter '", std::string(name), "'"));
}

void AddGlobalFunctions(Dict* g, std::optional<std::time_t> now) {
  g->Set("range", Value::MakeFunction("range", [](const CallArgs& a) -> absl::StatusOr<Value> {
    int64_t p[3] = {0, 0, 1};
    const size_t n = a.positional.size();
    if (n < 1 || n > 3 || !a.named.empty()) return TypeError("range expected 1 to 3 integer arguments");
    for (size_t i = 0; i < n; ++i) {
      const Value& x = a.positional[i];
      if (x.kind() != Value::Kind::kInt && x.kind() != Value::Kind::kBool)
        return TypeError(absl::StrCat("'", x.TypeName(), "' object cannot be interpreted as an integer"));
    }
    if (n == 1) p[1] = a.positional[0].int_value();
    else for (size_t i = 0; i < n; ++i) p[i] = a.positional[i].int_value();
    if (p[2] == 0) return TypeError("range() arg 3 must not be zero");
    List out;
    for (int64_t i = p[0]; p[2] > 0 ? i < p[1] : i > p[1]; i += p[2]) {
      // jinja2's sandbox refuses ranges over 100000 items.
      if (out.size() >= 100000) return TypeError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
      out.push_back(Value::Int(i));
    }
    return Value::MakeList(std::move(out));
  }));
  g->Set("namespace", Value::MakeFunction("namespace", [](const CallArgs& a) -> absl::StatusOr<Value> {
    auto d = std::make_shared<Dict>();
    d->is_namespace = true;
    for (const Value& p : a.positional) {
      if (p.kind() != Value::Kind::kDict) return TypeError("namespace() takes keyword arguments or a dict");
      for (const auto& [k, v] : p.dict()->items) d->Set(k, v);
    }
    for (const auto& [k, v] : a.named) d->Set(k, v);
    return Value::MakeDict(std::move(d));
  }));
  g->Set("raise_exception", Value::MakeFunction("raise_exception", [](const CallArgs& a) -> absl::StatusOr<Value> {
    return absl::InvalidArgumentError(absl::StrCat("raise_exception: ", Arg(a, 0, "message").Str()));
  }));
  g->Set("strftime_now", Value::MakeFunction("strftime_now", [now](const CallArgs& a) -> absl::StatusOr<Value> {
    const Value fmt = Arg(a, 0, "format");
    if (!fmt.is_string()) return TypeError("strftime_now needs a format string");
    const std::time_t t = now ? *now : std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[512];
    const size_t n = fmt.str().empty() ? 0 : std::strftime(buf, sizeof buf, fmt.str().c_str(), &tm);
    return Value::String(std::string(buf, n));
  }));
}

}  // namespace llmtk::chat
