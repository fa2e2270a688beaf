// Gemma 2 and Gemma 3 (text) against llama.cpp: random models that
// `llmtk-quant random-model` writes from tiny configs (sliding window 16,
// gemma3 with its one global layer of six and linear RoPE scaling on global
// layers), compared with what the prebuilt llama.cpp of node-llama-cpp
// computed on the same files (testdata/run/gemma/llamacpp.tsv, written by
// scripts/reference/gemma-llamacpp-golden): perplexity on 200 ids with a
// 64-token context (4 windows), 64 greedy ids after a 16-id prompt (80
// positions, 5 windows), and F32 logits at positions around the window edges.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/sha256.h"
#include "lib/convert/quantize_model.h"
#include "lib/convert/random_model.h"
#include "lib/eval/perplexity.h"
#include "lib/ggml/types.h"
#include "lib/model/arch_gemma.h"
#include "lib/model/model.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

std::string Data(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/run/gemma/" + rel; }

std::vector<int32_t> ReadIds(const std::string& path) {
  std::ifstream in(path);
  std::vector<int32_t> ids;
  for (int32_t v; in >> v;) ids.push_back(v);
  return ids;
}

// llamacpp.tsv: MODEL TYPE ppl VALUE | MODEL TYPE greedy IDS | MODEL TYPE logits POS VALUES.
struct Golden {
  double ppl = 0;
  std::vector<int32_t> greedy;
  std::map<int, std::vector<float>> logits;
};
std::map<std::string, Golden> ReadGoldens() {
  std::map<std::string, Golden> g;
  std::ifstream in(Data("llamacpp.tsv"));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() < 4) continue;
    Golden& x = g[f[0] + "/" + f[1]];
    if (f[2] == "ppl") {
      x.ppl = std::stod(f[3]);
    } else if (f[2] == "greedy") {
      std::istringstream s(f[3]);
      for (int32_t v; s >> v;) x.greedy.push_back(v);
    } else if (f[2] == "logits" && f.size() == 5) {
      std::istringstream s(f[4]);
      std::vector<float>& row = x.logits[std::stoi(f[3])];
      for (float v; s >> v;) row.push_back(v);
    }
  }
  return g;
}

class GemmaTest : public testing::TestWithParam<std::tuple<const char*, const char*>> {
 protected:
  void SetUp() override {
    arch_ = std::get<0>(GetParam());
    type_ = std::get<1>(GetParam());
    path_ = testing::TempDir() + "/" + arch_ + "-" + type_ + "-" + std::to_string(::getpid()) + ".gguf";
    RandomModelOptions o;
    o.config = Data(arch_ + ".config.json");
    auto r = WriteRandomModel(o, path_, type_, 2);
    ASSERT_TRUE(r.ok()) << r.status();
    auto m = Model::Load(path_);
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(*m);
    goldens_ = ReadGoldens();
    ASSERT_TRUE(goldens_.count(arch_ + "/" + type_)) << "no golden for " << arch_ << " " << type_;
    golden_ = goldens_[arch_ + "/" + type_];
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::unique_ptr<Session> NewSession(int n_ctx) {
    SessionOptions so;
    so.n_ctx = n_ctx;
    so.threads = 2;
    return Session::Create(*model_, so).value();
  }

  std::string arch_, type_, path_;
  std::unique_ptr<Model> model_;
  std::map<std::string, Golden> goldens_;
  Golden golden_;
};

TEST_P(GemmaTest, PerplexityEqualsLlamaCpp) {
  const std::vector<int32_t> ids = ReadIds(Data("ids200.txt"));
  ASSERT_EQ(ids.size(), 200u);
  auto session = NewSession(64);
  EvalFn eval = [&](absl::Span<const int32_t> toks, std::vector<float>* logits) {
    session->Truncate(0);
    return session->Eval(toks, LogitsMode::kAll, logits);
  };
  CorpusOptions co;
  co.n_ctx = 64;
  co.n_vocab = model_->config().n_vocab;
  auto stats = CorpusPerplexity(eval, ids, co);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->count, 93u);
  // F32/F16/Q8_0: five significant digits (measured: agree to all six
  // decimals llama.cpp's side prints); K-quants: within 0.05% (ggml's AVX
  // K-quant dot products round differently).
  const bool kquant = type_ == "q4_k_m";
  const double tol = kquant ? 5e-4 : 1e-5;
  EXPECT_NEAR(stats->Ppl() / golden_.ppl, 1.0, tol) << "llmtk " << stats->Ppl() << ", llama.cpp " << golden_.ppl;
}

