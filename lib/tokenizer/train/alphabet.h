// tokenizer/train/alphabet: the initial symbols of a BPE vocabulary and the
// conversion of words into symbol ids.
//
// Byte-level style: the 256 bytes, each as its GPT-2 unicode character, ids
// in code-point order of those characters (HF's convention). Any input is
// covered.
//
// SentencePiece style (Llama 2): spaces become U+2581 "▁" and every word
// starts with one; symbols are characters. The 256 byte-fallback tokens
// <0x00>..<0xFF> come first, then the characters that cover
// `character_coverage` of all character occurrences (most frequent first,
// ties by code point; at most half of the ids left after the special and
// byte-fallback tokens, so merges always get the other half), ids in
// code-point order. Other characters are left to byte fallback: in training
// they are kNoSymbol and never join a pair.
//
// Thread-safety: immutable after Build.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_ALPHABET_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_ALPHABET_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/tokenizer/train/options.h"
#include "lib/tokenizer/train/words.h"
#include "lib/base/status.h"
#include "lib/tokenizer/byte_level.h"

namespace llmtk {

inline constexpr uint32_t kNoSymbol = UINT32_MAX;
inline constexpr char kMetaspace[] = "\xE2\x96\x81";  // U+2581

class Alphabet {
 public:
  // Appends the initial tokens to *tokens and their lengths (characters) to
  // *token_len; ids continue from tokens->size().
  static absl::StatusOr<Alphabet> Build(const WordCountMap& words, const BpeTrainerOptions& opts,
                                        std::vector<std::string>* tokens,
                                        std::vector<uint32_t>* token_len);

  // Appends the symbols of `word` to *out.
  void Symbolize(std::string_view word, std::vector<uint32_t>* out) const;

  int size() const { return size_; }               // initial tokens added
  double coverage() const { return coverage_; }    // of character occurrences

 private:
  BpeStyle style_ = BpeStyle::kByteLevel;
  std::array<uint32_t, 256> byte_id_{};
  absl::flat_hash_map<char32_t, uint32_t> char_id_;
  int size_ = 0;
  double coverage_ = 1.0;
};

// The special tokens in id order: as given; SentencePiece style puts <unk>
// first when absent and defaults to <unk>, <s>, </s> (Llama 2's ids 0-2).
std::vector<std::string> EffectiveSpecialTokens(const BpeTrainerOptions& opts);

// InvalidArgument when vocab_size cannot hold the special tokens and the
// smallest alphabet of the style.
absl::Status CheckVocabSize(const BpeTrainerOptions& opts);

// The text of a SentencePiece-style word: spaces as "▁", a "▁" in front when
// the word does not start with a space (the first word of a document).
std::string MetaspaceWord(std::string_view word);

// Splits a document for SentencePiece-style training: before every space,
// the first piece (possibly empty) standing for the document start.
void SplitOnSpaces(std::string_view text, std::vector<std::string_view>* words);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_ALPHABET_H_
