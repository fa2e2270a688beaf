// tools/quant/imatrix: `llmtk-quant imatrix` -- compute an importance matrix
// over a calibration text as llama-imatrix does, merge saved ones
// (--in-file, --combine), and write the legacy .dat or the GGUF form.
#ifndef LLMTK_TOOLS_QUANT_IMATRIX_H_
#define LLMTK_TOOLS_QUANT_IMATRIX_H_

#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/eval/imatrix.h"

namespace llmtk {

enum class ImatrixFormat { kDat, kGguf };

struct ImatrixToolOptions {
  std::string model_path;
  std::string text_path;                // -f
  std::vector<std::string> jsonl_paths;  // --jsonl: documents joined by a blank line
  DocumentReaderOptions reader;
  std::vector<std::string> in_files;   // --in-file: loaded first, as llama-imatrix
  std::vector<std::string> combine;    // --combine: merge these, no model run
  std::string output = "imatrix.dat";
  ImatrixFormat format = ImatrixFormat::kDat;
  ImatrixOptions collect;
  int threads = 1;
  bool quiet = false;
  bool progress = false;
};

absl::Status RunImatrixTool(const ImatrixToolOptions& o);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_QUANT_IMATRIX_H_
