// vram/internal: helpers shared by the memory_estimate*.cc files
// (line names, number formatting, weight totals). Not a public API.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef LLMTK_LIB_VRAM_INTERNAL_H_
#define LLMTK_LIB_VRAM_INTERNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"

namespace llmtk::internal {

inline constexpr const char* kWeights = "weights";
inline constexpr const char* kGradients = "gradients";
inline constexpr const char* kOptimizer = "optimizer states";
inline constexpr const char* kActivations = "activations";
inline constexpr const char* kKvCache = "KV cache";
inline constexpr const char* kOverhead = "buffers/overhead";

std::string Gib(int64_t bytes);  // "12.34 GiB"
std::string Num(int64_t v);      // "6,738,415,616"
std::vector<MemoryLine> EmptyLines();
MemoryLine& Line(MemoryEstimate& e, const char* name);
absl::Status CheckPositive(const char* what, int64_t v);
// Bounds that keep every byte count far from int64 overflow: ResourceExhausted
// (a hit bound) when batch x tokens exceeds 2^40 or a degree exceeds 2^20.
absl::Status CheckTokens(const char* batch_flag, int64_t batch, const char* tokens_flag,
                         int64_t tokens);
absl::Status CheckDegree(const char* what, int64_t v);
// An upper bound, in long double, of every byte count the estimators form
// for `tokens` tokens in sequences of `seq`: ResourceExhausted when it could
// leave int64, so the integer arithmetic that follows cannot overflow.
absl::Status CheckMagnitude(const ModelShape& m, int64_t tokens, int64_t seq);

struct WeightTotals {
  int64_t total = 0;
  int64_t replicated = 0;  // norms and biases: TP keeps a copy on every rank
};
WeightTotals WeightBytes(const ModelShape& m, const WeightFormat& f);
// The CUDA caching allocator's segment slack over the weights in format `f`,
// each tensor allocated on its own and split over `mp` ranks, loaded in order
// with nothing freed (train_reserved.cc, docs/vram.md).
int64_t WeightSegmentSlack(const ModelShape& m, const WeightFormat& f, int64_t mp);

}  // namespace llmtk::internal

#endif  // LLMTK_LIB_VRAM_INTERNAL_H_
