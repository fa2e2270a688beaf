// vram/model_shape: a transformer's shape, derived from a Hugging Face
// config.json (as formats/hf_config.h reads it) or a GGUF file's metadata,
// and the exact parameter counts that follow from it.
//
// The memory estimator (lib/vram/estimate.h) needs more than "7B": which
// parameters are linear weights (they get quantized, LoRA adapts them), which
// are embeddings and norms, how many key/value heads there are (GQA), whether
// attention is multi-head latent (DeepSeek MLA), which layers use a sliding
// window, and for mixture-of-experts models how many parameters one token
// actually touches. Counts are derived from the tensor shapes each family's HF
// implementation creates, so they are exact (Llama-2-7B: 6,738,415,616).
//
// Thread-safety: plain values and pure functions; safe from any thread.
#ifndef LLMTK_LIB_VRAM_MODEL_SHAPE_H_
#define LLMTK_LIB_VRAM_MODEL_SHAPE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace llmtk {

enum class AttentionKind { kMultiHead, kLatent /* DeepSeek MLA */ };
enum class MlpKind { kGated /* SwiGLU/GeGLU: gate, up, down */, kPlain /* fc, proj (GPT-2) */ };

struct ModelShape {
  std::string model_type;  // as in config.json ("llama", "mixtral", ...)
  std::string source;      // file it came from, for messages
  int64_t vocab = 0;
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;      // per query/key head (MHA); MLA uses the fields below
  int64_t intermediate = 0;  // dense MLP width
  int64_t max_positions = 0;
  bool tied_embeddings = false;
  bool learned_positions = false;  // GPT-2 wpe
  bool qkv_bias = false;           // Qwen2
  bool linear_bias = false;        // GPT-2: every linear has a bias
  bool layernorm_bias = false;     // LayerNorm (weight+bias) instead of RMSNorm
  bool qk_norm = false;            // Qwen3, Gemma3: RMSNorm over head_dim on q and k
  int norms_per_layer = 2;         // Gemma2/3 use four
  // Gemma 2's soft-capping, tanh(x / cap) * cap (0 = none): of the attention
  // scores, which no fused attention kernel of its time computed, and of the
  // final logits.
  double attn_logit_softcapping = 0;
  double final_logit_softcapping = 0;
  MlpKind mlp = MlpKind::kGated;
  bool attention_dropout_masks = false;  // GPT-2 trains with dropout
  int64_t token_types = 0;  // BERT token_type embeddings
  bool pooler = false;      // BERT pooler dense layer
  bool encoder = false;     // bidirectional encoder: no KV cache

  // From a GGUF file: the real tensor bytes and element count (0 otherwise).
  int64_t file_weight_bytes = 0;
  int64_t file_params = 0;

  // Mixture of experts (0 experts = dense).
  int64_t experts = 0;
  int64_t experts_per_token = 0;
  int64_t moe_intermediate = 0;
  int64_t shared_experts = 0;             // DeepSeek: n_shared_experts x moe_intermediate
  int64_t shared_expert_intermediate = 0; // Qwen2-MoE: one shared expert of this width
  bool shared_expert_gate = false;        // Qwen2-MoE: sigmoid gate, hidden -> 1
  bool router_bias_correction = false;    // DeepSeek-V3: e_score_correction_bias
  int64_t first_dense_layers = 0;         // DeepSeek first_k_dense_replace
  int64_t moe_layer_freq = 1;

  // DeepSeek multi-head latent attention.
  AttentionKind attention = AttentionKind::kMultiHead;
  int64_t q_lora_rank = 0;  // 0: plain q_proj
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;

  // Sliding-window attention: window in tokens (0 = none) and which layers
  // use it (empty = all layers when window > 0).
  int64_t sliding_window = 0;
  std::vector<bool> sliding_layers;
  // phi3's window, kept apart: llama.cpp and transformers only mask with it
  // (the cache holds the whole context); llmtk-run's cache drops what it
  // hides (engine llmtk), on every layer.
  int64_t masked_window = 0;

  bool IsMoe() const { return experts > 0; }
  bool IsMoeLayer(int64_t layer) const;
  bool IsSlidingLayer(int64_t layer) const;
  int64_t QueryDim() const;  // width of the attention output fed to o_proj
};

// Parameter counts, split by what the memory model treats differently.
struct ParamCounts {
  int64_t total = 0;
  int64_t active = 0;           // per token: routed experts counted top-k only
  int64_t embedding = 0;        // token (+position) embeddings
  int64_t lm_head = 0;          // 0 when tied
  int64_t linear = 0;           // 2-D weights inside the layers (quantizable)
  int64_t other = 0;            // norms, biases, routers
  int64_t per_layer_attention = 0;  // linear weights of one layer's attention
  int64_t expert_params = 0;        // all routed experts, all layers
};

// Parses config.json text. `source` names the file in messages. Errors:
// DataLoss for invalid JSON, missing or nonsensical keys; Unimplemented for an
// architecture this estimator does not model.
absl::StatusOr<ModelShape> ParseHfConfig(std::string_view json, std::string_view source);

// Loads a config.json, a directory holding one, or (when lib/formats/gguf.h is built
// in) a GGUF file. NotFound for a missing path.
absl::StatusOr<ModelShape> LoadModelShape(const std::string& path);

ParamCounts CountParams(const ModelShape& m);

// Linear weights one LoRA adapter set would wrap, per layer, for the module
// names q,k,v,o,gate,up,down (MLA: q is q_proj or q_a/q_b, k and v map to
// kv_a/kv_b). Returns the adapter parameter count for rank r over all layers.
// InvalidArgument for an unknown module name.
absl::StatusOr<int64_t> LoraParams(const ModelShape& m, const std::vector<std::string>& targets,
                                   int64_t rank);

// Tensor roles, as quantizers treat them differently (llama.cpp's mixes give
// attn_v and ffn_down more bits; HF quantizers leave embeddings alone).
enum class TensorRole {
  kEmbedding, kOutput, kAttnQ, kAttnKV /* k, or MLA kv_a */, kAttnV, kAttnO,
  kFfnUpGate, kFfnDown, kSmall /* norms, biases, routers: 1-D or tiny */
};

// Calls fn(role, layer, rows, cols, count) for every weight tensor: `count`
// identical tensors of rows x cols (cols is the contiguous input dimension;
// experts come as one call with count = experts). layer is -1 outside the
// blocks. The element sum equals CountParams(m).total.
void ForEachTensor(const ModelShape& m,
                   const std::function<void(TensorRole, int64_t layer, int64_t rows,
                                            int64_t cols, int64_t count)>& fn);

// The architectures ParseHfConfig understands, comma-separated, for messages.
std::string SupportedModelTypes();

}  // namespace llmtk

#endif  // LLMTK_LIB_VRAM_MODEL_SHAPE_H_
