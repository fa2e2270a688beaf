#include "lib/convert/quantize_model.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/convert/hf_convert.h"
#include "lib/base/json_writer.h"
#include "lib/formats/gguf_keys.h"
#include "lib/ggml/quant.h"

namespace llmtk {
namespace {

bool IsFloatType(GgmlType t) { return t == GgmlType::kF32 || t == GgmlType::kF16 || t == GgmlType::kBF16; }

int64_t GetInt(const GgufMetadata& md, const std::string& key, int64_t def) {
  const GgufMetadata::Entry* e = md.Find(key);
  if (e == nullptr) return def;
  switch (e->type) {
    case GgufType::kUint32: {
      uint32_t v;
      std::memcpy(&v, e->payload.data(), 4);
      return v;
    }
    case GgufType::kInt32: {
      int32_t v;
      std::memcpy(&v, e->payload.data(), 4);
      return v;
    }
    case GgufType::kUint64:
    case GgufType::kInt64: {
      int64_t v;
      std::memcpy(&v, e->payload.data(), 8);
      return v;
    }
    default: return def;
  }
}

std::string GetString(const GgufMetadata& md, const std::string& key) {
  const GgufMetadata::Entry* e = md.Find(key);
  if (e == nullptr || e->type != GgufType::kString || e->payload.size() < 8) return "";
  return e->payload.substr(8);
}

// Drops a zero-copy tensor's pages from this process's resident set once it
// is written (the page cache keeps them), so peak RSS stays near one tensor
// rather than growing to the whole mapped model.
void ReleaseMapped(const uint8_t* p, size_t n) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

absl::Status ConvertRows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t rows,
                         int64_t n_per_row, int threads, const float* imatrix, int64_t rows_per_matrix) {
  if (!CanDequantize(from)) {
    return absl::UnimplementedError(absl::StrCat("converting from ", ToAbsl(GgmlTypeName(from)), " is not supported"));
  }
  if (!CanQuantize(to)) {
    return absl::UnimplementedError(absl::StrCat("converting to ", ToAbsl(GgmlTypeName(to)), " is not supported"));
  }
  const std::optional<size_t> in_row = GgmlRowSize(from, n_per_row);
  const std::optional<size_t> out_row = GgmlRowSize(to, n_per_row);
  if (!in_row || !out_row) {
    return absl::InvalidArgumentError(absl::StrFormat("rows of %d values do not split into %s or %s blocks", n_per_row,
                                                      ToAbsl(GgmlTypeName(from)), ToAbsl(GgmlTypeName(to))));
  }
  // Chunks of whole rows (~64K values) are the unit of work; each chunk's
  // output position is fixed, so thread count and timing cannot matter.
  const int64_t rows_per_chunk = std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, n_per_row));
  const int64_t n_chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  std::atomic<int64_t> next{0};
  auto work = [&]() {
    std::vector<float> buf;
    for (int64_t c = next++; c < n_chunks; c = next++) {
      const int64_t r0 = c * rows_per_chunk;
      const int64_t nr = std::min(rows_per_chunk, rows - r0);
      const float* x;
      if (from == GgmlType::kF32) {
        x = reinterpret_cast<const float*>(src + r0 * *in_row);
        if (reinterpret_cast<uintptr_t>(x) % alignof(float) != 0) {
          buf.resize(static_cast<size_t>(nr * n_per_row));
          std::memcpy(buf.data(), x, buf.size() * 4);
          x = buf.data();
        }
      } else {
        buf.resize(static_cast<size_t>(nr * n_per_row));
        for (int64_t r = 0; r < nr; ++r) {
          DequantizeRow(from, src + (r0 + r) * *in_row, buf.data() + r * n_per_row, n_per_row);
        }
        x = buf.data();
      }
      for (int64_t r = 0; r < nr; ++r) {
        if (imatrix != nullptr) {
          const float* w = imatrix + (rows_per_matrix > 0 ? (r0 + r) / rows_per_matrix : 0) * n_per_row;
          QuantizeRowWeighted(to, x + r * n_per_row, dst + (r0 + r) * *out_row, n_per_row, w);
        } else {
          QuantizeRow(to, x + r * n_per_row, dst + (r0 + r) * *out_row, n_per_row);
        }
      }
    }
  };
  const int n_threads = static_cast<int>(std::min<int64_t>(std::max(1, threads), n_chunks));
  std::vector<std::thread> pool;
  for (int i = 1; i < n_threads; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return absl::OkStatus();
}

