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

namespace llmtk::internal {

// Bytes per 16-bit-or-not activation element: 4 in fp32 training, else 2.
int ActivationElemBytes(const TrainingOptions& o);

// What the forward and backward hold, per GPU, apart from model states.
struct ActivationPlan {
  int64_t stored = 0;   // saved for backward when the forward ends
  int64_t loss = 0;     // the logits' working set at the loss
  int64_t rebuilt = 0;  // full recompute: the one layer rebuilt in backward
  int64_t casts = 0;    // autocast: 16-bit copies of fp32 weights, forward to backward
  std::string stored_formula, loss_formula, casts_formula;
};
ActivationPlan PlanActivations(const ModelShape& m, const TrainingOptions& o);

}  // namespace llmtk::internal

#endif  // LLMTK_LIB_VRAM_TRAIN_INTERNAL_H_
