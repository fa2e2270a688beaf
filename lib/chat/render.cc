#include "lib/chat/render.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/chat/builtins.h"
#include "lib/chat/methods.h"

namespace llmtk::chat {
namespace {

constexpr size_t kMaxOutput = size_t{256} << 20;  // bytes: a runaway template is an error, not a crash
constexpr int kMaxCallDepth = 64;

absl::Status Err(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

absl::Status Locate(const absl::Status& s, int line, int col) {
  if (s.ok() || absl::StartsWith(s.message(), "line ")) return s;
  return absl::Status(s.code(), absl::StrCat("line ", line, ", column ", col, ": ", s.message()));
}

absl::Status UndefinedError(const Value& v) {
  return Err(v.str().empty() ? "a value is undefined" : absl::StrCat("'", v.str(), "' is undefined"));
}

bool Overflows(std::string_view op, int64_t a, int64_t b, int64_t* r) {
  if (op == "+") return __builtin_add_overflow(a, b, r);
  if (op == "-") return __builtin_sub_overflow(a, b, r);
  return __builtin_mul_overflow(a, b, r);
}

absl::StatusOr<Value> Repeat(const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    if (seq.str().size() * static_cast<unsigned __int128>(n) > kMaxOutput) return Err("string repetition too large");
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::String(std::move(out));
  }
  if (seq.list().size() * static_cast<unsigned __int128>(n) > (1u << 20)) return Err("list repetition too large");
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.list().begin(), seq.list().end());
  return Value::MakeList(std::move(out));
}

absl::StatusOr<Value> Arith(std::string_view op, const Value& a, const Value& b) {
  using K = Value::Kind;
  if (op == "~") return Value::String(a.Str() + b.Str());
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  const bool ints = (a.kind() == K::kInt || a.kind() == K::kBool) && (b.kind() == K::kInt || b.kind() == K::kBool);
  if (a.is_number() && b.is_number()) {
    if (ints && (op == "+" || op == "-" || op == "*")) {
      int64_t r;
      if (Overflows(op, a.int_value(), b.int_value(), &r)) return Err("integer overflow");
      return Value::Int(r);
    }
    const double x = a.float_value(), y = b.float_value();
    if (op == "+") return Value::Float(x + y);
    if (op == "-") return Value::Float(x - y);
    if (op == "*") return Value::Float(x * y);
    if (op == "/") {
      if (y == 0) return Err("division by zero");
      return Value::Float(x / y);
    }
    if (op == "//" || op == "%") {
      if (y == 0) return Err(op == "%" ? "modulo by zero" : "integer division or modulo by zero");
      if (ints) {
        const int64_t i = a.int_value(), j = b.int_value();
        if (i == INT64_MIN && j == -1) return Err("integer overflow");
        int64_t q = i / j, m = i % j;
        if (m != 0 && ((m < 0) != (j < 0))) {
          --q;
          m += j;
        }
        return Value::Int(op == "//" ? q : m);
      }
      const double m = std::fmod(x, y);
      const double mod = (m != 0 && ((m < 0) != (y < 0))) ? m + y : m;
      return Value::Float(op == "//" ? std::floor(x / y) : mod);
    }
    if (op == "**") {
      if (ints && b.int_value() >= 0) {
        int64_t r = 1, base = a.int_value();
        for (int64_t e = b.int_value(); e > 0; --e) {
          if (__builtin_mul_overflow(r, base, &r)) return Err("integer overflow");
          if (r == 0 || r == 1) break;
        }
        return Value::Int(r);
      }
      return Value::Float(std::pow(x, y));
    }
  }
  if (op == "+" && a.is_string() && b.is_string()) {
    if (a.str().size() + b.str().size() > kMaxOutput) return Err("string too large");
    return Value::String(a.str() + b.str());
  }
  if (op == "+" && a.kind() == K::kList && b.kind() == K::kList) {
    List out = a.list();
    out.insert(out.end(), b.list().begin(), b.list().end());
    return Value::MakeList(std::move(out));
  }
  if (op == "*" && (a.is_string() || a.kind() == K::kList) && (b.kind() == K::kInt || b.kind() == K::kBool))
    return Repeat(a, b.int_value());
  if (op == "*" && (b.is_string() || b.kind() == K::kList) && (a.kind() == K::kInt || a.kind() == K::kBool))
    return Repeat(b, a.int_value());
  if (op == "+" && a.is_string())
    return Err(absl::StrCat("can only concatenate str (not \"", b.TypeName(), "\") to str"));
  return Err(absl::StrCat("unsupported operand type(s) for ", std::string(op), ": '", a.TypeName(), "' and '", b.TypeName(), "'"));
}

class Renderer {
 public:
  explicit Renderer(const Dict& globals) { frames_.push_back(std::make_shared<Dict>(globals)); }

