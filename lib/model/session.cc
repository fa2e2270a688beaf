// The forward pass: llama.cpp's CPU graph for llama/qwen2/qwen3/phi3/chatglm,
// batch by batch, with a KV cache.
#include "lib/model/session.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/compute_pool.h"
#include "lib/kernels/internal.h"
#include "lib/ggml/quant.h"
#include "lib/model/arch_gemma.h"
#include "lib/model/rms_norm.h"

namespace llmtk {
namespace {

// ggml's rope_yarn_ramp and corr dims.
float YarnRamp(float low, float high, int i0) {
  const float y = (static_cast<float>(i0 / 2) - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}
float YarnCorrDim(int n_dims, int n_ctx_orig, float n_rot, float base) {
  return n_dims * std::log(n_ctx_orig / (n_rot * 2 * static_cast<float>(M_PI))) / (2 * std::log(base));
}

// Rotates one head by the token's angles (cs, sn: half_rot each), pairs
// adjacent (normal) or half_rot apart (NeoX).
void Rope(float* head, const float* cs, const float* sn, int half_rot, RopeLayout layout) {
  if (layout == RopeLayout::kNormal) {
    for (int i = 0; i < half_rot; ++i) {
      const float x0 = head[2 * i], x1 = head[2 * i + 1];
      head[2 * i] = std::fma(x0, cs[i], -(x1 * sn[i]));
      head[2 * i + 1] = std::fma(x0, sn[i], x1 * cs[i]);
    }
  } else {
    for (int i = 0; i < half_rot; ++i) {
      const float x0 = head[i], x1 = head[i + half_rot];
      head[i] = std::fma(x0, cs[i], -(x1 * sn[i]));
      head[i + half_rot] = std::fma(x0, sn[i], x1 * cs[i]);
    }
  }
}

// Attention's P·V for a one-token batch, as ggml's vec_dot over the
// transposed V cache: per output element one dot over the n_kv cells
// llama.cpp attends (the used cells padded to 32), cells below n_kv & ~63
// in 64 lanes, the rest added after them (kernels AccumulateRows64). Cells
// masked or past the token's own carry probability 0 and add nothing.
// `runs(i0, i1, fn)` hands fn the cache runs of cells first + [i0, i1).
template <typename Runs>
void PvOneToken(DType t, const float* p, int first, int count, const Runs& runs, const uint8_t* vbase, size_t row,
                float* lanes, double* tail, int hd, float* out) {
  const int n_kv = std::max(32, (first + count + 31) / 32 * 32);
  const int split = std::clamp((n_kv & ~63) - first, 0, count);
  std::fill(lanes, lanes + 64 * hd, 0.f);
  runs(0, split, [&](int i, size_t slot, int len) {
    AccumulateRows64(t, p + i, vbase + slot * row, row, len, first + i, lanes, hd);
  });
  ReduceLanes64(lanes, hd, out);
  if (split == count) return;
  for (int i = 0; i < hd; ++i) tail[i] = out[i];
  runs(split, count, [&](int i, size_t slot, int len) {
    AddRowsTail(t, p + i, vbase + slot * row, row, len, tail, hd);
  });
  for (int i = 0; i < hd; ++i) out[i] = static_cast<float>(tail[i]);
}

}  // namespace

Session::Session(const Model& model, const SessionOptions& opts) : model_(model) {
  const ModelConfig& c = model.config();
  n_ctx_ = opts.n_ctx > 0 ? opts.n_ctx : c.n_ctx_train;
  kv_f32_ = opts.kv_f32;
  plain_attention_ = opts.plain_attention;
  max_batch_ = std::max(1, std::min(opts.max_batch, n_ctx_));
  pool_ = std::make_unique<ComputePool>(opts.threads);
  pfor_ = [this](size_t n, const std::function<void(size_t)>& fn) { pool_->Run(n, fn); };
  const size_t kv_dim = static_cast<size_t>(c.n_head_kv) * c.head_dim;
  const size_t v_dim = static_cast<size_t>(c.n_head_kv) * c.head_dim_v;
  const size_t elem = kv_f32_ ? 4 : 2;
  if (c.n_swa > 0 && !opts.swa_full) {
    const int64_t cells = SwaCacheCells(n_ctx_, c.n_swa, max_batch_);
    if (cells < n_ctx_) ring_ = static_cast<int>(cells);
  }
  size_t kv_size = 0, v_size = 0;
  for (int l = 0; l < c.n_layer; ++l) {
    layer_off_.push_back(kv_size);
    v_layer_off_.push_back(v_size);
    const size_t cells = static_cast<size_t>(InRing(l) ? ring_ : n_ctx_);
    kv_size += cells * kv_dim * elem;
    v_size += cells * v_dim * elem;
  }
  k_cache_.resize(kv_size);
  v_cache_.resize(v_size);
  kv_bytes_ = k_cache_.size() + v_cache_.size();
  if (ring_ > 0) ring_cell_.assign(ring_, -1);
  const size_t B = max_batch_;
  const size_t q_dim = static_cast<size_t>(c.n_head) * c.head_dim;
  x_.resize(B * c.n_embd);
  xb_.resize(B * std::max<size_t>(c.n_embd, q_dim));
  q_.resize(B * q_dim);
  k_.resize(B * kv_dim);
  v_.resize(B * v_dim);
  att_.resize(B * c.n_head * c.head_dim_v);
  // Experts: model/moe (deepseek2's leading blocks are dense).
  const size_t ff = c.moe.n_expert > 0 && c.moe.n_dense_lead == 0 ? 0 : static_cast<size_t>(c.n_ff);
  hb_.resize(B * ff);
  hb2_.resize(B * ff);
  // The widest encoded activation row: F32 of the widest input.
  const size_t widest = std::max<size_t>({static_cast<size_t>(c.n_embd), q_dim, static_cast<size_t>(c.n_ff),
                                          static_cast<size_t>(c.mla.q_lora_rank), static_cast<size_t>(c.mla.kv_lora_rank),
                                          static_cast<size_t>(c.n_head) * c.head_dim_v});
  enc_.resize(B * widest * 4);
  scores_.resize(static_cast<size_t>(c.n_head) * n_ctx_);
  q16_.resize(static_cast<size_t>(c.n_head) * c.head_dim);
  pv_lanes_.resize(static_cast<size_t>(c.n_head) * 64 * c.head_dim_v);
  pv_tail_.resize(static_cast<size_t>(c.n_head) * c.head_dim_v);
  rope_cos_.resize(B * (c.n_rot / 2));
  rope_sin_.resize(B * (c.n_rot / 2));
  if (SwaOwnRope()) {
    rope_cos_swa_.resize(B * (c.n_rot / 2));
    rope_sin_swa_.resize(B * (c.n_rot / 2));
  }
  pos_cell_.resize(n_ctx_);
  if (c.fused_qkv) qkv_.resize(B * (q_dim + 2 * kv_dim));
  if (c.fused_ffn_up) up2_.resize(B * 2 * c.n_ff);
  if (c.n_swa > 0) cell_pos_.assign(n_ctx_, 0);
  tok_pos_.resize(B);
  tok_cell_.resize(B);
  tok_seq_.resize(B);
  tok_shared_.assign(B, kShared);
  tok_lo_.assign(B, 0);
  if (c.moe.n_expert > 0) {
    moe_ = std::make_unique<MoeFfn>(
        c.moe, c.n_embd, max_batch_,
        [this](const WeightMatrix& w, const float* x, int rows, float* y) { MatMulRows(w, x, rows, y); }, pfor_);
    moe_out_.resize(B * c.n_embd);
  }
  if (c.mla.kv_lora_rank > 0) {
    mla_ = std::make_unique<MlaProjection>(
        c.mla, c.n_head, c.head_dim_v, c.rms_eps, max_batch_,
        [this](const WeightMatrix& w, const float* x, int rows, float* y) { MatMulRows(w, x, rows, y); });
  }
}

Session::~Session() = default;

int64_t SwaCacheCells(int64_t n_ctx, int64_t n_swa, int64_t max_batch) {
  const int64_t padded = (n_swa + std::min(max_batch, n_ctx) + 255) / 256 * 256;
  return std::min(n_ctx, padded);
}

bool Session::SlidingLayer(int l) const {
  const ModelConfig& c = model_.config();
  return c.swa_layers.empty() || c.is_swa(l);
}

size_t Session::CacheOffset(int l, int cell, bool v) const {
  const ModelConfig& c = model_.config();
  const size_t row = static_cast<size_t>(c.n_head_kv) * (v ? c.head_dim_v : c.head_dim) * (kv_f32_ ? 4 : 2);
  return (v ? v_layer_off_[l] : layer_off_[l]) + static_cast<size_t>(InRing(l) ? cell % ring_ : cell) * row;
}

// A token needs the cells it sees within the window: every cell it sees
// before (lower cells) is masked, so attention may start at the group of 16
// holding the first needed cell and give the bits it gives over the whole
// cache (the skipped scores are exact zeros there).
absl::Status Session::PlaceInRing(int n, bool masked) {
  if (ring_ == 0) return absl::OkStatus();
  const int n_swa = model_.config().n_swa;
  std::vector<int32_t> held = ring_cell_;
  for (int t = 0; t < n; ++t) {
    held[tok_cell_[t] % ring_] = tok_cell_[t];
    cell_pos_[tok_cell_[t]] = tok_pos_[t];
  }
  for (int t = 0; t < n; ++t) {
    const int last = tok_cell_[t], p = tok_pos_[t];
    int lo = last;
    if (!masked) {
      // Without gaps every cached cell is its position.
      lo = std::max(0, p - n_swa + 1);
    } else {
      for (int i = 0; i < last; ++i) {
        const bool seen = cell_seq_[i] == tok_shared_[t] || cell_seq_[i] == tok_seq_[t];
        if (seen && p - cell_pos_[i] < n_swa) {
          lo = i;
          break;
        }
      }
    }
    for (int i = lo; i <= last; ++i) {
      if (masked && i < last && cell_seq_[i] != tok_shared_[t] && cell_seq_[i] != tok_seq_[t]) continue;
      if (p - cell_pos_[i] >= n_swa) continue;
      if (held[i % ring_] != i) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "position %d needs cache cell %d, which the sliding-window cache of %d cells no longer holds "
            "(keep the whole context on sliding layers: SessionOptions::swa_full)",
            p, i, ring_));
      }
    }
    tok_lo_[t] = lo;
  }
  ring_cell_ = std::move(held);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const Model& model, const SessionOptions& opts) {
  if (opts.n_ctx < 0 || opts.n_ctx > (1 << 22))
    return absl::InvalidArgumentError(absl::StrCat("context size ", opts.n_ctx, " is out of range"));
  if (opts.max_batch < 1) return absl::InvalidArgumentError("batch size must be at least 1");
  return std::unique_ptr<Session>(new Session(model, opts));
}

