#include "lib/base/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace llmtk {
namespace {

// Per-thread match data, grown on demand; pcre2_match_data is not shareable.
struct ThreadMatchData {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mc = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ThreadMatchData() {
    md = pcre2_match_data_create(4, nullptr);
    mc = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    if (stack != nullptr) pcre2_jit_stack_assign(mc, nullptr, stack);
  }
  ~ThreadMatchData() {
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    if (stack != nullptr) pcre2_jit_stack_free(stack);
  }
};

ThreadMatchData& Tmd() {
  thread_local ThreadMatchData tmd;
  return tmd;
}

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buf[256];
  int n = pcre2_get_error_message(code, buf, sizeof(buf));
  if (n < 0) return absl::StrCat("pcre2 error ", code);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

bool IsCategoryName(std::string_view n) {
  static const char* kNames[] = {"Any", "L&", "Xan", "Xps", "Xsp", "Xwd", "Xuc", "Letter", "Mark", "Number",
                                 "Punctuation", "Symbol", "Separator", "Other"};
  if (n.size() <= 2) return true;  // L, Lu, Nd, P, ... and their negations
  for (const char* k : kNames)
    if (n == k) return true;
  return n.find('_') != std::string_view::npos || n.find(':') != std::string_view::npos ||
         n.find('=') != std::string_view::npos;
}

}  // namespace

// Where PCRE2 and Oniguruma (HF tokenizers' engine) read the same syntax
// differently, rewrite to Oniguruma's meaning:
//  - PCRE2's \s also matches U+180E (MONGOLIAN VOWEL SEPARATOR, a format
//    character since Unicode 6.3); Oniguruma's does not.
//  - PCRE2's \p{Han} (any script name) means Script_Extensions; Oniguruma's
//    means Script: \p{sc:Han}.
std::string OnigurumaCompatible(std::string_view p, bool fix_spaces) {
  std::string out;
  out.reserve(p.size() + 16);
  size_t i = 0;
  auto script_fix = [&](size_t at, std::string* dst) -> size_t {
    // At "\p{" or "\P{": copies the escape, adding "sc:" before script names.
    size_t close = p.find('}', at);
    if (at + 2 >= p.size() || p[at + 2] != '{' || close == std::string_view::npos) {
      dst->append(p.substr(at, 2));
      return at + 2;
    }
    std::string_view name = p.substr(at + 3, close - at - 3);
    bool neg = !name.empty() && name[0] == '^';
    std::string_view bare = neg ? name.substr(1) : name;
    dst->append(p.substr(at, 3));
    if (neg) dst->push_back('^');
    if (!IsCategoryName(bare)) dst->append("sc:");
    dst->append(bare);
    dst->push_back('}');
    return close + 1;
  };
  while (i < p.size()) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      if (e == 's' && fix_spaces) {
        out += "(?:(?!\\x{180E})\\s)";
        i += 2;
      } else if (e == 'S' && fix_spaces) {
        out += "(?:\\x{180E}|\\S)";
        i += 2;
      } else if (e == 'p' || e == 'P') {
        i = script_fix(i, &out);
      } else {
        out.append(p.substr(i, 2));
        i += 2;
      }
      continue;
    }
    if (c == '[') {
      // A character class: copy it, noting \s inside; then wrap it so that
      // U+180E gets Oniguruma's treatment (not a space).
      size_t j = i + 1;
      bool negated = j < p.size() && p[j] == '^';
      if (negated) ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a literal ']' first
      std::string body;
      bool has_space = false;
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\' && j + 1 < p.size()) {
          if (p[j + 1] == 's') has_space = true;
          if (p[j + 1] == 'p' || p[j + 1] == 'P') {
            j = script_fix(j, &body);
            continue;
          }
          body.append(p.substr(j, 2));
          j += 2;
        } else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
          size_t e = p.find(":]", j + 2);
          if (e == std::string_view::npos) e = p.size() - 2;
          body.append(p.substr(j, e + 2 - j));
          j = e + 2;
        } else {
          body.push_back(p[j++]);
        }
      }
      if (j >= p.size()) {  // unterminated: let PCRE2 report it
        out.append(p.substr(i));
        break;
      }
      // Rebuild from the parts we copied.
      std::string klass = negated ? "[^" : "[";
      if (p[i + (negated ? 2 : 1)] == ']') klass += "]";
      klass += body;
      klass += "]";
      if (!has_space || !fix_spaces) {
        out += klass;
      } else if (negated) {
        out += "(?:\\x{180E}|" + klass + ")";
      } else {
        out += "(?:(?!\\x{180E})" + klass + ")";
      }
      i = j + 1;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

