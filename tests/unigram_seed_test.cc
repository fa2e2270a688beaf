// The Unigram seed vocabulary (lib/tokenizer/train/unigram_seed): the packed
// suffix sort against the plain comparator sort it replaces.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/train/unigram_corpus.h"
#include "lib/tokenizer/train/unigram_seed.h"

namespace llmtk {
namespace {

// Words over a small alphabet with long shared prefixes (so suffixes tie on
// more than the 8 packed symbols), some ending lines, some with a rare
// character (U+2585 after coverage).
WordCountMap SampleWords() {
  std::mt19937 rng(7);
  const std::vector<char32_t> alphabet = {U'a', U'b', U'c', U'\u0301', U'1', U'.', U'\u4e00', U'\u3042'};
  const std::vector<std::u32string> stems = {U"abcabcabcab", U"aaaaaaaaaaaaaaaaaaaa", U"ab1.ab1."};
  WordCountMap words;
  for (int i = 0; i < 3000; ++i) {
    std::u32string w = U"\u2581";
    if (i % 3 == 0) w += stems[i % stems.size()];
    const int len = 1 + static_cast<int>(rng() % 14);
    for (int k = 0; k < len; ++k) w += alphabet[rng() % alphabet.size()];
    if (i % 997 == 0) w += U'\u0416';  // rare: below the coverage
    std::string key;
    for (char32_t c : w) AppendUtf8(&key, c);
    if (i % 5 == 0) key.push_back(kLineEndMark);
    words[key] += 1 + rng() % 50;
  }
  return words;
}

TEST(UnigramSeed, PackedSuffixSortGivesThePlainSeeds) {
  auto corpus = BuildUnigramCorpus(SampleWords(), 0.9995);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  ASSERT_NE(std::find(corpus->syms.begin(), corpus->syms.end(), kRareSymbol), corpus->syms.end());
  // cap - 1 below, at and above the 8 packed symbols.
  for (int max_length : {4, 8, 16}) {
    PieceRules rules;
    rules.max_length = max_length;
    auto validator = PieceValidator::Make(corpus->chars, rules);
    ASSERT_TRUE(validator.ok());
    for (int threads : {1, 2}) {
      SCOPED_TRACE(testing::Message() << "max_length " << max_length << ", threads " << threads);
      auto plain = MakeSeedPieces(*corpus, *validator, max_length, 100000, threads, SuffixSort::kPlain);
      auto packed = MakeSeedPieces(*corpus, *validator, max_length, 100000, threads, SuffixSort::kPacked);
      ASSERT_TRUE(plain.ok() && packed.ok());
      EXPECT_GT(plain->size(), corpus->symbols() + 500);  // many substrings, not just characters
      EXPECT_EQ(packed->syms, plain->syms);
      EXPECT_EQ(packed->offsets, plain->offsets);
      EXPECT_EQ(packed->scores, plain->scores);
      // A smaller seed size cuts the same ranking.
      auto cut_plain = MakeSeedPieces(*corpus, *validator, max_length, 300, threads, SuffixSort::kPlain);
      auto cut_packed = MakeSeedPieces(*corpus, *validator, max_length, 300, threads, SuffixSort::kPacked);
      ASSERT_TRUE(cut_plain.ok() && cut_packed.ok());
      EXPECT_EQ(cut_packed->syms, cut_plain->syms);
      EXPECT_EQ(cut_packed->scores, cut_plain->scores);
    }
  }
}

}  // namespace
}  // namespace llmtk
