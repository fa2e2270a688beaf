// model/vocab: a model's vocabulary from GGUF metadata, for turning prompts
// into token ids and generated ids back into bytes, one token at a time.
//
// The vocabulary is read once (formats/gguf_vocab.h). Encoding is the
// project's tokenizer (lib/tokenizer/tokenizer.h, Tokenizer::FromGgufVocab:
// SentencePiece BPE for tokenizer model "llama", byte-level BPE for "gpt2"),
// so prompts get the ids llama.cpp gives them, BOS per the vocabulary's
// add_bos and the SentencePiece space prefix per its add_space_prefix.
//
// Per-token decoding (what a streaming generator prints) stays here because
// Tokenizer::Decode decodes whole sequences (it strips the SentencePiece
// space prefix of the first token): SentencePiece pieces ('▁' is a space,
// <0xXX> pieces are raw bytes, control tokens print nothing) and byte-level
// BPE (GPT-2's byte-to-unicode map). Models with another tokenizer still
// decode; only Encode is Unimplemented for them.
//
// Thread-safety: immutable after construction.
#ifndef LLMTK_LIB_MODEL_VOCAB_H_
#define LLMTK_LIB_MODEL_VOCAB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/formats/gguf.h"
#include "lib/base/status.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {

class Vocab {
 public:
  // DataLoss when the tokenizer metadata is missing or inconsistent.
  static absl::StatusOr<Vocab> FromGguf(const GgufFile& f);

  int size() const { return static_cast<int>(pieces_.size()); }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  // Whether Encode(text, true) puts BOS first (the vocabulary's add_bos,
  // default on for SentencePiece).
  bool add_bos() const;
  // Whether Encode puts a space before the text (SentencePiece's space
  // prefix, tokenizer.ggml.add_space_prefix): the first text token's Piece
  // then starts with a space the text does not have.
  bool adds_space_prefix() const { return add_space_prefix_; }
  const std::string& model() const { return model_; }
  // End of generation: EOS, EOT and chat end markers.
  bool IsEog(int32_t id) const;
  // The bytes token `id` stands for in text.
  std::string Piece(int32_t id) const;
  std::string Decode(const std::vector<int32_t>& ids) const;
  // Token ids for `text`; `add_special`: the tokenizer's BOS/EOS around
  // them as the GGUF asks. Unimplemented when the vocabulary's tokenizer
  // model is not one lib/tokenizer supports; DataLoss for invalid UTF-8.
  // `parse_special` as in Tokenizer::Encode: llama-cli parses control
  // tokens in prompts, llama-perplexity does not.
  absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_special,
                                              bool parse_special = true) const;
  // The vocabulary's chat template (tokenizer.chat_template), when it has one.
  const std::optional<std::string>& chat_template() const { return chat_template_; }
  // Token `id` as the vocabulary spells it ("<|begin_of_text|>"), what
  // templates get as bos_token / eos_token; empty for an id outside it.
  std::string TokenText(int32_t id) const {
    return id >= 0 && id < size() ? pieces_[id] : std::string();
  }
  // Null when the tokenizer model is unsupported (see Encode).
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }

 private:
  std::string model_;
  std::vector<std::string> pieces_;
  std::vector<int32_t> types_;
  std::vector<int32_t> eog_;
  int32_t bos_ = -1, eos_ = -1;
  std::optional<std::string> chat_template_;
  bool add_space_prefix_ = false;
  std::unique_ptr<const Tokenizer> tokenizer_;
  absl::Status tokenizer_error_;  // why tokenizer_ is null
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_VOCAB_H_
