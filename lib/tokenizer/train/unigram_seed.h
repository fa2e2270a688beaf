// tokenizer/train/unigram_seed: the Unigram trainer's pieces as symbol runs,
// SentencePiece's rules for which substrings may be pieces
// (TrainerInterface::IsValidSentencePiece), and the seed vocabulary
// (unigram_model_trainer.cc's MakeSeedSentencePieces).
//
// Seeds: spm builds a suffix array over the whole corpus and takes every
// internal node of its suffix tree (a substring occurring at least twice,
// followed by two different characters) that is a valid piece, scored
// occurrences x length. Valid pieces never hold U+2581 after their first
// character, so every one lies inside a word, and what follows a word is
// U+2581 or the end of its line: we sort the suffixes of the distinct words
// instead, each word once per way it ends (weighted by its occurrences that
// end so), compared on at most max_piece_length + 1 symbols. The nodes, and
// so the seeds, are spm's.
//
// Thread-safety: PieceValidator is immutable after Make; MakeSeedPieces uses
// its own workers.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_SEED_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_SEED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/tokenizer/train/unigram_corpus.h"

namespace llmtk {

// Pieces as runs of symbols (unigram_corpus.h ids), with a score each.
struct PieceList {
  std::vector<uint32_t> syms;
  std::vector<uint32_t> offsets = {0};  // piece i = syms[offsets[i], offsets[i + 1])
  std::vector<double> scores;

  size_t size() const { return scores.size(); }
  size_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
  const uint32_t* begin(size_t i) const { return syms.data() + offsets[i]; }
  void Add(const uint32_t* s, size_t n, double score) {
    syms.insert(syms.end(), s, s + n);
    offsets.push_back(static_cast<uint32_t>(syms.size()));
    scores.push_back(score);
  }
};

struct PieceRules {
  int max_length = 16;
  bool split_by_number = true;
  bool split_by_unicode_script = true;
  bool split_digits = false;
};

class PieceValidator {
 public:
  // Classifies every symbol of `chars` (its Unicode script through PCRE2).
  static absl::StatusOr<PieceValidator> Make(const std::vector<char32_t>& chars, const PieceRules& rules);
  // spm's IsValidSentencePiece on the piece s[0, n).
  bool Valid(const uint32_t* s, size_t n) const;

 private:
  PieceRules rules_;
  std::vector<int16_t> script_;  // per symbol; negative: see the .cc
  std::vector<uint8_t> digit_;
};

// The seed pieces, every kept character first (scored by its count), then
// the best substrings by occurrences x length (ties: symbol order), up to
// `seed_size` in all; scores as log probabilities (log(score / sum)).
// kPlain sorts the suffixes with a comparator reading the corpus, kPacked
// (the default; ids of at most 16 bits, else it falls back to kPlain) on
// keys packing their first symbols: the same order, so the same seeds.
enum class SuffixSort { kPacked, kPlain };
absl::StatusOr<PieceList> MakeSeedPieces(const UnigramCorpus& corpus, const PieceValidator& validator,
                                         int max_length, int seed_size, int threads,
                                         SuffixSort sort = SuffixSort::kPacked);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_SEED_H_
