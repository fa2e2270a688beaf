#include "lib/eval/text_metrics.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace llmtk {
namespace {

// len(re.split(r"\s+", text)) in Python 3, by hand.
TEST(LmEvalWordCount, CountsFieldsAsPythonSplitDoes) {
  EXPECT_EQ(LmEvalWordCount(""), 1u);                 // ['']
  EXPECT_EQ(LmEvalWordCount("a"), 1u);                // ['a']
  EXPECT_EQ(LmEvalWordCount("a b"), 2u);              // ['a', 'b']
  EXPECT_EQ(LmEvalWordCount(" a  b\n"), 4u);          // ['', 'a', 'b', '']
  EXPECT_EQ(LmEvalWordCount("a \t\r\n\v\f b"), 2u);   // one run
  EXPECT_EQ(LmEvalWordCount("a\xC2\xA0" "b"), 2u);    // U+00A0 is \s
  EXPECT_EQ(LmEvalWordCount("a\xE3\x80\x80" "b"), 2u);  // U+3000 is \s
  EXPECT_EQ(LmEvalWordCount("a\x1C" "b"), 2u);        // str.isspace('\x1c')
  EXPECT_EQ(LmEvalWordCount("a\xE2\x80\x8B" "b"), 1u);  // U+200B is not
  EXPECT_EQ(LmEvalWordCount("a\xE1\xA0\x8E" "b"), 1u);  // U+180E is not (Unicode >= 6.3)
  EXPECT_EQ(LmEvalWordCount("\xFF b"), 2u);           // an invalid byte is no space
  EXPECT_EQ(LmEvalWordCount("Once upon a time,\nthere"), 5u);
}

TEST(PerUnitMetrics, FromSummedNll) {
  // 10 nats... chosen so the figures are exact: sum = 10 ln 2 over 5 bytes
  // is 2 bits per byte, byte PPL 2^2 = 4; over 2 words, e^(5 ln 2) = 32.
  const double nll = 10 * std::log(2.0);
  const PerUnitMetrics m = ComputePerUnitMetrics(nll, TextUnits{5, 2});
  ASSERT_TRUE(m.bits_per_byte && m.byte_perplexity && m.word_perplexity);
  EXPECT_DOUBLE_EQ(*m.bits_per_byte, 2.0);
  EXPECT_DOUBLE_EQ(*m.byte_perplexity, 4.0);
  EXPECT_DOUBLE_EQ(*m.word_perplexity, 32.0);
  const PerUnitMetrics none = ComputePerUnitMetrics(1.0, TextUnits{});
  EXPECT_FALSE(none.bits_per_byte || none.byte_perplexity || none.word_perplexity);
  // lm-evaluation-harness weights by bytes: two documents of 1 and 3 bytes
  // with log-likelihoods -1 and -3 nats make 1 nat per byte, not a mean of
  // per-document figures.
  TextUnits both = TextUnits{1, 1};
  both += TextUnits{3, 1};
  EXPECT_DOUBLE_EQ(*ComputePerUnitMetrics(4.0, both).byte_perplexity, std::exp(1.0));
  EXPECT_DOUBLE_EQ(*ComputePerUnitMetrics(4.0, both).word_perplexity, std::exp(2.0));
}

ScoredText Scored(const std::vector<std::string>& pieces) {
  return ScoredText([pieces](int64_t i) { return pieces[static_cast<size_t>(i)]; },
                    static_cast<int64_t>(pieces.size()));
}

TEST(ScoredText, CountsTheWordsPlacedInEachStretch) {
  const std::vector<std::string> pieces = {"", "Once", " upon", " a", " time", ","};
  ScoredText all = Scored(pieces);
  for (int64_t i = 1; i <= 5; ++i) all.Add(i);
  EXPECT_EQ(all.Units().bytes, 17u);  // "Once upon a time,"
  EXPECT_EQ(all.Units().words, 4u);   // = LmEvalWordCount of the text
  // Two stretches, " upon a" and ",": 7 + 1 bytes; the words starting in
  // them are "upon" and "a" (",", the end of "time,", starts nowhere in it).
  ScoredText gaps = Scored(pieces);
  gaps.Add(2);
  gaps.Add(3);
  gaps.Add(5);
  EXPECT_EQ(gaps.Units().bytes, 8u);
  EXPECT_EQ(gaps.Units().words, 2u);
  // Nothing scored: nothing counted.
  ScoredText none = Scored(pieces);
  EXPECT_EQ(none.Units().bytes, 0u);
  EXPECT_EQ(none.Units().words, 0u);
}

TEST(ScoredText, StretchesCoveringATextAddUpToLmEvalsCount) {
  // " two  spaces \n" then EOS: re.split gives ['', 'two', 'spaces', ''].
  const std::vector<std::string> pieces = {"", " two", "  ", "spaces", " \n", ""};
  ASSERT_EQ(LmEvalWordCount(" two  spaces \n"), 4u);
  ScoredText whole = Scored(pieces);
  for (int64_t i = 1; i <= 5; ++i) whole.Add(i);
  EXPECT_EQ(whole.Units().bytes, 14u);
  EXPECT_EQ(whole.Units().words, 4u);
  // " two  " holds the opening empty field and "two"; "spaces \n" holds
  // "spaces" and the closing empty field.
  ScoredText first = Scored(pieces), second = Scored(pieces);
  first.Add(1);
  first.Add(2);
  second.Add(3);
  second.Add(4);
  EXPECT_EQ(first.Units().words, 2u);
  EXPECT_EQ(second.Units().words, 2u);
  // A word cut by a stretch's start belongs to the stretch before.
  const std::vector<std::string> cut = {"", "Lil", "y ran"};
  ScoredText tail = Scored(cut);
  tail.Add(2);
  EXPECT_EQ(tail.Units().words, 1u);  // "ran"
}

TEST(ScoredText, ACharacterSplitOverByteTokens) {
  // U+3000 (a space) as three byte-fallback tokens: "b" starts a word.
  const std::vector<std::string> pieces = {"a", "\xE3", "\x80", "\x80", "b"};
  ScoredText b = Scored(pieces);
  b.Add(4);
  EXPECT_EQ(b.Units().words, 1u);
  ScoredText whole = Scored(pieces);
  for (int64_t i = 0; i < 5; ++i) whole.Add(i);
  EXPECT_EQ(whole.Units().words, 2u);
  EXPECT_EQ(whole.Units().bytes, 5u);
}

}  // namespace
}  // namespace llmtk
