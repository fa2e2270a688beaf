#include "lib/formats/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "simdjson.h"

namespace llmtk {
namespace {

// The safetensors format caps headers at 100 MB; a longer one is a lie.
constexpr uint64_t kMaxHeader = 100u << 20;

bool IsFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
std::string DirOf(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

}  // namespace

size_t SafetensorsDtypeSize(std::string_view d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

absl::Status SafetensorsModel::AddFile(const uint8_t* data, size_t size, const std::string& name,
                                       const std::vector<std::string>* only) {
  auto bad = [&](std::string_view msg) { return absl::DataLossError(absl::StrCat(name, ": ", ToAbsl(msg))); };
  if (size < 8) return bad("too short for a safetensors header (need 8 bytes)");
  uint64_t hlen;
  std::memcpy(&hlen, data, 8);
  if (hlen > kMaxHeader) return bad(absl::StrFormat("header length %d exceeds the 100 MB limit", hlen));
  if (hlen > size - 8) {
    return bad(absl::StrFormat("header length %d runs past the end of the %d-byte file", hlen, size));
  }
  const uint8_t* data_start = data + 8 + hlen;
  const uint64_t data_size = size - 8 - hlen;
  simdjson::padded_string header(reinterpret_cast<const char*>(data + 8), static_cast<size_t>(hlen));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(header).get(doc); err) {
    return bad(absl::StrCat("header is not valid JSON (", simdjson::error_message(err), ")"));
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root)) return bad("header is not a JSON object");

  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  absl::flat_hash_map<std::string, bool> seen;
  for (auto [key_sv, value] : root) {
    const std::string key(key_sv);
    if (!seen.emplace(key, true).second) return bad(absl::StrCat("duplicate tensor '", key, "' in header"));
    if (key == "__metadata__") continue;
    const std::string where = absl::StrCat("tensor '", key, "'");
    simdjson::dom::object t;
    if (value.get_object().get(t)) return bad(absl::StrCat(where, ": entry is not an object"));
    std::string_view dtype;
    if (t["dtype"].get_string().get(dtype)) return bad(absl::StrCat(where, ": missing or non-string dtype"));
    const size_t es = SafetensorsDtypeSize(dtype);
    if (es == 0) return bad(absl::StrCat(where, ": unknown dtype '", ToAbsl(dtype), "'"));
    simdjson::dom::array shape, offsets;
    if (t["shape"].get_array().get(shape)) return bad(absl::StrCat(where, ": missing or non-array shape"));
    if (t["data_offsets"].get_array().get(offsets)) return bad(absl::StrCat(where, ": missing data_offsets"));
    SafetensorsTensor st;
    st.name = key;
    st.dtype = std::string(dtype);
    st.dtype_size = es;
    uint64_t n = 1;
    for (auto d : shape) {
      uint64_t v;
      if (d.get_uint64().get(v)) return bad(absl::StrCat(where, ": shape holds a non-integer or negative value"));
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (v != 0 && n > std::numeric_limits<uint64_t>::max() / v)) {
        return bad(absl::StrCat(where, ": element count overflows"));
      }
      n *= v;
      st.shape.push_back(static_cast<int64_t>(v));
    }
    if (n > std::numeric_limits<uint64_t>::max() / es || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad(absl::StrCat(where, ": byte size overflows"));
    }
    uint64_t off[2];
    size_t k = 0;
    for (auto o : offsets) {
      if (k == 2 || o.get_uint64().get(off[k])) return bad(absl::StrCat(where, ": data_offsets must be two integers"));
      ++k;
    }
    if (k != 2) return bad(absl::StrCat(where, ": data_offsets must be two integers"));
    if (off[0] > off[1] || off[1] > data_size) {
      return bad(absl::StrFormat("%s: data_offsets [%d, %d] lie outside the %d-byte data section", where, off[0],
                                 off[1], data_size));
    }
    if (off[1] - off[0] != n * es) {
      return bad(absl::StrFormat("%s: data_offsets span %d bytes but shape and %s need %d", where, off[1] - off[0],
                                 ToAbsl(dtype), n * es));
    }
    st.n_elements = static_cast<int64_t>(n);
    st.data = data_start + off[0];
    st.n_bytes = static_cast<size_t>(off[1] - off[0]);
    st.file = name;
    if (only != nullptr && std::find(only->begin(), only->end(), key) == only->end()) continue;
    ranges.push_back({off[0], off[1], tensors_.size()});
    if (!index_.emplace(key, tensors_.size()).second) {
      return bad(absl::StrCat("tensor '", key, "' appears in more than one shard"));
    }
    tensors_.push_back(std::move(st));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i - 1].end > ranges[i].begin && ranges[i].end > ranges[i].begin) {
      return bad(absl::StrCat("tensors '", tensors_[ranges[i - 1].index].name, "' and '",
                              tensors_[ranges[i].index].name, "' overlap"));
    }
  }
  if (only != nullptr) {
    for (const std::string& want : *only) {
      if (!index_.contains(want)) {
        return bad(absl::StrCat("tensor '", want, "' is listed in the index but missing from this shard"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SafetensorsModel>> SafetensorsModel::FromBuffer(std::string_view bytes,
                                                                               std::string name) {
  std::unique_ptr<SafetensorsModel> m(new SafetensorsModel());
  RETURN_IF_ERROR(m->AddFile(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name, nullptr));
  return m;
}

absl::StatusOr<std::unique_ptr<SafetensorsModel>> SafetensorsModel::Open(const std::string& path) {
  std::string index, single;
  if (IsDir(path)) {
    if (IsFile(path + "/model.safetensors.index.json")) {
      index = path + "/model.safetensors.index.json";
    } else if (IsFile(path + "/model.safetensors")) {
      single = path + "/model.safetensors";
    } else {
      return absl::NotFoundError(
          absl::StrCat(path, ": no model.safetensors or model.safetensors.index.json in this directory"));
    }
  } else if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    index = path;
  } else {
    single = path;
  }
  std::unique_ptr<SafetensorsModel> m(new SafetensorsModel());
  if (!single.empty()) {
    ASSIGN_OR_RETURN(auto map, MappedFile::Open(single));
    RETURN_IF_ERROR(m->AddFile(map->data(), map->size(), single, nullptr));
    m->maps_.push_back(std::move(map));
    return m;
  }
  simdjson::dom::parser parser;
  simdjson::padded_string json;
  if (auto err = simdjson::padded_string::load(index).get(json); err) {
    return absl::NotFoundError(absl::StrCat(index, ": cannot read (", simdjson::error_message(err), ")"));
  }
  simdjson::dom::element doc;
  if (auto err = parser.parse(json).get(doc); err) {
    return absl::DataLossError(absl::StrCat(index, ": not valid JSON (", simdjson::error_message(err), ")"));
  }
  simdjson::dom::object weight_map;
  if (doc["weight_map"].get_object().get(weight_map)) {
    return absl::DataLossError(absl::StrCat(index, ": missing \"weight_map\" object"));
  }
  std::map<std::string, std::vector<std::string>> by_file;  // sorted shard names, as convert_hf_to_gguf
  for (auto [name, file] : weight_map) {
    std::string_view f;
    if (file.get_string().get(f)) {
      return absl::DataLossError(absl::StrCat(index, ": weight_map entry '", std::string(name), "' is not a string"));
    }
    if (f.find('/') != std::string_view::npos || f == ".." || f.empty()) {
      return absl::DataLossError(absl::StrCat(index, ": shard name '", std::string(f), "' is not a plain file name"));
    }
    by_file[std::string(f)].push_back(std::string(name));
  }
  const std::string dir = DirOf(index);
  for (const auto& [file, names] : by_file) {
    const std::string p = dir + "/" + file;
    ASSIGN_OR_RETURN(auto map, MappedFile::Open(p));
    RETURN_IF_ERROR(m->AddFile(map->data(), map->size(), p, &names));
    m->maps_.push_back(std::move(map));
  }
  return m;
}

const SafetensorsTensor* SafetensorsModel::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace llmtk
