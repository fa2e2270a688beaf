// VecDotGgml's float products with AVX-512 and AVX2 (target attributes, so a
// portable build still holds them; kernels/vec_dot_ggml.cc calls them only
// where the CPU has the ISA). ggml_vec_dot_f32/f16 on an AVX-512 CPU: four
// 16-lane accumulators over 64-element steps, folded (0+2)+(1+3), reduced
// as _mm512_reduce_add_ps does (halves: l+8, l+4, l+2, then 0+1), then the
// leftovers one by one. AVX2 holds each 16-lane accumulator as two vectors,
// so both give the scalar reference's bits.
#include "lib/kernels/vec_dot_ggml.h"

#include "lib/kernels/internal.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#define LLMTK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define LLMTK_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

// The leftovers after the 64-element steps: in double for F16 (products of
// two halves are exact in float), as ggml_vec_dot_f32's compiled loop for F32.
template <bool kF16>
LLMTK_AVX2 float Tail(float head, int64_t np, int64_t n, const void* w, const void* a) {
  if constexpr (kF16) {
    const auto* x = static_cast<const uint16_t*>(w);
    const auto* y = static_cast<const uint16_t*>(a);
    double s = head;
    for (int64_t i = np; i < n; ++i) s += static_cast<double>(_cvtsh_ss(x[i]) * _cvtsh_ss(y[i]));
    return static_cast<float>(s);
  } else {
    const auto* x = static_cast<const float*>(w);
    const auto* y = static_cast<const float*>(a);
    return GgmlF32Tail(head, np, n, [&](int64_t i) { return std::pair(x[i], y[i]); });
  }
}

LLMTK_AVX512 inline __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
LLMTK_AVX512 inline __m512 Load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

template <typename T>
LLMTK_AVX512 float DotAvx512(int64_t n, const void* w, const void* a) {
  const T* x = static_cast<const T*>(w);
  const T* y = static_cast<const T*>(a);
  const int64_t np = n & ~int64_t{63};
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  for (int64_t i = 0; i < np; i += 64) {
    acc0 = _mm512_fmadd_ps(Load16(x + i), Load16(y + i), acc0);
    acc1 = _mm512_fmadd_ps(Load16(x + i + 16), Load16(y + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(Load16(x + i + 32), Load16(y + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(Load16(x + i + 48), Load16(y + i + 48), acc3);
  }
  const __m512 f = _mm512_add_ps(_mm512_add_ps(acc0, acc2), _mm512_add_ps(acc1, acc3));
  const __m256 r8 = _mm256_add_ps(_mm512_castps512_ps256(f),
                                  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)));
  const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  const float head = _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
  return Tail<sizeof(T) == 2>(head, np, n, w, a);
}

LLMTK_AVX2 inline __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
LLMTK_AVX2 inline __m256 Load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <typename T>
LLMTK_AVX2 float DotAvx2(int64_t n, const void* w, const void* a) {
  const T* x = static_cast<const T*>(w);
  const T* y = static_cast<const T*>(a);
  const int64_t np = n & ~int64_t{63};
  __m256 acc[8];  // accumulator j's lanes 0-7 in acc[2j], 8-15 in acc[2j + 1]
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t i = 0; i < np; i += 64)
    for (int k = 0; k < 8; ++k) acc[k] = _mm256_fmadd_ps(Load8(x + i + 8 * k), Load8(y + i + 8 * k), acc[k]);
  const __m256 lo = _mm256_add_ps(_mm256_add_ps(acc[0], acc[4]), _mm256_add_ps(acc[2], acc[6]));
  const __m256 hi = _mm256_add_ps(_mm256_add_ps(acc[1], acc[5]), _mm256_add_ps(acc[3], acc[7]));
  const __m256 r8 = _mm256_add_ps(lo, hi);
  const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  const float head = _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
  return Tail<sizeof(T) == 2>(head, np, n, w, a);
}

}  // namespace

GgmlDotFn GgmlDotF32Avx512() { return DotAvx512<float>; }
GgmlDotFn GgmlDotF16Avx512() { return DotAvx512<uint16_t>; }
GgmlDotFn GgmlDotF32Avx2() { return DotAvx2<float>; }
GgmlDotFn GgmlDotF16Avx2() { return DotAvx2<uint16_t>; }

}  // namespace llmtk::kernels_internal

#else

namespace llmtk::kernels_internal {
GgmlDotFn GgmlDotF32Avx512() { return nullptr; }
GgmlDotFn GgmlDotF16Avx512() { return nullptr; }
GgmlDotFn GgmlDotF32Avx2() { return nullptr; }
GgmlDotFn GgmlDotF16Avx2() { return nullptr; }
}  // namespace llmtk::kernels_internal

#endif
