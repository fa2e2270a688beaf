#include "lib/model/moe.h"

// ggml multiplies (the weights, the shared gate) and adds in separate ops,
// each result rounded: no FMA contraction here.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

// llama.cpp's LLAMA_MAX_EXPERTS.
constexpr int kMaxExperts = 256;
// Weight rows per work item of an expert product.
constexpr int64_t kRowChunk = 16;
constexpr int64_t kRowChunkOneToken = 64;

absl::Status BadShape(const GgufFile& f, const GgufTensor& t, const std::string& want) {
  std::string got;
  for (size_t i = 0; i < t.dims.size(); ++i) absl::StrAppend(&got, i ? ", " : "", t.dims[i]);
  return absl::DataLossError(
      absl::StrCat(f.name(), ": tensor '", ToAbsl(t.name), "' has shape [", got, "], expected ", want));
}

// A tensor of exactly `dims` (ggml order; trailing 1s may be left out) as
// a matrix of dims[1] * dims[2] rows of dims[0].
absl::Status Bind(const GgufFile& f, const std::string& name, std::vector<int64_t> dims, WeightMatrix* out) {
  const GgufTensor* t = f.FindTensor(name);
  if (t == nullptr) return absl::DataLossError(absl::StrCat(f.name(), ": tensor '", name, "' is missing"));
  std::string want;
  for (size_t i = 0; i < dims.size(); ++i) absl::StrAppend(&want, i ? ", " : "", dims[i]);
  want = absl::StrCat("[", want, "]");
  std::vector<int64_t> got = t->dims;
  while (got.size() > 1 && got.back() == 1) got.pop_back();
  while (dims.size() > 1 && dims.back() == 1) dims.pop_back();
  if (got != dims) return BadShape(f, *t, want);
  if (!KernelSupports(static_cast<uint32_t>(t->type)))
    return absl::UnimplementedError(absl::StrCat(f.name(), ": tensor '", name, "' has type ",
                                                 ToAbsl(GgmlTypeName(t->type)),
                                                 ", which llmtk-run cannot compute with"));
  int64_t rows = 1;
  for (size_t i = 1; i < dims.size(); ++i) rows *= dims[i];
  *out = WeightMatrix{t->type, rows, dims[0], t->data};
  return absl::OkStatus();
}

// ggml_argsort (descending) as c392e50's CPU backend sorts, cut to the
// first k: position j takes, from those after it, each value strictly
// greater than its current one in turn. Ties keep the lower index first.
void TopK(const float* p, int n, int k, int32_t* idx, std::vector<int32_t>* tmp) {
  tmp->resize(n);
  int32_t* d = tmp->data();
  for (int j = 0; j < n; ++j) d[j] = j;
  for (int j = 0; j < k; ++j)
    for (int m = j + 1; m < n; ++m)
      if (p[d[j]] < p[d[m]]) std::swap(d[j], d[m]);
  std::copy(d, d + k, idx);
}

