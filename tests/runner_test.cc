#include "lib/model/runner.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "lib/model/sampling.h"

namespace llmtk {
namespace {

const std::string kData = std::string(LLMTK_TESTDATA) + "/";
// Greedy generation from "Once upon a time", as llama2.c and llama.cpp print it.
const char kStory[] =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, "
    "red ball. She wanted to play with it, but it was too high.";

std::unique_ptr<Model> Load(const std::string& path) {
  auto m = Model::Load(kData + path);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

class GreedyStory : public testing::TestWithParam<const char*> {};

TEST_P(GreedyStory, ReproducesTheReferenceText) {
  auto model = Load(GetParam());
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(*model, {.n_ctx = 256});
  ASSERT_TRUE(runner.ok()) << runner.status();
  GenerateOptions g;
  g.sampling.temperature = 0;
  g.max_tokens = 200;
  g.stop = {"high."};
  std::string streamed;
  auto r = (*runner)->Generate("Once upon a time", g, [&](std::string_view t) {
    streamed += t;
    return absl::OkStatus();
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text + "high.", kStory);
  EXPECT_EQ(streamed, r->text);
  EXPECT_EQ(r->finish_reason, "stop");
  EXPECT_EQ(r->prompt_tokens, 5);
}

INSTANTIATE_TEST_SUITE_P(Files, GreedyStory,
                         testing::Values("run/stories260K-hf-f32.gguf", "run/stories260K-hf-f16.gguf",
                                         "quant/stories260K-hf-q8_0.gguf"));

TEST(Runner, LengthLimitLogprobsAndSeeds) {
  auto model = Load("run/stories260K-hf-f16.gguf");
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(*model, {.n_ctx = 64, .threads = 1});
  ASSERT_TRUE(runner.ok());
  GenerateOptions g;
  g.max_tokens = 5;
  g.logprobs = 3;
  g.sampling.seed = 42;
  auto a = (*runner)->Generate("Once upon a time", g, nullptr);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->finish_reason, "length");
  EXPECT_EQ(a->completion_tokens, 5);
  ASSERT_EQ(a->logprobs.size(), 5u);
  EXPECT_EQ(a->logprobs[0].size(), 4u);
  EXPECT_GE(a->logprobs[0][1].logprob, a->logprobs[0][2].logprob);
  // Same seed, other thread count: same text.
  auto other = Runner::Create(*model, {.n_ctx = 64, .threads = 3});
  ASSERT_TRUE(other.ok());
  auto b = (*other)->Generate("Once upon a time", g, nullptr);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->text, b->text);
  // A context too small for the prompt.
  auto tiny = Runner::Create(*model, {.n_ctx = 3});
  ASSERT_TRUE(tiny.ok());
  auto c = (*tiny)->Generate("Once upon a time", g, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(c.status().message(),
            "the prompt has 5 tokens but the context holds 3 (raise --ctx or shorten the prompt)");
}

TEST(Runner, ScoreMatchesGreedyContinuation) {
  auto model = Load("run/stories260K-hf-f32.gguf");
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(*model, {.n_ctx = 128});
  ASSERT_TRUE(runner.ok());
  auto likely = (*runner)->Score("Once upon a time", ", there was a little girl");
  ASSERT_TRUE(likely.ok()) << likely.status();
  EXPECT_TRUE(likely->greedy);
  EXPECT_EQ(likely->prompt_tokens, 5);
  auto unlikely = (*runner)->Score("Once upon a time", ", there was a purple elephant");
  ASSERT_TRUE(unlikely.ok());
  EXPECT_FALSE(unlikely->greedy);
  EXPECT_LT(unlikely->logprob, likely->logprob);
  EXPECT_LT(likely->logprob, 0.0);
}

// lm-evaluation-harness's split on a SentencePiece vocabulary: the
// completion's tokens are those of the whole text after the prompt's, so
// " there" is "▁there" (383), never "▁" "▁there"; the prompt's trailing
// space moves to the completion; a completion without a space joins the
// prompt's last word.
TEST(Runner, ScoreSplitsLikeLmEvaluationHarness) {
  auto model = Load("run/stories260K-hf-f16.gguf");
  ASSERT_NE(model, nullptr);
  auto v = Vocab::FromGguf(model->gguf());
  ASSERT_TRUE(v.ok());
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 432};  // <s> ▁Once ▁upon ▁a ▁time ,
  auto spaced = EncodeScorePair(*v, "Once upon a time,", " there was a little girl");
  ASSERT_TRUE(spaced.ok()) << spaced.status();
  EXPECT_EQ(spaced->prompt, prompt);
  EXPECT_EQ(spaced->completion, (std::vector<int32_t>{383, 286, 261, 376, 298, 315, 421}));
  auto moved = EncodeScorePair(*v, "Once upon a time, ", "there was a little girl");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->prompt, prompt);
  EXPECT_EQ(moved->completion, (std::vector<int32_t>{383, 286, 261, 376, 298, 315, 421}));
  auto joined = EncodeScorePair(*v, "Once upon a time,", "there was a little girl");
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->prompt, prompt);
  EXPECT_EQ(joined->completion, (std::vector<int32_t>{413, 260, 276, 286, 261, 376, 298, 315, 421}));
  auto no_bos = EncodeScorePair(*v, "Once upon a time,", " there", /*add_bos=*/false);
  ASSERT_TRUE(no_bos.ok());
  EXPECT_EQ(no_bos->prompt, std::vector<int32_t>(prompt.begin() + 1, prompt.end()));
  EXPECT_EQ(no_bos->completion, std::vector<int32_t>{383});

