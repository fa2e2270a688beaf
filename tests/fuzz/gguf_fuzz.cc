// libFuzzer target: the GGUF reader, and everything a caller does with a
// file it accepted (typed metadata access, tensor data walk, dequantizing
// every decodable tensor, rewriting). Build with -DLLMTK_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "lib/formats/gguf.h"
#include "lib/formats/gguf_report.h"
#include "lib/ggml/quant.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto f = llmtk::GgufFile::FromBuffer(bytes, "fuzz.gguf");
  if (!f.ok()) return 0;
  const llmtk::GgufFile& g = **f;
  for (const auto& kv : g.metadata()) {
    (void)g.GetString(kv.key);
    (void)g.GetU32(kv.key);
    (void)g.GetF32Array(kv.key);
    (void)g.GetStringArray(kv.key);
  }
  (void)llmtk::DescribeGguf(g, true);
  (void)llmtk::DescribeGguf(g, false);
  std::vector<float> out;
  for (const auto& t : g.tensors()) {
    if (!llmtk::CanDequantize(t.type) || t.n_elements > (1 << 20)) continue;
    out.resize(static_cast<size_t>(t.n_elements));
    const int64_t ne0 = t.dims.empty() ? 1 : t.dims[0];
    (void)llmtk::DequantizeRows(t.type, t.data, out.data(), ne0 ? t.n_elements / ne0 : 0, ne0);
  }
  return 0;
}
