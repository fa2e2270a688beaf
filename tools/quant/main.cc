// llmtk-quant: convert and quantize models to GGUF exactly as llama.cpp does.
//   llmtk-quant INPUT OUTPUT.gguf --type TYPE [--pure] [--threads N] [--dry-run]
//   llmtk-quant inspect FILE.gguf [--json]
//   llmtk-quant compare A.gguf B.gguf [--json]
//   llmtk-quant bench-kernels [--values N]
//   llmtk-quant random-model config.json OUT.gguf [--seed N] [--layers N] [--type F16]
#include <cstdio>
#include <string>

#include "tools/common/cli.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_report.h"
#include "tools/quant/bench.h"
#include "lib/convert/quantize_model.h"
#include "lib/convert/random_model.h"

int main(int argc, char** argv) {
  llmtk::Tool tool("quant", "Convert and quantize models to GGUF (llama.cpp-exact blocks and recipes).",
                   "llmtk-quant model.gguf model-Q4_K_M.gguf --type Q4_K_M\n"
                   "  llmtk-quant inspect model-Q4_K_M.gguf\n"
                   "  llmtk-quant compare model.gguf model-Q4_K_M.gguf");
  CLI::App& app = tool.app();
  llmtk::CommonOptions common;
  llmtk::QuantizeFileOptions qo;
  app.add_option("INPUT", qo.input, "GGUF file (F32/F16/BF16 tensors) or Hugging Face model directory");
  app.add_option("OUTPUT", qo.output, "output GGUF file");
  app.add_option("--type", qo.type, "file type (" + llmtk::QuantTargetNames() + ")");
  app.add_flag("--pure", qo.pure, "every quantizable tensor in the default type (no recipe), like llama-quantize --pure");
  app.add_flag("--dry-run", qo.dry_run, "print the plan (tensor, shape, type, bytes) and the output size; write nothing");
  tool.AddCommonFlags(&common);

  CLI::App* inspect = app.add_subcommand("inspect", "print a GGUF file's metadata and tensor table");
  std::string inspect_file;
  bool inspect_json = false;
  inspect->add_option("FILE", inspect_file, "GGUF file")->required();
  inspect->add_flag("--json", inspect_json, "JSON output");

  CLI::App* compare = app.add_subcommand("compare", "per-tensor RMSE, max error and identical blocks of B against A");
  std::string file_a, file_b;
  bool compare_json = false;
  compare->add_option("A", file_a, "reference GGUF file")->required();
  compare->add_option("B", file_b, "GGUF file to check")->required();
  compare->add_flag("--json", compare_json, "JSON output");
  CLI::App* random = app.add_subcommand("random-model", "write a seeded random-weight GGUF with a config.json's shapes");
  llmtk::RandomModelOptions ro;
  std::string random_out, random_type = "F32";
  random->add_option("CONFIG", ro.config, "Hugging Face config.json (LLaMA family)")->required();
  random->add_option("OUTPUT", random_out, "output GGUF file")->required();
  random->add_option("--seed", ro.seed, "random seed")->capture_default_str();
  random->add_option("--layers", ro.layers, "override num_hidden_layers (same tensor shapes, smaller file)");
  random->add_option("--type", random_type, "F32, F16, BF16 (or any quantization type)")->capture_default_str();
  CLI::App* bench = app.add_subcommand("bench-kernels", "in-memory throughput of each quantizer, scalar vs dispatched");
  int64_t bench_values = 1 << 22;
  bench->add_option("--values", bench_values, "floats per run")->capture_default_str();
  for (CLI::App* sub : {inspect, compare, random, bench}) sub->fallthrough();
  app.require_subcommand(0, 1);

  return tool.Run(argc, argv, [&]() -> absl::Status {
    if (inspect->parsed()) {
      ASSIGN_OR_RETURN(auto f, llmtk::GgufFile::Open(inspect_file));
      return llmtk::WriteStdout(llmtk::DescribeGguf(*f, inspect_json));
    }
    if (compare->parsed()) {
      ASSIGN_OR_RETURN(auto a, llmtk::GgufFile::Open(file_a));
      ASSIGN_OR_RETURN(auto b, llmtk::GgufFile::Open(file_b));
      ASSIGN_OR_RETURN(llmtk::GgufComparison c, llmtk::CompareGguf(*a, *b));
      return llmtk::WriteStdout(llmtk::FormatComparison(c, compare_json));
    }
    if (bench->parsed()) return llmtk::WriteStdout(llmtk::BenchmarkQuantKernels(bench_values, 3));
    if (random->parsed()) {
      ASSIGN_OR_RETURN(llmtk::QuantizeReport r, llmtk::WriteRandomModel(ro, random_out, random_type, common.Threads()));
      if (!common.quiet) {
        std::fprintf(stderr, "llmtk-quant: wrote %s (%zu tensors, %s)\n", random_out.c_str(), r.tensors.size(),
                     llmtk::HumanBytes(static_cast<double>(r.output_bytes)).c_str());
      }
      return absl::OkStatus();
    }
    if (qo.input.empty()) return absl::InvalidArgumentError("missing INPUT (see --help)");
    if (qo.type.empty()) return absl::InvalidArgumentError("missing --type (e.g. --type Q4_K_M)");
    if (qo.output.empty() && !qo.dry_run) return absl::InvalidArgumentError("missing OUTPUT.gguf");
    qo.threads = common.Threads();
    const bool show = common.ShowProgress() && !qo.dry_run;
    if (show) {
      qo.progress = [](size_t i, size_t n, const llmtk::QuantPlanEntry& e) {
        std::fprintf(stderr, "[%zu/%zu] %-32s %s -> %s\n", i + 1, n, e.name.c_str(),
                     std::string(llmtk::GgmlTypeName(e.from)).c_str(), std::string(llmtk::GgmlTypeName(e.to)).c_str());
      };
    }
    ASSIGN_OR_RETURN(llmtk::QuantizeReport report, llmtk::QuantizeFile(qo));
    if (qo.dry_run || common.json) return llmtk::WriteStdout(llmtk::FormatQuantizeReport(report, common.json));
    if (!common.quiet) {
      std::fprintf(stderr, "llmtk-quant: wrote %s (%s, %s)\n", qo.output.c_str(),
                   std::string(llmtk::LlamaFileTypeName(report.ftype)).c_str(),
                   llmtk::HumanBytes(static_cast<double>(report.output_bytes)).c_str());
    }
    return absl::OkStatus();
  });
}
