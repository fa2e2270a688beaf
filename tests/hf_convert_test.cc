#include "lib/convert/hf_convert.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "lib/formats/gguf.h"
#include "lib/convert/hf_tokenizer.h"
#include "lib/convert/quantize_model.h"

namespace llmtk {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// HF checkpoint -> Q8_0 GGUF must be byte-identical to llama.cpp's
// convert_hf_to_gguf.py --outtype q8_0: metadata (tokenizer included),
// tensor order, un-permuted q/k rows, Q8_0 blocks and F16 fallbacks.
TEST(HfConvert, Stories260KQ8_0IsByteIdenticalToConvertHfToGguf) {
  auto src = OpenHfSource(LLMTK_TESTDATA "/quant/stories260K");
  ASSERT_TRUE(src.ok()) << src.status();
  QuantizeOptions o;
  o.target = *ParseQuantTarget("Q8_0", false);
  o.threads = 2;
  const std::string out = ::testing::TempDir() + "/hf-q8_0-" + std::to_string(::getpid()) + ".gguf";
  auto r = QuantizeModel(*src, out, o);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string want = ReadAll(LLMTK_TESTDATA "/quant/stories260K-hf-q8_0.gguf");
  const std::string got = ReadAll(out);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  std::remove(out.c_str());
}

TEST(HfConvert, UnpermutesRotaryRows) {
  // 2 heads of 4 rows: HF [h0: r0 r1 i0 i1][h1: ...] -> GGUF [r0 i0 r1 i1] per head.
  const uint8_t src[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  uint8_t dst[8];
  UnpermuteRotaryRows(src, dst, 8, 1, 2);
  EXPECT_EQ(std::vector<uint8_t>(dst, dst + 8), (std::vector<uint8_t>{0, 2, 1, 3, 4, 6, 5, 7}));
}

TEST(HfConvert, ErrorsNameTheProblem) {
  auto missing = OpenHfSource(LLMTK_TESTDATA "/quant");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(missing.status().message()),
            std::string(LLMTK_TESTDATA) + "/quant/config.json: cannot read (is this a Hugging Face model directory?)");
  auto sp = ParseSentencePieceModel(std::string("\x0a\x05\x0a\x09", 4), "t.model");
  EXPECT_EQ(sp.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::string(sp.status().message()), "t.model: malformed SentencePiece model at byte 0 (truncated piece)");
}

TEST(HfConvert, ParsesSentencePieceModel) {
  auto sp = ParseSentencePieceModel(ReadAll(LLMTK_TESTDATA "/quant/stories260K/tokenizer.model"), "tokenizer.model");
  ASSERT_TRUE(sp.ok()) << sp.status();
  ASSERT_EQ(sp->size(), 512u);
  EXPECT_EQ((*sp)[0].piece, "<unk>");
  EXPECT_EQ((*sp)[0].type, 2);
  EXPECT_EQ((*sp)[1].type, 3);
  EXPECT_EQ((*sp)[3].piece, "<0x00>");
  EXPECT_EQ((*sp)[3].type, 6);
  EXPECT_EQ((*sp)[511].score, -252.0f);
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

// A tiny Qwen3-shaped checkpoint in BF16 written by the test itself.
class Qwen3Dir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/qwen3-" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str()), 0);
    std::ofstream(dir_ + "/config.json") << R"({"architectures":["Qwen3ForCausalLM"],"hidden_size":64,)"
                                             R"("intermediate_size":128,"num_hidden_layers":1,)"
                                             R"("num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,)"
                                             R"("vocab_size":512,"max_position_embeddings":4096,)"
                                             R"("rms_norm_eps":1e-06,"rope_theta":1000000.0,)"
                                             R"("tie_word_embeddings":true,"rope_scaling":null})";
    std::ofstream(dir_ + "/tokenizer.model", std::ios::binary)
        << ReadAll(LLMTK_TESTDATA "/quant/stories260K/tokenizer.model");
    std::vector<std::pair<std::string, std::vector<int64_t>>> t = {
        {"model.embed_tokens.weight", {512, 64}},
        {"model.layers.0.input_layernorm.weight", {64}},
        {"model.layers.0.self_attn.q_proj.weight", {64, 64}},
        {"model.layers.0.self_attn.k_proj.weight", {32, 64}},
        {"model.layers.0.self_attn.v_proj.weight", {32, 64}},
        {"model.layers.0.self_attn.o_proj.weight", {64, 64}},
        {"model.layers.0.self_attn.q_norm.weight", {16}},
        {"model.layers.0.self_attn.k_norm.weight", {16}},
        {"model.layers.0.post_attention_layernorm.weight", {64}},
        {"model.layers.0.mlp.gate_proj.weight", {128, 64}},
        {"model.layers.0.mlp.up_proj.weight", {128, 64}},
        {"model.layers.0.mlp.down_proj.weight", {64, 128}},
        {"model.norm.weight", {64}},
    };
    if (extra_) t.push_back({"model.layers.0.self_attn.rope_magic.weight", {4}});
    std::string header = "{", data;
    for (const auto& [name, shape] : t) {
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      const size_t begin = data.size();
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t v = Fp32ToBf16(static_cast<float>(i % 97) / 97.0f - 0.5f);
        data.append(reinterpret_cast<const char*>(&v), 2);
      }
      if (header.size() > 1) header += ",";
      header += "\"" + name + "\":{\"dtype\":\"BF16\",\"shape\":[";
      for (size_t k = 0; k < shape.size(); ++k) absl::StrAppend(&header, k ? "," : "", shape[k]);
      header += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
    }
    header += "}";
    const uint64_t hl = header.size();
    std::ofstream f(dir_ + "/model.safetensors", std::ios::binary);
    f.write(reinterpret_cast<const char*>(&hl), 8);
    f << header << data;
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
  bool extra_ = false;
};

