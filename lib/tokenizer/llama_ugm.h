// tokenizer/llama_ugm: llama.cpp's UGM tokenizer, the one behind GGUF "t5"
// vocabularies (T5, mT5, and other SentencePiece Unigram models converted
// by convert_hf_to_gguf.py), as its llm_tokenizer_ugm does it — which is not
// quite SentencePiece:
//
//  - normalization, per text segment between special tokens: at each
//    position text along a user-defined token's path is kept as it is (the
//    deepest match, a whole token or not), else the longest
//    rule of the precompiled charsmap (tokenizer/charsmap.h) replaces its
//    source, else one UTF-8 character is kept (an invalid byte becomes
//    U+FFFD); in the result, spaces are escaped to "▁"; with
//    remove_extra_whitespaces every run of non-space text gets one "▁" in
//    front (so even without add_space_prefix) and other spaces go; else
//    add_space_prefix puts one "▁" in front of the first non-space byte;
//  - Viterbi over normal, user-defined and unused tokens (user-defined ones
//    score 0), float path scores summed in double, shorter tokens first on
//    ties; a character no token covers alone is the unknown token, scored
//    min(normal scores) - 10, and a run of them is one unknown token.
//
// Thread-safety: immutable after Build; EncodeWord may be called from any
// number of threads.
#ifndef LLMTK_LIB_TOKENIZER_LLAMA_UGM_H_
#define LLMTK_LIB_TOKENIZER_LLAMA_UGM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/status.h"
#include "lib/tokenizer/charsmap.h"
#include "lib/tokenizer/model.h"

namespace llmtk {

struct LlamaUgmOptions {
  std::string charsmap;  // tokenizer.ggml.precompiled_charsmap (may be empty)
  bool add_space_prefix = false;
  bool remove_extra_whitespaces = false;
  uint32_t unk_id = 0;
};

class LlamaUgmModel : public TokenModel {
 public:
  // `types` are GGUF token types. DataLoss naming `source` for sizes that
  // differ, an unknown id outside the vocabulary or a corrupt charsmap.
  static absl::StatusOr<std::unique_ptr<LlamaUgmModel>> Build(std::vector<std::string> tokens,
                                                              std::vector<float> scores,
                                                              const std::vector<int32_t>& types,
                                                              const LlamaUgmOptions& options,
                                                              std::string_view source);

  std::string_view type() const override { return "Unigram"; }
  // A whole segment (the pipeline has no normalizer or pre-tokenizer here).
  void EncodeWord(std::string_view text, std::vector<uint32_t>* out) const override;
  size_t size() const override { return tokens_.size(); }
  std::optional<uint32_t> TokenToId(std::string_view token) const override;
  int64_t byte_token(uint8_t b) const override { return byte_tokens_[b]; }

  // llama.cpp's normalization of a segment (exposed for tests).
  std::string Normalize(std::string_view text) const;

 private:
  LlamaUgmModel() = default;
  // A byte trie: node 0 is the root; edges keyed node << 8 | byte.
  struct Trie {
    absl::flat_hash_map<uint64_t, uint32_t> edges;
    std::vector<int64_t> value{-1};  // by node: id ending there, or -1
    void Insert(std::string_view s, uint32_t id);
    int64_t Next(uint32_t node, uint8_t b) const;
  };

  std::vector<std::string> tokens_;
  std::vector<float> scores_;        // user-defined ones already 0
  absl::flat_hash_map<std::string, uint32_t> ids_;
  Trie lattice_, user_defined_;
  PrecompiledCharsmap charsmap_;
  LlamaUgmOptions options_;
  float unknown_score_ = 0;
  std::vector<int64_t> byte_tokens_ = std::vector<int64_t>(256, -1);
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_LLAMA_UGM_H_
