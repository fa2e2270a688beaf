// tools/quant/bench: in-memory throughput of the block quantizers -- the scalar
// reference against the kernel QuantizeRow dispatches to, per type, on the
// same seeded data (for scripts/bench/quant; no file I/O involved).
//
// Thread-safety: single-threaded; call from one thread.
#ifndef LLMTK_TOOLS_QUANT_BENCH_H_
#define LLMTK_TOOLS_QUANT_BENCH_H_

#include <cstdint>
#include <string>

namespace llmtk {

// A text table: type, scalar MB/s, dispatched MB/s, speed-up (best of
// `reps`), over `n_values` normally distributed floats (seed 1).
std::string BenchmarkQuantKernels(int64_t n_values, int reps);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_QUANT_BENCH_H_
