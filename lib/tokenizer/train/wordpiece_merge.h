// tokenizer/train/wordpiece_merge: learns a WordPiece vocabulary from a word
// table the way HF tokenizers' WordPieceTrainer does — its BpeTrainer with
// continuing_subword_prefix "##", whose vocabulary (merges dropped) becomes
// the WordPiece model.
//
// The ids: special tokens in the order given, the alphabet (every character
// of the words, or the `limit_alphabet` most frequent) in code-point order,
// then one "##c" token for each alphabet character that occurs after the
// first character of some word, then one id per merge that makes a new
// string: a pair (x, y) becomes x followed by y without its "##".
//
// The merge loop follows HF's BpeTrainer step for step, quirks included,
// because they decide which tokens enter the vocabulary:
// - a heap entry carries the words it was pushed for; a pair whose count
//   grows after a merge gets a new entry holding only the words where it
//   grew, and a merge rewrites only the popped entry's words;
// - a popped entry whose count is stale is pushed back with the current
//   count and its own words;
// - a merge never lowers its own pair's count (only overlapping occurrences
//   such as "a a a" do), so a pair that forms again later is merged again
//   at the old count plus the new occurrences, adding no token.
// Ties in count go to the smallest (left id, right id) pair, and between two
// entries of the same pair and count to the older one.
//
// HF's one source of randomness is the order of the "##c" ids: it creates
// them while walking its word hash map, whose seed differs per process (two
// HF runs on the same corpus give different vocabularies; see
// scripts/check-tok-train-wordpiece). We order them by code point, or as
// `continuation_order` lists them: given the order of one HF run, the
// vocabulary equals that run's, ids included (tests/wordpiece_trainer_test).
//
// Thread-safety: LearnWordPiece is a pure function of its inputs.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_WORDPIECE_MERGE_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_WORDPIECE_MERGE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/tokenizer/train/words.h"

namespace llmtk {

struct WordPieceTrainerOptions {
  int vocab_size = 30000;       // HF stops merging at this size (never trims below it)
  uint64_t min_frequency = 0;   // stop when the best pair is rarer than this
  // BERT's, as HF's BertWordPieceTokenizer.train; [UNK] [CLS] [SEP] are
  // needed by the tokenizer.json writer (unknown token and templates).
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  int limit_alphabet = 0;       // keep only the N most frequent characters; 0: all
  bool lowercase = true;        // uncased: BertNormalizer lowercases and strips accents
  // "##c" tokens in id order (each once, all of them); empty: by code point.
  std::vector<std::string> continuation_order;
  uint64_t max_words = 0;       // bound on distinct words kept; 0: unlimited
  int threads = 0;              // counting words; 0: all cores
  bool show_progress = false;
};

inline constexpr char kWordPiecePrefix[] = "##";

struct TrainedWordPiece {
  std::vector<std::string> tokens;  // by id
  int num_special = 0;
  int alphabet_size = 0;            // ids [num_special, num_special + alphabet_size)
  int continuation_size = 0;        // the "##c" tokens after the alphabet
  int merges = 0;                   // merge steps, repeats of a pair included
  double train_bytes_per_token = 0; // on the training words, after all merges
};

// `on_merge(merges_done)` (may be empty) reports progress.
absl::StatusOr<TrainedWordPiece> LearnWordPiece(const WordCountMap& words,
                                                const WordPieceTrainerOptions& opts,
                                                const std::function<void(int)>& on_merge = {});

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_WORDPIECE_MERGE_H_