TEST_P(GemmaTest, GreedyIdsEqualLlamaCpp) {
  const std::vector<int32_t> ids = ReadIds(Data("ids200.txt"));
  const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 16);
  ASSERT_EQ(golden_.greedy.size(), 64u);
  auto session = NewSession(80);
  std::vector<float> logits;
  ASSERT_TRUE(session->Eval(prompt, LogitsMode::kLast, &logits).ok());
  std::vector<int32_t> got;
  for (int i = 0; i < 64; ++i) {
    const int32_t next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    got.push_back(next);
    ASSERT_TRUE(session->Eval({next}, LogitsMode::kLast, &logits).ok());
  }
  EXPECT_EQ(got, golden_.greedy);
}

// Logit rows are kept for the F32 files only.
class GemmaF32Test : public GemmaTest {};

TEST_P(GemmaF32Test, LogitsAroundTheWindowEqualLlamaCpp) {
  const std::vector<int32_t> ids = ReadIds(Data("ids200.txt"));
  const std::vector<int32_t> first48(ids.begin(), ids.begin() + 48);
  auto session = NewSession(48);
  std::vector<float> logits;
  ASSERT_TRUE(session->Eval(first48, LogitsMode::kAll, &logits).ok());
  const int V = model_->config().n_vocab;
  ASSERT_EQ(golden_.logits.size(), 6u);
  for (const auto& [pos, row] : golden_.logits) {
    ASSERT_EQ(row.size(), static_cast<size_t>(V));
    float worst = 0;
    for (int v = 0; v < V; ++v) worst = std::max(worst, std::fabs(logits[static_cast<size_t>(pos) * V + v] - row[v]));
    // The golden values are printed to 9 significant digits.
    EXPECT_LT(worst, 2e-6f) << "position " << pos;
  }
}