absl::StatusOr<QuantizeReport> QuantizeModel(const ModelSource& source, const std::string& output,
                                             const QuantizeOptions& options) {
  const GgufMetadata& in_md = source.metadata;
  const std::string arch = GetString(in_md, std::string(GgufKeyName(GgufKey::kGeneralArchitecture)));
  RecipeModel model;
  model.arch = arch;
  model.n_layer = GetInt(in_md, GgufKeyName(GgufArchKey::kBlockCount, arch), 0);
  model.n_head = GetInt(in_md, GgufKeyName(GgufArchKey::kAttentionHeadCount, arch), 0);
  model.n_head_kv = GetInt(in_md, GgufKeyName(GgufArchKey::kAttentionHeadCountKv, arch), model.n_head);
  model.n_expert = GetInt(in_md, GgufKeyName(GgufArchKey::kExpertCount, arch), 0);

  std::vector<std::string> names;
  for (const SourceTensor& t : source.tensors) names.push_back(t.name);
  const LlamaFileType ft = options.target.ftype;
  const bool as_converter = source.from_converter && (ft == LlamaFileType::kAllF32 || ft == LlamaFileType::kF16 ||
                                                      ft == LlamaFileType::kBF16 || ft == LlamaFileType::kQ8_0);
  std::vector<size_t> order(names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!as_converter) order = LlamaQuantizeOrder(names);
  std::vector<RecipeTensor> recipe;
  for (size_t i : order) recipe.push_back({source.tensors[i].name, source.tensors[i].dims, source.tensors[i].type});
  std::vector<GgmlType> types = PlanTensorTypes(options.target, model, recipe);
  if (as_converter) {
    // convert_hf_to_gguf.py counts dimensions as torch has them: a [1, n]
    // weight (Qwen2-MoE's shared-expert gate) is 2-D to it and converted
    // like any matrix, where llama-quantize sees a 1-D ggml tensor.
    const GgmlType def = options.target.default_type;
    for (size_t k = 0; k < recipe.size(); ++k) {
      const RecipeTensor& t = recipe[k];
      const bool one_row = t.dims.size() >= 2 && t.dims[1] == 1 && (t.dims.size() < 3 || t.dims[2] == 1);
      const std::string& n = t.name;
      auto ends = [&](std::string_view s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
      if (!one_row || !ends(".weight") || ends("_norm.weight") || ends(".ffn_gate_inp.weight")) continue;
      types[k] = TypeInfo(def).quantized && t.dims[0] % TypeInfo(def).block_size != 0 ? GgmlType::kF16 : def;
    }
  }

  QuantizeReport report;
  report.ftype = options.target.ftype;
  std::vector<GgufTensorSpec> specs;
  std::vector<const float*> weights(order.size(), nullptr);
  for (size_t k = 0; k < order.size(); ++k) {
    const SourceTensor& t = source.tensors[order[k]];
    GgufTensorSpec spec{t.name, types[k], t.dims};
    // llama-quantize writes ggml_n_dims dimensions: trailing 1s dropped
    // (a [n, 1] tensor comes out [n]); the converter keeps torch's.
    if (!as_converter)
      while (spec.dims.size() > 1 && spec.dims.back() == 1) spec.dims.pop_back();
    ASSIGN_OR_RETURN(size_t bytes, TensorBytes(spec));
    GgufTensorSpec in_spec{t.name, t.type, t.dims};
    ASSIGN_OR_RETURN(size_t in_bytes, TensorBytes(in_spec));
    if (types[k] != t.type && !IsFloatType(t.type)) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: tensor '%s' is already quantized (%s); requantizing to %s is not supported, start from F32/F16/BF16",
          source.name, t.name, ToAbsl(GgmlTypeName(t.type)), ToAbsl(GgmlTypeName(types[k]))));
    }
    if (types[k] != t.type) {
      const float* w = nullptr;
      if (options.imatrix != nullptr) {
        auto it = options.imatrix->values.find(t.name);
        if (it != options.imatrix->values.end()) {
          const int64_t ne0 = t.dims.empty() ? 1 : t.dims[0], ne2 = t.dims.size() > 2 ? t.dims[2] : 1;
          if (static_cast<int64_t>(it->second.size()) == ne0 * ne2) {
            w = it->second.data();
          } else if (t.name != "token_embd.weight") {
            return absl::InvalidArgumentError(absl::StrFormat(
                "%s: imatrix %s has %d values for tensor '%s', which needs %d (%d columns x %d matrices); the "
                "imatrix was made for another model",
                source.name, options.imatrix_file, it->second.size(), t.name, ne0 * ne2, ne0, ne2));
          }
        }
      }
      if (w == nullptr && NeedsImatrix(types[k], options.target.ftype, t.name)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "missing importance matrix for tensor %s in a very low-bit quantization (%s): llama.cpp refuses it, "
            "the result would be garbage; make one with llmtk-quant imatrix and pass --imatrix FILE",
            t.name, ToAbsl(GgmlTypeName(types[k]))));
      }
      if (!CanQuantize(types[k])) {
        return absl::UnimplementedError(absl::StrFormat("tensor '%s': quantizing to %s is not implemented in llmtk yet",
                                                        t.name, ToAbsl(GgmlTypeName(types[k]))));
      }
      weights[k] = w;
    }
    report.input_bytes += in_bytes;
    report.tensors.push_back({t.name, t.dims, t.type, types[k], bytes});
    specs.push_back(std::move(spec));
  }

  GgufMetadata md = in_md;
  if (as_converter) {
    md.ReplaceU32(GgufKeyName(GgufKey::kGeneralQuantizationVersion), 2);
    md.ReplaceU32(GgufKeyName(GgufKey::kGeneralFileType), static_cast<uint32_t>(options.target.ftype));
  } else {
    md.SetU32(GgufKeyName(GgufKey::kGeneralQuantizationVersion), 2);
    md.SetU32(GgufKeyName(GgufKey::kGeneralFileType), static_cast<uint32_t>(options.target.ftype));
  }
  md.Remove(GgufKeyName(GgufKey::kSplitNo));
  md.Remove(GgufKeyName(GgufKey::kSplitCount));
  md.Remove(GgufKeyName(GgufKey::kSplitTensorsCount));
  if (options.imatrix != nullptr && !options.imatrix->values.empty()) {
    // llama-quantize's overrides: strings cut to 127 bytes, counts as i32.
    md.SetString(GgufKeyName(GgufKey::kQuantizeImatrixFile), options.imatrix_file.substr(0, 127));
    if (!options.imatrix->datasets.empty() && !options.imatrix->datasets.front().empty()) {
      md.SetString(GgufKeyName(GgufKey::kQuantizeImatrixDataset), options.imatrix->datasets.front().substr(0, 127));
    }
    md.SetI32(GgufKeyName(GgufKey::kQuantizeImatrixEntriesCount),
              static_cast<int32_t>(options.imatrix->values.size()));
    if (options.imatrix->chunks > 0) {
      md.SetI32(GgufKeyName(GgufKey::kQuantizeImatrixChunksCount), options.imatrix->chunks);
    }
  }
  ASSIGN_OR_RETURN(report.output_bytes, GgufFileSize(md, specs));
  if (options.dry_run) return report;

  std::vector<uint8_t> loaded;
  RETURN_IF_ERROR(WriteGguf(output, md, specs, [&](size_t k, uint8_t* out, size_t n) -> absl::Status {
    const SourceTensor& t = source.tensors[order[k]];
    const QuantPlanEntry& e = report.tensors[k];
    if (options.progress) options.progress(k, specs.size(), e);
    const uint8_t* data = t.data;
    if (data == nullptr) {
      if (!t.load) return absl::InternalError(absl::StrCat("tensor '", t.name, "' has no data"));
      RETURN_IF_ERROR(t.load(&loaded));
      data = loaded.data();
    }
    if (e.from == e.to) {
      std::memcpy(out, data, n);
      if (t.data != nullptr && source.release_pages) ReleaseMapped(t.data, n);
      return absl::OkStatus();
    }
    const int64_t ne0 = t.dims.empty() ? 1 : t.dims[0];
    int64_t rows = 1;
    for (size_t d = 1; d < t.dims.size(); ++d) rows *= t.dims[d];
    if (ne0 == 0) rows = 0;
    const int64_t rows_per_matrix = t.dims.size() > 1 ? t.dims[1] : 1;
    RETURN_IF_ERROR(Annotate(ConvertRows(e.from, data, e.to, out, rows, ne0, options.threads, weights[k],
                                         rows_per_matrix),
                             absl::StrCat("tensor '", t.name, "'")));
    if (t.data != nullptr && source.release_pages) {
      ReleaseMapped(t.data, *GgmlRowSize(e.from, ne0) * static_cast<size_t>(rows));
    }
    return absl::OkStatus();
  }));
  return report;
}



