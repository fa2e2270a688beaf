#include "lib/dedup/minhash.h"

#include <cmath>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "lib/dedup/index.h"
#include "lib/base/jsonl.h"
#include "lib/dedup/shingle.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

TEST(NormalizeTest, FoldsCasePunctuationDigitsAndWhitespace) {
  NormalizeOptions o;
  EXPECT_EQ(NormalizeForDedup("  Hello,  World!\n\tIt's 2024. ", o), "hello world it s 0000");
  EXPECT_EQ(NormalizeForDedup("ＡＢＣ　１２３", o), "abc 000");  // NFKC: full-width forms
  EXPECT_EQ(NormalizeForDedup("ﬁne Ünïcode — “quotes”", o), "fine ünïcode quotes");
  EXPECT_EQ(NormalizeForDedup("我爱北京，天安门。", o), "我爱北京 天安门");
  EXPECT_EQ(NormalizeForDedup("٣ apples", o), "0 apples");  // Arabic-Indic digit
  EXPECT_EQ(NormalizeForDedup("", o), "");
  EXPECT_EQ(NormalizeForDedup("?!...", o), "");
}

// The fast NFKC against utf8proc on the whole text, its reference.
TEST(NormalizeTest, FastNfkcEqualsReference) {
  std::vector<std::string> cases = {
      "e\u0301", "\u0301abc", "A\u030A", "中\u0323\u0301x", "a\u0323\u0302", "ﬁ ① ²", "ｶﾞｷﾞ", "가\u11A8",
      "\u2126 \u212B", "ＡＢＣ１２３，。", "丽 \uF900", "مرحبا", "Ａ\u0301", "x\u0308\u0301ü", "ｧ", "",
      "\u1100\u1161\u11A8", "é中\u0301文"};
  for (const std::string& path : {std::string(LLMTK_TESTDATA) + "/corpus/sample.jsonl",
                                  std::string(LLMTK_TESTDATA) + "/dedup/planted.jsonl"}) {
    auto r = DocumentReader::Open({path}, {});
    ASSERT_TRUE(r.ok());
    Document d;
    while (*(*r)->Next(&d)) cases.emplace_back(d.text);
  }
  ASSERT_GT(cases.size(), 800u);
  for (const std::string& c : cases) {
    auto want = Normalize(c, NormalForm::kNFKC);
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(NfkcFast(c), *want) << c;
  }
}

TEST(NormalizeTest, EachSwitchTurnsItsStepOff) {
  NormalizeOptions o;
  o.lowercase = false;
  EXPECT_EQ(NormalizeForDedup("Hello, World 12", o), "Hello World 00");
  o = NormalizeOptions();
  o.punctuation = false;
  EXPECT_EQ(NormalizeForDedup("Hello, World 12", o), "hello, world 00");
  o = NormalizeOptions();
  o.digits = false;
  EXPECT_EQ(NormalizeForDedup("Hello, World 12", o), "hello world 12");
  o = NormalizeOptions();
  o.whitespace = false;
  EXPECT_EQ(NormalizeForDedup(" a,  b\n", o), " a   b\n");
  o = NormalizeOptions();
  o.nfkc = false;
  EXPECT_EQ(NormalizeForDedup("ＡＢＣ", o), "ａｂｃ");
}

TEST(ShingleTest, TokenizesWordsAndNoSpaceCharacters) {
  size_t single = 0;
  auto t = TokenizeForDedup("gpu加速 test  ok", &single);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0], "gpu");
  EXPECT_EQ(t[1], "加");
  EXPECT_EQ(t[2], "速");
  EXPECT_EQ(t[3], "test");
  EXPECT_EQ(t[4], "ok");
  EXPECT_EQ(single, 2u);
  t = TokenizeForDedup("สวัสดีครับ", &single);  // Thai: characters, no spaces
  EXPECT_EQ(t.size(), single);
  EXPECT_GT(single, 5u);
}

