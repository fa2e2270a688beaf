// vram/fit: a table of common GPUs, "does it fit and by how
// much", and solvers for the largest batch, the longest context or the
// fewest GPUs that fit.
//
// Capacities are the nominal memory of each card in GiB (vendors' "80GB" HBM
// is 80 GiB); the driver reports slightly less (an H100 80GB shows 81559
// MiB), so give --gpu-mem for an exact budget.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef LLMTK_LIB_VRAM_FIT_H_
#define LLMTK_LIB_VRAM_FIT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/vram/estimate.h"

namespace llmtk {

struct GpuSpec {
  std::string name;
  int64_t bytes;
};
const std::vector<GpuSpec>& GpuTable();
// Case-insensitive lookup ("h100-80gb", "RTX4090"). InvalidArgument listing
// the known names when absent.
absl::StatusOr<GpuSpec> FindGpu(std::string_view name);
// "24GiB", "24 GiB", "80GB" (decimal), "81559MiB", "1.5TiB", "512B"
// (base/size.h with kByteUnits); a unit is required ("24" is
// InvalidArgument) except for 0.
absl::StatusOr<int64_t> ParseByteSize(std::string_view s);

enum class SolveFor { kNone, kMaxBatch, kMaxSeq, kMinGpus };
absl::StatusOr<SolveFor> ParseSolve(std::string_view s);

struct Scenario {
  bool training = false;
  InferenceOptions inference;
  TrainingOptions train;
  int64_t gpu_bytes = 0;
};

// A parameter count without a model shape (llmtk-vram --params): the ZeRO
// paper's model states for full mixed-precision AdamW training (K = 12), no
// activations. InvalidArgument for any other scenario.
absl::StatusOr<MemoryEstimate> EstimateModelStatesOnly(int64_t params, const Scenario& s);

// Runs the estimate the scenario describes.
absl::StatusOr<MemoryEstimate> EstimateScenario(const ModelShape& m, const Scenario& s);

// Does the estimate fit in `gpu_bytes`? For vLLM, "fits" means at least one
// request of the full context fits in the KV pool.
bool Fits(const MemoryEstimate& e, const Scenario& s);

struct Solution {
  SolveFor what = SolveFor::kNone;
  int64_t value = 0;        // batch, tokens or GPUs
  Scenario scenario;        // with the value applied
  MemoryEstimate estimate;  // at that value
};
// Largest micro-batch / batch, longest sequence / context, or fewest GPUs
// (training: data-parallel ranks x tp x pp with ZeRO; inference: tensor
// parallel degree dividing the heads) that fit. ResourceExhausted when even
// the smallest setting does not fit, or no GPU count up to 4096 does.
absl::StatusOr<Solution> Solve(const ModelShape& m, const Scenario& s, SolveFor what);

}  // namespace llmtk

#endif  // LLMTK_LIB_VRAM_FIT_H_
