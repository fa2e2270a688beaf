// tokenizer/train/unigram_trie: the Unigram trainer's pieces as a
// double-array trie over symbol runs, the structure its lattices walk.
//
// A node's child by symbol s sits at slot base[node] + s when check[that
// slot] == node: one memory access per step (base and check share a slot),
// where a hash table over (node, symbol) pairs cost a hash and usually two.
//
// EM only ever drops pieces, so a trie built from the seeds still holds
// every later piece: a PieceTrie is built now and then and shared by the
// LatticeModels of the following rounds, each marking which of its nodes
// end a live piece (PieceTrie::Mark).
//
// Thread-safety: immutable after construction.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_

#include <cstdint>
#include <vector>

#include "lib/tokenizer/train/unigram_seed.h"

namespace llmtk {

class PieceTrie {
 public:
  static constexpr uint32_t kNone = 0;    // no such child (the root is never one)
  static constexpr int32_t kDead = -2;    // Mark: no live piece at or below the node
  static constexpr int32_t kPrefix = -1;  // Mark: a live piece below, none here

  // The trie of `pieces` (symbols < `symbols`).
  PieceTrie(const PieceList& pieces, size_t symbols);

  uint32_t Child(uint32_t node, uint32_t sym) const {
    const uint32_t t = units_[node].base + sym;  // in range: the array is padded by `symbols`
    return units_[t].check == node ? t : kNone;
  }
  // The node of the run s[0, n), or kNone.
  uint32_t Find(const uint32_t* s, size_t n) const;
  // Per slot, for `pieces` (each in this trie): the index of the piece the
  // node ends, else kPrefix or kDead. False when a piece is not in the trie.
  bool Mark(const PieceList& pieces, std::vector<int32_t>* piece_of) const;

  size_t pieces() const { return pieces_; }
  size_t slots() const { return units_.size(); }
  size_t nodes() const { return order_.size(); }

 private:
  struct Unit {
    uint32_t base;
    uint32_t check;  // the parent's slot; kFree when unused
  };
  static constexpr uint32_t kFree = 0xFFFFFFFF;
  std::vector<Unit> units_;
  std::vector<uint32_t> order_;  // every node, parents before children
  size_t pieces_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_
