// base/regex_split: hand-written matchers for the split patterns tokenizer
// files carry most — Llama 3's (also with ASCII-only contractions, as GGUF
// vocabularies spell it, and Qwen2's one-digit form) and GPT-2's — giving
// exactly the matches Regex::FindAll gets from PCRE2 for the same pattern.
//
// Why: PCRE2's JIT costs a call and its setup per match, and these patterns
// match every 4 bytes or so; a direct scan over the text is several times
// faster. Regex::Compile picks a matcher by the pattern's exact text, so
// every user of Regex (encoding, training) gets it; FindAllReference keeps
// PCRE2 beside it, and tests/regex_split_test.cc compares the two.
//
// Character classes (\p{L}, \p{N}, \s with Oniguruma's meaning) are PCRE2's
// own answers, asked once per 256-code-point block the first time a text
// uses it, so the matchers cannot disagree with PCRE2's Unicode tables.
//
// Thread-safety: stateless apart from the class blocks, which are filled
// once, atomically; safe from any thread.
#ifndef LLMTK_LIB_BASE_REGEX_SPLIT_H_
#define LLMTK_LIB_BASE_REGEX_SPLIT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace llmtk {

struct SplitPattern {
  enum class Family : uint8_t { kNone, kLlama3, kGpt2 };
  // 's 't 're 've 'm 'll 'd: as written; ASCII either case; (?i:...) (either
  // case, and U+017F for s, as PCRE2's caseless matching has it).
  enum class Contractions : uint8_t { kExact, kAsciiCase, kCaseless };
  Family family = Family::kNone;
  Contractions contractions = Contractions::kExact;
  uint8_t max_digits = 0;          // Llama 3: \p{N}{1,max_digits}
  bool final_whitespace = true;    // GPT-2: the pattern ends in |\s+
};

// The hand-written form of `pattern`, or family kNone.
SplitPattern DetectSplitPattern(std::string_view pattern);

// Appends the [begin, end) byte ranges of every match in `text` (valid
// UTF-8), as Regex::FindAll does for the pattern `p` was detected from.
void SplitPatternFindAll(const SplitPattern& p, std::string_view text, std::vector<std::pair<size_t, size_t>>* out);

// The class bits the matchers use, per code point (PCRE2's answers):
// 1 \p{L}, 2 \p{N}, 4 \s (Oniguruma's: not U+180E), 8 \r or \n. For tests.
uint8_t SplitCharClass(char32_t cp);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_REGEX_SPLIT_H_
