#include "lib/formats/imatrix_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/base/io.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_writer.h"

namespace llmtk {
namespace {

constexpr char kSum2Suffix[] = ".in_sum2";
constexpr char kCountsSuffix[] = ".counts";
constexpr char kRecompute[] = "; recompute the imatrix with llmtk-quant imatrix";
constexpr char kNotImatrix[] = "; give a file written by llmtk-quant imatrix or llama-imatrix";

bool IsGguf(std::string_view bytes) { return bytes.size() >= 4 && bytes.substr(0, 4) == "GGUF"; }

// Little-endian reads over a whole .dat, each failure naming where it stopped.
class DatReader {
 public:
  DatReader(std::string_view bytes, const std::string& path) : b_(bytes), path_(path) {}
  size_t offset() const { return off_; }
  bool at_end() const { return off_ >= b_.size(); }

  absl::StatusOr<int32_t> I32(std::string_view what) {
    int32_t v = 0;
    RETURN_IF_ERROR(Bytes(&v, sizeof v, what));
    return v;
  }
  absl::Status Bytes(void* out, size_t n, std::string_view what) {
    if (b_.size() - off_ < n) {
      return absl::DataLossError(absl::StrCat(path_, ": truncated imatrix file: ", ToAbsl(what), " needs ", n,
                                              " bytes at offset ", off_, " but the file has ", b_.size(),
                                              " bytes; recompute it with llmtk-quant imatrix"));
    }
    std::memcpy(out, b_.data() + off_, n);
    off_ += n;
    return absl::OkStatus();
  }

