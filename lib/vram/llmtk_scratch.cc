#include "lib/vram/llmtk_scratch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace llmtk {

int64_t LlmtkMoeScratchBytes(const ModelShape& m, int64_t context, int64_t ubatch, std::string* formula) {
  const bool mla = m.attention == AttentionKind::kLatent;
  const int64_t B = std::max<int64_t>(1, std::min(ubatch, context));
  const int64_t E = m.hidden, H = m.heads;
  // MLA: K is nope + rope per head, V its own width; rotary over the rope part.
  const int64_t hd = m.head_dim, hd_v = mla ? m.v_head_dim : m.head_dim;
  const int64_t rot = mla ? m.qk_rope_head_dim : m.head_dim;
  const int64_t q_dim = H * hd, kv_dim = m.kv_heads * hd, v_dim = m.kv_heads * hd_v;
  // The dense feed-forward rows exist only with dense leading layers.
  const int64_t ff = m.first_dense_layers > 0 ? m.intermediate : 0;
  // Session's f32 buffers: x, xb, q, k, v, att, hb/hb2, scores, rope
  // cos/sin, tok_lo, pos_cell, the P·V lanes, the MoE output rows.
  const int64_t session_f32 = B * E + B * std::max(E, q_dim) + B * q_dim + B * kv_dim + B * v_dim + B * H * hd_v +
                              2 * B * ff + H * context + 2 * B * (rot / 2) + B + context + H * 64 * hd_v + B * E;
  const int64_t widest = std::max({E, q_dim, m.intermediate, m.q_lora_rank, m.kv_lora_rank, H * hd_v});
  // enc (widest row encoded), q16 (f16 query), pv_tail (f64).
  const int64_t session = 4 * session_f32 + B * widest * 4 + 2 * q_dim + 8 * H * hd_v;
  const int64_t X = m.experts, K = m.experts_per_token, F = m.moe_intermediate;
  const int64_t S = m.shared_experts > 0 ? m.shared_experts * F : m.shared_expert_intermediate;
  // Router logits; per slot: weight, expert, sorted position and its
  // inverse; gate/up rows, down rows.
  int64_t moe_f32 = B * X + 4 * B * K + 2 * B * K * F + B * K * E;
  int64_t enc = B * K * std::max(E, F) * 4;
  if (S > 0) {
    moe_f32 += B + 2 * B * S + B * E;
    enc = std::max(enc, B * std::max(E, S) * 4);
  }
  const int64_t moe = 4 * moe_f32 + enc + B * std::max(E, F) * 4;
  const int64_t mla_bytes =
      mla ? 4 * (B * m.q_lora_rank + B * (m.kv_lora_rank + m.qk_rope_head_dim) + B * m.kv_lora_rank +
                 B * H * (m.qk_nope_head_dim + m.v_head_dim))
          : 0;
  *formula = absl::StrCat("llmtk-run session scratch for ", B, "-token batches: rows and scores ", session,
                          " + experts (", X, ", ", K, " per token", S > 0 ? absl::StrCat(", shared width ", S) : "",
                          ") ", moe, mla ? absl::StrCat(" + MLA projections ", mla_bytes) : "", " bytes");
  return session + moe + mla_bytes;
}

}  // namespace llmtk
