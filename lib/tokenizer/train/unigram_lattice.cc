// The Unigram trainer's lattices (unigram_em.h): LatticeModel::Lattice and
// Lattices, the interleaved trie walk; LatticePlain and ReferenceLattice,
// the plain walk and the hash-map lookup they are tested against; Viterbi.
//
// Each start's walk down the trie is a chain of dependent loads (a slot,
// then the piece it ends, then that piece's score), nearly all cache misses
// on the large tries of the first rounds; one walk at a time leaves the core
// waiting on each. In Walk up to kLanes starts (of one word or of several)
// take one step each per pass, the loads of a lane's next step prefetched in
// this one, so their misses overlap. The nodes are the plain walk's, in its
// order.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/tokenizer/train/unigram_em.h"

namespace llmtk {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

}  // namespace

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

void LatticeModel::LatticePlain(const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes) const {
  nodes->clear();
  const double unk = unk_, unk_prob = unk_prob_;
  const PieceTrie& trie = *trie_;
  const int32_t* piece_of = piece_of_.data();
  for (size_t i = 0; i < n; ++i) {
    uint32_t node = trie.Child(PieceTrie::kRoot, s[i]);
    int32_t p = node == PieceTrie::kNone ? PieceTrie::kDead : piece_of[node];
    // No one-symbol piece here: an unknown node (first, keeping lengths in order).
    if (p < 0) nodes->push_back({static_cast<uint32_t>(i), 1, -1, unk, unk_prob});
    size_t k = i;
    while (p != PieceTrie::kDead) {
      if (p >= 0) {
        const ScoreProb sp = score_prob_[p];
        nodes->push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(k - i + 1), p, sp.score, sp.prob});
      }
      if (++k >= n) break;
      node = trie.Child(node, s[k]);
      if (node == PieceTrie::kNone) break;
      p = piece_of[node];
    }
  }
}

void ReferenceLattice(const PieceList& pieces, const uint32_t* s, size_t n, std::vector<LatticeNode>* nodes) {
  absl::flat_hash_map<std::vector<uint32_t>, int32_t> index;
  size_t longest = 0;
  double min_score = pieces.size() ? std::numeric_limits<double>::infinity() : 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    index.try_emplace(std::vector<uint32_t>(pieces.begin(i), pieces.begin(i) + pieces.length(i)),
                      static_cast<int32_t>(i));
    longest = std::max(longest, pieces.length(i));
    min_score = std::min(min_score, pieces.scores[i]);
  }
  const double unk = min_score - kUnkPenalty;
  nodes->clear();
  for (size_t i = 0; i < n; ++i) {
    for (size_t len = 1; len <= longest && i + len <= n; ++len) {
      auto it = index.find(std::vector<uint32_t>(s + i, s + i + len));
      if (it == index.end()) {
        if (len == 1) nodes->push_back({static_cast<uint32_t>(i), 1, -1, unk, std::exp(unk)});
        continue;
      }
      const double sc = pieces.scores[it->second];
      nodes->push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(len), it->second, sc, std::exp(sc)});
    }
  }
}

void LatticeModel::Viterbi(const uint32_t* s, size_t n, bool skip_whole, std::vector<LatticeNode>* scratch,
                           std::vector<LatticeNode>* path) const {
  Lattice(s, n, scratch);
  BestPath(*scratch, n, skip_whole, path);
}

void BestPath(std::span<const LatticeNode> nodes, size_t n, bool skip_whole, std::vector<LatticeNode>* path) {
  thread_local std::vector<double> best;
  thread_local std::vector<int64_t> back;
  best.assign(n + 1, kNegInf);
  back.assign(n + 1, -1);
  best[0] = 0;
  for (size_t j = 0; j < nodes.size(); ++j) {
    const LatticeNode& x = nodes[j];
    if (skip_whole && x.start == 0 && x.length == n) continue;
    if (best[x.start] == kNegInf) continue;
    const double cand = best[x.start] + x.score;
    if (cand > best[x.start + x.length]) {
      best[x.start + x.length] = cand;
      back[x.start + x.length] = static_cast<int64_t>(j);
    }
  }
  path->clear();
  for (size_t pos = n; pos > 0 && back[pos] >= 0;) {
    const LatticeNode& x = nodes[back[pos]];
    path->push_back(x);
    pos = x.start;
  }
  std::reverse(path->begin(), path->end());
}

}  // namespace llmtk
