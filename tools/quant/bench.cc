#include "tools/quant/bench.h"

#include <chrono>
#include <random>
#include <vector>

#include "absl/strings/str_format.h"
#include "lib/ggml/quant.h"

namespace llmtk {

std::string BenchmarkQuantKernels(int64_t n_values, int reps) {
  n_values -= n_values % 256;
  std::vector<float> x(static_cast<size_t>(n_values));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (auto& v : x) v = normal(rng);
  std::vector<uint8_t> out(static_cast<size_t>(n_values) * 4);
  std::string table = absl::StrFormat("%-7s %14s %14s %8s\n", "type", "scalar MB/s", "dispatched MB/s", "speedup");
  for (GgmlType t : {GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1,
                     GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K,
                     GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kIQ4_NL}) {
    double best[2] = {1e30, 1e30};
    for (int r = 0; r < reps; ++r) {
      for (int fast = 0; fast < 2; ++fast) {
        const auto t0 = std::chrono::steady_clock::now();
        if (fast) {
          QuantizeRow(t, x.data(), out.data(), n_values);
        } else {
          QuantizeRowReference(t, x.data(), out.data(), n_values);
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best[fast] = std::min(best[fast], s);
      }
    }
    const double mb = static_cast<double>(n_values) * 4 / 1e6;
    table += absl::StrFormat("%-7s %14.1f %14.1f %7.1fx\n", ToAbsl(GgmlTypeName(t)), mb / best[0], mb / best[1],
                             best[0] / best[1]);
  }
  return table;
}

}  // namespace llmtk
