// formats/safetensors: a validated, zero-copy reader of Hugging Face safetensors
// checkpoints -- one file, or shards listed by model.safetensors.index.json.
//
// The JSON header is checked before any tensor is used: its length against
// the file, every dtype, shape and data_offsets pair against the data
// section (with overflow checks), byte counts against shape x dtype size,
// duplicate names and overlapping ranges. A lying header is a DataLoss
// status naming the file and tensor. Tensor data are views into the mapped
// files and stay valid while the SafetensorsModel lives.
//
// Thread-safety: immutable after Open; concurrent reads are safe.
#ifndef LLMTK_LIB_FORMATS_SAFETENSORS_H_
#define LLMTK_LIB_FORMATS_SAFETENSORS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/io.h"
#include "lib/base/status.h"

namespace llmtk {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;         // "F32", "F16", "BF16", "I64", ...
  size_t dtype_size = 0;     // bytes per element
  std::vector<int64_t> shape;  // row-major (PyTorch order)
  int64_t n_elements = 0;
  const uint8_t* data = nullptr;
  size_t n_bytes = 0;
  std::string file;  // shard it lives in
};

class SafetensorsModel {
 public:
  // `path`: a .safetensors file, a model.safetensors.index.json, or a
  // directory holding either (the index wins). NotFound when none exists.
  static absl::StatusOr<std::unique_ptr<SafetensorsModel>> Open(const std::string& path);
  // Parses one file held in memory by the caller (tests, fuzzing).
  static absl::StatusOr<std::unique_ptr<SafetensorsModel>> FromBuffer(std::string_view bytes, std::string name);

  // Files in index order (sorted shard names), tensors in header order.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* Find(std::string_view name) const;

 private:
  SafetensorsModel() = default;
  absl::Status AddFile(const uint8_t* data, size_t size, const std::string& name,
                       const std::vector<std::string>* only);
  std::vector<std::unique_ptr<MappedFile>> maps_;
  std::vector<SafetensorsTensor> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// Bytes per element of a safetensors dtype; 0 if unknown.
size_t SafetensorsDtypeSize(std::string_view dtype);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_SAFETENSORS_H_
