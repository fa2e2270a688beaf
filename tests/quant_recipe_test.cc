#include "lib/convert/quant_recipe.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/formats/gguf.h"

namespace llmtk {
namespace {

// random-llama-256 (../shared/quant): dim 256, 2 layers, 8 heads, 4 KV heads,
// FFN 768, vocab 512, untied output; tensors in the file's order.
std::vector<RecipeTensor> RandomLlama256() {
  std::vector<RecipeTensor> t;
  auto add = [&](std::string n, std::vector<int64_t> d) { t.push_back({std::move(n), std::move(d), GgmlType::kF32}); };
  add("token_embd.weight", {256, 512});
  for (int l = 0; l < 2; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {256});
    add(b + "attn_q.weight", {256, 256});
    add(b + "attn_k.weight", {256, 128});
    add(b + "attn_v.weight", {256, 128});
    add(b + "attn_output.weight", {256, 256});
    add(b + "ffn_norm.weight", {256});
    add(b + "ffn_gate.weight", {256, 768});
    add(b + "ffn_up.weight", {256, 768});
    add(b + "ffn_down.weight", {768, 256});
  }
  add("output_norm.weight", {256});
  add("output.weight", {256, 512});
  return t;
}

// Type ids per tensor in output order, as llama-quantize wrote them
// (../shared/quant/mix-*.gguf and the stories260K quantizations).
std::vector<int> Plan(const std::string& type, const RecipeModel& m, const std::vector<RecipeTensor>& in) {
  std::vector<std::string> names;
  for (const auto& t : in) names.push_back(t.name);
  std::vector<RecipeTensor> ordered;
  for (size_t i : LlamaQuantizeOrder(names)) ordered.push_back(in[i]);
  auto target = ParseQuantTarget(type, false);
  EXPECT_TRUE(target.ok()) << target.status();
  std::vector<int> ids;
  for (GgmlType t : PlanTensorTypes(*target, m, ordered)) ids.push_back(static_cast<int>(t));
  return ids;
}

TEST(QuantRecipe, OrderMatchesLlamaQuantize) {
  std::vector<std::string> names;
  for (const auto& t : RandomLlama256()) names.push_back(t.name);
  std::vector<std::string> got;
  for (size_t i : LlamaQuantizeOrder(names)) got.push_back(names[i]);
  ASSERT_EQ(got.size(), 21u);
  EXPECT_EQ(got[0], "output.weight");
  EXPECT_EQ(got[1], "output_norm.weight");
  EXPECT_EQ(got[2], "token_embd.weight");
  EXPECT_EQ(got[3], "blk.0.attn_k.weight");
  EXPECT_EQ(got[8], "blk.0.ffn_down.weight");
  EXPECT_EQ(got[20], "blk.1.ffn_up.weight");
}

TEST(QuantRecipe, RandomLlamaMixesMatchLlamaCpp) {
  const RecipeModel m{"llama", 2, 8, 4, 0};
  const auto in = RandomLlama256();
  using V = std::vector<int>;
  EXPECT_EQ(Plan("Q4_K_M", m, in), (V{14, 0, 12, 12, 0, 12, 12, 12, 12, 12, 0, 12, 12, 0, 12, 12, 14, 14, 12, 0, 12}));
  EXPECT_EQ(Plan("Q2_K", m, in), (V{14, 0, 10, 10, 0, 11, 10, 11, 11, 10, 0, 10, 10, 0, 11, 10, 11, 11, 10, 0, 10}));
  EXPECT_EQ(Plan("Q3_K_M", m, in), (V{14, 0, 11, 11, 0, 12, 11, 13, 12, 11, 0, 11, 11, 0, 12, 11, 13, 12, 11, 0, 11}));
  EXPECT_EQ(Plan("Q5_K_M", m, in), (V{14, 0, 13, 13, 0, 13, 13, 13, 13, 13, 0, 13, 13, 0, 13, 13, 14, 14, 13, 0, 13}));
  EXPECT_EQ(Plan("Q8_0", m, in), (V{8, 0, 8, 8, 0, 8, 8, 8, 8, 8, 0, 8, 8, 0, 8, 8, 8, 8, 8, 0, 8}));
  EXPECT_EQ(Plan("Q4_0", m, in), (V{14, 0, 2, 2, 0, 2, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, 2, 2, 2, 0, 2}));
  EXPECT_EQ(Plan("Q6_K", m, in), (V{14, 0, 14, 14, 0, 14, 14, 14, 14, 14, 0, 14, 14, 0, 14, 14, 14, 14, 14, 0, 14}));
}

// The 2-bit IQ file types as llama-quantize --imatrix c392e50 planned them
// on random-llama-256 (its log): IQ2_XS files are IQ2_XS (17) with Q2_K (10)
// attn_v and token_embd; IQ2_S files IQ2_XS with IQ3_S (21) attn_v,
// attn_output and token_embd; IQ2_M files the same with IQ2_S (22); output
// Q5_K (13) in all.
TEST(QuantRecipe, RandomLlamaIq2MixesMatchLlamaCpp) {
  const RecipeModel m{"llama", 2, 8, 4, 0};
  const auto in = RandomLlama256();
  using V = std::vector<int>;
  EXPECT_EQ(Plan("IQ2_XS", m, in), (V{13, 0, 10, 17, 0, 17, 17, 10, 17, 17, 0, 17, 17, 0, 17, 17, 10, 17, 17, 0, 17}));
  EXPECT_EQ(Plan("IQ2_S", m, in), (V{13, 0, 21, 17, 0, 21, 17, 21, 17, 17, 0, 17, 17, 0, 21, 17, 21, 17, 17, 0, 17}));
  EXPECT_EQ(Plan("IQ2_M", m, in), (V{13, 0, 21, 22, 0, 21, 22, 21, 22, 22, 0, 22, 22, 0, 21, 22, 21, 22, 22, 0, 22}));
}

// stories260K: tied embeddings, 64-wide rows (no 256-blocks) and FFN 172
// (not even 32-blocks): the fallbacks Q4_K -> Q5_0, Q6_K -> Q8_0, -> F16.
TEST(QuantRecipe, Stories260KFallbacksMatchLlamaCpp) {
  auto f = GgufFile::Open(LLMTK_TESTDATA "/quant/stories260K-hf-q8_0.gguf");
  ASSERT_TRUE(f.ok()) << f.status();
  std::vector<RecipeTensor> in;
  for (const auto& t : (*f)->tensors()) in.push_back({std::string(t.name), t.dims, GgmlType::kF32});
  const RecipeModel m{"llama", 5, 8, 4, 0};
  using V = std::vector<int>;
  EXPECT_EQ(Plan("Q4_K_M", m, in),
            (V{0, 8, 6, 0, 6, 6, 6, 1, 6, 0, 6, 6, 0, 6, 6, 6, 1, 6, 0, 6, 6, 0, 6, 6, 8, 1, 6, 0, 6, 6, 0, 6, 6, 6,
               1, 6, 0, 6, 6, 0, 6, 6, 8, 1, 6, 0, 6}));
  EXPECT_EQ(Plan("Q6_K", m, in),
            (V{0, 8, 8, 0, 8, 8, 8, 1, 8, 0, 8, 8, 0, 8, 8, 8, 1, 8, 0, 8, 8, 0, 8, 8, 8, 1, 8, 0, 8, 8, 0, 8, 8, 8,
               1, 8, 0, 8, 8, 0, 8, 8, 8, 1, 8, 0, 8}));
  // Q2_K falls back to IQ4_NL on 64-wide rows.
  const V q2 = Plan("Q2_K", m, in);
  EXPECT_EQ(q2[2], static_cast<int>(GgmlType::kIQ4_NL));  // blk.0.attn_k
  EXPECT_EQ(q2[7], static_cast<int>(GgmlType::kF16));     // blk.0.ffn_down (172)
}

TEST(QuantRecipe, ParsesTypesLikeLlamaQuantize) {
  auto t = ParseQuantTarget("q4_k", true);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ftype, LlamaFileType::kQ4_K_M);
  EXPECT_EQ(t->default_type, GgmlType::kQ4_K);
  EXPECT_TRUE(t->pure);
  auto bad = ParseQuantTarget("Q7_K", false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown --type 'Q7_K'; expected one of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_S, Q3_K_M, "
            "Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, IQ4_NL, IQ4_XS, Q2_K_S, IQ3_XXS, IQ3_XS, IQ3_S, IQ3_M, "
            "IQ2_XXS, IQ2_XS, "
            "IQ2_S, IQ2_M, IQ1_S, IQ1_M, Q3_K, Q4_K, Q5_K");
}

TEST(QuantRecipe, WhichTensorsQuantize) {
  EXPECT_TRUE(TensorAllowsQuantization({"blk.0.attn_q.weight", {64, 64}, GgmlType::kF32}));
  EXPECT_FALSE(TensorAllowsQuantization({"blk.0.attn_norm.weight", {64}, GgmlType::kF32}));
  EXPECT_FALSE(TensorAllowsQuantization({"blk.0.attn_q.bias", {64, 2}, GgmlType::kF32}));
  EXPECT_FALSE(TensorAllowsQuantization({"blk.0.attn_q.weight", {64, 1}, GgmlType::kF32}));  // ggml_n_dims == 1
  EXPECT_FALSE(TensorAllowsQuantization({"blk.0.ffn_gate_inp.weight", {64, 8}, GgmlType::kF32}));
}

}  // namespace
}  // namespace llmtk
