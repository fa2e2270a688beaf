#include "lib/formats/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

constexpr int kMaxDims = 4;       // GGML_MAX_DIMS
constexpr size_t kMaxName = 63;   // GGML_MAX_NAME - 1 (ggml keeps a NUL)

template <typename U>
U LoadLe(const uint8_t* p) {
  U v;
  std::memcpy(&v, p, sizeof(U));
  return v;  // GGUF v3 little-endian; the build targets little-endian hosts
}

}  // namespace

std::string_view GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8: return "u8";
    case GgufType::kInt8: return "i8";
    case GgufType::kUint16: return "u16";
    case GgufType::kInt16: return "i16";
    case GgufType::kUint32: return "u32";
    case GgufType::kInt32: return "i32";
    case GgufType::kFloat32: return "f32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "u64";
    case GgufType::kInt64: return "i64";
    case GgufType::kFloat64: return "f64";
  }
  return "unknown";
}

size_t GgufScalarSize(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool: return 1;
    case GgufType::kUint16:
    case GgufType::kInt16: return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32: return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64: return 8;
    case GgufType::kString:
    case GgufType::kArray: return 0;
  }
  return 0;
}

// ---- GgufValue ----

const uint8_t* GgufValue::ElemPtr(uint64_t i) const {
  return data_ + i * GgufScalarSize(elem_type_);
}

