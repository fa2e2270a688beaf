#include "lib/ggml/quant.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "lib/ggml/quant_k.h"

namespace llmtk {

namespace qk = quant_kernels;

bool CanQuantize(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
    case GgmlType::kIQ4_NL:
    case GgmlType::kIQ4_XS:
    case GgmlType::kIQ2_XXS:
    case GgmlType::kIQ2_XS:
    case GgmlType::kIQ2_S:
    case GgmlType::kIQ3_XXS:
    case GgmlType::kIQ1_S:
    case GgmlType::kIQ1_M: return true;
    case GgmlType::kIQ3_S: return true;
    default: return false;
  }
}

// ggml_quantize_requires_imatrix's types that llmtk quantizes.
bool RequiresImportance(GgmlType type) {
  return type == GgmlType::kIQ2_XXS || type == GgmlType::kIQ2_XS || type == GgmlType::kIQ1_S;
}

bool HasWeightedQuantizer(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
    case GgmlType::kIQ4_NL:
    case GgmlType::kIQ4_XS:
    case GgmlType::kIQ2_XXS:
    case GgmlType::kIQ2_XS:
    case GgmlType::kIQ2_S:
    case GgmlType::kIQ3_XXS:
    case GgmlType::kIQ1_S:
    case GgmlType::kIQ1_M: return true;
    case GgmlType::kIQ3_S: return true;
    default: return false;
  }
}

bool CanDequantize(GgmlType type) { return CanQuantize(type) || type == GgmlType::kQ8_K; }

namespace {

template <typename Block>
Block* As(void* p) {
  return static_cast<Block*>(p);
}
template <typename Block>
const Block* As(const void* p) {
  return static_cast<const Block*>(p);
}

void QuantizeCommon(GgmlType type, const float* x, void* dst, int64_t n) {
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, x, static_cast<size_t>(n) * 4); break;
    case GgmlType::kF16: Fp32ToFp16Row(x, static_cast<uint16_t*>(dst), n); break;
    case GgmlType::kBF16: Fp32ToBf16Row(x, static_cast<uint16_t*>(dst), n); break;
    case GgmlType::kQ4_0: qk::QuantizeQ4_0Ref(x, As<BlockQ4_0>(dst), n); break;
    case GgmlType::kQ4_1: qk::QuantizeQ4_1Ref(x, As<BlockQ4_1>(dst), n); break;
    case GgmlType::kQ5_0: qk::QuantizeQ5_0Ref(x, As<BlockQ5_0>(dst), n); break;
    case GgmlType::kQ5_1: qk::QuantizeQ5_1Ref(x, As<BlockQ5_1>(dst), n); break;
    case GgmlType::kQ2_K: qk::QuantizeQ2_KRef(x, As<BlockQ2_K>(dst), n); break;
    case GgmlType::kQ3_K: qk::QuantizeQ3_KRef(x, As<BlockQ3_K>(dst), n); break;
    case GgmlType::kQ4_K: qk::QuantizeQ4_KRef(x, As<BlockQ4_K>(dst), n); break;
    case GgmlType::kQ5_K: qk::QuantizeQ5_KRef(x, As<BlockQ5_K>(dst), n); break;
    case GgmlType::kQ6_K: qk::QuantizeQ6_KRef(x, As<BlockQ6_K>(dst), n); break;
    case GgmlType::kIQ4_NL: qk::QuantizeIQ4_NLRef(x, As<BlockIQ4_NL>(dst), n); break;
    case GgmlType::kIQ4_XS: qk::QuantizeIQ4_XS(x, As<BlockIQ4_XS>(dst), n, nullptr); break;
    case GgmlType::kIQ3_XXS: qk::QuantizeIQ3_XXS(x, As<BlockIQ3_XXS>(dst), n, nullptr); break;
    case GgmlType::kIQ2_S: qk::QuantizeIQ2_S(x, As<BlockIQ2_S>(dst), n, nullptr); break;
    case GgmlType::kIQ1_M: qk::QuantizeIQ1_M(x, As<BlockIQ1_M>(dst), n, nullptr); break;
    case GgmlType::kIQ3_S: qk::QuantizeIQ3_S(x, As<BlockIQ3_S>(dst), n, nullptr); break;
    default: break;
  }
}

}  // namespace

