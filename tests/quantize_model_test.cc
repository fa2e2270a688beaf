#include "lib/convert/quantize_model.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "lib/formats/gguf.h"

namespace llmtk {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid());
}

// A one-layer F32 "model" whose attn_k is the reference tensor.
class QuantizeModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
    ASSERT_TRUE(f.ok()) << f.status();
    ref_ = std::move(*f);
    const GgufTensor* in = ref_->FindTensor("input");
    GgufMetadata md;
    md.SetString("general.architecture", "llama");
    md.SetU32("llama.block_count", 1);
    md.SetU32("llama.attention.head_count", 8);
    md.SetU32("llama.attention.head_count_kv", 4);
    std::vector<GgufTensorSpec> specs = {{"blk.0.attn_norm.weight", GgmlType::kF32, {256}},
                                         {"blk.0.attn_k.weight", GgmlType::kF32, in->dims}};
    model_ = TempPath("model.gguf");
    ASSERT_TRUE(WriteGguf(model_, md, specs, [&](size_t i, uint8_t* out, size_t n) {
                  if (i == 0) {
                    for (size_t k = 0; k < n / 4; ++k) reinterpret_cast<float*>(out)[k] = 1.0f;
                  } else {
                    std::memcpy(out, in->data, n);
                  }
                  return absl::OkStatus();
                }).ok());
  }
  void TearDown() override { std::remove(model_.c_str()); }

  std::unique_ptr<GgufFile> ref_;
  std::string model_;
};

TEST_F(QuantizeModelTest, PureTypesMatchLlamaQuantizeWhateverTheThreads) {
  for (const char* type : {"q4_k", "q6_k", "q2_k", "q8_0", "q5_1", "bf16"}) {
    QuantizeFileOptions o;
    o.input = model_;
    o.type = type;
    o.pure = true;
    o.threads = 1;
    o.output = TempPath("out1.gguf");
    auto r = QuantizeFile(o);
    ASSERT_TRUE(r.ok()) << r.status();
    o.threads = 3;
    o.output = TempPath("out3.gguf");
    ASSERT_TRUE(QuantizeFile(o).ok());
    EXPECT_EQ(ReadAll(TempPath("out1.gguf")), ReadAll(TempPath("out3.gguf"))) << type;
    auto out = GgufFile::Open(TempPath("out1.gguf"));
    ASSERT_TRUE(out.ok()) << out.status();
    const GgufTensor* got = (*out)->FindTensor("blk.0.attn_k.weight");
    const GgufTensor* want = ref_->FindTensor(type);
    ASSERT_NE(got, nullptr);
    ASSERT_EQ(got->type, want->type) << type;
    ASSERT_EQ(got->n_bytes, want->n_bytes);
    EXPECT_EQ(std::memcmp(got->data, want->data, got->n_bytes), 0) << type;
    EXPECT_EQ((*out)->FindTensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);
    EXPECT_EQ(*(*out)->GetU32("general.quantization_version"), 2u);
    EXPECT_EQ(r->output_bytes, (*out)->file_size());
  }
  std::remove(TempPath("out1.gguf").c_str());
  std::remove(TempPath("out3.gguf").c_str());
}

TEST_F(QuantizeModelTest, DryRunPlansWithoutWriting) {
  QuantizeFileOptions o;
  o.input = model_;
  o.type = "Q4_K_M";
  o.dry_run = true;
  o.output = TempPath("never.gguf");
  auto r = QuantizeFile(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(std::ifstream(o.output).good());
  ASSERT_EQ(r->tensors.size(), 2u);
  EXPECT_EQ(r->tensors[0].name, "blk.0.attn_k.weight");
  EXPECT_EQ(r->tensors[0].to, GgmlType::kQ4_K);
  EXPECT_EQ(r->tensors[0].bytes, 128u * 144);
  EXPECT_EQ(FormatQuantizeReport(*r, false),
            "blk.0.attn_k.weight              256x128           f32 -> q4_K        18432 bytes\n"
            "blk.0.attn_norm.weight           256               f32 -> f32          1024 bytes\n"
            "Q4_K_M: 2 tensors, 132096 bytes of tensor data in, 19840 bytes out\n");
}

TEST(QuantizeModel, RefusesToRequantize) {
  QuantizeFileOptions o;
  o.input = LLMTK_TESTDATA "/quant/stories260K-hf-q8_0.gguf";
  o.type = "Q4_K_M";
  o.dry_run = true;
  auto r = QuantizeFile(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(std::string(r.status().message()), std::string(LLMTK_TESTDATA) +
                                      "/quant/stories260K-hf-q8_0.gguf: tensor 'blk.0.attn_k.weight' is already "
                                      "quantized (q8_0); requantizing to q5_0 is not supported, start from "
                                      "F32/F16/BF16");
}

}  // namespace
}  // namespace llmtk
