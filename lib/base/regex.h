// base/regex: Unicode-aware regular expressions for tokenizer Split patterns.
//
// A thin layer over PCRE2 (UTF + UCP, JIT-compiled when the platform allows)
// that finds every non-overlapping match in a UTF-8 string, the way HF
// tokenizers' Split pre-tokenizer walks its (Oniguruma) regex. Patterns that
// tokenizer.json files carry (\p{L}, \p{N}, (?i:...), (?!\S), possessive
// forms) mean the same in both engines once OnigurumaCompatible has rewritten
// the two places PCRE2 differs (\s and U+180E; script names).
//
// The split patterns tokenizer files carry most (Llama 3's, GPT-2's) are
// matched by hand-written scanners instead (base/regex_split.h), which give
// the same matches; FindAllReference always runs PCRE2.
//
// Thread-safety: a compiled Regex is immutable and may be shared by any
// number of threads; each thread gets its own match state internally.
#ifndef LLMTK_LIB_BASE_REGEX_H_
#define LLMTK_LIB_BASE_REGEX_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/regex_split.h"
#include "lib/base/status.h"

namespace llmtk {

// `pattern` rewritten so that PCRE2 gives it Oniguruma's meaning: \s (and
// classes holding it) without U+180E, \p{Script} as Script, not
// Script_Extensions. Exposed for tests.
// `fix_spaces` false leaves \s alone (exact for text without U+180E).
std::string OnigurumaCompatible(std::string_view pattern, bool fix_spaces = true);

class Regex {
 public:
  // Patterns come from data files, so one that does not compile is a
  // DataLoss error naming the pattern, the offset and PCRE2's reason.
  static absl::StatusOr<std::unique_ptr<Regex>> Compile(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  const std::string& pattern() const { return pattern_; }

  // Appends the [begin, end) byte ranges of all non-empty, non-overlapping
  // matches in `text`, left to right. `text` must be valid UTF-8. An empty
  // match advances by one character, as Oniguruma's find_iter does.
  absl::Status FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>* out) const;
  // The same with PCRE2 whatever the pattern: the reference FindAll's
  // hand-written scanners are tested against.
  absl::Status FindAllReference(std::string_view text, std::vector<std::pair<size_t, size_t>>* out) const;
  // Whether FindAll uses a hand-written scanner for this pattern.
  bool has_split_scanner() const { return split_.family != SplitPattern::Family::kNone; }

  // One match: [0] the whole match's byte range, [i] capture group i's
  // (kUnset when the group took no part).
  static constexpr size_t kUnset = static_cast<size_t>(-1);
  using Groups = std::vector<std::pair<size_t, size_t>>;
  // Every match left to right as Python's re.findall and re.sub walk them
  // (3.7 and later): empty matches included, also right after a non-empty
  // one; after an empty match the next one starts later or is non-empty.
  absl::Status FindAllGroups(std::string_view text, std::vector<Groups>* out) const;
  int capture_count() const;

 private:
  Regex() = default;
  std::string pattern_;
  void* code_ = nullptr;      // pcre2_code_8*: for text without U+180E
  void* code_mvs_ = nullptr;  // with the \s rewrite, when it changes the pattern
  bool jit_ = false, jit_mvs_ = false;
  SplitPattern split_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_REGEX_H_
