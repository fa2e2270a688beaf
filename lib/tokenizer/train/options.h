// tokenizer/train/options: what a BPE training run is asked for — the style,
// the vocabulary size and limits, the pre-tokenizer — and the word splitter
// type. Shared by the trainer's steps (words, alphabet, merge, split) and
// its driver (tokenizer/train/bpe_trainer.h), so that none of them includes
// the driver.
//
// Thread-safety: plain data.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_OPTIONS_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_OPTIONS_H_
