// kernels/iq1: IQ1_S and IQ1_M against Q8_K activations (ggml's
// ggml_vec_dot_iq1_s_q8_K / _iq1_m_q8_K). The scalar references follow the
// arithmetic of ggml's AVX2 form, which llama.cpp's CPU backend runs on x86:
// integer lane sums (lane k: offsets 4k..4k+3 of each 32 values), scaled and
// accumulated per lane with fma, the shift (+-1/8 times the block's Q8_K
// sums) kept in its own accumulator and added at the end. The AVX2 forms
// (iq1_avx2.cc) return the same bits.
#ifndef LLMTK_LIB_KERNELS_IQ1_H_
#define LLMTK_LIB_KERNELS_IQ1_H_

#include <cstdint>

namespace llmtk::kernels_internal {

float DotIQ1SScalar(int64_t n, const void* w, const void* a);
float DotIQ1MScalar(int64_t n, const void* w, const void* a);
// Defined only on x86 builds (they need the AVX2 target attribute).
float DotIQ1SAvx2(int64_t n, const void* w, const void* a);
float DotIQ1MAvx2(int64_t n, const void* w, const void* a);

}  // namespace llmtk::kernels_internal

#endif  // LLMTK_LIB_KERNELS_IQ1_H_
