// tokenizer/spm_normalize: SentencePiece's normalizer (normalizer.cc) as
// spm_encode runs it on a whole sentence: user-defined symbols kept as they
// are, the precompiled charsmap's longest rule at each position, leading,
// trailing and repeated spaces removed (remove_extra_whitespaces), the dummy
// prefix space (add_dummy_prefix; a suffix with treat_whitespace_as_suffix),
// and spaces escaped as U+2581 (escape_whitespaces).
//
// Thread-safety: immutable after construction.
#ifndef LLMTK_LIB_TOKENIZER_SPM_NORMALIZE_H_
#define LLMTK_LIB_TOKENIZER_SPM_NORMALIZE_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "lib/tokenizer/charsmap.h"

namespace llmtk {

inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's escaped space

// Longest-match of a fixed set of strings (SentencePiece's PrefixMatcher of
// user-defined symbols).
class PrefixMatcher {
 public:
  explicit PrefixMatcher(const std::vector<std::string>& symbols);
  bool empty() const { return count_ == 0; }
  // Byte length of the longest symbol `s` starts with, 0 for none.
  size_t Match(std::string_view s) const;

 private:
  std::array<std::vector<std::string>, 256> by_first_;  // longest first
  size_t count_ = 0;
};

struct SpmNormalizerOptions {
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  bool treat_whitespace_as_suffix = false;
};

class SpmNormalizer {
 public:
  SpmNormalizer(PrecompiledCharsmap charsmap, const SpmNormalizerOptions& options,
                const std::vector<std::string>& user_defined)
      : charsmap_(std::move(charsmap)), options_(options), user_defined_(user_defined) {}
  // Normalizes valid UTF-8 `in` (one sentence) into *out.
  void Normalize(std::string_view in, std::string* out) const;
  const SpmNormalizerOptions& options() const { return options_; }

 private:
  // The normalized form of the input's first character or rule, and how
  // many input bytes it stands for.
  std::string_view Prefix(std::string_view in, size_t* consumed) const;

  PrecompiledCharsmap charsmap_;
  SpmNormalizerOptions options_;
  PrefixMatcher user_defined_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_SPM_NORMALIZE_H_