INSTANTIATE_TEST_SUITE_P(Gemma, GemmaTest,
                         testing::Combine(testing::Values("gemma2-tiny", "gemma3-tiny"),
                                          testing::Values("f32", "f16", "q8_0", "q4_k_m")),
                         [](const auto& info) {
                           std::string n = std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

INSTANTIATE_TEST_SUITE_P(Gemma, GemmaF32Test,
                         testing::Combine(testing::Values("gemma2-tiny", "gemma3-tiny"), testing::Values("f32")),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param);
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

// The configuration llama.cpp derives from the files.
TEST(GemmaConfig, LayersWindowsRopeAndScales) {
  const std::string dir = testing::TempDir();
  for (const char* arch : {"gemma2-tiny", "gemma3-tiny"}) {
    RandomModelOptions o;
    o.config = Data(std::string(arch) + ".config.json");
    const std::string path = dir + "/" + arch + "-cfg-" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(WriteRandomModel(o, path, "f16", 1).ok());
    auto m = Model::Load(path);
    ASSERT_TRUE(m.ok()) << m.status();
    const ModelConfig& c = (*m)->config();
    EXPECT_TRUE(c.gemma);
    EXPECT_EQ(c.n_swa, 16);
    EXPECT_FLOAT_EQ(c.attn_scale, 1.0f / 8.0f);  // 1/sqrt(head_dim 64)
    EXPECT_EQ(c.rope_layout, RopeLayout::kNeox);
    EXPECT_TRUE(c.tied_output);
    std::string local;
    for (int l = 0; l < c.n_layer; ++l) local += c.is_swa(l) ? 'L' : 'G';
    if (std::string(arch) == "gemma2-tiny") {
      EXPECT_EQ(local, "LGLG");
      EXPECT_FLOAT_EQ(c.attn_softcap, 50.f);
      EXPECT_FLOAT_EQ(c.final_softcap, 30.f);
      EXPECT_FLOAT_EQ(c.rope_base_swa, 10000.f);
    } else {
      EXPECT_EQ(local, "LLLLLGL");
      EXPECT_FLOAT_EQ(c.attn_softcap, 0.f);
      EXPECT_FLOAT_EQ(c.final_softcap, 0.f);
      EXPECT_FLOAT_EQ(c.rope_base, 1e6f);
      EXPECT_FLOAT_EQ(c.rope_freq_scale, 0.125f);
      EXPECT_FLOAT_EQ(c.rope_base_swa, 10000.f);
      EXPECT_FLOAT_EQ(c.rope_freq_scale_swa, 1.f);
      EXPECT_TRUE(c.qk_norm);
    }
    std::filesystem::remove(path);
  }
}

// ggml's GELU table: F16 in, F16 out; the tails pass through or vanish.
TEST(GemmaGeGlu, AsGgmlsTable) {
  float gate[5] = {-12.f, -1.f, 0.5f, 3.f, 11.f};
  const float up[5] = {2.f, 2.f, 2.f, 2.f, 2.f};
  GeGlu(gate, up, 5);
  EXPECT_EQ(gate[0], 0.f);
  EXPECT_EQ(gate[4], 22.f);
  // gelu_tanh(-1) = -0.158808, gelu_tanh(0.5) = 0.345714, gelu_tanh(3) = 2.996363,
  // each then rounded to F16.
  EXPECT_EQ(gate[1], 2.f * Fp16ToFp32(Fp32ToFp16(GeluTanh(-1.f))));
  EXPECT_NEAR(gate[1], 2 * -0.158808f, 2e-3f);
  EXPECT_NEAR(gate[2], 2 * 0.345714f, 2e-3f);
  EXPECT_NEAR(gate[3], 2 * 2.996363f, 4e-3f);
}

TEST(GemmaSoftCap, TanhScaled) {
  float x[3] = {0.f, 50.f, -1000.f};
  SoftCap(x, 3, 50.f);
  EXPECT_EQ(x[0], 0.f);
  EXPECT_FLOAT_EQ(x[1], std::tanh(1.f) * 50.f);
  EXPECT_FLOAT_EQ(x[2], -50.f);
}

// Quantized with llama.cpp's per-tensor rules: the bytes llama-quantize
// (c392e50) writes from the same F32 file (testdata/run/gemma/llama-quantize.sha256).
TEST(GemmaQuantize, BitIdenticalToLlamaQuantize) {
  std::map<std::string, std::string> want;
  std::ifstream in(Data("llama-quantize.sha256"));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 3 && line[0] != '#') want[f[0] + "/" + f[1]] = f[2];
  }
  ASSERT_EQ(want.size(), 4u);
  for (const auto& [key, sha] : want) {
    const std::string arch = key.substr(0, key.find('/')), type = key.substr(key.find('/') + 1);
    const std::string base = testing::TempDir() + "/" + arch + "-q-" + std::to_string(::getpid());
    RandomModelOptions o;
    o.config = Data(arch + ".config.json");
    ASSERT_TRUE(WriteRandomModel(o, base + ".f32.gguf", "f32", 2).ok());
    auto src = OpenGgufSource(base + ".f32.gguf");
    ASSERT_TRUE(src.ok()) << src.status();
    QuantizeOptions qo;
    qo.target = ParseQuantTarget(type, false).value();
    qo.threads = 2;
    ASSERT_TRUE(QuantizeModel(*src, base + ".q.gguf", qo).ok());
    std::string bytes = ReadFileToString(base + ".q.gguf").value();
    if (arch == "gemma3-tiny") {
      // As the reference's input was renamed (see the .sha256 file's header).
      for (size_t p = 0; (p = bytes.find("gemma3", p)) != std::string::npos && p < 65536; ++p) bytes[p + 5] = '2';
    }
    EXPECT_EQ(Sha256Hex(bytes), sha) << key;
    std::filesystem::remove(base + ".f32.gguf");
    std::filesystem::remove(base + ".q.gguf");
  }
}

}  // namespace
}  // namespace llmtk
