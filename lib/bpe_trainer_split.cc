#include "lib/bpe_trainer_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

namespace llmtk {
namespace {

constexpr char kGpt2[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr char kLlama3[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr char kQwen2[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Llama 3 with no-space scripts taken out of the letter runs: a Han/kana run
// becomes words of at most two characters, other letters behave as before.
constexpr char kCjk[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[\p{Han}\p{Hiragana}\p{Katakana}]{1,2}|[^\r\n\p{L}\p{N}]?(?:(?![\p{Han}\p{Hiragana}\p{Katakana}])\p{L})+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};

// Per-thread match data and JIT stack, reused across calls.
struct MatchScratch {
  pcre2_match_data* data = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  const pcre2_code* owner = nullptr;
  ~MatchScratch() {
    if (data) pcre2_match_data_free(data);
    if (ctx) pcre2_match_context_free(ctx);
    if (stack) pcre2_jit_stack_free(stack);
  }
};

}  // namespace

std::string PreTokenizerPattern(std::string_view name) {
  if (name == "gpt2") return kGpt2;
  if (name == "llama3") return kLlama3;
  if (name == "qwen2") return kQwen2;
  if (name == "cjk") return kCjk;
  return std::string(name);
}

absl::StatusOr<WordSplitFn> MakeRegexSplitter(const std::string& pattern) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  // MATCH_INVALID_UTF: invalid bytes never match, so they fall into the gaps
  // the trainer keeps as byte words instead of failing the whole document.
  pcre2_code* raw = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err,
                                  &err_off, nullptr);
  if (raw == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    return absl::InvalidArgumentError(absl::StrCat("bad pre-tokenizer pattern at offset ", err_off,
                                                   ": ", reinterpret_cast<const char*>(msg)));
  }
  pcre2_jit_compile(raw, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
  std::shared_ptr<pcre2_code> code(raw, CodeDeleter());
  return WordSplitFn([code](std::string_view text, std::vector<std::string_view>* words) {
    thread_local MatchScratch scratch;
    if (scratch.owner != code.get()) {
      if (scratch.data) pcre2_match_data_free(scratch.data);
      scratch.data = pcre2_match_data_create_from_pattern(code.get(), nullptr);
      if (!scratch.stack) {
        scratch.stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
        scratch.ctx = pcre2_match_context_create(nullptr);
        pcre2_jit_stack_assign(scratch.ctx, nullptr, scratch.stack);
      }
      scratch.owner = code.get();
    }
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0, gap = 0;
    while (pos < text.size()) {
      int rc = pcre2_match(code.get(), subject, text.size(), pos, 0, scratch.data, scratch.ctx);
      if (rc < 0) break;  // no further match (or a matcher limit): the rest is a gap
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.data);
      size_t start = ov[0], end = ov[1];
      if (start > gap) words->push_back(text.substr(gap, start - gap));
      if (end > start) {
        words->push_back(text.substr(start, end - start));
        pos = gap = end;
      } else {
        // An empty match: step one byte; the skipped bytes join the next gap.
        gap = start;
        pos = start + 1;
      }
    }
    if (gap < text.size()) words->push_back(text.substr(gap));
  });
}

}  // namespace llmtk
