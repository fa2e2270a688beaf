// Gemma 2's soft-capping as config.json states it, and what attention written
// out as matmuls saves: the tanh output, the fp32 softmax and its 16-bit cast
// per score, key/value heads repeated for every query head, and the final
// soft-capping's tanh output per logit (docs/vram.md "Soft-capping").
#include <string>

#include "gtest/gtest.h"
#include "lib/vram/estimate.h"
#include "lib/vram/model_shape.h"

namespace llmtk {
namespace {

ModelShape Load(const std::string& name) {
  absl::StatusOr<ModelShape> m =
      LoadModelShape(std::string(LLMTK_TESTDATA) + "/configs/" + name + ".config.json");
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

int64_t Activations(const ModelShape& m, const TrainingOptions& o) {
  absl::StatusOr<MemoryEstimate> e = EstimateTraining(m, o);
  EXPECT_TRUE(e.ok()) << e.status();
  const MemoryLine* l = e->Find("activations");
  EXPECT_NE(l, nullptr);
  return l ? l->bytes : -1;
}

TEST(Softcapping, FromConfigJson) {
  // No keys in the file: Gemma2Config's defaults.
  const ModelShape g9 = Load("google__gemma-2-9b.PARTIAL");
  EXPECT_EQ(g9.attn_logit_softcapping, 50.0);
  EXPECT_EQ(g9.final_logit_softcapping, 30.0);
  const ModelShape g27 = Load("google__gemma-2-27b.PARTIAL");
  EXPECT_EQ(g27.attn_logit_softcapping, 50.0);
  EXPECT_EQ(g27.final_logit_softcapping, 30.0);
  EXPECT_EQ(Load("google__gemma-3-12b-it.PARTIAL").attn_logit_softcapping, 0.0);
  EXPECT_EQ(Load("meta-llama__Llama-2-7b-hf").final_logit_softcapping, 0.0);

  const std::string base =
      R"({"model_type": "gemma2", "hidden_size": 256, "num_hidden_layers": 2,
          "intermediate_size": 512, "num_attention_heads": 4, "num_key_value_heads": 2,
          "head_dim": 64, "vocab_size": 512, )";
  absl::StatusOr<ModelShape> off =
      ParseHfConfig(base + R"("attn_logit_softcapping": null, "final_logit_softcapping": 15})",
                    "off.json");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->attn_logit_softcapping, 0.0);
  EXPECT_EQ(off->final_logit_softcapping, 15.0);
  EXPECT_EQ(ParseHfConfig(base + R"("attn_logit_softcapping": -1})", "neg.json").status().message(),
            "neg.json: key 'attn_logit_softcapping' is negative (-1) (model_type gemma2)");
  EXPECT_EQ(ParseHfConfig(base + R"("final_logit_softcapping": "30"})", "str.json").status().message(),
            "str.json: key 'final_logit_softcapping' is not a number or null (model_type gemma2)");
}

TEST(Softcapping, EagerAttentionSavesTanhSoftmaxAndCastPerScore) {
  const ModelShape g = Load("google__gemma-2-9b.PARTIAL");  // 42 layers, 16 heads, 8 KV heads of 256
  ModelShape plain = g;
  plain.attn_logit_softcapping = 0;
  plain.final_logit_softcapping = 0;
  TrainingOptions o;
  o.cuda_context = 0;
  o.alloc_overhead = 0;
  o.method = TrainMethod::kLora;  // no gradients to speak of: the peak is at the loss
  o.precision = Precision::kBf16;
  o.seq_len = 512;
  o.micro_batch = 1;
  o.loss = LossImpl::kChunked;
  o.flash_attention = false;
  const int64_t tokens = 512, layers = 42, scores_per_token = 16 * 512;
  const int64_t logits = tokens * 256000;
  // Scores: tanh (2) + fp32 softmax (4) + bf16 cast (2) where Korthikanti has 2;
  // logits: + the final tanh output (2).
  EXPECT_EQ(Activations(g, o) - Activations(plain, o),
            tokens * layers * scores_per_token * 6 + logits * 2);
  // Autocast already counts an fp32 softmax (2 + 2): the same 8 bytes per score.
  o.precision = Precision::kAmp;
  EXPECT_EQ(Activations(g, o) - Activations(plain, o),
            tokens * layers * scores_per_token * 4 + logits * 2);
  // Without soft-capping, eager attention against a fused kernel: the 2-byte
  // scores and the repeated K/V heads (2 x 8 extra heads x 256 x 2 bytes), less
  // the fused kernel's fp32 log-sum-exp per head.
  o.precision = Precision::kBf16;
  const int64_t eager = Activations(plain, o);
  o.flash_attention = true;
  EXPECT_EQ(eager - Activations(plain, o),
            tokens * layers * (scores_per_token * 2 + 2 * 8 * 256 * 2 - 4 * 16));
  // A fused kernel with soft-capping (flash-attn >= 2.6) saves no scores.
  EXPECT_EQ(Activations(g, o) - Activations(plain, o), logits * 2);
}

}  // namespace
}  // namespace llmtk
