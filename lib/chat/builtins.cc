#include "lib/chat/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "lib/chat/parser.h"
#include "utf8proc.h"

namespace llmtk::chat {
namespace {

absl::Status TypeError(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

// Argument `pos` (or the keyword `name`) of a call, or `def`.
Value Arg(const CallArgs& a, size_t pos, std::string_view name, Value def = Value()) {
  for (const auto& [k, v] : a.named)
    if (k == name) return v;
  if (pos < a.positional.size()) return a.positional[pos];
  return def;
}

char32_t Upper(char32_t c) { return c < 0x80 ? (c >= 'a' && c <= 'z' ? c - 32 : c) : utf8proc_toupper(c); }
char32_t Lower(char32_t c) { return c < 0x80 ? (c >= 'A' && c <= 'Z' ? c + 32 : c) : utf8proc_tolower(c); }
bool IsCased(char32_t c) { return Upper(c) != c || Lower(c) != c; }

std::string MapChars(const std::string& s, char32_t (*f)(char32_t)) {
  std::vector<char32_t> cps = ToCodePoints(s);
  for (char32_t& c : cps) c = f(c);
  return FromCodePoints(cps, 0, cps.size());
}

std::string Capitalize(const std::string& s) {
  std::vector<char32_t> cps = ToCodePoints(s);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? Upper(cps[i]) : Lower(cps[i]);
  return FromCodePoints(cps, 0, cps.size());
}

std::string Title(const std::string& s) {
  std::vector<char32_t> cps = ToCodePoints(s);
  bool prev_cased = false;
  for (char32_t& c : cps) {
    const bool cased = IsCased(c);
    c = prev_cased ? Lower(c) : Upper(c);
    prev_cased = cased;
  }
  return FromCodePoints(cps, 0, cps.size());
}

// str.strip / lstrip / rstrip; `chars` Undefined or None: whitespace.
absl::StatusOr<std::string> Strip(const std::string& s, const Value& chars, bool left, bool right) {
  std::vector<char32_t> set;
  const bool ws = chars.is_undefined() || chars.is_none();
  if (!ws) {
    if (!chars.is_string()) return TypeError("strip arg must be None or str");
    set = ToCodePoints(chars.str());
  }
  auto strip = [&](char32_t c) { return ws ? IsPySpace(c) : std::find(set.begin(), set.end(), c) != set.end(); };
  std::vector<char32_t> cps = ToCodePoints(s);
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strip(cps[b])) ++b;
  if (right)
    while (e > b && strip(cps[e - 1])) --e;
  return FromCodePoints(cps, b, e);
}

absl::StatusOr<Value> Split(const std::string& s, const Value& sep, const Value& maxsplit_v) {
  int64_t maxsplit = maxsplit_v.is_undefined() ? -1 : maxsplit_v.int_value();
  List out;
  if (sep.is_undefined() || sep.is_none()) {
    std::vector<char32_t> cps = ToCodePoints(s);
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && IsPySpace(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        size_t e = cps.size();
        while (e > i && IsPySpace(cps[e - 1])) --e;
        out.push_back(Value::String(FromCodePoints(cps, i, e)));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !IsPySpace(cps[j])) ++j;
      out.push_back(Value::String(FromCodePoints(cps, i, j)));
      i = j;
    }
    return Value::MakeList(std::move(out));
  }
  if (!sep.is_string()) return TypeError(absl::StrCat("must be str or None, not ", sep.TypeName()));
  if (sep.str().empty()) return TypeError("empty separator");
  size_t pos = 0;
  for (;;) {
    const size_t at = s.find(sep.str(), pos);
    if (at == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit)) break;
    out.push_back(Value::String(s.substr(pos, at - pos)));
    pos = at + sep.str().size();
  }
  out.push_back(Value::String(s.substr(pos)));
  return Value::MakeList(std::move(out));
}

