// vram/train_internal: the activation side of the training estimate
// (train_activations.cc), used by train.cc to build the step's phases.
// Not a public API.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef LLMTK_LIB_VRAM_TRAIN_INTERNAL_H_
#define LLMTK_LIB_VRAM_TRAIN_INTERNAL_H_

#include <cstdint>
#include <string>

#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"

namespace llmtk::internal {

// Bytes per 16-bit-or-not activation element: 4 in fp32 training, else 2.
int ActivationElemBytes(const TrainingOptions& o);

// What the forward and backward hold, per GPU, apart from model states.
// QLoRA with the LM head quantized too (train_qlora_head.cc).
bool QuantizedHead(const ModelShape& m, const TrainingOptions& o);
int64_t QuantizedHeadWeightDelta(const ModelShape& m, const TrainingOptions& o,
                                 const WeightFormat& f);
int64_t QuantizedHeadDequantBytes(const ModelShape& m, const TrainingOptions& o,
                                  std::string* what);

struct ActivationPlan {
  int64_t stored = 0;   // saved for backward when the forward ends
  int64_t loss = 0;     // the logits' working set at the loss
  int64_t rebuilt = 0;  // full recompute: the one layer rebuilt in backward
  int64_t casts = 0;    // autocast: 16-bit copies of fp32 weights, forward to backward
  std::string stored_formula, loss_formula, casts_formula;
};
ActivationPlan PlanActivations(const ModelShape& m, const TrainingOptions& o);

// --measure reserved | nvidia-smi (train_reserved.cc, docs/vram.md "What the
// measurement reports").
//
// The fraction of the largest activation working set that the caching
// allocator keeps reserved but cannot hand out at the peak: blocks freed by
// one phase (forward temporaries, the loss's logits, backward's activation
// gradients) whose sizes the next phase's requests do not fit. Fitted on the
// tune set's reserved and nvidia-smi rows only (testdata/vram, set "tune").
inline constexpr double kActivationFragmentation = 0.24;
// NCCL's per-process buffers on several GPUs (nvidia-smi only: NCCL
// cudaMallocs them outside PyTorch's allocator): NCCL_BUFFSIZE (4 MiB) for
// each of 2 ring peers on 16 channels, an assumption stated in docs/vram.md.
inline constexpr int64_t kNcclBuffers = 2 * 16 * 4 * kMiB;

struct ReserveInputs {
  int dp = 1;
  int64_t mp = 1;
  int64_t adapter = 0;          // LoRA/QLoRA adapter parameters, whole model
  bool gradients_held = false;  // some phase holds the gradients on the GPU
  int64_t max_activations = 0;  // largest activation set over the phases
  int64_t max_gathered = 0;     // largest FSDP/ZeRO-3 gathered set over the phases
  int64_t gathered_at_peak = 0;
};
struct ReservePlan {
  int64_t rounding = 0, fragmentation = 0, unshard_pool = 0, nccl = 0;
  std::string formula;
  int64_t Total() const { return rounding + fragmentation + unshard_pool + nccl; }
};
ReservePlan PlanReserve(const ModelShape& m, const TrainingOptions& o, const ReserveInputs& in);

}  // namespace llmtk::internal

#endif  // LLMTK_LIB_VRAM_TRAIN_INTERNAL_H_
