#include "lib/model/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace llmtk {

absl::Status ValidateSamplingParams(const SamplingParams& p) {
  if (!std::isfinite(p.temperature)) return absl::InvalidArgumentError("--temp must be a finite number");
  if (!(p.top_p > 0.0f) || p.top_p > 1.0f) return absl::InvalidArgumentError("--top-p must be in (0, 1]");
  if (p.min_p < 0.0f || p.min_p > 1.0f) return absl::InvalidArgumentError("--min-p must be in [0, 1]");
  if (!(p.repeat_penalty > 0.0f)) return absl::InvalidArgumentError("--repeat-penalty must be positive");
  if (p.repeat_last_n < 0) return absl::InvalidArgumentError("--repeat-last-n must be >= 0");
  if (!std::isfinite(p.frequency_penalty) || !std::isfinite(p.presence_penalty))
    return absl::InvalidArgumentError("penalties must be finite numbers");
  return absl::OkStatus();
}

uint64_t SplitMix64::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double SplitMix64::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

Sampler::Sampler(const SamplingParams& params) : p_(params), rng_(params.seed) {}

int32_t Sampler::Sample(absl::Span<const float> logits, absl::Span<const int32_t> history) {
  const int n = static_cast<int>(logits.size());
  work_.assign(logits.begin(), logits.end());
  // Penalties over the recent window (llama.cpp's semantics).
  const bool penalize = p_.repeat_last_n > 0 &&
                        (p_.repeat_penalty != 1.0f || p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f);
  if (penalize) {
    absl::flat_hash_map<int32_t, int> counts;
    const size_t start = history.size() > static_cast<size_t>(p_.repeat_last_n) ? history.size() - p_.repeat_last_n : 0;
    for (size_t i = start; i < history.size(); ++i) ++counts[history[i]];
    // Fixed order (by id) so float results never depend on hash order.
    std::vector<std::pair<int32_t, int>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [id, count] : sorted) {
      if (id < 0 || id >= n) continue;
      float& l = work_[id];
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= static_cast<float>(count) * p_.frequency_penalty + p_.presence_penalty;
    }
  }
  if (p_.temperature <= 0.0f) {
    return static_cast<int32_t>(std::max_element(work_.begin(), work_.end()) - work_.begin());
  }
  // Candidates sorted by logit (ties: lower id first).
  ids_.resize(n);
  std::iota(ids_.begin(), ids_.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  int keep = n;
  if (p_.top_k > 0 && p_.top_k < n) {
    keep = p_.top_k;
    std::partial_sort(ids_.begin(), ids_.begin() + keep, ids_.end(), by_logit);
  } else {
    std::sort(ids_.begin(), ids_.end(), by_logit);
  }
  // Softmax of the kept candidates (before temperature, as llama.cpp).
  std::vector<double> prob(keep);
  const double mx = work_[ids_[0]];
  double sum = 0;
  for (int i = 0; i < keep; ++i) sum += prob[i] = std::exp(static_cast<double>(work_[ids_[i]]) - mx);
  for (double& v : prob) v /= sum;
  if (p_.top_p < 1.0f) {
    double cum = 0;
    int k = 0;
    while (k < keep) {
      cum += prob[k++];
      if (cum >= p_.top_p) break;
    }
    keep = std::max(1, k);
  }
  if (p_.min_p > 0.0f) {
    const double floor = prob[0] * p_.min_p;
    int k = 1;
    while (k < keep && prob[k] >= floor) ++k;
    keep = k;
  }
  // Temperature, then draw.
  std::vector<double> w(keep);
  double total = 0;
  for (int i = 0; i < keep; ++i)
    total += w[i] = std::exp((static_cast<double>(work_[ids_[i]]) - mx) / p_.temperature);
  const double r = rng_.NextDouble() * total;
  double acc = 0;
  for (int i = 0; i < keep; ++i) {
    acc += w[i];
    if (r < acc) return ids_[i];
  }
  return ids_[keep - 1];
}

std::vector<float> LogSoftmax(absl::Span<const float> logits) {
  float mx = -INFINITY;
  for (float v : logits) mx = std::max(mx, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(sum);
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<float>(logits[i] - lse);
  return out;
}

}  // namespace llmtk
