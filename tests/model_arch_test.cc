// qwen2 (q/k/v biases, NeoX RoPE) and qwen3 (per-head q/k RMSNorm) against
// a plain double-precision transformer written here from the architecture's
// definition. No llama.cpp reference exists for these in the project, so the
// check is semantic (right tensors, right order of operations) rather than
// bit-exact: logits within 1e-5 with an F32 KV cache.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "lib/convert/hf_convert.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/convert/quant_recipe.h"
#include "lib/convert/quantize_model.h"
#include "lib/convert/random_model.h"

namespace llmtk {
namespace {

constexpr int kEmbd = 64, kHeads = 4, kKvHeads = 2, kHeadDim = 16, kFf = 96, kVocab = 512, kLayers = 2;
constexpr double kTheta = 10000.0, kEps = 1e-6;

using Tensors = std::map<std::string, std::vector<float>>;

class ArchTest : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string param = GetParam();
    arch_ = param.substr(0, 5);
    linear_ = param.size() > 5;  // "qwen2-linear": linear RoPE scaling, factor 2
    dir_ = testing::TempDir() + "/arch-" + param + "-" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str()), 0);
    const bool qwen3 = arch_ == "qwen3";
    std::ofstream(dir_ + "/config.json")
        << "{\"architectures\":[\"" << (qwen3 ? "Qwen3ForCausalLM" : "Qwen2ForCausalLM")
        << "\"],\"hidden_size\":64,\"intermediate_size\":96,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":16,\"vocab_size\":512,"
           "\"max_position_embeddings\":256,\"rms_norm_eps\":1e-06,\"rope_theta\":10000.0,"
           "\"tie_word_embeddings\":true,\"rope_scaling\":"
        << (linear_ ? "{\"type\":\"linear\",\"factor\":2.0}" : "null") << "}";
    std::ifstream tok(std::string(LLMTK_TESTDATA) + "/quant/stories260K/tokenizer.model", std::ios::binary);
    std::ofstream(dir_ + "/tokenizer.model", std::ios::binary) << tok.rdbuf();
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {{"model.embed_tokens.weight", {kVocab, kEmbd}}};
    for (int l = 0; l < kLayers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      shapes.push_back({p + "input_layernorm.weight", {kEmbd}});
      shapes.push_back({p + "self_attn.q_proj.weight", {kHeads * kHeadDim, kEmbd}});
      shapes.push_back({p + "self_attn.k_proj.weight", {kKvHeads * kHeadDim, kEmbd}});
      shapes.push_back({p + "self_attn.v_proj.weight", {kKvHeads * kHeadDim, kEmbd}});
      if (!qwen3) {
        shapes.push_back({p + "self_attn.q_proj.bias", {kHeads * kHeadDim}});
        shapes.push_back({p + "self_attn.k_proj.bias", {kKvHeads * kHeadDim}});
        shapes.push_back({p + "self_attn.v_proj.bias", {kKvHeads * kHeadDim}});
      } else {
        shapes.push_back({p + "self_attn.q_norm.weight", {kHeadDim}});
        shapes.push_back({p + "self_attn.k_norm.weight", {kHeadDim}});
      }
      shapes.push_back({p + "self_attn.o_proj.weight", {kEmbd, kHeads * kHeadDim}});
      shapes.push_back({p + "post_attention_layernorm.weight", {kEmbd}});
      shapes.push_back({p + "mlp.gate_proj.weight", {kFf, kEmbd}});
      shapes.push_back({p + "mlp.up_proj.weight", {kFf, kEmbd}});
      shapes.push_back({p + "mlp.down_proj.weight", {kEmbd, kFf}});
    }
    shapes.push_back({"model.norm.weight", {kEmbd}});
    std::mt19937 rng(11);
    std::normal_distribution<float> g(0.f, 1.f);
    std::string header = "{", data;
    for (const auto& [name, shape] : shapes) {
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      std::vector<float>& t = w_[name];
      const bool norm = shape.size() == 1 && name.find("bias") == std::string::npos;
      for (int64_t i = 0; i < n; ++i) t.push_back(norm ? 1.0f + 0.1f * g(rng) : 0.08f * g(rng));
      const size_t begin = data.size();
      data.append(reinterpret_cast<const char*>(t.data()), t.size() * 4);
      if (header.size() > 1) header += ",";
      header += "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[";
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

  const std::vector<float>& W(const std::string& n) { return w_.at(n); }

  // y = W x for an HF [out, in] matrix.
  std::vector<double> Lin(const std::string& name, const std::vector<double>& x, int out) {
    const std::vector<float>& m = W(name);
    const int in = static_cast<int>(x.size());
    std::vector<double> y(out, 0.0);
    for (int o = 0; o < out; ++o)
      for (int i = 0; i < in; ++i) y[o] += static_cast<double>(m[o * in + i]) * x[i];
    return y;
  }
  static std::vector<double> Norm(const std::vector<double>& x, const std::vector<float>& w, size_t off = 0,
                                  size_t n = 0) {
    if (n == 0) n = x.size();
    double ss = 0;
    for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
    const double s = 1.0 / std::sqrt(ss / n + kEps);
    std::vector<double> y(x);
    for (size_t i = 0; i < n; ++i) y[off + i] = x[off + i] * s * w[i];
    return y;
  }
  // NeoX rotation of one head: pairs (i, i + d/2).
  void Rope(double* h, int pos) const {
    for (int i = 0; i < kHeadDim / 2; ++i) {
      const double th = (linear_ ? pos / 2.0 : pos) * std::pow(kTheta, -2.0 * i / kHeadDim);
      const double a = h[i], b = h[i + kHeadDim / 2];
      h[i] = a * std::cos(th) - b * std::sin(th);
      h[i + kHeadDim / 2] = a * std::sin(th) + b * std::cos(th);
    }
  }

  std::vector<std::vector<double>> Reference(const std::vector<int32_t>& tokens) {
    const bool qwen3 = arch_ == "qwen3";
    const int T = static_cast<int>(tokens.size());
    std::vector<std::vector<double>> x(T, std::vector<double>(kEmbd));
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < kEmbd; ++i) x[t][i] = W("model.embed_tokens.weight")[tokens[t] * kEmbd + i];
    for (int l = 0; l < kLayers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      std::vector<std::vector<double>> q(T), k(T), v(T);
      for (int t = 0; t < T; ++t) {
        const auto h = Norm(x[t], W(p + "input_layernorm.weight"));
        q[t] = Lin(p + "self_attn.q_proj.weight", h, kHeads * kHeadDim);
        k[t] = Lin(p + "self_attn.k_proj.weight", h, kKvHeads * kHeadDim);
        v[t] = Lin(p + "self_attn.v_proj.weight", h, kKvHeads * kHeadDim);
        if (!qwen3) {
          for (size_t i = 0; i < q[t].size(); ++i) q[t][i] += W(p + "self_attn.q_proj.bias")[i];
          for (size_t i = 0; i < k[t].size(); ++i) k[t][i] += W(p + "self_attn.k_proj.bias")[i];
          for (size_t i = 0; i < v[t].size(); ++i) v[t][i] += W(p + "self_attn.v_proj.bias")[i];
        } else {
          for (int hh = 0; hh < kHeads; ++hh) q[t] = Norm(q[t], W(p + "self_attn.q_norm.weight"), hh * kHeadDim, kHeadDim);
          for (int hh = 0; hh < kKvHeads; ++hh) k[t] = Norm(k[t], W(p + "self_attn.k_norm.weight"), hh * kHeadDim, kHeadDim);
        }
        for (int hh = 0; hh < kHeads; ++hh) Rope(&q[t][hh * kHeadDim], t);
        for (int hh = 0; hh < kKvHeads; ++hh) Rope(&k[t][hh * kHeadDim], t);
      }
      for (int t = 0; t < T; ++t) {
        std::vector<double> att(kHeads * kHeadDim, 0.0);
        for (int hh = 0; hh < kHeads; ++hh) {
          const int g = hh / (kHeads / kKvHeads);
          std::vector<double> s(t + 1);
          double mx = -1e300, sum = 0;
          for (int u = 0; u <= t; ++u) {
            double d = 0;
            for (int i = 0; i < kHeadDim; ++i) d += q[t][hh * kHeadDim + i] * k[u][g * kHeadDim + i];
            s[u] = d / std::sqrt(static_cast<double>(kHeadDim));
            mx = std::max(mx, s[u]);
          }
          for (double& e : s) sum += e = std::exp(e - mx);
          for (int u = 0; u <= t; ++u)
            for (int i = 0; i < kHeadDim; ++i) att[hh * kHeadDim + i] += s[u] / sum * v[u][g * kHeadDim + i];
        }
        const auto o = Lin(p + "self_attn.o_proj.weight", att, kEmbd);
        for (int i = 0; i < kEmbd; ++i) x[t][i] += o[i];
        const auto h = Norm(x[t], W(p + "post_attention_layernorm.weight"));
        auto gate = Lin(p + "mlp.gate_proj.weight", h, kFf);
        const auto up = Lin(p + "mlp.up_proj.weight", h, kFf);
        for (int i = 0; i < kFf; ++i) gate[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
        const auto d = Lin(p + "mlp.down_proj.weight", gate, kEmbd);
        for (int i = 0; i < kEmbd; ++i) x[t][i] += d[i];
      }
    }
    std::vector<std::vector<double>> logits(T);
    for (int t = 0; t < T; ++t)
      logits[t] = Lin("model.embed_tokens.weight", Norm(x[t], W("model.norm.weight")), kVocab);
    return logits;
  }

  std::string arch_, dir_;
  bool linear_ = false;
  Tensors w_;
};

