// eval/choice_metrics: accuracy of multiple-choice answers from per-choice
// log-likelihoods, and the means' standard errors.
//
// Three ways to pick an answer, each with its own name so that no figure is
// mistaken for another:
// - `acc`: argmax of the summed log-likelihood of each choice's tokens
//   (lm-evaluation-harness's acc).
// - `acc_norm`: argmax of log-likelihood / the choice's length in
//   characters (lm-evaluation-harness's acc_norm: Python's len(), i.e.
//   Unicode code points, of the choice text without the space in front).
// - `acc_per_token`: argmax of the mean log-likelihood per token, what
//   llama.cpp's `llama-perplexity` formats use (it calls its HellaSwag figure
//   acc_norm; llmtk-eval reports it under the name llama.cpp uses there, and
//   under acc_per_token everywhere).
// Ties go to the first choice, as numpy's argmax.
//
// Standard errors are lm-evaluation-harness's mean_stderr: the sample
// standard deviation (n - 1) over sqrt(n), which for 0/1 scores is
// sqrt(p (1 - p) / (n - 1)); NaN for fewer than two items.
//
// Thread-safety: plain values.
#ifndef LLMTK_LIB_EVAL_CHOICE_METRICS_H_
#define LLMTK_LIB_EVAL_CHOICE_METRICS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace llmtk {

// Index of the first maximum (-1 for an empty span).
int ArgmaxFirst(absl::Span<const double> v);

struct ChoiceScore {
  double loglik = 0;      // sum over the choice's scored tokens
  int tokens = 0;         // tokens scored
  int64_t chars = 0;      // code points of the choice text
  double per_token = 0;   // the per-token figure the format compares
};

// Predictions under each rule for one item.
struct ChoicePredictions {
  int acc = -1, acc_norm = -1;
};
ChoicePredictions Predict(absl::Span<const ChoiceScore> choices);

// Running mean of 0/1 (or real) scores with lm-evaluation-harness's stderr.
struct MeanStat {
  uint64_t n = 0;
  double sum = 0, sum_sq = 0;
  void Add(double x) {
    ++n;
    sum += x;
    sum_sq += x * x;
  }
  double Mean() const;
  double Stderr() const;
};

// lm-evaluation-harness's mean_stderr of a list, computed as it does (two
// passes: mean, then squared deviations); NaN for fewer than two values.
double MeanStderr(absl::Span<const double> v);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_CHOICE_METRICS_H_
