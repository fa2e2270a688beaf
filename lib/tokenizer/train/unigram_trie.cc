#include "lib/tokenizer/train/unigram_trie.h"

#include <algorithm>
#include <numeric>

namespace llmtk {
namespace {

constexpr uint32_t kRootCheck = 0xFFFFFFFE;  // never a node's slot
constexpr uint32_t kNoSlot = 0xFFFFFFFF;
// A node's base is searched among the free slots, at most kTries of them
// (then past the end), and at most kMaxListed free slots are remembered (the
// oldest forgotten), so building stays linear whatever the alphabet; the
// price is some unused slots.
constexpr int kTries = 256;
constexpr size_t kMaxListed = 1 << 16;

}  // namespace

PieceTrie::PieceTrie(const PieceList& p, size_t symbols) : pieces_(p.size()) {
  // Pieces sorted by their runs: a node's pieces are a contiguous range, its
  // own piece (the shortest) first, each child's after it in symbol order.
  std::vector<uint32_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0u);
  std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
    const uint32_t *x = p.begin(a), *y = p.begin(b);
    const size_t nx = p.length(a), ny = p.length(b);
    const size_t m = std::min(nx, ny);
    for (size_t k = 0; k < m; ++k)
      if (x[k] != y[k]) return x[k] < y[k];
    return nx != ny ? nx < ny : a < b;
  });

  // The free slots, a list in slot order.
  std::vector<uint32_t> next, prev;
  std::vector<uint8_t> listed;
  uint32_t head = kNoSlot, tail = kNoSlot;
  size_t listed_count = 0;
  auto unlink = [&](uint32_t s) {
    if (prev[s] != kNoSlot) next[prev[s]] = next[s]; else head = next[s];
    if (next[s] != kNoSlot) prev[next[s]] = prev[s]; else tail = prev[s];
    listed[s] = 0;
    --listed_count;
  };
  auto grow = [&](size_t size) {
    while (units_.size() < size) {
      const uint32_t s = static_cast<uint32_t>(units_.size());
      units_.push_back({0, kFree});
      next.push_back(kNoSlot);
      prev.push_back(tail);
      listed.push_back(1);
      if (tail != kNoSlot) next[tail] = s; else head = s;
      tail = s;
      ++listed_count;
    }
  };
  units_.push_back({0, kRootCheck});
  next.push_back(kNoSlot);
  prev.push_back(kNoSlot);
  listed.push_back(0);
  grow(symbols + 1);

  struct Item {
    uint32_t slot, lo, hi, depth;
  };
  // Depth first (a stack): a node's children are placed soon after it, near
  // where a walk down the trie reads next.
  std::vector<Item> stack = {{0, 0, static_cast<uint32_t>(p.size()), 0}};
  std::vector<uint32_t> labels, starts;
  uint32_t max_base = 0;
  order_.reserve(p.size() * 2);
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    order_.push_back(it.slot);
    uint32_t lo = it.lo;
    while (lo < it.hi && p.length(idx[lo]) == it.depth) ++lo;
    labels.clear();
    starts.clear();
    for (uint32_t k = lo; k < it.hi; ++k) {
      const uint32_t s = p.begin(idx[k])[it.depth];
      if (labels.empty() || labels.back() != s) {
        labels.push_back(s);
        starts.push_back(k);
      }
    }
    if (labels.empty()) continue;
    starts.push_back(it.hi);
    while (listed_count > kMaxListed) unlink(head);
    const uint32_t first = labels.front(), last = labels.back();
    uint32_t base = kNoSlot;
    int tries = 0;
    for (uint32_t f = head; f != kNoSlot && tries < kTries; f = next[f]) {
      if (f < first) continue;
      ++tries;
      const uint32_t b = f - first;
      grow(static_cast<size_t>(b) + last + 1);
      bool fits = true;
      for (size_t l = 1; l < labels.size() && fits; ++l) fits = units_[b + labels[l]].check == kFree;
      if (fits) {
        base = b;
        break;
      }
    }
    if (base == kNoSlot) {  // past the end: every slot from there is free
      base = static_cast<uint32_t>(std::max<size_t>(units_.size(), first) - first);
      grow(static_cast<size_t>(base) + last + 1);
    }
    units_[it.slot].base = base;
    max_base = std::max(max_base, base);
    for (size_t l = labels.size(); l-- > 0;) {
      const uint32_t s = base + labels[l];
      units_[s].check = it.slot;
      if (listed[s]) unlink(s);
      stack.push_back({s, starts[l], starts[l + 1], it.depth + 1});
    }
  }
  // Child reads base + symbol for any symbol: pad so that stays inside.
  const size_t end = static_cast<size_t>(max_base) + symbols + 1;
  if (units_.size() < end) units_.resize(end, {0, kFree});
  units_.shrink_to_fit();
  order_.shrink_to_fit();
}

uint32_t PieceTrie::Find(const uint32_t* s, size_t n) const {
  uint32_t node = 0;
  for (size_t k = 0; k < n; ++k) {
    node = Child(node, s[k]);
    if (node == kNone) return kNone;
  }
  return node;
}

bool PieceTrie::Mark(const PieceList& pieces, std::vector<int32_t>* piece_of) const {
  piece_of->assign(units_.size(), kDead);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const uint32_t node = Find(pieces.begin(i), pieces.length(i));
    if (node == kNone) return false;
    if ((*piece_of)[node] < 0) (*piece_of)[node] = static_cast<int32_t>(i);
  }
  // Children before parents: a node with anything live below is a prefix.
  for (size_t k = order_.size(); k-- > 1;) {
    const uint32_t node = order_[k];
    if ((*piece_of)[node] == kDead) continue;
    int32_t& parent = (*piece_of)[units_[node].check];
    if (parent == kDead) parent = kPrefix;
  }
  return true;
}

}  // namespace llmtk
