// tokenizer/train/unigram_trie: the Unigram trainer's pieces as a trie over
// symbol runs, the structure its lattices walk.
//
// The trie is one open-addressing hash table whose slots are its nodes: a
// node is the slot holding (parent, symbol), and the slot also holds the
// piece the node ends and its score, so a step down and what it yields are
// one probe sequence in one array, usually one cache line (a lattice walk is
// bound by these misses). The children of the root are a plain array by
// symbol. (A double array was tried first: with thousands of symbols it
// left most slots empty or took seconds to pack.)
//
// EM only ever drops pieces, so a trie built from the seeds still holds
// every later piece: a PieceTrie is built now and then and handed from one
// LatticeModel to the next, each marking which nodes end a live piece
// (Mark).
//
// Thread-safety: Mark writes; the rest reads.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_

#include <cstdint>
#include <vector>

#include "lib/tokenizer/train/unigram_seed.h"

namespace llmtk {

class PieceTrie {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFF;  // no such node
  static constexpr uint32_t kRoot = 0xFFFFFFFE;  // the root (not a slot)
  static constexpr int32_t kDead = -2;           // Mark: no live piece at or below the node
  static constexpr int32_t kPrefix = -1;         // Mark: a live piece below, none here

  struct Slot {
    uint32_t parent;  // kNone: an empty slot
    uint32_t sym;
    int32_t piece;    // Mark's: the piece index, kPrefix or kDead
    double score;     // the piece's
  };

  // The trie of `pieces` (symbols < `symbols`), not marked.
  PieceTrie(const PieceList& pieces, size_t symbols);

  uint32_t Child(uint32_t node, uint32_t sym) const {
    if (node == kRoot) return root_[sym];
    for (size_t h = Hash(node, sym);; h = (h + 1) & mask_) {
      const Slot& x = slots_[h];
      if (x.parent == node && x.sym == sym) return static_cast<uint32_t>(h);
      if (x.parent == kNone) return kNone;
    }
  }
  const Slot& slot(uint32_t node) const { return slots_[node]; }
  // The node of the run s[0, n) (n >= 1), or kNone.
  uint32_t Find(const uint32_t* s, size_t n) const;
  // Sets every node's piece (the first of `pieces` it ends, else kPrefix or
  // kDead) and score. False when a piece is not in the trie (then the marks
  // are partial).
  bool Mark(const PieceList& pieces);

  size_t pieces() const { return pieces_; }
  size_t slots() const { return slots_.size(); }
  size_t nodes() const { return nodes_; }

 private:
  size_t Hash(uint32_t node, uint32_t sym) const {
    const uint64_t x = ((static_cast<uint64_t>(node) << 32) | sym) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(x >> shift_);
  }
  std::vector<uint32_t> root_;  // the root's child per symbol
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t nodes_ = 0, pieces_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_