absl::StatusOr<ModelSource> OpenModelSource(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
  if (S_ISDIR(st.st_mode)) return OpenHfSource(path);
  return OpenGgufSource(path);
}

namespace {

// The output is written to a temporary file renamed over OUTPUT, so an
// OUTPUT that is the input (or a file of the input checkpoint) would replace
// the model being converted: refused. Same file: same device and inode, which
// also catches other spellings and hard links of one path.
absl::Status CheckOutputIsNotInput(const std::string& input, const std::string& output) {
  struct stat in, out;
  if (::stat(output.c_str(), &out) != 0 || ::stat(input.c_str(), &in) != 0) return absl::OkStatus();
  if (in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
    return absl::InvalidArgumentError(absl::StrCat("OUTPUT ", output, " is the input file ", input,
                                                   "; writing it would replace the model being read (choose "
                                                   "another OUTPUT)"));
  }
  if (S_ISDIR(in.st_mode) && S_ISREG(out.st_mode)) {
    const std::string parent = output.find('/') == std::string::npos ? "." : output.substr(0, output.rfind('/') + 1);
    struct stat dir;
    const bool ends = absl::EndsWith(output, ".safetensors") || absl::EndsWith(output, ".json") ||
                      absl::EndsWith(output, ".model");
    if (ends && ::stat(parent.c_str(), &dir) == 0 && dir.st_dev == in.st_dev && dir.st_ino == in.st_ino) {
      return absl::InvalidArgumentError(absl::StrCat("OUTPUT ", output, " is a file of the input checkpoint ", input,
                                                     "; writing it would replace it (choose another OUTPUT)"));
    }
  }
  return absl::OkStatus();
}

// An imatrix none of whose names is a tensor of the model was made for
// another model (or is not an imatrix of GGUF tensor names at all).
absl::Status CheckImatrixNames(const ImatrixWeights& m, const ModelSource& src, const std::string& path) {
  for (const SourceTensor& t : src.tensors) {
    if (m.values.count(t.name)) return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (const auto& kv : m.values) names.push_back(kv.first);
  std::sort(names.begin(), names.end());
  if (names.size() > 3) names.resize(3);
  return absl::InvalidArgumentError(absl::StrCat("imatrix ", path, " has no entry for any tensor of ", src.name,
                                                 " (its entries: ", absl::StrJoin(names, ", "),
                                                 ", ...); it was made for another model"));
}

}  // namespace

absl::StatusOr<QuantizeReport> QuantizeFile(const QuantizeFileOptions& o) {
  ASSIGN_OR_RETURN(QuantTarget target, ParseQuantTarget(o.type, o.pure));
  if (o.output.empty() && !o.dry_run) return absl::InvalidArgumentError("missing OUTPUT.gguf");
  if (!o.include_weights.empty() && !o.exclude_weights.empty()) {
    return absl::InvalidArgumentError("--include-weights and --exclude-weights cannot be used together");
  }
  if ((!o.include_weights.empty() || !o.exclude_weights.empty()) && o.imatrix.empty()) {
    return absl::InvalidArgumentError("--include-weights/--exclude-weights choose imatrix entries; give --imatrix FILE");
  }
  for (auto [flag, name, out] : {std::tuple{"--output-tensor-type", &o.output_tensor_type, &target.output_type},
                                 std::tuple{"--token-embedding-type", &o.token_embedding_type, &target.token_embd_type}}) {
    if (name->empty()) continue;
    std::optional<GgmlType> t = ParseGgmlType(*name);
    if (!t || !(CanQuantize(*t) || *t == GgmlType::kF32)) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": '", *name,
                                                     "' is not a ggml type llmtk can write (e.g. q8_0, q6_K, f16)"));
    }
    *out = *t;
  }
  if (!o.dry_run) RETURN_IF_ERROR(CheckOutputIsNotInput(o.input, o.output));
  ImatrixWeights imatrix;
  if (!o.imatrix.empty()) {
    ASSIGN_OR_RETURN(imatrix, ReadImatrixWeights(o.imatrix));
    // As llama-quantize: exclusion drops every entry whose name contains an
    // excluded string; inclusion keeps those containing an included one.
    for (const std::string& ex : o.exclude_weights) {
      std::erase_if(imatrix.values, [&](const auto& kv) { return kv.first.find(ex) != std::string::npos; });
    }
    if (!o.include_weights.empty()) {
      decltype(imatrix.values) kept;
      for (const std::string& in : o.include_weights) {
        for (auto& kv : imatrix.values) {
          if (kv.first.find(in) != std::string::npos) kept.emplace(kv.first, kv.second);
        }
      }
      imatrix.values = std::move(kept);
    }
    target.has_imatrix = !imatrix.values.empty();
  }
  {
    using FT = LlamaFileType;
    const FT f = target.ftype;
    if ((f == FT::kIQ2_XS || f == FT::kIQ2_XXS || f == FT::kIQ2_S || f == FT::kQ2_K_S || f == FT::kIQ1_S ||
         f == FT::kIQ1_M) &&
        !target.has_imatrix) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--type ", ToAbsl(LlamaFileTypeName(f)),
          " needs an importance matrix: like llama-quantize, llmtk refuses IQ1_S, IQ1_M, IQ2_S, IQ2_XXS, IQ2_XS and "
          "Q2_K_S without one (make one with llmtk-quant imatrix -m MODEL -f TEXT, then pass --imatrix FILE)"));
    }
  }
  ASSIGN_OR_RETURN(ModelSource src, OpenModelSource(o.input));
  if (target.has_imatrix) RETURN_IF_ERROR(CheckImatrixNames(imatrix, src, o.imatrix));
  QuantizeOptions qo;
  qo.target = target;
  if (target.has_imatrix) {
    qo.imatrix = &imatrix;
    qo.imatrix_file = o.imatrix;
  }
  qo.threads = o.threads;
  qo.dry_run = o.dry_run;
  qo.progress = o.progress;
  return QuantizeModel(src, o.output, qo);
}