int Session::threads() const { return pool_->size(); }

uint64_t Session::scratch_bytes() const {
  return 4 * (x_.size() + xb_.size() + q_.size() + k_.size() + v_.size() + att_.size() + hb_.size() +
              hb2_.size() + scores_.size() + rope_cos_.size() + rope_sin_.size() + qkv_.size() + up2_.size() +
              cell_pos_.size() + ring_cell_.size() + tok_lo_.size() + pos_cell_.size() + pv_lanes_.size() +
              rope_cos_swa_.size() + rope_sin_swa_.size() + moe_out_.size()) +
         enc_.size() + kv_pack_.size() + 4 * tok_scores_.size() + 2 * (q16_.size() + tok_q16_.size()) +
         8 * pv_tail_.size() +
         (moe_ ? moe_->scratch_bytes() : 0) + (mla_ ? mla_->scratch_bytes() : 0);
}

void Session::ParallelRun(size_t n, const std::function<void(size_t)>& fn) { pool_->Run(n, fn); }

void Session::Truncate(int n) {
  n_past_ = std::max(0, std::min(n, n_past_));
  next_cell_ = n_past_ == 0 ? 0 : pos_cell_[n_past_ - 1] + 1;
}

absl::Status Session::SetNextCell(int cell) {
  const int first_free = n_past_ == 0 ? 0 : pos_cell_[n_past_ - 1] + 1;
  if (cell < first_free || cell >= n_ctx_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cache cell %d is not between the next free cell %d and the context %d", cell, first_free,
                        n_ctx_));
  }
  next_cell_ = cell;
  return absl::OkStatus();
}

