#include "lib/model/model.h"
#include "lib/model/session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "lib/base/io.h"

namespace llmtk {
namespace {

const std::string kData = std::string(LLMTK_TESTDATA) + "/run/";

struct Reference {
  std::vector<int32_t> tokens;
  int vocab = 0;
  std::vector<std::vector<float>> logits;  // per position
};

// llama.cpp's logits dump: "# tokens: ...", "# n_vocab: N", one row per position.
Reference ReadReference(const std::string& path) {
  Reference ref;
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  std::istringstream in(*text);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("# tokens:", 0), 0u) << path;
  std::istringstream ts(line.substr(9));
  for (int32_t t; ts >> t;) ref.tokens.push_back(t);
  std::getline(in, line);
  ref.vocab = std::stoi(line.substr(line.find(':') + 1));
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<float> row;
    for (float v; ls >> v;) row.push_back(v);
    EXPECT_EQ(static_cast<int>(row.size()), ref.vocab);
    ref.logits.push_back(std::move(row));
  }
  EXPECT_EQ(ref.logits.size(), ref.tokens.size());
  return ref;
}

struct Comparison {
  double max_abs = 0;
  double mean_kl = 0;
  double argmax_agree = 0;  // fraction of positions
};

Comparison Compare(const Reference& ref, const std::vector<float>& got) {
  Comparison c;
  const int V = ref.vocab;
  int agree = 0;
  for (size_t p = 0; p < ref.logits.size(); ++p) {
    const float* a = &got[p * V];
    const std::vector<float>& r = ref.logits[p];
    int am = 0, rm = 0;
    double ma = a[0], mr = r[0];
    for (int j = 0; j < V; ++j) {
      c.max_abs = std::max(c.max_abs, std::fabs(static_cast<double>(a[j]) - r[j]));
      if (a[j] > a[am]) am = j;
      if (r[j] > r[rm]) rm = j;
      ma = std::max(ma, static_cast<double>(a[j]));
      mr = std::max(mr, static_cast<double>(r[j]));
    }
    agree += am == rm;
    double za = 0, zr = 0;
    for (int j = 0; j < V; ++j) {
      za += std::exp(a[j] - ma);
      zr += std::exp(r[j] - mr);
    }
    double kl = 0;
    for (int j = 0; j < V; ++j) {
      const double lp = r[j] - mr - std::log(zr), lq = a[j] - ma - std::log(za);
      kl += std::exp(lp) * (lp - lq);
    }
    c.mean_kl += kl;
  }
  c.mean_kl /= ref.logits.size();
  c.argmax_agree = static_cast<double>(agree) / ref.logits.size();
  return c;
}

std::vector<float> AllLogits(const Model& m, const std::vector<int32_t>& tokens, SessionOptions opts = {}) {
  if (opts.n_ctx == 0) opts.n_ctx = 512;
  auto s = Session::Create(m, opts);
  EXPECT_TRUE(s.ok()) << s.status();
  std::vector<float> logits;
  const absl::Status st = (*s)->Eval(tokens, LogitsMode::kAll, &logits);
  EXPECT_TRUE(st.ok()) << st;
  return logits;
}

