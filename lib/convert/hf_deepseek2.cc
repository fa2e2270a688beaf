#include "lib/convert/hf_deepseek2.h"

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

// llama.cpp's LLAMA_MAX_EXPERTS.
constexpr int64_t kMaxExperts = 256;

}  // namespace

absl::Status ReadDeepseek2HfConfig(const HfConfigJson& c, const std::string& path, HfConfig* cfg) {
  cfg->arch = "deepseek2";
  cfg->permute_qk = false;
  auto bad = [&](const HfConfigValue& v, std::string_view why) {
    return absl::DataLossError(absl::StrCat(path, ": \"", ToAbsl(v.key), "\" ", ToAbsl(why)));
  };
  // The converter indexes these keys: a missing one stops it.
  auto count = [&](const HfConfigValue& v, int64_t lo, int64_t* out) -> absl::Status {
    if (!v.AsInt64() || *v.AsInt64() < lo) return bad(v, absl::StrCat("must be an integer of at least ", lo));
    *out = *v.AsInt64();
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(count(c.first_k_dense_replace, 0, &cfg->n_dense_lead));
  if (c.q_lora_rank.present()) RETURN_IF_ERROR(count(c.q_lora_rank, 1, &cfg->q_lora_rank));
  RETURN_IF_ERROR(count(c.kv_lora_rank, 1, &cfg->kv_lora_rank));
  RETURN_IF_ERROR(count(c.qk_nope_head_dim, 0, &cfg->qk_nope));
  RETURN_IF_ERROR(count(c.qk_rope_head_dim, 2, &cfg->qk_rope));
  RETURN_IF_ERROR(count(c.v_head_dim, 1, &cfg->v_head_dim));
  if (cfg->qk_rope % 2 != 0) return bad(c.qk_rope_head_dim, "must be even (RoPE rotates pairs)");
  RETURN_IF_ERROR(count(c.moe_intermediate_size, 1, &cfg->n_ff_exp));
  RETURN_IF_ERROR(count(c.n_routed_experts, 1, &cfg->n_expert));
  if (cfg->n_expert > kMaxExperts) return bad(c.n_routed_experts, absl::StrCat("must be at most ", kMaxExperts));
  RETURN_IF_ERROR(count(c.num_experts_per_tok, 1, &cfg->n_expert_used));
  if (cfg->n_expert_used > cfg->n_expert)
    return bad(c.num_experts_per_tok, absl::StrCat("must be from 1 to the ", cfg->n_expert, " experts"));
  cfg->has_experts_used = true;
  RETURN_IF_ERROR(count(c.n_shared_experts, 0, &cfg->n_expert_shared));
  if (!c.routed_scaling_factor.AsDouble()) return bad(c.routed_scaling_factor, "must be a number");
  cfg->expert_weights_scale = *c.routed_scaling_factor.AsDouble();
  if (!c.norm_topk_prob.AsBool()) return bad(c.norm_topk_prob, "must be true or false");
  cfg->expert_weights_norm = *c.norm_topk_prob.AsBool();
  const std::optional<std::string_view> scoring = c.scoring_func.AsString();
  if (scoring == "softmax") {
    cfg->expert_gating = 1;
  } else if (scoring == "sigmoid") {
    cfg->expert_gating = 2;
  } else {
    return bad(c.scoring_func, "must be \"softmax\" or \"sigmoid\"");
  }
  cfg->head_dim = cfg->qk_nope + cfg->qk_rope;
  cfg->has_head_dim = false;
  // Only {"type": "yarn", "factor": ...} is written (the converter reads
  // "type", not "rope_type"); any other scaling is dropped.
  const HfRopeScalingJson& rs = c.rope_scaling;
  const bool yarn = rs.is_object && rs.factor.present() && rs.type.AsString() == "yarn";
  cfg->rope_scaling_type = yarn ? "yarn" : "";
  if (yarn) {
    if (!rs.factor.AsDouble()) return bad(rs.factor, "must be a number");
    cfg->rope_scaling_factor = *rs.factor.AsDouble();
    RETURN_IF_ERROR(count(rs.original_max_position_embeddings, 1, &cfg->yarn_orig_ctx));
    if (!rs.mscale_all_dim.AsDouble()) return bad(rs.mscale_all_dim, "must be a number");
    cfg->yarn_log_mul = 0.1 * *rs.mscale_all_dim.AsDouble();
  }
  return absl::OkStatus();
}

void AddDeepseek2ArchKeys(const HfConfig& cfg, GgufMetadata* md) {
  using K = GgufArchKey;
  const std::string& a = cfg.arch;
  auto u32 = [&](K key, int64_t v) { md->SetU32(GgufKeyName(key, a), static_cast<uint32_t>(v)); };
  auto f32 = [&](K key, double v) { md->SetF32(GgufKeyName(key, a), static_cast<float>(v)); };
  // Model.set_gguf_parameters
  u32(K::kBlockCount, cfg.n_layer);
  if (cfg.has_ctx) u32(K::kContextLength, cfg.n_ctx);
  u32(K::kEmbeddingLength, cfg.n_embd);
  u32(K::kFeedForwardLength, cfg.n_ff);
  u32(K::kAttentionHeadCount, cfg.n_head);
  if (cfg.has_head_kv) u32(K::kAttentionHeadCountKv, cfg.n_head_kv);
  if (cfg.has_theta) f32(K::kRopeFreqBase, cfg.rope_theta);
  f32(K::kAttentionLayerNormRmsEpsilon, cfg.rms_eps);
  u32(K::kExpertUsedCount, cfg.n_expert_used);
  md->SetU32(GgufKeyName(GgufKey::kGeneralFileType), 0);  // filled in by QuantizeModel
  // DeepseekV2Model.set_gguf_parameters
  u32(K::kLeadingDenseBlockCount, cfg.n_dense_lead);
  u32(K::kVocabSize, cfg.vocab);
  if (cfg.q_lora_rank > 0) u32(K::kAttentionQLoraRank, cfg.q_lora_rank);
  u32(K::kAttentionKvLoraRank, cfg.kv_lora_rank);
  u32(K::kAttentionKeyLength, cfg.qk_nope + cfg.qk_rope);
  u32(K::kAttentionValueLength, cfg.v_head_dim);
  u32(K::kExpertFeedForwardLength, cfg.n_ff_exp);
  u32(K::kExpertCount, cfg.n_expert);
  u32(K::kExpertSharedCount, cfg.n_expert_shared);
  f32(K::kExpertWeightsScale, cfg.expert_weights_scale);
  md->SetBool(GgufKeyName(K::kExpertWeightsNorm, a), cfg.expert_weights_norm);
  u32(K::kExpertGatingFunc, cfg.expert_gating);
  u32(K::kRopeDimensionCount, cfg.qk_rope);
  if (cfg.rope_scaling_type == "yarn") {
    md->SetString(GgufKeyName(K::kRopeScalingType, a), "yarn");
    f32(K::kRopeScalingFactor, cfg.rope_scaling_factor);
    u32(K::kRopeScalingOriginalContextLength, cfg.yarn_orig_ctx);
    f32(K::kRopeScalingYarnLogMultiplier, cfg.yarn_log_mul);
  }
}

std::vector<Deepseek2TensorSpec> Deepseek2BlockTensorSpecs(const HfConfig& cfg, int64_t layer) {
  const int64_t E = cfg.n_embd, H = cfg.n_head, qk = cfg.qk_nope + cfg.qk_rope;
  const int64_t kvr = cfg.kv_lora_rank, qr = cfg.q_lora_rank;
  const std::string b = absl::StrCat("blk.", layer, ".");
  // In llama.cpp's create_tensor order.
  std::vector<Deepseek2TensorSpec> s;
  s.push_back({b + "attn_norm.weight", {E}, true});
  if (qr > 0) s.push_back({b + "attn_q_a_norm.weight", {qr}, true});
  s.push_back({b + "attn_kv_a_norm.weight", {kvr}, true});
  if (qr > 0) {
    s.push_back({b + "attn_q_a.weight", {E, qr}});
    s.push_back({b + "attn_q_b.weight", {qr, H * qk}});
  } else {
    s.push_back({b + "attn_q.weight", {E, H * qk}});
  }
  s.push_back({b + "attn_kv_a_mqa.weight", {E, kvr + cfg.qk_rope}});
  s.push_back({b + "attn_kv_b.weight", {kvr, H * (cfg.qk_nope + cfg.v_head_dim)}});
  s.push_back({b + "attn_output.weight", {H * cfg.v_head_dim, E}});
  s.push_back({b + "ffn_norm.weight", {E}, true});
  if (layer < cfg.n_dense_lead) {
    s.push_back({b + "ffn_gate.weight", {E, cfg.n_ff}});
    s.push_back({b + "ffn_down.weight", {cfg.n_ff, E}});
    s.push_back({b + "ffn_up.weight", {E, cfg.n_ff}});
    return s;
  }
  const int64_t F = cfg.n_ff_exp, X = cfg.n_expert, S = cfg.n_ff_exp * cfg.n_expert_shared;
  s.push_back({b + "ffn_gate_inp.weight", {E, X}});
  s.push_back({b + "ffn_gate_exps.weight", {E, F, X}});
  s.push_back({b + "ffn_down_exps.weight", {F, E, X}});
  s.push_back({b + "ffn_up_exps.weight", {E, F, X}});
  if (S > 0) {
    s.push_back({b + "ffn_gate_shexp.weight", {E, S}});
    s.push_back({b + "ffn_down_shexp.weight", {S, E}});
    s.push_back({b + "ffn_up_shexp.weight", {E, S}});
  }
  return s;
}

std::optional<std::string> Deepseek2BlockTensorName(std::string_view rest) {
  static const std::pair<std::string_view, std::string_view> kMap[] = {
      {"self_attn.q_a_proj.weight", "attn_q_a.weight"},
      {"self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight"},
      {"self_attn.q_b_proj.weight", "attn_q_b.weight"},
      {"self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight"},
      {"self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight"},
      {"self_attn.kv_b_proj.weight", "attn_kv_b.weight"},
      {"mlp.gate.weight", "ffn_gate_inp.weight"},
      {"mlp.gate.e_score_correction_bias", "exp_probs_b.bias"},
      {"mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"},
      {"mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"},
      {"mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"},
  };
  for (const auto& [hf, gg] : kMap)
    if (rest == hf) return std::string(gg);
  return std::nullopt;
}

}  // namespace llmtk
