// tokenizer/train/unigram_em: the Unigram trainer's EM loop over the pieces
// (SentencePiece's unigram_model_trainer.cc): the lattice of a word under the
// current pieces (a trie over symbol runs; a position no one-symbol piece
// starts at gets an unknown node scored min - 10, as spm's PopulateNodes),
// the E step (forward-backward: expected count of every piece), the M step
// (pieces under 0.5 expected occurrences dropped, the rest scored
// digamma(count) - digamma(total): spm's Bayesian EM), pruning (the loss of
// each piece's removal, its occurrences re-segmented by its second-best
// segmentation) and the final selection.
//
// Expected counts are summed in 2^-24 fixed point and Viterbi counts in
// integers, so no result depends on how words are spread over threads.
//
// Thread-safety: a LatticeModel is immutable after construction; the
// functions use their own workers.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_EM_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_EM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "lib/tokenizer/train/unigram_corpus.h"
#include "lib/tokenizer/train/unigram_seed.h"
#include "lib/tokenizer/train/unigram_trie.h"

namespace llmtk {

inline constexpr double kUnkPenalty = 10.0;  // spm's: an unknown node scores the lowest piece's - this

struct LatticeNode {
  uint32_t start, length;
  int32_t piece;  // -1: unknown
  double score;
  double prob;    // exp(score)
};

// Forward-backward over a word's lattice (`nodes` by start, then length, as
// LatticeModel::Lattice gives them; n symbols): sets (*post)[j] to node j's
// posterior probability and returns log Z. Scaled linear arithmetic, one
// division per position, one log per word, none per node: each position's
// forward sum is normalized to 1 and the backward pass reuses the scales
// (the scaled HMM recursions), so a node's posterior is p x beta x the
// scales it spans. Falls back to NodePosteriorsLog when a scale leaves
// double's range (a long run of very unlikely positions).
double NodePosteriors(std::span<const LatticeNode> nodes, size_t n, std::vector<double>* post);
// The same in log space (log-sum-exp per node), the reference the scaled
// form is tested against.
double NodePosteriorsLog(std::span<const LatticeNode> nodes, size_t n, std::vector<double>* post);

class LatticeModel {
 public:
  // With a trie of its own.
  LatticeModel(PieceList pieces, size_t symbols);
  // With `trie` (built from these pieces or more: EM's earlier rounds);
  // one of its own when `trie` is null or lacks a piece.
  LatticeModel(PieceList pieces, size_t symbols, std::shared_ptr<const PieceTrie> trie);
  const PieceList& pieces() const { return pieces_; }
  const std::shared_ptr<const PieceTrie>& trie() const { return trie_; }
  double min_score() const { return min_score_; }
  // Every node of the lattice of s[0, n) (no kEndSymbol in it), by start
  // then length. The trie walks of up to kLanes starts go in lockstep, each
  // step's slot and piece prefetched a step ahead (unigram_lattice.cc): a
  // walk is a chain of dependent cache misses, and interleaving overlaps them.
  void Lattice(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes) const;
  // The lattices of several words, s[0, n) being words each followed by
  // kEndSymbol (as UnigramCorpus::syms): one after the other in *nodes,
  // starts counted from the word's, word w's ending at (*ends)[w]. More
  // walks to interleave than one short word has.
  void Lattices(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes, std::vector<uint32_t>* ends) const;
  // Lattice one start after the other: the plain walk the others are tested against.
  void LatticePlain(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes) const;
  static constexpr size_t kLanes = 64;
  // The best path's nodes (Viterbi; ties to the earlier start, as spm), or
  // with `skip_whole` the best path that does not take s as one node.
  void Viterbi(const uint32_t* s, size_t n, bool skip_whole, std::vector<LatticeNode>* scratch,
               std::vector<LatticeNode>* path) const;

 private:
  void Walk(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes, std::vector<uint32_t>* ends) const;

  PieceList pieces_;
  struct ScoreProb {
    double score, prob;  // prob = exp(score)
  };
  std::vector<ScoreProb, HugePageAllocator<ScoreProb>> score_prob_;  // per piece, together: a lattice node reads both
  std::shared_ptr<const PieceTrie> trie_;
  PieceTrie::Marks piece_of_;  // per trie slot (PieceTrie::Mark)
  double min_score_ = 0;
  double unk_ = 0, unk_prob_ = 1;  // an unknown node's score and exp(score)
};

// The best path through a lattice of n symbols (`nodes` as
// LatticeModel::Lattice gives them), as LatticeModel::Viterbi.
void BestPath(std::span<const LatticeNode> nodes, size_t n, bool skip_whole, std::vector<LatticeNode>* path);

// Every node of the lattice of s[0, n) under `pieces`, found by looking up
// every substring up to the longest piece in a hash map: the plain reference
// LatticeModel::Lattice is tested against.
void ReferenceLattice(const PieceList& pieces, const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes);

struct EmOptions {
  int vocab_size = 32000;     // the whole vocabulary (spm stops pruning at 1.1 x this)
  int final_pieces = 32000;   // pieces besides <unk>, <s>, </s> and bytes
  int num_sub_iterations = 2;
  double shrinking_factor = 0.75;
  int threads = 0;
  // Called after each EM round: round, pieces left, objective (negative log
  // likelihood per word occurrence).
  std::function<void(int round, size_t pieces, double objective)> on_round;
};

// Runs EM rounds from `seeds` until at most 1.1 x vocab_size pieces are left
// and returns the final pieces (every kept character included) by descending
// score; `rounds` gets the number of prune rounds.
PieceList TrainUnigramPieces(const UnigramCorpus& corpus, PieceList seeds, const EmOptions& o, int* rounds);

// Total tokens of the corpus's words under `pieces` (Viterbi), for
// bytes/token on the training text.
uint64_t CountViterbiTokens(const UnigramCorpus& corpus, const PieceList& pieces, int threads);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_EM_H_
