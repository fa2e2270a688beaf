#include "lib/chat/lexer.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace llmtk::chat {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  absl::StatusOr<std::vector<Token>> Run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      size_t tag = FindTag(pos);
      std::string text = src_.substr(pos, (tag == std::string::npos ? src_.size() : tag) - pos);
      if (tag == std::string::npos) {
        Push(Token::Type::kText, text, pos);
        break;
      }
      const char kind = src_[tag + 1];  // '{', '%' or '#'
      const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (sign == '-') {
        size_t n = text.size();
        while (n > 0 && IsWs(text[n - 1])) --n;
        text.resize(n);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: whitespace alone on the line before a block or
        // comment tag goes.
        const size_t l_pos = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
            std::all_of(text.begin() + l_pos, text.end(), IsWs))
          text.resize(l_pos);
      }
      if (!text.empty()) Push(Token::Type::kText, text, pos);
      pos = tag + 2 + (sign == '-' || sign == '+');
      if (kind == '#') {
        ASSIGN_OR_RETURN(pos, EndOfComment(tag, pos, &line_starting));
        continue;
      }
      Push(kind == '{' ? Token::Type::kVarBegin : Token::Type::kBlockBegin, "", tag);
      ASSIGN_OR_RETURN(pos, LexTag(tag, pos, kind == '{', &line_starting));
    }
    Push(Token::Type::kEof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  size_t FindTag(size_t pos) const {
    for (size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  std::pair<int, int> LineCol(size_t off) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
    const size_t line = it - line_starts_.begin();
    return {static_cast<int>(line), static_cast<int>(off - line_starts_[line - 1] + 1)};
  }

  absl::Status Error(size_t off, std::string_view msg) const {
    auto [l, c] = LineCol(off);
    return absl::InvalidArgumentError(absl::StrCat("line ", l, ", column ", c, ": ", std::string(msg)));
  }

  void Push(Token::Type t, std::string text, size_t off, Value v = Value()) {
    Token tok{t, std::move(text), std::move(v), 0, 0};
    std::tie(tok.line, tok.col) = LineCol(std::min(off, src_.size()));
    tokens_.push_back(std::move(tok));
  }

  // After an end marker: `-` eats all whitespace, `+` nothing, a plain end
  // of a block or comment one newline (trim_blocks).
  size_t AfterEnd(size_t end, char sign, bool trim_newline, bool* line_starting) const {
    if (sign == '-') {
      while (end < src_.size() && IsWs(src_[end])) ++end;
    } else if (sign != '+' && trim_newline && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    *line_starting = end > 0 && src_[end - 1] == '\n';
    return end;
  }

  absl::StatusOr<size_t> EndOfComment(size_t tag, size_t pos, bool* line_starting) const {
    const size_t close = src_.find("#}", pos);
    if (close == std::string::npos) return Error(tag, "comment is not closed ('#}' missing)");
    const char sign = close > pos && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : '\0';
    return AfterEnd(close + 2, sign, true, line_starting);
  }

  absl::StatusOr<size_t> LexTag(size_t tag, size_t pos, bool variable, bool* line_starting) {
    const char* end = variable ? "}}" : "%}";
    std::vector<char> brackets;
    for (;;) {
      while (pos < src_.size() && IsWs(src_[pos])) ++pos;
      if (pos >= src_.size())
        return Error(tag, variable ? "'{{' is not closed ('}}' missing)" : "'{%' is not closed ('%}' missing)");
      if (brackets.empty()) {
        char sign = '\0';
        size_t at = pos;
        if ((src_[pos] == '-' || (src_[pos] == '+' && !variable)) && src_.compare(pos + 1, 2, end) == 0) {
          sign = src_[pos];
          at = pos + 1;
        }
        if (src_.compare(at, 2, end) == 0) {
          Push(variable ? Token::Type::kVarEnd : Token::Type::kBlockEnd, "", pos);
          return AfterEnd(at + 2, sign, !variable, line_starting);
        }
      }
      const char c = src_[pos];
      if (IsNameStart(c)) {
        size_t e = pos;
        while (e < src_.size() && (IsNameStart(src_[e]) || IsDigit(src_[e]))) ++e;
        Push(Token::Type::kName, src_.substr(pos, e - pos), pos);
        pos = e;
      } else if (IsDigit(c)) {
        ASSIGN_OR_RETURN(pos, LexNumber(pos));
      } else if (c == '\'' || c == '"') {
        ASSIGN_OR_RETURN(pos, LexString(pos));
      } else {
        static const char* kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "<", ">",
                                     "=",  ".",  ",",  ":",  "|",  "(",  ")", "[", "]", "{", "}"};
        const char* op = nullptr;
        for (const char* o : kOps) {
          if (src_.compare(pos, std::strlen(o), o) == 0) {
            op = o;
            break;
          }
        }
        if (!op) return Error(pos, absl::StrCat("unexpected character '", std::string(1, c), "'"));
        if (*op == '(' || *op == '[' || *op == '{') {
          brackets.push_back(*op == '(' ? ')' : *op == '[' ? ']' : '}');
        } else if (*op == ')' || *op == ']' || *op == '}') {
          if (brackets.empty()) return Error(pos, absl::StrCat("unexpected '", op, "'"));
          if (brackets.back() != *op)
            return Error(pos, absl::StrCat("unexpected '", op, "', expected '", std::string(1, brackets.back()), "'"));
          brackets.pop_back();
        }
        Push(Token::Type::kOp, op, pos);
        pos += std::strlen(op);
      }
    }
  }

  absl::StatusOr<size_t> LexNumber(size_t pos) {
    size_t e = pos;
    auto digits = [&] {
      while (e < src_.size() && (IsDigit(src_[e]) || (src_[e] == '_' && e + 1 < src_.size() && IsDigit(src_[e + 1]))))
        ++e;
    };
    digits();
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && IsDigit(src_[e + 1])) {
      ++e;
      digits();
      is_float = true;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t x = e + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      if (x < src_.size() && IsDigit(src_[x])) {
        e = x;
        digits();
        is_float = true;
      }
    }
    std::string text = src_.substr(pos, e - pos);
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    if (is_float) {
      Push(Token::Type::kFloat, text, pos, Value::Float(std::strtod(text.c_str(), nullptr)));
    } else {
      errno = 0;
      const long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) return Error(pos, "integer literal out of range");
      Push(Token::Type::kInt, text, pos, Value::Int(v));
    }
    return e;
  }

  // Python's unicode-escape decoding, which jinja2 applies to literals.
  absl::StatusOr<size_t> LexString(size_t pos) {
    const char q = src_[pos];
    std::string out;
    size_t i = pos + 1;
    auto hex = [&](size_t at, int n, uint32_t* v) {
      if (at + n > src_.size()) return false;
      *v = 0;
      for (int k = 0; k < n; ++k) {
        const char h = src_[at + k];
        const int d = IsDigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
        if (d < 0) return false;
        *v = *v * 16 + d;
      }
      return true;
    };
    while (i < src_.size() && src_[i] != q) {
      if (src_[i] != '\\') {
        out.push_back(src_[i++]);
        continue;
      }
      if (i + 1 >= src_.size()) break;
      const char e = src_[i + 1];
      i += 2;
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case '\n': break;
        case 'x':
        case 'u':
        case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t v;
          if (!hex(i, n, &v) || v > 0x10FFFF) return Error(i - 2, absl::StrCat("invalid \\", std::string(1, e), " escape in a string"));
          out += FromCodePoints({static_cast<char32_t>(v)}, 0, 1);
          i += n;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = e - '0';
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k) v = v * 8 + (src_[i++] - '0');
            out += FromCodePoints({static_cast<char32_t>(v)}, 0, 1);
          } else {
            out.push_back('\\');
            out.push_back(e);
          }
      }
    }
    if (i >= src_.size()) return Error(pos, "string literal is not closed");
    Push(Token::Type::kString, "", pos, Value::String(std::move(out)));
    return i + 1;
  }

  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

absl::StatusOr<std::vector<Token>> Lex(std::string_view source) {
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src.push_back(source[i]);
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();
  return Lexer(std::move(src)).Run();
}

}  // namespace llmtk::chat
