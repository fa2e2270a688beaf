// tools/quant/quant_tool: what llmtk-quant does — quantize (or convert) a
// model to GGUF, describe or compare GGUF files, write a seeded random model,
// or time the block quantizers — with its options as the flags set them
// (tools/quant/main.cc).
#ifndef LLMTK_TOOLS_QUANT_QUANT_TOOL_H_
#define LLMTK_TOOLS_QUANT_QUANT_TOOL_H_

#include <cstdint>
#include <string>

#include "lib/base/status.h"
#include "lib/convert/quantize_model.h"
#include "lib/convert/random_model.h"
#include "tools/quant/imatrix.h"

namespace llmtk {

enum class QuantMode { kQuantize, kInspect, kCompare, kRandomModel, kBenchKernels, kImatrix };

struct QuantToolOptions {
  QuantMode mode = QuantMode::kQuantize;
  QuantizeFileOptions quantize;  // kQuantize (progress is set by the tool)
  std::string file_a, file_b;    // kInspect: file_a; kCompare: A and B
  RandomModelOptions random;     // kRandomModel
  std::string random_output, random_type = "F32";
  int64_t bench_values = 1 << 22;  // kBenchKernels
  ImatrixToolOptions imatrix;      // kImatrix (threads, quiet, progress set by the tool)
  int threads = 1;
  bool show_progress = false;
  bool quiet = false;
  bool json = false;
};

absl::Status RunQuantTool(QuantToolOptions o);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_QUANT_QUANT_TOOL_H_