absl::Status Session::Eval(absl::Span<const int32_t> tokens, LogitsMode mode, std::vector<float>* logits) {
  const ModelConfig& c = model_.config();
  if (tokens.empty()) return absl::InvalidArgumentError("no tokens to evaluate");
  if (static_cast<int64_t>(next_cell_) + static_cast<int64_t>(tokens.size()) > n_ctx_)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%d tokens do not fit the context: %d already used of %d (raise --ctx)", tokens.size(), next_cell_, n_ctx_));
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab)
      return absl::InvalidArgumentError(
          absl::StrFormat("token id %d at index %d is outside the vocabulary (0..%d)", tokens[i], i, c.n_vocab - 1));
  if (logits != nullptr) {
    const size_t rows = mode == LogitsMode::kAll ? tokens.size() : mode == LogitsMode::kLast ? 1 : 0;
    logits->assign(rows * c.n_vocab, 0.f);
  }
  for (size_t start = 0; start < tokens.size(); start += max_batch_) {
    const int n = static_cast<int>(std::min<size_t>(max_batch_, tokens.size() - start));
    const bool last_batch = start + n == tokens.size();
    LogitsMode m = LogitsMode::kNone;
    float* out = nullptr;
    if (logits != nullptr && mode == LogitsMode::kAll) {
      m = LogitsMode::kAll;
      out = logits->data() + start * c.n_vocab;
    } else if (logits != nullptr && mode == LogitsMode::kLast && last_batch) {
      m = LogitsMode::kLast;
      out = logits->data();
    }
    // Cells ascend with positions, so the layout has a gap exactly when the
    // next cell is not the next position.
    const bool masked = next_cell_ != n_past_;
    if (masked) {
      cell_seq_.assign(static_cast<size_t>(next_cell_ + n), kHidden);
      for (int p = 0; p < n_past_; ++p) cell_seq_[pos_cell_[p]] = kShared;
      for (int t = 0; t < n; ++t) cell_seq_[next_cell_ + t] = kShared;
    }
    for (int t = 0; t < n; ++t) {
      tok_pos_[t] = n_past_ + t;
      tok_cell_[t] = next_cell_ + t;
      tok_seq_[t] = kShared;
      tok_shared_[t] = kShared;
    }
    RETURN_IF_ERROR(PlaceInRing(n, masked));
    Forward(tokens.data() + start, n, m, out, masked);
    for (int t = 0; t < n; ++t) pos_cell_[n_past_ + t] = next_cell_ + t;
    n_past_ += n;
    next_cell_ += n;
  }
  return absl::OkStatus();
}

absl::Status Session::EvalBranches(absl::Span<const std::vector<int32_t>> branches, absl::Span<const int> cells,
                                   std::vector<float>* logits) {
  const ModelConfig& c = model_.config();
  if (branches.size() != cells.size()) return absl::InvalidArgumentError("one cell is needed per branch");
  int next = n_past_ == 0 ? 0 : pos_cell_[n_past_ - 1] + 1;
  size_t total = 0;
  for (size_t b = 0; b < branches.size(); ++b) {
    if (cells[b] < next) {
      return absl::InvalidArgumentError(
          absl::StrFormat("branch %d starts at cell %d, before the next free cell %d", b, cells[b], next));
    }
    next = cells[b] + static_cast<int>(branches[b].size());
    if (next > n_ctx_) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("branch %d ends at cell %d, past the context of %d (raise --ctx)", b, next, n_ctx_));
    }
    for (int32_t id : branches[b]) {
      if (id < 0 || id >= c.n_vocab) {
        return absl::InvalidArgumentError(
            absl::StrFormat("token id %d is outside the vocabulary (0..%d)", id, c.n_vocab - 1));
      }
    }
    total += branches[b].size();
  }
  logits->assign(total * c.n_vocab, 0.f);
  cell_seq_.assign(static_cast<size_t>(next), kHidden);
  for (int p = 0; p < n_past_; ++p) cell_seq_[pos_cell_[p]] = kShared;
  std::vector<int32_t> tokens;
  tokens.reserve(total);
  for (size_t b = 0; b < branches.size(); ++b) {
    for (size_t i = 0; i < branches[b].size(); ++i) cell_seq_[cells[b] + i] = static_cast<int32_t>(b);
    tokens.insert(tokens.end(), branches[b].begin(), branches[b].end());
  }
  // Batches of max_batch_ tokens, cutting across branches where they fall: a
  // later batch's tokens see the cells of the earlier ones, already stored.
  size_t b = 0, i = 0;
  for (size_t start = 0; start < total; start += max_batch_) {
    const int n = static_cast<int>(std::min<size_t>(max_batch_, total - start));
    for (int t = 0; t < n; ++t) {
      while (i >= branches[b].size()) {
        ++b;
        i = 0;
      }
      tok_pos_[t] = n_past_ + static_cast<int>(i);
      tok_cell_[t] = cells[b] + static_cast<int>(i);
      tok_seq_[t] = static_cast<int32_t>(b);
      tok_shared_[t] = kShared;
      ++i;
    }
    RETURN_IF_ERROR(PlaceInRing(n, /*masked=*/true));
    Forward(tokens.data() + start, n, LogitsMode::kAll, logits->data() + start * c.n_vocab, /*masked=*/true);
  }
  return absl::OkStatus();
}

