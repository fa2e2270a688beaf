// tokenizer/model: what the tokenizer pipeline asks of its model — BPE
// (tokenizer/bpe.h), WordPiece or Unigram — so that added tokens,
// normalizers, pre-tokenizers, post-processors and decoders are shared by
// every model type, as in HF tokenizers.
//
// Thread-safety: implementations are immutable after building; EncodeWord
// may be called from any number of threads.
#ifndef LLMTK_LIB_TOKENIZER_MODEL_H_
#define LLMTK_LIB_TOKENIZER_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace llmtk {

class TokenModel {
 public:
  virtual ~TokenModel() = default;
  // tokenizer.json's model "type": "BPE", "WordPiece", "Unigram".
  virtual std::string_view type() const = 0;
  // Appends the ids of one pre-tokenized word.
  virtual void EncodeWord(std::string_view word, std::vector<uint32_t>* out) const = 0;
  // Model ids are 0 .. size()-1.
  virtual size_t size() const = 0;
  // The id of a token spelled as the vocabulary file spells it.
  virtual std::optional<uint32_t> TokenToId(std::string_view token) const = 0;
  // Id of the <0xXX> byte-fallback token for byte b, or -1.
  virtual int64_t byte_token(uint8_t /*b*/) const { return -1; }
  // Merge rules (BPE), 0 for models without them.
  virtual size_t merges() const { return 0; }
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_MODEL_H_
