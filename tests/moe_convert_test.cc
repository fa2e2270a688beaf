// HF -> GGUF for Qwen3MoeForCausalLM against the convert_hf_to_gguf.py that
// knows it (node-llama-cpp 3.22.1's bundled llama.cpp; c392e50 predates it):
// testdata/moe/qwen3moeTiny is a random BF16 checkpoint at tiny-qwen3moe's
// config (hidden 64, 1 layer, 16 experts) and qwen3moe-convert.tsv the
// sha256 of that converter's f32/bf16/f16/q8_0 outputs, written without a
// vocabulary because its GPT-2-style one needs transformers (absent here);
// see scripts/reference/moe-hf-reference.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/convert/hf_convert.h"
#include "lib/convert/quant_recipe.h"
#include "lib/convert/quantize_model.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

std::string Dir() {
  const std::string d =
      (std::filesystem::temp_directory_path() / ("moe_convert_" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(d);
  return d;
}

// Every key but the vocabulary, every tensor, in the converter's order and
// bytes: the whole file equals the reference's.
TEST(MoeConvert, Qwen3MoeIsConvertHfToGgufBytesApartFromVocabulary) {
  std::ifstream in(Testdata("moe/qwen3moe-convert.tsv"));
  std::string line;
  std::getline(in, line);
  int checked = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    auto src = OpenHfSource(Testdata("moe/" + f[0]));
    ASSERT_TRUE(src.ok()) << src.status();
    std::vector<std::string> vocab;
    for (const GgufMetadata::Entry& e : src->metadata.entries())
      if (e.key.rfind("tokenizer.", 0) == 0) vocab.push_back(e.key);
    ASSERT_FALSE(vocab.empty());
    for (const std::string& k : vocab) src->metadata.Remove(k);
    auto target = ParseQuantTarget(f[1], false);
    ASSERT_TRUE(target.ok()) << target.status();
    QuantizeOptions qo;
    qo.target = *target;
    qo.threads = 2;
    const std::string out = Dir() + "/qwen3moe-" + f[1] + ".gguf";
    auto r = QuantizeModel(*src, out, qo);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*Sha256File(out), f[2]) << line;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

// With its vocabulary (here the checkpoint's tokenizer.model) the file keeps
// that converter's order: the quantization version before the tokenizer
// keys, expert_count among the generic keys before expert_used_count.
TEST(MoeConvert, Qwen3MoeKeyOrder) {
  QuantizeFileOptions o;
  o.input = Testdata("moe/qwen3moeTiny");
  o.output = Dir() + "/qwen3moe-vocab.gguf";
  o.type = "q8_0";
  auto r = QuantizeFile(o);
  ASSERT_TRUE(r.ok()) << r.status();
  auto f = GgufFile::Open(o.output);
  ASSERT_TRUE(f.ok()) << f.status();
  std::vector<std::string> keys;
  for (const GgufKv& kv : (*f)->metadata()) keys.emplace_back(kv.key);
  auto at = [&](std::string_view k) { return std::find(keys.begin(), keys.end(), k) - keys.begin(); };
  const auto qv = at(GgufKeyName(GgufKey::kGeneralQuantizationVersion));
  const auto tok = at("tokenizer.ggml.model");
  ASSERT_LT(tok, static_cast<long>(keys.size()));
  EXPECT_EQ(qv + 1, tok);
  EXPECT_EQ(at(GgufKeyName(GgufArchKey::kExpertCount, "qwen3moe")) + 1,
            at(GgufKeyName(GgufArchKey::kExpertUsedCount, "qwen3moe")));
}

}  // namespace
}  // namespace llmtk
