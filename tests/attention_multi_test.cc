// Grouped-query attention: DotRowsMulti / AccumulateRowsMulti (several
// queries against the same cache rows) equal DotRows / AccumulateRows query
// by query bit for bit, and a Session's grouped path (prompts) gives the
// logits of its head-by-head path (SessionOptions::plain_attention) bit for
// bit: plain causal prompts, F16 and F32 caches, ragged batches, thread
// counts, several sequences in one cache (EvalBranches, masked) and Gemma's
// soft-capped sliding-window layers with a ring cache.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/convert/random_model.h"
#include "lib/kernels/kernels.h"
#include "lib/model/model.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Cache rows of a wider cache (stride: three heads plus an odd element),
// values in the cache type.
struct Rows {
  std::vector<uint8_t> bytes;
  size_t stride = 0;
};
Rows RandomRows(DType t, int64_t n, int64_t count, std::mt19937& rng) {
  const size_t elem = t == DType::kF32 ? 4 : 2;
  Rows r;
  r.stride = (3 * n + 1) * elem;
  r.bytes.resize(count * r.stride + 64);
  std::uniform_real_distribution<float> u(-2, 2);
  for (size_t i = 0; i + elem <= r.bytes.size(); i += elem) {
    const float v = u(rng);
    if (t == DType::kF32) {
      std::memcpy(&r.bytes[i], &v, 4);
    } else {
      const uint16_t h = Fp32ToFp16(v);
      std::memcpy(&r.bytes[i], &h, 2);
    }
  }
  return r;
}

TEST(AttentionMulti, DotRowsMultiEqualsDotRowsPerQuery) {
  std::mt19937 rng(31);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    for (DType t : {DType::kF16, DType::kF32})
      for (int64_t n : {16, 32, 64, 128, 256, 70, 8})
        for (int64_t count : {1, 2, 3, 5, 16, 17, 37, 130})
          for (int nq : {1, 2, 3, 4, 5, 7, 8, 9, 12}) {
            const Rows rows = RandomRows(t, n, count, rng);
            // Queries in the cache type, one head apart plus a gap.
            const size_t xstride = (n + 16) * (t == DType::kF32 ? 4 : 2);
            const Rows x = RandomRows(t, xstride / (t == DType::kF32 ? 4 : 2), (nq + 2) / 3 + 1, rng);
            const size_t ostride = count + 3;
            std::vector<float> got(nq * ostride, -7.f), want(nq * ostride, -7.f);
            DotRowsMulti(t, n, rows.bytes.data(), rows.stride, count, x.bytes.data(), xstride, nq, got.data(),
                         ostride, isa);
            for (int j = 0; j < nq; ++j) {
              const uint8_t* xj = x.bytes.data() + j * xstride;
              DotRows(t, n, rows.bytes.data(), rows.stride, count, xj, want.data() + j * ostride, isa);
              for (int64_t p = 0; p < count; ++p)
                ASSERT_EQ(want[j * ostride + p],
                          VecDot(t, n, rows.bytes.data() + p * rows.stride, xj, Isa::kScalar));
            }
            ASSERT_TRUE(SameBits(got, want)) << IsaName(isa) << " " << DTypeName(t) << " n=" << n
                                             << " count=" << count << " nq=" << nq;
          }
  }
}

TEST(AttentionMulti, AccumulateRowsMultiEqualsAccumulateRowsPerQuery) {
  std::mt19937 rng(37);
  std::uniform_real_distribution<float> u(-1, 1);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    for (DType t : {DType::kF16, DType::kF32})
      for (int64_t n : {16, 32, 48, 64, 96, 128, 256, 70, 8})
        for (int64_t count : {1, 2, 15, 16, 17, 37, 130})
          for (int nq : {1, 2, 3, 5, 6, 7, 8, 9, 12}) {
            const Rows rows = RandomRows(t, n, count, rng);
            const size_t wstride = count + 5, lstride = 64 * n + 3;
            std::vector<float> w(nq * wstride);
            for (auto& v : w) v = u(rng);
            w[0] = 0.f;  // a masked cell's exact zero
            // Lanes that already hold sums (a second run of a ring).
            std::vector<float> got(nq * lstride);
            for (auto& v : got) v = u(rng);
            std::vector<float> want = got, scalar = got;
            // `fresh` ignores what the lanes hold: the plain path's zeros.
            const bool fresh = (count + nq) % 2 == 1;
            if (fresh)
              for (int j = 0; j < nq; ++j) {
                std::fill(want.begin() + j * lstride, want.begin() + j * lstride + 16 * n, 0.f);
                std::fill(scalar.begin() + j * lstride, scalar.begin() + j * lstride + 16 * n, 0.f);
              }
            AccumulateRowsMulti(t, w.data(), wstride, rows.bytes.data(), rows.stride, count, got.data(), lstride, n,
                                nq, fresh, isa);
            for (int j = 0; j < nq; ++j) {
              AccumulateRows(t, w.data() + j * wstride, rows.bytes.data(), rows.stride, count,
                             want.data() + j * lstride, n, isa);
              AccumulateRows(t, w.data() + j * wstride, rows.bytes.data(), rows.stride, count,
                             scalar.data() + j * lstride, n, Isa::kScalar);
            }
            ASSERT_TRUE(SameBits(want, scalar)) << IsaName(isa);
            ASSERT_TRUE(SameBits(got, want)) << IsaName(isa) << " " << DTypeName(t) << " n=" << n
                                             << " count=" << count << " nq=" << nq;
          }
  }
}

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