TEST(ShingleTest, EnglishWordShingles) {
  ShingleOptions o;  // 5 words
  EXPECT_EQ(ShingleHashes("a b c d e f g", o).size(), 3u);
  // Repeated shingles count once.
  EXPECT_EQ(ShingleHashes("a b c d e a b c d e", o).size(), 5u);
  // Shingles span word boundaries in order: a permutation differs.
  EXPECT_NE(ShingleHashes("a b c d e", o), ShingleHashes("e d c b a", o));
}

TEST(ShingleTest, ChineseCharacterShingles) {
  ShingleOptions o;  // 3 characters
  EXPECT_EQ(o.cjk_ngram, 3);
  EXPECT_EQ(ShingleHashes("我爱北京天安门", o).size(), 5u);
  // One Chinese paragraph is not one "word": an edit keeps most shingles.
  auto a = ShingleHashes("床前明月光疑是地上霜举头望明月低头思故乡", o);
  auto b = ShingleHashes("床前明月光疑是地上霜举头望山月低头思故乡", o);
  EXPECT_EQ(a.size(), 18u);
  EXPECT_NEAR(SortedJaccard(a, b), 15.0 / 21.0, 1e-12);
}

TEST(ShingleTest, MixedTextUsesTheMajorityScript) {
  ShingleOptions o;
  EXPECT_EQ(ShingleWidth(10, 6, o), 3);
  EXPECT_EQ(ShingleWidth(10, 5, o), 5);
  // 9 Han characters + 2 words: 3-token shingles over all 11 tokens.
  EXPECT_EQ(ShingleHashes("使用 gpu 训练大模型很快 ok", o).size(), 11u - 3 + 1);
  // Mostly English with a few Han characters: 5-token shingles.
  EXPECT_EQ(ShingleHashes("we trained it on 中文 text with care", o).size(), 9u - 5 + 1);
}

TEST(ShingleTest, ShortTextsGetOneShingleOfTheirWholeContent) {
  ShingleOptions o;
  auto a = ShingleHashes("hello world", o);
  auto b = ShingleHashes("hello there", o);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(a, b);
  EXPECT_EQ(ShingleHashes("", o).size(), 1u);
  EXPECT_NE(ShingleHashes("", o), a);
  EXPECT_EQ(ShingleHashes("你好", o).size(), 1u);
  // A short text's shingle never equals a full shingle of a longer text.
  auto full = ShingleHashes("a b c d e", o);
  auto shorter = ShingleHashes("a b c d", o);
  EXPECT_EQ(SortedJaccard(full, shorter), 0.0);
}

TEST(ExactHashTest, EqualOnlyForEqualText) {
  EXPECT_EQ(ExactHash("abc"), ExactHash("abc"));
  EXPECT_FALSE(ExactHash("abc") == ExactHash("abd"));
}

// Two sets of size n sharing `common` elements, from a seeded stream.
void MakePair(std::mt19937_64& rng, int n, int common, std::vector<uint64_t>* a, std::vector<uint64_t>* b) {
  a->clear();
  b->clear();
  for (int i = 0; i < common; ++i) {
    uint64_t x = rng();
    a->push_back(x);
    b->push_back(x);
  }
  for (int i = common; i < n; ++i) a->push_back(rng()), b->push_back(rng());
  std::sort(a->begin(), a->end());
  std::sort(b->begin(), b->end());
}

TEST(MinHashTest, VectorizedSignEqualsScalarReference) {
  MinHasher h(112, 7);
  std::mt19937_64 rng(1);
  for (int n : {0, 1, 5, 333}) {
    std::vector<uint64_t> xs(n);
    for (auto& x : xs) x = rng();
    std::vector<uint64_t> s1(112), s2(112);
    h.Sign(xs.data(), xs.size(), s1.data());
    h.SignScalar(xs.data(), xs.size(), s2.data());
    EXPECT_EQ(s1, s2) << n;
  }
}

