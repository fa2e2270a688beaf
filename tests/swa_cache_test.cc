// Sliding-window layers keep a ring of SwaCacheCells() cells (model/session.h)
// instead of the whole context. The ring must not change a bit: every logit
// row equals the whole-context cache's (SessionOptions::swa_full, which the
// llama.cpp comparisons in model_gemma_test/phi3_glm_test measure) on
// random Gemma 2, Gemma 3 and Phi-3 models at contexts of 16-32 windows, in
// batches, one token at a time, after a Truncate, and in EvalBranches. And
// llmtk-vram's KV line (engine llmtk) is what the Session really allocates,
// measured with the C library's allocation counters.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/convert/random_model.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/vram/estimate.h"
#include "lib/vram/model_shape.h"

namespace llmtk {
namespace {

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

// config.json path and the vocabulary to copy (Phi-3's tiny config has
// stories260K's vocabulary size).
struct Family {
  const char* name;
  const char* config;
  const char* vocab;
  const char* model_type;  // what HF writes there (the Gemma test configs lack it)
};
const Family kFamilies[] = {
    {"gemma2", "run/gemma/gemma2-tiny.config.json", "", "gemma2"},  // window 16, local layers 0 and 2 of 4
    {"gemma3", "run/gemma/gemma3-tiny.config.json", "", "gemma3_text"},  // window 16, 5 local of 6 (+1)
    {"phi3", "configs/tiny-phi3-4k.config.json", "run/stories260K-hf-f32.gguf", "phi3"},  // window 47, all layers
};

// Random models, written once per family and type, removed at exit.
struct TempModels {
  std::map<std::string, std::string> paths;
  ~TempModels() {
    for (const auto& [key, path] : paths) std::filesystem::remove(path);
  }
};

std::string ModelPath(const Family& f, const std::string& type) {
  static TempModels models;
  std::map<std::string, std::string>& paths = models.paths;
  const std::string key = std::string(f.name) + "-" + type;
  if (auto it = paths.find(key); it != paths.end()) return it->second;
  const std::string path = testing::TempDir() + "/swa-" + key + "-" + std::to_string(::getpid()) + ".gguf";
  RandomModelOptions o;
  o.config = Testdata(f.config);
  if (*f.vocab) o.vocab = Testdata(f.vocab);
  auto r = WriteRandomModel(o, path, type, 2);
  EXPECT_TRUE(r.ok()) << r.status();
  paths[key] = path;
  return path;
}

std::vector<int32_t> Ids(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    ids[i] = static_cast<int32_t>((seed >> 8) % static_cast<uint32_t>(vocab));
  }
  return ids;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class SwaRingTest : public testing::TestWithParam<std::tuple<int, const char*, bool, int>> {
 protected:
  void SetUp() override {
    family_ = kFamilies[std::get<0>(GetParam())];
    auto m = Model::Load(ModelPath(family_, std::get<1>(GetParam())));
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(*m);
  }
  std::unique_ptr<Session> NewSession(bool swa_full) {
    SessionOptions so;
    so.n_ctx = 512;
    so.kv_f32 = std::get<2>(GetParam());
    so.max_batch = std::get<3>(GetParam());
    so.threads = 2;
    so.swa_full = swa_full;
    return Session::Create(*model_, so).value();
  }
  Family family_;
  std::unique_ptr<Model> model_;
};

TEST_P(SwaRingTest, LogitsEqualTheWholeContextCache) {
  auto ring = NewSession(false), full = NewSession(true);
  const int V = model_->config().n_vocab;
  // 256 cells: the window plus one batch, padded to 256 as llama.cpp pads.
  EXPECT_EQ(ring->swa_cells(), 256);
  EXPECT_EQ(full->swa_cells(), 512);
  EXPECT_LT(ring->kv_bytes(), full->kv_bytes());
  const std::vector<int32_t> ids = Ids(500, V, 7);
  std::vector<float> a, b;
  // A prompt of 420 positions, the ring wrapping once.
  const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 420);
  ASSERT_TRUE(ring->Eval(prompt, LogitsMode::kAll, &a).ok());
  ASSERT_TRUE(full->Eval(prompt, LogitsMode::kAll, &b).ok());
  EXPECT_TRUE(SameBits(a, b)) << "prompt";
  // Greedy steps of one token each.
  for (int i = 0; i < 80; ++i) {
    const int32_t next = static_cast<int32_t>(std::max_element(a.end() - V, a.end()) - (a.end() - V));
    ASSERT_TRUE(ring->Eval({next}, LogitsMode::kLast, &a).ok());
    ASSERT_TRUE(full->Eval({next}, LogitsMode::kLast, &b).ok());
    ASSERT_TRUE(SameBits(a, b)) << "step " << i;
  }
  // Back to a prefix the ring still covers (the window before position 400).
  ring->Truncate(400);
  full->Truncate(400);
  const std::vector<int32_t> more(ids.begin() + 420, ids.begin() + 450);
  ASSERT_TRUE(ring->Eval(more, LogitsMode::kAll, &a).ok());
  ASSERT_TRUE(full->Eval(more, LogitsMode::kAll, &b).ok());
  EXPECT_TRUE(SameBits(a, b)) << "after Truncate(400)";
  // Branches of llama-perplexity's multiple-choice batches, each seeing the
  // shared prefix and itself.
  ring->Truncate(300);
  full->Truncate(300);
  const std::vector<std::vector<int32_t>> branches = {
      {ids.begin() + 10, ids.begin() + 30}, {ids.begin() + 40, ids.begin() + 52}, {ids.begin() + 60, ids.begin() + 85}};
  const std::vector<int> cells = {300, 323, 340};
  ASSERT_TRUE(ring->EvalBranches(branches, cells, &a).ok());
  ASSERT_TRUE(full->EvalBranches(branches, cells, &b).ok());
  EXPECT_TRUE(SameBits(a, b)) << "branches";
  // Back to where the ring no longer holds the window: refused, not wrong.
  ring->Truncate(10);
  full->Truncate(10);
  const absl::Status st = ring->Eval({ids[0]}, LogitsMode::kLast, &a);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(st.message()),
            "position 10 needs cache cell 0, which the sliding-window cache of 256 cells no longer holds (keep "
            "the whole context on sliding layers: SessionOptions::swa_full)");
  EXPECT_TRUE(full->Eval({ids[0]}, LogitsMode::kLast, &b).ok());
}

