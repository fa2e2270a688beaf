// phi3 and chatglm (GLM-4) end to end against llama.cpp c392e50: seeded
// random models at the tiny configs in testdata/configs (Phi-3 4k with a
// 47-token sliding window, Phi-3 128k with su factors and an original
// context of 64, GLM-4 with q/k/v biases and half rotary), written by
// random-model with stories260K's vocabulary, then
// - quantized: bytes identical to llama-quantize's (sha256 in llamacpp.tsv);
// - llmtk-ppl: the same "PPL = x +/- y" llama-perplexity printed, at
//   contexts 64/128/160 (past the window; short and long rope factors);
// - greedy: the 64 ids llama-cli --temp 0 generated.
// testdata/phi3_glm/llamacpp.tsv comes from scripts/reference/phiglm-llamacpp-reference.
// HF -> GGUF: the small BF16 checkpoints in testdata/phi3_glm/ against
// convert_hf_to_gguf.py (scripts/reference/phiglm-hf-reference).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/convert/hf_convert.h"
#include "lib/convert/hf_phi3_glm.h"
#include "lib/convert/model_source.h"
#include "lib/convert/quant_recipe.h"
#include "lib/convert/quantize_model.h"
#include "lib/convert/random_model.h"
#include "lib/formats/gguf.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/vram/estimate.h"
#include "lib/vram/model_shape.h"
#include "lib/base/io.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_writer.h"

namespace llmtk {
namespace {

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

struct Row {
  std::string kind, config, type, ctx, value;
};

std::vector<Row> Reference() {
  std::ifstream in(Testdata("phi3_glm/llamacpp.tsv"));
  std::string line;
  std::getline(in, line);  // header
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 5) rows.push_back({f[0], f[1], f[2], f[3], f[4]});
  }
  return rows;
}

// The models of one config, made once per test binary run.
class Models {
 public:
  static Models& Get() {
    static Models m;
    return m;
  }
  // Path of `config` in `type` (F32/F16 from random-model, others quantized
  // from F32 by llmtk).
  std::string Path(const std::string& config, const std::string& type) {
    const std::string key = config + "-" + type;
    if (auto it = paths_.find(key); it != paths_.end()) return it->second;
    const std::string path = dir_ + "/" + key + ".gguf";
    if (type == "F32" || type == "F16") {
      RandomModelOptions o;
      o.config = Testdata("configs/" + config + ".config.json");
      o.vocab = Testdata("run/stories260K-hf-f32.gguf");
      auto r = WriteRandomModel(o, path, type, 2);
      EXPECT_TRUE(r.ok()) << r.status();
    } else {
      auto src = OpenGgufSource(Path(config, "F32"));
      EXPECT_TRUE(src.ok()) << src.status();
      QuantizeOptions qo;
      qo.target = *ParseQuantTarget(type, false);
      qo.threads = 2;
      auto r = QuantizeModel(*src, path, qo);
      EXPECT_TRUE(r.ok()) << r.status();
    }
    paths_[key] = path;
    return path;
  }
  ~Models() { std::filesystem::remove_all(dir_); }

 private:
  Models() {
    dir_ = (std::filesystem::temp_directory_path() / ("phi3_glm_" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir_);
  }
  std::string dir_;
  std::map<std::string, std::string> paths_;
};

std::string RunCommand(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, k);
  pclose(p);
  return out;
}