  // Score evaluates exactly those tokens: the spaced completion is the
  // model's greedy continuation (the case scored -22.83, greedy false).
  auto runner = Runner::Create(*model, {.n_ctx = 64});
  ASSERT_TRUE(runner.ok());
  auto a = (*runner)->Score("Once upon a time,", " there was a little girl");
  auto b = (*runner)->Score("Once upon a time, ", "there was a little girl");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->greedy);
  EXPECT_EQ(a->completion_tokens, static_cast<int>(spaced->completion.size()));
  EXPECT_EQ(a->logprob, b->logprob);
  EXPECT_GT(a->logprob, -1.1);
  // A completion that merges into the prompt's last token adds none.
  auto merged = (*runner)->Score("Once upon a ti", "me");
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kInvalidArgument) << merged.status();
}

TEST(Vocab, EncodesLikeLlamaCpp) {
  auto model = Load("run/stories260K-hf-f16.gguf");
  ASSERT_NE(model, nullptr);
  auto v = Vocab::FromGguf(model->gguf());
  ASSERT_TRUE(v.ok());
  // The ids of llama.cpp's reference prompt p1.
  auto ids = v->Encode("Once upon a time, there was a little girl named Lily. She loved to play outside", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{1,   403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                        395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411}));
  // Byte fallback and whitespace runs (reference prompt p3).
  ids = v->Encode("Caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x99\x82 tabs\tand  double  spaces\nnew line", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{1,   410, 457, 412, 431, 485, 297, 412, 198, 178, 360, 410, 481, 410,
                                        233, 154, 168, 233, 159, 175, 235, 173, 161, 410, 243, 162, 156, 133,
                                        259, 412, 430, 419, 12,  412, 264, 410, 279, 277, 430, 305, 410, 262,
                                        427, 412, 331, 419, 13,  416, 411, 424, 278, 271, 411}));
  EXPECT_EQ(v->Decode(*ids), " Caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x99\x82 tabs\tand  double  spaces\nnew line");
  EXPECT_TRUE(v->IsEog(2));
  EXPECT_FALSE(v->IsEog(1));
  // A control token's text: its id when parsing specials (llama-cli's
  // prompts), plain text otherwise (llama-perplexity's corpus).
  auto with = v->Encode("a</s>b", false, /*parse_special=*/true);
  auto without = v->Encode("a</s>b", false, /*parse_special=*/false);
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_EQ(std::count(with->begin(), with->end(), 2), 1);
  EXPECT_EQ(std::count(without->begin(), without->end(), 2), 0);
  EXPECT_EQ(v->Decode(*without), " a</s>b");
}

TEST(Sampling, GreedyAndSeededDraws) {
  const std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f, 1.5f};
  Sampler greedy({.temperature = 0});
  EXPECT_EQ(greedy.Sample(logits, {}), 1);  // ties: lowest id
  // Repetition penalty pushes the repeated token below its rival.
  Sampler penalized({.temperature = 0, .repeat_penalty = 2.0f});
  EXPECT_EQ(penalized.Sample(logits, {1}), 2);
  Sampler presence({.temperature = 0, .presence_penalty = 1.0f});
  EXPECT_EQ(presence.Sample(logits, {1, 2}), 4);
  // top-k 1 is greedy whatever the seed.
  Sampler k1({.temperature = 1.0f, .top_k = 1, .seed = 99});
  EXPECT_EQ(k1.Sample(logits, {}), 1);
  // Fixed seed: a fixed sequence (SplitMix64 is the same everywhere).
  SplitMix64 rng(1);
  EXPECT_EQ(rng.Next(), 0x910a2dec89025cc1ull);
  Sampler s1({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .seed = 5});
  Sampler s2({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .seed = 5});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s1.Sample(logits, {}), s2.Sample(logits, {}));
  // min-p drops tokens far below the best.
  Sampler minp({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.9f, .seed = 3});
  for (int i = 0; i < 20; ++i) {
    const int t = minp.Sample(logits, {});
    EXPECT_TRUE(t == 1 || t == 2) << t;
  }
  EXPECT_EQ(ValidateSamplingParams({.top_p = 0.0f}).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace llmtk
