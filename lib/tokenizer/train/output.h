// tokenizer/train/output: writes a trained BPE model as an HF tokenizer.json or
// as a vocabulary-only GGUF (a formats/gguf_vocab.h vocabulary).
//
// tokenizer.json carries the same components as Llama 3's: a Split regex +
// ByteLevel(use_regex=false) pre-tokenizer, a ByteLevel decoder, a BPE model
// with vocab and merges ("left right" strings), and the special tokens as
// added tokens. Output is compact, key order fixed, so equal models give
// equal bytes.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_OUTPUT_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_OUTPUT_H_

#include <string>
#include <vector>

#include "lib/tokenizer/train/merge.h"
#include "lib/base/status.h"

namespace llmtk {

// The tokenizer.json text for `model` with `split_pattern` as pre-tokenizer.
std::string TokenizerJson(const TrainedBpe& model, const std::string& split_pattern);

// Writes TokenizerJson to `path` ("-": stdout) atomically.
absl::Status WriteTokenizerJson(const TrainedBpe& model, const std::string& split_pattern,
                                const std::string& path);

// llama.cpp's pre-tokenizer name (GGUF `pre`) for a trainer pre-tokenizer name
// ("llama3" -> "llama-bpe"); Unimplemented for patterns llama.cpp has no name
// for (cjk, custom regexes), since a GGUF cannot carry the regex itself.
absl::StatusOr<std::string> GgufPreType(const std::string& pre_tokenizer);

// SentencePiece-style scores, by id, for llama.cpp's SPM tokenizer, which
// merges the adjacent pair whose concatenation is the highest-scoring token
// (leftmost on ties) instead of reading a merge list: a merged token scores
// -k when it is the k-th merged token (0-based), i.e. by the rank of the first
// merge that made it, so score order is merge order. Special and byte-fallback
// tokens score 0, as in SentencePiece models; alphabet characters, which no
// merge produces, score below every merged token.
// Why that equals rank-order BPE, although llama.cpp also merges pairs that
// are not in the merge list: each merged token comes from exactly one merge
// (SentencePiece-style training never reuses a string's id), and rank-order
// BPE applies merges in rank order, so the part of the text two adjacent
// pieces x, y cover went through the same merges as the token's string alone,
// whose only two-piece stage is the token's own merge: x, y is that merge.
// Both encoders see the same candidate pairs with the same order at every
// step (checked on every held-out document by scripts/check-tok-train).
std::vector<float> SentencePieceScores(const TrainedBpe& model);

// Writes a vocabulary-only GGUF v3 (no tensors): general.architecture
// "llama", a vocabulary with tokens and token types, and
// - byte-level style: model "gpt2", pre and merges, as llama.cpp's
//   ggml-vocab files (token_type 3 = control for special tokens, 1 = normal);
// - SentencePiece style: model "llama", pre "default", scores
//   (SentencePieceScores), token_type 2 for <unk>, 3 for the other
//   special tokens, 6 for the <0xXX> byte-fallback tokens, 1 for the rest;
//   unknown/bos/eos ids (<unk>, <s>, </s> where present), add_bos_token and
//   add_eos_token false (tokenizer.json adds neither) and add_space_prefix true
//   (tokenizer.json's Prepend("▁") normalizer).
// `pre_tokenizer` matters only for the byte-level style.
absl::Status WriteGgufVocab(const TrainedBpe& model, const std::string& pre_tokenizer,
                            const std::string& path);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_OUTPUT_H_