std::string Replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  std::string out;
  size_t pos = 0;
  int64_t n = 0;
  if (from.empty()) {
    // Python inserts `to` between every character (and at both ends).
    std::vector<char32_t> cps = ToCodePoints(s);
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      if (i < cps.size()) out += FromCodePoints(cps, i, i + 1);
    }
    return out;
  }
  for (;;) {
    const size_t at = s.find(from, pos);
    if (at == std::string::npos || (count >= 0 && n >= count)) break;
    out.append(s, pos, at - pos);
    out += to;
    pos = at + from.size();
    ++n;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

absl::StatusOr<bool> PrefixMatch(const std::string& s, const Value& p, bool prefix) {
  auto one = [&](const Value& x) -> absl::StatusOr<bool> {
    if (!x.is_string()) return TypeError(absl::StrCat(prefix ? "startswith" : "endswith",
                                                      " first arg must be str or a tuple of str, not ", x.TypeName()));
    const std::string& t = x.str();
    if (t.size() > s.size()) return false;
    return prefix ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  if (p.kind() == Value::Kind::kList) {
    for (const Value& x : p.list()) {
      ASSIGN_OR_RETURN(bool m, one(x));
      if (m) return true;
    }
    return false;
  }
  return one(p);
}

Value StringMethod(const std::string& s, std::string_view name) {
  const std::string n(name);
  auto fn = [&](Function f) { return Value::MakeFunction(n, std::move(f)); };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool l = name != "rstrip", r = name != "lstrip";
    return fn([s, l, r](const CallArgs& a) -> absl::StatusOr<Value> {
      ASSIGN_OR_RETURN(std::string out, Strip(s, Arg(a, 0, "chars"), l, r));
      return Value::String(std::move(out));
    });
  }
  if (name == "split")
    return fn([s](const CallArgs& a) { return Split(s, Arg(a, 0, "sep"), Arg(a, 1, "maxsplit")); });
  if (name == "startswith" || name == "endswith") {
    const bool prefix = name == "startswith";
    return fn([s, prefix](const CallArgs& a) -> absl::StatusOr<Value> {
      ASSIGN_OR_RETURN(bool m, PrefixMatch(s, Arg(a, 0, "prefix"), prefix));
      return Value::Bool(m);
    });
  }
  if (name == "upper") return fn([s](const CallArgs&) -> absl::StatusOr<Value> { return Value::String(MapChars(s, Upper)); });
  if (name == "lower") return fn([s](const CallArgs&) -> absl::StatusOr<Value> { return Value::String(MapChars(s, Lower)); });
  if (name == "title") return fn([s](const CallArgs&) -> absl::StatusOr<Value> { return Value::String(Title(s)); });
  if (name == "capitalize")
    return fn([s](const CallArgs&) -> absl::StatusOr<Value> { return Value::String(Capitalize(s)); });
  if (name == "replace")
    return fn([s](const CallArgs& a) -> absl::StatusOr<Value> {
      const Value from = Arg(a, 0, "old"), to = Arg(a, 1, "new"), count = Arg(a, 2, "count", Value::Int(-1));
      if (!from.is_string() || !to.is_string()) return TypeError("replace() arguments must be str");
      return Value::String(Replace(s, from.str(), to.str(), count.int_value()));
    });
  if (name == "find")
    return fn([s](const CallArgs& a) -> absl::StatusOr<Value> {
      const Value sub = Arg(a, 0, "sub");
      if (!sub.is_string()) return TypeError("must be str");
      const size_t at = s.find(sub.str());
      if (at == std::string::npos) return Value::Int(-1);
      return Value::Int(static_cast<int64_t>(ToCodePoints(s.substr(0, at)).size()));
    });
  if (name == "join")
    return fn([s](const CallArgs& a) -> absl::StatusOr<Value> {
      ASSIGN_OR_RETURN(List items, Iterate(Arg(a, 0, "iterable")));
      std::string out;
      for (size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_string())
          return TypeError(absl::StrCat("sequence item ", i, ": expected str instance, ", items[i].TypeName(), " found"));
        if (i) out += s;
        out += items[i].str();
      }
      return Value::String(std::move(out));
    });
  return Value::Undefined(n);
}

Value DictMethod(const Value& d, std::string_view name) {
  const std::string n(name);
  if (name == "items" || name == "keys" || name == "values") {
    const int what = name == "items" ? 0 : name == "keys" ? 1 : 2;
    return Value::MakeFunction(n, [d, what](const CallArgs&) -> absl::StatusOr<Value> {
      List out;
      for (const auto& [k, v] : d.dict()->items) {
        if (what == 0) out.push_back(Value::MakeTuple({Value::String(k), v}));
        else if (what == 1) out.push_back(Value::String(k));
        else out.push_back(v);
      }
      return Value::MakeList(std::move(out));
    });
  }
  if (name == "get")
    return Value::MakeFunction(n, [d](const CallArgs& a) -> absl::StatusOr<Value> {
      const Value key = Arg(a, 0, "key");
      const Value* v = key.is_string() ? d.dict()->Find(key.str()) : nullptr;
      return v ? *v : Arg(a, 1, "default", Value::None());
    });
  return Value::Undefined(n);
}

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

absl::StatusOr<List> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return List{};
    case Value::Kind::kList: return v.list();
    case Value::Kind::kDict: {
      List keys;
      for (const auto& [k, x] : v.dict()->items) keys.push_back(Value::String(k));
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<char32_t> cps = ToCodePoints(v.str());
      List chars;
      for (size_t i = 0; i < cps.size(); ++i) chars.push_back(Value::String(FromCodePoints(cps, i, i + 1)));
      return chars;
    }
    default: return TypeError(absl::StrCat("'", v.TypeName(), "' object is not iterable"));
  }
}

