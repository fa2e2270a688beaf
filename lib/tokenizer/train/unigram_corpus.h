// tokenizer/train/unigram_corpus: the Unigram trainer's view of a corpus, as
// SentencePiece's trainer_interface.cc builds it: sentences (document lines)
// normalized, cut into words before each U+2581, counted; the characters
// that cover character_coverage of all occurrences kept, every other one
// replaced by U+2585 (as spm's kUNKChar); each word as a run of symbol ids.
//
// Thread-safety: CountSentenceWords uses its own workers; the rest is plain
// data and pure functions.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_CORPUS_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_CORPUS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/tokenizer/spm_normalize.h"
#include "lib/tokenizer/train/words.h"

namespace llmtk {

// Symbol ids: 0 ends every word, 1 stands for every character not kept,
// 2.. are the kept characters by descending count (ties: code point).
inline constexpr uint32_t kEndSymbol = 0;
inline constexpr uint32_t kRareSymbol = 1;
inline constexpr char32_t kRareChar = 0x2585;   // spm's kUNKChar
inline constexpr char32_t kSpaceChar = 0x2581;  // spm's escaped space
// Appended to a sentence's last word in the word table (a line never holds
// it: lines are cut at it).
inline constexpr char kLineEndMark = '\n';

struct UnigramCorpus {
  std::vector<char32_t> chars;     // symbol -> code point (chars[0] = 0, chars[1] = U+2585)
  std::vector<uint64_t> char_counts;
  // The words' symbols, each word followed by kEndSymbol; word i is
  // syms[offsets[i], offsets[i + 1] - 1). Words by descending count, ties by
  // UTF-8 bytes (spm's Sorted order).
  std::vector<uint32_t> syms;
  std::vector<uint32_t> offsets;
  std::vector<uint64_t> counts;
  std::vector<uint64_t> line_end_counts;  // occurrences ending a sentence
  double coverage = 1.0;           // share of character occurrences kept

  size_t words() const { return counts.size(); }
  size_t symbols() const { return chars.size(); }
};

// Splits a normalized sentence before each U+2581 (SentencePiece's
// SplitIntoWords without treat_whitespace_as_suffix), appending to *words.
void SplitSpmWords(std::string_view normalized, std::vector<std::string_view>* words);

struct SentenceCountStats {
  uint64_t documents = 0, bytes = 0, sentences = 0, too_long = 0;
};

// Cuts every document from `next_doc` into lines, skips lines longer than
// `max_sentence_length` bytes or holding U+2585 (as spm's LoadSentences),
// normalizes the rest with `normalizer` and counts their words into `table`
// on `threads` threads (batches by bytes: the table never depends on
// `threads`). `on_batch` reports progress.
absl::Status CountSentenceWords(const std::function<absl::StatusOr<bool>(std::string* text)>& next_doc,
                                const SpmNormalizer& normalizer, int max_sentence_length, int threads,
                                WordTable* table, SentenceCountStats* stats,
                                const std::function<void(uint64_t docs, uint64_t bytes)>& on_batch);

// The kept characters (character_coverage, spm's rule: most frequent first
// until the covered share reaches it; tab never kept) and the symbolized
// words. DataLoss when no character is left.
absl::StatusOr<UnigramCorpus> BuildUnigramCorpus(const WordCountMap& words, double character_coverage);
// The same result built plainly (hash maps per character, equal texts folded
// by sorting): the reference BuildUnigramCorpus's tables and index are tested against.
absl::StatusOr<UnigramCorpus> BuildUnigramCorpusPlain(const WordCountMap& words, double character_coverage);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_CORPUS_H_
