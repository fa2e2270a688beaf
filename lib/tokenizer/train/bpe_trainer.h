// tokenizer/train/bpe_trainer: trains byte-level BPE tokenizers from JSONL or text corpora.
//
// The pipeline is: pre-tokenize every document into "words" (a splitter
// callback, normally a Split regex), count each distinct word once
// (tokenizer/train/words.h), learn merges incrementally from pair counts indexed
// to the words that contain them (tokenizer/train/merge.h), and write an HF
// tokenizer.json or a vocabulary-only GGUF (tokenizer/train/output.h).
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
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/base/status.h"

namespace llmtk {

// Splits `text` into pre-tokens, appending views into `text` to *words.
// Must be callable concurrently from several threads. Bytes it does not
// cover are not lost: the trainer makes each uncovered gap a word of its own.
using WordSplitFn = std::function<void(std::string_view text, std::vector<std::string_view>* words)>;

enum class BpeStyle {
  kByteLevel,      // GPT-2/Llama 3: bytes as symbols, ByteLevel components
  kSentencePiece,  // Llama 2: characters, "▁" for spaces, byte fallback
};

struct BpeTrainerOptions {
  BpeStyle style = BpeStyle::kByteLevel;
  // SentencePiece style: share of character occurrences the alphabet covers.
  double character_coverage = 0.9995;
  int vocab_size = 32000;           // total, special tokens and alphabet included
  uint64_t min_frequency = 0;       // stop when the best pair is rarer than this
  std::vector<std::string> special_tokens;
  int max_token_length = 0;         // in characters (byte-level: bytes); 0: unlimited
  uint64_t max_words = 0;           // bound on distinct words kept; 0: unlimited
  // Pre-tokenizer (byte-level style): "llama3" (default), "gpt2", "qwen2",
  // "cjk", or a regex. SentencePiece style splits on spaces.
  std::string pre_tokenizer = "llama3";
  int threads = 0;                  // 0: all cores
  bool show_progress = false;       // progress line on stderr
};

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

// The report as one JSON object line, or as a one-line human summary.
std::string FormatTrainReport(const BpeTrainReport& r, const std::string& output, bool json);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_BPE_TRAINER_H_
