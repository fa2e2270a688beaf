// tokenizer/train/merge: learns BPE merges from a word table.
//
// Each distinct word is a sequence of symbol ids with a count. Pair counts
// (64-bit) are kept in one hash table together with the list of words that
// contain each pair; a max-heap holds (count, pair) entries and is
// invalidated lazily: a popped entry whose count is stale is pushed back with
// the current count. A merge rewrites only the words listed for its pair and
// applies the pair-count changes those rewrites cause — never a recount.
//
// Order: highest count first; ties by smallest (left id, right id). Within a
// word, occurrences merge left to right without overlap ("aaa" + (a,a) ->
// "aa a"), as HF's BpeTrainer and every BPE encoder do.
//
// A merge whose string is already a token reuses its id (as HF's trainer),
// except in SentencePiece style, where a pair that would spell a special or
// <0xXX> byte-fallback token is never merged.
//
// Tokens are kept in byte-level form (each byte as its GPT-2 unicode
// character, tokenizer/byte_level.h), the form tokenizer.json stores.
//
// Thread-safety: LearnMerges is a pure function of its inputs.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_MERGE_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_MERGE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lib/tokenizer/train/options.h"
#include "lib/tokenizer/train/words.h"
#include "lib/base/status.h"

namespace llmtk {

struct TrainedBpe {
  // By id. Byte-level style: byte-level form; SentencePiece style: "▁" for
  // spaces, <0xXX> byte-fallback tokens. Special tokens verbatim.
  std::vector<std::string> tokens;
  BpeStyle style = BpeStyle::kByteLevel;
  int num_special = 0;              // ids [0, num_special) are special tokens
  int alphabet_size = 0;            // ids [num_special, num_special + alphabet_size)
  double character_coverage = 1.0;  // of the alphabet (SentencePiece style)
  std::vector<std::pair<uint32_t, uint32_t>> merges;  // in rank order
  double train_bytes_per_token = 0;
};

struct MergeProgress {
  std::function<void(int merges_done)> on_merge;  // may be empty
};

// Learns merges until the vocabulary has opts.vocab_size tokens, no pair is
// left, or the best pair is rarer than opts.min_frequency. Takes the table
// by value so that a moved-in table is freed once converted to symbols.
absl::StatusOr<TrainedBpe> LearnMerges(WordCountMap words, const BpeTrainerOptions& opts,
                                     const MergeProgress& progress = {});

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_MERGE_H_
