#include "lib/formats/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/io.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

template <typename U>
void Put(std::string* out, U v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(U));
}
void PutString(std::string* out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out->append(s.data(), s.size());
}

uint64_t Pad(uint64_t n, uint64_t al) { return (al - n % al) % al; }

uint32_t AlignmentOf(const GgufMetadata& md) {
  const GgufMetadata::Entry* e = md.Find(GgufKeyName(GgufKey::kGeneralAlignment));
  if (e == nullptr || e->type != GgufType::kUint32 || e->payload.size() != 4) return kGgufDefaultAlignment;
  uint32_t al;
  std::memcpy(&al, e->payload.data(), 4);
  return al != 0 && (al & (al - 1)) == 0 ? al : kGgufDefaultAlignment;
}

std::string SerializeHeader(const GgufMetadata& md, const std::vector<GgufTensorSpec>& tensors,
                            const std::vector<size_t>& sizes, uint32_t al) {
  std::string h;
  h.append("GGUF", 4);
  Put<uint32_t>(&h, 3);
  Put<uint64_t>(&h, tensors.size());
  Put<uint64_t>(&h, md.entries().size());
  for (const auto& e : md.entries()) {
    PutString(&h, e.key);
    Put<uint32_t>(&h, static_cast<uint32_t>(e.type));
    h.append(e.payload);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorSpec& t = tensors[i];
    PutString(&h, t.name);
    Put<uint32_t>(&h, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) Put<uint64_t>(&h, static_cast<uint64_t>(d));
    Put<uint32_t>(&h, static_cast<uint32_t>(t.type));
    Put<uint64_t>(&h, offset);
    offset += sizes[i] + Pad(sizes[i], al);
  }
  h.append(Pad(h.size(), al), '\0');
  return h;
}

absl::Status WriteAll(int fd, const void* p, size_t n, const std::string& path) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return absl::ResourceExhaustedError(absl::StrCat(path, ": write failed: ", std::strerror(errno)));
    }
    c += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<size_t>> Sizes(const std::vector<GgufTensorSpec>& tensors) {
  std::vector<size_t> sizes;
  sizes.reserve(tensors.size());
  for (const auto& t : tensors) {
    ASSIGN_OR_RETURN(size_t n, TensorBytes(t));
    sizes.push_back(n);
  }
  return sizes;
}

}  // namespace

// ---- GgufMetadata ----

const GgufMetadata::Entry* GgufMetadata::Find(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

void GgufMetadata::SetRaw(std::string_view key, GgufType type, std::string_view payload) {
  Remove(key);
  entries_.push_back(Entry{std::string(key), type, std::string(payload)});
}

void GgufMetadata::ReplaceU32(std::string_view key, uint32_t value) {
  std::string p;
  Put(&p, value);
  for (auto& e : entries_) {
    if (e.key == key) {
      e.type = GgufType::kUint32;
      e.payload = p;
      return;
    }
  }
  entries_.push_back(Entry{std::string(key), GgufType::kUint32, p});
}

void GgufMetadata::Remove(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key == key) {
      entries_.erase(it);
      return;
    }
  }
}

void GgufMetadata::SetString(std::string_view key, std::string_view value) {
  std::string p;
  PutString(&p, value);
  SetRaw(key, GgufType::kString, p);
}
void GgufMetadata::SetU32(std::string_view key, uint32_t value) {
  std::string p;
  Put(&p, value);
  SetRaw(key, GgufType::kUint32, p);
}
void GgufMetadata::SetI32(std::string_view key, int32_t value) {
  std::string p;
  Put(&p, value);
  SetRaw(key, GgufType::kInt32, p);
}
void GgufMetadata::SetU64(std::string_view key, uint64_t value) {
  std::string p;
  Put(&p, value);
  SetRaw(key, GgufType::kUint64, p);
}
void GgufMetadata::SetF32(std::string_view key, float value) {
  std::string p;
  Put(&p, value);
  SetRaw(key, GgufType::kFloat32, p);
}
void GgufMetadata::SetBool(std::string_view key, bool value) {
  std::string p;
  Put<uint8_t>(&p, value ? 1 : 0);
  SetRaw(key, GgufType::kBool, p);
}
void GgufMetadata::SetStringArray(std::string_view key, const std::vector<std::string>& values) {
  std::string p;
  Put<uint32_t>(&p, static_cast<uint32_t>(GgufType::kString));
  Put<uint64_t>(&p, values.size());
  for (const auto& v : values) PutString(&p, v);
  SetRaw(key, GgufType::kArray, p);
}
void GgufMetadata::SetF32Array(std::string_view key, const std::vector<float>& values) {
  std::string p;
  Put<uint32_t>(&p, static_cast<uint32_t>(GgufType::kFloat32));
  Put<uint64_t>(&p, values.size());
  for (float v : values) Put(&p, v);
  SetRaw(key, GgufType::kArray, p);
}
void GgufMetadata::SetI32Array(std::string_view key, const std::vector<int32_t>& values) {
  std::string p;
  Put<uint32_t>(&p, static_cast<uint32_t>(GgufType::kInt32));
  Put<uint64_t>(&p, values.size());
  for (int32_t v : values) Put(&p, v);
  SetRaw(key, GgufType::kArray, p);
}

