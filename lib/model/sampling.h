// model/sampling: turning a row of logits into the next token.
//
// Greedy (temperature <= 0) takes the highest logit (lowest id on ties).
// Otherwise, in llama.cpp's default order: repetition / frequency / presence
// penalties over the recent history, top-k, top-p, min-p, temperature, then a
// draw from the resulting distribution with a seeded SplitMix64 generator.
// All arithmetic is IEEE float/double in a fixed order, so the same seed and
// inputs give the same token on any machine and thread count.
//
// Thread-safety: a Sampler holds its RNG state; one thread at a time.
#ifndef LLMTK_LIB_MODEL_SAMPLING_H_
#define LLMTK_LIB_MODEL_SAMPLING_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "lib/base/status.h"

namespace llmtk {

struct SamplingParams {
  float temperature = 0.8f;  // <= 0: greedy
  int top_k = 40;            // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off; > 1 discourages repeats
  int repeat_last_n = 64;       // history window for all penalties (0: off)
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0;
};

// InvalidArgument for out-of-range parameters.
absl::Status ValidateSamplingParams(const SamplingParams& p);

// SplitMix64: tiny, fast, and identical everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, 1) with 53 random bits.
  double NextDouble();

 private:
  uint64_t state_;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // The next token for `logits` (one per vocabulary entry) after `history`
  // (prompt and generated tokens so far, for the penalties).
  int32_t Sample(absl::Span<const float> logits, absl::Span<const int32_t> history);

 private:
  SamplingParams p_;
  SplitMix64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> ids_;
};

// log-softmax of `logits` (double sum), for log-probabilities.
std::vector<float> LogSoftmax(absl::Span<const float> logits);

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_SAMPLING_H_
