// model/arch_phi3_glm: what llama.cpp's loader (c392e50, llama-model.cpp)
// reads for `phi3` and `chatglm` beyond the keys every architecture has.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_MODEL_ARCH_PHI3_GLM_H_
#define LLMTK_LIB_MODEL_ARCH_PHI3_GLM_H_

#include "lib/base/status.h"
#include "lib/formats/gguf.h"
#include "lib/model/model.h"

namespace llmtk {

bool IsPhi3GlmModelArch(const std::string& arch);

// Fills the phi3/chatglm parts of `c` (arch, n_layer, n_head_kv and
// n_ctx_train already read): phi3's sliding window (the key, or llama.cpp's
// defaults for Phi-3-mini/medium files written before it existed; DataLoss
// when neither applies) and its q pre-scaling.
absl::Status ReadPhi3GlmKeys(const GgufFile& f, ModelConfig* c);

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_ARCH_PHI3_GLM_H_
