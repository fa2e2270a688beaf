// tokenizer/spm_bpe: SentencePiece's BPE model (bpe_model.cc) on a
// normalized sentence: characters (or whole user-defined symbols, which
// never merge) are merged pairwise, the adjacent pair whose concatenation is
// the highest-scoring piece first, leftmost on equal scores; a result that
// is an UNUSED piece is split back into the pair that made it. A run of
// unknown symbols becomes one unk, or their bytes' <0xXX> pieces with byte
// fallback.
//
// Unlike tokenizer/bpe's ranked merges, the merge rule is any split of any
// piece, so the model needs only the pieces and their scores.
//
// Thread-safety: immutable after Build; EncodeWord may be called from any
// number of threads.
#ifndef LLMTK_LIB_TOKENIZER_SPM_BPE_H_
#define LLMTK_LIB_TOKENIZER_SPM_BPE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/status.h"
#include "lib/formats/sentencepiece_model.h"
#include "lib/tokenizer/model.h"
#include "lib/tokenizer/spm_normalize.h"

namespace llmtk {

class SpmBpeModel : public TokenModel {
 public:
  // DataLoss naming `source` for a duplicate piece or no unknown piece.
  static absl::StatusOr<std::unique_ptr<SpmBpeModel>> Build(const std::vector<SpmPiece>& pieces, bool byte_fallback,
                                                            std::string_view source);

  std::string_view type() const override { return "BPE"; }
  void EncodeWord(std::string_view word, std::vector<uint32_t>* out) const override;
  size_t size() const override { return types_.size(); }
  std::optional<uint32_t> TokenToId(std::string_view token) const override;
  int64_t byte_token(uint8_t b) const override { return byte_tokens_[b]; }

 private:
  SpmBpeModel() : user_defined_({}) {}
  // SentencePiece's PieceToId: reserved pieces, then normal ones, else unk.
  uint32_t PieceToId(std::string_view piece) const;
  void Emit(std::string_view piece, bool* prev_unk, std::vector<uint32_t>* out) const;

  std::vector<SpmPieceType> types_;
  std::vector<float> scores_;
  absl::flat_hash_map<std::string, uint32_t> pieces_, reserved_;
  PrefixMatcher user_defined_;
  uint32_t unk_id_ = 0;
  bool byte_fallback_ = false;
  std::array<int64_t, 256> byte_tokens_{};
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_SPM_BPE_H_
