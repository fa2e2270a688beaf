// tokenizer/unigram: the Unigram model — the best-scoring segmentation of a
// text into vocabulary pieces (Viterbi over the piece lattice), as
// SentencePiece's unigram_model.cc EncodeOptimized and HF tokenizers'
// Unigram compute it. The two differ in small ways, each kept exactly:
//
//  - SentencePiece: float path scores, each step summed and compared in
//    double (so equal-scoring paths tie-break on float rounding, as
//    unigram_model.cc does); only normal, user-defined and unused
//    pieces are in the lattice (unused ones never chosen); a user-defined
//    piece scores length * max(normal scores, FLT_MIN) - 0.1 (in double);
//    a run of unknown characters is one unk (sentencepiece_processor.cc
//    merges them), or with byte fallback their UTF-8 bytes' <0xXX> pieces.
//  - HF: double scores; every vocabulary entry is in the lattice; runs of
//    unknown characters fuse into one unk (fuse_unk), which byte fallback
//    spells as <0xXX> pieces when all exist.
//
// The unknown penalty is min(score) - 10, over normal pieces (SentencePiece)
// or the whole vocabulary (HF).
//
// Thread-safety: immutable after Build; EncodeWord may be called from any
// number of threads.
#ifndef LLMTK_LIB_TOKENIZER_UNIGRAM_H_
#define LLMTK_LIB_TOKENIZER_UNIGRAM_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/status.h"
#include "lib/tokenizer/model.h"

namespace llmtk {

struct UnigramPiece {
  enum class Kind { kNormal, kUserDefined, kUnused, kNotInLattice };
  std::string text;
  double score = 0;
  Kind kind = Kind::kNormal;
};

struct UnigramOptions {
  bool sentencepiece = false;  // SentencePiece's arithmetic and unknowns, else HF's
  bool byte_fallback = false;
  std::optional<uint32_t> unk_id;
};

class UnigramModel : public TokenModel {
 public:
  // DataLoss naming `source` for a duplicate piece in the lattice or an unk
  // id outside the vocabulary.
  static absl::StatusOr<std::unique_ptr<UnigramModel>> Build(std::vector<UnigramPiece> pieces,
                                                             const UnigramOptions& options, std::string_view source);

  std::string_view type() const override { return "Unigram"; }
  // Through the per-thread word cache (tokenizer/word_cache.h).
  void EncodeWord(std::string_view word, std::vector<uint32_t>* out) const override;
  // The segmentation itself: the reference the cached path is tested against.
  void EncodeWordUncached(std::string_view word, std::vector<uint32_t>* out) const;
  size_t size() const override { return pieces_.size(); }
  std::optional<uint32_t> TokenToId(std::string_view token) const override;
  int64_t byte_token(uint8_t b) const override { return byte_tokens_[b]; }
  const UnigramPiece& piece(uint32_t id) const { return pieces_[id]; }
  // The (byte length, id) of each lattice piece `s` starts with, shortest
  // first, by the trie's arrays or (reference) its hash map: for tests.
  std::vector<std::pair<size_t, uint32_t>> PrefixMatches(std::string_view s, bool reference) const;

 private:
  UnigramModel() = default;
  // Calls fn(byte length, id) for each lattice piece `s` starts with,
  // walking the trie's arrays.
  template <typename Fn>
  void Prefixes(std::string_view s, Fn fn) const;
  // The same walk over the hash map of edges the arrays are built from.
  template <typename Fn>
  void PrefixesReference(std::string_view s, Fn fn) const;
  void BuildTrieArrays();
  template <typename Score>
  void Viterbi(std::string_view s, std::vector<std::pair<uint32_t, int64_t>>* path) const;
  void EmitUnknown(std::string_view text, std::vector<uint32_t>* out) const;

  UnigramOptions options_;
  std::vector<UnigramPiece> pieces_;
  absl::flat_hash_map<std::string, uint32_t> ids_;
  // The lattice's trie: node 0 is the root; edges keyed node << 8 | byte.
  absl::flat_hash_map<uint64_t, uint32_t> edges_;
  std::vector<int64_t> node_piece_;  // piece id ending at a node, or -1
  // The same trie in arrays, for the Viterbi's inner loop: node i's
  // children are labels_/targets_[nodes_[i].begin, + count), or, for nodes
  // with many, dense_[nodes_[i].dense * 256 + byte] (0: none; the root is
  // nobody's child). A hash probe per byte was the Viterbi's main cost.
  struct TrieNode {
    uint32_t begin = 0;
    uint16_t count = 0;
    uint16_t dense = kSparse;
    int32_t piece = -1;  // lattice piece ending here, or -1
  };
  static constexpr uint16_t kSparse = 0xFFFF;
  // Score and kind by piece id, apart from the texts: the Viterbi reads
  // these for every match.
  struct PieceScore {
    double score;
    UnigramPiece::Kind kind;
  };
  std::vector<PieceScore> piece_scores_;
  std::vector<TrieNode> nodes_;
  std::vector<uint8_t> labels_;
  std::vector<uint32_t> targets_;
  std::vector<uint32_t> dense_;
  std::vector<uint32_t> canonical_;  // HF: ids_[piece text] per piece id
  std::array<int64_t, 256> byte_tokens_{};
  double min_score_ = 0;
  float spm_max_score_ = 0;
  uint64_t cache_id_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_UNIGRAM_H_
