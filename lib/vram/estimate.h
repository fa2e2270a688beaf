// vram/estimate: how much GPU memory a model needs to run or to train, as a
// per-GPU breakdown (weights, gradients, optimizer states, activations, KV
// cache, buffers/overhead) where every line carries the formula, with the
// numbers, that produced it.
//
// Inference covers weight formats (lib/vram/formats.h), batch x
// context, KV-cache dtype, GQA/MLA/sliding-window caches, tensor parallelism
// and three engine profiles: `hf` (transformers generate), `vllm` (paged KV
// pool sized from gpu_memory_utilization; reports the KV tokens that fit) and
// `llama.cpp` (compute buffer for n_ubatch tokens). Training covers full
// fine-tuning, LoRA and QLoRA, optimizers, precision modes, activation memory
// after Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
// Transformer Models") generalized to GQA/SwiGLU/MoE/MLA, FlashAttention,
// recomputation, ZeRO 0-3 / FSDP with offload of parameters, gradients and
// optimizer states, TP/PP/SP, the loss's logits, autocast, and the peak taken
// over the step's phases (docs/vram.md).
//
// Thread-safety: pure functions over plain values; safe from any thread.
#ifndef LLMTK_LIB_VRAM_ESTIMATE_H_
#define LLMTK_LIB_VRAM_ESTIMATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/vram/model_shape.h"

namespace llmtk {

inline constexpr int64_t kGiB = int64_t{1} << 30;
inline constexpr int64_t kMiB = int64_t{1} << 20;

struct MemoryLine {
  std::string name;
  int64_t bytes = 0;     // per GPU
  std::string formula;   // with the numbers filled in
};

struct MemoryEstimate {
  std::string mode;     // "inference" or "training"
  std::string summary;  // one line: model, setting
  ParamCounts params;
  // Always the seven rows: weights, gradients, optimizer states, activations,
  // KV cache, buffers/overhead (the total is TotalPerGpu()).
  std::vector<MemoryLine> lines;
  int64_t cpu_bytes = 0;         // offloaded to host memory (ZeRO offload)
  int64_t pageable_bytes = 0;    // part of the total that a paged optimizer can spill
  int gpus = 1;
  // vLLM: KV-cache tokens that fit and max concurrent sequences at context.
  int64_t kv_tokens = -1;
  double max_concurrency = 0;
  std::vector<std::string> notes;
  // Training: the step's phases with their per-GPU totals, and the one at
  // which the peak happens (the lines above are what is resident then).
  struct Phase {
    std::string name;
    int64_t bytes = 0;
  };
  std::vector<Phase> phases;
  std::string peak_phase;
  // --measure other than the default: its name, and (reserved, nvidia-smi)
  // the caching allocator's reserve, included in the buffers/overhead line.
  std::string measure;
  int64_t allocator_reserve = 0;