  enum class Flow { kNormal, kBreak, kContinue };

  absl::StatusOr<Flow> Exec(const Body& body, std::string* out) {
    for (const NodeP& n : body) {
      absl::StatusOr<Flow> f = ExecNode(*n, out);
      if (!f.ok()) return Locate(f.status(), n->line, n->col);
      if (*f != Flow::kNormal) return *f;
      if (out->size() > kMaxOutput) return Locate(Err("output larger than 256 MiB"), n->line, n->col);
    }
    return Flow::kNormal;
  }

 private:
  Value Lookup(const std::string& name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
      if (const Value* v = (*it)->Find(name)) return *v;
    return Value::Undefined(name);
  }

  absl::Status Assign(const std::vector<std::string>& targets, const Value& v) {
    Dict& frame = *frames_.back();
    if (targets.size() == 1) {
      frame.Set(targets[0], v);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(List items, Iterate(v));
    if (items.size() != targets.size())
      return Err(absl::StrCat("cannot unpack ", items.size(), " values into ", targets.size(), " names"));
    for (size_t i = 0; i < items.size(); ++i) frame.Set(targets[i], items[i]);
    return absl::OkStatus();
  }

  absl::StatusOr<Flow> ExecNode(const Node& n, std::string* out) {
    switch (n.kind) {
      case Node::Kind::kText:
        out->append(n.text);
        return Flow::kNormal;
      case Node::Kind::kOutput: {
        ASSIGN_OR_RETURN(Value v, Eval(*n.expr));
        out->append(v.Str());
        return Flow::kNormal;
      }
      case Node::Kind::kIf:
        for (size_t i = 0; i < n.conds.size(); ++i) {
          ASSIGN_OR_RETURN(Value c, Eval(*n.conds[i]));
          if (c.Truthy()) return Exec(n.bodies[i], out);
        }
        return Exec(n.else_body, out);
      case Node::Kind::kFor: return ExecFor(n, out);
      case Node::Kind::kSet: {
        ASSIGN_OR_RETURN(Value v, Eval(*n.expr));
        if (!n.attr.empty()) {
          const Value ns = Lookup(n.targets[0]);
          if (ns.kind() != Value::Kind::kDict || !ns.dict()->is_namespace)
            return Err("cannot assign attribute on non-namespace object");
          ns.dict()->Set(n.attr, std::move(v));
          return Flow::kNormal;
        }
        RETURN_IF_ERROR(Assign(n.targets, v));
        return Flow::kNormal;
      }
      case Node::Kind::kSetBlock: {
        std::string captured;
        ASSIGN_OR_RETURN(Flow f, Exec(n.body, &captured));
        (void)f;
        RETURN_IF_ERROR(Assign(n.targets, Value::String(std::move(captured))));
        return Flow::kNormal;
      }
      case Node::Kind::kMacro:
        frames_.back()->Set(n.text, MakeMacro(n));
        return Flow::kNormal;
      case Node::Kind::kBreak: return Flow::kBreak;
      case Node::Kind::kContinue: return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  absl::StatusOr<Flow> ExecFor(const Node& n, std::string* out) {
    ASSIGN_OR_RETURN(Value seq, Eval(*n.expr));
    ASSIGN_OR_RETURN(List items, Iterate(seq));
    frames_.push_back(std::make_shared<Dict>());
    struct Pop {
      std::vector<std::shared_ptr<Dict>>* f;
      ~Pop() { f->pop_back(); }
    } pop{&frames_};
    if (n.cond) {
      List kept;
      for (const Value& item : items) {
        RETURN_IF_ERROR(Assign(n.targets, item));
        ASSIGN_OR_RETURN(Value c, Eval(*n.cond));
        if (c.Truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const int64_t len = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < len; ++i) {
      // Each iteration starts from a fresh scope: what the body sets does
      // not carry over to the next one (jinja2's semantics).
      frames_.back() = std::make_shared<Dict>();
      RETURN_IF_ERROR(Assign(n.targets, items[i]));
      auto loop = std::make_shared<Dict>();
      loop->Set("index0", Value::Int(i));
      loop->Set("index", Value::Int(i + 1));
      loop->Set("revindex0", Value::Int(len - i - 1));
      loop->Set("revindex", Value::Int(len - i));
      loop->Set("first", Value::Bool(i == 0));
      loop->Set("last", Value::Bool(i == len - 1));
      loop->Set("length", Value::Int(len));
      loop->Set("depth", Value::Int(1));
      loop->Set("depth0", Value::Int(0));
      loop->Set("previtem", i > 0 ? items[i - 1] : Value::Undefined("previtem"));
      loop->Set("nextitem", i + 1 < len ? items[i + 1] : Value::Undefined("nextitem"));
      frames_.back()->Set("loop", Value::MakeDict(loop));
      ASSIGN_OR_RETURN(Flow f, Exec(n.body, out));
      if (f == Flow::kBreak) break;
    }
    if (len == 0) {
      ASSIGN_OR_RETURN(Flow f, Exec(n.else_body, out));
      (void)f;
    }
    return Flow::kNormal;
  }

  Value MakeMacro(const Node& n) {
    const Node* node = &n;
    return Value::MakeFunction(n.text, [this, node](const CallArgs& a) -> absl::StatusOr<Value> {
      if (call_depth_ >= kMaxCallDepth) return Err("macro calls nested too deeply");
      if (a.positional.size() > node->params.size())
        return Err(absl::StrCat("macro '", node->text, "' takes not more than ", node->params.size(), " arguments"));
      auto args = std::make_shared<Dict>();
      for (size_t i = 0; i < node->params.size(); ++i) {
        const auto& [pname, def] = node->params[i];
        Value v = Value::Undefined(pname);
        bool given = false;
        for (const auto& [k, x] : a.named)
          if (k == pname) v = x, given = true;
        if (i < a.positional.size()) v = a.positional[i], given = true;
        if (!given && def) {
          ASSIGN_OR_RETURN(v, Eval(*def));
        }
        args->Set(pname, v);
      }
      std::vector<std::shared_ptr<Dict>> saved = std::move(frames_);
      frames_ = {saved.front(), args};
      ++call_depth_;
      std::string out;
      absl::StatusOr<Flow> f = Exec(node->body, &out);
      --call_depth_;
      frames_ = std::move(saved);
      if (!f.ok()) return f.status();
      return Value::String(std::move(out));
    });
  }

  absl::StatusOr<CallArgs> EvalArgs(const Expr& e, size_t first) {
    CallArgs a;
    for (size_t i = first; i < e.args.size(); ++i) {
      ASSIGN_OR_RETURN(Value v, Eval(*e.args[i]));
      a.positional.push_back(std::move(v));
    }
    for (const auto& [k, x] : e.kwargs) {
      ASSIGN_OR_RETURN(Value v, Eval(*x));
      a.named.emplace_back(k, std::move(v));
    }
    return a;
  }

  absl::StatusOr<Value> Eval(const Expr& e) {
    absl::StatusOr<Value> v = EvalInner(e);
    if (!v.ok()) return Locate(v.status(), e.line, e.col);
    return v;
  }

  absl::StatusOr<Value> EvalInner(const Expr& e) {
    using K = Expr::Kind;
    switch (e.kind) {
      case K::kLiteral: return e.literal;
      case K::kName: return Lookup(e.name);
      case K::kList: {
        List items;
        for (const ExprP& x : e.args) {
          ASSIGN_OR_RETURN(Value v, Eval(*x));
          items.push_back(std::move(v));
        }
        return e.name == "tuple" ? Value::MakeTuple(std::move(items)) : Value::MakeList(std::move(items));
      }
      case K::kDict: {
        auto d = std::make_shared<Dict>();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          ASSIGN_OR_RETURN(Value k, Eval(*e.args[i]));
          if (!k.is_string()) return Err("dict keys must be strings");
          ASSIGN_OR_RETURN(Value v, Eval(*e.args[i + 1]));
          d->Set(k.str(), std::move(v));
        }
        return Value::MakeDict(std::move(d));
      }
      case K::kAttr: {
        ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        if (obj.is_undefined()) return UndefinedError(obj);
        return GetAttr(obj, e.name);
      }
      case K::kItem: {
        ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        if (obj.is_undefined()) return UndefinedError(obj);
        ASSIGN_OR_RETURN(Value key, Eval(*e.args[1]));
        return GetItem(obj, key);
      }
      case K::kSlice: {
        ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        if (obj.is_undefined()) return UndefinedError(obj);
        Value parts[3];
        for (int i = 0; i < 3; ++i)
          if (e.args[i + 1]) {
            ASSIGN_OR_RETURN(parts[i], Eval(*e.args[i + 1]));
          }
        return Slice(obj, e.args[1] ? &parts[0] : nullptr, e.args[2] ? &parts[1] : nullptr,
                     e.args[3] ? &parts[2] : nullptr);
      }
      case K::kCall: {
        ASSIGN_OR_RETURN(Value fn, Eval(*e.args[0]));
        if (fn.is_undefined()) return UndefinedError(fn);
        if (fn.kind() != Value::Kind::kFunction) return Err(absl::StrCat("'", fn.TypeName(), "' object is not callable"));
        ASSIGN_OR_RETURN(CallArgs a, EvalArgs(e, 1));
        return fn.fn()(a);
      }
      case K::kFilter: {
        ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        ASSIGN_OR_RETURN(CallArgs a, EvalArgs(e, 1));
        absl::StatusOr<Value> r = ApplyFilter(e.name, v, a);
        if (!r.ok()) return Err(absl::StrCat("filter '", e.name, "': ", r.status().message()));
        return r;
      }
      case K::kTest: {
        ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        ASSIGN_OR_RETURN(CallArgs a, EvalArgs(e, 1));
        ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, v, a));
        return Value::Bool(r != e.negated);
      }
      case K::kUnary: {
        ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        if (e.name == "not") return Value::Bool(!v.Truthy());
        if (v.is_undefined()) return UndefinedError(v);
        if (!v.is_number()) return Err(absl::StrCat("bad operand type for unary ", e.name, ": '", v.TypeName(), "'"));
        if (e.name == "+") return v.kind() == Value::Kind::kFloat ? v : Value::Int(v.int_value());
        if (v.kind() == Value::Kind::kFloat) return Value::Float(-v.float_value());
        if (v.int_value() == INT64_MIN) return Err("integer overflow");
        return Value::Int(-v.int_value());
      }
      case K::kBinary: {
        ASSIGN_OR_RETURN(Value a, Eval(*e.args[0]));
        if (e.name == "and") {
          if (!a.Truthy()) return a;
          return Eval(*e.args[1]);
        }
        if (e.name == "or") {
          if (a.Truthy()) return a;
          return Eval(*e.args[1]);
        }
        ASSIGN_OR_RETURN(Value b, Eval(*e.args[1]));
        return Arith(e.name, a, b);
      }
      case K::kCompare: {
        ASSIGN_OR_RETURN(Value l, Eval(*e.args[0]));
        for (size_t i = 0; i < e.ops.size(); ++i) {
          ASSIGN_OR_RETURN(Value r, Eval(*e.args[i + 1]));
          const std::string& op = e.ops[i];
          bool ok;
          if (op == "==") ok = Equals(l, r);
          else if (op == "!=") ok = !Equals(l, r);
          else if (op == "in" || op == "not in") {
            ASSIGN_OR_RETURN(ok, Contains(r, l));
            if (op == "not in") ok = !ok;
          } else {
            if (l.is_undefined()) return UndefinedError(l);
            if (r.is_undefined()) return UndefinedError(r);
            ASSIGN_OR_RETURN(ok, Compare(l, r, op));
          }
          if (!ok) return Value::Bool(false);
          l = std::move(r);
        }
        return Value::Bool(true);
      }
      case K::kCond: {
        ASSIGN_OR_RETURN(Value c, Eval(*e.args[0]));
        if (c.Truthy()) return Eval(*e.args[1]);
        if (e.args[2]) return Eval(*e.args[2]);
        return Value::Undefined();
      }
    }
    return Value::Undefined();
  }

  std::vector<std::shared_ptr<Dict>> frames_;
  int call_depth_ = 0;
};

}  // namespace

absl::StatusOr<std::string> Render(const Body& body, const Dict& globals) {
  Renderer r(globals);
  std::string out;
  ASSIGN_OR_RETURN(auto flow, r.Exec(body, &out));
  (void)flow;
  return out;
}

}  // namespace llmtk::chat
