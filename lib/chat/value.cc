#include "lib/chat/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "simdjson.h"

namespace llmtk::chat {

const Value* Dict::Find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k == key) return &v;
  return nullptr;
}

void Dict::Set(std::string_view key, Value v) {
  for (auto& [k, old] : items) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  items.emplace_back(std::string(key), std::move(v));
}

namespace {

absl::StatusOr<Value> FromElement(simdjson::dom::element e, int depth) {
  if (depth > 256) return absl::InvalidArgumentError("JSON nested more than 256 levels deep");
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      List items;
      for (simdjson::dom::element c : e.get_array()) {
        ASSIGN_OR_RETURN(Value v, FromElement(c, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::MakeList(std::move(items));
    }
    case simdjson::dom::element_type::OBJECT: {
      auto d = std::make_shared<Dict>();
      for (auto field : e.get_object()) {
        ASSIGN_OR_RETURN(Value v, FromElement(field.value, depth + 1));
        d->Set(std::string(field.key), std::move(v));
      }
      return Value::MakeDict(std::move(d));
    }
    case simdjson::dom::element_type::INT64:
      return Value::Int(int64_t(e));
    case simdjson::dom::element_type::UINT64:
      return Value::Float(static_cast<double>(uint64_t(e)));
    case simdjson::dom::element_type::DOUBLE:
      return Value::Float(double(e));
    case simdjson::dom::element_type::STRING:
      return Value::String(std::string(std::string_view(e)));
    case simdjson::dom::element_type::BOOL:
      return Value::Bool(bool(e));
    case simdjson::dom::element_type::NULL_VALUE:
      return Value::None();
    default:
      break;
  }
  return absl::InvalidArgumentError("unsupported JSON value");
}

void AppendUtf8(std::string& out, char32_t c) {
  if (c >= 0xDC80 && c <= 0xDCFF) {  // an escaped invalid byte
    out.push_back(static_cast<char>(c - 0xDC00));
  } else if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string PyStringRepr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == q) out += std::string("\\") + static_cast<char>(q);
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) out += absl::StrFormat("\\x%02x", c);
    else out.push_back(static_cast<char>(c));
  }
  out.push_back(q);
  return out;
}

void JsonString(std::string& out, const std::string& s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) out += absl::StrFormat("\\u%04x", c);
        else out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

absl::Status AppendJson(std::string& out, const Value& v, const JsonStyle& st, int level) {
  if (level > 256) return absl::InvalidArgumentError("tojson: value nested too deeply");
  const std::string item_sep = !st.item_sep.empty() ? st.item_sep : (st.indent >= 0 ? "," : ", ");
  const std::string key_sep = !st.key_sep.empty() ? st.key_sep : ": ";
  auto newline = [&](int lvl) {
    out.push_back('\n');
    out.append(static_cast<size_t>(st.indent) * lvl, ' ');
  };
  switch (v.kind()) {
    case Value::Kind::kNone: out += "null"; return absl::OkStatus();
    case Value::Kind::kBool: out += v.bool_value() ? "true" : "false"; return absl::OkStatus();
    case Value::Kind::kInt: out += absl::StrCat(v.int_value()); return absl::OkStatus();
    case Value::Kind::kFloat: {
      const double d = v.float_value();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else out += PyFloatRepr(d);
      return absl::OkStatus();
    }
    case Value::Kind::kString: JsonString(out, v.str()); return absl::OkStatus();
    case Value::Kind::kList: {
      const List& l = v.list();
      if (l.empty()) {
        out += "[]";
        return absl::OkStatus();
      }
      out.push_back('[');
      for (size_t i = 0; i < l.size(); ++i) {
        if (i) out += item_sep;
        if (st.indent >= 0) newline(level + 1);
        RETURN_IF_ERROR(AppendJson(out, l[i], st, level + 1));
      }
      if (st.indent >= 0) newline(level);
      out.push_back(']');
      return absl::OkStatus();
    }
    case Value::Kind::kDict: {
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : v.dict()->items) items.push_back(&kv);
      if (st.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
      if (items.empty()) {
        out += "{}";
        return absl::OkStatus();
      }
      out.push_back('{');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        if (st.indent >= 0) newline(level + 1);
        JsonString(out, items[i]->first);
        out += key_sep;
        RETURN_IF_ERROR(AppendJson(out, items[i]->second, st, level + 1));
      }
      if (st.indent >= 0) newline(level);
      out.push_back('}');
      return absl::OkStatus();
    }
    case Value::Kind::kUndefined:
      return absl::InvalidArgumentError(
          absl::StrCat("tojson: ", v.str().empty() ? "a value" : absl::StrCat("'", v.str(), "'"), " is undefined"));
    case Value::Kind::kFunction:
      return absl::InvalidArgumentError("tojson: a function is not JSON serializable");
  }
  return absl::OkStatus();
}


}  // namespace