// Random models, written once per config, removed at exit.
struct TempFiles {
  std::map<std::string, std::string> paths;
  ~TempFiles() {
    for (const auto& [key, path] : paths) std::filesystem::remove(path);
  }
};

// `config`: a config.json testdata path, inline JSON (starting with '{'),
// or a GGUF testdata path (used as it is).
std::unique_ptr<Model> RandomModel(const std::string& name, const std::string& config) {
  static TempFiles files;
  if (config.size() > 5 && config.substr(config.size() - 5) == ".gguf") {
    auto m = Model::Load(Testdata(config));
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::move(*m) : nullptr;
  }
  std::string& path = files.paths[name];
  if (path.empty()) {
    const std::string base = testing::TempDir() + "/attn-" + name + "-" + std::to_string(::getpid());
    RandomModelOptions o;
    if (config[0] == '{') {
      o.config = base + ".json";
      files.paths[name + ".json"] = o.config;
      std::ofstream(o.config) << config;
    } else {
      o.config = Testdata(config);
    }
    path = base + ".gguf";
    auto r = WriteRandomModel(o, path, "Q8_0", 2);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  auto m = Model::Load(path);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

std::vector<int32_t> Ids(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    ids[i] = static_cast<int32_t>((seed >> 8) % static_cast<uint32_t>(vocab));
  }
  return ids;
}

// A prompt in batches, then branches of it in one masked pass, then a
// batch after a Truncate: every logit row.
std::vector<float> RunAll(const Model& m, SessionOptions so, int prompt) {
  so.n_ctx = 512;
  auto s = Session::Create(m, so);
  EXPECT_TRUE(s.ok()) << s.status();
  const int V = m.config().n_vocab;
  const std::vector<int32_t> ids = Ids(prompt + 100, V, 5);
  std::vector<float> all, part;
  EXPECT_TRUE((*s)->Eval({ids.data(), static_cast<size_t>(prompt)}, LogitsMode::kAll, &part).ok());
  all.insert(all.end(), part.begin(), part.end());
  const std::vector<std::vector<int32_t>> branches = {
      {ids.begin() + 3, ids.begin() + 20}, {ids.begin() + 30, ids.begin() + 39}, {ids.begin() + 40, ids.begin() + 71}};
  const std::vector<int> cells = {prompt, prompt + 20, prompt + 33};
  EXPECT_TRUE((*s)->EvalBranches(branches, cells, &part).ok());
  all.insert(all.end(), part.begin(), part.end());
  (*s)->Truncate(prompt - 40);
  EXPECT_TRUE((*s)->Eval({ids.data() + prompt, 60}, LogitsMode::kAll, &part).ok());
  all.insert(all.end(), part.begin(), part.end());
  return all;
}

struct ModelCase {
  const char* name;
  const char* config;
  friend void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.name; }
};
// Head widths 32 and 64; groups of 8 (one block), 4, 3 (blocks of 2 and 1),
// 1 (no grouping), stories260K's 8-wide heads (the one-query kernels'
// fallback), 2 and 4 with Gemma's soft-capping and sliding windows (ring
// caches).
const ModelCase kModels[] = {
    {"g8", R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":512,"intermediate_size":256,)"
           R"("num_hidden_layers":2,"num_attention_heads":8,"num_key_value_heads":1,"vocab_size":512,)"
           R"("max_position_embeddings":512,"rms_norm_eps":1e-05,"rope_theta":10000.0})"},
    {"gqa4", "configs/tiny-llama-gqa4-16l.config.json"},
    {"g3", R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":384,"intermediate_size":256,)"
           R"("num_hidden_layers":2,"num_attention_heads":6,"num_key_value_heads":2,"vocab_size":512,)"
           R"("max_position_embeddings":512,"rms_norm_eps":1e-05,"rope_theta":10000.0})"},
    {"g1", R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":256,"intermediate_size":256,)"
           R"("num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":4,"vocab_size":512,)"
           R"("max_position_embeddings":512,"rms_norm_eps":1e-05,"rope_theta":10000.0})"},
    {"stories260K", "run/stories260K-hf-f32.gguf"},
    {"gemma2", "run/gemma/gemma2-tiny.config.json"},
    {"gemma3", "run/gemma/gemma3-tiny.config.json"},
};

class GroupedSession : public testing::TestWithParam<ModelCase> {};

TEST_P(GroupedSession, LogitsEqualHeadByHead) {
  auto m = RandomModel(GetParam().name, GetParam().config);
  ASSERT_NE(m, nullptr);
  for (bool kv_f32 : {false, true})
    for (int threads : {1, 3})
      for (int batch : {512, 37}) {
        SessionOptions so;
        so.kv_f32 = kv_f32;
        so.threads = threads;
        so.max_batch = batch;
        so.plain_attention = true;
        const std::vector<float> want = RunAll(*m, so, 300);
        so.plain_attention = false;
        EXPECT_TRUE(SameBits(RunAll(*m, so, 300), want))
            << GetParam().name << " kv_f32=" << kv_f32 << " threads=" << threads << " batch=" << batch;
      }
}

INSTANTIATE_TEST_SUITE_P(Models, GroupedSession, testing::ValuesIn(kModels),
                         [](const testing::TestParamInfo<ModelCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace llmtk
