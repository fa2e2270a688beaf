// model/model: a LLaMA-family transformer read from a GGUF file. Its forward
// pass is a Session (model/session.h).
//
// Model holds the architecture description (from GGUF metadata) and views of
// the weights inside the memory-mapped file; nothing is copied. Supported
// architectures: `llama` (Llama 2/3, TinyLlama, SmolLM, Mistral), `qwen2`
// (q/k/v biases), `qwen3` (per-head q/k RMSNorm), mixtures of experts (`llama` with
// experts = Mixtral, `qwen2moe`, `qwen3moe`: model/moe.h), `phi3` (fused QKV and
// gate/up, sliding window, longrope factors),
// `chatglm` (GLM-4: q/k/v biases, fused gate/up, partial rotary), `gemma2`
// and `gemma3` (model/arch_gemma.h); GQA/MQA;
// tied or separate output; RoPE in normal or NeoX layout with linear or
// YaRN scaling.
//
// Thread-safety: a Model is immutable after Load and may be shared by any
// number of Sessions on any threads.
#ifndef LLMTK_LIB_MODEL_MODEL_H_
#define LLMTK_LIB_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/formats/gguf.h"
#include "lib/kernels/kernels.h"
#include "lib/model/arch_deepseek2.h"
#include "lib/model/moe.h"
#include "lib/base/status.h"

namespace llmtk {

enum class RopeLayout { kNormal, kNeox };

struct ModelConfig {
  std::string arch;  // "llama", "qwen2", "qwen3", "phi3", "chatglm", "gemma2", "gemma3"
  std::string name;  // general.name, may be empty
  int n_layer = 0;
  int n_embd = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;    // key length per head
  int head_dim_v = 0;  // value length per head (deepseek2: differs from head_dim)
  int n_ff = 0;
  int n_vocab = 0;
  int n_ctx_train = 0;
  float rms_eps = 1e-5f;
  // RoPE
  RopeLayout rope_layout = RopeLayout::kNormal;
  int n_rot = 0;             // rotated dimensions per head
  float rope_base = 10000.f;
  float rope_freq_scale = 1.f;  // 1 / scaling factor
  bool rope_yarn = false;
  int yarn_orig_ctx = 0;
  float yarn_beta_fast = 32.f;
  float yarn_beta_slow = 1.f;
  float yarn_attn_factor = 1.f;
  bool tied_output = false;
  bool qkv_bias = false;
  bool qk_norm = false;
  // Gemma 2/3 (model/arch_gemma.h): embeddings scaled by sqrt(n_embd),
  // GeGLU, norms after attention and FFN, Q scaled by attn_scale after RoPE
  // (the softmax then scales by 1), tanh soft-capping (0: none).
  bool gemma = false;
  float attn_scale = 0.f;
  float attn_softcap = 0.f, final_softcap = 0.f;
  // Sliding-window attention: a local layer's token sees positions
  // p - n_swa < q <= p; local layers rotate with their own RoPE base/scale.
  // With n_swa > 0 and no swa_layers (phi3), every layer is local.
  int n_swa = 0;
  std::vector<uint8_t> swa_layers;  // per layer, 1 = local; empty: none or all
  float rope_base_swa = 10000.f, rope_freq_scale_swa = 1.f;
  bool is_swa(int layer) const { return !swa_layers.empty() && swa_layers[layer] != 0; }
  // phi3 / chatglm (read in model.cc as llama.cpp reads them).
  float rope_attn_factor = 1.f;  // rope.scaling.attn_factor: multiplies cos and sin
  int n_ctx_orig = 0;            // longrope: the long factors apply past this context
  bool q_prescale = false;       // phi3: q scaled by 1/sqrt(head_dim) after RoPE, softmax scale 1
  bool fused_qkv = false;        // attn_qkv: q, k, v rows in one matrix
  bool fused_ffn_up = false;     // ffn_up: gate rows, then up rows (2 x n_ff)
  // Mixtures of experts (model/moe.h): Mixtral (llama), qwen2moe, qwen3moe, deepseek2.
  MoeConfig moe;
  // deepseek2 (model/arch_deepseek2.h): q/k/v from compressed projections;
  // RoPE rotates each head's last n_rot dims (rope_offset = dims before
  // them); the softmax scale is kq_scale (0: 1/sqrt(head_dim)).
  MlaConfig mla;
  int rope_offset = 0;
  float kq_scale = 0.f;
};

// Weights of one transformer block, viewed in the mapped file.
struct LayerWeights {
  const float* attn_norm = nullptr;
  WeightMatrix wq, wk, wv, wo;
  WeightMatrix wqkv;               // fused (wq, wk, wv unset)
  const float* bqkv = nullptr;
  const float* bq = nullptr;
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  const float* ffn_norm = nullptr;
  WeightMatrix w_gate, w_up, w_down;
  const float* attn_post_norm = nullptr;  // Gemma
  const float* ffn_post_norm = nullptr;
  MoeLayerWeights moe;  // a sparse block (w_gate/w_up/w_down unset): moe.gate_inp set
  MlaLayerWeights mla;  // deepseek2 (wq/wk/wv unset)
};

class Model {
 public:
  // Maps and validates `path`: NotFound for a missing file, DataLoss for a
  // corrupt file or missing/misshapen tensors, Unimplemented for an
  // architecture or tensor type we do not run.
  static absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& path);
  // Same, over an already-open file (which the Model then owns).
  static absl::StatusOr<std::unique_ptr<Model>> FromGguf(std::unique_ptr<GgufFile> file);

  const ModelConfig& config() const { return config_; }
  const GgufFile& gguf() const { return *file_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }
  const WeightMatrix& token_embd() const { return token_embd_; }
  const WeightMatrix& output() const { return output_; }
  const float* output_norm() const { return output_norm_; }
  // Llama 3.1's per-frequency RoPE divisors (rope_freqs.weight, n_rot / 2
  // values), or null: llama.cpp divides each pair's angle by its factor.
  const float* rope_freqs() const { return rope_freqs_; }
  // Phi-3's longrope divisors (n_rot / 2 each) or null: llama.cpp uses the
  // long ones when the context per sequence exceeds n_ctx_orig.
  const float* rope_long() const { return rope_long_; }
  const float* rope_short() const { return rope_short_; }
  // Bytes of all tensor data (what a forward pass streams through).
  uint64_t weight_bytes() const { return weight_bytes_; }
  // Bytes of weights one generated token reads: every tensor the forward
  // pass uses, except that of each sparse block's merged expert tensors only
  // n_expert_used / n_expert count (the router and shared experts in full),
  // and of an embedding table that is not also the output matrix one row.
  // The numerator of generation's memory-bandwidth limit.
  uint64_t weight_bytes_per_token() const { return weight_bytes_per_token_; }
  // "Q4_K: 123, F32: 11" style summary of tensor types.
  std::string TypeSummary() const;

 private:
  Model() = default;
  static uint64_t WeightBytesPerToken(const Model& m);
  std::unique_ptr<GgufFile> file_;
  ModelConfig config_;
  std::vector<LayerWeights> layers_;
  WeightMatrix token_embd_, output_;
  const float* output_norm_ = nullptr;
  const float* rope_freqs_ = nullptr;
  const float* rope_long_ = nullptr;
  const float* rope_short_ = nullptr;
  uint64_t weight_bytes_ = 0;
  uint64_t weight_bytes_per_token_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_MODEL_H_
