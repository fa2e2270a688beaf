// model/session: the forward pass of a Model (model/model.h) -- the
// inference state (KV cache, scratch) and the evaluation of token batches
// into logits.
//
// The forward pass follows llama.cpp's CPU graph operation for operation,
// including its roundings: matmul activations are encoded like ggml's
// vec_dot_type (see kernels/kernels.h); with the default F16 KV cache, K and V are
// stored as F16, Q is rounded to F16 for Q·K and the attention
// probabilities are rounded to F16 for P·V, as ggml does for F16 tensors.
//
// Thread-safety: a Session is used by one thread at a time (it runs its own
// worker threads internally); any number of Sessions may share one Model.
#ifndef LLMTK_LIB_MODEL_SESSION_H_
#define LLMTK_LIB_MODEL_SESSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "lib/kernels/kernels.h"
#include "lib/model/model.h"
#include "lib/base/status.h"

namespace llmtk {

struct SessionOptions {
  int n_ctx = 0;          // 0: the model's training context
  bool kv_f32 = false;    // store K/V as F32 instead of F16
  int threads = 0;        // <= 0: all cores
  int max_batch = 512;    // tokens per forward step during prompt processing
  // Keep the whole context on sliding-window layers too (llama.cpp's
  // --swa-full). Without it those layers keep SwaCacheCells() cells, enough
  // for the window and one batch: going back further than that (Truncate to
  // an early prefix and a long continuation, EvalBranches, EvalCells) can
  // need positions no longer held, which Eval reports as FailedPrecondition.
  bool swa_full = false;
  // Attention head by head, the reference of the grouped-query path that
  // prompts take (the same bits; tests compare the two).
  bool plain_attention = false;
};

// Cache cells a sliding-window layer keeps for a context of n_ctx, window
// n_swa and batches of up to max_batch tokens: llama.cpp's SWA cache size,
// the window plus one ubatch padded to 256 cells, or the whole context when
// that is not smaller.
int64_t SwaCacheCells(int64_t n_ctx, int64_t n_swa, int64_t max_batch);

// Which positions of an Eval produce logits.
enum class LogitsMode { kNone, kLast, kAll };

class ComputePool;

class Session {
 public:
  // InvalidArgument for a bad context size.
  static absl::StatusOr<std::unique_ptr<Session>> Create(const Model& model, const SessionOptions& opts);
  ~Session();

  const Model& model() const { return model_; }
  int n_ctx() const { return n_ctx_; }
  // Positions already in the KV cache.
  int n_past() const { return n_past_; }
  // The bytes of the K and V buffers as allocated.
  uint64_t kv_bytes() const { return kv_bytes_; }
  // Cells each sliding-window layer keeps (n_ctx() without a ring).
  int swa_cells() const { return ring_ > 0 ? ring_ : n_ctx_; }
  uint64_t scratch_bytes() const;
  int threads() const;

  // Appends `tokens` at positions n_past()..; fills `logits` (row-major,
  // n_vocab per row: one row for kLast, one per token for kAll).
  // ResourceExhausted when the tokens do not fit the context; InvalidArgument
  // for token ids outside the vocabulary.
  absl::Status Eval(absl::Span<const int32_t> tokens, LogitsMode mode, std::vector<float>* logits);

  // Forgets cached positions >= n (n <= n_past()), e.g. to reuse a prompt
  // prefix or to start over with Truncate(0). The next tokens go to the
  // cache cell after position n - 1's.
  void Truncate(int n);

  // Stores the next Eval's tokens from cache cell `cell` on (positions still
  // continue n_past()); the cells skipped are masked for this sequence. This
  // is llama.cpp's arithmetic when several sequences share one KV cache
  // (llama-perplexity's multiple-choice batches): attention sums run in lanes
  // by cell, so where a token sits changes the last bits of the result.
  // InvalidArgument for a cell before the next free one or past the context.
  absl::Status SetNextCell(int cell);

  // Evaluates several continuations of the cached positions in one pass, as
  // llama.cpp evaluates one batch holding several sequences: branch b's
  // tokens take positions n_past().. and cache cells from cells[b] on
  // (ascending, after the cached ones, not overlapping), and attend to the
  // cached positions and to their own branch only. `logits` gets a row per
  // token, branch after branch. The cache itself still holds n_past()
  // positions afterwards (the branches are forgotten); InvalidArgument for
  // overlapping or misplaced cells or bad ids, ResourceExhausted past the
  // context.
  absl::Status EvalBranches(absl::Span<const std::vector<int32_t>> branches, absl::Span<const int> cells,
                            std::vector<float>* logits);

  // A whole llama.cpp batch of several groups of sequences in one pass (one
  // group per llama-perplexity task): each token at its position and cache
  // cell (strictly ascending through the batch), in a group, and in a branch
  // of it (-1: the part all the group's branches share). A token attends to
  // the earlier cells of its group that are shared or of its own branch;
  // nothing cached before is seen, and the cache is empty afterwards.
  // `logits`: a row per token. InvalidArgument for bad ids, cells or
  // branches (0..126), ResourceExhausted past the context.
  struct CellToken {
    int32_t id, pos, cell, group, branch;
  };
  absl::Status EvalCells(absl::Span<const CellToken> tokens, std::vector<float>* logits);

  // Sees every matrix multiplication's input before it runs, as llama.cpp's
  // eval callback does (llama-imatrix): the weight (one of model()'s
  // matrices, by address) and `rows` float rows of w.cols values. Null: none.
  using MatMulObserver = std::function<void(const WeightMatrix& w, const float* x, int rows)>;
  void SetMatMulObserver(MatMulObserver fn) { observer_ = std::move(fn); }