INSTANTIATE_TEST_SUITE_P(Swa, SwaRingTest,
                         testing::Combine(testing::Values(0, 1, 2), testing::Values("F32", "Q4_K_M"),
                                          testing::Bool(), testing::Values(64, 7)),
                         [](const auto& info) {
                           return std::string(kFamilies[std::get<0>(info.param)].name) + "_" +
                                  std::get<1>(info.param) + (std::get<2>(info.param) ? "_kvf32" : "_kvf16") +
                                  "_batch" + std::to_string(std::get<3>(info.param));
                         });

// What the allocator hands out while a Session is created.
int64_t AllocatedBytes() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

// llmtk-vram --engine llmtk's KV line, from the GGUF file and from the HF
// config, equals the bytes the Session allocates for its K and V buffers:
// measured as the allocator's growth over Session::Create minus the
// session's other buffers (scratch_bytes()), which must leave the KV figure
// within 64 KiB (the pool, one-time tables); the full-context cache of these contexts is
// megabytes larger, so a Session that still allocated it fails.
TEST(SwaVram, KvLineIsWhatTheSessionAllocates) {
  for (const Family& f : kFamilies) {
    const std::string path = ModelPath(f, "F32");
    auto model = Model::Load(path);
    ASSERT_TRUE(model.ok()) << model.status();
    for (const bool kv_f32 : {false, true}) {
      SessionOptions so;
      so.n_ctx = 4096;
      so.max_batch = 512;
      so.threads = 1;
      so.kv_f32 = kv_f32;
      const int64_t before = AllocatedBytes();
      auto session = Session::Create(**model, so);
      const int64_t grown = AllocatedBytes() - before;
      ASSERT_TRUE(session.ok()) << session.status();
      const Session& s = **session;
      const int64_t other = static_cast<int64_t>(s.scratch_bytes());
      EXPECT_GE(grown - other, static_cast<int64_t>(s.kv_bytes())) << f.name;
      EXPECT_LT(grown - other, static_cast<int64_t>(s.kv_bytes()) + 64 * 1024) << f.name;

      InferenceOptions o;
      o.engine = Engine::kLlmtk;
      o.context = 4096;
      o.ubatch = 512;
      o.kv_dtype = kv_f32 ? "f32" : "f16";
      auto file_shape = LoadModelShape(path);
      ASSERT_TRUE(file_shape.ok()) << file_shape.status();
      auto from_file = EstimateInference(*file_shape, o);
      ASSERT_TRUE(from_file.ok()) << from_file.status();
      EXPECT_EQ(from_file->Find("KV cache")->bytes, static_cast<int64_t>(s.kv_bytes())) << f.name;
      std::string json = *ReadFileToString(Testdata(f.config));
      if (json.find("\"model_type\"") == std::string::npos)
        json.insert(1, std::string("\"model_type\":\"") + f.model_type + "\",");
      const std::string config = testing::TempDir() + "/swa-" + f.name + "-" + std::to_string(::getpid()) + ".json";
      std::ofstream(config) << json;
      auto config_shape = LoadModelShape(config);
      std::filesystem::remove(config);
      ASSERT_TRUE(config_shape.ok()) << config_shape.status();
      auto from_config = EstimateInference(*config_shape, o);
      ASSERT_TRUE(from_config.ok()) << from_config.status();
      EXPECT_EQ(from_config->Find("KV cache")->bytes, static_cast<int64_t>(s.kv_bytes())) << f.name;
      // The whole context would be more: the ring is really smaller.
      SessionOptions full = so;
      full.swa_full = true;
      EXPECT_GT((*Session::Create(**model, full))->kv_bytes(), s.kv_bytes() + (1 << 20)) << f.name;
    }
  }
}

}  // namespace
}  // namespace llmtk
