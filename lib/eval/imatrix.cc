#include "lib/eval/imatrix.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"

namespace llmtk {
namespace {

// llama-imatrix skips products with fewer rows (its comment asks why too):
// the single-token steps of generation would otherwise dominate.
constexpr int kMinRows = 16;

// The GGUF name of each of the model's matrices, by address, for those the
// statistics are kept for.
std::unordered_map<const WeightMatrix*, std::string> MatrixNames(const Model& model, bool process_output) {
  std::unordered_map<const WeightMatrix*, std::string> names;
  const auto& layers = model.layers();
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights& L = layers[l];
    const std::string p = absl::StrCat("blk.", l, ".");
    names[&L.wq] = p + "attn_q.weight";
    names[&L.wk] = p + "attn_k.weight";
    names[&L.wv] = p + "attn_v.weight";
    names[&L.wo] = p + "attn_output.weight";
    names[&L.w_gate] = p + "ffn_gate.weight";
    names[&L.w_up] = p + "ffn_up.weight";
    names[&L.w_down] = p + "ffn_down.weight";
  }
  // A tied output multiplies by token_embd.weight, which llama-imatrix never
  // collects.
  if (process_output && !model.config().tied_output) names[&model.output()] = "output.weight";
  return names;
}

}  // namespace

absl::Status CollectImatrix(Session& session, absl::Span<const int32_t> all_tokens, const ImatrixOptions& opts,
                            Imatrix* m, const ImatrixChunkFn& on_chunk) {
  const int n_ctx = opts.n_ctx;
  const int n_batch = std::min(opts.n_batch, n_ctx);
  if (n_ctx < 1 || n_batch < 1) return absl::InvalidArgumentError("--ctx and --batch must be positive");
  std::vector<int32_t> tokens(all_tokens.begin(), all_tokens.end());
  if (opts.from_chunk > 0) {
    if (static_cast<size_t>(opts.from_chunk + 2) * n_ctx >= tokens.size()) {
      return absl::FailedPreconditionError(absl::StrCat("there will be not enough tokens left after removing ",
                                                        opts.from_chunk, " chunks of ", n_ctx, " (the text has ",
                                                        tokens.size(), " tokens)"));
    }
    tokens.erase(tokens.begin(), tokens.begin() + static_cast<size_t>(opts.from_chunk) * n_ctx);
  }
  if (tokens.size() < static_cast<size_t>(2) * n_ctx) {
    return absl::FailedPreconditionError(absl::StrCat("you need at least ", 2 * n_ctx,
                                                      " tokens for a context of ", n_ctx,
                                                      " tokens; the text tokenizes to only ", tokens.size(),
                                                      " tokens (use a longer text or a smaller --ctx)"));
  }
  const int n_chunk_max = static_cast<int>(tokens.size() / n_ctx);
  const int n_chunk = opts.max_chunks < 0 ? n_chunk_max : std::min(opts.max_chunks, n_chunk_max);

  const auto names = MatrixNames(session.model(), opts.process_output);
  absl::Status error;
  session.SetMatMulObserver([&](const WeightMatrix& w, const float* x, int rows) {
    if (rows < kMinRows || !error.ok()) return;
    auto it = names.find(&w);
    if (it == names.end()) return;
    ImatrixStats& e = m->stats[it->second];
    const size_t cols = static_cast<size_t>(w.cols);
    if (e.values.empty()) {
      e.values.assign(cols, 0.f);
      e.counts.assign(cols, 0);
    } else if (e.values.size() != cols) {
      error = absl::InvalidArgumentError(absl::StrCat("inconsistent size for ", it->second, " (", e.values.size(),
                                                      " loaded vs ", cols, " in the model)"));
      return;
    }
    ++e.ncall;
    for (int r = 0; r < rows; ++r) {
      const float* xr = x + static_cast<size_t>(r) * cols;
      for (size_t j = 0; j < cols; ++j) {
        e.values[j] += xr[j] * xr[j];
        e.counts[j]++;
        if (!std::isfinite(e.values[j])) {
          error = absl::DataLossError(absl::StrCat(e.values[j], " detected in ", it->second,
                                                   ": the model's activations overflow"));
          return;
        }
      }
    }
    m->last_call = std::max(m->last_call, e.ncall);
  });
  struct Detach {
    Session& s;
    ~Detach() { s.SetMatMulObserver(nullptr); }
  } detach{session};

  const LogitsMode mode = opts.process_output ? LogitsMode::kAll : LogitsMode::kNone;
  std::vector<float> logits;
  std::vector<int32_t> batch;
  const int num_batches = (n_ctx + n_batch - 1) / n_batch;
  for (int i = 0; i < n_chunk; ++i) {
    const size_t start = static_cast<size_t>(i) * n_ctx;
    session.Truncate(0);
    for (int j = 0; j < num_batches; ++j) {
      const size_t batch_start = start + static_cast<size_t>(j) * n_batch;
      const int size = std::min(n_ctx - j * n_batch, n_batch);
      batch.assign(tokens.begin() + batch_start, tokens.begin() + batch_start + size);
      if (opts.bos >= 0 && j == 0) batch[0] = opts.bos;
      RETURN_IF_ERROR(session.Eval(batch, mode, &logits));
      RETURN_IF_ERROR(error);
    }
    if (on_chunk) on_chunk(i + 1, n_chunk);
  }
  return absl::OkStatus();
}

}  // namespace llmtk
