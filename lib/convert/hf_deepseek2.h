// convert/hf_deepseek2: what convert_hf_to_gguf.py (c392e50, DeepseekV2Model)
// does for DeepseekV2ForCausalLM -> `deepseek2`:
// - config.json's first_k_dense_replace, q_lora_rank (when not null),
//   kv_lora_rank, qk_nope/qk_rope/v_head_dim, moe_intermediate_size,
//   n_routed_experts, n_shared_experts, routed_scaling_factor,
//   norm_topk_prob and scoring_func become the keys written after
//   general.file_type, then rope.dimension_count and, for a "yarn"
//   rope_scaling, its type, factor, original context and
//   yarn_log_multiplier = 0.1 * mscale_all_dim;
// - multi-head latent attention tensors: q_proj (V2-Lite) or
//   q_a_proj/q_a_layernorm/q_b_proj, kv_a_proj_with_mqa, kv_a_layernorm,
//   kv_b_proj; the routed experts merged as for Qwen-MoE (down, gate, up),
//   mlp.shared_experts.* -> ffn_*_shexp, mlp.gate -> ffn_gate_inp.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_CONVERT_HF_DEEPSEEK2_H_
#define LLMTK_LIB_CONVERT_HF_DEEPSEEK2_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/convert/hf_arch_config.h"
#include "lib/convert/model_source.h"
#include "lib/formats/hf_config.h"

namespace llmtk {

// Reads the DeepSeek-V2 keys into `cfg` (shape keys already read); arch
// becomes "deepseek2". DataLoss naming `path` and the key for one the
// converter needs that is missing or impossible.
absl::Status ReadDeepseek2HfConfig(const HfConfigJson& json, const std::string& path, HfConfig* cfg);

// Keys from block_count on, in the converter's order (general.* before).
void AddDeepseek2ArchKeys(const HfConfig& cfg, GgufMetadata* md);

// Every tensor of block `layer` llama.cpp c392e50's loader requires: name
// ("blk.N.attn_q.weight"), ggml dims, norm or not.
struct Deepseek2TensorSpec {
  std::string name;
  std::vector<int64_t> dims;
  bool norm = false;  // a norm weight (values around 1)
};
std::vector<Deepseek2TensorSpec> Deepseek2BlockTensorSpecs(const HfConfig& cfg, int64_t layer);

// The GGUF suffix of a non-expert DeepSeek-V2 block tensor (the part after
// "model.layers.N."), or nullopt.
std::optional<std::string> Deepseek2BlockTensorName(std::string_view rest);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_HF_DEEPSEEK2_H_
