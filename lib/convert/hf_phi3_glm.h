// convert/hf_phi3_glm: what convert_hf_to_gguf.py (llama.cpp c392e50) does
// for two families whose blocks fuse projections:
// - Phi3ForCausalLM -> `phi3`: fused QKV (attn_qkv) and gate/up (ffn_up,
//   2 x intermediate_size rows), full rotary (n_embd / n_head), the
//   attention.sliding_window key, and for rope_scaling su/longrope (the 128k
//   variants) the rope_factors_long/short tensors and rope.scaling.attn_factor
//   = sqrt(1 + ln(max_pos / orig) / ln(orig)).
// - GlmForCausalLM (GLM-4 as transformers writes it, e.g. glm-4-9b-chat-hf)
//   -> `chatglm`: q/k/v with biases, fused gate/up, partial rotary
//   (rope.dimension_count = head size x partial_rotary_factor, default 0.5).
//   The converter reads ChatGLM's own key names first (seq_length,
//   layernorm_epsilon, rope_ratio, ...); where a GlmForCausalLM config lacks
//   them it writes its defaults, not the config's values: context_length =
//   hidden_size, rms epsilon 1e-5, rope base 10000. We write the same.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_CONVERT_HF_PHI3_GLM_H_
#define LLMTK_LIB_CONVERT_HF_PHI3_GLM_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/convert/hf_convert.h"

namespace llmtk {

// ReadPhi3GlmConfig, AddPhi3GlmArchKeys, FixPhi3GlmVocab and
// Phi3GlmExtraTensors, which hf_convert calls, are declared in hf_convert.h.

std::vector<ArchTensorSpec> Phi3GlmTensorSpecs(const HfConfig& cfg);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_HF_PHI3_GLM_H_
