// libFuzzer target: the safetensors header parser and validation, and the
// SentencePiece model parser used by the HF converter. -DLLMTK_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/convert/hf_tokenizer.h"
#include "lib/formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = llmtk::SafetensorsModel::FromBuffer(bytes, "fuzz.safetensors");
  if (m.ok()) {
    volatile uint8_t sink = 0;
    for (const auto& t : (*m)->tensors()) {
      if (t.n_bytes > 0) sink = sink ^ t.data[0] ^ t.data[t.n_bytes - 1];
    }
  }
  (void)llmtk::ParseSentencePieceModel(bytes, "fuzz.model");
  return 0;
}
