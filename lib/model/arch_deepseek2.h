// model/arch_deepseek2: DeepSeek-V2's multi-head latent attention as
// llama.cpp c392e50 computes it (llama.cpp's build_deepseek2):
//   q = wq x (V2-Lite), or wq_b rmsnorm(wq_a x) (V2, with q_lora_rank);
//   [c, k_pe] = wkv_a_mqa x;  [k_nope, v] per head = wkv_b rmsnorm(c);
//   k = [k_nope, k_pe] per head (k_pe shared by all heads), each head's
//   last n_rope dims of q and k rotated (normal layout).
// c392e50 caches the full k and v (head_dim and head_dim_v per head), not
// the compressed latent, so attention is the usual one over that cache,
// with its own softmax scale (Deepseek2KqScale) and RoPE magnitude
// (Deepseek2RopeAttnFactor) for YaRN.
// llama.cpp tells V2-Lite (q from wq) from V2 (q_lora) by the layer count:
// 27 layers is V2-Lite.
//
// Thread-safety: MlaConfig/MlaLayerWeights are values; an MlaProjection
// belongs to one Session.
#ifndef LLMTK_LIB_MODEL_ARCH_DEEPSEEK2_H_
#define LLMTK_LIB_MODEL_ARCH_DEEPSEEK2_H_

#include <functional>
#include <vector>

#include "lib/base/status.h"
#include "lib/formats/gguf.h"
#include "lib/kernels/kernels.h"

namespace llmtk {

struct MlaConfig {
  int kv_lora_rank = 0;  // 0: not latent attention
  int q_lora_rank = 0;   // 0: q straight from wq (V2-Lite)
  int n_nope = 0;        // per head: key dims without RoPE
  int n_rope = 0;        // per head: rotated dims (k's shared by the heads)
  float yarn_log_mul = 0.f;  // rope.scaling.yarn_log_multiplier
};

struct MlaLayerWeights {
  WeightMatrix wq;          // V2-Lite
  WeightMatrix wq_a, wq_b;  // V2
  const float* q_a_norm = nullptr;
  WeightMatrix wkv_a_mqa, wkv_b;
  const float* kv_a_norm = nullptr;
};

// The MLA keys of a deepseek2 file with `n_layer` layers, key length
// `head_dim` and `n_rot` rotated dims: DataLoss naming the file and key
// when one llama.cpp requires is missing or implausible.
absl::StatusOr<MlaConfig> ReadMlaConfig(const GgufFile& f, int n_layer, int head_dim, int n_rot);

// Binds block `layer`'s attention projections (attn_q or attn_q_a/
// attn_q_a_norm/attn_q_b, attn_kv_a_mqa, attn_kv_a_norm, attn_kv_b);
// DataLoss naming the tensor and both shapes for a misshapen one.
absl::Status BindMlaLayer(const GgufFile& f, const MlaConfig& c, int n_embd, int n_head, int head_dim_v, int layer,
                          MlaLayerWeights* out);

// llama.cpp's kq_scale: mscale^2 / sqrt(head_dim), mscale = attn_factor *
// (1 + yarn_log_mul * ln(1 / freq_scale)), in float as it computes them.
float Deepseek2KqScale(float attn_factor, float yarn_log_mul, float freq_scale, int head_dim);
// The attn_factor llama.cpp hands RoPE: 1 / (1 + 0.1 ln(1 / freq_scale)),
// which YaRN's own magnitude factor then multiplies back.
float Deepseek2RopeAttnFactor(float freq_scale);

// RoPE's normal layout (adjacent pairs) over one head, each product rounded
// before the sum: head[2i], head[2i+1] = x0 cs - x1 sn, x0 sn + x1 cs. For
// deepseek2's q_pe/k_pe this is what c392e50 gives (checked value by value
// against its rope output: the fma form the other archs match is an ulp off
// now and then, which the F16 rounding of q for Q·K sometimes turns into a
// different score); why the two differ is not known yet. Here because this
// file is compiled without FMA contraction.
void RopeAdjacentPairs(float* head, const float* cs, const float* sn, int half_rot);

// q, k, v rows for a batch, from the attention block's normed input.
class MlaProjection {
 public:
  using MatMulFn = std::function<void(const WeightMatrix& w, const float* x, int rows, float* y)>;
  MlaProjection(const MlaConfig& c, int n_head, int head_dim_v, float rms_eps, int max_batch, MatMulFn matmul);
  // q and k: n_head * (n_nope + n_rope) per token, v: n_head * head_dim_v,
  // before RoPE.
  void Forward(const MlaLayerWeights& w, const float* x, int n, float* q, float* k, float* v);
  uint64_t scratch_bytes() const { return 4 * (qa_.size() + kv_pe_.size() + kv_c_.size() + kv_.size()); }

 private:
  MlaConfig c_;
  int n_head_, head_dim_v_;
  float eps_;
  MatMulFn matmul_;
  std::vector<float> qa_, kv_pe_, kv_c_, kv_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_ARCH_DEEPSEEK2_H_
