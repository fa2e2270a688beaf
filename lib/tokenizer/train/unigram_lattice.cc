// LatticeModel::Lattice and Lattices, the interleaved trie walk
// (unigram_em.h). Each start's walk down the trie is a chain of dependent
// loads (a slot, then the piece it ends, then that piece's score), nearly
// all cache misses on the large tries of the first rounds; one walk at a
// time leaves the core waiting on each. Here up to kLanes starts (of one
// word or of several) take one step each per pass, the loads of a lane's
// next step prefetched in this one, so their misses overlap. The nodes are
// the plain walk's (LatticePlain), in its order.
#include <algorithm>
#include <vector>

#include "lib/tokenizer/train/unigram_em.h"

namespace llmtk {

void LatticeModel::Lattice(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes) const {
  nodes->clear();
  Walk(s, n, nodes, nullptr);
}

void LatticeModel::Lattices(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes,
                            std::vector<uint32_t>* ends) const {
  nodes->clear();
  ends->clear();
  Walk(s, n, nodes, ends);
}

void LatticeModel::Walk(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes,
                        std::vector<uint32_t>* ends) const {
  const PieceTrie& trie = *trie_;
  const int32_t* piece_of = piece_of_.data();
  // found[l * depth + d]: the piece (or kPrefix/kDead) of lane l's run of d + 1 symbols.
  const size_t depth = std::max<size_t>(1, trie.depth());
  thread_local std::vector<int32_t> found;
  if (found.size() < kLanes * depth) found.resize(kLanes * depth);
  size_t word_start = 0;
  for (size_t base = 0; base < n; base += kLanes) {
    const uint32_t lanes = static_cast<uint32_t>(std::min(kLanes, n - base));
    uint32_t node[kLanes], len[kLanes], live[kLanes];
    size_t slot[kLanes];
    uint32_t nlive = 0;
    // A live lane between passes: its node at depth d (piece_of there
    // prefetched) and, when the text goes on, the probe start of its next
    // step (prefetched). kEndSymbol starts no piece and is in none, so a
    // walk stops at a word's end.
    for (uint32_t l = 0; l < lanes; ++l) {
      const size_t i = base + l;
      node[l] = trie.RootChild(s[i]);
      len[l] = 1;
      if (node[l] == PieceTrie::kNone) {
        found[l * depth] = PieceTrie::kDead;
        continue;
      }
      __builtin_prefetch(piece_of + node[l]);
      if (i + 1 < n) {
        slot[l] = trie.ProbeStart(node[l], s[i + 1]);
        trie.PrefetchSlot(slot[l]);
      }
      live[nlive++] = l;
    }
    for (uint32_t d = 0; nlive > 0; ++d) {
      uint32_t next = 0;
      for (uint32_t q = 0; q < nlive; ++q) {
        const uint32_t l = live[q];
        const int32_t p = piece_of[node[l]];
        found[l * depth + d] = p;
        len[l] = d + 1;
        if (p >= 0) __builtin_prefetch(&score_prob_[p]);
        const size_t k = base + l + d + 1;  // the next symbol
        if (p == PieceTrie::kDead || k >= n) continue;
        const uint32_t child = trie.ChildFrom(slot[l], node[l], s[k]);
        if (child == PieceTrie::kNone) continue;
        node[l] = child;
        __builtin_prefetch(piece_of + child);
        if (k + 1 < n) {
          slot[l] = trie.ProbeStart(child, s[k + 1]);
          trie.PrefetchSlot(slot[l]);
        }
        live[next++] = l;
      }
      nlive = next;
    }
    for (uint32_t l = 0; l < lanes; ++l) {
      const size_t i = base + l;
      if (s[i] == kEndSymbol) {
        if (ends) ends->push_back(static_cast<uint32_t>(nodes->size()));
        word_start = i + 1;
        continue;
      }
      const uint32_t start = static_cast<uint32_t>(i - word_start);
      const int32_t* f = &found[l * depth];
      // No one-symbol piece here: an unknown node (first, keeping lengths in order).
      if (f[0] < 0) nodes->push_back({start, 1, -1, unk_, unk_prob_});
      for (uint32_t d = 0; d < len[l]; ++d) {
        if (f[d] < 0) continue;
        const ScoreProb sp = score_prob_[f[d]];
        nodes->push_back({start, d + 1, f[d], sp.score, sp.prob});
      }
    }
  }
}

}  // namespace llmtk