 private:
  std::string_view b_;
  const std::string& path_;
  size_t off_ = 0;
};

struct DatEntry {
  std::string name;
  int32_t ncall = 0;
  std::vector<float> values;
};

struct DatFile {
  std::vector<DatEntry> entries;
  bool has_tail = false;
  int32_t last_call = 0;
  std::string dataset;
};

// The .dat's entries and (when present) its tail. Names are checked to be
// tensor names (printable, non-empty) so that a file of another kind is not
// read as a huge garbage entry.
absl::StatusOr<DatFile> ParseDat(std::string_view bytes, const std::string& path) {
  DatReader r(bytes, path);
  DatFile f;
  ASSIGN_OR_RETURN(int32_t n_entries, r.I32("the entry count"));
  if (n_entries < 1) {
    return absl::DataLossError(absl::StrCat(path, ": not an imatrix file, or one without entries (entry count ",
                                            n_entries, " at offset 0)"));
  }
  for (int32_t i = 0; i < n_entries; ++i) {
    const std::string where = absl::StrCat("entry ", i + 1, " of ", n_entries);
    ASSIGN_OR_RETURN(int32_t len, r.I32(absl::StrCat(where, "'s name length")));
    if (len < 1 || len > 4096) {
      return absl::DataLossError(absl::StrCat(path, ": ", where, " has a name length of ", len, " at offset ",
                                              r.offset() - 4, "; not an imatrix file, or a corrupt one", kNotImatrix));
    }
    DatEntry e;
    e.name.resize(static_cast<size_t>(len));
    RETURN_IF_ERROR(r.Bytes(e.name.data(), e.name.size(), absl::StrCat(where, "'s name")));
    for (unsigned char c : e.name) {
      if (c < 0x20 || c == 0x7f) {
        return absl::DataLossError(absl::StrCat(path, ": ", where, "'s name holds byte ", static_cast<int>(c),
                                                "; not an imatrix file, or a corrupt one", kNotImatrix));
      }
    }
    const std::string of = absl::StrCat(where, " ('", e.name, "')");
    ASSIGN_OR_RETURN(e.ncall, r.I32(absl::StrCat(of, "'s ncall")));
    ASSIGN_OR_RETURN(int32_t nval, r.I32(absl::StrCat(of, "'s value count")));
    if (nval < 1) {
      return absl::DataLossError(
          absl::StrCat(path, ": ", of, " has ", nval, " values at offset ", r.offset() - 4, "; a corrupt imatrix file"));
    }
    if (e.ncall <= 0) {
      return absl::DataLossError(absl::StrCat(path, ": ", of, " has a count (ncall) of ", e.ncall, " at offset ",
                                              r.offset() - 8,
                                              ": its values cannot be averaged; recompute the imatrix with text that "
                                              "reaches this matrix"));
    }
    e.values.resize(static_cast<size_t>(nval));
    RETURN_IF_ERROR(r.Bytes(e.values.data(), e.values.size() * sizeof(float), absl::StrCat(of, "'s values")));
    f.entries.push_back(std::move(e));
  }
  // The tail (last call, dataset name) came with later llama-imatrix versions;
  // llama-quantize reads it when anything follows the entries.
  if (!r.at_end()) {
    f.has_tail = true;
    ASSIGN_OR_RETURN(f.last_call, r.I32("the chunk count after the entries"));
    ASSIGN_OR_RETURN(int32_t len, r.I32("the dataset name length"));
    if (len < 0) return absl::DataLossError(absl::StrCat(path, ": negative dataset name length at offset ", r.offset() - 4));
    f.dataset.resize(static_cast<size_t>(len));
    RETURN_IF_ERROR(r.Bytes(f.dataset.data(), f.dataset.size(), "the dataset name"));
  }
  return f;
}

struct GgufEntry {
  const GgufTensor* sum2 = nullptr;
  const GgufTensor* counts = nullptr;
};

// The GGUF form's matrices by name (sorted, as llama.cpp's loader visits
// them), each with both of its tensors checked.
absl::StatusOr<std::map<std::string, GgufEntry>> GgufEntries(const GgufFile& f, const std::string& path) {
  std::map<std::string, GgufEntry> out;
  for (const GgufTensor& t : f.tensors()) {
    std::string_view name = t.name;
    GgufEntry* e = nullptr;
    bool is_sum2 = false;
    if (name.ends_with(kSum2Suffix)) {
      e = &out[std::string(name.substr(0, name.size() - std::strlen(kSum2Suffix)))];
      is_sum2 = true;
    } else if (name.ends_with(kCountsSuffix)) {
      e = &out[std::string(name.substr(0, name.size() - std::strlen(kCountsSuffix)))];
    } else {
      continue;  // .in_sum (means of x, newer files) and anything else: not used
    }
    if (t.type != GgmlType::kF32) {
      return absl::DataLossError(absl::StrCat(path, ": imatrix tensor '", ToAbsl(name), "' is ", ToAbsl(GgmlTypeName(t.type)),
                                              ", not F32", kRecompute));
    }
    (is_sum2 ? e->sum2 : e->counts) = &t;
  }
  if (out.empty()) {
    return absl::DataLossError(absl::StrCat(path, ": a GGUF file without imatrix tensors (<name>", kSum2Suffix,
                                            " and <name>", kCountsSuffix,
                                            ")", kNotImatrix));
  }
  for (const auto& [name, e] : out) {
    if (!e.sum2 || !e.counts) {
      return absl::DataLossError(absl::StrCat(path, ": imatrix entry '", name, "' has ",
                                              e.sum2 ? kSum2Suffix : kCountsSuffix, " but no ",
                                              e.sum2 ? kCountsSuffix : kSum2Suffix, kRecompute));
    }
    const int64_t n_mat = e.counts->n_elements;
    if (n_mat < 1 || e.sum2->n_elements < 1 || e.sum2->n_elements % n_mat != 0) {
      return absl::DataLossError(absl::StrCat(path, ": imatrix entry '", name, "' has ", e.sum2->n_elements,
                                              " sums for ", n_mat, " counts", kRecompute));
    }
    const float* c = reinterpret_cast<const float*>(e.counts->data);
    bool any = false;
    for (int64_t j = 0; j < n_mat; ++j) {
      if (!(c[j] >= 0) || !std::isfinite(c[j])) {
        return absl::DataLossError(absl::StrCat(path, ": imatrix entry '", name, "' has count ", c[j], kRecompute));
      }
      any |= c[j] > 0;
    }
    if (!any) {
      return absl::DataLossError(absl::StrCat(path, ": imatrix entry '", name,
                                              "' has a zero count: its sums cannot be averaged; recompute the "
                                              "imatrix with text that reaches this matrix"));
    }
  }
  return out;
}

std::vector<std::string> GgufDatasets(const GgufFile& f) {
  std::vector<std::string> out;
  auto v = f.GetStringArray(GgufKeyName(GgufKey::kImatrixDatasets));
  if (v.ok()) {
    for (std::string_view s : *v) out.emplace_back(s);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<GgufFile>> OpenGguf(const std::string& path) {
  auto f = GgufFile::Open(path);
  if (f.ok()) return f;
  // The reader's messages end in a clause, or in a question ("truncated file?").
  const std::string why(f.status().message());
  if (why.ends_with('?')) {
    return absl::DataLossError(absl::StrCat("imatrix ", why, " Recompute the imatrix with llmtk-quant imatrix"));
  }
  return absl::DataLossError(absl::StrCat("imatrix ", why, kRecompute));
}

}  // namespace

absl::Status LoadImatrix(const std::string& path, int chunk_size, Imatrix* m) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (!IsGguf(bytes)) {
    ASSIGN_OR_RETURN(DatFile f, ParseDat(bytes, path));
    for (const DatEntry& d : f.entries) {
      ImatrixStats& e = m->stats[d.name];
      if (e.values.empty()) {
        e.values.assign(d.values.size(), 0.f);
        e.counts.assign(d.values.size(), 0);
        e.legacy = true;
      } else if (e.values.size() != d.values.size()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": entry '", d.name, "' has ", d.values.size(),
                                                       " values, but ", e.values.size(), " were loaded before"));
      }
      for (size_t i = 0; i < d.values.size(); ++i) {
        e.values[i] += d.values[i];
        e.counts[i] += d.ncall;
      }
      e.ncall += d.ncall;
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, OpenGguf(path));
  ASSIGN_OR_RETURN(auto entries, GgufEntries(*f, path));
  for (std::string& d : GgufDatasets(*f)) m->datasets.push_back(std::move(d));
  int64_t max_count = 0;
  for (const auto& [name, g] : entries) {
    const int64_t n_mat = g.counts->n_elements, nval = g.sum2->n_elements, cols = nval / n_mat;
    ImatrixStats& e = m->stats[name];
    if (e.values.empty()) {
      e.values.assign(static_cast<size_t>(nval), 0.f);
      e.counts.assign(static_cast<size_t>(nval), 0);
      e.n_mat = static_cast<int>(n_mat);
    } else if (e.values.size() != static_cast<size_t>(nval) || e.n_mat != n_mat) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": entry '", name, "' has ", nval, " sums in ", n_mat,
                                                     " matrices, but ", e.values.size(), " in ", e.n_mat,
                                                     " were loaded before"));
    }
    const float* s = reinterpret_cast<const float*>(g.sum2->data);
    const float* c = reinterpret_cast<const float*>(g.counts->data);
    int64_t most = 0;
    for (int64_t j = 0; j < nval; ++j) e.values[j] += s[j];
    for (int64_t k = 0; k < n_mat; ++k) {
      const int64_t add = std::lround(c[k]);
      for (int64_t j = 0; j < cols; ++j) e.counts[k * cols + j] += add;
      most = std::max(most, e.counts[k * cols]);
    }
    max_count = std::max(max_count, most);
    if (chunk_size > 0) e.ncall = static_cast<int>((most + chunk_size - 1) / chunk_size);
  }
  if (chunk_size > 0) m->last_call = std::max(m->last_call, static_cast<int>(max_count / chunk_size));
  return absl::OkStatus();
}

