#include "lib/eval/perplexity.h"

#include <algorithm>
#include <cmath>

namespace llmtk {

double LogSumExp(const float* logits, int n_vocab) {
  float max_logit = logits[0];
  for (int i = 1; i < n_vocab; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum_exp = 0.0;
  for (int i = 0; i < n_vocab; ++i) sum_exp += expf(logits[i] - max_logit);
  return max_logit + log(sum_exp);
}

double LogSoftmaxAt(const float* logits, int n_vocab, int32_t target) {
  float max_logit = logits[0];
  for (int i = 1; i < n_vocab; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum_exp = 0.0;
  for (int i = 0; i < n_vocab; ++i) sum_exp += expf(logits[i] - max_logit);
  return logits[target] - max_logit - log(sum_exp);
}

double NllStats::Ppl() const { return std::exp(Mean()); }

double NllStats::PplStderr() const {
  if (count < 2) return 0;
  double mean = sum / count;
  double var = sum_sq / count - mean * mean;
  if (var <= 0) return 0;
  return std::sqrt(var / (count - 1)) * Ppl();
}

absl::StatusOr<NllStats> CorpusPerplexity(const EvalFn& eval, absl::Span<const int32_t> tokens,
                                          const CorpusOptions& opts, const ScoredFn& on_scored,
                                          const ChunkFn& on_chunk) {
  const int n_ctx = opts.n_ctx;
  if (n_ctx < 4) return absl::InvalidArgumentError(absl::StrCat("--ctx must be at least 4, got ", n_ctx));
  if (tokens.size() < 2 * static_cast<size_t>(n_ctx)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the text has ", tokens.size(), " tokens; perplexity with a context of ", n_ctx, " needs at least ",
        2 * n_ctx, " (use a longer text or a smaller --ctx)"));
  }
  int n_chunks = static_cast<int>(tokens.size() / n_ctx);
  if (opts.max_chunks > 0) n_chunks = std::min(n_chunks, opts.max_chunks);
  // Only the second half of each chunk is scored: those tokens all see at
  // least n_ctx/2 tokens of context, which is what makes chunks comparable.
  const int first = n_ctx / 2;
  NllStats stats;
  std::vector<int32_t> chunk(n_ctx);
  std::vector<float> logits;
  for (int c = 0; c < n_chunks; ++c) {
    const size_t start = static_cast<size_t>(c) * n_ctx;
    std::copy(tokens.begin() + start, tokens.begin() + start + n_ctx, chunk.begin());
    if (opts.bos >= 0) chunk[0] = opts.bos;
    RETURN_IF_ERROR(eval(chunk, &logits));
    for (int j = first; j < n_ctx - 1; ++j) {
      const float* row = logits.data() + static_cast<size_t>(j) * opts.n_vocab;
      int32_t target = tokens[start + j + 1];
      stats.Add(-LogSoftmaxAt(row, opts.n_vocab, target));
      if (on_scored) RETURN_IF_ERROR(on_scored(static_cast<int64_t>(start + j + 1), row, target));
    }
    if (on_chunk) on_chunk(c + 1, n_chunks, stats);
  }
  return stats;
}

absl::StatusOr<NllStats> SlidingWindowPerplexity(const EvalFn& eval, absl::Span<const int32_t> tokens,
                                                 int n_ctx, int stride, int n_vocab, const ScoredFn& on_scored,
                                                 const ChunkFn& on_chunk) {
  if (n_ctx < 2) return absl::InvalidArgumentError(absl::StrCat("--ctx must be at least 2, got ", n_ctx));
  if (stride <= 0 || stride > n_ctx) {
    return absl::InvalidArgumentError(
        absl::StrCat("--stride must be between 1 and the context (", n_ctx, "), got ", stride));
  }
  if (tokens.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat("the text has ", tokens.size(),
                                                      " tokens; scoring needs at least 2"));
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int n_windows = n <= n_ctx ? 1 : static_cast<int>((n - n_ctx + stride - 1) / stride) + 1;
  NllStats stats;
  std::vector<float> logits;
  int64_t prev_end = 0;
  int w = 0;
  for (int64_t begin = 0;; begin += stride) {
    int64_t end = std::min<int64_t>(begin + n_ctx, n);
    RETURN_IF_ERROR(eval(tokens.subspan(begin, end - begin), &logits));
    // Targets prev_end..end-1 that this window can predict: not its own first
    // token (HF's shifted labels drop it too, which matters when stride ==
    // n_ctx), and never token 0.
    for (int64_t t = std::max<int64_t>(prev_end, begin + 1); t < end; ++t) {
      const float* row = logits.data() + static_cast<size_t>(t - 1 - begin) * n_vocab;
      stats.Add(-LogSoftmaxAt(row, n_vocab, tokens[t]));
      if (on_scored) RETURN_IF_ERROR(on_scored(t, row, tokens[t]));
    }
    prev_end = end;
    if (on_chunk) on_chunk(++w, n_windows, stats);
    if (end == n) break;
  }
  return stats;
}

}  // namespace llmtk
