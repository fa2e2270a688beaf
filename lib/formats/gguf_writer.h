// formats/gguf_writer: builds GGUF v3 metadata and streams a GGUF file to disk.
//
// GgufMetadata is an ordered key/value list with owned values; setting a key
// that exists removes it and appends the new value at the end, as ggml's
// gguf_set_* does (llama-quantize output depends on that order).
// WriteGguf lays the file out exactly as ggml does (header, KVs, tensor
// infos, zero padding to the alignment, then each tensor's data followed by
// zero padding) and asks for one tensor at a time, so peak memory is about
// one tensor. Output goes to a temporary file renamed into place on success.
//
// Thread-safety: GgufMetadata is a value type (not synchronized); WriteGguf
// calls `fill` sequentially on the calling thread.
#ifndef LLMTK_LIB_FORMATS_GGUF_WRITER_H_
#define LLMTK_LIB_FORMATS_GGUF_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/formats/gguf.h"
#include "lib/base/status.h"

namespace llmtk {

class GgufMetadata {
 public:
  struct Entry {
    std::string key;
    GgufType type;
    std::string payload;  // serialized value after the type id
  };

  void SetString(std::string_view key, std::string_view value);
  void SetU32(std::string_view key, uint32_t value);
  void SetI32(std::string_view key, int32_t value);
  void SetU64(std::string_view key, uint64_t value);
  void SetF32(std::string_view key, float value);
  void SetBool(std::string_view key, bool value);
  void SetStringArray(std::string_view key, const std::vector<std::string>& values);
  void SetF32Array(std::string_view key, const std::vector<float>& values);
  void SetI32Array(std::string_view key, const std::vector<int32_t>& values);
  // A value in serialized form (e.g. GgufValue::raw() of a file being read).
  void SetRaw(std::string_view key, GgufType type, std::string_view payload);
  // Replaces the value where the key stands (appends when absent).
  void ReplaceU32(std::string_view key, uint32_t value);
  // Appends (or replaces) every key of `file`, in its order.
  void CopyFrom(const GgufFile& file);
  void Remove(std::string_view key);

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* Find(std::string_view key) const;

 private:
  std::vector<Entry> entries_;
};

struct GgufTensorSpec {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> dims;  // ggml order (dims[0] contiguous)
};

// Total bytes of a tensor's data; InvalidArgument when the row does not
// split into the type's blocks or the size overflows.
absl::StatusOr<size_t> TensorBytes(const GgufTensorSpec& spec);

// Predicted size of the file WriteGguf would write.
absl::StatusOr<uint64_t> GgufFileSize(const GgufMetadata& metadata, const std::vector<GgufTensorSpec>& tensors);

// Fills `out` (n bytes) with tensor `index`'s data.
using GgufTensorFill = std::function<absl::Status(size_t index, uint8_t* out, size_t n)>;

// Writes a GGUF v3 file to `path` (temporary file + rename). The alignment
// is general.alignment when the metadata sets it, else 32.
absl::Status WriteGguf(const std::string& path, const GgufMetadata& metadata,
                       const std::vector<GgufTensorSpec>& tensors, const GgufTensorFill& fill);

// Rewrites a GGUF file as WriteGguf lays it out (same metadata, tensors and
// data). For a file written by ggml or WriteGguf the result is byte-identical.
absl::Status RewriteGguf(const GgufFile& file, const std::string& path);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_GGUF_WRITER_H_
