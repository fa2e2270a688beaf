// DeepSeek-V2 (deepseek2) end to end against llama.cpp c392e50: seeded random
// models at the tiny configs in testdata/configs -- tiny-deepseek2 (V2:
// q_lora, 3 layers, the first dense, 8 experts top 3, 2 shared, weights
// scaled by 1.5, YaRN x4) and tiny-deepseek2-lite (V2-Lite: q from wq,
// which c392e50 takes only at 27 layers; 6 experts top 2 renormalised, 1
// shared, YaRN x40) -- written by random-model with stories260K's
// vocabulary, then
// - quantized: bytes identical to llama-quantize c392e50's;
// - llmtk-ppl: the "PPL = x +/- y" llama-perplexity printed;
// - greedy: the 64 ids llama-cli generated.
// testdata/deepseek2/llamacpp.tsv comes from
// scripts/reference/deepseek2-llamacpp-reference. Also: an HF checkpoint
// converted as convert_hf_to_gguf.py c392e50 converts it, and hostile
// files are clear errors.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/convert/model_source.h"
#include "lib/convert/quant_recipe.h"
#include "lib/convert/quantize_model.h"
#include "lib/convert/random_model.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"
#include "lib/model/model.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

struct Row {
  std::string kind, config, type, ctx, value;
};

std::vector<Row> Reference() {
  std::ifstream in(Testdata("deepseek2/llamacpp.tsv"));
  std::string line;
  std::getline(in, line);  // header
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 5) rows.push_back({f[0], f[1], f[2], f[3], f[4]});
  }
  return rows;
}