TEST(Phi3Glm, RandomModelHasLlamaCppNamesAndKeys) {
  RandomModelOptions o;
  o.config = Testdata("configs/tiny-phi3-128k.config.json");
  auto src = RandomModelSource(o);
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<std::string> keys;
  for (const auto& e : src->metadata.entries()) keys.push_back(e.key);
  // convert_hf_to_gguf.py's order: the attn factor is written while the rope
  // factor tensors are generated, before general.*.
  const std::vector<std::string> want_keys = {
      "general.architecture", "phi3.rope.scaling.attn_factor", "general.type", "general.name", "general.size_label",
      "phi3.context_length", "phi3.rope.scaling.original_context_length", "phi3.embedding_length",
      "phi3.feed_forward_length", "phi3.block_count", "phi3.attention.head_count", "phi3.attention.head_count_kv",
      "phi3.attention.layer_norm_rms_epsilon", "phi3.rope.dimension_count", "phi3.rope.freq_base",
      "general.file_type", "phi3.attention.sliding_window", "phi3.vocab_size", "general.quantization_version"};
  EXPECT_EQ(keys, want_keys);
  std::vector<std::string> names;
  for (const auto& t : src->tensors) names.push_back(t.name);
  ASSERT_GE(names.size(), 9u);
  EXPECT_EQ(names[0], "rope_factors_long.weight");
  EXPECT_EQ(names[1], "rope_factors_short.weight");
  EXPECT_EQ(names[4], "blk.0.attn_qkv.weight");
  EXPECT_EQ(src->tensors[4].dims, (std::vector<int64_t>{64, 64 + 2 * 32}));
  EXPECT_EQ(names[7], "blk.0.ffn_up.weight");
  EXPECT_EQ(src->tensors[7].dims, (std::vector<int64_t>{64, 2 * 96}));
  std::vector<uint8_t> f;
  ASSERT_TRUE(src->tensors[0].load(&f).ok());
  EXPECT_EQ(reinterpret_cast<const float*>(f.data())[1], 1.37f);  // long_factor[1]

  o.config = Testdata("configs/tiny-glm4.config.json");
  auto glm = RandomModelSource(o);
  ASSERT_TRUE(glm.ok()) << glm.status();
  std::vector<std::string> glm_keys;
  for (const auto& e : glm->metadata.entries()) glm_keys.push_back(e.key);
  EXPECT_EQ(glm_keys, (std::vector<std::string>{
                          "general.architecture", "general.type", "general.name", "general.size_label",
                          "chatglm.context_length", "chatglm.embedding_length", "chatglm.feed_forward_length",
                          "chatglm.block_count", "chatglm.attention.head_count", "chatglm.attention.head_count_kv",
                          "chatglm.attention.layer_norm_rms_epsilon", "general.file_type",
                          "chatglm.rope.dimension_count", "tokenizer.ggml.add_bos_token", "chatglm.rope.freq_base",
                          "chatglm.vocab_size", "general.quantization_version"}));
  std::vector<std::string> glm_names;
  for (size_t i = 0; i < 10; ++i) glm_names.push_back(glm->tensors[i].name);
  EXPECT_EQ(glm_names, (std::vector<std::string>{"token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.weight",
                                                 "blk.0.attn_q.bias", "blk.0.attn_k.weight", "blk.0.attn_k.bias",
                                                 "blk.0.attn_v.weight", "blk.0.attn_v.bias",
                                                 "blk.0.attn_output.weight", "blk.0.ffn_norm.weight"}));
  // The converter's defaults where a GlmForCausalLM config lacks ChatGLM's
  // keys: context = hidden_size, rope base 10000, epsilon 1e-5.
  auto model = Model::Load(Models::Get().Path("tiny-glm4", "F32"));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->config().n_ctx_train, 64);
  EXPECT_EQ((*model)->config().n_rot, 8);
  EXPECT_EQ((*model)->config().rms_eps, 1e-5f);
  EXPECT_EQ((*model)->config().rope_layout, RopeLayout::kNormal);
}

TEST(Phi3Glm, QuantizedFilesEqualLlamaQuantize) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "quant") continue;
    auto sha = Sha256File(Models::Get().Path(r.config, r.type));
    ASSERT_TRUE(sha.ok()) << sha.status();
    EXPECT_EQ(*sha, r.value) << r.config << " " << r.type;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(Phi3Glm, PerplexityEqualsLlamaPerplexity) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "ppl") continue;
    const std::string model = Models::Get().Path(r.config, r.type);
    const std::string out = RunCommand(std::string(LLMTK_BINDIR) + "/llmtk-ppl -m " + model + " -f " +
                                       Testdata("ppl/stories_selfgen.txt") + " -c " + r.ctx + " --threads 2 --quiet");
    // GLM's context_length is 64 here: a warning line may come first.
    const size_t at = out.find("PPL = ");
    ASSERT_NE(at, std::string::npos) << out;
    EXPECT_EQ(out.substr(at, out.find('\n', at) - at), r.value) << r.config << " " << r.type << " -c " << r.ctx;
    ++checked;
  }
  EXPECT_EQ(checked, 36);
}

