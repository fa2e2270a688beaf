#include "lib/tokenizer/train/split.h"

#include <memory>
#include <utility>

#include "lib/base/regex.h"
#include "lib/base/unicode.h"

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
// Explicit ranges, not \p{Han}: PCRE2 (>= 10.40) gives \p{Han} the
// Script_Extensions meaning (it matches "。" U+3002 and "、"), Oniguruma (HF)
// the Script one, so the two engines would split differently.
#define LLMTK_CJK                                                                       \
  R"(\x{2E80}-\x{2FDF}\x{3005}\x{3007}\x{3021}-\x{3029}\x{3038}-\x{303B}\x{3041}-\x{3096})" \
  R"(\x{309D}-\x{309F}\x{30A1}-\x{30FA}\x{30FD}-\x{30FF}\x{31F0}-\x{31FF}\x{3400}-\x{4DBF})"  \
  R"(\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}\x{FF66}-\x{FF9D}\x{20000}-\x{3134F})"
constexpr char kCjk[] = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[)" LLMTK_CJK R"(]{1,2}|[^\r\n\p{L}\p{N}]?(?:(?![)" LLMTK_CJK R"(])\p{L})+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
#undef LLMTK_CJK

// Matches of `re` in valid UTF-8 `text`, the gaps between them kept as words.
void SplitValid(const Regex& re, std::string_view text, std::vector<std::string_view>* words) {
  thread_local std::vector<std::pair<size_t, size_t>> ranges;
  ranges.clear();
  if (!re.FindAll(text, &ranges).ok()) ranges.clear();  // only on invalid UTF-8, excluded here
  size_t gap = 0;
  for (auto [b, e] : ranges) {
    if (b > gap) words->push_back(text.substr(gap, b - gap));
    words->push_back(text.substr(b, e - b));
    gap = e;
  }
  if (gap < text.size()) words->push_back(text.substr(gap));
}

}  // namespace

std::string PreTokenizerPattern(std::string_view name) {
  if (name == "gpt2") return kGpt2;
  if (name == "llama3") return kLlama3;
  if (name == "qwen2") return kQwen2;
  if (name == "cjk") return kCjk;
  return std::string(name);
}

absl::StatusOr<WordSplitFn> MakeRegexSplitter(const std::string& pattern) {
  auto compiled = Regex::Compile(pattern);
  if (!compiled.ok()) {
    // From the command line, not from a data file: a usage error here.
    return absl::InvalidArgumentError(
        absl::StrCat("--pre-tokenizer: ", compiled.status().message()));
  }
  std::shared_ptr<const Regex> re(std::move(*compiled));
  return WordSplitFn([re](std::string_view text, std::vector<std::string_view>* words) {
    size_t bad = 0;
    if (IsValidUtf8(text, &bad)) return SplitValid(*re, text, words);
    // Invalid sequences split the text; each becomes a word of raw bytes.
    size_t start = 0, pos = 0;
    while (pos < text.size()) {
      size_t at = pos;
      if (DecodeUtf8(text, &pos) != kInvalidUtf8) continue;
      if (at > start) SplitValid(*re, text.substr(start, at - start), words);
      words->push_back(text.substr(at, pos - at));
      start = pos;
    }
    if (start < text.size()) SplitValid(*re, text.substr(start), words);
  });
}

}  // namespace llmtk