absl::Status Session::EvalCells(absl::Span<const CellToken> tokens, std::vector<float>* logits) {
  const ModelConfig& c = model_.config();
  constexpr int32_t kBranches = 128;
  int last = -1;
  for (const CellToken& t : tokens) {
    if (t.id < 0 || t.id >= c.n_vocab) {
      return absl::InvalidArgumentError(
          absl::StrFormat("token id %d is outside the vocabulary (0..%d)", t.id, c.n_vocab - 1));
    }
    if (t.cell <= last || t.pos < 0 || t.group < 0 || t.branch < -1 || t.branch >= kBranches - 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "cell %d (after %d), position %d, group %d, branch %d: cells must ascend, branches be -1..%d", t.cell,
          last, t.pos, t.group, t.branch, kBranches - 2));
    }
    if (t.cell >= n_ctx_) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("cell %d is past the context of %d (raise --ctx)", t.cell, n_ctx_));
    }
    last = t.cell;
  }
  logits->assign(tokens.size() * c.n_vocab, 0.f);
  n_past_ = 0;
  next_cell_ = 0;
  cell_seq_.assign(static_cast<size_t>(last + 1), kHidden);
  for (const CellToken& t : tokens) cell_seq_[t.cell] = t.group * kBranches + t.branch + 1;
  std::vector<int32_t> ids(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) ids[i] = tokens[i].id;
  for (size_t start = 0; start < tokens.size(); start += max_batch_) {
    const int n = static_cast<int>(std::min<size_t>(max_batch_, tokens.size() - start));
    for (int t = 0; t < n; ++t) {
      const CellToken& k = tokens[start + t];
      tok_pos_[t] = k.pos;
      tok_cell_[t] = k.cell;
      tok_seq_[t] = k.group * kBranches + k.branch + 1;
      tok_shared_[t] = k.group * kBranches;
    }
    RETURN_IF_ERROR(PlaceInRing(n, /*masked=*/true));
    Forward(ids.data() + start, n, LogitsMode::kAll, logits->data() + start * c.n_vocab, /*masked=*/true);
  }
  return absl::OkStatus();
}

void Session::Forward(const int32_t* tokens, int n, LogitsMode mode, float* logits, bool masked) {
  EmbedTokens(tokens, n);
  const ModelConfig& c = model_.config();
  ComputeRopeAngles(n, c.rope_base, c.rope_freq_scale, rope_cos_.data(), rope_sin_.data());
  if (SwaOwnRope())
    ComputeRopeAngles(n, c.rope_base_swa, c.rope_freq_scale_swa, rope_cos_swa_.data(), rope_sin_swa_.data());
  for (int l = 0; l < model_.config().n_layer; ++l) {
    AttentionBlock(l, n, masked);
    // llama.cpp's graphs keep only the output rows (inp_out_ids) before the
    // last layer's feed-forward: with one position's logits wanted, its
    // products have one row, which ggml computes through vec_dot.
    const bool last_only = l == c.n_layer - 1 && mode == LogitsMode::kLast;
    FeedForwardBlock(l, last_only ? n - 1 : 0, n);
  }
  if (mode == LogitsMode::kNone) return;
  OutputLogits(n, mode, logits);
}

void Session::MatMulRows(const WeightMatrix& w, const float* x, int rows, float* y) {
  if (observer_) observer_(w, x, rows);
  const EncodedActivations a = EncodeActivations(w.type, x, rows, w.cols, enc_.data(), pfor_);
  if (MulMatTakesVecDot(w.type, w.rows, rows)) {
    MatMulGgml(w, a, y, w.rows, pfor_, BestIsa(), pool_->size());
  } else {
    MatMul(w, a, y, w.rows, pfor_, BestIsa(), pool_->size());
  }
}

void Session::EmbedTokens(const int32_t* tokens, int n) {
  const Model& M = model_;
  const int E = M.config().n_embd;
  for (int t = 0; t < n; ++t) {
    const WeightMatrix& emb = M.token_embd();
    const uint8_t* row = static_cast<const uint8_t*>(emb.data) + RowBytes(emb.type, E) * tokens[t];
    DequantizeRow(emb.type, row, x_.data() + static_cast<size_t>(t) * E, E);
  }
  // Gemma: ggml_scale by sqrtf(n_embd).
  if (M.config().gemma) {
    const float scale = std::sqrt(static_cast<float>(E));
    for (size_t i = 0; i < static_cast<size_t>(n) * E; ++i) x_[i] *= scale;
  }
}

bool Session::SwaOwnRope() const {
  const ModelConfig& c = model_.config();
  return !c.swa_layers.empty() && (c.rope_base_swa != c.rope_base || c.rope_freq_scale_swa != c.rope_freq_scale);
}

// As ggml_rope_cache_init: theta advances by repeated multiplication with
// theta_scale, and is divided by the pair's rope_freqs factor when the model
// has them.
void Session::ComputeRopeAngles(int n, float rope_base, float freq_scale, float* cos_out, float* sin_out) {
  const ModelConfig& c = model_.config();
  const int half_rot = c.n_rot / 2;
  const float theta_scale = std::pow(rope_base, -2.0f / c.n_rot);
  const float ext_factor = c.rope_yarn ? 1.0f : 0.0f;
  float corr0 = 0, corr1 = 0;
  if (c.rope_yarn) {
    corr0 = std::max(0.0f, std::floor(YarnCorrDim(c.n_rot, c.yarn_orig_ctx, c.yarn_beta_fast, rope_base)));
    corr1 = std::min(static_cast<float>(c.n_rot - 1),
                     std::ceil(YarnCorrDim(c.n_rot, c.yarn_orig_ctx, c.yarn_beta_slow, rope_base)));
  }
  const float* ff = model_.rope_freqs();
  if (ff == nullptr && model_.rope_long() != nullptr) {
    // llama.cpp's build_rope_factors: long factors when the context per
    // sequence (padded to 32 cells, as llama.cpp pads a context) exceeds the
    // original one.
    const int padded = (n_ctx_ + 31) / 32 * 32;
    ff = padded > c.n_ctx_orig ? model_.rope_long() : model_.rope_short();
  }
  for (int t = 0; t < n; ++t) {
    float theta = static_cast<float>(tok_pos_[t]);
    for (int i = 0; i < half_rot; ++i) {
      const float theta_extrap = ff != nullptr ? theta / ff[i] : theta;
      const float theta_interp = freq_scale * theta_extrap;
      float th = theta_interp;
      float mscale = c.rope_attn_factor;
      if (ext_factor != 0.0f) {
        const float ramp_mix = YarnRamp(corr0, corr1, 2 * i) * ext_factor;
        th = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
        mscale *= 1.0f + 0.1f * std::log(1.0f / freq_scale);
      }
      cos_out[t * half_rot + i] = std::cos(th) * mscale;
      sin_out[t * half_rot + i] = std::sin(th) * mscale;
      theta *= theta_scale;
    }
  }
}