TEST(Phi3Glm, GreedyIdsEqualLlamaCli) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "greedy") continue;
    std::vector<int32_t> want;
    for (absl::string_view s : absl::StrSplit(r.value, ' ')) {
      int32_t id;
      ASSERT_TRUE(absl::SimpleAtoi(s, &id)) << r.value;
      want.push_back(id);
    }
    ASSERT_EQ(want.size(), 5u + 64u);  // BOS + "Once upon a time", then 64 generated
    auto model = Model::Load(Models::Get().Path(r.config, r.type));
    ASSERT_TRUE(model.ok()) << model.status();
    SessionOptions so;
    so.n_ctx = std::stoi(r.ctx);
    so.threads = 2;
    auto session = Session::Create(**model, so);
    ASSERT_TRUE(session.ok()) << session.status();
    std::vector<int32_t> got(want.begin(), want.begin() + 5);
    std::vector<float> logits;
    ASSERT_TRUE((*session)->Eval(got, LogitsMode::kLast, &logits).ok());
    while (got.size() < want.size()) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      got.push_back(next);
      ASSERT_TRUE((*session)->Eval({&got.back(), 1}, LogitsMode::kLast, &logits).ok());
    }
    EXPECT_EQ(got, want) << r.config << " " << r.type;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

absl::StatusOr<std::string> Convert(const std::string& dir, const std::string& type) {
  QuantizeFileOptions o;
  o.input = Testdata("phi3_glm/" + dir);
  o.output = testing::TempDir() + "/" + dir + "-" + type + "-" + std::to_string(getpid()) + ".gguf";
  o.type = type;
  o.threads = 2;
  auto r = QuantizeFile(o);
  if (!r.ok()) return r.status();
  return o.output;
}

TEST(Phi3Glm, HfConversionOfPhi3IsConvertHfToGgufBytes) {
  std::ifstream in(Testdata("phi3_glm/convert.tsv"));
  std::string line;
  std::getline(in, line);
  int checked = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    auto out = Convert(f[0], f[1]);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*Sha256File(*out), f[2]) << line;
    std::filesystem::remove(*out);
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

// GLM's vocabulary needs transformers in the converter, so its reference
// files have none: every other key (in order, with its serialized value) and
// every tensor must be the converter's.
TEST(Phi3Glm, HfConversionOfGlmIsConvertHfToGgufApartFromVocabulary) {
  for (const std::string type : {"bf16", "q8_0"}) {
    auto out = Convert("glmTiny", type);
    ASSERT_TRUE(out.ok()) << out.status();
    auto ours = GgufFile::Open(*out);
    auto ref = GgufFile::Open(Testdata("phi3_glm/glmTiny." + type + ".gguf"));
    ASSERT_TRUE(ours.ok() && ref.ok());
    auto kvs = [](const GgufFile& f) {
      std::vector<std::pair<std::string, std::string>> v;
      for (const GgufKv& kv : f.metadata())
        if (kv.key.substr(0, 10) != "tokenizer.") v.emplace_back(std::string(kv.key), std::string(kv.value.raw()));
      return v;
    };
    EXPECT_EQ(kvs(**ours), kvs(**ref)) << type;
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
    std::filesystem::remove(*out);
  }
}

// llmtk-vram's KV line for the file is what the runner allocates (F16 cache;
// at this context phi3's window ring, pad256(47 + 256) cells, is no shorter
// than the context, so the cache holds it all, as in llama.cpp; rings:
// swa_cache_test), and the config path agrees with the GGUF path.
TEST(Phi3Glm, VramKvCacheIsWhatTheSessionAllocates) {
  for (const char* config : {"tiny-phi3-4k", "tiny-phi3-128k", "tiny-glm4"}) {
    const std::string path = Models::Get().Path(config, "F32");
    auto model = Model::Load(path);
    ASSERT_TRUE(model.ok()) << model.status();
    SessionOptions so;
    so.n_ctx = 256;
    auto session = Session::Create(**model, so);
    ASSERT_TRUE(session.ok()) << session.status();
    auto from_file = LoadModelShape(path);
    ASSERT_TRUE(from_file.ok()) << from_file.status();
    EXPECT_EQ(KvCacheBytes(*from_file, 256, 1, 1, 2, 1, true), static_cast<int64_t>((*session)->kv_bytes()))
        << config;
    auto from_config = LoadModelShape(Testdata(std::string("configs/") + config + ".config.json"));
    ASSERT_TRUE(from_config.ok()) << from_config.status();
    EXPECT_EQ(KvCacheBytes(*from_config, 256, 1, 1, 2, 1, true), KvCacheBytes(*from_file, 256, 1, 1, 2, 1, true))
        << config;
  }
}

