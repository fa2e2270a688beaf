// formats/gguf_report: human and JSON descriptions of GGUF files -- the metadata and
// tensor table (`llmtk-quant inspect`) and a per-tensor quality comparison
// of two files (`llmtk-quant compare`): RMSE, max abs error and the share of
// byte-identical blocks, the numbers to check before shipping a quant.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_FORMATS_GGUF_REPORT_H_
#define LLMTK_LIB_FORMATS_GGUF_REPORT_H_

#include <string>
#include <vector>

#include "lib/formats/gguf.h"
#include "lib/base/status.h"

namespace llmtk {

// Text: one "key = value (type)" line per KV (arrays show their first 8
// elements), then a tensor table. JSON: one object with every value in full.
std::string DescribeGguf(const GgufFile& file, bool json);

struct TensorComparison {
  std::string name;
  std::string type_a, type_b;
  std::string shape;  // "256x512"
  bool comparable = false;  // same shape and both decodable
  std::string note;         // why not comparable / missing side
  double rmse = 0, max_abs_error = 0;
  double ref_rms = 0;               // RMS of A's values, for scale
  double identical_blocks = 0;      // fraction of blocks with equal bytes (same type) or values
};

struct GgufComparison {
  std::vector<TensorComparison> tensors;  // A's order, then tensors only in B
  double total_rmse = 0;                  // over every compared element
  double max_abs_error = 0;
  int64_t elements = 0;
};

// Compares tensor values of `b` against `a` (the reference).
absl::StatusOr<GgufComparison> CompareGguf(const GgufFile& a, const GgufFile& b);
std::string FormatComparison(const GgufComparison& c, bool json);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_GGUF_REPORT_H_
