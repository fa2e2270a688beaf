// llmtk-vram: GPU memory to run or train a model, explained.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/common/cli.h"
#include "tools/vram/vram_tool.h"

namespace {

struct Flags {
  std::string model;
  double params = 0;
  std::string gpu, gpu_mem, solve;
  bool explain = false;
  std::string cuda_context = "512MiB";
  double alloc_overhead = -1;
  int tp = 1;
  // infer
  std::string weights, kv_dtype = "bf16", engine = "hf", kv_cache_memory, prefill_logits = "last";
  int64_t batch = 1, context = 4096, block_size = 16, max_batched = 8192, max_seqs = 256,
          ubatch = 512, prompt = -1;
  double util = 0.9, lora_dropout = 0, reduce_bucket = 5e8;
  bool no_flash = false;
  // train
  std::string token_heads, method = "full", targets = "all", qlora_format = "nf4-dq", optimizer = "adamw",
              precision = "mixed", recompute = "none", fsdp, loss, measure,
              norm_impl = "hf";
  int64_t rank = 16, micro_batch = 1, seq_len = 2048, grad_accum = 1, freeze_layers = 0,
          loss_chunks = 0;
  bool qlora_head = false;
  bool freeze_embeddings = false, paged = false, opt_in_bwd = false, offload_opt = false,
       offload_params = false, offload_grads = false, sp = false,
       keep_grads = false, no_foreach = false, overlap_comm = false;
  int zero = 0, gpus = 1, pp = 1;
};

// A size flag's value; errors name the flag.
absl::StatusOr<int64_t> SizeFlag(std::string_view flag, const std::string& value) {
  auto r = llmtk::ParseByteSize(value);
  if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(llmtk::ToAbsl(flag), ": ", r.status().message()));
  return r;
}

