#include "lib/model/arch_deepseek2.h"

// llama.cpp's graph builder (llama.cpp, built without -march=native) has no
// FMA to contract kq_scale's arithmetic into; the norms here are ggml's
// separate multiplies.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/formats/gguf_keys.h"
#include "lib/model/rms_norm.h"

namespace llmtk {
namespace {

constexpr char kArch[] = "deepseek2";

absl::Status Missing(const GgufFile& f, const std::string& key, const std::string& why) {
  return absl::DataLossError(absl::StrCat(f.name(), ": required key '", key, "' is missing", why));
}

absl::Status Shape(const GgufFile& f, const GgufTensor& t, const std::string& want) {
  std::string got;
  for (size_t i = 0; i < t.dims.size(); ++i) absl::StrAppend(&got, i ? ", " : "", t.dims[i]);
  return absl::DataLossError(
      absl::StrCat(f.name(), ": tensor '", ToAbsl(t.name), "' has shape [", got, "], expected ", want));
}

absl::Status Matrix(const GgufFile& f, const std::string& name, int64_t cols, int64_t rows, WeightMatrix* out) {
  const GgufTensor* t = f.FindTensor(name);
  if (t == nullptr) return absl::DataLossError(absl::StrCat(f.name(), ": tensor '", name, "' is missing"));
  if (t->dims.size() < 2 || t->dims[0] != cols || t->rows() != rows)
    return Shape(f, *t, absl::StrFormat("[%d, %d]", cols, rows));
  if (!KernelSupports(static_cast<uint32_t>(t->type)))
    return absl::UnimplementedError(absl::StrCat(f.name(), ": tensor '", name, "' has type ",
                                                 ToAbsl(GgmlTypeName(t->type)), ", which llmtk-run cannot compute with"));
  *out = WeightMatrix{t->type, rows, cols, t->data};
  return absl::OkStatus();
}

absl::Status Vector(const GgufFile& f, const std::string& name, int64_t n, const float** out) {
  const GgufTensor* t = f.FindTensor(name);
  if (t == nullptr) return absl::DataLossError(absl::StrCat(f.name(), ": tensor '", name, "' is missing"));
  if (t->n_elements != n) return Shape(f, *t, absl::StrFormat("[%d]", n));
  if (t->type != GgmlType::kF32)
    return absl::UnimplementedError(absl::StrCat(f.name(), ": tensor '", name, "' has type ",
                                                 ToAbsl(GgmlTypeName(t->type)), ", expected f32"));
  if (reinterpret_cast<uintptr_t>(t->data) % alignof(float) != 0)
    return absl::DataLossError(absl::StrCat(f.name(), ": tensor '", name, "' is misaligned"));
  *out = reinterpret_cast<const float*>(t->data);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MlaConfig> ReadMlaConfig(const GgufFile& f, int n_layer, int head_dim, int n_rot) {
  MlaConfig c;
  auto rank = [&](GgufArchKey k, const std::string& why, int* out) -> absl::Status {
    const std::string key = GgufKeyName(k, kArch);
    if (!f.Has(key)) return Missing(f, key, why);
    ASSIGN_OR_RETURN(uint32_t v, f.GetU32(key));
    if (v == 0 || v > (1u << 20))
      return absl::DataLossError(absl::StrCat(f.name(), ": key '", key, "' has implausible value ", v));
    *out = static_cast<int>(v);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(rank(GgufArchKey::kAttentionKvLoraRank, "", &c.kv_lora_rank));
  if (n_layer != 27)
    RETURN_IF_ERROR(rank(GgufArchKey::kAttentionQLoraRank,
                         absl::StrCat(" (llama.cpp c392e50 takes only a 27-layer deepseek2 file for DeepSeek-V2-Lite, "
                                      "which has none; this one has ",
                                      n_layer, " layers)"),
                         &c.q_lora_rank));
  if (n_rot >= head_dim)
    return absl::DataLossError(absl::StrFormat("%s: rope dimension count %d leaves no key dims of the %d per head",
                                               f.name(), n_rot, head_dim));
  c.n_rope = n_rot;
  c.n_nope = head_dim - n_rot;
  const std::string mul = GgufKeyName(GgufArchKey::kRopeScalingYarnLogMultiplier, kArch);
  if (!f.Has(mul)) return Missing(f, mul, " (llama.cpp c392e50 requires it of every deepseek2 file)");
  ASSIGN_OR_RETURN(c.yarn_log_mul, f.GetF32(mul));
  return c;
}

absl::Status BindMlaLayer(const GgufFile& f, const MlaConfig& c, int n_embd, int n_head, int head_dim_v, int layer,
                          MlaLayerWeights* w) {
  auto n = [&](const char* what) { return absl::StrCat("blk.", layer, ".", what, ".weight"); };
  const int64_t E = n_embd, H = n_head, qk = c.n_nope + c.n_rope;
  if (c.q_lora_rank > 0) {
    RETURN_IF_ERROR(Vector(f, n("attn_q_a_norm"), c.q_lora_rank, &w->q_a_norm));
    RETURN_IF_ERROR(Matrix(f, n("attn_q_a"), E, c.q_lora_rank, &w->wq_a));
    RETURN_IF_ERROR(Matrix(f, n("attn_q_b"), c.q_lora_rank, H * qk, &w->wq_b));
  } else {
    RETURN_IF_ERROR(Matrix(f, n("attn_q"), E, H * qk, &w->wq));
  }
  RETURN_IF_ERROR(Vector(f, n("attn_kv_a_norm"), c.kv_lora_rank, &w->kv_a_norm));
  RETURN_IF_ERROR(Matrix(f, n("attn_kv_a_mqa"), E, c.kv_lora_rank + c.n_rope, &w->wkv_a_mqa));
  RETURN_IF_ERROR(Matrix(f, n("attn_kv_b"), c.kv_lora_rank, H * (c.n_nope + head_dim_v), &w->wkv_b));
  return absl::OkStatus();
}

float Deepseek2KqScale(float attn_factor, float yarn_log_mul, float freq_scale, int head_dim) {
  const float mscale = attn_factor * (1.0f + yarn_log_mul * std::log(1.0f / freq_scale));
  return 1.0f * mscale * mscale / std::sqrt(static_cast<float>(head_dim));
}

float Deepseek2RopeAttnFactor(float freq_scale) { return 1.0f / (1.0f + 0.1f * std::log(1.0f / freq_scale)); }

void RopeAdjacentPairs(float* head, const float* cs, const float* sn, int half_rot) {
  for (int i = 0; i < half_rot; ++i) {
    const float x0 = head[2 * i], x1 = head[2 * i + 1];
    head[2 * i] = x0 * cs[i] - x1 * sn[i];
    head[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
  }
}

MlaProjection::MlaProjection(const MlaConfig& c, int n_head, int head_dim_v, float rms_eps, int max_batch,
                             MatMulFn matmul)
    : c_(c), n_head_(n_head), head_dim_v_(head_dim_v), eps_(rms_eps), matmul_(std::move(matmul)) {
  const size_t B = max_batch;
  qa_.resize(B * c.q_lora_rank);
  kv_pe_.resize(B * (c.kv_lora_rank + c.n_rope));
  kv_c_.resize(B * c.kv_lora_rank);
  kv_.resize(B * n_head * (c.n_nope + head_dim_v));
}

void MlaProjection::Forward(const MlaLayerWeights& w, const float* x, int n, float* q, float* k, float* v) {
  const int R = c_.kv_lora_rank, P = c_.n_rope, N = c_.n_nope, V = head_dim_v_, H = n_head_;
  if (w.wq.data != nullptr) {
    matmul_(w.wq, x, n, q);
  } else {
    const int Q = c_.q_lora_rank;
    matmul_(w.wq_a, x, n, qa_.data());
    for (int t = 0; t < n; ++t) RmsNorm(&qa_[static_cast<size_t>(t) * Q], w.q_a_norm, Q, eps_, &qa_[static_cast<size_t>(t) * Q]);
    matmul_(w.wq_b, qa_.data(), n, q);
  }
  // The latent and the shared rotary key in one product; only the latent
  // is normed (ggml_cont'ed first: rows of R).
  matmul_(w.wkv_a_mqa, x, n, kv_pe_.data());
  for (int t = 0; t < n; ++t)
    RmsNorm(&kv_pe_[static_cast<size_t>(t) * (R + P)], w.kv_a_norm, R, eps_, &kv_c_[static_cast<size_t>(t) * R]);
  matmul_(w.wkv_b, kv_c_.data(), n, kv_.data());
  // ggml_concat(k_nope, repeat(k_pe)) and the v view, as plain copies.
  const size_t qk = static_cast<size_t>(N + P);
  for (int t = 0; t < n; ++t) {
    const float* kv = &kv_[static_cast<size_t>(t) * H * (N + V)];
    const float* pe = &kv_pe_[static_cast<size_t>(t) * (R + P) + R];
    float* kt = k + static_cast<size_t>(t) * H * qk;
    float* vt = v + static_cast<size_t>(t) * H * V;
    for (int h = 0; h < H; ++h) {
      std::memcpy(kt + h * qk, kv + static_cast<size_t>(h) * (N + V), N * sizeof(float));
      std::memcpy(kt + h * qk + N, pe, P * sizeof(float));
      std::memcpy(vt + static_cast<size_t>(h) * V, kv + static_cast<size_t>(h) * (N + V) + N, V * sizeof(float));
    }
  }
}

}  // namespace llmtk