// deepseek2's keys, as c392e50's loader reads them: the dense lead, the
// experts' width, the shared count and the weights' scale are required.
absl::Status ReadDeepseek2MoeKeys(const GgufFile& f, MoeConfig* c) {
  const std::string arch = "deepseek2";
  auto required_u32 = [&](GgufArchKey k, int* out) -> absl::Status {
    const std::string key = GgufKeyName(k, arch);
    if (!f.Has(key)) return absl::DataLossError(absl::StrCat(f.name(), ": required key '", key, "' is missing"));
    ASSIGN_OR_RETURN(uint32_t v, f.GetU32(key));
    if (v > (1u << 30)) return absl::DataLossError(absl::StrCat(f.name(), ": key '", key, "' has implausible value ", v));
    *out = static_cast<int>(v);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(required_u32(GgufArchKey::kLeadingDenseBlockCount, &c->n_dense_lead));
  RETURN_IF_ERROR(required_u32(GgufArchKey::kExpertFeedForwardLength, &c->n_ff_exp));
  int shared = 0;
  RETURN_IF_ERROR(required_u32(GgufArchKey::kExpertSharedCount, &shared));
  c->n_ff_shexp = shared * c->n_ff_exp;
  const std::string scale = GgufKeyName(GgufArchKey::kExpertWeightsScale, arch);
  if (!f.Has(scale)) return absl::DataLossError(absl::StrCat(f.name(), ": required key '", scale, "' is missing"));
  ASSIGN_OR_RETURN(c->weights_scale, f.GetF32(scale));
  c->scale_weights = true;
  if (const std::string norm = GgufKeyName(GgufArchKey::kExpertWeightsNorm, arch); f.Has(norm)) {
    ASSIGN_OR_RETURN(c->norm_weights, f.GetBool(norm));
  }
  if (const std::string gating = GgufKeyName(GgufArchKey::kExpertGatingFunc, arch); f.Has(gating)) {
    ASSIGN_OR_RETURN(uint32_t g, f.GetU32(gating));
    // 0 (none): files from before the key, softmax as llama.cpp assumes.
    if (g > 2)
      return absl::DataLossError(absl::StrCat(f.name(), ": key '", gating, "' is ", g,
                                              "; expected 1 (softmax) or 2 (sigmoid)"));
    c->sigmoid = g == 2;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MoeConfig> ReadMoeConfig(const GgufFile& f, const std::string& arch, int n_ff) {
  MoeConfig c;
  auto read = [&](GgufArchKey k, int* out) -> absl::Status {
    const std::string key = GgufKeyName(k, arch);
    if (!f.Has(key)) return absl::OkStatus();
    ASSIGN_OR_RETURN(uint32_t v, f.GetU32(key));
    if (v > (1u << 30)) return absl::DataLossError(absl::StrCat(f.name(), ": key '", key, "' has implausible value ", v));
    *out = static_cast<int>(v);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(read(GgufArchKey::kExpertCount, &c.n_expert));
  RETURN_IF_ERROR(read(GgufArchKey::kExpertUsedCount, &c.n_expert_used));
  const bool deepseek = arch == "deepseek2";
  const bool needs = arch == "qwen2moe" || arch == "qwen3moe" || deepseek;
  const std::string count_key = GgufKeyName(GgufArchKey::kExpertCount, arch);
  const std::string used_key = GgufKeyName(GgufArchKey::kExpertUsedCount, arch);
  if (c.n_expert == 0) {
    if (needs)
      return absl::DataLossError(absl::StrCat(f.name(), ": ", arch, " needs '", count_key, "' above 0 (it is ",
                                              f.Has(count_key) ? "0" : "missing", ")"));
    return c;
  }
  if (c.n_expert > kMaxExperts)
    return absl::DataLossError(absl::StrCat(f.name(), ": '", count_key, "' is ", c.n_expert,
                                            "; llama.cpp runs at most ", kMaxExperts, " experts"));
  if (c.n_expert_used < 1 || c.n_expert_used > c.n_expert)
    return absl::DataLossError(absl::StrCat(f.name(), ": '", used_key, "' is ", c.n_expert_used,
                                            "; it must be from 1 to the expert count ", c.n_expert));
  c.n_ff_exp = n_ff;
  if (needs) {
    // llama.cpp's default when the key is absent.
    c.n_ff_exp = n_ff / c.n_expert_used;
    RETURN_IF_ERROR(read(GgufArchKey::kExpertFeedForwardLength, &c.n_ff_exp));
  }
  if (arch == "qwen2moe") {
    c.n_ff_shexp = n_ff;
    c.shexp_gate = true;
    RETURN_IF_ERROR(read(GgufArchKey::kExpertSharedFeedForwardLength, &c.n_ff_shexp));
  }
  if (deepseek) RETURN_IF_ERROR(ReadDeepseek2MoeKeys(f, &c));
  if (c.n_ff_exp <= 0)
    return absl::DataLossError(absl::StrCat(f.name(), ": the experts' feed-forward length is 0"));
  // Mixtral's and Qwen3-MoE's graphs renormalise the top k; Qwen2-MoE's
  // not; DeepSeek-V2's as its key says.
  if (!deepseek) c.norm_weights = arch != "qwen2moe";
  return c;
}

absl::Status BindMoeLayer(const GgufFile& f, const MoeConfig& c, int n_embd, int layer, MoeLayerWeights* w) {
  auto n = [&](const char* what) { return absl::StrCat("blk.", layer, ".", what, ".weight"); };
  const int64_t E = n_embd, F = c.n_ff_exp, X = c.n_expert;
  RETURN_IF_ERROR(Bind(f, n("ffn_gate_inp"), {E, X}, &w->gate_inp));
  RETURN_IF_ERROR(Bind(f, n("ffn_gate_exps"), {E, F, X}, &w->gate_exps));
  RETURN_IF_ERROR(Bind(f, n("ffn_up_exps"), {E, F, X}, &w->up_exps));
  RETURN_IF_ERROR(Bind(f, n("ffn_down_exps"), {F, E, X}, &w->down_exps));
  if (const GgufTensor* b = f.FindTensor(absl::StrCat("blk.", layer, ".exp_probs_b.bias")); b != nullptr) {
    if (b->n_elements != X || b->type != GgmlType::kF32)
      return BadShape(f, *b, absl::StrCat("[", X, "] of f32"));
    w->exp_probs_b = reinterpret_cast<const float*>(b->data);
  }
  if (c.n_ff_shexp > 0) {
    const int64_t S = c.n_ff_shexp;
    if (c.shexp_gate) RETURN_IF_ERROR(Bind(f, n("ffn_gate_inp_shexp"), {E}, &w->gate_inp_shexp));
    RETURN_IF_ERROR(Bind(f, n("ffn_gate_shexp"), {E, S}, &w->gate_shexp));
    RETURN_IF_ERROR(Bind(f, n("ffn_up_shexp"), {E, S}, &w->up_shexp));
    RETURN_IF_ERROR(Bind(f, n("ffn_down_shexp"), {S, E}, &w->down_shexp));
  }
  return absl::OkStatus();
}

MoeFfn::MoeFfn(const MoeConfig& c, int n_embd, int max_batch, MatMulFn matmul, ParallelFor pfor)
    : c_(c), n_embd_(n_embd), matmul_(std::move(matmul)), pfor_(std::move(pfor)) {
  const size_t B = max_batch, K = c.n_expert_used, F = c.n_ff_exp, E = n_embd;
  logits_.resize(B * c.n_expert);
  weights_.resize(B * K);
  selected_.resize(B * K);
  gate_.resize(B * K * F);
  up_.resize(B * K * F);
  down_.resize(B * K * E);
  const size_t widest = std::max(E, F);
  enc_.resize(B * K * widest * 4);
  enc2_.resize(B * widest * 4);
  if (c.n_ff_shexp > 0) {
    const size_t S = c.n_ff_shexp;
    sh_logit_.resize(B);
    sh_gate_.resize(B * S);
    sh_up_.resize(B * S);
    sh_out_.resize(B * E);
    enc_.resize(std::max(enc_.size(), B * std::max(E, S) * 4));
  }
  start_.resize(c.n_expert + 1);
  slot_at_.resize(B * K);
  pos_.resize(B * K);
}

uint64_t MoeFfn::scratch_bytes() const {
  return 4 * (logits_.size() + weights_.size() + selected_.size() + slot_at_.size() + pos_.size() + gate_.size() +
              up_.size() + down_.size() + sh_logit_.size() + sh_gate_.size() + sh_up_.size() + sh_out_.size()) +
         enc_.size() + enc2_.size();
}

void MoeFfn::ExpertProducts(const WeightMatrix& w, int64_t rows_per_expert, const uint8_t* act, size_t act_stride,
                            int n, float* y) {
  const size_t row_bytes = RowBytes(w.type, w.cols);
  // Work items: (expert, run of its rows), experts with slots only. One
  // token: long runs, which the kernels prefetch along.
  const int64_t chunk = n == 1 ? kRowChunkOneToken : kRowChunk;
  items_.clear();
  for (int e = 0; e < c_.n_expert; ++e) {
    if (start_[e] == start_[e + 1]) continue;
    for (int64_t r = 0; r < rows_per_expert; r += chunk) items_.emplace_back(e, r);
  }
  auto body = [&](size_t i) {
    const auto [e, r0] = items_[i];
    const int64_t r1 = std::min(rows_per_expert, r0 + chunk);
    const int64_t g0 = start_[e], g1 = start_[e + 1];
    const auto* base = static_cast<const uint8_t*>(w.data) + (static_cast<size_t>(e) * rows_per_expert + r0) * row_bytes;
    float* out = y + static_cast<size_t>(g0) * rows_per_expert + r0;
    if (reference_) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t g = g0; g < g1; ++g)
          out[(g - g0) * rows_per_expert + (r - r0)] =
              VecDotGgml(w.type, w.cols, base + static_cast<size_t>(r - r0) * row_bytes, act + g * act_stride);
      return;
    }
    // The expert's slots are contiguous rows of `act`: one product of a
    // run of its rows with all of them, every element still one vec_dot.
    const WeightMatrix sub{w.type, r1 - r0, w.cols, base};
    const EncodedActivations a{act + g0 * act_stride, g1 - g0, act_stride};
    MatMulGgml(sub, a, out, rows_per_expert, nullptr, BestIsa(), 1);
  };
  if (pfor_) {
    pfor_(items_.size(), body);
  } else {
    for (size_t i = 0; i < items_.size(); ++i) body(i);
  }
}

void MoeFfn::Forward(const MoeLayerWeights& w, const float* x, int n, float* out) {
  const int X = c_.n_expert, K = c_.n_expert_used, F = c_.n_ff_exp, E = n_embd_;
  // Routing: ggml_soft_max of the router's logits, top k, their weights.
  // mul_mat takes tinyBLAS for two or more tokens and a row count divisible
  // by 4, ggml's vec_dot otherwise (one token: generation).
  if (n >= 2 && X % 4 == 0) {
    matmul_(w.gate_inp, x, n, logits_.data());
  } else {
    const EncodedActivations a = EncodeActivations(w.gate_inp.type, x, n, E, enc2_.data());
    const size_t rb = RowBytes(w.gate_inp.type, E);
    for (int t = 0; t < n; ++t)
      for (int e = 0; e < X; ++e)
        logits_[static_cast<size_t>(t) * X + e] =
            VecDotGgml(w.gate_inp.type, E, static_cast<const uint8_t*>(w.gate_inp.data) + e * rb,
                       static_cast<const uint8_t*>(a.data) + static_cast<size_t>(t) * a.stride);
  }
  std::vector<int32_t> order;
  for (int t = 0; t < n; ++t) {
    float* p = &logits_[static_cast<size_t>(t) * X];
    if (c_.sigmoid) {
      for (int e = 0; e < X; ++e) p[e] = 1.0f / (1.0f + std::exp(-p[e]));  // ggml_sigmoid
    } else {
      const float mx = ScaleMax(p, X, 1.0f);
      const double sum = SoftmaxExpTail(p, X, mx);
      ScaleRound(p, X, static_cast<float>(1.0 / sum), false);
    }
    int32_t* sel = &selected_[static_cast<size_t>(t) * K];
    if (w.exp_probs_b != nullptr) {
      // The bias picks the experts; the weights stay the unbiased probs.
      biased_.resize(X);
      for (int e = 0; e < X; ++e) biased_[e] = p[e] + w.exp_probs_b[e];
      TopK(biased_.data(), X, K, sel, &order);
    } else {
      TopK(p, X, K, sel, &order);
    }
    float* wt = &weights_[static_cast<size_t>(t) * K];
    for (int i = 0; i < K; ++i) wt[i] = p[sel[i]];
    if (c_.norm_weights) {
      // ggml_sum_rows (in double, stored as float), then ggml_div.
      double s = 0;
      for (int i = 0; i < K; ++i) s += static_cast<double>(wt[i]);
      const float fs = static_cast<float>(s);
      for (int i = 0; i < K; ++i) wt[i] = wt[i] / fs;
    }
    if (c_.scale_weights)
      for (int i = 0; i < K; ++i) wt[i] = wt[i] * c_.weights_scale;
  }
  // The slots (token * k + i) sorted by expert: slot_at_[g] is the g-th,
  // experts' runs start at start_[e], pos_ inverts slot_at_.
  const size_t slots = static_cast<size_t>(n) * K;
  std::fill(start_.begin(), start_.end(), 0);
  for (size_t s = 0; s < slots; ++s) ++start_[selected_[s] + 1];
  for (int e = 0; e < X; ++e) start_[e + 1] += start_[e];
  next_.assign(start_.begin(), start_.end() - 1);
  for (size_t s = 0; s < slots; ++s) {
    const int32_t g = next_[selected_[s]]++;
    slot_at_[g] = static_cast<int32_t>(s);
    pos_[s] = g;
  }
  // gate and up: each token's row encoded once and copied to its slots'
  // places, every selected expert's rows read once for all its slots.
  auto gathered = [&](const EncodedActivations& a) {
    for (size_t g = 0; g < slots; ++g)
      std::memcpy(&enc_[g * a.stride], static_cast<const uint8_t*>(a.data) + (slot_at_[g] / K) * a.stride, a.stride);
    return enc_.data();
  };
  {
    const DType at = VecDotType(w.gate_exps.type);
    const EncodedActivations a = EncodeActivations(w.gate_exps.type, x, n, E, enc2_.data());
    ExpertProducts(w.gate_exps, F, gathered(a), a.stride, n, gate_.data());
    if (VecDotType(w.up_exps.type) == at) {
      ExpertProducts(w.up_exps, F, enc_.data(), a.stride, n, up_.data());
    } else {
      const EncodedActivations b = EncodeActivations(w.up_exps.type, x, n, E, enc2_.data());
      ExpertProducts(w.up_exps, F, gathered(b), b.stride, n, up_.data());
    }
  }
  for (size_t s = 0; s < slots; ++s) SwiGlu(&gate_[s * F], &up_[s * F], F);
  {
    const EncodedActivations a = EncodeActivations(w.down_exps.type, gate_.data(), slots, F, enc_.data(), pfor_);
    ExpertProducts(w.down_exps, E, static_cast<const uint8_t*>(a.data), a.stride, n, down_.data());
  }
  // Each slot's output times its weight (ggml_mul), then added slot after
  // slot (the chain of ggml_add).
  for (int t = 0; t < n; ++t) {
    float* o = out + static_cast<size_t>(t) * E;
    const float* wt = &weights_[static_cast<size_t>(t) * K];
    for (int i = 0; i < K; ++i) {
      const float* d = &down_[static_cast<size_t>(pos_[static_cast<size_t>(t) * K + i]) * E];
      if (i == 0) {
        for (int j = 0; j < E; ++j) o[j] = d[j] * wt[0];
      } else {
        for (int j = 0; j < E; ++j) o[j] = o[j] + d[j] * wt[i];
      }
    }
  }
  if (c_.n_ff_shexp == 0) return;
  // The shared expert: a dense SwiGLU FFN, for Qwen2-MoE scaled by
  // sigmoid(g) = silu(g) / g, as c392e50's graph writes it.
  const int S = c_.n_ff_shexp;
  if (c_.shexp_gate) {
    // One weight row: tinyBLAS declines it (rows not a multiple of 4), so
    // mul_mat falls back to ggml's vec_dot.
    const EncodedActivations a = EncodeActivations(w.gate_inp_shexp.type, x, n, E, enc2_.data());
    for (int t = 0; t < n; ++t)
      sh_logit_[t] = VecDotGgml(w.gate_inp_shexp.type, E, w.gate_inp_shexp.data,
                                static_cast<const uint8_t*>(a.data) + static_cast<size_t>(t) * a.stride);
  }
  matmul_(w.gate_shexp, x, n, sh_gate_.data());
  matmul_(w.up_shexp, x, n, sh_up_.data());
  for (int t = 0; t < n; ++t) SwiGlu(&sh_gate_[static_cast<size_t>(t) * S], &sh_up_[static_cast<size_t>(t) * S], S);
  matmul_(w.down_shexp, sh_gate_.data(), n, sh_out_.data());
  if (!c_.shexp_gate) {  // deepseek2: ggml_add(moe_out, ffn_shexp)
    for (size_t i = 0; i < static_cast<size_t>(n) * E; ++i) out[i] = out[i] + sh_out_[i];
    return;
  }
  for (int t = 0; t < n; ++t) {
    const float g = sh_logit_[t];
    const float silu = g / (1.0f + std::exp(-g));
    const float gate = silu / g;
    float* o = out + static_cast<size_t>(t) * E;
    const float* s = &sh_out_[static_cast<size_t>(t) * E];
    for (int j = 0; j < E; ++j) o[j] = o[j] + s[j] * gate;
  }
}

}  // namespace llmtk
