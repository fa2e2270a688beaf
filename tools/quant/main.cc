// llmtk-quant: convert and quantize models to GGUF exactly as llama.cpp does.
//   llmtk-quant INPUT OUTPUT.gguf --type TYPE [--pure] [--threads N] [--dry-run]
//   llmtk-quant inspect FILE.gguf [--json]
//   llmtk-quant compare A.gguf B.gguf [--json]
//   llmtk-quant bench-kernels [--values N]
//   llmtk-quant random-model config.json OUT.gguf [--seed N] [--layers N] [--type F16] [--vocab V.gguf]
#include <string>

#include "tools/common/cli.h"
#include "tools/quant/quant_tool.h"

int main(int argc, char** argv) {
  llmtk::Tool tool("quant", "Convert and quantize models to GGUF (llama.cpp-exact blocks and recipes).",
                   "llmtk-quant model.gguf model-Q4_K_M.gguf --type Q4_K_M\n"
                   "  llmtk-quant inspect model-Q4_K_M.gguf\n"
                   "  llmtk-quant compare model.gguf model-Q4_K_M.gguf");
  CLI::App& app = tool.app();
  llmtk::CommonOptions common;
  llmtk::QuantToolOptions o;
  llmtk::QuantizeFileOptions& qo = o.quantize;
  app.add_option("INPUT", qo.input, "GGUF file (F32/F16/BF16 tensors) or Hugging Face model directory");
  app.add_option("OUTPUT", qo.output, "output GGUF file");
  app.add_option("--type", qo.type, "file type (" + llmtk::QuantTargetNames() + ")");
  app.add_flag("--pure", qo.pure, "every quantizable tensor in the default type (no recipe), like llama-quantize --pure");
  app.add_flag("--dry-run", qo.dry_run, "print the plan (tensor, shape, type, bytes) and the output size; write nothing");
  tool.AddCommonFlags(&common);

  CLI::App* inspect = app.add_subcommand("inspect", "print a GGUF file's metadata and tensor table");
  inspect->add_option("FILE", o.file_a, "GGUF file")->required();
  inspect->add_flag("--json", o.json, "JSON output");

  CLI::App* compare = app.add_subcommand("compare", "per-tensor RMSE, max error and identical blocks of B against A");
  compare->add_option("A", o.file_a, "reference GGUF file")->required();
  compare->add_option("B", o.file_b, "GGUF file to check")->required();
  compare->add_flag("--json", o.json, "JSON output");
  CLI::App* random = app.add_subcommand("random-model", "write a seeded random-weight GGUF with a config.json's shapes");
  llmtk::RandomModelOptions& ro = o.random;
  random->add_option("CONFIG", ro.config, "Hugging Face config.json (LLaMA family)")->required();
  random->add_option("OUTPUT", o.random_output, "output GGUF file")->required();
  random->add_option("--seed", ro.seed, "random seed")->capture_default_str();
  random->add_option("--layers", ro.layers, "override num_hidden_layers (same tensor shapes, smaller file)");
  random->add_option("--vocab", ro.vocab, "copy the vocabulary of this GGUF (e.g. llama.cpp's ggml-vocab-llama-spm.gguf)");
  random->add_option("--type", o.random_type, "F32, F16, BF16 (or any quantization type)")->capture_default_str();
  CLI::App* bench = app.add_subcommand("bench-kernels", "in-memory throughput of each quantizer, scalar vs dispatched");
  bench->add_option("--values", o.bench_values, "floats per run")->capture_default_str();
  for (CLI::App* sub : {inspect, compare, random, bench}) sub->fallthrough();
  app.require_subcommand(0, 1);

  return tool.Run(argc, argv, [&]() -> absl::Status {
    if (inspect->parsed()) o.mode = llmtk::QuantMode::kInspect;
    if (compare->parsed()) o.mode = llmtk::QuantMode::kCompare;
    if (random->parsed()) o.mode = llmtk::QuantMode::kRandomModel;
    if (bench->parsed()) o.mode = llmtk::QuantMode::kBenchKernels;
    o.threads = common.Threads();
    o.show_progress = common.ShowProgress();
    o.quiet = common.quiet;
    if (common.json) o.json = true;
    return llmtk::RunQuantTool(o);
  });
}
