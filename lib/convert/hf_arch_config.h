// convert/hf_arch_config: HfConfig, what convert_hf_to_gguf.py takes from a
// config.json -- a value type of its own so that the converter
// (convert/hf_convert) and the families it dispatches to
// (convert/gemma_convert) share it without including each other.
//
// Thread-safety: a value.
#ifndef LLMTK_LIB_CONVERT_HF_ARCH_CONFIG_H_
#define LLMTK_LIB_CONVERT_HF_ARCH_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

namespace llmtk {

// What convert_hf_to_gguf.py takes from config.json.
struct HfConfig {
  std::string arch;  // GGUF architecture
  bool permute_qk = false;
  int64_t n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0, n_ctx = 0, vocab = 0, head_dim = 0;
  bool has_ctx = false, has_head_kv = false, has_theta = false, has_head_dim = false;
  double rope_theta = 0, rms_eps = 1e-6;
  bool tied = false;
  std::string rope_scaling_type;
  double rope_scaling_factor = 0;
  // rope_type "llama3" (Llama 3.1+): written as a rope_freqs.weight tensor.
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_ctx = 8192;
  // Gemma 2/3 (convert/gemma_convert.h): 0 = no soft-capping.
  double attn_softcap = 0, final_softcap = 0;
  int64_t sliding_window = 0;       // 0: every layer global (also phi3's attention.sliding_window)
  int64_t sliding_window_pattern = 0;  // gemma3: every n-th layer global
  // gemma3: which keys config.json itself has (the converter writes those
  // first, then Gemma3Model's defaults for the others).
  bool has_n_head = true, has_eps = true, has_local_theta = false;
  double rope_local_theta = 0;
  // Families whose keys convert/hf_phi3_glm.cc writes (phi3, chatglm).
  int64_t n_rot = 0;                         // rope.dimension_count
  std::vector<float> rope_long, rope_short;  // phi3 su/longrope factors, head_dim / 2 each
  double rope_attn_factor = 0;               // phi3 with rope_scaling; 0: not written
  bool qkv_bias = false;                     // chatglm: attention_bias
  // Mixture of experts (Mixtral as llama, qwen2moe, qwen3moe): 0 = dense.
  // has_*: which of the keys the converter writes config.json has.
  int64_t n_expert = 0, n_expert_used = 0;
  int64_t n_ff_exp = 0;    // moe_intermediate_size (Mixtral's experts: intermediate_size)
  int64_t n_ff_shexp = 0;  // qwen2moe: shared_expert_intermediate_size
  bool has_local_experts = false, has_experts_used = false;
  // general.size_label of a mixture, as gguf-py counts it over the tensors
  // written: "<experts>x<shared + one expert's parameters>" (set by
  // MoeCountParams, convert/hf_moe.h).
  std::string moe_size_label;
  // DeepSeek-V2 (deepseek2, convert/hf_deepseek2.h): dense blocks first,
  // shared experts n_expert_shared x n_ff_exp wide, multi-head latent
  // attention (q_lora_rank 0: no q compression), routing and YaRN keys.
  int64_t n_dense_lead = 0, n_expert_shared = 0, q_lora_rank = 0, kv_lora_rank = 0;
  int64_t qk_nope = 0, qk_rope = 0, v_head_dim = 0;
  double expert_weights_scale = 1.0;
  bool expert_weights_norm = false;
  int expert_gating = 1;  // 1 softmax, 2 sigmoid (gguf-py's ExpertGatingFuncType)
  int64_t yarn_orig_ctx = 0;
  double yarn_log_mul = 0;
};

// A tensor llama.cpp's loader requires for the architecture, as the
// converter names and shapes it (ggml order).
struct ArchTensorSpec {
  std::string name;
  std::vector<int64_t> dims;
  bool norm = false;  // a norm weight (values around 1)
};

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_HF_ARCH_CONFIG_H_
