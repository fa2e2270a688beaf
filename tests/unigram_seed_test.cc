// The Unigram trainer's seed pieces (lib/tokenizer/train/unigram_seed):
// the keyed suffix sort (SeedSort::kKeyed) against the plain one, on random
// words that share long prefixes and end both ways (before a space and at a
// line's end), for piece lengths below, at and above the key's 4 symbols.
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "lib/tokenizer/train/unigram_corpus.h"
#include "lib/tokenizer/train/unigram_seed.h"

namespace llmtk {
namespace {

TEST(UnigramSeeds, KeyedSortGivesThePlainSeeds) {
  std::mt19937 rng(7);
  // Few letters, so that suffixes tie on their first symbols often.
  const std::string letters[] = {"a", "b", "c", "d", "\xC3\xA9", "1"};
  WordCountMap words;
  for (int i = 0; i < 3000; ++i) {
    std::string w = rng() % 4 ? "\xE2\x96\x81" : "";
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) w += letters[rng() % (k < 4 ? 2 : 6)];
    if (rng() % 5 == 0) w.push_back(kLineEndMark);
    words[w] += 1 + rng() % 50;
  }
  auto corpus = BuildUnigramCorpus(words, 1.0);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  for (int max_length : {2, 4, 5, 16}) {
    PieceRules rules;
    rules.max_length = max_length;
    auto validator = PieceValidator::Make(corpus->chars, rules);
    ASSERT_TRUE(validator.ok()) << validator.status();
    auto keyed = MakeSeedPieces(*corpus, *validator, max_length, 2000, 2, SeedSort::kKeyed);
    auto plain = MakeSeedPieces(*corpus, *validator, max_length, 2000, 2, SeedSort::kPlain);
    ASSERT_TRUE(keyed.ok() && plain.ok());
    EXPECT_GT(keyed->size(), max_length == 2 ? 20u : 500u) << "max_length " << max_length;
    EXPECT_EQ(keyed->syms, plain->syms) << "max_length " << max_length;
    EXPECT_EQ(keyed->offsets, plain->offsets) << "max_length " << max_length;
    EXPECT_EQ(keyed->scores, plain->scores) << "max_length " << max_length;
  }
}

}  // namespace
}  // namespace llmtk