void Session::AttentionBlock(int l, int n, bool masked) {
  const ModelConfig& c = model_.config();
  const int E = c.n_embd;
  const LayerWeights& L = model_.layers()[l];
  for (int t = 0; t < n; ++t) RmsNorm(&x_[t * E], L.attn_norm, E, c.rms_eps, &xb_[t * E]);
  if (L.wqkv.data != nullptr) {
    // One product, then ggml's views: q, k, v columns of each row, the
    // fused bias added first (the same sums as adding it per part).
    const size_t q_dim = static_cast<size_t>(c.n_head) * c.head_dim;
    const size_t kv_dim = static_cast<size_t>(c.n_head_kv) * c.head_dim;
    const size_t w = q_dim + 2 * kv_dim;
    MatMulRows(L.wqkv, xb_.data(), n, qkv_.data());
    for (int t = 0; t < n; ++t) {
      float* row = &qkv_[t * w];
      if (L.bqkv != nullptr)
        for (size_t i = 0; i < w; ++i) row[i] += L.bqkv[i];
      std::memcpy(&q_[t * q_dim], row, q_dim * 4);
      std::memcpy(&k_[t * kv_dim], row + q_dim, kv_dim * 4);
      std::memcpy(&v_[t * kv_dim], row + q_dim + kv_dim, kv_dim * 4);
    }
  } else if (mla_ != nullptr) {
    mla_->Forward(L.mla, xb_.data(), n, q_.data(), k_.data(), v_.data());
  } else {
    MatMulRows(L.wq, xb_.data(), n, q_.data());
    MatMulRows(L.wk, xb_.data(), n, k_.data());
    MatMulRows(L.wv, xb_.data(), n, v_.data());
  }
  PrepareQkv(l, n);
  Attention(l, n, masked);
  MatMulRows(L.wo, att_.data(), n, xb_.data());
  if (L.attn_post_norm != nullptr) {
    for (int t = 0; t < n; ++t) RmsNorm(&xb_[t * E], L.attn_post_norm, E, c.rms_eps, &xb_[t * E]);
  }
  for (size_t i = 0; i < static_cast<size_t>(n) * E; ++i) x_[i] = xb_[i] + x_[i];
}

void Session::PrepareQkv(int l, int n) {
  const ModelConfig& c = model_.config();
  const LayerWeights& L = model_.layers()[l];
  const int hd = c.head_dim;
  const int q_dim = c.n_head * hd, kv_dim = c.n_head_kv * hd, v_dim = c.n_head_kv * c.head_dim_v;
  const int half_rot = c.n_rot / 2;
  const int ro = c.rope_offset;
  for (int t = 0; t < n; ++t) {
    float* q = &q_[static_cast<size_t>(t) * q_dim];
    float* k = &k_[static_cast<size_t>(t) * kv_dim];
    float* v = &v_[static_cast<size_t>(t) * v_dim];
    if (L.bq) {
      for (int i = 0; i < q_dim; ++i) q[i] += L.bq[i];
      for (int i = 0; i < kv_dim; ++i) k[i] += L.bk[i];
      for (int i = 0; i < kv_dim; ++i) v[i] += L.bv[i];
    }
    if (L.q_norm) {
      for (int h = 0; h < c.n_head; ++h) RmsNorm(q + h * hd, L.q_norm, hd, c.rms_eps, q + h * hd);
      for (int h = 0; h < c.n_head_kv; ++h) RmsNorm(k + h * hd, L.k_norm, hd, c.rms_eps, k + h * hd);
    }
    const bool own_rope = c.is_swa(l) && SwaOwnRope();
    const float* cs = own_rope ? &rope_cos_swa_[t * half_rot] : &rope_cos_[t * half_rot];
    const float* sn = own_rope ? &rope_sin_swa_[t * half_rot] : &rope_sin_[t * half_rot];
    if (c.mla.kv_lora_rank > 0) {
      // deepseek2's q_pe/k_pe: llama.cpp's products rounded apart (see
      // RopeAdjacentPairs; other archs' rotations match the fma form).
      for (int h = 0; h < c.n_head; ++h) RopeAdjacentPairs(q + h * hd + ro, cs, sn, half_rot);
      for (int h = 0; h < c.n_head_kv; ++h) RopeAdjacentPairs(k + h * hd + ro, cs, sn, half_rot);
    } else {
      for (int h = 0; h < c.n_head; ++h) Rope(q + h * hd + ro, cs, sn, half_rot, c.rope_layout);
      for (int h = 0; h < c.n_head_kv; ++h) Rope(k + h * hd + ro, cs, sn, half_rot, c.rope_layout);
    }
    // Gemma scales Q after RoPE (ggml_scale), and the softmax by 1.
    if (c.attn_scale != 0.f) {
      for (int i = 0; i < q_dim; ++i) q[i] *= c.attn_scale;
    }
    // phi3 likewise, by 1/sqrt(head_dim).
    if (c.q_prescale) {
      const float qs = 1.0f / std::sqrt(static_cast<float>(hd));
      for (int i = 0; i < q_dim; ++i) q[i] *= qs;
    }
    if (!cell_pos_.empty()) cell_pos_[tok_cell_[t]] = tok_pos_[t];
    // Store into the cache.
    const size_t off = CacheOffset(l, tok_cell_[t], false), voff = CacheOffset(l, tok_cell_[t], true);
    if (kv_f32_) {
      std::memcpy(&k_cache_[off], k, kv_dim * 4);
      std::memcpy(&v_cache_[voff], v, v_dim * 4);
    } else {
      auto* kc = reinterpret_cast<uint16_t*>(&k_cache_[off]);
      auto* vc = reinterpret_cast<uint16_t*>(&v_cache_[voff]);
      for (int i = 0; i < kv_dim; ++i) kc[i] = Fp32ToFp16(k[i]);
      for (int i = 0; i < v_dim; ++i) vc[i] = Fp32ToFp16(v[i]);
    }
  }
}

