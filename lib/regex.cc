#include "lib/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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

}  // namespace

absl::StatusOr<std::unique_ptr<Regex>> Regex::Compile(std::string_view pattern) {
  std::unique_ptr<Regex> re(new Regex());
  re->pattern_ = std::string(pattern);
  int err = 0;
  PCRE2_SIZE err_off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
  if (code == nullptr) {
    return absl::DataLossError(absl::StrCat("regex pattern \"", ToAbsl(pattern), "\" does not compile at offset ",
                                            err_off, ": ", Pcre2Message(err)));
  }
  re->code_ = code;
  re->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return re;
}

Regex::~Regex() {
  if (code_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(code_));
}

absl::Status Regex::FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>* out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  ThreadMatchData& t = Tmd();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    int rc = jit_ ? pcre2_jit_match(code, subject, text.size(), pos, 0, t.md, t.mc)
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

}  // namespace llmtk