TEST(MinHashTest, EstimateWithinTheoreticalError) {
  // The estimate is a mean of k Bernoulli(J) trials: sd = sqrt(J(1-J)/k).
  // Over 200 pairs per J, at most 1% may stray beyond 3 sd (expected 0.27%),
  // and the mean error must be within 4 sd of the mean.
  const int k = 256;
  MinHasher h(k, 42);
  std::mt19937_64 rng(2024);
  for (double target : {0.2, 0.5, 0.8, 0.95}) {
    int n = 300;
    int common = static_cast<int>(std::round(2 * n * target / (1 + target)));
    std::vector<uint64_t> a, b, sa(k), sb(k);
    int outside = 0;
    double sum_err = 0;
    const int trials = 200;
    double j = 0;
    for (int t = 0; t < trials; ++t) {
      MakePair(rng, n, common, &a, &b);
      j = SortedJaccard(a, b);
      h.Sign(a.data(), a.size(), sa.data());
      h.Sign(b.data(), b.size(), sb.data());
      double e = EstimateJaccard(sa.data(), sb.data(), k);
      double sd = std::sqrt(j * (1 - j) / k);
      if (std::abs(e - j) > 3 * sd) ++outside;
      sum_err += e - j;
    }
    double sd_mean = std::sqrt(j * (1 - j) / k / trials);
    EXPECT_LE(outside, trials / 100) << "J=" << j;
    EXPECT_LE(std::abs(sum_err / trials), 4 * sd_mean) << "J=" << j;
  }
}

TEST(MinHashTest, SixteenBitEstimateIsCorrected) {
  std::vector<uint16_t> a(100), b(100);
  for (int i = 0; i < 100; ++i) a[i] = static_cast<uint16_t>(i), b[i] = static_cast<uint16_t>(i < 50 ? i : i + 1000);
  const double c = 1.0 / 65536;
  EXPECT_DOUBLE_EQ(EstimateJaccard16(a.data(), b.data(), 100), (0.5 - c) / (1 - c));
  EXPECT_DOUBLE_EQ(EstimateJaccard16(a.data(), a.data(), 100), 1.0);
}

TEST(LshTest, CandidateProbabilityFormula) {
  LshParams p{14, 8};
  EXPECT_NEAR(CandidateProbability(0.8, p), 1 - std::pow(1 - std::pow(0.8, 8), 14), 1e-15);
  EXPECT_EQ(CandidateProbability(0.0, p), 0.0);
  EXPECT_EQ(CandidateProbability(1.0, p), 1.0);
}

TEST(LshTest, EmpiricalCandidateRateMatchesTheory) {
  // Pairs at J = 0.6 exactly, 14 x 8 bands: P = 1-(1-0.6^8)^14 = 0.2056.
  LshParams p{14, 8};
  MinHasher h(p.num_perm(), 9);
  std::mt19937_64 rng(77);
  const int trials = 2000;
  int hits = 0;
  std::vector<uint64_t> a, b, sa(112), sb(112), ka(14), kb(14);
  double j = 0;
  for (int t = 0; t < trials; ++t) {
    MakePair(rng, 200, 150, &a, &b);  // 150 / 250 = 0.6
    j = SortedJaccard(a, b);
    h.Sign(a.data(), a.size(), sa.data());
    h.Sign(b.data(), b.size(), sb.data());
    BandKeys(sa.data(), p, ka.data());
    BandKeys(sb.data(), p, kb.data());
    bool hit = false;
    for (int i = 0; i < 14; ++i) hit |= ka[i] == kb[i];
    hits += hit;
  }
  ASSERT_DOUBLE_EQ(j, 0.6);
  double pr = CandidateProbability(0.6, p);
  double sd = std::sqrt(pr * (1 - pr) / trials);
  EXPECT_NEAR(static_cast<double>(hits) / trials, pr, 4 * sd);
}