void Session::FeedForwardBlock(int l, int t0, int n_end) {
  const ModelConfig& c = model_.config();
  const int E = c.n_embd;
  const LayerWeights& L = model_.layers()[l];
  // Rows t0.. of x_, as rows 0.. of the scratch.
  float* const x = &x_[static_cast<size_t>(t0) * E];
  const int n = n_end - t0;
  for (int t = 0; t < n; ++t) RmsNorm(&x[t * E], L.ffn_norm, E, c.rms_eps, &xb_[t * E]);
  if (moe_ != nullptr && L.moe.gate_inp.data != nullptr) {
    moe_->Forward(L.moe, xb_.data(), n, moe_out_.data());
    for (size_t i = 0; i < static_cast<size_t>(n) * E; ++i) x[i] = moe_out_[i] + x[i];
    return;
  }
  if (c.fused_ffn_up) {
    // llama.cpp's LLM_FFN_SWIGLU: the product's first half is the gate.
    const size_t F = c.n_ff;
    MatMulRows(L.w_up, xb_.data(), n, up2_.data());
    for (int t = 0; t < n; ++t) {
      std::memcpy(&hb_[t * F], &up2_[t * 2 * F], F * 4);
      std::memcpy(&hb2_[t * F], &up2_[t * 2 * F + F], F * 4);
    }
  } else {
    MatMulRows(L.w_gate, xb_.data(), n, hb_.data());
    MatMulRows(L.w_up, xb_.data(), n, hb2_.data());
  }
  for (int t = 0; t < n; ++t) {
    float* gate = &hb_[static_cast<size_t>(t) * c.n_ff];
    const float* up = &hb2_[static_cast<size_t>(t) * c.n_ff];
    if (c.gemma) {
      GeGlu(gate, up, c.n_ff);
    } else {
      SwiGlu(gate, up, c.n_ff);
    }
  }
  MatMulRows(L.w_down, hb_.data(), n, xb_.data());
  if (L.ffn_post_norm != nullptr) {
    for (int t = 0; t < n; ++t) RmsNorm(&xb_[t * E], L.ffn_post_norm, E, c.rms_eps, &xb_[t * E]);
  }
  for (size_t i = 0; i < static_cast<size_t>(n) * E; ++i) x[i] = xb_[i] + x[i];
}

void Session::OutputLogits(int n, LogitsMode mode, float* logits) {
  const Model& M = model_;
  const ModelConfig& c = M.config();
  const int E = c.n_embd;
  const int first = mode == LogitsMode::kAll ? 0 : n - 1;
  const int rows = n - first;
  for (int t = first; t < n; ++t) RmsNorm(&x_[t * E], M.output_norm(), E, c.rms_eps, &xb_[(t - first) * E]);
  MatMulRows(M.output(), xb_.data(), rows, logits);
  if (c.final_softcap != 0.f) {
    // One tanh per vocabulary entry (Gemma's 256k) is a few milliseconds a
    // token on one core: split it over the threads (elementwise, so the
    // same bits whatever the split).
    const int64_t total = static_cast<int64_t>(rows) * c.n_vocab, chunk = 16384;
    ParallelRun(static_cast<size_t>((total + chunk - 1) / chunk), [&](size_t i) {
      const int64_t b = static_cast<int64_t>(i) * chunk;
      SoftCap(logits + b, std::min(chunk, total - b), c.final_softcap);
    });
  }
}

