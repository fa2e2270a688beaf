#include "lib/convert/hf_phi3_glm.h"

#include <cmath>
#include <cstring>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

constexpr std::string_view kPhi3 = "Phi3ForCausalLM", kGlm = "GlmForCausalLM";

// find_hparam: the first of `keys` that config.json has (whatever its value);
// the converter then uses it as an integer.
const HfConfigValue* First(std::initializer_list<const HfConfigValue*> keys) {
  for (const HfConfigValue* v : keys)
    if (v->type != HfConfigValue::Type::kAbsent) return v;
  return nullptr;
}

absl::Status Int(const std::string& path, std::initializer_list<const HfConfigValue*> keys, int64_t* out) {
  const HfConfigValue* v = First(keys);
  if (v == nullptr || !v->AsInt64() || *v->AsInt64() <= 0) {
    return absl::DataLossError(
        absl::StrCat(path, ": missing or invalid \"", ToAbsl((*keys.begin())->key), "\" (a positive integer)"));
  }
  *out = *v->AsInt64();
  return absl::OkStatus();
}

absl::Status Number(const std::string& path, const HfConfigValue& v, double* out) {
  if (!v.AsDouble()) return absl::DataLossError(absl::StrCat(path, ": missing or invalid \"", ToAbsl(v.key), "\""));
  *out = *v.AsDouble();
  return absl::OkStatus();
}

absl::Status Factors(const std::string& path, const HfConfigValue& v, size_t want, std::vector<float>* out) {
  if (v.type != HfConfigValue::Type::kArray) {
    return absl::DataLossError(
        absl::StrCat(path, ": rope_scaling needs \"long_factor\" and \"short_factor\" arrays"));
  }
  if (v.elements.size() != want) {
    return absl::DataLossError(absl::StrCat(path, ": rope_scaling \"", ToAbsl(v.key), "\" has ", v.elements.size(),
                                            " values; the rotary dimensions need ", want));
  }
  for (const HfConfigValue& e : v.elements) {
    if (!e.AsDouble()) {
      return absl::DataLossError(absl::StrCat(path, ": rope_scaling \"", ToAbsl(v.key), "\" holds a non-number"));
    }
    out->push_back(static_cast<float>(*e.AsDouble()));
  }
  return absl::OkStatus();
}

absl::StatusOr<HfConfig> ReadPhi3(const HfConfigJson& c, const std::string& path) {
  HfConfig cfg;
  cfg.arch = "phi3";
  RETURN_IF_ERROR(Int(path, {&c.num_hidden_layers, &c.n_layer}, &cfg.n_layer));
  RETURN_IF_ERROR(Int(path, {&c.hidden_size, &c.n_embd}, &cfg.n_embd));
  RETURN_IF_ERROR(Int(path, {&c.num_attention_heads, &c.n_head}, &cfg.n_head));
  RETURN_IF_ERROR(Int(path, {&c.num_key_value_heads}, &cfg.n_head_kv));
  RETURN_IF_ERROR(Int(path, {&c.intermediate_size}, &cfg.n_ff));
  RETURN_IF_ERROR(Int(path, {&c.n_positions, &c.max_position_embeddings}, &cfg.n_ctx));
  RETURN_IF_ERROR(Int(path, {&c.original_max_position_embeddings}, &cfg.original_ctx));
  RETURN_IF_ERROR(Int(path, {&c.vocab_size}, &cfg.vocab));
  RETURN_IF_ERROR(Number(path, c.rms_norm_eps, &cfg.rms_eps));
  RETURN_IF_ERROR(Number(path, c.rope_theta, &cfg.rope_theta));
  if (cfg.n_head % cfg.n_head_kv != 0 || cfg.n_embd % cfg.n_head != 0) {
    return absl::DataLossError(absl::StrCat(path, ": hidden_size ", cfg.n_embd, ", ", cfg.n_head, " heads and ",
                                            cfg.n_head_kv, " key/value heads do not divide"));
  }
  cfg.has_ctx = cfg.has_head_kv = cfg.has_theta = true;
  cfg.head_dim = cfg.n_rot = cfg.n_embd / cfg.n_head;
  if (c.sliding_window.AsInt64()) cfg.sliding_window = *c.sliding_window.AsInt64();
  if (c.tie_word_embeddings.AsBool()) cfg.tied = *c.tie_word_embeddings.AsBool();
  const HfRopeScalingJson& rs = c.rope_scaling;
  if (!rs.is_object) return cfg;
  // The converter reads "type" only (not "rope_type"), lower-cased.
  std::string type(rs.type.AsString().value_or(""));
  for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const double scale = static_cast<double>(cfg.n_ctx) / static_cast<double>(cfg.original_ctx);
  if (type == "su" || type == "longrope") {
    const double orig = static_cast<double>(cfg.original_ctx);
    cfg.rope_attn_factor = scale > 1.0 ? std::sqrt(1 + std::log(scale) / std::log(orig)) : 1.0;
  } else if (type == "yarn") {
    cfg.rope_attn_factor = scale > 1.0 ? 0.1 * std::log(scale) + 1.0 : 1.0;
  } else {
    return absl::UnimplementedError(absl::StrCat(path, ": Phi-3 rope_scaling type '", type,
                                                 "' is not supported (su, longrope and yarn are)"));
  }
  cfg.rope_scaling_type = type;
  const size_t half = static_cast<size_t>(cfg.n_rot / 2);
  RETURN_IF_ERROR(Factors(path, rs.long_factor, half, &cfg.rope_long));
  RETURN_IF_ERROR(Factors(path, rs.short_factor, half, &cfg.rope_short));
  return cfg;
}