absl::Status Run(const Flags& f, const llmtk::CommonOptions& common, bool training) {
  using namespace llmtk;
  VramRequest r;
  r.model = f.model;
  if (!(f.params >= 0 && f.params <= 1e15)) {
    return absl::InvalidArgumentError("--params must be between 1 and 1e15");
  }
  r.params = static_cast<int64_t>(f.params);
  r.explain = f.explain;
  r.json = common.json;
  Scenario& s = r.scenario;
  s.training = training;
  if (!f.gpu.empty()) {
    ASSIGN_OR_RETURN(GpuSpec g, FindGpu(f.gpu));
    r.gpu_name = g.name;
    s.gpu_bytes = g.bytes;
  }
  if (!f.gpu_mem.empty()) {
    ASSIGN_OR_RETURN(s.gpu_bytes, SizeFlag("--gpu-mem", f.gpu_mem));
    if (s.gpu_bytes <= 0) return absl::InvalidArgumentError("--gpu-mem must be positive");
  }
  if (!f.solve.empty()) {
    ASSIGN_OR_RETURN(r.solve, ParseSolve(f.solve));
  }
  ASSIGN_OR_RETURN(int64_t cuda, SizeFlag("--cuda-context", f.cuda_context));
  if (!training) {
    InferenceOptions& o = s.inference;
    o.weights = f.weights;
    o.batch = f.batch;
    o.context = f.context;
    o.kv_dtype = f.kv_dtype;
    o.tp = f.tp;
    ASSIGN_OR_RETURN(o.engine, ParseEngine(f.engine));
    o.flash_attention = !f.no_flash;
    o.block_size = f.block_size;
    o.gpu_memory_utilization = f.util;
    o.max_num_batched_tokens = f.max_batched;
    o.max_num_seqs = f.max_seqs;
    o.ubatch = f.ubatch;
    o.prompt = f.prompt;
    if (f.prefill_logits != "last" && f.prefill_logits != "all") {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown --prefill-logits '", f.prefill_logits, "'; use last or all"));
    }
    o.prefill_all_logits = f.prefill_logits == "all";
    o.cuda_context = cuda;
    o.alloc_overhead = f.alloc_overhead;
    if (!f.measure.empty()) {
      ASSIGN_OR_RETURN(o.measure, ParseMeasure(f.measure));
    }
    if (!f.kv_cache_memory.empty()) {
      ASSIGN_OR_RETURN(o.kv_cache_memory, SizeFlag("--kv-cache-memory", f.kv_cache_memory));
    }
  } else {
    TrainingOptions& o = s.train;
    ASSIGN_OR_RETURN(o.method, ParseTrainMethod(f.method));
    o.lora_rank = f.rank;
    o.lora_dropout = f.lora_dropout;
    if (f.targets != "all") {
      o.lora_targets = absl::StrSplit(f.targets, ',', absl::SkipEmpty());
    }
    const std::vector<std::string> heads = absl::StrSplit(f.token_heads, ',', absl::SkipEmpty());
    for (const std::string& n : heads) {
      int64_t classes = 0;
      if (!absl::SimpleAtoi(n, &classes) || classes < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--token-heads takes class counts separated by commas (e.g. 4,5002), got '", n, "'"));
      }
      o.token_heads.push_back(classes);
    }
    o.qlora_format = f.qlora_format;
    o.qlora_quantized_head = f.qlora_head;
    o.frozen_layers = f.freeze_layers;
    o.freeze_embeddings = f.freeze_embeddings;
    ASSIGN_OR_RETURN(o.optimizer, ParseOptimizer(f.optimizer));
    o.paged_optimizer = f.paged;
    o.optimizer_in_backward = f.opt_in_bwd;
    o.keep_gradients = f.keep_grads;
    o.optimizer_foreach = !f.no_foreach;
    ASSIGN_OR_RETURN(o.precision, ParsePrecision(f.precision));
    o.micro_batch = f.micro_batch;
    o.seq_len = f.seq_len;
    o.grad_accum = f.grad_accum;
    o.flash_attention = !f.no_flash;
    ASSIGN_OR_RETURN(o.recompute, ParseRecompute(f.recompute));
    // Default hf-fp32; --loss-chunks N > 1 alone keeps meaning a chunked loss.
    o.loss = f.loss_chunks > 1 ? LossImpl::kChunked : LossImpl::kHfFp32;
    if (!f.loss.empty()) {
      ASSIGN_OR_RETURN(o.loss, ParseLoss(f.loss));
    }
    ASSIGN_OR_RETURN(o.norm, ParseNormImpl(f.norm_impl));
    if (f.loss_chunks != 0) {
      o.loss_chunks = f.loss_chunks;
    } else if (o.loss == LossImpl::kLitgpt) {
      // lora.py: lm_head_chunk_size=128 splits each sequence into 128-token chunks.
      o.loss_chunks = std::max<int64_t>(1, (o.seq_len + 127) / 128);
    } else if (o.loss == LossImpl::kLitgptFull) {
      // full.py: chunked_cross_entropy splits the flattened [batch x seq] rows by 128.
      o.loss_chunks = std::max<int64_t>(1, (o.micro_batch * o.seq_len + 127) / 128);
    }
    o.zero_stage = f.zero;
    if (!f.fsdp.empty()) {
      ASSIGN_OR_RETURN(o.zero_stage, ParseFsdp(f.fsdp));
      o.fsdp = true;
    }
    if (!(f.reduce_bucket >= 1 && f.reduce_bucket <= 1e12)) {
      return absl::InvalidArgumentError("--reduce-bucket-size must be between 1 and 1e12 elements");
    }
    o.reduce_bucket = static_cast<int64_t>(f.reduce_bucket);
    o.overlap_comm = f.overlap_comm;
    o.offload_optimizer = f.offload_opt;
    o.offload_params = f.offload_params;
    o.offload_gradients = f.offload_grads;
    o.gpus = f.gpus;
    o.tp = f.tp;
    o.pp = f.pp;
    o.sp = f.sp;
    o.cuda_context = cuda;
    if (f.alloc_overhead >= 0) o.alloc_overhead = f.alloc_overhead;
    if (!f.measure.empty()) {
      ASSIGN_OR_RETURN(o.measure, ParseMeasure(f.measure));
    }
  }
  ASSIGN_OR_RETURN(std::string text, RunVramRequest(r));
  return WriteStdout(text);
}

}  // namespace