std::string Dir() {
  static const std::string dir = [] {
    const std::string d = (std::filesystem::temp_directory_path() / ("ds2_" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// `config` in `type`: F32/F16 from random-model, the others quantized from
// F32 by llmtk. Made once per test binary run.
std::string ModelPath(const std::string& config, const std::string& type) {
  static std::map<std::string, std::string> paths;
  const std::string key = config + "-" + type;
  if (auto it = paths.find(key); it != paths.end()) return it->second;
  const std::string path = Dir() + "/" + key + ".gguf";
  if (type == "F32" || type == "F16") {
    RandomModelOptions o;
    o.config = Testdata("configs/" + config + ".config.json");
    o.vocab = Testdata("run/stories260K-hf-f32.gguf");
    auto r = WriteRandomModel(o, path, type, 2);
    EXPECT_TRUE(r.ok()) << r.status();
  } else {
    auto src = OpenGgufSource(ModelPath(config, "F32"));
    EXPECT_TRUE(src.ok()) << src.status();
    QuantizeOptions qo;
    qo.target = *ParseQuantTarget(type, false);
    qo.threads = 2;
    auto r = QuantizeModel(*src, path, qo);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  paths[key] = path;
  return path;
}

class Cleanup : public testing::Environment {
 public:
  void TearDown() override { std::filesystem::remove_all(Dir()); }
};
const auto* const kCleanup = testing::AddGlobalTestEnvironment(new Cleanup);

std::string RunCommand(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, k);
  pclose(p);
  return out;
}

std::vector<int32_t> Ids(const std::string& text) {
  std::vector<int32_t> ids;
  for (absl::string_view s : absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    int32_t id = -1;
    EXPECT_TRUE(absl::SimpleAtoi(s, &id)) << s;
    ids.push_back(id);
  }
  return ids;
}

TEST(Deepseek2, RandomModelHasLlamaCppTensorsAndKeys) {
  RandomModelOptions o;
  o.config = Testdata("configs/tiny-deepseek2.config.json");
  auto src = RandomModelSource(o);
  ASSERT_TRUE(src.ok()) << src.status();
  std::map<std::string, std::vector<int64_t>> dims;
  for (const SourceTensor& t : src->tensors) dims[t.name] = t.dims;
  // V2: q through the q_lora bottleneck; k/v from the kv latent.
  EXPECT_EQ(dims["blk.0.attn_q_a.weight"], (std::vector<int64_t>{256, 96}));
  EXPECT_EQ(dims["blk.0.attn_q_a_norm.weight"], (std::vector<int64_t>{96}));
  EXPECT_EQ(dims["blk.0.attn_q_b.weight"], (std::vector<int64_t>{96, 4 * 48}));
  EXPECT_EQ(dims["blk.0.attn_kv_a_mqa.weight"], (std::vector<int64_t>{256, 64 + 16}));
  EXPECT_EQ(dims["blk.0.attn_kv_a_norm.weight"], (std::vector<int64_t>{64}));
  EXPECT_EQ(dims["blk.0.attn_kv_b.weight"], (std::vector<int64_t>{64, 4 * (32 + 48)}));
  EXPECT_EQ(dims["blk.0.attn_output.weight"], (std::vector<int64_t>{4 * 48, 256}));
  EXPECT_EQ(dims.count("blk.0.attn_q.weight"), 0u);
  // Layer 0 dense, then experts with shared ones (2 x 64 wide).
  EXPECT_EQ(dims["blk.0.ffn_down.weight"], (std::vector<int64_t>{320, 256}));
  EXPECT_EQ(dims.count("blk.0.ffn_gate_inp.weight"), 0u);
  EXPECT_EQ(dims["blk.1.ffn_gate_inp.weight"], (std::vector<int64_t>{256, 8}));
  EXPECT_EQ(dims["blk.1.ffn_down_exps.weight"], (std::vector<int64_t>{64, 256, 8}));
  EXPECT_EQ(dims["blk.2.ffn_up_shexp.weight"], (std::vector<int64_t>{256, 128}));
  EXPECT_EQ(dims.count("blk.1.ffn_gate_inp_shexp.weight"), 0u);
  auto u32 = [&](GgufArchKey k) -> int64_t {
    const GgufMetadata::Entry* e = src->metadata.Find(GgufKeyName(k, "deepseek2"));
    if (e == nullptr) return -1;
    uint32_t v;
    std::memcpy(&v, e->payload.data(), 4);
    return v;
  };
  EXPECT_EQ(u32(GgufArchKey::kLeadingDenseBlockCount), 1);
  EXPECT_EQ(u32(GgufArchKey::kAttentionQLoraRank), 96);
  EXPECT_EQ(u32(GgufArchKey::kAttentionKvLoraRank), 64);
  EXPECT_EQ(u32(GgufArchKey::kAttentionKeyLength), 48);
  EXPECT_EQ(u32(GgufArchKey::kAttentionValueLength), 48);
  EXPECT_EQ(u32(GgufArchKey::kRopeDimensionCount), 16);
  EXPECT_EQ(u32(GgufArchKey::kExpertSharedCount), 2);
  EXPECT_EQ(u32(GgufArchKey::kExpertGatingFunc), 1);
  EXPECT_EQ(u32(GgufArchKey::kRopeScalingOriginalContextLength), 64);

  o.config = Testdata("configs/tiny-deepseek2-lite.config.json");
  o.experts = 3;
  auto lite = RandomModelSource(o);
  ASSERT_TRUE(lite.ok()) << lite.status();
  dims.clear();
  for (const SourceTensor& t : lite->tensors) dims[t.name] = t.dims;
  EXPECT_EQ(dims["blk.26.attn_q.weight"], (std::vector<int64_t>{128, 2 * 32}));
  EXPECT_EQ(dims["blk.26.ffn_gate_exps.weight"], (std::vector<int64_t>{128, 32, 3}));
  EXPECT_EQ(dims.count("blk.26.attn_q_a.weight"), 0u);
  // c392e50 would read a V2-Lite file of other than 27 layers as V2.
  o.experts = 0;
  o.layers = 4;
  EXPECT_EQ(RandomModelSource(o).status().message(),
            o.config + " has no q_lora_rank, so it needs 27 layers (not 4): llama.cpp c392e50 tells "
                       "DeepSeek-V2-Lite by its 27 layers");
}

TEST(Deepseek2, QuantizedFilesEqualLlamaQuantize) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "quant") continue;
    auto sha = Sha256File(ModelPath(r.config, r.type));
    ASSERT_TRUE(sha.ok()) << sha.status();
    EXPECT_EQ(*sha, r.value) << r.config << " " << r.type;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

// F32/F16/Q8_0: every printed digit; Q4_K_M: within 0.05%.
TEST(Deepseek2, PerplexityEqualsLlamaCpp) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "ppl") continue;
    const std::string out =
        RunCommand(std::string(LLMTK_BINDIR) + "/llmtk-ppl -m " + ModelPath(r.config, r.type) + " -f " +
                   Testdata("ppl/stories_selfgen.txt") + " -c " + r.ctx + " --threads 2 --quiet");
    const size_t at = out.find("PPL = ");
    ASSERT_NE(at, std::string::npos) << out;
    const std::string got = out.substr(at, out.find('\n', at) - at);
    if (r.type != "Q4_K_M") {
      EXPECT_EQ(got.substr(0, r.value.size()), r.value) << r.config << " " << r.type << " -c " << r.ctx;
    } else {
      double a = 0, b = 0;
      ASSERT_EQ(std::sscanf(got.c_str(), "PPL = %lf", &a), 1) << got;
      ASSERT_EQ(std::sscanf(r.value.c_str(), "PPL = %lf", &b), 1) << r.value;
      EXPECT_NEAR(a / b, 1.0, 5e-4) << r.config << " " << r.type << ": " << got << " vs " << r.value;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST(Deepseek2, GreedyIdsEqualLlamaCpp) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "greedy") continue;
    // BOS + "Once upon a time" then 64 generated (llama-cli).
    const std::vector<int32_t> want = Ids(r.value);
    const size_t prompt = 5;
    ASSERT_EQ(want.size(), prompt + 64) << r.value;
    auto model = Model::Load(ModelPath(r.config, r.type));
    ASSERT_TRUE(model.ok()) << model.status();
    SessionOptions so;
    so.n_ctx = std::stoi(r.ctx);
    so.threads = 2;
    auto session = Session::Create(**model, so);
    ASSERT_TRUE(session.ok()) << session.status();
    std::vector<int32_t> got(want.begin(), want.begin() + prompt);
    std::vector<float> logits;
    ASSERT_TRUE((*session)->Eval(got, LogitsMode::kLast, &logits).ok());
    while (got.size() < want.size()) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      got.push_back(next);
      ASSERT_TRUE((*session)->Eval({&got.back(), 1}, LogitsMode::kLast, &logits).ok());
    }
    size_t same = 0;
    while (same < want.size() && got[same] == want[same]) ++same;
    EXPECT_EQ(same, want.size()) << r.config << " " << r.type << ": first difference at generated id "
                                 << same - prompt;
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

// convert_hf_to_gguf.py c392e50 (scripts/reference/deepseek2-hf-reference),
// whose DeepSeek vocabulary needs transformers: every other key and every
// tensor must be its -- the MLA projections, the dense first block, the
// experts merged where it writes them, the shared experts, the router F32.
TEST(Deepseek2, HfConversionIsConvertHfToGgufApartFromVocabulary) {
  int checked = 0;
  for (const auto& [dir, type] : std::vector<std::pair<std::string, std::string>>{
           {"ds2Tiny", "bf16"}, {"ds2Tiny", "q8_0"}, {"ds2LiteTiny", "q8_0"}}) {
    QuantizeFileOptions o;
    o.input = Testdata("deepseek2/" + dir);
    o.output = Dir() + "/" + dir + "-" + type + ".gguf";
    o.type = type;
    o.threads = 2;
    auto r = QuantizeFile(o);
    ASSERT_TRUE(r.ok()) << r.status();
    auto ours = GgufFile::Open(o.output);
    auto ref = GgufFile::Open(Testdata("deepseek2/" + dir + "." + type + ".gguf"));
    ASSERT_TRUE(ours.ok() && ref.ok());
    auto kvs = [](const GgufFile& f) {
      std::vector<std::pair<std::string, std::string>> v;
      for (const GgufKv& kv : f.metadata())
        if (kv.key.substr(0, 10) != "tokenizer.") v.emplace_back(std::string(kv.key), std::string(kv.value.raw()));
      return v;
    };
    EXPECT_EQ(kvs(**ours), kvs(**ref)) << dir << " " << type;
    const auto& a = (*ours)->tensors();
    const auto& b = (*ref)->tensors();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].name, b[i].name);
      EXPECT_EQ(a[i].type, b[i].type) << a[i].name;
      EXPECT_EQ(a[i].dims, b[i].dims) << a[i].name;
      ASSERT_EQ(a[i].n_bytes, b[i].n_bytes) << a[i].name;
      EXPECT_EQ(std::memcmp(a[i].data, b[i].data, a[i].n_bytes), 0) << a[i].name;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

// A copy of the tiny V2 F32 file with keys or tensors changed.
std::string Hostile(const std::string& name, std::function<void(ModelSource*)> edit) {
  auto src = OpenGgufSource(ModelPath("tiny-deepseek2", "F32"));
  EXPECT_TRUE(src.ok()) << src.status();
  edit(&*src);
  const std::string path = Dir() + "/" + name + ".gguf";
  QuantizeOptions qo;
  qo.target = *ParseQuantTarget("F32", false);
  EXPECT_TRUE(QuantizeModel(*src, path, qo).ok());
  return path;
}

TEST(Deepseek2, HostileFilesAreClearErrors) {
  auto key = [](GgufArchKey k) { return GgufKeyName(k, "deepseek2"); };
  const std::string count = key(GgufArchKey::kExpertCount), used = key(GgufArchKey::kExpertUsedCount);
  std::string p = Hostile("zero", [&](ModelSource* s) { s->metadata.ReplaceU32(count, 0); });
  EXPECT_EQ(Model::Load(p).status().message(), p + ": deepseek2 needs '" + count + "' above 0 (it is 0)");
  p = Hostile("used", [&](ModelSource* s) { s->metadata.ReplaceU32(used, 9); });
  EXPECT_EQ(Model::Load(p).status().message(), p + ": '" + used + "' is 9; it must be from 1 to the expert count 8");
  // The latent's rank against its tensors.
  p = Hostile("kv_lora", [&](ModelSource* s) { s->metadata.ReplaceU32(key(GgufArchKey::kAttentionKvLoraRank), 32); });
  EXPECT_EQ(Model::Load(p).status().message(),
            p + ": tensor 'blk.0.attn_kv_a_norm.weight' has shape [64], expected [32]");
  p = Hostile("kv_b", [&](ModelSource* s) {
    for (SourceTensor& t : s->tensors)
      if (t.name == "blk.1.attn_kv_b.weight") std::swap(t.dims[0], t.dims[1]);
  });
  EXPECT_EQ(Model::Load(p).status().message(),
            p + ": tensor 'blk.1.attn_kv_b.weight' has shape [320, 64], expected [64, 320]");
  p = Hostile("rope", [&](ModelSource* s) { s->metadata.ReplaceU32(key(GgufArchKey::kRopeDimensionCount), 48); });
  EXPECT_EQ(Model::Load(p).status().message(),
            p + ": rope dimension count 48 leaves no key dims of the 48 per head");
  p = Hostile("q_lora", [&](ModelSource* s) { s->metadata.Remove(key(GgufArchKey::kAttentionQLoraRank)); });
  EXPECT_EQ(Model::Load(p).status().message(),
            p + ": required key '" + key(GgufArchKey::kAttentionQLoraRank) +
                "' is missing (llama.cpp c392e50 takes only a 27-layer deepseek2 file for DeepSeek-V2-Lite, which "
                "has none; this one has 3 layers)");
  p = Hostile("shared", [&](ModelSource* s) { s->metadata.Remove(key(GgufArchKey::kExpertSharedCount)); });
  EXPECT_EQ(Model::Load(p).status().message(),
            p + ": required key '" + key(GgufArchKey::kExpertSharedCount) + "' is missing");
  p = Hostile("gating", [&](ModelSource* s) { s->metadata.ReplaceU32(key(GgufArchKey::kExpertGatingFunc), 7); });
  EXPECT_EQ(Model::Load(p).status().message(),
            p + ": key '" + key(GgufArchKey::kExpertGatingFunc) + "' is 7; expected 1 (softmax) or 2 (sigmoid)");
  // The shared experts' width comes from their count.
  p = Hostile("shexp", [&](ModelSource* s) { s->metadata.ReplaceU32(key(GgufArchKey::kExpertSharedCount), 3); });
  EXPECT_EQ(Model::Load(p).status().message(),
            p + ": tensor 'blk.1.ffn_gate_shexp.weight' has shape [256, 128], expected [256, 192]");
}

}  // namespace
}  // namespace llmtk
