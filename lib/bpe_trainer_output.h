// bpe_trainer_output: writes a trained BPE model as an HF tokenizer.json or
// as a vocabulary-only GGUF (tokenizer.ggml.* keys).
//
// tokenizer.json carries the same components as Llama 3's: a Split regex +
// ByteLevel(use_regex=false) pre-tokenizer, a ByteLevel decoder, a BPE model
// with vocab and merges ("left right" strings), and the special tokens as
// added tokens. Output is compact, key order fixed, so equal models give
// equal bytes.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_BPE_TRAINER_OUTPUT_H_
#define LLMTK_LIB_BPE_TRAINER_OUTPUT_H_

#include <string>

#include "lib/bpe_trainer_merge.h"
#include "lib/status.h"

namespace llmtk {

// The tokenizer.json text for `model` with `split_pattern` as pre-tokenizer.
std::string TokenizerJson(const BpeModel& model, const std::string& split_pattern);

// Writes TokenizerJson to `path` ("-": stdout) atomically.
absl::Status WriteTokenizerJson(const BpeModel& model, const std::string& split_pattern,
                                const std::string& path);

}  // namespace llmtk

#endif  // LLMTK_LIB_BPE_TRAINER_OUTPUT_H_
