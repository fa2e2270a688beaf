// model/rms_norm: RMSNorm as llama.cpp's graph computes it (ggml_rms_norm
// then ggml_mul with the weight), shared by the block and the MLA latent.
#ifndef LLMTK_LIB_MODEL_RMS_NORM_H_
#define LLMTK_LIB_MODEL_RMS_NORM_H_

#include <cmath>

namespace llmtk {

// The sum of squares in double, the scale in float, as ggml does; other
// orders move the last bit, which greedy ids at long contexts can see.
inline void RmsNorm(const float* x, const float* w, int n, float eps, float* out) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_RMS_NORM_H_
