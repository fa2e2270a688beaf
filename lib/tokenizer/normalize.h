// tokenizer/normalize: HF tokenizers' normalizers — NFC/NFD/NFKC/NFKD,
// Lowercase, Strip, Replace (string or regex), Prepend, Precompiled
// (tokenizer/charsmap.h), BertNormalizer, StripAccents — and SentencePiece's
// whole normalizer (tokenizer/spm_normalize.h), applied in sequence to each
// text segment between added tokens.
//
// Thread-safety: immutable after construction; Apply is safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_NORMALIZE_H_
#define LLMTK_LIB_TOKENIZER_NORMALIZE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/regex.h"
#include "lib/base/status.h"
#include "lib/tokenizer/bert_normalize.h"
#include "lib/tokenizer/charsmap.h"
#include "lib/tokenizer/spm_normalize.h"

namespace llmtk {

struct NormalizerStep {
  enum class Kind {
    kNfc, kNfd, kNfkc, kNfkd, kLowercase, kStrip, kReplace, kPrepend, kPrecompiled, kSentencePiece,
    kBert, kStripAccents, kLlamaWpm
  };
  Kind kind = Kind::kNfc;
  std::string pattern;                 // Replace: literal pattern (when regex is null)
  std::shared_ptr<const Regex> regex;  // Replace: regex pattern
  std::string content;                 // Replace: replacement; Prepend: prefix
  bool strip_left = false, strip_right = false;
  std::shared_ptr<const PrecompiledCharsmap> charsmap;  // Precompiled
  std::shared_ptr<const SpmNormalizer> spm;             // SentencePiece
  BertNormalizerOptions bert;  // kBert
};

class Normalizer {
 public:
  void Add(NormalizerStep step) { steps_.push_back(std::move(step)); }
  bool empty() const { return steps_.empty(); }
  const std::vector<NormalizerStep>& steps() const { return steps_; }
  // Normalizes valid UTF-8 `in` into *out.
  absl::Status Apply(std::string_view in, std::string* out) const;

 private:
  std::vector<NormalizerStep> steps_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_NORMALIZE_H_
