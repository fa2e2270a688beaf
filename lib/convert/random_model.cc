#include "lib/convert/random_model.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/convert/hf_convert.h"
#include "lib/convert/hf_deepseek2.h"
#include "lib/convert/hf_moe.h"
#include "lib/convert/hf_phi3_glm.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_vocab.h"

namespace llmtk {
namespace {

// splitmix64: tiny, seedable, and the same on every platform.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
};

void Fill(uint64_t seed, size_t index, float scale, float* out, size_t n) {
  Rng rng{seed * 0x100000001b3ull + index};
  for (size_t i = 0; i < n; i += 2) {
    // Box-Muller pair; 1 in 1000 values is a 10x outlier.
    const double u1 = 1.0 - rng.Uniform(), u2 = rng.Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    double v[2] = {r * std::cos(6.283185307179586 * u2), r * std::sin(6.283185307179586 * u2)};
    for (int k = 0; k < 2 && i + k < n; ++k) {
      const bool outlier = (rng.Next() % 1000) == 0;
      out[i + k] = static_cast<float>(v[k] * scale * (outlier ? 10.0 : 1.0));
    }
  }
}

}  // namespace

absl::StatusOr<ModelSource> RandomModelSource(const RandomModelOptions& o) {
  ASSIGN_OR_RETURN(HfConfig cfg, ReadHfConfig(o.config));
  if (o.layers > 0) cfg.n_layer = o.layers;
  if (o.experts > 0) {
    // Fewer experts of the same shape: llama.cpp takes any count from the
    // experts used per token up.
    if (cfg.n_expert == 0) return absl::InvalidArgumentError(absl::StrCat(o.config, " has no experts to shrink"));
    if (o.experts < cfg.n_expert_used)
      return absl::InvalidArgumentError(absl::StrCat("--experts ", o.experts, " is fewer than the ", cfg.n_expert_used,
                                                     " experts ", o.config, " uses per token"));
    cfg.n_expert = o.experts;
  }
  // llama.cpp c392e50 takes a deepseek2 file for V2-Lite (q without
  // compression) by its 27 layers, and any other count for full V2 (q_lora).
  if (cfg.arch == "deepseek2" && (cfg.q_lora_rank == 0) != (cfg.n_layer == 27))
    return absl::InvalidArgumentError(absl::StrCat(
        o.config, cfg.q_lora_rank == 0 ? " has no q_lora_rank, so it needs 27 layers (not " : " has q_lora_rank, so it "
        "cannot have 27 layers (", cfg.n_layer, "): llama.cpp c392e50 tells DeepSeek-V2-Lite by its 27 layers"));
  ModelSource src;
  src.name = o.config;
  src.from_converter = true;
  const int64_t hd = cfg.head_dim;
  struct Spec {
    std::string name;
    std::vector<int64_t> dims;
    float scale;
    bool around_one = false;  // norm weights sit around 1
  };
  // Every tensor llama.cpp's loader requires for the architecture (its
  // llama-model.cpp): qwen2's q/k/v biases, qwen3's per-head q/k norms.
  // gemma2/gemma3: post-attention and post-FFN norms; gemma3's q/k norms.
  const bool bias = cfg.arch == "qwen2" || cfg.arch == "qwen2moe";
  const bool qk_norm = cfg.arch == "qwen3" || cfg.arch == "gemma3" || cfg.arch == "qwen3moe";
  const bool post_norms = cfg.arch == "gemma2" || cfg.arch == "gemma3";
  std::vector<Spec> specs;
  specs.push_back({"token_embd.weight", {cfg.n_embd, cfg.vocab}, 0.02f});
  for (int64_t l = 0; l < cfg.n_layer; ++l) {
    const std::string b = absl::StrCat("blk.", l, ".");
    specs.push_back({b + "attn_norm.weight", {cfg.n_embd}, 0.1f, true});
    specs.push_back({b + "attn_q.weight", {cfg.n_embd, cfg.n_head * hd}, 0.02f});
    specs.push_back({b + "attn_k.weight", {cfg.n_embd, cfg.n_head_kv * hd}, 0.02f});
    specs.push_back({b + "attn_v.weight", {cfg.n_embd, cfg.n_head_kv * hd}, 0.02f});
    if (bias) {
      specs.push_back({b + "attn_q.bias", {cfg.n_head * hd}, 0.02f});
      specs.push_back({b + "attn_k.bias", {cfg.n_head_kv * hd}, 0.02f});
      specs.push_back({b + "attn_v.bias", {cfg.n_head_kv * hd}, 0.02f});
    }
    if (qk_norm) {
      specs.push_back({b + "attn_q_norm.weight", {hd}, 0.1f, true});
      specs.push_back({b + "attn_k_norm.weight", {hd}, 0.1f, true});
    }
    specs.push_back({b + "attn_output.weight", {cfg.n_head * hd, cfg.n_embd}, 0.02f});
    if (post_norms) specs.push_back({b + "post_attention_norm.weight", {cfg.n_embd}, 0.1f, true});
    specs.push_back({b + "ffn_norm.weight", {cfg.n_embd}, 0.1f, true});
    if (cfg.n_expert > 0) {
      for (MoeTensorSpec& m : MoeFfnTensorSpecs(cfg)) specs.push_back({b + m.suffix, std::move(m.dims), 0.02f});
    } else {
      specs.push_back({b + "ffn_gate.weight", {cfg.n_embd, cfg.n_ff}, 0.02f});
      specs.push_back({b + "ffn_up.weight", {cfg.n_embd, cfg.n_ff}, 0.02f});
      specs.push_back({b + "ffn_down.weight", {cfg.n_ff, cfg.n_embd}, 0.02f});
    }
    if (post_norms) specs.push_back({b + "post_ffw_norm.weight", {cfg.n_embd}, 0.1f, true});
  }
  specs.push_back({"output_norm.weight", {cfg.n_embd}, 0.1f, true});
  if (!cfg.tied) specs.push_back({"output.weight", {cfg.n_embd, cfg.vocab}, 0.02f});
  if (cfg.arch == "deepseek2") {  // multi-head latent attention, dense blocks first
    specs.clear();
    specs.push_back({"token_embd.weight", {cfg.n_embd, cfg.vocab}, 0.02f});
    for (int64_t l = 0; l < cfg.n_layer; ++l)
      for (Deepseek2TensorSpec& s : Deepseek2BlockTensorSpecs(cfg, l))
        specs.push_back({s.name, s.dims, s.norm ? 0.1f : 0.02f, s.norm});
    specs.push_back({"output_norm.weight", {cfg.n_embd}, 0.1f, true});
    specs.push_back({"output.weight", {cfg.n_embd, cfg.vocab}, 0.02f});
  }
  if (IsPhi3GlmArch(cfg)) {  // other tensors (fused q/k/v, gate/up): their own list
    specs.clear();
    for (ArchTensorSpec& s : Phi3GlmTensorSpecs(cfg)) specs.push_back({s.name, s.dims, s.norm ? 0.1f : 0.02f, s.norm});
  }
  uint64_t n_extra = 0;
  for (SourceTensor& t : Phi3GlmExtraTensors(cfg)) {  // not random: the config's, first as the converter writes them
    n_extra += static_cast<uint64_t>(t.dims[0]);
    src.tensors.push_back(std::move(t));
  }
  if (cfg.rope_scaling_type == "llama3") {
    // Not random: the factors the converter computes, first as it writes them.
    src.tensors.push_back(RopeFreqsTensor(cfg));
  }
  uint64_t n_params = n_extra;
  for (size_t i = 0; i < specs.size(); ++i) {
    SourceTensor t;
    t.name = specs[i].name;
    t.dims = specs[i].dims;
    t.type = GgmlType::kF32;
    size_t n = 1;
    for (int64_t d : t.dims) n *= static_cast<size_t>(d);
    n_params += n;
    const uint64_t seed = o.seed;
    const float scale = specs[i].scale;
    const bool norm = specs[i].around_one;
    t.load = [seed, i, scale, n, norm](std::vector<uint8_t>* out) {
      out->resize(n * 4);
      float* f = reinterpret_cast<float*>(out->data());
      Fill(seed, i, scale, f, n);
      if (norm) {
        for (size_t k = 0; k < n; ++k) f[k] += 1.0f;
      }
      return absl::OkStatus();
    };
    src.tensors.push_back(std::move(t));
  }
  if (cfg.n_expert > 0) n_params = MoeCountParams(src.tensors, &cfg);
  AddHfArchMetadata(cfg, absl::StrCat("random-seed", o.seed), n_params, &src.metadata);
  // Without a vocabulary llama.cpp sizes the output from <arch>.vocab_size,
  // which the converter writes for llama only.
  const std::string vocab_key = GgufKeyName(GgufArchKey::kVocabSize, cfg.arch);
  if (o.vocab.empty() && src.metadata.Find(vocab_key) == nullptr) src.metadata.SetU32(vocab_key, cfg.vocab);
  src.metadata.SetU32(GgufKeyName(GgufKey::kGeneralQuantizationVersion), 2);
  if (!o.vocab.empty()) {
    ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> vf, GgufFile::Open(o.vocab));
    if (!HasGgufVocab(*vf)) return absl::InvalidArgumentError(absl::StrCat(o.vocab, " has no vocabulary"));
    const GgufVocab v = ReadGgufVocab(*vf);
    const size_t n = v.tokens ? v.tokens->size() : 0;
    if (n != static_cast<size_t>(cfg.vocab)) {
      return absl::InvalidArgumentError(absl::StrCat(o.vocab, " has ", n, " tokens, but ", o.config,
                                                     " has vocab_size ", cfg.vocab));
    }
    SetGgufVocab(v, &src.metadata);
  }
  return src;
}

absl::StatusOr<QuantizeReport> WriteRandomModel(const RandomModelOptions& options, const std::string& output,
                                                const std::string& type, int threads) {
  ASSIGN_OR_RETURN(QuantTarget target, ParseQuantTarget(type, false));
  ASSIGN_OR_RETURN(ModelSource src, RandomModelSource(options));
  QuantizeOptions qo;
  qo.target = target;
  qo.threads = threads;
  return QuantizeModel(src, output, qo);
}

}  // namespace llmtk
