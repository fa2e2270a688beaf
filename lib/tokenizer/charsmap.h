// tokenizer/charsmap: SentencePiece's precompiled_charsmap — the compiled
// normalization rules (nmt_nfkc by default) a .model file and HF's
// `Precompiled` normalizer carry: a 4-byte little-endian trie size, a
// Darts-clone double-array trie over the UTF-8 of each rule's source, then
// the rules' replacements as NUL-terminated strings the trie's values point
// into.
//
// SentencePiece (normalizer.cc) takes the longest rule matching the input's
// prefix; HF tokenizers (spm_precompiled) goes by grapheme cluster and takes
// the shortest: both are here, each as its source does it.
//
// Thread-safety: immutable after Parse.
#ifndef LLMTK_LIB_TOKENIZER_CHARSMAP_H_
#define LLMTK_LIB_TOKENIZER_CHARSMAP_H_

#include <cstddef>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

class PrecompiledCharsmap {
 public:
  // An empty blob is an empty map (no rules). DataLoss naming `source` when
  // the trie size exceeds the blob or a value points outside the strings.
  static absl::StatusOr<PrecompiledCharsmap> Parse(std::string_view blob, std::string_view source);

  bool empty() const { return units_.empty(); }
  // SentencePiece: the longest rule whose source is a prefix of `s`. Returns
  // its byte length (0: none) and sets *replacement. `stop_at_nul`: no rule
  // reaches past a NUL byte (llama.cpp's walk of the same trie).
  size_t Longest(std::string_view s, std::string_view* replacement, bool stop_at_nul = false) const;
  // HF's Precompiled normalizer over valid UTF-8: each extended grapheme
  // cluster under 6 bytes is replaced by the first (shortest) rule matching
  // a prefix of it; otherwise each of its characters is, or kept.
  void NormalizeHf(std::string_view in, std::string* out) const;
  // The same cluster by cluster throughout: the reference NormalizeHf is
  // tested against. (NormalizeHf maps an ASCII character followed by
  // another, or ending the text, by a table: it is a cluster of its own
  // unless it is CR before LF; and it cuts the text where no cluster rule
  // joins two characters, so most non-ASCII characters are clusters of one.)
  void NormalizeHfReference(std::string_view in, std::string* out) const;

 private:
  // Calls on_match(length, value) for every rule whose source is a prefix
  // of `s`, shortest first. `stop_at_nul`: HF's search ends at a NUL byte.
  template <typename Fn>
  void PrefixSearch(std::string_view s, bool stop_at_nul, Fn on_match) const;
  std::string_view Replacement(uint32_t value) const;
  // HF's transform of one chunk: true when a rule matches a prefix of it.
  bool FirstRule(std::string_view chunk, std::string_view* replacement) const;
  void BuildAsciiTable();

  std::vector<uint32_t> units_;
  std::string normalized_;
  // HF's result for each ASCII character as a cluster of its own.
  std::array<std::string, 128> ascii_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_CHARSMAP_H_
