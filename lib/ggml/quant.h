// ggml/quant: ggml block formats -- quantize float rows into blocks and back.
//
// Every quantizer reproduces ggml's reference (non-imatrix) path bit for bit
// (ggml-quants.c `quantize_row_*_ref`, and for IQ4_NL `quantize_iq4_nl`
// without importance weights, which is what llama-quantize runs). Floating
// point is evaluated in ggml's order with no FMA contraction; that is what
// makes the bytes identical. Where an optimized kernel exists, the plain
// scalar reference stays beside it and tests compare the two.
//
// Supported for quantize and dequantize: F32, F16, BF16, Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, IQ2_XXS, IQ2_XS,
// IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M (dequantize also Q8_K; IQ2_XXS, IQ2_XS
// and IQ1_S quantize only with importance weights). With an importance matrix
// (QuantizeRowWeighted) the types ggml
// weights are quantized as ggml's quant_weights paths do (quant_weighted.cc).
//
// Thread-safety: stateless; rows may be converted from any number of threads.
#ifndef LLMTK_LIB_GGML_QUANT_H_
#define LLMTK_LIB_GGML_QUANT_H_

#include <cstddef>
#include <cstdint>

#include "lib/ggml/types.h"
#include "lib/base/status.h"

namespace llmtk {

bool CanQuantize(GgmlType type);
bool CanDequantize(GgmlType type);

// Converts `n` floats into `type`'s encoding at `dst`, which must hold
// GgmlRowSize(type, n) bytes. n must be a multiple of the block size.
// Uses the fastest available kernel (identical bytes to the reference).
void QuantizeRow(GgmlType type, const float* x, void* dst, int64_t n);
// ggml has an importance-weighted quantizer for `type` (the legacy 4/5-bit
// types, Q2_K..Q6_K, IQ4_NL, IQ4_XS, the IQ2/IQ3 grids); Q8_0 and the float
// types ignore one.
bool HasWeightedQuantizer(GgmlType type);
// Types ggml quantizes only with importance weights (IQ2_XXS, IQ2_XS, IQ1_S): QuantizeRow
// must not be given them; QuantizeRows refuses them.
bool RequiresImportance(GgmlType type);
// As llama-quantize --imatrix quantizes one row: `weights` holds n floats
// (the imatrix's mean x^2 per column); null, or a type without a weighted
// quantizer, is QuantizeRow.
void QuantizeRowWeighted(GgmlType type, const float* x, void* dst, int64_t n, const float* weights);
// The plain scalar reference kernels (what the fast ones are tested against).
void QuantizeRowReference(GgmlType type, const float* x, void* dst, int64_t n);

// Decodes `n` values of `type` at `src` into floats, as ggml's
// dequantize_row_* / to_float does.
void DequantizeRow(GgmlType type, const void* src, float* y, int64_t n);

// Checked wrapper: quantizes `rows` rows of `n_per_row` floats. Unimplemented
// for unsupported types, InvalidArgument when rows do not split into blocks.
absl::Status QuantizeRows(GgmlType type, const float* x, void* dst, int64_t rows, int64_t n_per_row);
// Checked wrapper: any supported source type to floats.
absl::Status DequantizeRows(GgmlType type, const void* src, float* y, int64_t rows, int64_t n_per_row);

// ggml's nearest_int: round half to even through the 1.5*2^23 trick; valid
// for |x| <= 4194303.
inline int NearestInt(float x) {
  const float v = x + 12582912.f;
  const int32_t i = static_cast<int32_t>(FloatBits(v));
  return (i & 0x007fffff) - 0x00400000;
}

// The 16 IQ4_NL levels (kvalues_iq4nl).
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace llmtk

#endif  // LLMTK_LIB_GGML_QUANT_H_
