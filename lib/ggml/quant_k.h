// ggml/quant_k: the per-type block kernels behind lib/ggml/quant.h -- legacy 32-blocks
// (Q4_0..Q8_0), K-quant 256-super-blocks (Q2_K..Q6_K) and IQ4_NL. Callers
// normally use QuantizeRow/DequantizeRow from lib/ggml/quant.h; these are exposed
// for tests and the dispatch table. `k` is the element count (a multiple of
// the type's block size).
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_GGML_QUANT_K_H_
#define LLMTK_LIB_GGML_QUANT_K_H_

#include <cstdint>
#include <vector>

#include "lib/ggml/iq2s_format.h"
#include "lib/ggml/types.h"

namespace llmtk::quant_kernels {

void QuantizeQ4_0Ref(const float* x, BlockQ4_0* y, int64_t k);
void QuantizeQ4_1Ref(const float* x, BlockQ4_1* y, int64_t k);
void QuantizeQ5_0Ref(const float* x, BlockQ5_0* y, int64_t k);
void QuantizeQ5_1Ref(const float* x, BlockQ5_1* y, int64_t k);
void QuantizeQ8_0Ref(const float* x, BlockQ8_0* y, int64_t k);
void QuantizeQ2_KRef(const float* x, BlockQ2_K* y, int64_t k);
void QuantizeQ3_KRef(const float* x, BlockQ3_K* y, int64_t k);
void QuantizeQ4_KRef(const float* x, BlockQ4_K* y, int64_t k);
void QuantizeQ5_KRef(const float* x, BlockQ5_K* y, int64_t k);
void QuantizeQ6_KRef(const float* x, BlockQ6_K* y, int64_t k);
void QuantizeIQ4_NLRef(const float* x, BlockIQ4_NL* y, int64_t k);

// The importance-weighted quantizers (quant_weighted.cc): ggml's
// quantize_row_<type>_impl with quant_weights, `w` one float per column of
// the row (k of them). IQ4_NL and IQ4_XS also take null (weights x^2).
void QuantizeQ4_0Weighted(const float* x, BlockQ4_0* y, int64_t k, const float* w);
void QuantizeQ4_1Weighted(const float* x, BlockQ4_1* y, int64_t k, const float* w);
void QuantizeQ5_0Weighted(const float* x, BlockQ5_0* y, int64_t k, const float* w);
void QuantizeQ5_1Weighted(const float* x, BlockQ5_1* y, int64_t k, const float* w);
void QuantizeQ2_KWeighted(const float* x, BlockQ2_K* y, int64_t k, const float* w);
void QuantizeQ3_KWeighted(const float* x, BlockQ3_K* y, int64_t k, const float* w);
void QuantizeQ4_KWeighted(const float* x, BlockQ4_K* y, int64_t k, const float* w);
void QuantizeQ5_KWeighted(const float* x, BlockQ5_K* y, int64_t k, const float* w);
void QuantizeQ6_KWeighted(const float* x, BlockQ6_K* y, int64_t k, const float* w);
void QuantizeIQ4_NLWeighted(const float* x, BlockIQ4_NL* y, int64_t k, const float* w);
void QuantizeIQ4_XS(const float* x, BlockIQ4_XS* y, int64_t k, const float* w);

// IQ2_XXS (quant_iq2.cc): only with weights, as ggml (which asserts them).
void QuantizeIQ2_XXS(const float* x, BlockIQ2_XXS* y, int64_t k, const float* w);
// IQ2_XS (quant_iq2s.cc): only with weights, as ggml (which asserts them).
void QuantizeIQ2_XS(const float* x, BlockIQ2_XS* y, int64_t k, const float* w);
// IQ2_S (quant_iq2s.cc): with weights, or null (weights sigma^2/4 + x^2).
void QuantizeIQ2_S(const float* x, BlockIQ2_S* y, int64_t k, const float* w);
// IQ3_XXS (quant_iq3.cc): with weights, or null (weights x^2).
void QuantizeIQ3_XXS(const float* x, BlockIQ3_XXS* y, int64_t k, const float* w);
// IQ1_S / IQ1_M (quant_iq1.cc): IQ1_S only with weights (ggml asserts
// them), IQ1_M with weights or null (weights x^2). Their grid search tables
// (iq2xs_init_impl's map and neighbour list), for the tests.
void QuantizeIQ1_S(const float* x, BlockIQ1_S* y, int64_t k, const float* w);
void QuantizeIQ1_M(const float* x, BlockIQ1_M* y, int64_t k, const float* w);
const std::vector<int>& IQ1SearchMap();
const std::vector<uint16_t>& IQ1SearchNeighbours();
// IQ3_S (quant_iq3s.cc): with weights, or null (weights x^2).
void QuantizeIQ3_S(const float* x, BlockIQ3_S* y, int64_t k, const float* w);

// ggml's make_qp_quants (weighted search of levels 0..nmax for non-negative
// x), shared by the K-quants' scales and IQ2_XXS.
float MakeQpQuants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

// Optimized (AVX2 when built with it, else the reference): same bytes.
void QuantizeQ8_0Fast(const float* x, BlockQ8_0* y, int64_t k);
// K-quants: 8 sub-blocks per AVX2 register, one per lane.
void QuantizeQ2_KFast(const float* x, BlockQ2_K* y, int64_t k);
void QuantizeQ3_KFast(const float* x, BlockQ3_K* y, int64_t k);
void QuantizeQ4_KFast(const float* x, BlockQ4_K* y, int64_t k);
void QuantizeQ5_KFast(const float* x, BlockQ5_K* y, int64_t k);
void QuantizeQ6_KFast(const float* x, BlockQ6_K* y, int64_t k);

void DequantizeQ4_0(const BlockQ4_0* x, float* y, int64_t k);
void DequantizeQ4_1(const BlockQ4_1* x, float* y, int64_t k);
void DequantizeQ5_0(const BlockQ5_0* x, float* y, int64_t k);
void DequantizeQ5_1(const BlockQ5_1* x, float* y, int64_t k);
void DequantizeQ8_0(const BlockQ8_0* x, float* y, int64_t k);
void DequantizeQ2_K(const BlockQ2_K* x, float* y, int64_t k);
void DequantizeQ3_K(const BlockQ3_K* x, float* y, int64_t k);
void DequantizeQ4_K(const BlockQ4_K* x, float* y, int64_t k);
void DequantizeQ5_K(const BlockQ5_K* x, float* y, int64_t k);
void DequantizeQ6_K(const BlockQ6_K* x, float* y, int64_t k);
void DequantizeQ8_K(const BlockQ8_K* x, float* y, int64_t k);
void DequantizeIQ4_NL(const BlockIQ4_NL* x, float* y, int64_t k);
void DequantizeIQ4_XS(const BlockIQ4_XS* x, float* y, int64_t k);
void DequantizeIQ2_XXS(const BlockIQ2_XXS* x, float* y, int64_t k);
void DequantizeIQ3_XXS(const BlockIQ3_XXS* x, float* y, int64_t k);
void DequantizeIQ2_XS(const BlockIQ2_XS* x, float* y, int64_t k);
void DequantizeIQ2_S(const BlockIQ2_S* x, float* y, int64_t k);
void DequantizeIQ1_S(const BlockIQ1_S* x, float* y, int64_t k);
void DequantizeIQ1_M(const BlockIQ1_M* x, float* y, int64_t k);
void DequantizeIQ3_S(const BlockIQ3_S* x, float* y, int64_t k);

}  // namespace llmtk::quant_kernels

#endif  // LLMTK_LIB_GGML_QUANT_K_H_
