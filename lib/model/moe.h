// model/moe: mixtures of experts with softmax routing -- Mixtral (`llama`
// with llama.expert_count), Qwen2-MoE (`qwen2moe`, a shared expert behind a
// sigmoid gate), Qwen3-MoE (`qwen3moe`) and DeepSeek-V2 (`deepseek2`: dense
// leading blocks, ungated shared experts, scaled weights, softmax or sigmoid
// gating, an optional selection bias) -- their hyperparameters and
// tensors read from GGUF, and the feed-forward block as llama.cpp computes
// it (llm_build_moe_ffn in c392e50):
//   probs = softmax(router · x); the top k by ggml's argsort (descending);
//   weights = their probs, divided by their sum where the family
//   renormalises (Mixtral, Qwen3-MoE; not Qwen2-MoE);
//   out = sum over the k slots, in order, of weight * down(silu(gate x) * up x)
//   (+ Qwen2-MoE's shared expert times silu(g)/g, g = its gate's logit;
//   + DeepSeek-V2's shared experts, their weights first scaled by
//   expert_weights_scale).
// The experts' products follow mul_mat_id: ggml's vec_dot per row
// (kernels VecDotGgml), so a result does not depend on the batch. A batch's
// tokens are grouped by expert: each selected expert's rows are read once
// per batch, and only the selected experts' rows are read at all; an
// expert's tokens go through the multi-row, multi-token kernels of MatMul
// together (each element still the one vec_dot).
//
// Thread-safety: MoeConfig/MoeLayerWeights are values; an MoeFfn belongs to
// one Session.
#ifndef LLMTK_LIB_MODEL_MOE_H_
#define LLMTK_LIB_MODEL_MOE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/formats/gguf.h"
#include "lib/kernels/kernels.h"

namespace llmtk {

struct MoeConfig {
  int n_expert = 0;       // 0: a dense model
  int n_expert_used = 0;  // k
  int n_ff_exp = 0;       // each expert's width
  int n_ff_shexp = 0;     // the shared expert's width (qwen2moe), 0: none
  bool norm_weights = false;  // divide the top-k probabilities by their sum
  // deepseek2: blocks before n_dense_lead are dense; the shared experts
  // (n_ff_shexp = their count x n_ff_exp) have no gate; the weights are
  // multiplied by weights_scale (ggml_scale); gating may be a sigmoid.
  int n_dense_lead = 0;
  bool shexp_gate = false;  // qwen2moe: ffn_gate_inp_shexp
  bool scale_weights = false;
  float weights_scale = 1.f;
  bool sigmoid = false;
  bool is_sparse(int layer) const { return n_expert > 0 && layer >= n_dense_lead; }
};

// Reads the expert keys of `arch` (qwen2moe/qwen3moe need them; llama has
// them only for Mixtral-style files). DataLoss for a missing or zero expert
// count where one is needed, more than llama.cpp's 256 experts, or
// expert_used_count outside 1..expert_count.
absl::StatusOr<MoeConfig> ReadMoeConfig(const GgufFile& f, const std::string& arch, int n_ff);

// One block's feed-forward tensors. The merged expert tensors are viewed as
// one matrix of n_expert x (rows per expert) rows.
struct MoeLayerWeights {
  WeightMatrix gate_inp;  // router: n_expert rows of n_embd
  WeightMatrix gate_exps, up_exps, down_exps;
  WeightMatrix gate_inp_shexp, gate_shexp, up_shexp, down_shexp;  // qwen2moe (deepseek2: no gate_inp_shexp)
  const float* exp_probs_b = nullptr;  // deepseek2 (V3 style): added for selection only
};

// Binds block `layer`'s tensors; DataLoss naming the tensor and both shapes
// when one is missing or misshapen, Unimplemented for a type the kernels do
// not run.
absl::Status BindMoeLayer(const GgufFile& f, const MoeConfig& c, int n_embd, int layer, MoeLayerWeights* out);

// The feed-forward block over a batch of normed activations.
class MoeFfn {
 public:
  // `matmul` is the dense product the rest of the forward pass uses (y rows
  // w.rows apart): the router and the shared expert go through it, as
  // llama.cpp's mul_mat does.
  using MatMulFn = std::function<void(const WeightMatrix& w, const float* x, int rows, float* y)>;
  MoeFfn(const MoeConfig& c, int n_embd, int max_batch, MatMulFn matmul, ParallelFor pfor);

  // out[t] = the block's output for x[t] (n_embd each), t < n.
  void Forward(const MoeLayerWeights& w, const float* x, int n, float* out);
  uint64_t scratch_bytes() const;
  // Products one vec_dot per element in a plain loop: the reference the
  // grouped products (the default) are tested against bit for bit.
  void set_reference_products(bool on) { reference_ = on; }

 private:
  // y[g][r] = row r of the expert of sorted slot g · activation row g, for
  // every slot of the batch (slots sorted by expert; `act` holds their
  // activation rows, encoded for w's type, in that order).
  void ExpertProducts(const WeightMatrix& w, int64_t rows_per_expert, const uint8_t* act, size_t act_stride, int n,
                      float* y);

  MoeConfig c_;
  int n_embd_;
  MatMulFn matmul_;
  ParallelFor pfor_;
  std::vector<float> logits_, weights_, gate_, up_, down_, sh_gate_, sh_up_, sh_out_, sh_logit_;
  std::vector<int32_t> selected_;  // per token, k expert ids in ggml's order
  std::vector<float> biased_;      // one token's probs + exp_probs_b
  std::vector<uint8_t> enc_, enc2_;
  // The batch's slots (token * k + i) sorted by expert: expert e's are
  // sorted positions start_[e] .. start_[e + 1] - 1; slot_at_[position] =
  // slot, pos_[slot] = position. gate_, up_ and down_ rows are in that order.
  std::vector<int32_t> start_, slot_at_, pos_, next_;
  std::vector<std::pair<int32_t, int64_t>> items_;  // (expert, first row) work items
  bool reference_ = false;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_MOE_H_