void QuantizeRowWeighted(GgmlType type, const float* x, void* dst, int64_t n, const float* w) {
  if (!w || !HasWeightedQuantizer(type)) return QuantizeRow(type, x, dst, n);
  switch (type) {
    case GgmlType::kQ4_0: qk::QuantizeQ4_0Weighted(x, As<BlockQ4_0>(dst), n, w); break;
    case GgmlType::kQ4_1: qk::QuantizeQ4_1Weighted(x, As<BlockQ4_1>(dst), n, w); break;
    case GgmlType::kQ5_0: qk::QuantizeQ5_0Weighted(x, As<BlockQ5_0>(dst), n, w); break;
    case GgmlType::kQ5_1: qk::QuantizeQ5_1Weighted(x, As<BlockQ5_1>(dst), n, w); break;
    case GgmlType::kQ2_K: qk::QuantizeQ2_KWeighted(x, As<BlockQ2_K>(dst), n, w); break;
    case GgmlType::kQ3_K: qk::QuantizeQ3_KWeighted(x, As<BlockQ3_K>(dst), n, w); break;
    case GgmlType::kQ4_K: qk::QuantizeQ4_KWeighted(x, As<BlockQ4_K>(dst), n, w); break;
    case GgmlType::kQ5_K: qk::QuantizeQ5_KWeighted(x, As<BlockQ5_K>(dst), n, w); break;
    case GgmlType::kQ6_K: qk::QuantizeQ6_KWeighted(x, As<BlockQ6_K>(dst), n, w); break;
    case GgmlType::kIQ4_NL: qk::QuantizeIQ4_NLWeighted(x, As<BlockIQ4_NL>(dst), n, w); break;
    case GgmlType::kIQ4_XS: qk::QuantizeIQ4_XS(x, As<BlockIQ4_XS>(dst), n, w); break;
    case GgmlType::kIQ2_XXS: qk::QuantizeIQ2_XXS(x, As<BlockIQ2_XXS>(dst), n, w); break;
    case GgmlType::kIQ3_XXS: qk::QuantizeIQ3_XXS(x, As<BlockIQ3_XXS>(dst), n, w); break;
    case GgmlType::kIQ2_XS: qk::QuantizeIQ2_XS(x, As<BlockIQ2_XS>(dst), n, w); break;
    case GgmlType::kIQ2_S: qk::QuantizeIQ2_S(x, As<BlockIQ2_S>(dst), n, w); break;
    case GgmlType::kIQ1_S: qk::QuantizeIQ1_S(x, As<BlockIQ1_S>(dst), n, w); break;
    case GgmlType::kIQ1_M: qk::QuantizeIQ1_M(x, As<BlockIQ1_M>(dst), n, w); break;
    case GgmlType::kIQ3_S: qk::QuantizeIQ3_S(x, As<BlockIQ3_S>(dst), n, w); break;
    default: break;
  }
}

void QuantizeRow(GgmlType type, const float* x, void* dst, int64_t n) {
  switch (type) {
    case GgmlType::kQ8_0: qk::QuantizeQ8_0Fast(x, As<BlockQ8_0>(dst), n); break;
    case GgmlType::kQ2_K: qk::QuantizeQ2_KFast(x, As<BlockQ2_K>(dst), n); break;
    case GgmlType::kQ3_K: qk::QuantizeQ3_KFast(x, As<BlockQ3_K>(dst), n); break;
    case GgmlType::kQ4_K: qk::QuantizeQ4_KFast(x, As<BlockQ4_K>(dst), n); break;
    case GgmlType::kQ5_K: qk::QuantizeQ5_KFast(x, As<BlockQ5_K>(dst), n); break;
    case GgmlType::kQ6_K: qk::QuantizeQ6_KFast(x, As<BlockQ6_K>(dst), n); break;
    default: QuantizeCommon(type, x, dst, n);
  }
}

void QuantizeRowReference(GgmlType type, const float* x, void* dst, int64_t n) {
  switch (type) {
    case GgmlType::kQ8_0: qk::QuantizeQ8_0Ref(x, As<BlockQ8_0>(dst), n); break;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = Fp32ToFp16(x[i]);
      break;
    default: QuantizeCommon(type, x, dst, n);
  }
}

