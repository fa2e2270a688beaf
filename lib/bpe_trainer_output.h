// bpe_trainer_output: writes a trained BPE model as an HF tokenizer.json or
// as a vocabulary-only GGUF (tokenizer.ggml.* keys, via gguf_writer.h).
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
std::string TokenizerJson(const TrainedBpe& model, const std::string& split_pattern);

// Writes TokenizerJson to `path` ("-": stdout) atomically.
absl::Status WriteTokenizerJson(const TrainedBpe& model, const std::string& split_pattern,
                                const std::string& path);

// llama.cpp's tokenizer.ggml.pre name for a trainer pre-tokenizer name
// ("llama3" -> "llama-bpe"); Unimplemented for patterns llama.cpp has no name
// for (cjk, custom regexes), since a GGUF cannot carry the regex itself.
absl::StatusOr<std::string> GgufPreType(const std::string& pre_tokenizer);

// Writes a vocabulary-only GGUF v3 (no tensors): general.architecture "llama",
// tokenizer.ggml.model "gpt2", .pre, .tokens, .token_type (3 = control for
// special tokens, 1 = normal) and .merges, as llama.cpp's ggml-vocab files.
absl::Status WriteGgufVocab(const TrainedBpe& model, const std::string& pre_tokenizer,
                            const std::string& path);

}  // namespace llmtk

#endif  // LLMTK_LIB_BPE_TRAINER_OUTPUT_H_