std::string FormatQuantizeReport(const QuantizeReport& r, bool json) {
  std::string out;
  if (json) {
    absl::StrAppend(&out, "{\"file_type\":\"", ToAbsl(LlamaFileTypeName(r.ftype)), "\",\"tensors\":[");
    for (size_t i = 0; i < r.tensors.size(); ++i) {
      const QuantPlanEntry& e = r.tensors[i];
      if (i) out.push_back(',');
      out.append("{\"name\":");
      AppendJsonString(&out, e.name);
      absl::StrAppend(&out, ",\"shape\":[", absl::StrJoin(e.dims, ","), "],\"from\":\"",
                      ToAbsl(GgmlTypeName(e.from)), "\",\"to\":\"", ToAbsl(GgmlTypeName(e.to)),
                      "\",\"bytes\":", e.bytes, "}");
    }
    absl::StrAppend(&out, "],\"input_bytes\":", r.input_bytes, ",\"output_bytes\":", r.output_bytes, "}\n");
    return out;
  }
  for (const QuantPlanEntry& e : r.tensors) {
    absl::StrAppend(&out, absl::StrFormat("%-32s %-14s %6s -> %-6s %10d bytes\n", e.name, absl::StrJoin(e.dims, "x"),
                                          ToAbsl(GgmlTypeName(e.from)), ToAbsl(GgmlTypeName(e.to)), e.bytes));
  }
  absl::StrAppend(&out, absl::StrFormat("%s: %d tensors, %d bytes of tensor data in, %d bytes out\n",
                                        ToAbsl(LlamaFileTypeName(r.ftype)), r.tensors.size(), r.input_bytes,
                                        r.output_bytes));
  return out;
}

}  // namespace llmtk