void DequantizeRow(GgmlType type, const void* src, float* y, int64_t n) {
  switch (type) {
    case GgmlType::kF32: std::memcpy(y, src, static_cast<size_t>(n) * 4); break;
    case GgmlType::kF16: Fp16ToFp32Row(static_cast<const uint16_t*>(src), y, n); break;
    case GgmlType::kBF16: Bf16ToFp32Row(static_cast<const uint16_t*>(src), y, n); break;
    case GgmlType::kQ4_0: qk::DequantizeQ4_0(As<BlockQ4_0>(src), y, n); break;
    case GgmlType::kQ4_1: qk::DequantizeQ4_1(As<BlockQ4_1>(src), y, n); break;
    case GgmlType::kQ5_0: qk::DequantizeQ5_0(As<BlockQ5_0>(src), y, n); break;
    case GgmlType::kQ5_1: qk::DequantizeQ5_1(As<BlockQ5_1>(src), y, n); break;
    case GgmlType::kQ8_0: qk::DequantizeQ8_0(As<BlockQ8_0>(src), y, n); break;
    case GgmlType::kQ2_K: qk::DequantizeQ2_K(As<BlockQ2_K>(src), y, n); break;
    case GgmlType::kQ3_K: qk::DequantizeQ3_K(As<BlockQ3_K>(src), y, n); break;
    case GgmlType::kQ4_K: qk::DequantizeQ4_K(As<BlockQ4_K>(src), y, n); break;
    case GgmlType::kQ5_K: qk::DequantizeQ5_K(As<BlockQ5_K>(src), y, n); break;
    case GgmlType::kQ6_K: qk::DequantizeQ6_K(As<BlockQ6_K>(src), y, n); break;
    case GgmlType::kQ8_K: qk::DequantizeQ8_K(As<BlockQ8_K>(src), y, n); break;
    case GgmlType::kIQ4_NL: qk::DequantizeIQ4_NL(As<BlockIQ4_NL>(src), y, n); break;
    case GgmlType::kIQ4_XS: qk::DequantizeIQ4_XS(As<BlockIQ4_XS>(src), y, n); break;
    case GgmlType::kIQ2_XXS: qk::DequantizeIQ2_XXS(As<BlockIQ2_XXS>(src), y, n); break;
    case GgmlType::kIQ3_XXS: qk::DequantizeIQ3_XXS(As<BlockIQ3_XXS>(src), y, n); break;
    case GgmlType::kIQ2_XS: qk::DequantizeIQ2_XS(As<BlockIQ2_XS>(src), y, n); break;
    case GgmlType::kIQ2_S: qk::DequantizeIQ2_S(As<BlockIQ2_S>(src), y, n); break;
    case GgmlType::kIQ1_S: qk::DequantizeIQ1_S(As<BlockIQ1_S>(src), y, n); break;
    case GgmlType::kIQ1_M: qk::DequantizeIQ1_M(As<BlockIQ1_M>(src), y, n); break;
    case GgmlType::kIQ3_S: qk::DequantizeIQ3_S(As<BlockIQ3_S>(src), y, n); break;
    default: break;
  }
}

namespace {
absl::Status CheckRows(GgmlType type, int64_t rows, int64_t n_per_row, bool quantize) {
  if (quantize ? !CanQuantize(type) : !CanDequantize(type)) {
    return absl::UnimplementedError(absl::StrFormat("%s to type %s is not supported",
                                                    quantize ? "quantizing" : "dequantizing",
                                                    ToAbsl(GgmlTypeName(type))));
  }
  const int64_t bs = TypeInfo(type).block_size;
  if (rows < 0 || n_per_row < 0 || n_per_row % bs != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("rows of %d values do not split into %s blocks of %d",
                                                      n_per_row, ToAbsl(GgmlTypeName(type)), bs));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status QuantizeRows(GgmlType type, const float* x, void* dst, int64_t rows, int64_t n_per_row) {
  RETURN_IF_ERROR(CheckRows(type, rows, n_per_row, true));
  if (RequiresImportance(type)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s needs importance weights (QuantizeRowWeighted)",
                                                      ToAbsl(GgmlTypeName(type))));
  }
  const size_t row_bytes = *GgmlRowSize(type, n_per_row);
  for (int64_t r = 0; r < rows; ++r) {
    QuantizeRow(type, x + r * n_per_row, static_cast<uint8_t*>(dst) + r * row_bytes, n_per_row);
  }
  return absl::OkStatus();
}

absl::Status DequantizeRows(GgmlType type, const void* src, float* y, int64_t rows, int64_t n_per_row) {
  RETURN_IF_ERROR(CheckRows(type, rows, n_per_row, false));
  const size_t row_bytes = *GgmlRowSize(type, n_per_row);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(type, static_cast<const uint8_t*>(src) + r * row_bytes, y + r * n_per_row, n_per_row);
  }
  return absl::OkStatus();
}

}  // namespace llmtk