std::string SerializeImatrixDat(const Imatrix& m, std::vector<std::string>* skipped) {
  std::vector<const std::string*> names;
  for (const auto& [name, st] : m.stats) {
    if (st.counts.empty()) continue;
    if (std::find(st.counts.begin(), st.counts.end(), 0) != st.counts.end()) {
      if (skipped) skipped->push_back(name);
      continue;
    }
    names.push_back(&name);
  }
  std::string out;
  auto put = [&out](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  auto put_i32 = [&put](int32_t v) { put(&v, sizeof v); };
  put_i32(static_cast<int32_t>(names.size()));
  for (const std::string* name : names) {
    const ImatrixStats& st = m.stats.at(*name);
    put_i32(static_cast<int32_t>(name->size()));
    put(name->data(), name->size());
    put_i32(st.ncall);
    put_i32(static_cast<int32_t>(st.values.size()));
    for (size_t i = 0; i < st.values.size(); ++i) {
      // llama-imatrix's float arithmetic: (sum / count) * ncall.
      const float v = (st.values[i] / static_cast<float>(st.counts[i])) * static_cast<float>(st.ncall);
      put(&v, sizeof v);
    }
  }
  put_i32(m.last_call);
  // Merging GGUF files only, newer llama-imatrix names the last one's dataset.
  const std::string& dataset = m.prompt_file.empty() && !m.datasets.empty() ? m.datasets.back() : m.prompt_file;
  put_i32(static_cast<int32_t>(dataset.size()));
  put(dataset.data(), dataset.size());
  return out;
}

absl::Status WriteImatrixDat(const Imatrix& m, const std::string& path, std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(path));
  RETURN_IF_ERROR(out->Write(SerializeImatrixDat(m, skipped)));
  return out->Close();
}

