// vram/llmtk_scratch: the bytes llmtk-run's Session allocates besides its
// KV cache (Session::scratch_bytes in model/session.cc, MoeFfn and
// MlaProjection's buffers) for a mixture-of-experts model: per-token rows
// for up to `ubatch` tokens, the attention scores over `context` cells, the
// routed experts' K per token, the shared expert, MLA's projections.
// Dense families keep llama.cpp's compute-buffer figure (infer.cc).
//
// Thread-safety: pure function.
#ifndef LLMTK_LIB_VRAM_LLMTK_SCRATCH_H_
#define LLMTK_LIB_VRAM_LLMTK_SCRATCH_H_

#include <cstdint>
#include <string>

#include "lib/vram/model_shape.h"

namespace llmtk {

// Session scratch bytes of an MoE `m` (m.IsMoe()) at `context` cells and
// batches of `ubatch` tokens; `formula` gets the sum's parts.
int64_t LlmtkMoeScratchBytes(const ModelShape& m, int64_t context, int64_t ubatch, std::string* formula);

}  // namespace llmtk

#endif  // LLMTK_LIB_VRAM_LLMTK_SCRATCH_H_
