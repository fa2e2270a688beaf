#include "lib/formats/gguf_report.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/base/json_writer.h"
#include "lib/ggml/quant.h"

namespace llmtk {
namespace {

std::string Shape(const std::vector<int64_t>& dims) {
  if (dims.empty()) return "scalar";
  return absl::StrJoin(dims, "x");
}

// One element of a value as JSON.
void AppendElemJson(std::string* out, const GgufValue& v, uint64_t i) {
  switch (v.elem_type()) {
    case GgufType::kString: AppendJsonString(out, *v.AsString(i)); break;
    case GgufType::kBool: out->append(*v.AsBool(i) ? "true" : "false"); break;
    case GgufType::kFloat32:
    case GgufType::kFloat64: {
      const double d = *v.AsDouble(i);
      if (std::isfinite(d)) {
        absl::StrAppend(out, absl::StrFormat("%.9g", d));
      } else {
        out->append("null");
      }
      break;
    }
    case GgufType::kUint64: absl::StrAppend(out, *v.AsUint(i)); break;
    default: absl::StrAppend(out, *v.AsInt(i)); break;
  }
}

void AppendElemText(std::string* out, const GgufValue& v, uint64_t i) {
  if (v.elem_type() == GgufType::kString) {
    AppendJsonString(out, *v.AsString(i));  // quoted and escaped: control bytes stay visible
  } else {
    AppendElemJson(out, v, i);
  }
}

}  // namespace

std::string DescribeGguf(const GgufFile& f, bool json) {
  std::string out;
  if (json) {
    out.append("{\"file\":");
    AppendJsonString(&out, f.name());
    absl::StrAppend(&out, ",\"version\":", f.version(), ",\"alignment\":", f.alignment(),
                    ",\"data_offset\":", f.data_offset(), ",\"file_size\":", f.file_size(), ",\"metadata\":{");
    bool first = true;
    for (const GgufKv& kv : f.metadata()) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(&out, kv.key);
      out.push_back(':');
      if (kv.value.is_array()) {
        out.push_back('[');
        for (uint64_t i = 0; i < kv.value.size(); ++i) {
          if (i) out.push_back(',');
          AppendElemJson(&out, kv.value, i);
        }
        out.push_back(']');
      } else {
        AppendElemJson(&out, kv.value, 0);
      }
    }
    out.append("},\"tensors\":[");
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      const GgufTensor& t = f.tensors()[i];
      if (i) out.push_back(',');
      out.append("{\"name\":");
      AppendJsonString(&out, t.name);
      absl::StrAppend(&out, ",\"type\":\"", ToAbsl(GgmlTypeName(t.type)), "\",\"shape\":[", absl::StrJoin(t.dims, ","),
                      "],\"offset\":", t.offset, ",\"bytes\":", t.n_bytes, "}");
    }
    out.append("]}\n");
    return out;
  }
  absl::StrAppend(&out, "file: ", f.name(), "\n");
  absl::StrAppend(&out, "GGUF v", f.version(), ", alignment ", f.alignment(), ", data at byte ", f.data_offset(),
                  ", ", f.file_size(), " bytes\n");
  absl::StrAppend(&out, "metadata (", f.metadata().size(), "):\n");
  for (const GgufKv& kv : f.metadata()) {
    absl::StrAppend(&out, "  ", ToAbsl(kv.key), " = ");
    const GgufValue& v = kv.value;
    if (v.is_array()) {
      absl::StrAppend(&out, "[");
      const uint64_t shown = std::min<uint64_t>(v.size(), 8);
      for (uint64_t i = 0; i < shown; ++i) {
        if (i) out.append(", ");
        AppendElemText(&out, v, i);
      }
      if (shown < v.size()) absl::StrAppend(&out, ", ... ", v.size() - shown, " more");
      absl::StrAppend(&out, "] (", ToAbsl(GgufTypeName(v.elem_type())), "[", v.size(), "])\n");
    } else {
      AppendElemText(&out, v, 0);
      absl::StrAppend(&out, " (", ToAbsl(GgufTypeName(v.type())), ")\n");
    }
  }
  absl::StrAppend(&out, "tensors (", f.tensors().size(), "):\n");
  uint64_t total = 0;
  for (const GgufTensor& t : f.tensors()) {
    absl::StrAppend(&out, absl::StrFormat("  %-32s %-7s %-14s %10d bytes at %d\n", ToAbsl(t.name),
                                          ToAbsl(GgmlTypeName(t.type)), Shape(t.dims), t.n_bytes, t.offset));
    total += t.n_bytes;
  }
  absl::StrAppend(&out, "tensor data: ", total, " bytes\n");
  return out;
}

