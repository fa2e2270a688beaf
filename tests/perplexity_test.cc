#include "lib/eval/perplexity.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "lib/eval/kl_divergence.h"

namespace llmtk {
namespace {

// A bigram "model": the logits at a position depend only on the token there.
// Row t is log of a distribution chosen so that every nll is a short sum.
constexpr int kVocab = 4;
const float kTable[kVocab][kVocab] = {
    {std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)},
    {std::log(0.25f), std::log(0.5f), std::log(0.125f), std::log(0.125f)},
    {std::log(0.125f), std::log(0.125f), std::log(0.5f), std::log(0.25f)},
    {std::log(0.25f), std::log(0.25f), std::log(0.25f), std::log(0.25f)},
};

struct Recorder {
  std::vector<std::vector<int32_t>> calls;
  EvalFn Fn(float scale = 1.f) {
    return [this, scale](absl::Span<const int32_t> toks, std::vector<float>* logits) {
      calls.emplace_back(toks.begin(), toks.end());
      logits->resize(toks.size() * kVocab);
      for (size_t i = 0; i < toks.size(); ++i)
        for (int v = 0; v < kVocab; ++v) (*logits)[i * kVocab + v] = kTable[toks[i]][v] * scale;
      return absl::OkStatus();
    };
  }
};

double Nll(int32_t from, int32_t to) { return -std::log(std::exp(static_cast<double>(kTable[from][to]))); }

TEST(Perplexity, LogSoftmaxOfNormalizedRowIsTheLogProb) {
  EXPECT_NEAR(LogSoftmaxAt(kTable[0], kVocab, 1), std::log(0.25), 1e-7);
  float shifted[kVocab];
  for (int v = 0; v < kVocab; ++v) shifted[v] = kTable[2][v] + 100.f;  // softmax ignores shifts
  EXPECT_NEAR(LogSoftmaxAt(shifted, kVocab, 3), std::log(0.25), 1e-5);  // float spacing at 100
  EXPECT_NEAR(LogSumExp(kTable[3], kVocab), 0.0, 1e-6);
}

TEST(Perplexity, CorpusFollowsLlamaCppChunking) {
  // n_ctx 4: 2 chunks of 4 from 9 tokens (the 9th is dropped); each chunk's
  // first token becomes BOS (3); scored: positions 2..2 of each chunk, i.e.
  // the target at chunk index 3 predicted from index 2.
  std::vector<int32_t> toks = {0, 1, 2, 0, 1, 1, 2, 2, 0};
  Recorder r;
  CorpusOptions o;
  o.n_ctx = 4;
  o.n_vocab = kVocab;
  o.bos = 3;
  std::vector<int64_t> scored;
  std::vector<int> chunks;
  auto stats = CorpusPerplexity(
      r.Fn(), toks, o,
      [&](int64_t idx, const float*, int32_t target) {
        scored.push_back(idx);
        EXPECT_EQ(target, toks[idx]);
        return absl::OkStatus();
      },
      [&](int c, int n, const NllStats&) { chunks.push_back(c * 10 + n); });
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(r.calls, (std::vector<std::vector<int32_t>>{{3, 1, 2, 0}, {3, 1, 2, 2}}));
  EXPECT_EQ(scored, (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(chunks, (std::vector<int>{12, 22}));
  double want = (Nll(2, 0) + Nll(2, 2)) / 2;  // (ln 8 + ln 2) / 2 = ln 4
  EXPECT_NEAR(stats->Mean(), want, 1e-6);
  EXPECT_NEAR(stats->Ppl(), 4.0, 1e-5);
  // var = mean of squares - square of mean = ((ln8)^2 + (ln2)^2)/2 - (ln4)^2 = (ln2)^2
  EXPECT_NEAR(stats->PplStderr(), 4.0 * std::sqrt(std::pow(std::log(2.0), 2) / 1), 1e-5);
}

TEST(Perplexity, CorpusNeedsTwoContexts) {
  Recorder r;
  CorpusOptions o;
  o.n_ctx = 4;
  o.n_vocab = kVocab;
  std::vector<int32_t> toks(7, 0);
  EXPECT_EQ(CorpusPerplexity(r.Fn(), toks, o).status(),
            absl::FailedPreconditionError("the text has 7 tokens; perplexity with a context of 4 needs at least 8 "
                                       "(use a longer text or a smaller --ctx)"));
}

TEST(Perplexity, SlidingWindowScoresEveryTokenOnce) {
  std::vector<int32_t> toks = {0, 1, 2, 3, 0, 1, 2, 3, 3, 2};
  double want = 0;
  for (size_t i = 1; i < toks.size(); ++i) want += Nll(toks[i - 1], toks[i]);
  for (int stride : {1, 2, 3}) {
    Recorder r;
    std::vector<int64_t> scored;
    auto stats = SlidingWindowPerplexity(r.Fn(), toks, 4, stride, kVocab, [&](int64_t i, const float*, int32_t) {
      scored.push_back(i);
      return absl::OkStatus();
    });
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(scored, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9})) << stride;
    EXPECT_NEAR(stats->sum, want, 1e-6) << stride;  // a bigram model: context length does not matter
    EXPECT_EQ(r.calls.front(), (std::vector<int32_t>{0, 1, 2, 3}));
  }
  // stride == ctx: a window's first token has no context inside it and is
  // skipped, as HF's shifted labels do.
  Recorder r;
  std::vector<int64_t> scored;
  auto stats = SlidingWindowPerplexity(r.Fn(), toks, 4, 4, kVocab, [&](int64_t i, const float*, int32_t) {
    scored.push_back(i);
    return absl::OkStatus();
  });
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(scored, (std::vector<int64_t>{1, 2, 3, 5, 6, 7, 9}));
  EXPECT_EQ(SlidingWindowPerplexity(r.Fn(), toks, 4, 5, kVocab).status(),
            absl::InvalidArgumentError("--stride must be between 1 and the context (4), got 5"));
}

class KlTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& n) {
    return (std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "_" + n)).string();
  }
  // Saves the bigram model's logits on toks (sliding windows), returns path.
  std::string Save(const std::vector<int32_t>& toks, uint32_t top_k, float scale = 1.f) {
    std::string p = Path("base_" + std::to_string(top_k) + ".bin");
    LogitsFileHeader h{kVocab, top_k, 4, 2, 0, HashTokens(toks), 77};
    auto w = LogitsWriter::Open(p, h).value();
    Recorder r;
    auto st = SlidingWindowPerplexity(r.Fn(scale), toks, 4, 2, kVocab,
                                      [&](int64_t, const float* l, int32_t t) { return w->Add(l, t); });
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE(w->Close().ok());
    return p;
  }
  KlStats Compare(const std::string& path, const std::vector<int32_t>& toks, float scale) {
    auto rd = LogitsReader::Open(path).value();
    EXPECT_TRUE(rd->CheckCompatible({kVocab, 0, 4, 2, 0, HashTokens(toks), 77}).ok());
    KlStats ks;
    Recorder r;
    auto st = SlidingWindowPerplexity(r.Fn(scale), toks, 4, 2, kVocab, [&](int64_t, const float* l, int32_t t) {
      return rd->Compare(l, t, &ks);
    });
    EXPECT_TRUE(st.ok()) << st.status();
    return ks;
  }
  std::vector<int32_t> toks_ = {0, 1, 2, 3, 0, 1, 2, 2, 3, 1, 0};
};

