// llmtk-vram --engine llmtk against what llmtk-run allocates for mixtures of
// experts: random Mixtral, Qwen2-MoE, Qwen3-MoE and DeepSeek-V2 models
// (testdata/configs/tiny-*, no vocabulary). The weights line is the file's
// tensor bytes the model maps, the KV line the Session's K and V buffers
// (DeepSeek-V2's MLA caches each head's full K, nope 32 + rope 16, and V,
// 48, as llama.cpp c392e50 does, not the latent), from the GGUF file and
// from the HF config alike. The allocator's growth, less the session's
// scratch (Session::scratch_bytes), must leave the KV figure within
// 64 KiB (the pool, one-time tables).
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "lib/convert/random_model.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/vram/estimate.h"
#include "lib/vram/model_shape.h"

namespace llmtk {
namespace {

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

int64_t AllocatedBytes() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

class MoeVram : public testing::TestWithParam<const char*> {};

TEST_P(MoeVram, LinesAreWhatTheRunnerAllocates) {
  const std::string config = GetParam();
  const std::string path = testing::TempDir() + "/moe-vram-" + config + "-" + std::to_string(::getpid()) + ".gguf";
  RandomModelOptions ro;
  ro.config = Testdata("configs/" + config + ".config.json");
  auto w = WriteRandomModel(ro, path, "Q8_0", 2);
  ASSERT_TRUE(w.ok()) << w.status();
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.status();
  auto shape = LoadModelShape(path);
  ASSERT_TRUE(shape.ok()) << shape.status();
  auto config_shape = LoadModelShape(ro.config);
  ASSERT_TRUE(config_shape.ok()) << config_shape.status();
  for (const bool kv_f32 : {false, true}) {
    for (const int ubatch : {1, 512}) {
      SessionOptions so;
      so.n_ctx = 4096;
      so.max_batch = ubatch;
      so.threads = 1;
      so.kv_f32 = kv_f32;
      const int64_t before = AllocatedBytes();
      auto session = Session::Create(**model, so);
      const int64_t grown = AllocatedBytes() - before;
      ASSERT_TRUE(session.ok()) << session.status();
      const Session& s = **session;
      const int64_t scratch = static_cast<int64_t>(s.scratch_bytes());
      const int64_t kv = static_cast<int64_t>(s.kv_bytes());
      // glibc counts chunks parked in its thread cache as in use, so a
      // small session can reuse some without growing the count.
      EXPECT_LT(std::abs(grown - scratch - kv), 64 * 1024) << config << " grown " << grown;

      InferenceOptions o;
      o.engine = Engine::kLlmtk;
      o.context = 4096;
      o.ubatch = ubatch;
      o.kv_dtype = kv_f32 ? "f32" : "f16";
      auto e = EstimateInference(*shape, o);
      ASSERT_TRUE(e.ok()) << e.status();
      EXPECT_EQ(e->Find("weights")->bytes, static_cast<int64_t>((*model)->weight_bytes())) << config;
      EXPECT_EQ(e->Find("KV cache")->bytes, kv) << config << " kv_f32 " << kv_f32;
      EXPECT_EQ(e->Find("activations")->bytes, scratch) << config << " ubatch " << ubatch;
      auto from_config = EstimateInference(*config_shape, o);
      ASSERT_TRUE(from_config.ok()) << from_config.status();
      EXPECT_EQ(from_config->Find("KV cache")->bytes, kv) << config << " kv_f32 " << kv_f32;
      EXPECT_EQ(from_config->Find("activations")->bytes, scratch) << config << " ubatch " << ubatch;
    }
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Families, MoeVram,
                         testing::Values("tiny-mixtral", "tiny-qwen2moe", "tiny-qwen3moe", "tiny-deepseek2"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string n = info.param;
                           return n.substr(5);
                         });

}  // namespace
}  // namespace llmtk
