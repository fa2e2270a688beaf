#include "lib/convert/gemma_convert.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

// A config.json read the converter's way: an integer key must hold a JSON
// integer, a float key any number; otherwise the key counts as absent.
class Keys {
 public:
  Keys(const HfConfigJson& c, const std::string& path) : c_(c), path_(path) {}
  bool Int(const HfConfigValue& v, int64_t* out) const {
    if (!v.AsInt64()) return false;
    *out = *v.AsInt64();
    return true;
  }
  bool Double(const HfConfigValue& v, double* out) const {
    if (!v.AsDouble()) return false;
    *out = *v.AsDouble();
    return true;
  }
  // Gemma2Model indexes hparams[...]: a missing key stops the converter.
  absl::Status RequireInt(const HfConfigValue& v, int64_t* out) const {
    if (!Int(v, out) || *out <= 0) return Missing(v);
    return absl::OkStatus();
  }
  absl::Status RequireDouble(const HfConfigValue& v, double* out) const {
    if (!Double(v, out)) return Missing(v);
    return absl::OkStatus();
  }
  absl::Status Missing(const HfConfigValue& v) const {
    return absl::DataLossError(absl::StrCat(path_, ": missing or invalid \"", ToAbsl(v.key), "\""));
  }
  const HfConfigJson& c() const { return c_; }

 private:
  const HfConfigJson& c_;
  const std::string& path_;
};

absl::Status ReadGemma2(const Keys& k, HfConfig* cfg) {
  const HfConfigJson& c = k.c();
  RETURN_IF_ERROR(k.RequireInt(c.num_hidden_layers, &cfg->n_layer));
  RETURN_IF_ERROR(k.RequireInt(c.max_position_embeddings, &cfg->n_ctx));
  cfg->has_ctx = true;
  RETURN_IF_ERROR(k.RequireInt(c.hidden_size, &cfg->n_embd));
  RETURN_IF_ERROR(k.RequireInt(c.intermediate_size, &cfg->n_ff));
  RETURN_IF_ERROR(k.RequireInt(c.num_attention_heads, &cfg->n_head));
  RETURN_IF_ERROR(k.RequireInt(c.vocab_size, &cfg->vocab));
  cfg->has_head_kv = true;
  if (!k.Int(c.num_key_value_heads, &cfg->n_head_kv)) cfg->n_head_kv = cfg->n_head;
  RETURN_IF_ERROR(k.RequireDouble(c.rms_norm_eps, &cfg->rms_eps));
  RETURN_IF_ERROR(k.RequireInt(c.head_dim, &cfg->head_dim));
  cfg->has_head_dim = true;
  RETURN_IF_ERROR(k.RequireDouble(c.attn_logit_softcapping, &cfg->attn_softcap));
  RETURN_IF_ERROR(k.RequireDouble(c.final_logit_softcapping, &cfg->final_softcap));
  RETURN_IF_ERROR(k.RequireInt(c.sliding_window, &cfg->sliding_window));
  // Gemma 2 has no rope_theta key in its GGUF: llama.cpp's default 10000.
  cfg->has_theta = false;
  return absl::OkStatus();
}