absl::StatusOr<GgufComparison> CompareGguf(const GgufFile& a, const GgufFile& b) {
  GgufComparison c;
  double total_sq = 0;
  std::vector<float> xa, xb;
  for (const GgufTensor& ta : a.tensors()) {
    TensorComparison tc;
    tc.name = std::string(ta.name);
    tc.type_a = std::string(GgmlTypeName(ta.type));
    tc.shape = Shape(ta.dims);
    const GgufTensor* tb = b.FindTensor(ta.name);
    if (tb == nullptr) {
      tc.note = "only in A";
      c.tensors.push_back(std::move(tc));
      continue;
    }
    tc.type_b = std::string(GgmlTypeName(tb->type));
    if (ta.dims != tb->dims) {
      tc.note = absl::StrCat("shape differs (B is ", Shape(tb->dims), ")");
    } else if (!CanDequantize(ta.type) || !CanDequantize(tb->type)) {
      tc.note = "type not decodable";
    } else {
      tc.comparable = true;
      const int64_t n = ta.n_elements;
      const int64_t ne0 = ta.dims.empty() ? 1 : ta.dims[0];
      const int64_t rows = ne0 == 0 ? 0 : n / ne0;
      xa.resize(static_cast<size_t>(n));
      xb.resize(static_cast<size_t>(n));
      RETURN_IF_ERROR(DequantizeRows(ta.type, ta.data, xa.data(), rows, ne0));
      RETURN_IF_ERROR(DequantizeRows(tb->type, tb->data, xb.data(), rows, ne0));
      double sq = 0, ref = 0, mx = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(xa[i]) - xb[i];
        sq += d * d;
        ref += static_cast<double>(xa[i]) * xa[i];
        mx = std::max(mx, std::fabs(d));
      }
      tc.rmse = n ? std::sqrt(sq / n) : 0;
      tc.ref_rms = n ? std::sqrt(ref / n) : 0;
      tc.max_abs_error = mx;
      // Blocks: the type's blocks when both sides share it, else 32 values.
      int64_t same = 0, blocks = 0;
      if (ta.type == tb->type) {
        const size_t bs = TypeInfo(ta.type).type_size;
        blocks = static_cast<int64_t>(ta.n_bytes / bs);
        for (int64_t k = 0; k < blocks; ++k) same += std::memcmp(ta.data + k * bs, tb->data + k * bs, bs) == 0;
      } else {
        const int64_t bs = 32;
        blocks = (n + bs - 1) / bs;
        for (int64_t k = 0; k < blocks; ++k) {
          const int64_t len = std::min(bs, n - k * bs);
          same += std::memcmp(xa.data() + k * bs, xb.data() + k * bs, static_cast<size_t>(len) * 4) == 0;
        }
      }
      tc.identical_blocks = blocks ? static_cast<double>(same) / blocks : 1.0;
      total_sq += sq;
      c.elements += n;
      c.max_abs_error = std::max(c.max_abs_error, mx);
    }
    c.tensors.push_back(std::move(tc));
  }
  for (const GgufTensor& tb : b.tensors()) {
    if (a.FindTensor(tb.name) != nullptr) continue;
    TensorComparison tc;
    tc.name = std::string(tb.name);
    tc.type_b = std::string(GgmlTypeName(tb.type));
    tc.shape = Shape(tb.dims);
    tc.note = "only in B";
    c.tensors.push_back(std::move(tc));
  }
  c.total_rmse = c.elements ? std::sqrt(total_sq / c.elements) : 0;
  return c;
}

std::string FormatComparison(const GgufComparison& c, bool json) {
  std::string out;
  if (json) {
    out.append("{\"tensors\":[");
    for (size_t i = 0; i < c.tensors.size(); ++i) {
      const TensorComparison& t = c.tensors[i];
      if (i) out.push_back(',');
      out.append("{\"name\":");
      AppendJsonString(&out, t.name);
      absl::StrAppend(&out, ",\"type_a\":\"", t.type_a, "\",\"type_b\":\"", t.type_b, "\",\"shape\":\"", t.shape,
                      "\"");
      if (t.comparable) {
        absl::StrAppend(&out, absl::StrFormat(",\"rmse\":%.9g,\"max_abs_error\":%.9g,\"ref_rms\":%.9g,"
                                              "\"identical_blocks\":%.6f",
                                              t.rmse, t.max_abs_error, t.ref_rms, t.identical_blocks));
      } else {
        out.append(",\"note\":");
        AppendJsonString(&out, t.note);
      }
      out.push_back('}');
    }
    absl::StrAppend(&out, absl::StrFormat("],\"total_rmse\":%.9g,\"max_abs_error\":%.9g,\"elements\":%d}\n",
                                          c.total_rmse, c.max_abs_error, c.elements));
    return out;
  }
  absl::StrAppend(&out, absl::StrFormat("%-32s %-7s %-7s %-12s %12s %12s %10s\n", "tensor", "A", "B", "shape",
                                        "rmse", "max_abs_err", "identical"));
  for (const TensorComparison& t : c.tensors) {
    if (t.comparable) {
      absl::StrAppend(&out, absl::StrFormat("%-32s %-7s %-7s %-12s %12.6g %12.6g %9.2f%%\n", t.name, t.type_a,
                                            t.type_b, t.shape, t.rmse, t.max_abs_error, 100 * t.identical_blocks));
    } else {
      absl::StrAppend(&out, absl::StrFormat("%-32s %-7s %-7s %-12s %s\n", t.name, t.type_a.empty() ? "-" : t.type_a,
                                            t.type_b.empty() ? "-" : t.type_b, t.shape, t.note));
    }
  }
  absl::StrAppend(&out, absl::StrFormat("total: rmse %.6g, max abs error %.6g over %d values\n", c.total_rmse,
                                        c.max_abs_error, c.elements));
  return out;
}

}  // namespace llmtk