  int64_t TotalPerGpu() const;
  const MemoryLine* Find(const std::string& name) const;
};

// What the figure measures (docs/vram.md "What the measurement reports"):
// kBudget (the default): allocated bytes + --alloc-overhead slack + the CUDA
// context, a planning figure; kAllocated: torch.cuda.max_memory_allocated();
// kReserved: torch.cuda.max_memory_reserved(), the caching allocator's
// segments; kNvidiaSmi: reserved + CUDA context (+ NCCL buffers on several
// GPUs), what nvidia-smi shows for the process.
enum class Measure { kBudget, kAllocated, kReserved, kNvidiaSmi };

// kLlmtk: llmtk-run's CPU runner (lib/model/session.h), whose KV cache is
// sized like current llama.cpp's but also rings phi3's window.
enum class Engine { kHf, kVllm, kLlamaCpp, kLlmtk };

struct InferenceOptions {
  std::string weights;           // format name; empty: bf16 (config) or the file's own (GGUF)
  int64_t batch = 1;
  int64_t context = 4096;        // tokens per sequence (prompt + generated)
  std::string kv_dtype = "bf16";
  int tp = 1;
  Engine engine = Engine::kHf;
  bool flash_attention = true;   // no s^2 score matrix in prefill
  // vLLM
  int64_t block_size = 16;
  double gpu_memory_utilization = 0.9;
  int64_t max_num_batched_tokens = 8192;
  int64_t max_num_seqs = 256;
  int64_t kv_cache_memory = -1;  // bytes; when >= 0, the KV pool is given (vLLM log line)
  // llama.cpp and llmtk: n_ubatch (llmtk-run's --batch-size)
  int64_t ubatch = 512;
  // hf: the prompt, prefilled in one forward (< 0: the whole context), and
  // whether that forward's logits cover every prompt position, upcast to fp32
  // (transformers before 4.45: the LM head over all hidden states, then
  // `logits.float()`; 4.45's generate asks for the last position's only).
  int64_t prompt = -1;
  bool prefill_all_logits = false;
  // Overheads: CUDA context per GPU; allocator fragmentation on PyTorch pools.
  int64_t cuda_context = 512 * kMiB;
  double alloc_overhead = -1;    // < 0: 0.05 for hf, 0 for vllm/llama.cpp
  int64_t gpu_bytes = 0;         // needed by vllm (pool = gpu * utilization)
  Measure measure = Measure::kBudget;  // allocated | reserved | nvidia-smi: --engine hf only
};

enum class TrainMethod { kFull, kLora, kQlora };
enum class Optimizer { kAdamW, kAdamW8bit, kSgd, kSgdMomentum, kAdafactor, kLion };
enum class Precision {
  kFp32,   // fp32 params, grads, states
  kAmp,    // torch autocast: fp32 params and grads (HF Trainer --bf16/--fp16)
  kMixed,  // 16-bit params and grads + fp32 master weights (DeepSpeed/Megatron)
  kBf16,   // pure bf16: params, grads and optimizer states in bf16, no master
};
enum class Recompute { kNone, kSelective, kFull };
// How the loss meets the logits (docs/vram.md "The logits at the loss"):
// kHfFp32: transformers' causal-LM loss upcasts all [tokens, vocab] logits to
// fp32 and cross_entropy saves an fp32 log-softmax; kChunked: torchtune's
// compiled chunked cross-entropy, one chunk upcast at a time; kFused: a fused
// linear + cross-entropy (Liger, Apple CCE) that never holds the logits;
// kLitgpt: litgpt's finetune/lora.py, the head run per 128-token chunk and a
// 16-bit cross_entropy per chunk; kLitgptFull: litgpt's finetune/full.py, the
// head unchunked and the shifted logits copied before the same chunked loss.
enum class LossImpl { kHfFp32, kChunked, kFused, kLitgpt, kLitgptFull };
// Where an RMSNorm computed in fp32 multiplies by its weight (docs/vram.md
// "RMSNorm in fp32"): kHf casts the normalized input back to 16 bits first
// (transformers' LlamaRMSNorm, torchtune's RMSNorm); kLitgpt multiplies in
// fp32 and casts after (litgpt's RMSNorm), so a trained weight saves fp32.
enum class NormImpl { kHf, kLitgpt };

struct TrainingOptions {
  TrainMethod method = TrainMethod::kFull;
  int64_t lora_rank = 16;
  // LoRA dropout probability (PEFT's default 0): > 0 saves, per adapted
  // matrix, the dropped copy of its input and the 1-byte mask.
  double lora_dropout = 0;
  std::vector<std::string> lora_targets = {"q", "k", "v", "o", "gate", "up", "down"};
  std::string qlora_format = "nf4-dq";
  // The quantizer replaced the LM head too (Lightning's bitsandbytes plugin,
  // litgpt); Hugging Face's quantizers leave it 16-bit.
  bool qlora_quantized_head = false;
  int64_t frozen_layers = 0;        // full fine-tune: first N blocks frozen
  // Per-token linear classifiers (hidden -> N classes, with bias) on an
  // encoder, each with its own cross-entropy: a tagger's heads, e.g. GECToR's
  // detect (4) and correct (5002) heads. Trained with the model.
  std::vector<int64_t> token_heads;
  bool freeze_embeddings = false;
  Optimizer optimizer = Optimizer::kAdamW;
  bool paged_optimizer = false;
  bool optimizer_in_backward = false;  // fused step: gradients never all live
  // zero_grad(set_to_none=False), PyTorch < 2.0's default: gradients are
  // zeroed, not freed, so they are resident at the loss too.
  bool keep_gradients = false;
  // torch.optim's foreach AdamW (the default on CUDA) steps the whole group
  // at once; false: one tensor at a time (transformers' own AdamW, foreach=False).
  bool optimizer_foreach = true;
  Precision precision = Precision::kMixed;
  int64_t micro_batch = 1;
  int64_t seq_len = 2048;
  int64_t grad_accum = 1;
  bool flash_attention = true;
  Recompute recompute = Recompute::kNone;
  LossImpl loss = LossImpl::kHfFp32;
  NormImpl norm = NormImpl::kHf;
  int64_t loss_chunks = 8;          // kChunked/kFused/kLitgpt*: chunks of the tokens (torchtune: 8)
  int zero_stage = 0;
  // DeepSpeed ZeRO-2's gradient buckets: reduce_bucket_size elements in the
  // parameters' dtype, allocated at the start of each backward and released
  // at its end; two with overlap_comm (DeepSpeed's defaults: 5e8, off below
  // stage 3). Stage 1 ignores both, FSDP has neither.
  int64_t reduce_bucket = 500000000;
  bool overlap_comm = false;
  // Sharding by FSDP (--fsdp) rather than DeepSpeed ZeRO: with stage 3 the
  // parameters outside the wrapped blocks (embeddings, final norm, LM head)
  // form FSDP's root unit, gathered for the whole forward.
  bool fsdp = false;
  // CPU offload, per kind of model state: FSDP's CPUOffload moves parameters
  // and their gradients (and so the optimizer step); DeepSpeed's
  // offload_optimizer moves optimizer states and gradients, offload_param the
  // parameters.
  bool offload_optimizer = false;
  bool offload_params = false;
  bool offload_gradients = false;
  int gpus = 1;
  int tp = 1;
  int pp = 1;
  bool sp = false;
  int64_t cuda_context = 512 * kMiB;
  double alloc_overhead = 0.05;
  Measure measure = Measure::kBudget;
};

// Parses names used by the CLI: engine hf|vllm|llama.cpp; optimizer
// adamw|adamw8bit|sgd|sgd-momentum|adafactor|lion; precision
// fp32|amp|mixed|bf16; recompute none|selective|full; method full|lora|qlora.
absl::StatusOr<Engine> ParseEngine(std::string_view s);
absl::StatusOr<Optimizer> ParseOptimizer(std::string_view s);
absl::StatusOr<Precision> ParsePrecision(std::string_view s);
absl::StatusOr<Recompute> ParseRecompute(std::string_view s);
absl::StatusOr<TrainMethod> ParseTrainMethod(std::string_view s);
absl::StatusOr<NormImpl> ParseNormImpl(std::string_view s);
// hf-fp32 | chunked | fused.
absl::StatusOr<LossImpl> ParseLoss(std::string_view s);
// allocated | reserved | nvidia-smi (budget is the default, not a name).
absl::StatusOr<Measure> ParseMeasure(std::string_view s);
const char* MeasureName(Measure m);
// FSDP sharding strategy as a ZeRO stage: full -> 3, grad-op -> 2, none -> 0.
absl::StatusOr<int> ParseFsdp(std::string_view s);

absl::StatusOr<MemoryEstimate> EstimateInference(const ModelShape& m, const InferenceOptions& o);
absl::StatusOr<MemoryEstimate> EstimateTraining(const ModelShape& m, const TrainingOptions& o);

// KV-cache bytes for one token of one sequence summed over layers, for a
// context of `context` tokens: returns the bytes for the whole context.
// `tp` splits KV heads. Sliding layers hold at most their window, or with
// swa_ubatch > 0 the window plus one ubatch padded to 256 cells
// (SwaCacheCells in model/session.h: llama.cpp's SWA cache and llmtk-run's).
int64_t KvCacheBytes(const ModelShape& m, int64_t context, int64_t batch, int tp,
                     int64_t elem_num, int64_t elem_den, bool latent_compressed, int64_t swa_ubatch = 0);

// Activation bytes saved for backward per token per layer (Korthikanti et
// al. 2022, generalized), `elem` bytes per stored value (2 or 4). `s` is the
// sequence length (attention scores grow with it).
struct ActivationTerms {
  int64_t replicated = 0;  // not split by TP unless sequence parallel
  int64_t split = 0;       // split by TP
  int64_t scores = 0;      // attention scores (dropped by flash/selective)
};
ActivationTerms LayerActivationBytesPerToken(const ModelShape& m, int64_t layer, int64_t s,
                                             int elem);

// Model-state bytes per GPU of the ZeRO paper (Rajbhandari et al. 2019,
// section 3/5): params psi, K bytes of optimizer state per param, mixed
// precision (2 + 2 + K), over `dp` data-parallel GPUs at `stage`.
struct ModelStates {
  int64_t weights = 0, gradients = 0, optimizer = 0;
  int64_t Total() const { return weights + gradients + optimizer; }
};
ModelStates ZeroModelStates(int64_t psi, int64_t k_bytes, int dp, int stage);

}  // namespace llmtk

#endif  // LLMTK_LIB_VRAM_ESTIMATE_H_