namespace {

absl::StatusOr<pcre2_code*> CompileOne(std::string_view shown, const std::string& pattern, bool* jit) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
  if (code == nullptr) {
    return absl::DataLossError(absl::StrCat("regex pattern \"", ToAbsl(shown), "\" does not compile at offset ",
                                            err_off, ": ", Pcre2Message(err)));
  }
  *jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return code;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Regex>> Regex::Compile(std::string_view pattern) {
  std::unique_ptr<Regex> re(new Regex());
  re->pattern_ = std::string(pattern);
  // Two programs: the \s rewrite costs a lookahead per space, and only text
  // holding U+180E needs it.
  const std::string plain = OnigurumaCompatible(pattern, /*fix_spaces=*/false);
  const std::string full = OnigurumaCompatible(pattern, /*fix_spaces=*/true);
  ASSIGN_OR_RETURN(pcre2_code* code, CompileOne(pattern, plain, &re->jit_));
  re->code_ = code;
  if (full != plain) {
    ASSIGN_OR_RETURN(pcre2_code* code_mvs, CompileOne(pattern, full, &re->jit_mvs_));
    re->code_mvs_ = code_mvs;
  }
  re->split_ = DetectSplitPattern(pattern);
  return re;
}

Regex::~Regex() {
  if (code_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(code_));
  if (code_mvs_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(code_mvs_));
}

absl::Status Regex::FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>* out) const {
  if (split_.family != SplitPattern::Family::kNone) {
    SplitPatternFindAll(split_, text, out);
    return absl::OkStatus();
  }
  return FindAllReference(text, out);
}

absl::Status Regex::FindAllReference(std::string_view text, std::vector<std::pair<size_t, size_t>>* out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  bool jit = jit_;
  if (code_mvs_ != nullptr && text.find("\xE1\xA0\x8E") != std::string_view::npos) {  // U+180E
    code = static_cast<pcre2_code*>(code_mvs_);
    jit = jit_mvs_;
  }
  ThreadMatchData& t = Tmd();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    int rc = jit ? pcre2_jit_match(code, subject, text.size(), pos, 0, t.md, t.mc)
                  : pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, t.md, t.mc);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return absl::ResourceExhaustedError(absl::StrCat("regex \"", pattern_, "\" failed at byte ", pos, ": ",
                                                       Pcre2Message(rc)));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(t.md);
    size_t b = ov[0], e = ov[1];
    if (e > b) {
      out->emplace_back(b, e);
      pos = e;
    } else {
      // Empty match: step over one UTF-8 character.
      pos = b + 1;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
  return absl::OkStatus();
}

int Regex::capture_count() const {
  uint32_t n = 0;
  pcre2_pattern_info(static_cast<pcre2_code*>(code_), PCRE2_INFO_CAPTURECOUNT, &n);
  return static_cast<int>(n);
}

absl::Status Regex::FindAllGroups(std::string_view text, std::vector<Groups>* out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  if (code_mvs_ != nullptr && text.find("\xE1\xA0\x8E") != std::string_view::npos) {  // U+180E
    code = static_cast<pcre2_code*>(code_mvs_);
  }
  // Sized for this pattern's groups; evaluation calls this per answer, not
  // per token, so a fresh one per call costs nothing that matters.
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const int groups = capture_count();
  size_t pos = 0;
  uint32_t flags = 0;
  for (;;) {
    const int rc = pcre2_match(code, subject, text.size(), pos, flags, md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {
      // After an empty match: no non-empty one starts here, so move one
      // character on and search freely.
      if (flags == 0 || pos >= text.size()) break;
      ++pos;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      flags = 0;
      continue;
    }
    if (rc < 0) {
      return absl::ResourceExhaustedError(absl::StrCat("regex \"", pattern_, "\" failed at byte ", pos, ": ",
                                                       Pcre2Message(rc)));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    Groups g(static_cast<size_t>(groups) + 1, {kUnset, kUnset});
    for (int i = 0; i <= groups && i < rc; ++i) {
      if (ov[2 * i] != PCRE2_UNSET) g[i] = {ov[2 * i], ov[2 * i + 1]};
    }
    out->push_back(std::move(g));
    pos = ov[1];
    flags = ov[0] == ov[1] ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
  }
  return absl::OkStatus();
}

}  // namespace llmtk
