// formats/gguf: a validated, zero-copy reader of GGUF files (versions 2 and 3).
//
// GgufFile maps the file and checks everything before anything is used:
// every count, length, offset and shape against the file size and against
// overflow; value and tensor types; duplicate keys and tensor names; tensor
// alignment and overlap. A bad file is a DataLoss status naming the file,
// the byte offset or key/tensor and what is wrong; a valid file using a
// feature we do not read (big-endian, nested arrays, version 1) is
// Unimplemented. Nothing is allocated in proportion to a count before that
// count has been checked against the bytes that would hold it.
//
// Metadata values and tensor data are views into the mapping: they stay
// valid while the GgufFile lives. Multi-byte values in the file may be
// unaligned, so values are read through accessors, never through pointers.
//
// Thread-safety: a GgufFile is immutable after Open; any number of threads
// may read it concurrently.
#ifndef LLMTK_LIB_FORMATS_GGUF_H_
#define LLMTK_LIB_FORMATS_GGUF_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/ggml/types.h"
#include "lib/base/status.h"

namespace llmtk {

// GGUF metadata value types (on-disk ids).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
inline constexpr uint32_t kGgufTypeCount = 13;

// "u8", "i32", "f32", "bool", "string", "array", ...
std::string_view GgufTypeName(GgufType type);
// Size in bytes of a scalar type; 0 for string and array.
size_t GgufScalarSize(GgufType type);

inline constexpr uint32_t kGgufDefaultAlignment = 32;

// One metadata value: a scalar, a string or an array of either (arrays of
// arrays are not supported). A view into the file.
class GgufValue {
 public:
  GgufType type() const { return type_; }
  bool is_array() const { return type_ == GgufType::kArray; }
  // For arrays: the element type and count. For scalars: own type, 1.
  GgufType elem_type() const { return elem_type_; }
  uint64_t size() const { return count_; }

  // Scalars (or array element i). Integers convert when the value fits;
  // nullopt otherwise (wrong type, negative for unsigned, out of range).
  std::optional<uint64_t> AsUint(uint64_t i = 0) const;
  std::optional<int64_t> AsInt(uint64_t i = 0) const;
  // Float32/Float64 and integer types, as double.
  std::optional<double> AsDouble(uint64_t i = 0) const;
  std::optional<bool> AsBool(uint64_t i = 0) const;
  std::optional<std::string_view> AsString(uint64_t i = 0) const;

  // The serialized payload after the type id (for arrays: element type,
  // count and elements), exactly as in the file. Writers copy it verbatim.
  std::string_view raw() const { return raw_; }

 private:
  friend class GgufParser;
  const uint8_t* ElemPtr(uint64_t i) const;
  GgufType type_ = GgufType::kUint8;
  GgufType elem_type_ = GgufType::kUint8;
  uint64_t count_ = 1;
  const uint8_t* data_ = nullptr;  // first element (scalars: the value)
  std::string_view raw_;
  // Views of string elements (strings and string arrays only).
  std::vector<std::string_view> strings_;
};

struct GgufKv {
  std::string_view key;
  GgufValue value;
};

struct GgufTensor {
  std::string_view name;
  GgmlType type;
  // ggml order: dims[0] is the contiguous (row) dimension.
  std::vector<int64_t> dims;
  int64_t n_elements = 0;
  uint64_t offset = 0;     // relative to the data section
  size_t n_bytes = 0;
  const uint8_t* data = nullptr;

  int64_t rows() const { return dims.empty() || dims[0] == 0 ? 0 : n_elements / dims[0]; }
};

class GgufFile {
 public:
  // Maps and validates `path`. NotFound when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Validates a buffer the caller keeps alive longer than the GgufFile
  // (tests, fuzzing). `name` appears in error messages.
  static absl::StatusOr<std::unique_ptr<GgufFile>> FromBuffer(std::string_view bytes, std::string name);

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  // Byte offset of the data section (tensor offsets are relative to it).
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }
  const uint8_t* file_data() const { return base_; }

  // Metadata in file order.
  const std::vector<GgufKv>& metadata() const { return kvs_; }
  const GgufValue* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // Typed access: NotFound when the key is absent, DataLoss when its type or
  // value does not fit the request. Integer getters accept any integer type
  // whose value fits; GetF32 accepts f32 and f64.
  absl::StatusOr<std::string_view> GetString(std::string_view key) const;
  absl::StatusOr<uint32_t> GetU32(std::string_view key) const;
  absl::StatusOr<uint64_t> GetU64(std::string_view key) const;
  absl::StatusOr<int32_t> GetI32(std::string_view key) const;
  absl::StatusOr<float> GetF32(std::string_view key) const;
  absl::StatusOr<bool> GetBool(std::string_view key) const;
  absl::StatusOr<std::vector<std::string_view>> GetStringArray(std::string_view key) const;
  absl::StatusOr<std::vector<float>> GetF32Array(std::string_view key) const;
  absl::StatusOr<std::vector<int32_t>> GetI32Array(std::string_view key) const;
  absl::StatusOr<std::vector<uint32_t>> GetU32Array(std::string_view key) const;

  // Tensors in file (tensor-info) order.
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* FindTensor(std::string_view name) const;

 private:
  friend class GgufParser;
  GgufFile() = default;

  std::string name_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  void* map_ = nullptr;  // munmap on destruction when set
  size_t map_size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensor> tensors_;
  absl::flat_hash_map<std::string, size_t> kv_index_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_GGUF_H_
