// tokenizer/train/bpe_trainer: trains byte-level BPE tokenizers from JSONL or text corpora.
//
// The pipeline is: pre-tokenize every document into "words" (a splitter
// callback, normally a Split regex), count each distinct word once
// (tokenizer/train/words.h), learn merges incrementally from pair counts indexed
// to the words that contain them (tokenizer/train/merge.h), and write an HF
// tokenizer.json or a vocabulary-only GGUF (tokenizer/train/output.h).
// The options (BpeTrainerOptions) live in tokenizer/train/options.h, which
// these steps share.
//
// Determinism: the result depends only on the word counts, never on
// --threads or hash-table order. Ties between equally frequent pairs go to
// the smallest (left id, right id) pair, as in HF tokenizers' BpeTrainer;
// ids are: special tokens in the order given, then the 256 byte symbols in
// code-point order of their GPT-2 byte-to-unicode characters, then one id per
// merge (a merge whose string already exists reuses its id, as HF does).
//
// Thread-safety: TrainBpe uses its own thread pool; calls are independent.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_BPE_TRAINER_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_BPE_TRAINER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/tokenizer/train/options.h"

namespace llmtk {

struct BpeTrainReport {
  uint64_t documents = 0;
  uint64_t bytes = 0;               // text bytes pre-tokenized
  uint64_t word_occurrences = 0;
  uint64_t distinct_words = 0;      // kept for training
  uint64_t pruned_words = 0;        // distinct words dropped by --max-words
  uint64_t replaced_utf8_docs = 0;  // documents repaired by the reader
  uint64_t invalid_utf8_words = 0;  // words with invalid UTF-8, trained as bytes
  int vocab_size = 0;
  int merges = 0;
  int alphabet_size = 0;            // initial symbols (bytes, byte fallback, characters)
  double character_coverage = 1.0;  // SentencePiece style: share covered by the alphabet
  double train_bytes_per_token = 0; // on the training words, after all merges
  double count_seconds = 0, merge_seconds = 0;
};

// Trains on `inputs` (paths or "-") read with `reader` options and writes the
// tokenizer to `output`: HF tokenizer.json, or a vocabulary-only GGUF when
// `gguf` is set.
absl::StatusOr<BpeTrainReport> TrainBpe(const std::vector<std::string>& inputs,
                                        const DocumentReaderOptions& reader,
                                        const BpeTrainerOptions& opts, const std::string& output,
                                        bool gguf);

class WordTable;

// The first step of the BPE and WordPiece trainers: every document of
// `reader` split by `split` and counted into *table on `threads` threads,
// with a progress line when `show_progress`; fills the report's document,
// byte, word and counting-time fields.
absl::Status CountCorpusWords(DocumentReader* reader, const WordSplitFn& split, int threads, bool show_progress,
                              WordTable* table, BpeTrainReport* report);

// The report as one JSON object line, or as a one-line human summary.
std::string FormatTrainReport(const BpeTrainReport& r, const std::string& output, bool json);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_BPE_TRAINER_H_