int main(int argc, char** argv) {
  llmtk::Tool tool("vram", "GPU memory to run (infer) or train a model: a per-GPU breakdown.",
                   "llmtk-vram infer --model config.json --context 8192 --gpu RTX4090 --explain\n"
                   "llmtk-vram train --model config.json --method qlora --gpu RTX4090 --solve max-batch");
  CLI::App& app = tool.app();
  app.require_subcommand(1);
  Flags f;
  llmtk::CommonOptions common;
  CLI::App* infer = app.add_subcommand("infer", "memory to run the model");
  CLI::App* train = app.add_subcommand("train", "memory to train or fine-tune the model");
  for (CLI::App* sc : {infer, train}) {
    sc->add_option("--model", f.model, "config.json, a directory holding one, or a GGUF file");
    sc->add_option("--params", f.params, "parameter count instead of --model (training model states only)");
    sc->add_option("--gpu", f.gpu, "GPU from the table (H100-80GB, A100-40GB, RTX4090, ...)");
    sc->add_option("--gpu-mem", f.gpu_mem, "GPU memory with its unit, e.g. 24GiB, 80GB, 81559MiB");
    sc->add_option("--solve", f.solve, "max-batch | max-seq | min-gpus");
    sc->add_flag("--explain", f.explain, "show each line's formula with its numbers");
    sc->add_option("--cuda-context", f.cuda_context, "CUDA context per GPU (default 512MiB)");
    sc->add_option("--alloc-overhead", f.alloc_overhead,
                   "allocator slack as a fraction of dynamic memory (default: 0.05 hf/train, 0 vllm, llama.cpp)");
    sc->add_option("--measure", f.measure,
                   "allocated (max_memory_allocated) | reserved (max_memory_reserved: caching "
                   "allocator) | nvidia-smi (reserved + CUDA context + NCCL); default: a budget, "
                   "allocated + --alloc-overhead + --cuda-context");
    sc->add_option("--tp", f.tp, "tensor-parallel degree");
    sc->add_flag("--no-flash-attention", f.no_flash, "attention scores are materialized");
    tool.AddCommonFlags(&common, sc);
  }
  infer->add_option("--weights", f.weights,
                    "fp32, bf16, fp16, fp8, int8, nf4, nf4-dq, int4, a ggml type, q4_k_m, ... (default bf16; GGUF: the file's)");
  infer->add_option("--batch", f.batch, "sequences");
  infer->add_option("--context", f.context, "tokens per sequence");
  infer->add_option("--kv-dtype", f.kv_dtype, "KV-cache dtype: bf16, fp16, fp8, fp32, q8_0, q4_0");
  infer->add_option("--engine", f.engine, "hf | vllm | llama.cpp | llmtk");
  infer->add_option("--block-size", f.block_size, "vllm: tokens per KV block");
  infer->add_option("--gpu-memory-utilization", f.util, "vllm: fraction of the GPU to use");
  infer->add_option("--max-num-batched-tokens", f.max_batched, "vllm: profile-run tokens");
  infer->add_option("--max-num-seqs", f.max_seqs, "vllm: sequences in the profile run");
  infer->add_option("--kv-cache-memory", f.kv_cache_memory, "vllm: given KV pool size");
  infer->add_option("--ubatch", f.ubatch, "llama.cpp: n_ubatch");
  infer->add_option("--prompt", f.prompt, "hf: prompt tokens prefilled at once (default: --context)");
  infer->add_option("--prefill-logits", f.prefill_logits,
                    "hf: last (transformers >= 4.45, default) | all (earlier: every prompt position, fp32)");
  train->add_option("--method", f.method, "full | lora | qlora");
  train->add_option("--lora-rank", f.rank, "LoRA rank");
  train->add_option("--lora-dropout", f.lora_dropout,
                    "LoRA dropout probability (default 0, PEFT's; litgpt 0.05): > 0 saves mask + input per adapter");
  train->add_option("--lora-targets", f.targets, "q,k,v,o,gate,up,down or all");
  train->add_option("--qlora-format", f.qlora_format, "base weights for QLoRA: nf4-dq, nf4, int4, ...");
  train->add_flag("--qlora-quantized-head", f.qlora_head,
                  "QLoRA: the LM head is quantized too and dequantized (fp16, then cast) for each matmul "
                  "(Lightning's bitsandbytes plugin, litgpt)");
  train->add_option("--token-heads", f.token_heads,
                    "encoder: per-token classifier heads, classes each (e.g. 4,5002)");
  train->add_option("--freeze-layers", f.freeze_layers, "full: first N blocks frozen");
  train->add_flag("--freeze-embeddings", f.freeze_embeddings, "full: embeddings frozen");
  train->add_option("--optimizer", f.optimizer, "adamw | adamw8bit | sgd | sgd-momentum | adafactor | lion");
  train->add_flag("--paged-optimizer", f.paged, "bitsandbytes paged states (may spill to CPU)");
  train->add_flag("--optimizer-in-backward", f.opt_in_bwd, "fused step: no full gradient buffer");
  train->add_flag("--keep-gradients", f.keep_grads,
                  "gradients zeroed, not freed, between steps (zero_grad(set_to_none=False), PyTorch < 2.0)");
  train->add_flag("--no-foreach", f.no_foreach,
                  "AdamW steps one tensor at a time (transformers' AdamW): no group-sized temporary");
  train->add_option("--precision", f.precision, "fp32 | amp | mixed | bf16");
  train->add_option("--micro-batch", f.micro_batch, "sequences per GPU per step");
  train->add_option("--seq-len", f.seq_len, "tokens per sequence");
  train->add_option("--grad-accum", f.grad_accum, "gradient accumulation steps");
  train->add_option("--recompute", f.recompute, "none | selective | full");
  train->add_option("--loss", f.loss,
                    "hf-fp32 (default: transformers upcasts all logits) | chunked (torchtune) | fused "
                    "(Liger/CCE) | litgpt (finetune/lora.py) | litgpt-full (finetune/full.py)");
  train->add_option("--norm-impl", f.norm_impl,
                    "hf (default: RMSNorm casts back to 16 bits before the weight, transformers/torchtune) | "
                    "litgpt (weight multiplied in fp32): what a trained RMSNorm saves");
  train->add_option("--loss-chunks", f.loss_chunks,
                    "chunks for --loss chunked|fused (default 8), litgpt* (default seq-len/128); alone, "
                    "N > 1 means --loss chunked");
  train->add_option("--zero", f.zero, "ZeRO stage 0-3");
  train->add_option("--reduce-bucket-size", f.reduce_bucket,
                    "DeepSpeed ZeRO-2: reduce_bucket_size in elements (default 5e8): the gradient bucket "
                    "held through backward");
  train->add_flag("--overlap-comm", f.overlap_comm, "DeepSpeed ZeRO-2 overlap_comm: two gradient buckets");
  train->add_option("--fsdp", f.fsdp, "full | grad-op | none (= ZeRO 3 | 2 | 0)");
  train->add_flag("--offload-optimizer", f.offload_opt, "optimizer states on CPU");
  train->add_flag("--offload-params", f.offload_params, "parameters on CPU (ZeRO-3/FSDP)");
  train->add_flag("--offload-gradients", f.offload_grads,
                  "gradients on CPU (FSDP cpu_offload, DeepSpeed offload_optimizer)");
  train->add_option("--gpus", f.gpus, "GPUs in total");
  train->add_option("--pp", f.pp, "pipeline-parallel degree");
  train->add_flag("--sp", f.sp, "sequence parallelism (with --tp)");
  return tool.Run(argc, argv, [&]() { return Run(f, common, train->parsed()); });
}