TEST_F(KlTest, SelfComparisonIsZero) {
  std::string p = Save(toks_, kVocab);
  KlStats ks = Compare(p, toks_, 1.f);
  EXPECT_EQ(ks.count, toks_.size() - 1);
  EXPECT_EQ(ks.Mean(), 0.0);
  EXPECT_EQ(ks.SameTop1(), 1.0);
  EXPECT_EQ(ks.BasePpl(), ks.Ppl());
  std::filesystem::remove(p);
}

TEST_F(KlTest, MatchesTheDefinitionAndTopKIsALowerBound) {
  // Q: the same rows with logits halved (a flatter distribution).
  double want = 0;
  for (size_t i = 1; i < toks_.size(); ++i) {
    const float* row = kTable[toks_[i - 1]];
    double lse_q = LogSumExp(std::vector<float>{row[0] / 2, row[1] / 2, row[2] / 2, row[3] / 2}.data(), kVocab);
    for (int v = 0; v < kVocab; ++v) {
      double p = std::exp(static_cast<double>(row[v]));
      want += p * (row[v] - (row[v] / 2 - lse_q));
    }
  }
  want /= toks_.size() - 1;
  std::string full = Save(toks_, kVocab);
  EXPECT_NEAR(Compare(full, toks_, 0.5f).Mean(), want, 1e-6);
  std::string top1 = Save(toks_, 1);
  double approx = Compare(top1, toks_, 0.5f).Mean();
  EXPECT_LE(approx, want + 1e-9);
  EXPECT_GT(approx, 0.0);
  std::filesystem::remove(full);
  std::filesystem::remove(top1);
}

TEST_F(KlTest, RefusesOtherTextsAndCorruptFiles) {
  std::string p = Save(toks_, 2);
  auto rd = LogitsReader::Open(p).value();
  std::vector<int32_t> other = toks_;
  other[3] = 0;
  EXPECT_EQ(rd->CheckCompatible({kVocab, 0, 4, 2, 0, HashTokens(other), 77}),
            absl::FailedPreconditionError("the logits file was made for a different text, " + p +
                                       "; use the same -f input"));
  EXPECT_EQ(rd->CheckCompatible({kVocab, 0, 4, 2, 0, HashTokens(toks_), 78}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(rd->CheckCompatible({kVocab, 0, 8, 2, 0, HashTokens(toks_), 77}),
            absl::FailedPreconditionError("the logits file was made with --ctx 4 --stride 2, this run uses --ctx 8 "
                                       "--stride 2, " + p));
  std::filesystem::resize_file(p, std::filesystem::file_size(p) - 3);
  EXPECT_EQ(LogitsReader::Open(p).status(),
            absl::DataLossError(absl::StrCat("truncated or corrupt logits file: ", 64 + 10 * 28 - 3,
                                             " bytes, the header needs ", 64 + 10 * 28, ", ", p)));
  std::ofstream(p, std::ios::binary) << "not a logits file at all, but long enough to hold a header....";
  EXPECT_EQ(LogitsReader::Open(p).status(),
            absl::DataLossError("not an llmtk logits file (bad magic), " + p +
                                "; make one with llmtk-ppl --save-logits"));
  std::filesystem::remove(p);
}

}  // namespace
}  // namespace llmtk
