// model/arch_gemma: what Gemma 2 and Gemma 3 (text) add to the transformer
// block, as llama.cpp computes them: their hyperparameters from GGUF
// metadata (with llama.cpp's defaults), GeGLU with ggml's tanh GELU (looked
// up in a table of F16 inputs, as ggml's CPU backend does), and tanh
// soft-capping.
//
// Thread-safety: pure functions (the GELU table is built once, thread-safe).
#ifndef LLMTK_LIB_MODEL_ARCH_GEMMA_H_
#define LLMTK_LIB_MODEL_ARCH_GEMMA_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/formats/gguf.h"

namespace llmtk {

bool IsGemmaModelArch(std::string_view arch);

// What Gemma adds to ModelConfig (model/model.h, which copies these).
struct GemmaConfig {
  float attn_scale = 0.f;
  float attn_softcap = 0.f, final_softcap = 0.f;
  int n_swa = 0;
  std::vector<uint8_t> swa_layers;
  float rope_base_swa = 10000.f, rope_freq_scale_swa = 1.f;
};

// Reads them as llama.cpp does for `arch` with the shapes already read:
// soft-capping values, the sliding window and which layers use it (gemma2:
// even layers; gemma3: five local to one global), the local layers' RoPE
// base and scale, the query scale (1/sqrt(head_dim), 1/sqrt(n_embd / n_head)
// for the 27B shapes, as llama.cpp decides by layer count).
absl::StatusOr<GemmaConfig> LoadGemmaConfig(const GgufFile& f, std::string_view arch, int n_layer, int n_embd,
                                            int n_head, int head_dim, float rope_base, float rope_freq_scale);

// gate[i] = gelu(gate[i]) * up[i], GELU as ggml's F16 table gives it.
void GeGlu(float* gate, const float* up, int64_t n);
// The tanh-approximation GELU of one value as ggml_gelu_f32 computes it,
// before the F16 rounding of the table.
float GeluTanh(float x);

// x[i] = tanh(x[i] / cap) * cap, as ggml_scale, ggml_tanh, ggml_scale.
void SoftCap(float* x, int64_t n, float cap);

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_ARCH_GEMMA_H_
