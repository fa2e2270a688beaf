// convert/hf_tokenizer: the GGUF vocabulary (formats/gguf_vocab.h) of a
// Hugging Face model directory, as llama.cpp's convert_hf_to_gguf.py writes it:
// SentencePiece vocabularies from tokenizer.model ("llama": tokens, scores,
// token types, added tokens from tokenizer_config.json) and byte-level BPE
// from tokenizer.json ("gpt2": tokens, token types, merges, and the `pre`
// name llama.cpp expects); then gguf-py's SpecialVocab: special token ids
// (tokenizer.json added_tokens, tokenizer_config.json, config.json),
// add_bos/add_eos and the chat template.
//
// A stop-gap of the quant branch: the tokenizer library (lib/tokenizer*)
// owns tokenizer.json/GGUF vocabulary mapping; this module reads only what
// the converter needs, with simdjson and formats/sentencepiece_model.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_CONVERT_HF_TOKENIZER_H_
#define LLMTK_LIB_CONVERT_HF_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/formats/gguf_writer.h"
#include "lib/base/status.h"

namespace llmtk {

struct SentencePiece {
  std::string piece;
  float score = 0;
  int type = 1;  // NORMAL=1 UNKNOWN=2 CONTROL=3 USER_DEFINED=4 UNUSED=5 BYTE=6
};

// Parses a SentencePiece ModelProto (tokenizer.model). DataLoss on any
// malformed field, naming `name` and the byte offset.
absl::StatusOr<std::vector<SentencePiece>> ParseSentencePieceModel(std::string_view bytes, std::string_view name);

// Hugging Face JSON often holds integers beyond 64 bits (tokenizer_config's
// model_max_length = 10^30), which simdjson rejects. Returns `json` with
// every integer literal longer than 19 digits (outside strings) turned into
// a float literal ("...0.0"), leaving everything else byte for byte.
std::string WidenBigIntegers(std::string_view json);

// Appends the tokenizer keys for the model in `dir` to `md`. `vocab_size`
// is config.json's (the token list is padded to it). With tokenizer.model:
// a SentencePiece ("llama") vocabulary. Otherwise tokenizer.json's
// byte-level BPE ("gpt2", with merges); the GGUF `pre` name is recognized
// from the pre-tokenizer (GPT-2 ByteLevel -> gpt-2, the Llama 3 regex ->
// llama-bpe, the Qwen2 regex -> qwen2), anything else is Unimplemented.
absl::Status AddHfTokenizerMetadata(const std::string& dir, int64_t vocab_size, GgufMetadata* md);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_HF_TOKENIZER_H_
