#include "lib/tokenizer/train/unigram_trie.h"

#include <algorithm>
#include <numeric>

namespace llmtk {

PieceTrie::PieceTrie(const PieceList& p, size_t symbols) : root_(symbols, kNone), pieces_(p.size()) {
  // The nodes (distinct prefixes): in sorted order, each piece adds the
  // symbols it does not share with the one before.
  size_t count = 0;
  {
    std::vector<uint32_t> idx(p.size());
    std::iota(idx.begin(), idx.end(), 0u);
    auto run_less = [&](uint32_t a, uint32_t b) {
      return std::lexicographical_compare(p.begin(a), p.begin(a) + p.length(a), p.begin(b), p.begin(b) + p.length(b));
    };
    std::sort(idx.begin(), idx.end(), run_less);
    for (size_t k = 0; k < idx.size(); ++k) {
      size_t shared = 0;
      if (k > 0) {
        const uint32_t *a = p.begin(idx[k - 1]), *b = p.begin(idx[k]);
        const size_t m = std::min(p.length(idx[k - 1]), p.length(idx[k]));
        while (shared < m && a[shared] == b[shared]) ++shared;
      }
      count += p.length(idx[k]) - shared;
    }
  }
  // Slots for at most half full: probes stay short.
  size_t size = 16;
  int bits = 4;
  while (size < 2 * count) {
    size *= 2;
    ++bits;
  }
  keys_.assign(size, {kNone, 0});
  mask_ = size - 1;
  shift_ = 64 - bits;
  size_t used = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const uint32_t* s = p.begin(i);
    uint32_t& first = root_[s[0]];
    if (first == kNone) {
      // A root child gets a slot too (its children hang from it): any free one.
      for (size_t h = Hash(kRoot, s[0]);; h = (h + 1) & mask_) {
        if (keys_[h].parent == kNone) {
          keys_[h] = {kRoot, s[0]};
          first = static_cast<uint32_t>(h);
          ++used;
          break;
        }
      }
    }
    depth_ = std::max<size_t>(depth_, p.length(i));
    uint32_t node = first;
    for (size_t k = 1; k < p.length(i); ++k) {
      size_t h = Hash(node, s[k]);
      for (; keys_[h].parent != kNone; h = (h + 1) & mask_) {
        if (keys_[h].parent == node && keys_[h].sym == s[k]) break;
      }
      if (keys_[h].parent == kNone) {
        keys_[h] = {node, s[k]};
        ++used;
      }
      node = static_cast<uint32_t>(h);
    }
  }
  nodes_ = used;
}

uint32_t PieceTrie::Find(const uint32_t* s, size_t n) const {
  uint32_t node = kRoot;
  for (size_t k = 0; k < n && node != kNone; ++k) node = Child(node, s[k]);
  return n == 0 ? kNone : node;
}

bool PieceTrie::Mark(const PieceList& pieces, Marks* piece_of) const {
  piece_of->assign(keys_.size(), kDead);
  std::vector<uint32_t> node_of(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const uint32_t node = Find(pieces.begin(i), pieces.length(i));
    if (node == kNone) return false;
    node_of[i] = node;
    if ((*piece_of)[node] < 0) (*piece_of)[node] = static_cast<int32_t>(i);
  }
  // Every ancestor of a piece's node is a prefix. A walk up stops at a node
  // already marked: a piece's (its own walk covers what is above) or a
  // prefix (marked by a walk that went on up).
  for (const uint32_t node : node_of) {
    for (uint32_t x = keys_[node].parent; x != kRoot && (*piece_of)[x] == kDead; x = keys_[x].parent) {
      (*piece_of)[x] = kPrefix;
    }
  }
  return true;
}

}  // namespace llmtk