std::optional<int64_t> GgufValue::AsInt(uint64_t i) const {
  if (i >= count_) return std::nullopt;
  const uint8_t* p = ElemPtr(i);
  switch (elem_type_) {
    case GgufType::kUint8: return LoadLe<uint8_t>(p);
    case GgufType::kInt8: return LoadLe<int8_t>(p);
    case GgufType::kUint16: return LoadLe<uint16_t>(p);
    case GgufType::kInt16: return LoadLe<int16_t>(p);
    case GgufType::kUint32: return LoadLe<uint32_t>(p);
    case GgufType::kInt32: return LoadLe<int32_t>(p);
    case GgufType::kInt64: return LoadLe<int64_t>(p);
    case GgufType::kUint64: {
      const uint64_t v = LoadLe<uint64_t>(p);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    default: return std::nullopt;
  }
}

std::optional<uint64_t> GgufValue::AsUint(uint64_t i) const {
  if (i >= count_) return std::nullopt;
  if (elem_type_ == GgufType::kUint64) return LoadLe<uint64_t>(ElemPtr(i));
  std::optional<int64_t> v = AsInt(i);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<double> GgufValue::AsDouble(uint64_t i) const {
  if (i >= count_) return std::nullopt;
  if (elem_type_ == GgufType::kFloat32) return LoadLe<float>(ElemPtr(i));
  if (elem_type_ == GgufType::kFloat64) return LoadLe<double>(ElemPtr(i));
  if (elem_type_ == GgufType::kUint64) return static_cast<double>(LoadLe<uint64_t>(ElemPtr(i)));
  std::optional<int64_t> v = AsInt(i);
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

std::optional<bool> GgufValue::AsBool(uint64_t i) const {
  if (i >= count_ || elem_type_ != GgufType::kBool) return std::nullopt;
  return LoadLe<uint8_t>(ElemPtr(i)) != 0;
}

std::optional<std::string_view> GgufValue::AsString(uint64_t i) const {
  if (i >= count_ || elem_type_ != GgufType::kString) return std::nullopt;
  return strings_[i];
}

// ---- parser ----

class GgufParser {
 public:
  GgufParser(GgufFile* f) : f_(f), p_(f->base_), size_(f->size_) {}

  absl::Status Parse();

 private:
  absl::Status Truncated(std::string_view what, uint64_t need) const {
    return absl::DataLossError(absl::StrFormat(
        "%s: truncated at byte %d reading %s (needs %d bytes, %d left); the file is incomplete or not GGUF",
        f_->name_, pos_, ToAbsl(what), need, size_ - pos_));
  }
  absl::Status Corrupt(std::string_view msg) const {
    return absl::DataLossError(absl::StrCat(f_->name_, ": ", ToAbsl(msg)));
  }
  uint64_t Left() const { return size_ - pos_; }

  template <typename U>
  absl::Status Read(U* out, std::string_view what) {
    if (Left() < sizeof(U)) return Truncated(what, sizeof(U));
    *out = LoadLe<U>(p_ + pos_);
    pos_ += sizeof(U);
    return absl::OkStatus();
  }
  absl::Status ReadString(std::string_view* out, std::string_view what) {
    uint64_t n = 0;
    RETURN_IF_ERROR(Read(&n, absl::StrCat(ToAbsl(what), " length")));
    if (n > Left()) {
      return Corrupt(absl::StrFormat("%s at byte %d has length %d but only %d bytes are left",
                                     ToAbsl(what), pos_ - 8, n, Left()));
    }
    *out = std::string_view(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status ReadValue(GgufType type, std::string_view key, GgufValue* v);
  absl::Status ParseTensorInfo(uint64_t index, GgufTensor* t);

  GgufFile* f_;
  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

absl::Status GgufParser::ReadValue(GgufType type, std::string_view key, GgufValue* v) {
  const uint64_t start = pos_;
  v->type_ = type;
  v->elem_type_ = type;
  v->count_ = 1;
  if (type == GgufType::kArray) {
    uint32_t et = 0;
    RETURN_IF_ERROR(Read(&et, absl::StrCat("array type of key '", ToAbsl(key), "'")));
    if (et >= kGgufTypeCount) {
      return Corrupt(absl::StrFormat("key '%s' at byte %d: unknown array element type %d", ToAbsl(key), pos_ - 4, et));
    }
    if (static_cast<GgufType>(et) == GgufType::kArray) {
      return absl::UnimplementedError(
          absl::StrCat(f_->name_, ": key '", ToAbsl(key), "' is an array of arrays, which is not supported"));
    }
    uint64_t n = 0;
    RETURN_IF_ERROR(Read(&n, absl::StrCat("array length of key '", ToAbsl(key), "'")));
    v->elem_type_ = static_cast<GgufType>(et);
    v->count_ = n;
    const size_t es = GgufScalarSize(v->elem_type_);
    // Every string costs at least its 8-byte length, so this bounds `n`
    // before anything is reserved.
    const size_t min_size = es ? es : 8;
    if (n > Left() / min_size) {
      return Corrupt(absl::StrFormat("key '%s' at byte %d: array of %d %s elements does not fit in the %d bytes left",
                                     ToAbsl(key), pos_ - 8, n, ToAbsl(GgufTypeName(v->elem_type_)), Left()));
    }
  }
  v->data_ = p_ + pos_;
  if (v->elem_type_ == GgufType::kString) {
    v->strings_.reserve(v->count_);
    for (uint64_t i = 0; i < v->count_; ++i) {
      std::string_view s;
      RETURN_IF_ERROR(ReadString(&s, absl::StrCat("string value of key '", ToAbsl(key), "'")));
      v->strings_.push_back(s);
    }
  } else {
    const size_t es = GgufScalarSize(v->elem_type_);
    const uint64_t bytes = v->count_ * es;  // checked against Left() above for arrays
    if (bytes > Left()) return Truncated(absl::StrCat("value of key '", ToAbsl(key), "'"), bytes);
    if (v->elem_type_ == GgufType::kBool) {
      for (uint64_t i = 0; i < v->count_; ++i) {
        if (p_[pos_ + i] > 1) {
          return Corrupt(absl::StrFormat("key '%s' at byte %d: bool value %d is neither 0 nor 1", ToAbsl(key),
                                         pos_ + i, p_[pos_ + i]));
        }
      }
    }
    pos_ += bytes;
  }
  v->raw_ = std::string_view(reinterpret_cast<const char*>(p_ + start), pos_ - start);
  return absl::OkStatus();
}

absl::Status GgufParser::ParseTensorInfo(uint64_t index, GgufTensor* t) {
  const uint64_t at = pos_;
  RETURN_IF_ERROR(ReadString(&t->name, absl::StrCat("name of tensor ", index)));
  if (t->name.size() > kMaxName) {
    return Corrupt(absl::StrFormat("tensor %d at byte %d: name is %d bytes long, more than ggml's %d", index, at,
                                   t->name.size(), kMaxName));
  }
  const std::string where = absl::StrCat("tensor '", ToAbsl(t->name), "'");
  uint32_t n_dims = 0;
  RETURN_IF_ERROR(Read(&n_dims, absl::StrCat("dimension count of ", where)));
  if (n_dims > kMaxDims) {
    return Corrupt(absl::StrFormat("%s: %d dimensions, more than ggml's %d", where, n_dims, kMaxDims));
  }
  int64_t n_el = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t ne = 0;
    RETURN_IF_ERROR(Read(&ne, absl::StrCat("shape of ", where)));
    if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Corrupt(absl::StrFormat("%s: dimension %d is %d, out of range", where, d, ne));
    }
    const int64_t v = static_cast<int64_t>(ne);
    if (v != 0 && n_el > std::numeric_limits<int64_t>::max() / v) {
      return Corrupt(absl::StrFormat("%s: element count overflows (dimension %d is %d)", where, d, v));
    }
    n_el *= v;
    t->dims.push_back(v);
  }
  t->n_elements = n_el;
  uint32_t type_id = 0;
  RETURN_IF_ERROR(Read(&type_id, absl::StrCat("type of ", where)));
  std::optional<GgmlTypeInfo> info = GetGgmlTypeInfo(type_id);
  if (!info) return Corrupt(absl::StrFormat("%s: unknown ggml type %d", where, type_id));
  t->type = info->type;
  const int64_t ne0 = t->dims.empty() ? 1 : t->dims[0];
  if (ne0 % info->block_size != 0) {
    return Corrupt(absl::StrFormat("%s: row length %d is not a multiple of %s's block size %d", where, ne0,
                                   ToAbsl(info->name), info->block_size));
  }
  const uint64_t blocks = static_cast<uint64_t>(n_el / info->block_size);
  if (blocks > std::numeric_limits<uint64_t>::max() / info->type_size) {
    return Corrupt(absl::StrFormat("%s: byte size overflows", where));
  }
  t->n_bytes = blocks * info->type_size;
  RETURN_IF_ERROR(Read(&t->offset, absl::StrCat("data offset of ", where)));
  return absl::OkStatus();
}

absl::Status GgufParser::Parse() {
  if (size_ < 4 || std::memcmp(p_, "GGUF", 4) != 0) {
    return Corrupt("not a GGUF file (the first 4 bytes are not \"GGUF\")");
  }
  pos_ = 4;
  uint32_t version = 0;
  RETURN_IF_ERROR(Read(&version, "version"));
  if (version == 0x03000000 || version == 0x02000000) {
    return absl::UnimplementedError(absl::StrCat(f_->name_, ": big-endian GGUF files are not supported"));
  }
  if (version == 1) {
    return absl::UnimplementedError(absl::StrCat(f_->name_, ": GGUF version 1 is not supported; convert to version 3"));
  }
  if (version != 2 && version != 3) {
    return Corrupt(absl::StrFormat("unsupported GGUF version %d (expected 3)", version));
  }
  f_->version_ = version;
  uint64_t n_tensors = 0, n_kv = 0;
  RETURN_IF_ERROR(Read(&n_tensors, "tensor count"));
  RETURN_IF_ERROR(Read(&n_kv, "metadata count"));
  // Smallest encodings: a KV is key length + type + 1-byte value (13 bytes);
  // a tensor info is name length + dims count + type + offset (24 bytes).
  if (n_kv > Left() / 13) {
    return Corrupt(absl::StrFormat("metadata count %d cannot fit in the %d bytes after the header", n_kv, Left()));
  }
  if (n_tensors > Left() / 24) {
    return Corrupt(absl::StrFormat("tensor count %d cannot fit in the %d bytes after the header", n_tensors, Left()));
  }

  f_->kvs_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t at = pos_;
    GgufKv kv;
    RETURN_IF_ERROR(ReadString(&kv.key, absl::StrCat("key of metadata entry ", i)));
    uint32_t type_id = 0;
    RETURN_IF_ERROR(Read(&type_id, absl::StrCat("type of key '", ToAbsl(kv.key), "'")));
    if (type_id >= kGgufTypeCount) {
      return Corrupt(absl::StrFormat("key '%s' at byte %d: unknown value type %d", ToAbsl(kv.key), at, type_id));
    }
    RETURN_IF_ERROR(ReadValue(static_cast<GgufType>(type_id), kv.key, &kv.value));
    auto [it, inserted] = f_->kv_index_.emplace(std::string(kv.key), f_->kvs_.size());
    if (!inserted) return Corrupt(absl::StrFormat("duplicate key '%s' at byte %d", ToAbsl(kv.key), at));
    f_->kvs_.push_back(std::move(kv));
  }

  const std::string_view align_key = GgufKeyName(GgufKey::kGeneralAlignment);
  if (const GgufValue* a = f_->Find(align_key)) {
    if (a->type() != GgufType::kUint32) {
      return Corrupt(
          absl::StrCat(ToAbsl(align_key), " has type ", ToAbsl(GgufTypeName(a->type())), ", expected u32"));
    }
    const uint64_t al = *a->AsUint();
    if (al == 0 || (al & (al - 1)) != 0) {
      return Corrupt(absl::StrFormat("%s %d is not a power of two", ToAbsl(align_key), al));
    }
    f_->alignment_ = static_cast<uint32_t>(al);
  }

  f_->tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    RETURN_IF_ERROR(ParseTensorInfo(i, &t));
    auto [it, inserted] = f_->tensor_index_.emplace(std::string(t.name), f_->tensors_.size());
    if (!inserted) return Corrupt(absl::StrCat("duplicate tensor name '", ToAbsl(t.name), "'"));
    f_->tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t al = f_->alignment_;
  const uint64_t data_start = pos_ + (al - pos_ % al) % al;
  f_->data_offset_ = data_start;
  if (!f_->tensors_.empty() && data_start > size_) {
    return Corrupt(absl::StrFormat("data section would start at byte %d, past the end of the %d-byte file",
                                   data_start, size_));
  }
  const uint64_t data_size = data_start <= size_ ? size_ - data_start : 0;

  std::vector<size_t> order(f_->tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (GgufTensor& t : f_->tensors_) {
    if (t.offset % al != 0) {
      return Corrupt(absl::StrFormat("tensor '%s': data offset %d is not a multiple of the alignment %d",
                                     ToAbsl(t.name), t.offset, al));
    }
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      return Corrupt(absl::StrFormat(
          "tensor '%s': data [%d, +%d) runs past the end of the file (data section holds %d bytes); truncated file?",
          ToAbsl(t.name), t.offset, t.n_bytes, data_size));
    }
    t.data = p_ + data_start + t.offset;
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return f_->tensors_[a].offset < f_->tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const GgufTensor& prev = f_->tensors_[order[k - 1]];
    const GgufTensor& cur = f_->tensors_[order[k]];
    if (prev.n_bytes > 0 && cur.n_bytes > 0 && prev.offset + prev.n_bytes > cur.offset) {
      return Corrupt(absl::StrFormat("tensors '%s' and '%s' overlap (data at %d+%d and %d)", ToAbsl(prev.name),
                                     ToAbsl(cur.name), prev.offset, prev.n_bytes, cur.offset));
    }
  }
  return absl::OkStatus();
}

// ---- GgufFile ----

GgufFile::~GgufFile() {
  if (map_ != nullptr) munmap(map_, map_size_);
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBuffer(std::string_view bytes, std::string name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = std::move(name);
  f->base_ = reinterpret_cast<const uint8_t*>(bytes.data());
  f->size_ = bytes.size();
  GgufParser parser(f.get());
  RETURN_IF_ERROR(parser.Parse());
  return f;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(err)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = path;
  f->size_ = static_cast<uint64_t>(st.st_size);
  if (st.st_size > 0) {
    void* m = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return absl::ResourceExhaustedError(absl::StrCat(path, ": mmap failed: ", std::strerror(err)));
    }
    f->map_ = m;
    f->map_size_ = static_cast<size_t>(st.st_size);
    f->base_ = static_cast<const uint8_t*>(m);
  } else {
    static const uint8_t kEmpty = 0;
    f->base_ = &kEmpty;
  }
  ::close(fd);
  GgufParser parser(f.get());
  RETURN_IF_ERROR(parser.Parse());
  return f;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufTensor* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

absl::Status Missing(const GgufFile& f, std::string_view key) {
  return absl::NotFoundError(absl::StrCat(f.name(), ": key '", ToAbsl(key), "' not found"));
}

absl::Status WrongType(const GgufFile& f, std::string_view key, const GgufValue& v, std::string_view want) {
  std::string have(GgufTypeName(v.type()));
  if (v.is_array()) have = absl::StrCat("array of ", ToAbsl(GgufTypeName(v.elem_type())));
  return absl::DataLossError(
      absl::StrCat(f.name(), ": key '", ToAbsl(key), "' has type ", have, ", expected ", ToAbsl(want)));
}

template <typename Int>
absl::StatusOr<Int> GetInt(const GgufFile& f, std::string_view key, std::string_view want) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return Missing(f, key);
  if (v->is_array()) return WrongType(f, key, *v, want);
  if constexpr (std::is_unsigned_v<Int>) {
    std::optional<uint64_t> x = v->AsUint();
    if (x && *x <= std::numeric_limits<Int>::max()) return static_cast<Int>(*x);
  } else {
    std::optional<int64_t> x = v->AsInt();
    if (x && *x >= std::numeric_limits<Int>::min() && *x <= std::numeric_limits<Int>::max()) {
      return static_cast<Int>(*x);
    }
  }
  if (v->AsInt() || v->AsUint()) {
    return absl::DataLossError(absl::StrCat(f.name(), ": key '", ToAbsl(key), "' value is out of range for ",
                                            ToAbsl(want)));
  }
  return WrongType(f, key, *v, want);
}

template <typename Elem, typename Conv>
absl::StatusOr<std::vector<Elem>> GetArray(const GgufFile& f, std::string_view key, std::string_view want,
                                           Conv conv) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return Missing(f, key);
  if (!v->is_array()) return WrongType(f, key, *v, want);
  std::vector<Elem> out;
  out.reserve(v->size());
  for (uint64_t i = 0; i < v->size(); ++i) {
    std::optional<Elem> e = conv(*v, i);
    if (!e) {
      if (i == 0) return WrongType(f, key, *v, want);
      return absl::DataLossError(
          absl::StrCat(f.name(), ": key '", ToAbsl(key), "' element ", i, " is out of range for ", ToAbsl(want)));
    }
    out.push_back(*e);
  }
  if (v->size() == 0 && GgufScalarSize(v->elem_type()) == 0 && want != "array of string") {
    return WrongType(f, key, *v, want);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (v->type() != GgufType::kString) return WrongType(*this, key, *v, "string");
  return *v->AsString();
}

absl::StatusOr<uint32_t> GgufFile::GetU32(std::string_view key) const { return GetInt<uint32_t>(*this, key, "u32"); }
absl::StatusOr<uint64_t> GgufFile::GetU64(std::string_view key) const { return GetInt<uint64_t>(*this, key, "u64"); }
absl::StatusOr<int32_t> GgufFile::GetI32(std::string_view key) const { return GetInt<int32_t>(*this, key, "i32"); }

absl::StatusOr<float> GgufFile::GetF32(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (v->type() != GgufType::kFloat32 && v->type() != GgufType::kFloat64) return WrongType(*this, key, *v, "f32");
  return static_cast<float>(*v->AsDouble());
}

absl::StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (v->type() != GgufType::kBool) return WrongType(*this, key, *v, "bool");
  return *v->AsBool();
}

absl::StatusOr<std::vector<std::string_view>> GgufFile::GetStringArray(std::string_view key) const {
  return GetArray<std::string_view>(*this, key, "array of string",
                                    [](const GgufValue& v, uint64_t i) { return v.AsString(i); });
}

absl::StatusOr<std::vector<float>> GgufFile::GetF32Array(std::string_view key) const {
  return GetArray<float>(*this, key, "array of f32", [](const GgufValue& v, uint64_t i) -> std::optional<float> {
    if (v.elem_type() != GgufType::kFloat32 && v.elem_type() != GgufType::kFloat64) return std::nullopt;
    return static_cast<float>(*v.AsDouble(i));
  });
}

absl::StatusOr<std::vector<int32_t>> GgufFile::GetI32Array(std::string_view key) const {
  return GetArray<int32_t>(*this, key, "array of i32", [](const GgufValue& v, uint64_t i) -> std::optional<int32_t> {
    std::optional<int64_t> x = v.AsInt(i);
    if (!x || *x < std::numeric_limits<int32_t>::min() || *x > std::numeric_limits<int32_t>::max()) {
      return std::nullopt;
    }
    return static_cast<int32_t>(*x);
  });
}

absl::StatusOr<std::vector<uint32_t>> GgufFile::GetU32Array(std::string_view key) const {
  return GetArray<uint32_t>(*this, key, "array of u32", [](const GgufValue& v, uint64_t i) -> std::optional<uint32_t> {
    std::optional<uint64_t> x = v.AsUint(i);
    if (!x || *x > std::numeric_limits<uint32_t>::max()) return std::nullopt;
    return static_cast<uint32_t>(*x);
  });
}

}  // namespace llmtk