absl::Status WriteImatrixGguf(const Imatrix& m, int chunk_size, const std::string& path) {
  std::vector<std::string> names;
  for (const auto& [name, st] : m.stats) names.push_back(name);
  std::sort(names.begin(), names.end());
  GgufMetadata md;
  md.SetString(GgufKeyName(GgufKey::kGeneralType), "imatrix");
  std::vector<std::string> datasets = m.datasets;
  if (!m.prompt_file.empty()) datasets.push_back(m.prompt_file);
  md.SetStringArray(GgufKeyName(GgufKey::kImatrixDatasets), datasets);
  // Merged .dat files leave last_call 0 (as c392e50 does); their chunks are
  // then the largest ncall, as newer llama.cpp derives them.
  int chunks = m.last_call;
  for (const auto& [name, st] : m.stats) chunks = std::max(chunks, m.last_call > 0 ? 0 : st.ncall);
  md.SetU32(GgufKeyName(GgufKey::kImatrixChunkCount), static_cast<uint32_t>(chunks));
  md.SetU32(GgufKeyName(GgufKey::kImatrixChunkSize), static_cast<uint32_t>(chunk_size));
  std::vector<GgufTensorSpec> specs;
  std::vector<std::vector<float>> data;
  for (const std::string& name : names) {
    const ImatrixStats& st = m.stats.at(name);
    if (st.values.empty()) continue;
    const int64_t n_mat = st.n_mat, cols = static_cast<int64_t>(st.values.size()) / n_mat;
    const float scale = st.legacy && chunk_size > 0 ? static_cast<float>(chunk_size) : 1.f;
    std::vector<float> sums(st.values.size()), counts(static_cast<size_t>(n_mat));
    for (size_t j = 0; j < sums.size(); ++j) sums[j] = st.values[j] * scale;
    for (int64_t k = 0; k < n_mat; ++k) counts[k] = static_cast<float>(st.counts[k * cols]) * scale;
    specs.push_back({absl::StrCat(name, kSum2Suffix), GgmlType::kF32, {cols, n_mat}});
    data.push_back(std::move(sums));
    specs.push_back({absl::StrCat(name, kCountsSuffix), GgmlType::kF32, {1, n_mat}});
    data.push_back(std::move(counts));
  }
  return WriteGguf(path, md, specs, [&data](size_t i, uint8_t* out, size_t n) {
    std::memcpy(out, data[i].data(), n);
    return absl::OkStatus();
  });
}

absl::StatusOr<ImatrixWeights> ReadImatrixWeights(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  ImatrixWeights w;
  auto check_finite = [&path](const std::string& name, const std::vector<float>& v) -> absl::Status {
    for (float x : v) {
      if (!std::isfinite(x)) {
        return absl::DataLossError(absl::StrCat(path, ": imatrix entry '", name, "' holds the non-finite value ", x));
      }
    }
    return absl::OkStatus();
  };
  if (!IsGguf(bytes)) {
    ASSIGN_OR_RETURN(DatFile f, ParseDat(bytes, path));
    for (DatEntry& d : f.entries) {
      // llama-quantize c392e50: each stored value divided by ncall in float.
      for (float& v : d.values) v /= static_cast<float>(d.ncall);
      RETURN_IF_ERROR(check_finite(d.name, d.values));
      w.values[d.name] = std::move(d.values);
    }
    if (f.has_tail) {
      w.chunks = f.last_call;
      w.datasets.push_back(f.dataset);
    }
    return w;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, OpenGguf(path));
  ASSIGN_OR_RETURN(auto entries, GgufEntries(*f, path));
  for (const auto& [name, g] : entries) {
    const int64_t n_mat = g.counts->n_elements, nval = g.sum2->n_elements, cols = nval / n_mat;
    const float* s = reinterpret_cast<const float*>(g.sum2->data);
    const float* c = reinterpret_cast<const float*>(g.counts->data);
    std::vector<float> v(static_cast<size_t>(nval));
    for (int64_t k = 0; k < n_mat; ++k) {
      for (int64_t j = 0; j < cols; ++j) v[k * cols + j] = c[k] > 0 ? s[k * cols + j] / c[k] : 1.f;
    }
    RETURN_IF_ERROR(check_finite(name, v));
    w.values[name] = std::move(v);
  }
  w.datasets = GgufDatasets(*f);
  auto chunks = f->GetU32(GgufKeyName(GgufKey::kImatrixChunkCount));
  if (chunks.ok()) w.chunks = static_cast<int>(*chunks);
  return w;
}

}  // namespace llmtk
