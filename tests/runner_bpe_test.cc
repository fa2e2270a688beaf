// llmtk-run on a byte-level BPE ("gpt2") GGUF model: a seeded random-weight
// LLaMA with the MPT vocabulary of llama.cpp's vocab tests, so prompts go
// through lib/tokenizer's byte-level BPE and generated ids decode through
// GPT-2's byte map.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include <gtest/gtest.h>

#include "lib/formats/gguf.h"
#include "lib/base/io.h"
#include "lib/convert/quant_recipe.h"
#include "lib/convert/random_model.h"
#include "lib/model/runner.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

const std::string kData = std::string(LLMTK_TESTDATA) + "/";

class BpeModel : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("llmtk_runner_bpe_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto bytes = ReadFileToString(kData + "tok/ggml-vocab-mpt.gguf.zst");
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    vocab_bytes_ = std::move(*bytes);
    auto vocab = GgufFile::FromBuffer(vocab_bytes_, "ggml-vocab-mpt.gguf");
    ASSERT_TRUE(vocab.ok()) << vocab.status();
    auto tokens = (*vocab)->GetStringArray("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    std::ofstream(dir_ / "config.json") << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
      "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
      "num_key_value_heads": 2, "vocab_size": )"
                                        << tokens->size() << R"(, "max_position_embeddings": 64,
      "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": true})";
    RandomModelOptions ro;
    ro.config = (dir_ / "config.json").string();
    ro.seed = 7;
    auto src = RandomModelSource(ro);
    ASSERT_TRUE(src.ok()) << src.status();
    for (const GgufKv& kv : (*vocab)->metadata()) {
      if (kv.key.starts_with("tokenizer.")) src->metadata.SetRaw(kv.key, kv.value.type(), kv.value.raw());
    }
    auto target = ParseQuantTarget("F32", false);
    ASSERT_TRUE(target.ok()) << target.status();
    QuantizeOptions qo;
    qo.target = *target;
    path_ = (dir_ / "model.gguf").string();
    auto rep = QuantizeModel(*src, path_, qo);
    ASSERT_TRUE(rep.ok()) << rep.status();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string vocab_bytes_, path_;
};

TEST_F(BpeModel, EncodesWithByteLevelBpeAndDecodesEachToken) {
  auto model = Model::Load(path_);
  ASSERT_TRUE(model.ok()) << model.status();
  auto runner = Runner::Create(**model, {.n_ctx = 64});
  ASSERT_TRUE(runner.ok()) << runner.status();
  const Vocab& vocab = (*runner)->vocab();
  ASSERT_NE(vocab.tokenizer(), nullptr);
  EXPECT_EQ(vocab.model(), "gpt2");
  // llama.cpp's vocab test vector for this text (ggml-vocab-mpt.gguf.out).
  const std::string prompt = "ied 4 \xC2\xBD months";
  std::vector<int32_t> want = {728, 577, 24142, 2607};
  if (vocab.add_bos()) want.insert(want.begin(), vocab.bos());
  auto ids = vocab.Encode(prompt, true);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, want);

  GenerateOptions g;
  g.sampling.temperature = 0;
  g.max_tokens = 12;
  g.logprobs = 1;
  auto res = (*runner)->Generate(prompt, g, nullptr);
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->prompt_tokens, static_cast<int>(want.size()));
  ASSERT_FALSE(res->logprobs.empty());
  // Each token's bytes are what the tokenizer decodes it to, and the
  // completion is the whole sequence decoded (byte-level BPE adds no space).
  std::vector<uint32_t> gen;
  std::string joined;
  for (const auto& entry : res->logprobs) {
    const uint32_t id = static_cast<uint32_t>(entry[0].id);
    if (vocab.IsEog(entry[0].id)) break;
    gen.push_back(id);
    auto one = vocab.tokenizer()->Decode(std::span<const uint32_t>(&id, 1), true);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(entry[0].text, *one) << "token " << id;
    joined += entry[0].text;
  }
  ASSERT_FALSE(gen.empty());
  auto all = vocab.tokenizer()->Decode(gen, true);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(res->text, *all);
  EXPECT_EQ(res->text, joined);
}

// lm-evaluation-harness's split on a byte-level vocabulary: " Paris" after
// the prompt is the one token "ĠParis" (7785), as in the whole text; the
// prompt's trailing space moves to the completion; "Paris" without a space
// is another token (36062). MPT's vocabulary adds no BOS.
TEST_F(BpeModel, ScoreSplitsLikeLmEvaluationHarness) {
  auto model = Model::Load(path_);
  ASSERT_TRUE(model.ok()) << model.status();
  auto runner = Runner::Create(**model, {.n_ctx = 64});
  ASSERT_TRUE(runner.ok()) << runner.status();
  const Vocab& vocab = (*runner)->vocab();
  ASSERT_FALSE(vocab.add_bos());
  const std::vector<int32_t> prompt = {510, 3662, 310, 27};  // The answer is:
  for (const auto& [p, c, want] : std::vector<std::tuple<std::string, std::string, std::vector<int32_t>>>{
           {"The answer is:", " Paris", {7785}},
           {"The answer is: ", "Paris", {7785}},
           {"The answer is:", "Paris", {36062}}}) {
    auto split = EncodeScorePair(vocab, p, c);
    ASSERT_TRUE(split.ok()) << split.status();
    EXPECT_EQ(split->prompt, prompt) << p << "|" << c;
    EXPECT_EQ(split->completion, want) << p << "|" << c;
  }
  auto a = (*runner)->Score("The answer is:", " Paris");
  auto b = (*runner)->Score("The answer is: ", "Paris");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->prompt_tokens, 4);
  EXPECT_EQ(a->completion_tokens, 1);
  EXPECT_EQ(a->logprob, b->logprob);
}

}  // namespace
}  // namespace llmtk