// Gemma3Model (convert_hf_to_gguf.py after Gemma 3's release) on top of
// TextModel.set_gguf_parameters, with text_config moved to the top level.
absl::Status ReadGemma3(const Keys& top, const Keys& k, HfConfig* cfg) {
  const HfConfigJson& c = k.c();
  RETURN_IF_ERROR(k.RequireInt(c.num_hidden_layers, &cfg->n_layer));
  RETURN_IF_ERROR(k.RequireInt(c.hidden_size, &cfg->n_embd));
  RETURN_IF_ERROR(k.RequireInt(c.intermediate_size, &cfg->n_ff));
  cfg->has_ctx = k.Int(c.max_position_embeddings, &cfg->n_ctx);
  if (!cfg->has_ctx) cfg->n_ctx = 131072;
  cfg->has_n_head = k.Int(c.num_attention_heads, &cfg->n_head);
  if (!cfg->has_n_head) cfg->n_head = 8;
  cfg->has_head_kv = k.Int(c.num_key_value_heads, &cfg->n_head_kv);
  if (!cfg->has_head_kv) cfg->n_head_kv = 4;
  cfg->has_eps = k.Double(c.rms_norm_eps, &cfg->rms_eps);
  if (!cfg->has_eps) cfg->rms_eps = 1e-6;
  cfg->has_head_dim = k.Int(c.head_dim, &cfg->head_dim);
  if (!cfg->has_head_dim) cfg->head_dim = 256;
  cfg->has_theta = k.Double(c.rope_theta, &cfg->rope_theta);
  if (!cfg->has_theta) cfg->rope_theta = 1000000.0;
  cfg->has_local_theta = k.Double(c.rope_local_base_freq, &cfg->rope_local_theta);
  // transformers' Gemma3TextConfig defaults for what a multimodal
  // checkpoint's text_config leaves out.
  if (!k.Int(c.vocab_size, &cfg->vocab) && !top.Int(top.c().vocab_size, &cfg->vocab)) cfg->vocab = 262208;
  if (!k.Int(c.sliding_window, &cfg->sliding_window)) cfg->sliding_window = 4096;
  if (!k.Int(c.sliding_window_pattern, &cfg->sliding_window_pattern)) cfg->sliding_window_pattern = 6;
  (void)k.Double(c.final_logit_softcapping, &cfg->final_softcap);
  double cap = 0;
  if (k.Double(c.attn_logit_softcapping, &cap)) {
    return absl::UnimplementedError(
        absl::StrCat(ToAbsl(c.attn_logit_softcapping.key), " is set, which Gemma 3 does not have"));
  }
  const HfRopeScalingJson& rs = c.rope_scaling;
  if (rs.is_object) {
    std::string_view t;
    if (rs.rope_type.AsString()) {
      t = *rs.rope_type.AsString();
    } else if (rs.type.AsString()) {
      t = *rs.type.AsString();
    }
    cfg->rope_scaling_type = std::string(t);
    if (!k.Double(rs.factor, &cfg->rope_scaling_factor) || cfg->rope_scaling_type != "linear") {
      if (cfg->rope_scaling_type != "default" && !cfg->rope_scaling_type.empty()) {
        return absl::UnimplementedError(absl::StrCat("rope_scaling type '", cfg->rope_scaling_type,
                                                     "' is not supported for Gemma 3 (linear is)"));
      }
      cfg->rope_scaling_type.clear();
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsGemmaHfArchitecture(std::string_view a) {
  return a == "Gemma2ForCausalLM" || a == "Gemma3ForCausalLM" || a == "Gemma3ForConditionalGeneration";
}

bool IsGemmaArch(std::string_view a) { return a == "gemma2" || a == "gemma3"; }

absl::StatusOr<HfConfig> ReadGemmaHfConfig(const HfConfigJson& json, std::string_view hf_arch,
                                           const std::string& path) {
  HfConfig cfg;
  cfg.tied = true;  // Gemma ties its output to the embedding; lm_head is dropped
  const Keys top(json, path);
  if (hf_arch == "Gemma2ForCausalLM") {
    cfg.arch = "gemma2";
    RETURN_IF_ERROR(ReadGemma2(top, &cfg));
  } else {
    cfg.arch = "gemma3";
    const HfConfigJson& text = json.text_config ? *json.text_config : json;
    RETURN_IF_ERROR(ReadGemma3(top, Keys(text, path), &cfg));
  }
  if (cfg.n_head_kv <= 0 || cfg.n_head % cfg.n_head_kv != 0) {
    return absl::DataLossError(absl::StrCat(path, ": num_key_value_heads must divide num_attention_heads"));
  }
  return cfg;
}

void AddGemmaArchMetadata(const HfConfig& cfg, GgufMetadata* md) {
  using K = GgufArchKey;
  const std::string& a = cfg.arch;
  auto u32 = [&](K key, int64_t v) { md->SetU32(GgufKeyName(key, a), static_cast<uint32_t>(v)); };
  auto f32 = [&](K key, double v) { md->SetF32(GgufKeyName(key, a), static_cast<float>(v)); };
  auto file_type = [&] { md->SetU32(GgufKeyName(GgufKey::kGeneralFileType), 0); };  // QuantizeModel fills it
  if (a == "gemma2") {
    u32(K::kContextLength, cfg.n_ctx);
    u32(K::kEmbeddingLength, cfg.n_embd);
    u32(K::kBlockCount, cfg.n_layer);
    u32(K::kFeedForwardLength, cfg.n_ff);
    u32(K::kAttentionHeadCount, cfg.n_head);
    u32(K::kAttentionHeadCountKv, cfg.n_head_kv);
    f32(K::kAttentionLayerNormRmsEpsilon, cfg.rms_eps);
    u32(K::kAttentionKeyLength, cfg.head_dim);
    u32(K::kAttentionValueLength, cfg.head_dim);
    file_type();
    f32(K::kAttnLogitSoftcapping, cfg.attn_softcap);
    f32(K::kFinalLogitSoftcapping, cfg.final_softcap);
    u32(K::kAttentionSlidingWindow, cfg.sliding_window);
    return;
  }
  // TextModel.set_gguf_parameters writes what config.json has; Gemma3Model
  // then sets its defaults (a key set twice keeps its first place).
  u32(K::kBlockCount, cfg.n_layer);
  if (cfg.has_ctx) u32(K::kContextLength, cfg.n_ctx);
  u32(K::kEmbeddingLength, cfg.n_embd);
  u32(K::kFeedForwardLength, cfg.n_ff);
  if (cfg.has_n_head) u32(K::kAttentionHeadCount, cfg.n_head);
  if (cfg.has_head_kv) u32(K::kAttentionHeadCountKv, cfg.n_head_kv);
  if (cfg.rope_scaling_type == "linear") {
    md->SetString(GgufKeyName(K::kRopeScalingType, a), "linear");
    f32(K::kRopeScalingFactor, cfg.rope_scaling_factor);
  }
  if (cfg.has_theta) f32(K::kRopeFreqBase, cfg.rope_theta);
  if (cfg.has_local_theta) f32(K::kRopeFreqBaseSwa, cfg.rope_local_theta);
  if (cfg.has_eps) f32(K::kAttentionLayerNormRmsEpsilon, cfg.rms_eps);
  if (cfg.has_head_dim) {
    u32(K::kAttentionKeyLength, cfg.head_dim);
    u32(K::kAttentionValueLength, cfg.head_dim);
  }
  file_type();
  // Same values as any the base wrote, so only the missing ones are added.
  auto u32_new = [&](K key, int64_t v) {
    if (md->Find(GgufKeyName(key, a)) == nullptr) u32(key, v);
  };
  auto f32_new = [&](K key, double v) {
    if (md->Find(GgufKeyName(key, a)) == nullptr) f32(key, v);
  };
  u32_new(K::kContextLength, cfg.n_ctx);
  u32_new(K::kAttentionHeadCount, cfg.n_head);
  f32_new(K::kAttentionLayerNormRmsEpsilon, cfg.rms_eps);
  u32_new(K::kAttentionKeyLength, cfg.head_dim);
  u32_new(K::kAttentionValueLength, cfg.head_dim);
  f32_new(K::kRopeFreqBase, cfg.rope_theta);
  if (cfg.final_softcap != 0) f32_new(K::kFinalLogitSoftcapping, cfg.final_softcap);
  if (cfg.sliding_window_pattern != 1) u32_new(K::kAttentionSlidingWindow, cfg.sliding_window);
  u32_new(K::kAttentionHeadCountKv, cfg.n_head_kv);
}

std::optional<std::string_view> GemmaBlockTensorName(std::string_view rest) {
  if (rest == "post_attention_layernorm.weight") return "post_attention_norm.weight";
  if (rest == "pre_feedforward_layernorm.weight") return "ffn_norm.weight";
  if (rest == "post_feedforward_layernorm.weight") return "post_ffw_norm.weight";
  return std::nullopt;
}

bool GemmaNormShifted(std::string_view n) {
  constexpr std::string_view kSuffix = "norm.weight";
  return n.size() >= kSuffix.size() && n.substr(n.size() - kSuffix.size()) == kSuffix;
}

float GemmaShiftNorm(float w, GgmlType dtype) {
  // prepare_tensors widens every dtype but F16 and F32 to F32 before
  // modify_tensors adds the 1: only an F16 checkpoint rounds the sum.
  const float sum = w + 1.0f;
  return dtype == GgmlType::kF16 ? Fp16ToFp32(Fp32ToFp16(sum)) : sum;
}

void AddGemmaTokenizerMetadata(const std::string& dir, GgufMetadata* md) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(dir + "/tokenizer.model", ec)) {
    md->SetBool(GgufKeyName(GgufKey::kTokenizerAddSpacePrefix), false);
  }
}

}  // namespace llmtk
