#include "lib/chat/methods.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "utf8proc.h"

namespace llmtk::chat {
namespace {

absl::Status TypeError(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

}  // namespace

char32_t Upper(char32_t c) { return c < 0x80 ? (c >= 'a' && c <= 'z' ? c - 32 : c) : utf8proc_toupper(c); }
char32_t Lower(char32_t c) { return c < 0x80 ? (c >= 'A' && c <= 'Z' ? c + 32 : c) : utf8proc_tolower(c); }
namespace {
bool IsCased(char32_t c) { return Upper(c) != c || Lower(c) != c; }
}  // namespace

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

namespace {

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

}  // namespace

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
    case Value::Kind::kUndefined:  // jinja2's Undefined iterates as empty
      return false;
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

}  // namespace llmtk::chat
