// tokenizer/train/unigram_trie: the Unigram trainer's pieces as a trie over
// symbol runs, the structure its lattices walk.
//
// The trie is one open-addressing hash table whose slots are its nodes: a
// node is the slot holding (parent, symbol), 8 bytes, so a step down is one
// short probe sequence in one array, usually one cache line, and a node's
// data (the piece it ends) is an array indexed by slot. The children of the
// root are a plain array by symbol. (Tried and measured worse: a double
// array, which with thousands of symbols left most slots empty or took
// seconds to pack; slots of 24 bytes holding the piece and score too, a 3x
// larger table that cost more misses than it saved.)
//
// EM only ever drops pieces, so a trie built from the seeds still holds
// every later piece: a PieceTrie is built now and then and shared by the
// LatticeModels of the following rounds, each marking which of its nodes
// end a live piece (Mark).
//
// Thread-safety: immutable after construction.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_

#include <cstdint>
#include <vector>

#include "lib/base/huge_pages.h"
#include "lib/tokenizer/train/unigram_seed.h"

namespace llmtk {

class PieceTrie {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFF;  // no such node
  static constexpr uint32_t kRoot = 0xFFFFFFFE;  // the root (not a slot)
  static constexpr int32_t kDead = -2;           // Mark: no live piece at or below the node
  static constexpr int32_t kPrefix = -1;         // Mark: a live piece below, none here
  // Tables of megabytes read at random (a walk's every step): on huge pages.
  using Marks = std::vector<int32_t, HugePageAllocator<int32_t>>;

  // The trie of `pieces` (symbols < `symbols`).
  PieceTrie(const PieceList& pieces, size_t symbols);

  uint32_t Child(uint32_t node, uint32_t sym) const {
    if (node == kRoot) return root_[sym];
    return ChildFrom(ProbeStart(node, sym), node, sym);
  }
  // A step split in two, for walks interleaved by the caller (the lattice's):
  // where the probe for (node, sym) starts (node not the root), to prefetch
  // it a while before ChildFrom looks there.
  uint32_t RootChild(uint32_t sym) const { return root_[sym]; }
  size_t ProbeStart(uint32_t node, uint32_t sym) const { return Hash(node, sym); }
  void PrefetchSlot(size_t h) const { __builtin_prefetch(&keys_[h]); }
  uint32_t ChildFrom(size_t h, uint32_t node, uint32_t sym) const {
    for (;; h = (h + 1) & mask_) {
      const Key k = keys_[h];
      if (k.parent == node && k.sym == sym) return static_cast<uint32_t>(h);
      if (k.parent == kNone) return kNone;
    }
  }
  // The node of the run s[0, n) (n >= 1), or kNone.
  uint32_t Find(const uint32_t* s, size_t n) const;
  // Per slot, for `pieces` (each in this trie): the index of the first piece
  // the node ends, else kPrefix or kDead. False when a piece is not in the
  // trie.
  bool Mark(const PieceList& pieces, Marks* piece_of) const;

  size_t pieces() const { return pieces_; }
  size_t slots() const { return keys_.size(); }
  size_t nodes() const { return nodes_; }
  size_t depth() const { return depth_; }  // the longest piece's length

 private:
  struct Key {
    uint32_t parent;  // kNone: an empty slot
    uint32_t sym;
  };
  size_t Hash(uint32_t node, uint32_t sym) const {
    const uint64_t x = ((static_cast<uint64_t>(node) << 32) | sym) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(x >> shift_);
  }
  std::vector<uint32_t> root_;  // the root's child per symbol
  std::vector<Key, HugePageAllocator<Key>> keys_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t nodes_ = 0, pieces_ = 0, depth_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRIE_H_
