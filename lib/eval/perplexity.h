// eval/perplexity: scoring token sequences with a language model.
//
// Three definitions, each documented where it is computed:
// - Corpus perplexity exactly as llama.cpp's `llama-perplexity`: the whole
//   text tokenized once; non-overlapping chunks of n_ctx tokens whose first
//   token is replaced by BOS; only the second half of each chunk is scored.
//   Its numbers are comparable with published llama.cpp figures.
// - Sliding-window perplexity as in Hugging Face's perplexity guide: windows
//   of n_ctx tokens advancing by `stride`; every token after the first is
//   scored exactly once, with as much left context as the window allows. A
//   different number from the above (more context per scored token).
// - KL divergence of a model's next-token distributions from a reference
//   saved earlier (see LogitsFile), like llama.cpp's --kl-divergence.
//
// The model is reached through an EvalFn, so this module does not depend on
// how logits are produced (the runner's Session in the tool, a table in
// tests).
//
// Thread-safety: functions are reentrant; an EvalFn is called serially.
#ifndef LLMTK_LIB_EVAL_PERPLEXITY_H_
#define LLMTK_LIB_EVAL_PERPLEXITY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "lib/base/status.h"

namespace llmtk {

// Evaluates `tokens` as a fresh sequence (position 0 onward) and fills
// `logits` with n_vocab floats for every position.
using EvalFn = std::function<absl::Status(absl::Span<const int32_t> tokens, std::vector<float>* logits)>;

// log p(target) under softmax(logits), computed as llama.cpp does: the max in
// float, the sum of expf(l - max) in double.
double LogSoftmaxAt(const float* logits, int n_vocab, int32_t target);
// log(sum(exp(logits))) in the same arithmetic.
double LogSumExp(const float* logits, int n_vocab);

// Running negative log-likelihood statistics, with llama.cpp's estimate of
// the perplexity's standard error.
struct NllStats {
  uint64_t count = 0;
  double sum = 0, sum_sq = 0;

  void Add(double nll) {
    ++count;
    sum += nll;
    sum_sq += nll * nll;
  }
  double Mean() const { return count ? sum / count : 0; }
  double Ppl() const;
  // stderr(ppl) = ppl * sqrt(var(nll) / (count - 1)), var with 1/count.
  double PplStderr() const;
};

// Called for every scored position: `index` of the target in the token
// sequence, the logits that predict it, and the target id.
using ScoredFn = std::function<absl::Status(int64_t index, const float* logits, int32_t target)>;
// Called after each chunk or window: 1-based number, total, stats so far.
using ChunkFn = std::function<void(int chunk, int n_chunks, const NllStats& so_far)>;

struct CorpusOptions {
  int n_ctx = 512;
  int n_vocab = 0;
  int32_t bos = -1;    // replaces each chunk's first token; -1: no BOS
  int max_chunks = 0;  // 0: all
};

// llama.cpp's definition. A text shorter than 2 * n_ctx tokens is
// FailedPrecondition (a data error, exit 1) with llama.cpp's advice.
absl::StatusOr<NllStats> CorpusPerplexity(const EvalFn& eval, absl::Span<const int32_t> tokens,
                                          const CorpusOptions& opts, const ScoredFn& on_scored = nullptr,
                                          const ChunkFn& on_chunk = nullptr);

// Hugging Face's sliding-window definition: window [b, min(b + n_ctx, n)),
// b = 0, stride, 2*stride, ...; each window scores the tokens not scored by
// the previous one. Needs 0 < stride <= n_ctx and at least 2 tokens.
absl::StatusOr<NllStats> SlidingWindowPerplexity(const EvalFn& eval, absl::Span<const int32_t> tokens,
                                                 int n_ctx, int stride, int n_vocab,
                                                 const ScoredFn& on_scored = nullptr,
                                                 const ChunkFn& on_chunk = nullptr);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_PERPLEXITY_H_
