// model_vocab: a model's vocabulary from GGUF metadata, for turning prompts
// into token ids and generated ids back into bytes.
//
// Decoding handles SentencePiece vocabularies (`tokenizer.ggml.model` =
// "llama": '▁' is a space, <0xXX> pieces are raw bytes, control tokens print
// nothing) and byte-level BPE ("gpt2": GPT-2's byte-to-unicode map).
// Encoding implements llama.cpp's SentencePiece BPE (score-ordered merges,
// byte fallback); other tokenizer models are Unimplemented here — the
// project's full tokenizer library (lib/tokenizer*) covers them.
//
// Thread-safety: immutable after construction.
#ifndef LLMTK_LIB_MODEL_VOCAB_H_
#define LLMTK_LIB_MODEL_VOCAB_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/gguf.h"
#include "lib/status.h"

namespace llmtk {

class Vocab {
 public:
  // DataLoss when the tokenizer metadata is missing or inconsistent.
  static absl::StatusOr<Vocab> FromGguf(const GgufFile& f);

  int size() const { return static_cast<int>(pieces_.size()); }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  const std::string& model() const { return model_; }
  // End of generation: EOS, EOT and chat end markers.
  bool IsEog(int32_t id) const;
  // The bytes token `id` stands for in text.
  std::string Piece(int32_t id) const;
  std::string Decode(const std::vector<int32_t>& ids) const;
  // Token ids for `text` (BOS first when `add_bos`).
  absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_bos) const;

 private:
  std::string model_;
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::vector<int32_t> types_;
  absl::flat_hash_map<std::string, int32_t> index_;
  std::vector<int32_t> eog_;
  int32_t bos_ = -1, eos_ = -1, byte_tokens_[256];
  bool add_bos_ = true, add_space_prefix_ = true;
  std::vector<int> gpt2_byte_of_;  // unicode code point -> byte, for "gpt2"
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_VOCAB_H_