absl::StatusOr<int64_t> Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kList: return static_cast<int64_t>(v.list().size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.dict()->items.size());
    case Value::Kind::kString: return static_cast<int64_t>(ToCodePoints(v.str()).size());
    default: return TypeError(absl::StrCat("object of type '", v.TypeName(), "' has no len()"));
  }
}

absl::StatusOr<bool> Contains(const Value& hay, const Value& needle) {
  switch (hay.kind()) {
    case Value::Kind::kString:
      if (!needle.is_string())
        return TypeError(absl::StrCat("'in <string>' requires string as left operand, not ", needle.TypeName()));
      return hay.str().find(needle.str()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& x : hay.list())
        if (Equals(x, needle)) return true;
      return false;
    case Value::Kind::kDict:
      return needle.is_string() && hay.dict()->Find(needle.str()) != nullptr;
    case Value::Kind::kUndefined:
      return TypeError(absl::StrCat("'", hay.str().empty() ? "value" : hay.str(), "' is undefined"));
    default:
      return TypeError(absl::StrCat("argument of type '", hay.TypeName(), "' is not iterable"));
  }
}

Value GetAttr(const Value& obj, std::string_view name) {
  if (obj.is_string()) return StringMethod(obj.str(), name);
  if (obj.kind() == Value::Kind::kDict) {
    if (!obj.dict()->is_namespace) {
      Value m = DictMethod(obj, name);
      if (!m.is_undefined()) return m;
    }
    if (const Value* v = obj.dict()->Find(name)) return *v;
  }
  return Value::Undefined(std::string(name));
}

absl::StatusOr<Value> GetItem(const Value& obj, const Value& key) {
  if (obj.kind() == Value::Kind::kDict) {
    if (key.is_string()) {
      if (const Value* v = obj.dict()->Find(key.str())) return *v;
      return Value::Undefined(key.str());
    }
    return Value::Undefined();
  }
  if ((obj.kind() == Value::Kind::kList || obj.is_string()) && key.is_number() && key.kind() != Value::Kind::kFloat) {
    int64_t i = key.int_value();
    if (obj.is_string()) {
      std::vector<char32_t> cps = ToCodePoints(obj.str());
      const int64_t n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::Undefined();
      return Value::String(FromCodePoints(cps, i, i + 1));
    }
    const int64_t n = static_cast<int64_t>(obj.list().size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::Undefined();
    return obj.list()[i];
  }
  if (key.is_string()) return GetAttr(obj, key.str());
  return Value::Undefined();
}

absl::StatusOr<Value> Slice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  auto as_int = [](const Value* v, int64_t def) -> absl::StatusOr<int64_t> {
    if (!v || v->is_none()) return def;
    if (v->kind() != Value::Kind::kInt && v->kind() != Value::Kind::kBool)
      return TypeError("slice indices must be integers or None");
    return v->int_value();
  };
  ASSIGN_OR_RETURN(int64_t st, as_int(step, 1));
  if (st == 0) return TypeError("slice step cannot be zero");
  std::vector<char32_t> cps;
  int64_t n;
  if (obj.is_string()) {
    cps = ToCodePoints(obj.str());
    n = static_cast<int64_t>(cps.size());
  } else if (obj.kind() == Value::Kind::kList) {
    n = static_cast<int64_t>(obj.list().size());
  } else if (obj.is_undefined()) {
    return Value::Undefined();
  } else {
    return TypeError(absl::StrCat("'", obj.TypeName(), "' object is not subscriptable"));
  }
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](const Value* x, int64_t def) -> absl::StatusOr<int64_t> {
    if (!x || x->is_none()) return def;
    ASSIGN_OR_RETURN(int64_t i, as_int(x, 0));
    if (i < 0) {
      i += n;
      if (i < 0) i = st < 0 ? -1 : 0;
    } else if (i >= n) {
      i = st < 0 ? n - 1 : n;
    }
    return i;
  };
  ASSIGN_OR_RETURN(const int64_t b, adjust(start, st < 0 ? n - 1 : 0));
  ASSIGN_OR_RETURN(const int64_t e, adjust(stop, st < 0 ? -1 : n));
  std::vector<int64_t> idx;
  if (st > 0)
    for (int64_t i = b; i < e; i += st) idx.push_back(i);
  else
    for (int64_t i = b; i > e; i += st) idx.push_back(i);
  if (obj.is_string()) {
    std::string out;
    for (int64_t i : idx) out += FromCodePoints(cps, i, i + 1);
    return Value::String(std::move(out));
  }
  List out;
  for (int64_t i : idx) out.push_back(obj.list()[i]);
  return Value::MakeList(std::move(out));
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
