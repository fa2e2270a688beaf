#include "lib/eval/choice_metrics.h"

#include <cmath>
#include <limits>

namespace llmtk {

int ArgmaxFirst(absl::Span<const double> v) {
  int best = -1;
  for (size_t i = 0; i < v.size(); ++i) {
    if (best < 0 || v[i] > v[best]) best = static_cast<int>(i);
  }
  return best;
}

ChoicePredictions Predict(absl::Span<const ChoiceScore> choices) {
  std::vector<double> sum, norm;
  for (const ChoiceScore& c : choices) {
    sum.push_back(c.loglik);
    // numpy divides by 0.0 into -inf/nan for an empty choice; such choices
    // are refused before scoring.
    norm.push_back(c.loglik / static_cast<double>(c.chars));
  }
  return {ArgmaxFirst(sum), ArgmaxFirst(norm)};
}

double MeanStat::Mean() const { return n ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN(); }

double MeanStat::Stderr() const {
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double m = Mean();
  const double var = std::max(0.0, (sum_sq - static_cast<double>(n) * m * m) / static_cast<double>(n - 1));
  return std::sqrt(var / static_cast<double>(n));
}

double MeanStderr(absl::Span<const double> v) {
  if (v.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  double mu = 0;
  for (double x : v) mu += x;
  mu /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mu) * (x - mu);
  return std::sqrt(ss / static_cast<double>(v.size() - 1)) / std::sqrt(static_cast<double>(v.size()));
}

}  // namespace llmtk