TEST(LshTest, ChosenParametersBeatTheDefaultTradeOff) {
  LshParams best = ChooseLshParams(0.8, 112, 0.5, 0.5);
  LshParams def{14, 8};
  EXPECT_LE(best.num_perm(), 112);
  EXPECT_LE(FalsePositiveArea(0.8, best) + FalseNegativeArea(0.8, best),
            FalsePositiveArea(0.8, def) + FalseNegativeArea(0.8, def));
  // Weighting false negatives up moves to more, shorter bands.
  LshParams recall = ChooseLshParams(0.8, 112, 0.1, 0.9);
  EXPECT_GE(CandidateProbability(0.8, recall), CandidateProbability(0.8, best));
}

TEST(UnionFindTest, RootIsTheSmallestMemberWhateverTheOrder) {
  UnionFind a(6), b(6);
  a.Union(4, 5), a.Union(2, 4), a.Union(1, 3);
  b.Union(2, 4), b.Union(3, 1), b.Union(5, 2);
  for (uint32_t x = 0; x < 6; ++x) EXPECT_EQ(a.Find(x), b.Find(x));
  EXPECT_EQ(a.Find(5), 2u);
  EXPECT_EQ(a.Find(3), 1u);
  EXPECT_EQ(a.Find(0), 0u);
  EXPECT_FALSE(a.Union(5, 2));
  EXPECT_TRUE(a.Union(5, 3));
  EXPECT_EQ(a.Find(4), 1u);
}

TEST(BandPairsTest, SmallBucketsAllPairsLargeBucketsStarAndChain) {
  std::vector<std::pair<uint64_t, uint32_t>> e = {{7, 3}, {1, 0}, {7, 1}, {7, 2}, {9, 4}};
  std::vector<uint64_t> pairs;
  BandPairs(&e, &pairs);
  std::vector<uint64_t> want = {1ull << 32 | 2, 1ull << 32 | 3, 2ull << 32 | 3};
  EXPECT_EQ(pairs, want);
  e.clear();
  for (uint32_t d = 0; d < 10; ++d) e.emplace_back(5, d);
  pairs.clear();
  BandPairs(&e, &pairs);
  EXPECT_EQ(pairs.size(), 9u + 8u);  // star to 0, plus chain (d-1, d) for d >= 2
}

TEST(ExactRepresentativesTest, SpreadOverThreadsEqualsOneScan) {
  // 3000 documents over 700 keys (both halves varied): reps by brute force.
  std::mt19937_64 rng(7);
  std::vector<Hash128> keys(700), exact;
  for (auto& k : keys) k = {rng(), rng()};
  for (int d = 0; d < 3000; ++d) exact.push_back(keys[rng() % keys.size()]);
  std::vector<uint32_t> want(exact.size());
  for (uint32_t d = 0; d < exact.size(); ++d)
    for (uint32_t e = 0; e <= d; ++e)
      if (exact[e] == exact[d]) {
        want[d] = e;
        break;
      }
  EXPECT_EQ(ExactRepresentatives(exact), want);
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(ExactRepresentatives(exact, &pool), want) << threads;
  }
}

TEST(ChooseSurvivorsTest, KeepPolicies) {
  // Docs 0..4: 0 and 3 exact copies, pair (1,3) accepted, 2 and 4 alone.
  std::vector<uint32_t> rep = {0, 1, 2, 0, 4};
  std::vector<uint64_t> acc = {1ull << 32 | 3};
  std::vector<double> score = {1, 5, 0, 9, 0};
  EXPECT_EQ(ChooseSurvivors(rep, acc, KeepPolicy::kFirst, {}), (std::vector<uint32_t>{0, 0, 2, 0, 4}));
  EXPECT_EQ(ChooseSurvivors(rep, acc, KeepPolicy::kLongest, score), (std::vector<uint32_t>{3, 3, 2, 3, 4}));
  score = {5, 5, 0, 5, 0};  // ties: the earliest
  EXPECT_EQ(ChooseSurvivors(rep, acc, KeepPolicy::kField, score), (std::vector<uint32_t>{0, 0, 2, 0, 4}));
}

}  // namespace
}  // namespace llmtk