TEST(Phi3Glm, GlmBpeVocabularyIsNamedChatGlmBpe) {
  HfConfig glm;
  glm.arch = "chatglm";
  GgufMetadata md;
  md.SetString(GgufKeyName(GgufKey::kTokenizerModel), "gpt2");
  md.SetString(GgufKeyName(GgufKey::kTokenizerPre), "llama-bpe");
  FixPhi3GlmVocab(glm, &md);
  const GgufMetadata::Entry* pre = md.Find(GgufKeyName(GgufKey::kTokenizerPre));
  ASSERT_NE(pre, nullptr);
  EXPECT_EQ(pre->payload.substr(8), "chatglm-bpe");
  EXPECT_EQ(md.entries()[1].key, GgufKeyName(GgufKey::kTokenizerPre));  // where it stood
  GgufMetadata spm;
  spm.SetString(GgufKeyName(GgufKey::kTokenizerModel), "llama");
  spm.SetString(GgufKeyName(GgufKey::kTokenizerPre), "default");
  FixPhi3GlmVocab(glm, &spm);
  EXPECT_EQ(spm.Find(GgufKeyName(GgufKey::kTokenizerPre))->payload.substr(8), "default");
}

// GLM-4's GGUF vocabularies say tokenizer.ggml.pre = "chatglm-bpe" (Llama
// 3's regex in llama.cpp, and no BOS). No GLM-4 vocabulary is in testdata,
// so a byte-level BPE one (falcon's) is relabelled and its bos id removed,
// as scripts/reference did for the llama-tokenize --no-parse-special ids
// of llama.cpp's llama-bpe test inputs (chatglm-bpe-falcon-vocab.out).
TEST(Phi3Glm, ChatGlmBpePreTokenizerEqualsLlamaTokenize) {
  auto bytes = ReadFileToString(Testdata("tok/ggml-vocab-falcon.gguf.zst"));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto falcon = GgufFile::FromBuffer(*bytes, "falcon");
  ASSERT_TRUE(falcon.ok()) << falcon.status();
  GgufMetadata md;
  md.CopyFrom(**falcon);
  md.SetString(GgufKeyName(GgufKey::kTokenizerPre), "chatglm-bpe");
  md.Remove(GgufKeyName(GgufKey::kTokenizerBosId));
  const std::string path = testing::TempDir() + "/chatglm-bpe-" + std::to_string(getpid()) + ".gguf";
  ASSERT_TRUE(WriteGguf(path, md, {}, [](size_t, uint8_t*, size_t) { return absl::OkStatus(); }).ok());
  auto tok = Tokenizer::Load(path);
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto inp = ReadFileToString(Testdata("tok/ggml-vocab-llama-bpe.gguf.inp"));
  auto out = ReadFileToString(Testdata("tok/chatglm-bpe-falcon-vocab.out"));
  ASSERT_TRUE(inp.ok() && out.ok());
  std::vector<std::string> inputs = absl::StrSplit(*inp, "\n__ggml_vocab_test__\n");
  if (!inputs.empty() && inputs.back().empty()) inputs.pop_back();
  std::vector<std::string> want = absl::StrSplit(*out, '\n');
  want.pop_back();
  ASSERT_EQ(inputs.size(), want.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<uint32_t> ids;
    ASSERT_TRUE((*tok)->Encode(inputs[i], /*add_special=*/true, &ids).ok());
    std::string got;
    for (uint32_t id : ids) absl::StrAppend(&got, " ", id);
    EXPECT_EQ(got, want[i]) << "case " << i << " [" << inputs[i] << "]";
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace llmtk