absl::StatusOr<HfConfig> ReadGlm(const HfConfigJson& c, const std::string& path) {
  HfConfig cfg;
  cfg.arch = "chatglm";
  RETURN_IF_ERROR(Int(path, {&c.hidden_size, &c.n_embed}, &cfg.n_embd));
  RETURN_IF_ERROR(Int(path, {&c.n_head, &c.num_attention_heads}, &cfg.n_head));
  RETURN_IF_ERROR(Int(path, {&c.num_layers, &c.num_hidden_layers}, &cfg.n_layer));
  RETURN_IF_ERROR(Int(path, {&c.padded_vocab_size, &c.vocab_size}, &cfg.vocab));
  cfg.n_head_kv = cfg.n_head;
  if (First({&c.multi_query_group_num, &c.num_key_value_heads}))
    RETURN_IF_ERROR(Int(path, {&c.multi_query_group_num, &c.num_key_value_heads}, &cfg.n_head_kv));
  cfg.n_ctx = cfg.n_embd;
  if (First({&c.seq_length})) RETURN_IF_ERROR(Int(path, {&c.seq_length}, &cfg.n_ctx));
  cfg.n_ff = 4 * cfg.n_embd;
  if (First({&c.ffn_hidden_size, &c.intermediate_size}))
    RETURN_IF_ERROR(Int(path, {&c.ffn_hidden_size, &c.intermediate_size}, &cfg.n_ff));
  cfg.rms_eps = 1e-5;
  if (First({&c.layernorm_epsilon})) RETURN_IF_ERROR(Number(path, c.layernorm_epsilon, &cfg.rms_eps));
  if (cfg.n_head % cfg.n_head_kv != 0 || cfg.n_embd % cfg.n_head != 0) {
    return absl::DataLossError(absl::StrCat(path, ": hidden_size ", cfg.n_embd, ", ", cfg.n_head, " heads and ",
                                            cfg.n_head_kv, " key/value heads do not divide"));
  }
  // llama.cpp's chatglm graph takes the head size as n_embd / n_head.
  cfg.head_dim = cfg.n_embd / cfg.n_head;
  if (c.head_dim.AsInt64() && *c.head_dim.AsInt64() != cfg.head_dim) {
    return absl::UnimplementedError(absl::StrCat(path, ": head_dim ", *c.head_dim.AsInt64(),
                                                 " is not hidden_size / num_attention_heads, which llama.cpp's "
                                                 "chatglm assumes"));
  }
  int64_t rope_dim = cfg.head_dim;
  if (First({&c.attention_dim})) RETURN_IF_ERROR(Int(path, {&c.attention_dim}, &rope_dim));
  double partial = 0.5;
  if (First({&c.partial_rotary_factor})) RETURN_IF_ERROR(Number(path, c.partial_rotary_factor, &partial));
  cfg.n_rot = static_cast<int64_t>(static_cast<double>(rope_dim) * partial);
  cfg.rope_theta = 10000;
  if (First({&c.rope_ratio})) {
    double ratio = 0;
    RETURN_IF_ERROR(Number(path, c.rope_ratio, &ratio));
    cfg.rope_theta *= ratio;
  }
  cfg.has_ctx = cfg.has_head_kv = cfg.has_theta = true;
  if (c.tie_word_embeddings.AsBool()) cfg.tied = *c.tie_word_embeddings.AsBool();
  if (c.attention_bias.AsBool()) cfg.qkv_bias = *c.attention_bias.AsBool();
  if (cfg.n_rot <= 0 || cfg.n_rot > cfg.head_dim || cfg.n_rot % 2 != 0) {
    return absl::DataLossError(absl::StrCat(path, ": ", cfg.n_rot, " rotary dimensions do not fit head size ",
                                            cfg.head_dim));
  }
  return cfg;
}

SourceTensor FactorTensor(std::string name, std::vector<float> values) {
  SourceTensor t;
  t.name = std::move(name);
  t.dims = {static_cast<int64_t>(values.size())};
  t.type = GgmlType::kF32;
  t.load = [values](std::vector<uint8_t>* out) {
    out->resize(values.size() * 4);
    std::memcpy(out->data(), values.data(), out->size());
    return absl::OkStatus();
  };
  return t;
}

}  // namespace

bool IsPhi3GlmHfArch(std::string_view hf_arch) { return hf_arch == kPhi3 || hf_arch == kGlm; }
bool IsPhi3GlmArch(const HfConfig& cfg) { return cfg.arch == "phi3" || cfg.arch == "chatglm"; }

