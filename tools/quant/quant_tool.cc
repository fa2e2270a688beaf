#include "tools/quant/quant_tool.h"

#include <cstdio>
#include <string>

#include "lib/base/progress.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_report.h"
#include "tools/common/cli.h"
#include "tools/quant/bench.h"

namespace llmtk {
namespace {

absl::Status Quantize(QuantToolOptions& o) {
  QuantizeFileOptions& qo = o.quantize;
  if (qo.input.empty()) return absl::InvalidArgumentError("missing INPUT (see --help)");
  if (qo.type.empty()) return absl::InvalidArgumentError("missing --type (e.g. --type Q4_K_M)");
  if (qo.output.empty() && !qo.dry_run) return absl::InvalidArgumentError("missing OUTPUT.gguf");
  qo.threads = o.threads;
  if (o.show_progress && !qo.dry_run) {
    qo.progress = [](size_t i, size_t n, const QuantPlanEntry& e) {
      std::fprintf(stderr, "[%zu/%zu] %-32s %s -> %s\n", i + 1, n, e.name.c_str(),
                   std::string(GgmlTypeName(e.from)).c_str(), std::string(GgmlTypeName(e.to)).c_str());
    };
  }
  ASSIGN_OR_RETURN(QuantizeReport report, QuantizeFile(qo));
  if (qo.dry_run || o.json) return WriteStdout(FormatQuantizeReport(report, o.json));
  if (!o.quiet) {
    std::fprintf(stderr, "llmtk-quant: wrote %s (%s, %s)\n", qo.output.c_str(),
                 std::string(LlamaFileTypeName(report.ftype)).c_str(),
                 HumanBytes(static_cast<double>(report.output_bytes)).c_str());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunQuantTool(QuantToolOptions o) {
  switch (o.mode) {
    case QuantMode::kInspect: {
      ASSIGN_OR_RETURN(auto f, GgufFile::Open(o.file_a));
      return WriteStdout(DescribeGguf(*f, o.json));
    }
    case QuantMode::kCompare: {
      ASSIGN_OR_RETURN(auto a, GgufFile::Open(o.file_a));
      ASSIGN_OR_RETURN(auto b, GgufFile::Open(o.file_b));
      ASSIGN_OR_RETURN(GgufComparison c, CompareGguf(*a, *b));
      return WriteStdout(FormatComparison(c, o.json));
    }
    case QuantMode::kImatrix:
      o.imatrix.threads = o.threads;
      o.imatrix.quiet = o.quiet;
      o.imatrix.progress = o.show_progress;
      return RunImatrixTool(o.imatrix);
    case QuantMode::kBenchKernels:
      return WriteStdout(BenchmarkQuantKernels(o.bench_values, 3));
    case QuantMode::kRandomModel: {
      ASSIGN_OR_RETURN(QuantizeReport r, WriteRandomModel(o.random, o.random_output, o.random_type, o.threads));
      if (!o.quiet) {
        std::fprintf(stderr, "llmtk-quant: wrote %s (%zu tensors, %s)\n", o.random_output.c_str(), r.tensors.size(),
                     HumanBytes(static_cast<double>(r.output_bytes)).c_str());
      }
      return absl::OkStatus();
    }
    case QuantMode::kQuantize:
      break;
  }
  return Quantize(o);
}

}  // namespace llmtk
