#include "lib/model/arch_gemma.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_keys.h"
#include "lib/ggml/types.h"

namespace llmtk {
namespace {

// An optional numeric key, as llama.cpp's get_key(..., required = false).
absl::Status OptionalU32(const GgufFile& f, const std::string& key, int* out) {
  if (!f.Has(key)) return absl::OkStatus();
  ASSIGN_OR_RETURN(uint32_t v, f.GetU32(key));
  *out = static_cast<int>(v);
  return absl::OkStatus();
}
absl::Status OptionalF32(const GgufFile& f, const std::string& key, float* out) {
  if (!f.Has(key)) return absl::OkStatus();
  ASSIGN_OR_RETURN(*out, f.GetF32(key));
  return absl::OkStatus();
}

// ggml_table_gelu_f16: GELU of every F16 value, rounded to F16. ggml is
// built as GNU C, where GCC contracts 1 + a*x*x into an FMA; the table
// llama.cpp's CPU libraries compute has that rounding (checked against the
// prebuilt libggml-cpu's table: identical; without the FMA one entry
// differs).
const std::vector<uint16_t>& GeluTable() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(1 << 16);
    for (uint32_t i = 0; i < t.size(); ++i) t[i] = Fp32ToFp16(GeluTanh(Fp16ToFp32(static_cast<uint16_t>(i))));
    return t;
  }();
  return table;
}

}  // namespace

bool IsGemmaModelArch(std::string_view arch) { return arch == "gemma2" || arch == "gemma3"; }

float GeluTanh(float x) {
  constexpr float kCoefA = 0.044715f;
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * std::fma(kCoefA * x, x, 1.0f)));
}

void GeGlu(float* gate, const float* up, int64_t n) {
  const std::vector<uint16_t>& table = GeluTable();
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    if (x <= -10.0f) {
      gate[i] = 0.0f;
    } else if (x >= 10.0f) {
      gate[i] = x * up[i];
    } else {
      gate[i] = Fp16ToFp32(table[Fp32ToFp16(x)]) * up[i];
    }
  }
}

void SoftCap(float* x, int64_t n, float cap) {
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i] * inv) * cap;
}

absl::StatusOr<GemmaConfig> LoadGemmaConfig(const GgufFile& f, std::string_view arch, int n_layer, int n_embd,
                                            int n_head, int head_dim, float rope_base, float rope_freq_scale) {
  auto key = [&](GgufArchKey k) { return GgufKeyName(k, arch); };
  GemmaConfig c;
  const int n = n_layer;
  c.swa_layers.assign(n, 0);
  if (arch == "gemma2") {
    // llama.cpp's defaults for files that predate these keys.
    c.n_swa = 4096;
    c.attn_softcap = 50.0f;
    c.final_softcap = 30.0f;
    RETURN_IF_ERROR(OptionalU32(f, key(GgufArchKey::kAttentionSlidingWindow), &c.n_swa));
    RETURN_IF_ERROR(OptionalF32(f, key(GgufArchKey::kAttnLogitSoftcapping), &c.attn_softcap));
    RETURN_IF_ERROR(OptionalF32(f, key(GgufArchKey::kFinalLogitSoftcapping), &c.final_softcap));
    for (int l = 0; l < n; ++l) c.swa_layers[l] = l % 2 == 0;
    c.rope_base_swa = rope_base;
    c.rope_freq_scale_swa = rope_freq_scale;
  } else {
    RETURN_IF_ERROR(OptionalU32(f, key(GgufArchKey::kAttentionSlidingWindow), &c.n_swa));
    RETURN_IF_ERROR(OptionalF32(f, key(GgufArchKey::kFinalLogitSoftcapping), &c.final_softcap));
    if (c.n_swa > 0) {
      for (int l = 0; l < n; ++l) c.swa_layers[l] = l % 6 < 5;
    }
    c.rope_base_swa = 10000.0f;
    c.rope_freq_scale_swa = 1.0f;
  }
  RETURN_IF_ERROR(OptionalF32(f, key(GgufArchKey::kRopeFreqBaseSwa), &c.rope_base_swa));
  if (c.n_swa <= 0) c.swa_layers.clear();
  // llama.cpp picks the query scale by model size, which it reads from the
  // layer count: 27B (gemma2: 46 layers, gemma3: 62) uses n_embd / n_head,
  // which is its query_pre_attn_scalar; every other size head_dim.
  const bool is_27b = (arch == "gemma2" && n == 46) || (arch == "gemma3" && n == 62);
  c.attn_scale = is_27b ? 1.0f / std::sqrt(static_cast<float>(n_embd / n_head))
                        : 1.0f / std::sqrt(static_cast<float>(head_dim));
  return c;
}

}  // namespace llmtk