void GgufMetadata::CopyFrom(const GgufFile& file) {
  for (const GgufKv& kv : file.metadata()) SetRaw(kv.key, kv.value.type(), kv.value.raw());
}

// ---- writing ----

absl::StatusOr<size_t> TensorBytes(const GgufTensorSpec& spec) {
  const int64_t ne0 = spec.dims.empty() ? 1 : spec.dims[0];
  std::optional<size_t> row = GgmlRowSize(spec.type, ne0);
  if (!row) {
    return absl::InvalidArgumentError(absl::StrFormat("tensor '%s': row length %d does not split into %s blocks",
                                                      spec.name, ne0, ToAbsl(GgmlTypeName(spec.type))));
  }
  uint64_t total = *row;
  for (size_t i = 1; i < spec.dims.size(); ++i) {
    const uint64_t d = static_cast<uint64_t>(spec.dims[i]);
    if (spec.dims[i] < 0 || (d != 0 && total > std::numeric_limits<size_t>::max() / d)) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", spec.name, "': size overflows"));
    }
    total *= d;
  }
  return static_cast<size_t>(total);
}

absl::StatusOr<uint64_t> GgufFileSize(const GgufMetadata& metadata, const std::vector<GgufTensorSpec>& tensors) {
  ASSIGN_OR_RETURN(std::vector<size_t> sizes, Sizes(tensors));
  const uint32_t al = AlignmentOf(metadata);
  uint64_t total = SerializeHeader(metadata, tensors, sizes, al).size();
  for (size_t s : sizes) total += s + Pad(s, al);
  return total;
}

absl::Status WriteGguf(const std::string& path, const GgufMetadata& metadata,
                       const std::vector<GgufTensorSpec>& tensors, const GgufTensorFill& fill) {
  ASSIGN_OR_RETURN(std::vector<size_t> sizes, Sizes(tensors));
  const uint32_t al = AlignmentOf(metadata);
  const std::string header = SerializeHeader(metadata, tensors, sizes, al);

  RETURN_IF_ERROR(CreateParentDirectories(path));
  std::string tmp = absl::StrCat(path, ".tmp.XXXXXX");
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot create output: ", std::strerror(errno)));
  }
  auto fail = [&](absl::Status s) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  absl::Status s = WriteAll(fd, header.data(), header.size(), path);
  if (!s.ok()) return fail(s);
  std::vector<uint8_t> buf;
  for (size_t i = 0; i < tensors.size(); ++i) {
    buf.resize(sizes[i] + Pad(sizes[i], al));
    std::memset(buf.data() + sizes[i], 0, buf.size() - sizes[i]);
    s = fill(i, buf.data(), sizes[i]);
    if (!s.ok()) return fail(s);
    s = WriteAll(fd, buf.data(), buf.size(), path);
    if (!s.ok()) return fail(s);
  }
  if (::fchmod(fd, 0644) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return absl::ResourceExhaustedError(absl::StrCat(path, ": closing output failed: ", std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return absl::NotFoundError(absl::StrCat(path, ": cannot rename output into place: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status RewriteGguf(const GgufFile& file, const std::string& path) {
  GgufMetadata md;
  md.CopyFrom(file);
  std::vector<GgufTensorSpec> specs;
  for (const GgufTensor& t : file.tensors()) specs.push_back({std::string(t.name), t.type, t.dims});
  return WriteGguf(path, md, specs, [&](size_t i, uint8_t* out, size_t n) {
    std::memcpy(out, file.tensors()[i].data, n);
    return absl::OkStatus();
  });
}

}  // namespace llmtk
