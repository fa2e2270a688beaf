// Gemma 2 / Gemma 3 checkpoints (tiny, random, BF16; testdata/quant/Gemma{2,3}Tiny)
// to GGUF, byte for byte what convert_hf_to_gguf.py writes for each --outtype
// (testdata/quant/gemma-convert.sha256): the converters' key order, the
// (1 + w) norms added in F32, the pre/post-norm names, the tied output
// dropped, tensors in safetensors' sorted-name order, add_space_prefix off.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/convert/gemma_convert.h"
#include "lib/convert/hf_convert.h"
#include "lib/convert/quantize_model.h"

namespace llmtk {
namespace {

TEST(HfConvertGemma, ByteIdenticalToConvertHfToGguf) {
  std::ifstream in(LLMTK_TESTDATA "/quant/gemma-convert.sha256");
  int checked = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    auto src = OpenHfSource(std::string(LLMTK_TESTDATA) + "/quant/" + f[0]);
    ASSERT_TRUE(src.ok()) << src.status();
    QuantizeOptions o;
    o.target = *ParseQuantTarget(f[1], false);
    o.threads = 2;
    const std::string out = testing::TempDir() + "/gemma-conv-" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(QuantizeModel(*src, out, o).ok());
    auto sha = Sha256File(out);
    ASSERT_TRUE(sha.ok());
    EXPECT_EQ(*sha, f[2]) << f[0] << " " << f[1];
    std::remove(out.c_str());
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

TEST(HfConvertGemma, NormShiftRoundsOnlyInF16) {
  // 0.3 + 1 in F32 keeps F32's bits; an F16 checkpoint's sum is an F16.
  EXPECT_EQ(GemmaShiftNorm(0.3f, GgmlType::kF32), 1.3f);
  EXPECT_EQ(GemmaShiftNorm(0.3f, GgmlType::kBF16), 1.3f);
  EXPECT_EQ(GemmaShiftNorm(0.3f, GgmlType::kF16), 1.2998046875f);
}

TEST(HfConvertGemma, Gemma3TextConfigDefaults) {
  // google/gemma-3-4b-it's config: text_config has only what differs from
  // transformers' Gemma3TextConfig defaults.
  auto cfg = ReadHfConfig(LLMTK_TESTDATA "/configs/google__gemma-3-4b-it.config.json");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->arch, "gemma3");
  EXPECT_EQ(cfg->n_layer, 34);
  EXPECT_EQ(cfg->n_embd, 2560);
  EXPECT_EQ(cfg->n_head, 8);
  EXPECT_EQ(cfg->n_head_kv, 4);
  EXPECT_EQ(cfg->head_dim, 256);
  EXPECT_EQ(cfg->vocab, 262208);
  EXPECT_EQ(cfg->sliding_window, 1024);
  EXPECT_EQ(cfg->rope_scaling_type, "linear");
  EXPECT_EQ(cfg->rope_scaling_factor, 8.0);
  EXPECT_EQ(cfg->rope_theta, 1e6);
}

}  // namespace
}  // namespace llmtk