TEST_P(ArchTest, ForwardPassMatchesTheDefinition) {
  auto src = OpenHfSource(dir_);
  ASSERT_TRUE(src.ok()) << src.status();
  QuantizeOptions o;
  o.target = *ParseQuantTarget("F32", false);
  const std::string gguf = dir_ + "/model.gguf";
  ASSERT_TRUE(QuantizeModel(*src, gguf, o).ok());
  auto model = Model::Load(gguf);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->config().arch, arch_);
  EXPECT_EQ((*model)->config().rope_layout, RopeLayout::kNeox);
  EXPECT_EQ((*model)->config().qkv_bias, arch_ == "qwen2");
  EXPECT_EQ((*model)->config().qk_norm, arch_ == "qwen3");
  EXPECT_EQ((*model)->config().rope_freq_scale, linear_ ? 0.5f : 1.0f);
  const std::vector<int32_t> tokens = {1, 400, 17, 260, 33, 499, 2, 77, 300, 5, 6, 7};
  auto s = Session::Create(**model, {.n_ctx = 64, .kv_f32 = true, .threads = 2});
  ASSERT_TRUE(s.ok());
  std::vector<float> got;
  ASSERT_TRUE((*s)->Eval(tokens, LogitsMode::kAll, &got).ok());
  const auto want = Reference(tokens);
  double worst = 0;
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int j = 0; j < kVocab; ++j) worst = std::max(worst, std::fabs(got[t * kVocab + j] - want[t][j]));
  EXPECT_LT(worst, 1e-5);
  std::printf("%s: max |logit - definition| = %.3g\n", arch_.c_str(), worst);
}