TEST_F(Qwen3Dir, MapsNamesNormsAndKeysWithoutPermuting) {
  auto src = OpenHfSource(dir_);
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<std::string> names;
  for (const auto& t : src->tensors) names.push_back(t.name);
  // In safetensors' keys() order (sorted by HF name), as convert_hf_to_gguf.py
  // reads them, whatever the header's order.
  EXPECT_EQ(names, (std::vector<std::string>{"token_embd.weight", "blk.0.attn_norm.weight", "blk.0.ffn_down.weight",
                                             "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_norm.weight",
                                             "blk.0.attn_k_norm.weight", "blk.0.attn_k.weight",
                                             "blk.0.attn_output.weight", "blk.0.attn_q_norm.weight",
                                             "blk.0.attn_q.weight", "blk.0.attn_v.weight", "output_norm.weight"}));
  EXPECT_EQ(src->tensors[10].type, GgmlType::kBF16);
  EXPECT_NE(src->tensors[10].data, nullptr);  // qwen rope is NeoX style: rows stay as they are
  EXPECT_EQ(src->tensors[9].type, GgmlType::kF32);  // 1-D tensors become F32
  EXPECT_EQ(src->tensors[3].dims, (std::vector<int64_t>{64, 128}));
  const auto* kl = src->metadata.Find("qwen3.attention.key_length");
  ASSERT_NE(kl, nullptr);
  EXPECT_EQ(src->metadata.Find("qwen3.vocab_size"), nullptr);
  EXPECT_NE(src->metadata.Find("tokenizer.ggml.tokens"), nullptr);
  const std::string out = dir_ + "/out.gguf";
  QuantizeOptions o;
  o.target = *ParseQuantTarget("Q8_0", false);
  ASSERT_TRUE(QuantizeModel(*src, out, o).ok());
  auto g = GgufFile::Open(out);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*(*g)->GetString("general.architecture"), "qwen3");
  EXPECT_EQ(*(*g)->GetU32("qwen3.attention.head_count_kv"), 2u);
  EXPECT_EQ(*(*g)->GetF32("qwen3.rope.freq_base"), 1000000.0f);
  EXPECT_EQ((*g)->FindTensor("blk.0.attn_q_norm.weight")->type, GgmlType::kF32);
  EXPECT_EQ((*g)->FindTensor("blk.0.ffn_down.weight")->type, GgmlType::kQ8_0);
}

class Qwen3DirExtra : public Qwen3Dir {
 protected:
  void SetUp() override {
    extra_ = true;
    Qwen3Dir::SetUp();
  }
};

TEST_F(Qwen3DirExtra, UnknownTensorsAreNamed) {
  auto src = OpenHfSource(dir_);
  EXPECT_EQ(src.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(std::string(src.status().message()),
            dir_ + ": cannot map these tensors to GGUF for qwen3: model.layers.0.self_attn.rope_magic.weight");
}

TEST_F(Qwen3Dir, UnsupportedArchitectureIsNamed) {
  std::ofstream(dir_ + "/config.json") << R"({"architectures":["GPT2LMHeadModel"]})";
  auto src = OpenHfSource(dir_);
  EXPECT_EQ(src.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(std::string(src.status().message()),
            dir_ + "/config.json: architecture GPT2LMHeadModel is not supported (supported: LlamaForCausalLM, "
                   "MistralForCausalLM, MixtralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, "
                   "Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, DeepseekV2ForCausalLM, Phi3ForCausalLM, "
                   "GlmForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, "
                   "Gemma3ForConditionalGeneration)");
}

}  // namespace
}  // namespace llmtk