absl::StatusOr<Value> Value::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root))
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", simdjson::error_message(err)));
  return FromElement(root, 0);
}

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // "-d.ddde+XX"
  const bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  const size_t e = sci.find('e');
  const std::string_view sv(sci);
  const std::string digits = absl::StrCat(ToAbsl(sv.substr(0, 1)), ToAbsl(e > 2 ? sv.substr(2, e - 2) : std::string_view()));
  const int exp = std::atoi(sci.c_str() + e + 1);
  const std::string_view dg(digits);
  std::string out;
  if (exp < -4 || exp >= 16) {
    out = absl::StrCat(ToAbsl(dg.substr(0, 1)), dg.size() > 1 ? "." : "", ToAbsl(dg.substr(1)),
                       absl::StrFormat("e%c%02d", exp < 0 ? '-' : '+', std::abs(exp)));
  } else if (exp < 0) {
    out = absl::StrCat("0.", std::string(-exp - 1, '0'), digits);
  } else if (static_cast<int>(digits.size()) <= exp + 1) {
    out = absl::StrCat(digits, std::string(exp + 1 - digits.size(), '0'), ".0");
  } else {
    out = absl::StrCat(ToAbsl(dg.substr(0, exp + 1)), ".", ToAbsl(dg.substr(exp + 1)));
  }
  return neg ? absl::StrCat("-", out) : out;
}

Value Arg(const CallArgs& a, size_t pos, std::string_view name, Value def) {
  for (const auto& [k, v] : a.named)
    if (k == name) return v;
  if (pos < a.positional.size()) return a.positional[pos];
  return def;
}

std::vector<char32_t> ToCodePoints(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = n > 0 && i + n <= s.size();
    for (int k = 1; ok && k < n; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xDC00 + c);
      ++i;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

std::string FromCodePoints(const std::vector<char32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) AppendUtf8(out, cps[i]);
  return out;
}

bool IsPySpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return int_ != 0;
    case Kind::kFloat: return float_ != 0;
    case Kind::kString: return !str_.empty();
    case Kind::kList: return !list_->empty();
    case Kind::kDict: return !dict_->items.empty();
    case Kind::kFunction: return true;
  }
  return false;
}

std::string Value::Str() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kString: return str_;
    default: return Repr();
  }
}

std::string Value::Repr() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kNone: return "None";
    case Kind::kBool: return int_ ? "True" : "False";
    case Kind::kInt: return absl::StrCat(int_);
    case Kind::kFloat: return PyFloatRepr(float_);
    case Kind::kString: return PyStringRepr(str_);
    case Kind::kList: {
      std::string out = is_tuple() ? "(" : "[";
      for (size_t i = 0; i < list_->size(); ++i) {
        if (i) out += ", ";
        out += (*list_)[i].Repr();
      }
      if (is_tuple()) return out + (list_->size() == 1 ? ",)" : ")");
      return out + "]";
    }
    case Kind::kDict: {
      std::string out = dict_->is_namespace ? "<Namespace {" : "{";
      for (size_t i = 0; i < dict_->items.size(); ++i) {
        if (i) out += ", ";
        out += PyStringRepr(dict_->items[i].first) + ": " + dict_->items[i].second.Repr();
      }
      return out + (dict_->is_namespace ? "}>" : "}");
    }
    case Kind::kFunction: return absl::StrCat("<function ", str_, ">");
  }
  return "";
}

const char* Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kFunction: return "function";
  }
  return "";
}

bool Equals(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == K::kFloat || b.kind() == K::kFloat) return a.float_value() == b.float_value();
    return a.int_value() == b.int_value();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kUndefined:
    case K::kNone: return true;
    case K::kString: return a.str() == b.str();
    case K::kList: {
      if (a.is_tuple() != b.is_tuple() || a.list().size() != b.list().size()) return false;
      for (size_t i = 0; i < a.list().size(); ++i)
        if (!Equals(a.list()[i], b.list()[i])) return false;
      return true;
    }
    case K::kDict: {
      if (a.dict() == b.dict()) return true;
      if (a.dict()->items.size() != b.dict()->items.size()) return false;
      for (const auto& [k, v] : a.dict()->items) {
        const Value* o = b.dict()->Find(k);
        if (!o || !Equals(v, *o)) return false;
      }
      return true;
    }
    case K::kFunction: return &a.fn() == &b.fn();
    default: return false;
  }
}

absl::StatusOr<bool> Compare(const Value& a, const Value& b, std::string_view op) {
  int c = 0;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Value::Kind::kFloat || b.kind() == Value::Kind::kFloat) {
      c = a.float_value() < b.float_value() ? -1 : a.float_value() > b.float_value() ? 1 : 0;
    } else {
      c = a.int_value() < b.int_value() ? -1 : a.int_value() > b.int_value() ? 1 : 0;
    }
  } else if (a.is_string() && b.is_string()) {
    // UTF-8 byte order is code point order.
    c = a.str().compare(b.str());
    c = c < 0 ? -1 : c > 0 ? 1 : 0;
  } else if (a.kind() == Value::Kind::kList && b.kind() == Value::Kind::kList) {
    const List &x = a.list(), &y = b.list();
    size_t i = 0;
    while (i < x.size() && i < y.size() && Equals(x[i], y[i])) ++i;
    if (i < x.size() && i < y.size()) {
      ASSIGN_OR_RETURN(bool lt, Compare(x[i], y[i], "<"));
      c = lt ? -1 : 1;
    } else {
      c = x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("'", std::string(op), "' not supported between instances of '", a.TypeName(),
                                                   "' and '", b.TypeName(), "'"));
  }
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

absl::StatusOr<std::string> ToJson(const Value& v, const JsonStyle& style) {
  std::string out;
  RETURN_IF_ERROR(AppendJson(out, v, style, 0));
  return out;
}

}  // namespace llmtk::chat
