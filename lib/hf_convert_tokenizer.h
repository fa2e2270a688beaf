// hf_convert_tokenizer: the `tokenizer.ggml.*` GGUF metadata of a Hugging
// Face model directory, as llama.cpp's convert_hf_to_gguf.py writes it for
// SentencePiece (tokenizer.model) vocabularies: tokens, scores and token
// types from the SentencePiece model, added tokens from
// tokenizer_config.json, special token ids (tokenizer.json added_tokens,
// tokenizer_config.json, config.json) and add_bos/add_eos/chat_template.
//
// This is a stop-gap of the quant branch: the tokenizer library (lib/tokenizer*)
// owns tokenizer.json/GGUF vocabulary mapping; this module reads only what
// the converter needs, with simdjson and a bounds-checked protobuf reader.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_HF_CONVERT_TOKENIZER_H_
#define LLMTK_LIB_HF_CONVERT_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/gguf_writer.h"
#include "lib/status.h"

namespace llmtk {

struct SentencePiece {
  std::string piece;
  float score = 0;
  int type = 1;  // NORMAL=1 UNKNOWN=2 CONTROL=3 USER_DEFINED=4 UNUSED=5 BYTE=6
};

// Parses a SentencePiece ModelProto (tokenizer.model). DataLoss on any
// malformed field, naming `name` and the byte offset.
absl::StatusOr<std::vector<SentencePiece>> ParseSentencePieceModel(std::string_view bytes, std::string_view name);

// Appends the tokenizer keys for the model in `dir` to `md`. `vocab_size`
// is config.json's (the token list is padded to it). Unimplemented for
// vocabularies without tokenizer.model (byte-level BPE).
absl::Status AddHfTokenizerMetadata(const std::string& dir, int64_t vocab_size, GgufMetadata* md);

}  // namespace llmtk

#endif  // LLMTK_LIB_HF_CONVERT_TOKENIZER_H_