void Session::Attention(int l, int n, bool masked) {
  const ModelConfig& c = model_.config();
  const int hd = c.head_dim, q_dim = c.n_head * hd, kv_dim = c.n_head_kv * hd;
  const int hv = c.head_dim_v, v_dim = c.n_head_kv * hv, o_dim = c.n_head * hv;
  const int group = c.n_head / c.n_head_kv;
  const float scale = c.kq_scale != 0.f                         ? c.kq_scale
                      : (c.attn_scale != 0.f || c.q_prescale) ? 1.0f
                                                              : 1.0f / std::sqrt(static_cast<float>(hd));
  // Gemma's local layers, or every layer of a windowed model (phi3).
  const bool swa = c.n_swa > 0 && SlidingLayer(l);
  const bool ring = InRing(l);
  const size_t elem = kv_f32_ ? 4 : 2;
  const size_t row = static_cast<size_t>(kv_dim) * elem, vrow = static_cast<size_t>(v_dim) * elem;
  const DType kv_type = kv_f32_ ? DType::kF32 : DType::kF16;
  const uint8_t* kbase = &k_cache_[layer_off_[l]];
  const uint8_t* vbase = &v_cache_[v_layer_off_[l]];
  // The first cell token t scores: 0, or in a ring the group of 16 holding
  // the first cell the token needs (lanes and softmax groups go by cell %
  // 16, so s[i] is cell first + i with the same grouping).
  auto first_cell = [&](int t) { return ring ? tok_lo_[t] / 16 * 16 : 0; };
  // Runs of cells [first + i0, first + i1) contiguous in the cache: one, or
  // in a ring up to the slot where it wraps, then from slot 0.
  auto for_runs = [&](int first, int i0, int i1, const auto& fn) {
    for (int i = i0; i < i1;) {
      const int cell = first + i;
      const int slot = ring ? cell % ring_ : cell;
      const int len = ring ? std::min(i1 - i, ring_ - slot) : i1 - i;
      fn(i, static_cast<size_t>(slot), len);
      i += len;
    }
  };
  // Token t's scores s[0, count) of cells first.. into probabilities.
  auto softmax = [&](int t, float* s, int first, int count) {
    const int pos = first + count - 1;
    // Gemma 2: tanh soft-capping of the scores, before the mask.
    if (c.attn_softcap != 0.f) SoftCap(s, count, c.attn_softcap);
    // Sliding window, as llama.cpp's SWA mask: positions n_swa or more
    // behind the token's are -inf.
    if (swa) {
      const int32_t p = tok_pos_[t];
      for (int i = first; i < pos; ++i)
        if (p - cell_pos_[i] >= c.n_swa) s[i - first] = -INFINITY;
    }
    // Other sequences' cells, as ggml's KQ mask: -inf, so exp gives 0 and
    // their (finite) V rows add exact zeros to the lanes.
    if (masked) {
      const int32_t seq = tok_seq_[t], shared = tok_shared_[t];
      for (int i = first; i < pos; ++i)
        if (cell_seq_[i] != shared && cell_seq_[i] != seq) s[i - first] = -INFINITY;
    }
    // ggml_soft_max_ext: scale, max, exp 16 at a time (ggml_v_expf), each
    // group's sum reduced in float and accumulated in double, then 1/sum.
    const float mx = ScaleMax(s, count, scale);
    const double sum = SoftmaxExp(s, count, mx);
    const float inv = static_cast<float>(1.0 / sum);
    // P·V as tinyBLAS computes it over the cache rows: 16 lanes by
    // position, fma, canonical reduction. For an F16 cache the
    // probabilities are rounded to F16 first (ggml's vec_dot_type).
    ScaleRound(s, count, inv, !kv_f32_);
  };
  // KQ: like ggml's mul_mat(k, q), with Q in the cache's type.
  auto cache_q = [&](int t, int h) -> const void* {
    const float* q = &q_[static_cast<size_t>(t) * q_dim + h * hd];
    if (kv_f32_) return q;
    uint16_t* q16 = &q16_[h * hd];
    for (int i = 0; i < hd; ++i) q16[i] = Fp32ToFp16(q[i]);
    return q16;
  };
  if (n > 1 && !plain_attention_) {
    // The query heads of a KV head read the same K and V rows: a task takes
    // `nb` heads of one group through every token, each cache row loaded
    // once for all of them (DotRowsMulti, AccumulateRowsMulti), the same
    // bits as head by head. Groups split further only when there are fewer
    // of them than threads; each head's scratch is its own, as below. (One
    // head per group still gains: sixteen dots share one reduction, and
    // P·V's lanes stay in registers.)
    const int splits = std::clamp((threads() + c.n_head_kv - 1) / c.n_head_kv, 1, group);
    const int nb = (group + splits - 1) / splits, per_group = (group + nb - 1) / nb;
    // A KV head's rows are a slice of each wide cache row: with several KV
    // heads, its cells are rows kv_dim apart, which alias in L1 and L2 (at
    // Llama-2-7B's 8 KB stride a head's 512 cells no longer stay in L2). A
    // long batch copies each KV head's cells first + .. last into a row of
    // its own, in cell order (so a ring's wrap goes too): the very bytes the
    // cache holds, read contiguously by every token.
    const bool pack = n >= 32 && c.n_head_kv > 1;
    int c0 = n_ctx_, c1 = 0;
    size_t kpacked = 0, per_head = 0;
    if (pack) {
      for (int t = 0; t < n; ++t) {
        c0 = std::min(c0, first_cell(t));
        c1 = std::max(c1, tok_cell_[t]);
      }
      kpacked = static_cast<size_t>(c1 - c0 + 1) * hd * elem;
      per_head = kpacked + static_cast<size_t>(c1 - c0 + 1) * hv * elem;
      if (kv_pack_.size() < c.n_head_kv * per_head) kv_pack_.resize(c.n_head_kv * per_head);
      ParallelRun(c.n_head_kv, [&](size_t g) {
        uint8_t* kd = &kv_pack_[g * per_head];
        uint8_t* vd = kd + kpacked;
        for (int cell = c0; cell <= c1; ++cell) {
          const size_t slot = static_cast<size_t>(ring ? cell % ring_ : cell), i = cell - c0;
          std::memcpy(kd + i * hd * elem, kbase + slot * row + g * hd * elem, hd * elem);
          std::memcpy(vd + i * hv * elem, vbase + slot * vrow + g * hv * elem, hv * elem);
        }
      });
    }
    // Without grouping (one query head per KV head) consecutive tokens are
    // the queries that share rows instead: kTokens of them at once, when all
    // score from cell 0 (no ring) out of packed rows. Their scores need rows
    // of their own (tok_scores_, tok_q16_; the lanes fit pv_lanes_).
    constexpr int kTokens = 4;
    const bool by_tokens = group == 1 && pack && !ring;
    const size_t span = static_cast<size_t>(c1 - c0 + 1);
    if (by_tokens) {
      if (tok_scores_.size() < c.n_head * kTokens * span) tok_scores_.resize(c.n_head * kTokens * span);
      if (!kv_f32_ && tok_q16_.size() < static_cast<size_t>(c.n_head) * kTokens * hd)
        tok_q16_.resize(static_cast<size_t>(c.n_head) * kTokens * hd);
    }
    ParallelRun(static_cast<size_t>(c.n_head_kv) * per_group, [&](size_t task) {
      const int g = static_cast<int>(task) / per_group;
      const int h0 = g * group + static_cast<int>(task) % per_group * nb;
      const int heads = std::min(nb, (g + 1) * group - h0);
      float* s0 = &scores_[static_cast<size_t>(h0) * n_ctx_];
      float* lanes0 = &pv_lanes_[static_cast<size_t>(h0) * 64 * hv];
      const size_t head_off = static_cast<size_t>(g) * hd * elem, vhead_off = static_cast<size_t>(g) * hv * elem;
      if (by_tokens) {
        const uint8_t* kd = &kv_pack_[g * per_head];
        const uint8_t* vd = kd + kpacked;
        float* st = &tok_scores_[static_cast<size_t>(h0) * kTokens * span];
        for (int t0 = 0; t0 < n; t0 += kTokens) {
          const int m = std::min(kTokens, n - t0);
          int count[kTokens], cmin = n_ctx_, cmax = 0;
          for (int k = 0; k < m; ++k) {
            count[k] = tok_cell_[t0 + k] + 1;
            cmin = std::min(cmin, count[k]);
            cmax = std::max(cmax, count[k]);
          }
          const void* qv = &q_[static_cast<size_t>(t0) * q_dim + h0 * hd];
          size_t qstride = static_cast<size_t>(q_dim) * elem;
          if (!kv_f32_) {
            uint16_t* q16 = &tok_q16_[static_cast<size_t>(h0) * kTokens * hd];
            for (int k = 0; k < m; ++k)
              Fp32ToFp16Row(&q_[static_cast<size_t>(t0 + k) * q_dim + h0 * hd], q16 + k * hd, hd);
            qv = q16;
            qstride = hd * elem;
          }
          // Every token's dots over the longest one's cells (the others'
          // extra scores are never read).
          DotRowsMulti(kv_type, hd, kd, hd * elem, cmax, qv, qstride, m, st, span);
          for (int k = 0; k < m; ++k) softmax(t0 + k, st + k * span, 0, count[k]);
          // The cells all of them see, to a multiple of 16 (each cell keeps
          // its lane), together; each token's remaining cells alone.
          const int joint = cmin / 16 * 16;
          if (joint > 0)
            AccumulateRowsMulti(kv_type, st, span, vd, hv * elem, joint, lanes0, 16 * hv, hv, m, /*fresh=*/true);
          for (int k = 0; k < m; ++k) {
            AccumulateRowsMulti(kv_type, st + k * span + joint, span, vd + static_cast<size_t>(joint) * hv * elem,
                                hv * elem, count[k] - joint, lanes0 + k * 16 * hv, 16 * hv, hv, 1,
                                /*fresh=*/joint == 0);
            ReduceLanes16(lanes0 + k * 16 * hv, hv, &att_[static_cast<size_t>(t0 + k) * o_dim + h0 * hv]);
          }
        }
        return;
      }
      for (int t = 0; t < n; ++t) {
        const int first = first_cell(t), count = tok_cell_[t] - first + 1;
        // The heads' queries are adjacent: one row conversion for all.
        const float* q = &q_[static_cast<size_t>(t) * q_dim + h0 * hd];
        const void* qv = q;
        if (!kv_f32_) {
          Fp32ToFp16Row(q, &q16_[h0 * hd], static_cast<int64_t>(heads) * hd);
          qv = &q16_[h0 * hd];
        }
        const uint8_t* kd = pack ? &kv_pack_[g * per_head] : nullptr;
        const uint8_t* vd = pack ? kd + kpacked : nullptr;
        if (pack) {
          DotRowsMulti(kv_type, hd, kd + static_cast<size_t>(first - c0) * hd * elem, hd * elem, count, qv, hd * elem,
                       heads, s0, n_ctx_);
        } else {
          for_runs(first, 0, count, [&](int i, size_t slot, int len) {
            DotRowsMulti(kv_type, hd, kbase + slot * row + head_off, row, len, qv, hd * elem, heads, s0 + i, n_ctx_);
          });
        }
        for (int k = 0; k < heads; ++k) softmax(t, s0 + static_cast<size_t>(k) * n_ctx_, first, count);
        // A ring's runs start at multiples of 16, so one run from `first`
        // keeps every cell in its lane.
        if (pack) {
          AccumulateRowsMulti(kv_type, s0, n_ctx_, vd + static_cast<size_t>(first - c0) * hv * elem, hv * elem, count,
                              lanes0, 64 * hv, hv, heads, /*fresh=*/true);
        } else {
          for_runs(first, 0, count, [&](int i, size_t slot, int len) {
            AccumulateRowsMulti(kv_type, s0 + i, n_ctx_, vbase + slot * vrow + vhead_off, vrow, len, lanes0, 64 * hv,
                                hv, heads, /*fresh=*/i == 0);
          });
        }
        for (int k = 0; k < heads; ++k)
          ReduceLanes16(lanes0 + k * 64 * hv, hv, &att_[static_cast<size_t>(t) * o_dim + (h0 + k) * hv]);
      }
    });
    return;
  }
  // Head by head, token by token: the reference of the grouped path above.
  ParallelRun(c.n_head, [&](size_t h) {
    const int g = static_cast<int>(h) / group;
    float* s = &scores_[h * n_ctx_];
    float* lanes = &pv_lanes_[h * 64 * hv];
    const size_t head_off = static_cast<size_t>(g) * hd * elem, vhead_off = static_cast<size_t>(g) * hv * elem;
    for (int t = 0; t < n; ++t) {
      const int first = first_cell(t);
      const int count = tok_cell_[t] - first + 1;  // through the last cell it attends to
      float* out = &att_[static_cast<size_t>(t) * o_dim + h * hv];
      const void* qv = cache_q(t, static_cast<int>(h));
      auto runs = [&](int i0, int i1, const auto& fn) { for_runs(first, i0, i1, fn); };
      // A one-token batch: ggml's vec_dot (tinyBLAS declines one column).
      const bool one = n == 1;
      runs(0, count, [&](int i, size_t slot, int len) {
        const uint8_t* k = kbase + slot * row + head_off;
        if (one) {
          DotRowsGgml(kv_type, hd, k, row, len, qv, s + i);
        } else {
          DotRows(kv_type, hd, k, row, len, qv, s + i);
        }
      });
      softmax(t, s, first, count);
      if (one) {
        PvOneToken(kv_type, s, first, count, runs, vbase + vhead_off, vrow, lanes, &pv_tail_[h * hv], hv, out);
        continue;
      }
      std::fill(lanes, lanes + 16 * hv, 0.f);
      runs(0, count, [&](int i, size_t slot, int len) {
        AccumulateRows(kv_type, s + i, vbase + slot * vrow + vhead_off, vrow, len, lanes, hv);
      });
      ReduceLanes16(lanes, hv, out);
    }
  });
}

}  // namespace llmtk
