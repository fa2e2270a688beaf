// JSON numbers read as HF tokenizers 0.23.2 reads them (serde_json without
// float_roundtrip). testdata/tok/serde-scores.tsv pairs each number with the
// double HF held after loading it as a Unigram score (written back by HF's
// own serializer; scripts/reference/serde-scores.js): 40 edge cases and 60
// scores of an spm_train 8k model's tokenizer.json. The tie case is a
// tokenizer.json whose ids HF gives only with its own doubles.
#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/tokenizer/serde_number.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

TEST(SerdeJsonF64, AsHfTokenizersHoldsThem) {
  auto tsv = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok/serde-scores.tsv");
  ASSERT_TRUE(tsv.ok()) << tsv.status();
  size_t n = 0, not_correctly_rounded = 0;
  for (absl::string_view line : absl::StrSplit(*tsv, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 2u) << line;
    double hf = 0, exact = 0;
    ASSERT_EQ(std::from_chars(f[1].data(), f[1].data() + f[1].size(), hf).ec, std::errc()) << line;
    std::optional<double> ours = SerdeJsonF64(f[0]);
    ASSERT_TRUE(ours.has_value()) << line;
    EXPECT_EQ(Bits(*ours), Bits(hf)) << f[0] << ": HF holds " << f[1];
    if (std::from_chars(f[0].data(), f[0].data() + f[0].size(), exact).ec == std::errc() && Bits(exact) != Bits(hf)) {
      ++not_correctly_rounded;
    }
    ++n;
  }
  EXPECT_EQ(n, 100u);
  // The file must hold numbers where HF's double is not the correctly rounded
  // one, or it would not test anything a plain parser would get wrong.
  EXPECT_GE(not_correctly_rounded, 8u);
}

TEST(SerdeJsonF64, RefusesWhatSerdeRefuses) {
  for (std::string_view bad : {"", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "1x", "1.5 ", "1e400",
                               "-1e400", "1e2147483648", "NaN", "Infinity"}) {
    EXPECT_FALSE(SerdeJsonF64(bad).has_value()) << bad;
  }
  // An exponent past i32 on a zero significand, or a negative one, is zero.
  EXPECT_EQ(Bits(*SerdeJsonF64("0e2147483648")), Bits(0.0));
  EXPECT_EQ(Bits(*SerdeJsonF64("-5e-2147483648")), Bits(-0.0));
}

TEST(SerdeUnigramScores, TieBrokenAsHf) {
  // a + b = ab exactly in correctly rounded doubles, a tie Viterbi leaves to
  // "ab"; HF reads -9.034488916397095 one unit low, so it takes a, b.
  // Ids from HF tokenizers 0.23.2 (npm) on this file.
  const std::string json = R"({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
    "post_processor": null, "decoder": null, "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", -20.0],
    ["a", -3.41902232170105], ["b", -5.615466594696045], ["ab", -9.034488916397095]]}})";
  auto tok = Tokenizer::FromJson(json, "tie.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto ids = [&](std::string_view text) {
    std::vector<uint32_t> out;
    EXPECT_TRUE((*tok)->Encode(text, false, &out).ok());
    return out;
  };
  EXPECT_EQ(ids("ab"), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(ids("abab"), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(ids("ba"), (std::vector<uint32_t>{2, 1}));
}

TEST(SerdeUnigramScores, BadEntriesNamed) {
  auto scores = SerdeUnigramScores(R"({"model": {"vocab": [["a", -1.5], ["b"]]}})", "t.json");
  EXPECT_EQ(scores.status().message(), "t.json: model.vocab: entry 1 is not [piece, score]");
  scores = SerdeUnigramScores(R"({"model": {"vocab": [["a", 1e999]]}})", "t.json");
  EXPECT_EQ(scores.status().message(), "t.json: model.vocab: entry 0: score 1e999 is not a number in f64's range");
  scores = SerdeUnigramScores(R"({"model": {"vocab": [["a", -1.5], ["b", 2]]}})", "t.json");
  ASSERT_TRUE(scores.ok()) << scores.status();
  EXPECT_EQ(*scores, (std::vector<double>{-1.5, 2.0}));
}

}  // namespace
}  // namespace llmtk
