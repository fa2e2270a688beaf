// The Unigram trainer's corpus (lib/tokenizer/train/unigram_corpus):
// BuildUnigramCorpus against its plain reference.
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/train/unigram_corpus.h"

namespace llmtk {
namespace {

void ExpectSameCorpus(const WordCountMap& words, double coverage) {
  auto fast = BuildUnigramCorpus(words, coverage);
  auto plain = BuildUnigramCorpusPlain(words, coverage);
  ASSERT_EQ(fast.ok(), plain.ok()) << fast.status() << " / " << plain.status();
  if (!plain.ok()) {
    EXPECT_EQ(fast.status(), plain.status());
    return;
  }
  EXPECT_EQ(fast->chars, plain->chars);
  EXPECT_EQ(fast->char_counts, plain->char_counts);
  EXPECT_EQ(fast->syms, plain->syms);
  EXPECT_EQ(fast->offsets, plain->offsets);
  EXPECT_EQ(fast->counts, plain->counts);
  EXPECT_EQ(fast->line_end_counts, plain->line_end_counts);
  EXPECT_EQ(fast->coverage, plain->coverage);
}

// Words that fold (with and without a line end; rare characters turning two
// words into one), beyond the BMP, with NUL, tab and invalid bytes, with
// shared 8-byte prefixes and count ties.
WordCountMap MixedWords() {
  std::mt19937 rng(11);
  const std::vector<std::string> pieces = {"\xE2\x96\x81", "a", "b", "e", "\xC3\xA9", "\xE4\xB8\x80",
                                           "\xF0\x9F\x98\x80", "1", "\t"};
  const std::vector<std::string> rare = {"\xD0\x96", "\xF0\x9F\x98\x81", std::string(1, '\0'), "\xFF",
                                         "\xE2\x96\x85"};
  WordCountMap words;
  for (int i = 0; i < 4000; ++i) {
    std::string w = i % 4 ? "\xE2\x96\x81" "abeabe" : "";
    const int len = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < len; ++k) w += pieces[rng() % pieces.size()];
    if (i % 13 == 0) w += rare[rng() % rare.size()];
    const uint64_t n = 1 + rng() % 4;
    words[w] += n;
    if (i % 3 == 0) words[w + kLineEndMark] += 1 + rng() % 3;
  }
  return words;
}

TEST(UnigramCorpusBuild, MatchesThePlainBuild) {
  const WordCountMap words = MixedWords();
  for (double coverage : {1.0, 0.9995, 0.99, 0.9}) {
    SCOPED_TRACE(coverage);
    ExpectSameCorpus(words, coverage);
  }
  // The fold happens: rare characters made some words one.
  auto c = BuildUnigramCorpus(words, 0.99);
  ASSERT_TRUE(c.ok());
  EXPECT_LT(c->words(), words.size());
}

TEST(UnigramCorpusBuild, EdgeCases) {
  ExpectSameCorpus({{"\t", 3}}, 0.9995);  // nothing to train on: the same error
  ExpectSameCorpus({{std::string(1, '\0') + "\n", 2}, {"ab", 1}}, 1.0);  // a word of NUL only
  ExpectSameCorpus({{"abcdefgh", 1}, {"abcdefgh\n", 1}, {"abcdefghi", 1}, {"abcdefg", 1}, {"abcdefg\n", 4}}, 1.0);
}

}  // namespace
}  // namespace llmtk