#include <xxhash.h>

#include "lib/base/io.h"

namespace llmtk {
namespace {

uint64_t PayloadHash(const GgufMetadata& md, const std::string& key) {
  const GgufMetadata::Entry* e = md.Find(key);
  return e == nullptr ? 0 : XXH3_64bits(e->payload.data(), e->payload.size());
}

// GPT-2's tokenizer.json as a byte-level BPE GGUF vocabulary. The hashes are
// those of the same keys' serialized values in llama.cpp's
// models/ggml-vocab-gpt-2.gguf (../shared/tokenizers/ggml-vocab).
TEST(HfConvertTokenizer, Gpt2BpeMatchesLlamaCppVocab) {
  const std::string dir = ::testing::TempDir() + "/gpt2-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  auto json = ReadFileToString(LLMTK_TESTDATA "/quant/gpt2-tokenizer.json.zst");
  ASSERT_TRUE(json.ok()) << json.status();
  std::ofstream(dir + "/tokenizer.json", std::ios::binary) << *json;
  std::ofstream(dir + "/tokenizer_config.json") << ReadAll(LLMTK_TESTDATA "/quant/gpt2-tokenizer_config.json");
  GgufMetadata md;
  ASSERT_TRUE(AddHfTokenizerMetadata(dir, 50257, &md).ok());
  std::vector<std::string> keys;
  for (const auto& e : md.entries()) keys.push_back(e.key);
  // Today's tokenizer_config.json also names an unk_token, which the
  // (older) llama.cpp vocabulary file predates.
  EXPECT_EQ(keys, (std::vector<std::string>{"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens",
                                            "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                                            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                            "tokenizer.ggml.unknown_token_id"}));
  EXPECT_EQ(md.Find("tokenizer.ggml.pre")->payload.substr(8), "gpt-2");
  EXPECT_EQ(PayloadHash(md, "tokenizer.ggml.tokens"), 0xd9eadbcd45b6a7fcull);
  EXPECT_EQ(PayloadHash(md, "tokenizer.ggml.token_type"), 0x0c35f786b3e011c2ull);
  EXPECT_EQ(PayloadHash(md, "tokenizer.ggml.merges"), 0x7670b888632bba47ull);
  // An unknown pre-tokenizer is refused rather than guessed.
  std::string other = *json;
  const size_t at = other.find("\"use_regex\": true");
  ASSERT_NE(at, std::string::npos);
  other.replace(at, 17, "\"use_regex\":false");
  std::ofstream(dir + "/tokenizer.json", std::ios::binary) << other;
  GgufMetadata md2;
  auto s = AddHfTokenizerMetadata(dir, 50257, &md2);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  (void)std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

TEST(HfConvertTokenizer, WidensOnlyBigIntegersOutsideStrings) {
  EXPECT_EQ(WidenBigIntegers(R"({"m": 1000000000000000019884624838656, "s": "12345678901234567890123", "n": 12,)"
                             R"( "f": 1234567890123456789012.5, "e": 12345678901234567890123e3, "q": "\"99999999999999999999"})"),
            R"({"m": 1000000000000000019884624838656.0, "s": "12345678901234567890123", "n": 12,)"
            R"( "f": 1234567890123456789012.5, "e": 12345678901234567890123e3, "q": "\"99999999999999999999"})");
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

// Llama 3.1 8B's rope_scaling: theta 500000, head_dim 128, factor 8, low 1,
// high 4, original context 8192. High frequencies keep factor 1, low ones get
// 8, the band between is smoothed.
TEST(HfConvert, Llama3RopeFactors) {
  HfConfig cfg;
  cfg.head_dim = 128;
  cfg.has_theta = true;
  cfg.rope_theta = 500000.0;
  cfg.rope_scaling_type = "llama3";
  cfg.rope_scaling_factor = 8.0;
  const std::vector<float> f = Llama3RopeFactors(cfg);
  ASSERT_EQ(f.size(), 64u);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[63], 8.0f);
  int smoothed = 0;
  for (size_t i = 1; i < f.size(); ++i) {
    EXPECT_GE(f[i], f[i - 1]);
    if (f[i] > 1.0f && f[i] < 8.0f) {
      ++smoothed;
      const double freq = 1.0 / std::pow(500000.0, 2.0 * i / 128.0);
      const double smooth = (8192.0 / (2 * M_PI / freq) - 1.0) / 3.0;
      EXPECT_NEAR(f[i], 1.0 / ((1 - smooth) / 8.0 + smooth), 1e-4) << i;
    }
  }
  EXPECT_GT(smoothed, 0);
}

}  // namespace
}  // namespace llmtk