 private:
  Session(const Model& model, const SessionOptions& opts);
  // One batch of n <= max_batch_ tokens at the positions and cells in
  // tok_pos_/tok_cell_: the steps below, in this order, each over the whole
  // batch. `masked`: attention hides the cells cell_seq_ does not give the
  // token's sequence (tok_seq_).
  void Forward(const int32_t* tokens, int n, LogitsMode mode, float* logits, bool masked);
  // x_ = the tokens' embeddings.
  void EmbedTokens(const int32_t* tokens, int n);
  // cos_out, sin_out = the RoPE angles of each token's position for this
  // base and frequency scale.
  void ComputeRopeAngles(int n, float rope_base, float freq_scale, float* cos_out, float* sin_out);
  // Whether local (sliding-window) layers rotate with angles of their own.
  bool SwaOwnRope() const;
  // x_ += attention over norm(x_), the batch's keys and values cached.
  void AttentionBlock(int layer, int n, bool masked);
  // q_, k_, v_ as projected: biases added, q/k normed and rotated; k and v
  // stored into the cache.
  void PrepareQkv(int layer, int n);
  // att_ = softmax(q·K / sqrt(head_dim)) V per head, over the cache up to
  // each token's cell, cells not in visible_ masked when `gapped`.
  void Attention(int layer, int n, bool masked);
  // x_ += the SwiGLU feed-forward of norm(x_), for rows t0..n-1.
  void FeedForwardBlock(int layer, int t0, int n);
  // logits = output(norm(x_)) for the last token (kLast) or all (kAll).
  void OutputLogits(int n, LogitsMode mode, float* logits);
  // y[t] = W x[t] for `rows` rows, activations encoded for W's type; rows of
  // y are W.rows apart.
  void MatMulRows(const WeightMatrix& w, const float* x, int rows, float* y);
  void ParallelRun(size_t n, const std::function<void(size_t)>& fn);
  // Whether layer l keeps only a ring of ring_ cells.
  bool InRing(int l) const { return ring_ > 0 && model_.config().n_swa > 0 && SlidingLayer(l); }
  bool SlidingLayer(int l) const;
  // Before a batch (tok_* set): records which cells the ring will hold and
  // finds each token's first needed cell (tok_lo_); FailedPrecondition when
  // a needed cell's slot holds another cell.
  absl::Status PlaceInRing(int n, bool masked);
  // Byte offset of cell `cell`'s K (or, with `v`, V) row of layer l in its cache.
  size_t CacheOffset(int l, int cell, bool v) const;

  const Model& model_;
  MatMulObserver observer_;
  int n_ctx_ = 0;
  bool kv_f32_ = false;
  bool plain_attention_ = false;
  int max_batch_ = 512;
  int n_past_ = 0;
  int next_cell_ = 0;                // cache cell of the next token
  std::vector<int32_t> pos_cell_;    // cache cell of each cached position
  // Per cell, whose it is when attention is masked: kShared (the cached
  // positions, seen by all), a branch number, or kHidden.
  static constexpr int32_t kShared = -1, kHidden = -2;
  std::vector<int32_t> cell_seq_;
  // Per batch token: position, cache cell, its own cells' owner in
  // cell_seq_, and the owner of the cells it shares with others.
  std::vector<int32_t> tok_pos_, tok_cell_, tok_seq_, tok_shared_;
  uint64_t kv_bytes_ = 0;
  std::unique_ptr<ComputePool> pool_;
  ParallelFor pfor_;
  // KV cache: [layer][cell][n_head_kv * head_dim], F16 or F32; a ring
  // layer holds ring_ slots, cell c in slot c % ring_ (ring_ is a multiple
  // of 256, so a cell keeps its P·V lane, c % 16).
  std::vector<uint8_t> k_cache_, v_cache_;
  std::vector<size_t> layer_off_, v_layer_off_;  // per layer, byte offset in k_cache_, v_cache_
  int ring_ = 0;                   // 0: every layer keeps the whole context
  std::vector<int32_t> ring_cell_;  // per slot, the cell it holds (-1: none)
  std::vector<int32_t> tok_lo_;     // per batch token, its first needed cell
  // Scratch for one batch of up to max_batch_ tokens.
  std::vector<float> x_, xb_, q_, k_, v_, att_, hb_, hb2_;
  std::vector<uint8_t> enc_;
  std::vector<float> scores_;  // per head: n_ctx_ floats
  std::vector<uint16_t> q16_;  // per head: head_dim halves
  std::vector<float> pv_lanes_;  // per head: 16 (64 for one token) x head_dim partial sums
  // Per KV head, a long batch's K then V rows of the cells it attends, packed
  // (grown on demand: one layer's worth of cache at most).
  std::vector<uint8_t> kv_pack_;
  // Without grouped-query heads, per head a few tokens' scores (rows of a
  // long batch's cells) and F16 queries (grown on demand).
  std::vector<float> tok_scores_;
  std::vector<uint16_t> tok_q16_;
  std::vector<double> pv_tail_;  // per head: head_dim sums (one token's P·V)
  std::vector<float> rope_cos_, rope_sin_;  // per batch token: n_rot / 2
  std::vector<float> rope_cos_swa_, rope_sin_swa_;  // local layers' own, when SwaOwnRope()
  // Fused projections' outputs (phi3, chatglm): q|k|v and gate|up rows.
  std::vector<float> qkv_, up2_;
  // Per cache cell, the position stored there (the sliding window's mask).
  std::vector<int32_t> cell_pos_;
  // Mixtures of experts: their feed-forward block (null for dense models).
  std::unique_ptr<MoeFfn> moe_;
  std::vector<float> moe_out_;
  // deepseek2's latent attention projections (null otherwise).
  std::unique_ptr<MlaProjection> mla_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_SESSION_H_