std::unique_ptr<Model> Load(const std::string& name) {
  auto m = Model::Load(kData + name);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

struct Case {
  const char* model;
  const char* reference;
  double max_abs;  // tolerance on every logit
};

// Every file's logits equal llama.cpp's (CPU, 1 thread) to the printed
// precision (6 significant digits), except where noted.
class ReferenceLogits : public testing::TestWithParam<Case> {};

TEST_P(ReferenceLogits, MatchLlamaCpp) {
  const Case& c = GetParam();
  auto model = Load(c.model);
  ASSERT_NE(model, nullptr);
  const Reference ref = ReadReference(kData + c.reference);
  ASSERT_EQ(ref.vocab, model->config().n_vocab);
  const Comparison cmp = Compare(ref, AllLogits(*model, ref.tokens));
  EXPECT_LE(cmp.max_abs, c.max_abs);
  // The bar for quantized files, checked for every file.
  EXPECT_GE(cmp.argmax_agree, 0.99);
  EXPECT_LE(cmp.mean_kl, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(
    Files, ReferenceLogits,
    testing::Values(Case{"stories260K-hf-f32.gguf", "logits-stories260K-f32.p1.txt.zst", 1e-4},
                    Case{"stories260K-hf-f32.gguf", "logits-stories260K-f32.p3.txt.zst", 1e-4},
                    Case{"stories260K-hf-f16.gguf", "logits-stories260K-f16.p2.txt.zst", 1e-4},
                    Case{"../quant/stories260K-hf-q8_0.gguf", "logits-stories260K-q8_0.p1.txt.zst", 1e-4},
                    Case{"stories260K-hf-Q4_K_M.gguf", "logits-stories260K-Q4_K_M.p3.txt.zst", 1e-4},
                    Case{"random-llama-256-mix-Q3_K_M.gguf", "logits-random-llama-256-mix-Q3_K_M.p2.txt.zst", 1e-5},
                    // every 2-D tensor IQ4_XS (llama-quantize --pure --imatrix)
                    Case{"random-llama-256-imatrix-IQ4_XS.gguf", "logits-random-llama-256-imatrix-IQ4_XS.p2.txt.zst",
                         1e-5},
                    // llama-quantize --imatrix IQ2_XXS: IQ2_XXS, Q2_K, Q5_K tensors
                    Case{"random-llama-256-imatrix-mix-IQ2_XXS.gguf",
                         "logits-random-llama-256-imatrix-mix-IQ2_XXS.p2.txt.zst", 1e-5},
                    // every 2-D tensor IQ3_XXS (llama-quantize --pure --imatrix)
                    Case{"random-llama-256-imatrix-IQ3_XXS.gguf", "logits-random-llama-256-imatrix-IQ3_XXS.p2.txt.zst",
                         1e-5},
                    // llama-quantize --imatrix IQ2_XS: IQ2_XS, Q2_K, Q5_K tensors
                    Case{"random-llama-256-imatrix-mix-IQ2_XS.gguf",
                         "logits-random-llama-256-imatrix-mix-IQ2_XS.p2.txt.zst", 1e-5},
                    // --pure --imatrix IQ2_M: IQ2_S tensors (token_embd Q2_K, output Q5_K)
                    Case{"random-llama-256-imatrix-IQ2_S.gguf", "logits-random-llama-256-imatrix-IQ2_S.p2.txt.zst",
                         1e-5},
                    // IQ1_S, token_embd/output IQ1_M (llama-quantize --pure --imatrix IQ1_S, both types iq1_m)
                    Case{"random-llama-256-imatrix-IQ1_S-iq1_m.gguf",
                         "logits-random-llama-256-imatrix-IQ1_S-iq1_m.p2.txt.zst", 1e-5},
                    // every 2-D tensor IQ3_S (llama-quantize --pure --imatrix)
                    Case{"random-llama-256-imatrix-IQ3_S.gguf", "logits-random-llama-256-imatrix-IQ3_S.p2.txt.zst",
                         1e-5}));

// The whole reference set in ../shared, when asked for explicitly:
//   LLMTK_SHARED=/path/to/shared ./build/model_test --gtest_filter=*Shared*
TEST(SharedReferences, AllFiles) {
  const char* shared = std::getenv("LLMTK_SHARED");
  if (shared == nullptr) GTEST_SKIP() << "set LLMTK_SHARED to the reference folder";
  const std::string root(shared);
  std::vector<std::pair<std::string, std::string>> cases;
  for (const char* t : {"f32", "f16", "bf16", "q8_0", "Q4_K_M", "Q6_K"})
    for (int p = 1; p <= 3; ++p)
      cases.emplace_back(root + "/models/stories260K/gguf/stories260K-hf-" + t + ".gguf",
                         root + "/models/stories260K/reference/logits-stories260K-" + t + ".p" + std::to_string(p) + ".txt.zst");
  for (const char* f : {"random-llama-256", "pure-F16", "pure-BF16", "pure-Q8_0", "pure-Q4_0", "pure-Q4_1", "pure-Q5_0",
                        "pure-Q5_1", "pure-Q2_K", "pure-Q3_K", "pure-Q4_K", "pure-Q5_K", "pure-Q6_K", "mix-Q2_K",
                        "mix-Q3_K_M", "mix-Q4_0", "mix-Q4_K_M", "mix-Q5_K_M", "mix-Q6_K", "mix-Q8_0"})
    cases.emplace_back(root + "/quant/" + f + ".gguf", root + "/quant/logits/" + f + ".p2.txt.zst");
  for (const auto& [model_path, ref_path] : cases) {
    auto m = Model::Load(model_path);
    ASSERT_TRUE(m.ok()) << m.status();
    const Reference ref = ReadReference(ref_path);
    const Comparison cmp = Compare(ref, AllLogits(**m, ref.tokens));
    std::printf("%-70s max|d| %.6f  argmax %.3f  KL %.3g\n", ref_path.c_str(), cmp.max_abs, cmp.argmax_agree,
                cmp.mean_kl);
    EXPECT_GE(cmp.argmax_agree, 0.99) << ref_path;
    EXPECT_LE(cmp.mean_kl, 1e-3) << ref_path;
  }
}

TEST(Session, ResultsDoNotDependOnThreadsOrBatching) {
  auto model = Load("stories260K-hf-Q4_K_M.gguf");
  ASSERT_NE(model, nullptr);
  const Reference ref = ReadReference(kData + "logits-stories260K-Q4_K_M.p3.txt.zst");
  SessionOptions one;
  one.threads = 1;
  const std::vector<float> base = AllLogits(*model, ref.tokens, one);
  SessionOptions many;
  many.threads = 3;
  many.max_batch = 7;
  EXPECT_EQ(AllLogits(*model, ref.tokens, many), base);
  // Token by token (generation's path) gives the same bits too.
  auto s = Session::Create(*model, {.n_ctx = 128, .threads = 2});
  ASSERT_TRUE(s.ok());
  const int V = model->config().n_vocab;
  for (size_t i = 0; i < ref.tokens.size(); ++i) {
    std::vector<float> row;
    ASSERT_TRUE((*s)->Eval({ref.tokens[i]}, LogitsMode::kLast, &row).ok());
    ASSERT_EQ(0, std::memcmp(row.data(), &base[i * V], V * sizeof(float))) << "position " << i;
  }
  // Truncate rewinds: re-evaluating the last token reproduces its logits.
  (*s)->Truncate(static_cast<int>(ref.tokens.size()) - 1);
  std::vector<float> again;
  ASSERT_TRUE((*s)->Eval({ref.tokens.back()}, LogitsMode::kLast, &again).ok());
  EXPECT_EQ(0, std::memcmp(again.data(), &base[(ref.tokens.size() - 1) * V], V * sizeof(float)));
}

TEST(Session, F32CacheStaysClose) {
  auto model = Load("stories260K-hf-f32.gguf");
  ASSERT_NE(model, nullptr);
  const Reference ref = ReadReference(kData + "logits-stories260K-f32.p1.txt.zst");
  SessionOptions o;
  o.kv_f32 = true;
  const Comparison cmp = Compare(ref, AllLogits(*model, ref.tokens, o));
  EXPECT_GT(cmp.max_abs, 1e-4);  // not the F16 cache's bits...
  EXPECT_LT(cmp.max_abs, 0.05);  // ...but close
}

TEST(Session, ContextAndTokenErrors) {
  auto model = Load("stories260K-hf-f16.gguf");
  ASSERT_NE(model, nullptr);
  auto s = Session::Create(*model, {.n_ctx = 8});
  ASSERT_TRUE(s.ok());
  std::vector<int32_t> nine(9, 5);
  absl::Status st = (*s)->Eval(nine, LogitsMode::kLast, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "9 tokens do not fit the context: 0 already used of 8 (raise --ctx)");
  st = (*s)->Eval({1, 512}, LogitsMode::kLast, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "token id 512 at index 1 is outside the vocabulary (0..511)");
  EXPECT_EQ(Session::Create(*model, {.n_ctx = -1}).status().code(), absl::StatusCode::kInvalidArgument);
}

// A model file with one byte range replaced (same length).
absl::StatusOr<std::unique_ptr<Model>> Patched(const std::string& name, const std::string& from, const std::string& to,
                                               std::string* storage) {
  auto bytes = ReadFileToString(kData + name);
  if (!bytes.ok()) return bytes.status();
  *storage = std::move(*bytes);
  const size_t at = storage->find(from);
  if (at == std::string::npos) return absl::InternalError("pattern not found");
  storage->replace(at, from.size(), to);
  ASSIGN_OR_RETURN(auto file, GgufFile::FromBuffer(*storage, "patched.gguf"));
  return Model::FromGguf(std::move(file));
}

TEST(Model, ClearErrorsForBadFiles) {
  std::string buf;
  auto m = Patched("stories260K-hf-f16.gguf", std::string("\x05\0\0\0\0\0\0\0llama", 13),
                   std::string("\x05\0\0\0\0\0\0\0gemma", 13), &buf);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(m.status().message(),
            "patched.gguf: architecture 'gemma' is not supported (supported: llama, qwen2, qwen3, qwen2moe, qwen3moe, "
            "deepseek2, phi3, chatglm, gemma2, gemma3)");

  m = Patched("stories260K-hf-f16.gguf", "output_norm.weight", "output_norm.weighx", &buf);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(m.status().message(), "patched.gguf: tensor 'output_norm.weight' is missing");

  m = Patched("stories260K-hf-f16.gguf", "llama.block_count", "llama.block_counx", &buf);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(m.status().message(), "patched.gguf: required key 'llama.block_count' is missing");

  // Truncated file: the GGUF reader's own DataLoss.
  auto bytes = ReadFileToString(kData + "stories260K-hf-f16.gguf");
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::FromBuffer(std::string_view(*bytes).substr(0, bytes->size() / 2), "half.gguf");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);

  EXPECT_EQ(Model::Load(kData + "missing.gguf").status().code(), absl::StatusCode::kNotFound);
}

TEST(Model, ReadsArchitecture) {
  auto model = Load("stories260K-hf-Q4_K_M.gguf");
  ASSERT_NE(model, nullptr);
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.n_layer, 5);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.n_head, 8);
  EXPECT_EQ(c.n_head_kv, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.n_ff, 172);
  EXPECT_EQ(c.n_vocab, 512);
  EXPECT_EQ(c.n_ctx_train, 512);
  EXPECT_TRUE(c.tied_output);
  EXPECT_EQ(c.rope_layout, RopeLayout::kNormal);
  EXPECT_EQ(model->TypeSummary(), "f16: 5, f32: 11, q5_0: 28, q8_0: 3");
}

}  // namespace
}  // namespace llmtk
