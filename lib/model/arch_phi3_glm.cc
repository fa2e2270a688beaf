#include "lib/model/arch_phi3_glm.h"

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {

bool IsPhi3GlmModelArch(const std::string& arch) { return arch == "phi3" || arch == "chatglm"; }

absl::Status ReadPhi3GlmKeys(const GgufFile& f, ModelConfig* c) {
  if (c->arch != "phi3") return absl::OkStatus();
  // llama.cpp's graph scales q after RoPE and calls softmax with scale 1;
  // the roundings differ from scaling inside softmax.
  c->q_prescale = true;
  const std::string key = GgufKeyName(GgufArchKey::kAttentionSlidingWindow, c->arch);
  if (f.Has(key)) {
    ASSIGN_OR_RETURN(uint32_t w, f.GetU32(key));
    c->n_swa = static_cast<int>(w);  // 0: no window (Phi-4)
    return absl::OkStatus();
  }
  // Files converted before the key existed: the values llama.cpp assumes.
  if ((c->n_layer == 32 || c->n_layer == 40) && c->n_ctx_train == 4096) {
    c->n_swa = 2047;
  } else if (c->n_layer == 32 && c->n_head_kv == 32 && c->n_ctx_train == 131072) {
    c->n_swa = 262144;
  } else if (c->n_layer == 40 && c->n_ctx_train == 131072) {
    c->n_swa = 131072;
  } else {
    return absl::DataLossError(absl::StrCat(f.name(), ": required key '", key, "' is missing"));
  }
  return absl::OkStatus();
}

}  // namespace llmtk
