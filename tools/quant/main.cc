// llmtk-quant: convert and quantize models to GGUF exactly as llama.cpp does.
//   llmtk-quant INPUT OUTPUT.gguf --type TYPE [--pure] [--imatrix FILE] [--threads N] [--dry-run]
//   llmtk-quant inspect FILE.gguf [--json]
//   llmtk-quant compare A.gguf B.gguf [--json]
//   llmtk-quant imatrix -m MODEL.gguf -f TEXT [--ctx N] [-o OUT.dat] [--format dat|gguf]
//   llmtk-quant imatrix --combine A.dat B.dat -o OUT.dat
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
  app.add_option("--imatrix", qo.imatrix, "importance matrix (llmtk-quant imatrix / llama-imatrix .dat, or the GGUF form)");
  app.add_option("--include-weights", qo.include_weights, "use the imatrix only for tensors whose names contain this");
  app.add_option("--exclude-weights", qo.exclude_weights, "do not use the imatrix for tensors whose names contain this");
  app.add_option("--output-tensor-type", qo.output_tensor_type, "ggml type for output.weight (e.g. q8_0)");
  app.add_option("--token-embedding-type", qo.token_embedding_type, "ggml type for token_embd.weight (e.g. q8_0)");
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
  random->add_option("--experts", ro.experts,
                     "mixtures of experts: keep only N experts, each of the config's shape (N >= experts used per token)");
  random->add_option("--vocab", ro.vocab, "copy the vocabulary of this GGUF (e.g. llama.cpp's ggml-vocab-llama-spm.gguf)");
  random->add_option("--type", o.random_type, "F32, F16, BF16 (or any quantization type)")->capture_default_str();
  CLI::App* bench = app.add_subcommand("bench-kernels", "in-memory throughput of each quantizer, scalar vs dispatched");
  bench->add_option("--values", o.bench_values, "floats per run")->capture_default_str();
  CLI::App* imatrix = app.add_subcommand(
      "imatrix", "importance matrix over a calibration text, as llama-imatrix (for --imatrix quantization)");
  llmtk::ImatrixToolOptions& io = o.imatrix;
  imatrix->add_option("-m,--model", io.model_path, "GGUF model");
  imatrix->add_option("-f,--file", io.text_path, "calibration text (one final newline dropped, as llama.cpp)");
  imatrix->add_option("--jsonl", io.jsonl_paths, "calibration documents (JSONL/text), joined by a blank line");
  imatrix->add_option("-c,--ctx", io.collect.n_ctx, "tokens per chunk")->capture_default_str();
  imatrix->add_option("-b,--batch-size", io.collect.n_batch, "tokens per forward step (at most --ctx)")
      ->capture_default_str();
  imatrix->add_option("--chunks", io.collect.max_chunks, "use at most this many chunks (-1: all)")
      ->capture_default_str();
  imatrix->add_option("--from-chunk", io.collect.from_chunk, "skip this many chunks first (llama-imatrix --chunk)");
  imatrix->add_flag("--process-output", io.collect.process_output, "collect output.weight too");
  imatrix->add_option("--in-file", io.in_files, "add a saved imatrix (.dat or GGUF) first (repeatable)");
  imatrix->add_option("--combine", io.combine, "merge these saved files into -o, as llama-imatrix --in-file A --in-file B");
  imatrix->add_option("-o,--output", io.output, "output file")->capture_default_str();
  llmtk::AddChoiceOption(imatrix, "--format", &io.format,
                         {{"dat", llmtk::ImatrixFormat::kDat}, {"gguf", llmtk::ImatrixFormat::kGguf}},
                         "legacy llama-imatrix .dat, or the GGUF form of newer llama.cpp");
  tool.AddReaderFlags(&io.reader, imatrix, /*keep_bytes=*/true);
  for (CLI::App* sub : {inspect, compare, random, bench, imatrix}) sub->fallthrough();
  app.require_subcommand(0, 1);

  return tool.Run(argc, argv, [&]() -> absl::Status {
    if (inspect->parsed()) o.mode = llmtk::QuantMode::kInspect;
    if (compare->parsed()) o.mode = llmtk::QuantMode::kCompare;
    if (random->parsed()) o.mode = llmtk::QuantMode::kRandomModel;
    if (bench->parsed()) o.mode = llmtk::QuantMode::kBenchKernels;
    if (imatrix->parsed()) o.mode = llmtk::QuantMode::kImatrix;
    o.threads = common.Threads();
    o.show_progress = common.ShowProgress();
    o.quiet = common.quiet;
    if (common.json) o.json = true;
    return llmtk::RunQuantTool(o);
  });
}