INSTANTIATE_TEST_SUITE_P(Qwen, ArchTest, testing::Values("qwen2", "qwen3", "qwen2-linear"));

// Llama 3.1's rope_freqs.weight divides each rotary pair's angle, as ggml's
// rope cache does (theta / factor). A factor of 2 everywhere is linear
// scaling by 2 (theta * 0.5), to the bit; without the tensor the logits
// differ. random-model writes the converter's factors for a llama3 config.
TEST(RopeFreqs, DivideTheAnglesAsLlamaCpp) {
  const std::string dir = testing::TempDir() + "/rope-freqs-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()), 0);
  auto config = [&](const std::string& name, const std::string& scaling) {
    std::ofstream(dir + "/" + name)
        << "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":96,"
           "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":256,"
           "\"max_position_embeddings\":256,\"rms_norm_eps\":1e-06,\"rope_theta\":10000.0,"
           "\"tie_word_embeddings\":true"
        << scaling << "}";
    return dir + "/" + name;
  };
  QuantizeOptions qo;
  qo.target = *ParseQuantTarget("F32", false);
  auto write = [&](const std::string& cfg, const std::string& out, float factor) {
    RandomModelOptions ro;
    ro.config = cfg;
    auto src = RandomModelSource(ro);
    if (!src.ok()) return src.status();
    if (factor > 0) {
      SourceTensor rf;
      rf.name = "rope_freqs.weight";
      rf.dims = {8};  // head_dim 16 / 2
      rf.type = GgmlType::kF32;
      rf.load = [factor](std::vector<uint8_t>* b) {
        const std::vector<float> f(8, factor);
        b->assign(reinterpret_cast<const uint8_t*>(f.data()), reinterpret_cast<const uint8_t*>(f.data() + 8));
        return absl::OkStatus();
      };
      src->tensors.insert(src->tensors.begin(), std::move(rf));
    }
    return QuantizeModel(*src, dir + "/" + out, qo).status();
  };
  auto logits = [&](const std::string& file) {
    std::vector<float> out;
    auto model = Model::Load(dir + "/" + file);
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return out;
    auto s = Session::Create(**model, {.n_ctx = 64, .threads = 2});
    EXPECT_TRUE(s.ok());
    const std::vector<int32_t> tokens = {1, 200, 17, 60, 33, 199, 2, 77, 100, 5, 6, 7};
    EXPECT_TRUE((*s)->Eval(tokens, LogitsMode::kAll, &out).ok());
    return out;
  };
  const std::string plain = config("plain.json", "");
  ASSERT_TRUE(write(config("linear.json", ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}"), "linear.gguf", 0).ok());
  ASSERT_TRUE(write(plain, "freqs.gguf", 2.0f).ok());
  ASSERT_TRUE(write(plain, "plain.gguf", 0).ok());
  const std::vector<float> linear = logits("linear.gguf"), freqs = logits("freqs.gguf"), none = logits("plain.gguf");
  ASSERT_EQ(linear.size(), 12u * 256);
  EXPECT_EQ(freqs, linear);
  EXPECT_NE(none, linear);

  const std::string llama3 = config(
      "llama3.json", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,"
                     "\"high_freq_factor\":4.0},\"original_max_position_embeddings\":64");
  ASSERT_TRUE(write(llama3, "llama3.gguf", 0).ok());
  auto model = Model::Load(dir + "/llama3.gguf");
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_NE((*model)->rope_freqs(), nullptr);
  auto cfg = ReadHfConfig(llama3);
  ASSERT_TRUE(cfg.ok());
  const std::vector<float> want = Llama3RopeFactors(*cfg);
  EXPECT_EQ(std::vector<float>((*model)->rope_freqs(), (*model)->rope_freqs() + 8), want);
  EXPECT_NE(want, std::vector<float>(8, 1.0f));
  (void)std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace llmtk
