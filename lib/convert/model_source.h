// convert/model_source: a model to convert or quantize, as metadata plus
// tensors that can be loaded one at a time -- a GGUF file read zero-copy
// (OpenGgufSource), or an HF checkpoint mapped to GGUF names (OpenHfSource,
// convert/hf_convert.h). QuantizeModel (convert/quantize_model.h) consumes it.
//
// Thread-safety: a ModelSource is used from one thread at a time; its
// loaders run on that thread.
#ifndef LLMTK_LIB_CONVERT_MODEL_SOURCE_H_
#define LLMTK_LIB_CONVERT_MODEL_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/formats/gguf.h"
#include "lib/formats/gguf_writer.h"
#include "lib/base/status.h"

namespace llmtk {

struct SourceTensor {
  std::string name;
  std::vector<int64_t> dims;  // ggml order
  GgmlType type;
  // Zero-copy data when available (GGUF input), else null and `load` fills
  // a buffer of the tensor's bytes in `type`.
  const uint8_t* data = nullptr;
  std::function<absl::Status(std::vector<uint8_t>* out)> load;
};

struct ModelSource {
  std::string name;  // for messages
  GgufMetadata metadata;
  std::vector<SourceTensor> tensors;
  std::shared_ptr<const void> keepalive;  // owns what `data` points into
  // An HF checkpoint mapped by hf_convert. For the file types
  // convert_hf_to_gguf.py writes itself (F32, F16, BF16, Q8_0) the output is
  // laid out as it does: tensors in source order, general.file_type where it
  // stands. Other types follow llama-quantize run on that converter output.
  bool from_converter = false;
  // `data` points into read-only file mappings whose pages may be dropped
  // from the resident set once a tensor is written.
  bool release_pages = false;
};

// Reads a GGUF file as a ModelSource (zero-copy).
absl::StatusOr<ModelSource> OpenGgufSource(const std::string& path);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_MODEL_SOURCE_H_