absl::StatusOr<HfConfig> ReadPhi3GlmConfig(const HfConfigJson& json, std::string_view hf_arch,
                                           const std::string& path) {
  if (hf_arch == kPhi3) return ReadPhi3(json, path);
  return ReadGlm(json, path);
}

void AddPhi3GlmArchKeys(const HfConfig& cfg, GgufMetadata* md) {
  const std::string& a = cfg.arch;
  using K = GgufArchKey;
  auto u32 = [&](K key, int64_t v) { md->SetU32(GgufKeyName(key, a), static_cast<uint32_t>(v)); };
  auto f32 = [&](K key, double v) { md->SetF32(GgufKeyName(key, a), static_cast<float>(v)); };
  auto file_type = [&] { md->SetU32(GgufKeyName(GgufKey::kGeneralFileType), 0); };  // QuantizeModel fills it in
  if (a == "phi3") {
    u32(K::kContextLength, cfg.n_ctx);
    u32(K::kRopeScalingOriginalContextLength, cfg.original_ctx);
    u32(K::kEmbeddingLength, cfg.n_embd);
    u32(K::kFeedForwardLength, cfg.n_ff);
    u32(K::kBlockCount, cfg.n_layer);
    u32(K::kAttentionHeadCount, cfg.n_head);
    u32(K::kAttentionHeadCountKv, cfg.n_head_kv);
    f32(K::kAttentionLayerNormRmsEpsilon, cfg.rms_eps);
    u32(K::kRopeDimensionCount, cfg.n_rot);
    f32(K::kRopeFreqBase, cfg.rope_theta);
    file_type();
    u32(K::kAttentionSlidingWindow, cfg.sliding_window);
    return;
  }
  u32(K::kContextLength, cfg.n_ctx);
  u32(K::kEmbeddingLength, cfg.n_embd);
  u32(K::kFeedForwardLength, cfg.n_ff);
  u32(K::kBlockCount, cfg.n_layer);
  u32(K::kAttentionHeadCount, cfg.n_head);
  u32(K::kAttentionHeadCountKv, cfg.n_head_kv);
  f32(K::kAttentionLayerNormRmsEpsilon, cfg.rms_eps);
  file_type();
  u32(K::kRopeDimensionCount, cfg.n_rot);
  md->SetBool(GgufKeyName(GgufKey::kTokenizerAddBos), false);
  f32(K::kRopeFreqBase, cfg.rope_theta);
}

void FixPhi3GlmVocab(const HfConfig& cfg, GgufMetadata* md) {
  if (cfg.arch != "chatglm") return;
  const GgufMetadata::Entry* model = md->Find(GgufKeyName(GgufKey::kTokenizerModel));
  // The payload is the string's u64 length, then its bytes.
  if (model == nullptr || model->payload.size() != 8 + 4 || model->payload.substr(8) != "gpt2") return;
  md->SetString(GgufKeyName(GgufKey::kTokenizerPre), "chatglm-bpe");
}

std::vector<SourceTensor> Phi3GlmExtraTensors(const HfConfig& cfg) {
  std::vector<SourceTensor> out;
  if (cfg.arch != "phi3" || cfg.rope_long.empty()) return out;
  out.push_back(FactorTensor("rope_factors_long.weight", cfg.rope_long));
  out.push_back(FactorTensor("rope_factors_short.weight", cfg.rope_short));
  return out;
}

std::vector<ArchTensorSpec> Phi3GlmTensorSpecs(const HfConfig& cfg) {
  const int64_t E = cfg.n_embd, q = cfg.n_head * cfg.head_dim, kv = cfg.n_head_kv * cfg.head_dim;
  std::vector<ArchTensorSpec> s;
  s.push_back({"token_embd.weight", {E, cfg.vocab}});
  for (int64_t l = 0; l < cfg.n_layer; ++l) {
    const std::string b = absl::StrCat("blk.", l, ".");
    s.push_back({b + "attn_norm.weight", {E}, true});
    if (cfg.arch == "phi3") {
      s.push_back({b + "attn_qkv.weight", {E, q + 2 * kv}});
    } else {
      for (auto [w, rows] : {std::pair<const char*, int64_t>{"attn_q", q}, {"attn_k", kv}, {"attn_v", kv}}) {
        s.push_back({b + w + ".weight", {E, rows}});
        if (cfg.qkv_bias) s.push_back({b + w + ".bias", {rows}});
      }
    }
    s.push_back({b + "attn_output.weight", {q, E}});
    s.push_back({b + "ffn_norm.weight", {E}, true});
    s.push_back({b + "ffn_up.weight", {E, 2 * cfg.n_ff}});
    s.push_back({b + "ffn_down.weight", {cfg.n_ff, E}});
  }
  s.push_back({"output_norm.weight", {E}, true});
  if (!cfg.tied) s.push_back({"output.weight", {E, cfg.vocab}});
  return s;
}

}  // namespace llmtk
