// The Unigram trainer's lattice (lib/tokenizer/train/unigram_trie,
// LatticeModel::Lattice) against the hash-map reference (ReferenceLattice),
// on a fresh trie and on one shared after pieces were dropped; the
// interleaved walk (Lattice) and the plain one (LatticePlain) both.
#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "lib/tokenizer/train/unigram_em.h"
#include "lib/tokenizer/train/unigram_trie.h"

namespace llmtk {
namespace {

constexpr size_t kSymbols = 400;

// Symbols 2..399, a few very frequent, most rare (as characters are), and
// U+2585's symbol now and then.
uint32_t RandomSymbol(std::mt19937& rng) {
  const uint32_t r = rng() % 1000;
  if (r < 5) return kRareSymbol;
  if (r < 700) return 2 + r % 10;
  if (r < 950) return 2 + r % 60;
  return 2 + rng() % (kSymbols - 2);
}

PieceList RandomPieces(std::mt19937& rng, size_t runs) {
  std::set<std::vector<uint32_t>> set;
  // Every symbol but a few (their positions get unknown nodes).
  for (uint32_t s = 2; s < kSymbols; ++s)
    if (s % 37 != 5) set.insert({s});
  while (set.size() < runs) {
    std::vector<uint32_t> run(2 + rng() % 9);
    for (uint32_t& s : run) {
      do s = RandomSymbol(rng); while (s == kRareSymbol);
    }
    set.insert(run);
  }
  std::vector<std::vector<uint32_t>> shuffled(set.begin(), set.end());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  PieceList p;
  for (const auto& run : shuffled) p.Add(run.data(), run.size(), -1.0 - (rng() % 100000) / 5000.0);
  return p;
}

std::vector<std::vector<uint32_t>> RandomWords(std::mt19937& rng, const PieceList& pieces, size_t count) {
  std::vector<std::vector<uint32_t>> words(count);
  for (auto& w : words) {
    const size_t parts = 1 + rng() % 8;
    for (size_t k = 0; k < parts; ++k) {
      if (rng() % 3 == 0) {
        w.push_back(RandomSymbol(rng));
      } else {
        const size_t i = rng() % pieces.size();
        w.insert(w.end(), pieces.begin(i), pieces.begin(i) + pieces.length(i));
      }
    }
  }
  return words;
}

void ExpectSameNodes(const std::vector<LatticeNode>& got, const std::vector<LatticeNode>& want, size_t w) {
  ASSERT_EQ(got.size(), want.size()) << "word " << w;
  for (size_t j = 0; j < want.size(); ++j) {
    EXPECT_EQ(got[j].start, want[j].start) << "word " << w << " node " << j;
    EXPECT_EQ(got[j].length, want[j].length) << "word " << w << " node " << j;
    EXPECT_EQ(got[j].piece, want[j].piece) << "word " << w << " node " << j;
    EXPECT_EQ(got[j].score, want[j].score) << "word " << w << " node " << j;
    EXPECT_EQ(got[j].prob, want[j].prob) << "word " << w << " node " << j;
  }
}

// The trie walks, interleaved (Lattice, and Lattices on all the words at
// once) and plain, against the reference.
void ExpectSameLattices(const LatticeModel& m, const std::vector<std::vector<uint32_t>>& words) {
  std::vector<LatticeNode> got, plain, want, all;
  std::vector<uint32_t> text, ends;
  for (const auto& w : words) {
    text.insert(text.end(), w.begin(), w.end());
    text.push_back(kEndSymbol);
  }
  m.Lattices(text.data(), text.size(), &all, &ends);
  ASSERT_EQ(ends.size(), words.size());
  size_t nodes = 0, long_words = 0;
  for (size_t w = 0; w < words.size(); ++w) {
    m.Lattice(words[w].data(), words[w].size(), &got);
    m.LatticePlain(words[w].data(), words[w].size(), &plain);
    ReferenceLattice(m.pieces(), words[w].data(), words[w].size(), &want);
    ExpectSameNodes(got, want, w);
    ExpectSameNodes(plain, want, w);
    const size_t first = w ? ends[w - 1] : 0;
    ExpectSameNodes(std::vector<LatticeNode>(all.begin() + first, all.begin() + ends[w]), want, w);
    nodes += want.size();
    long_words += words[w].size() > 2 * LatticeModel::kLanes;
  }
  EXPECT_GT(nodes, 4 * words.size());  // the lattices are not trivial
  EXPECT_GE(long_words, 3u);           // some words span several groups of lanes
}

TEST(UnigramTrie, FindsEveryPieceAndNothingElse) {
  std::mt19937 rng(11);
  const PieceList pieces = RandomPieces(rng, 6000);
  const PieceTrie trie(pieces, kSymbols);
  PieceTrie::Marks piece_of;
  ASSERT_TRUE(trie.Mark(pieces, &piece_of));
  for (size_t i = 0; i < pieces.size(); ++i) {
    const uint32_t node = trie.Find(pieces.begin(i), pieces.length(i));
    ASSERT_NE(node, PieceTrie::kNone) << "piece " << i;
    EXPECT_EQ(piece_of[node], static_cast<int32_t>(i));
  }
  const uint32_t rare[] = {kRareSymbol}, unknown[] = {5 + 37};
  EXPECT_EQ(trie.Find(rare, 1), PieceTrie::kNone);
  ASSERT_NE(trie.Find(unknown, 1), PieceTrie::kNone);
  EXPECT_EQ(piece_of[trie.Find(unknown, 1)], PieceTrie::kPrefix);  // only longer pieces start with it
  // Between a quarter and half the slots are nodes.
  EXPECT_LE(trie.slots(), 4 * trie.nodes());
  EXPECT_GE(trie.slots(), 2 * trie.nodes());
  PieceList more;
  const uint32_t absent[] = {kSymbols - 1, kSymbols - 1, kSymbols - 1, kSymbols - 1, 2, 2, 2, 2, 2, 2, 2, 2, 2};
  more.Add(absent, 13, -1);
  EXPECT_FALSE(trie.Mark(more, &piece_of));
}

TEST(UnigramLattice, TrieMatchesTheReference) {
  std::mt19937 rng(5);
  PieceList pieces = RandomPieces(rng, 8000);
  auto words = RandomWords(rng, pieces, 200);
  // Three words of over 2 x kLanes symbols: the walks of one word in several groups.
  for (size_t k = 0; k < 3; ++k) {
    std::vector<uint32_t> w;
    for (size_t j = 0; w.size() <= 2 * LatticeModel::kLanes; ++j) w.insert(w.end(), words[j + k].begin(), words[j + k].end());
    words.push_back(w);
  }
  const LatticeModel fresh(pieces, kSymbols);
  ExpectSameLattices(fresh, words);

  // Two thirds of the pieces dropped (every one-symbol piece kept but some),
  // the rest rescored: the first trie is shared, its dead branches skipped.
  PieceList fewer;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces.length(i) > 1 ? rng() % 3 != 0 : i % 7 == 0) continue;
    fewer.Add(pieces.begin(i), pieces.length(i), pieces.scores[i] * 0.5 - 1);
  }
  const LatticeModel shared(fewer, kSymbols, fresh.trie());
  EXPECT_EQ(shared.trie().get(), fresh.trie().get());
  ExpectSameLattices(shared, words);
  const LatticeModel own(fewer, kSymbols);
  EXPECT_NE(own.trie().get(), fresh.trie().get());
  std::vector<LatticeNode> scratch, a, b;
  for (const auto& w : words) {
    shared.Viterbi(w.data(), w.size(), false, &scratch, &a);
    own.Viterbi(w.data(), w.size(), false, &scratch, &b);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].piece, b[j].piece);
  }

  // A piece the trie lacks: the model builds its own.
  const uint32_t absent[] = {kSymbols - 1, kSymbols - 2, kSymbols - 1, kSymbols - 2, kSymbols - 1, kSymbols - 2};
  fewer.Add(absent, 6, -3);
  const LatticeModel rebuilt(fewer, kSymbols, fresh.trie());
  EXPECT_NE(rebuilt.trie().get(), fresh.trie().get());
  ExpectSameLattices(rebuilt, words);
}

}  // namespace
}  // namespace llmtk
