// AVX-512 kernels (float types; quantized types use the AVX2 ones). One
// 16-lane accumulator is exactly the canonical 16 partial sums, reduced in the
// canonical order, so results equal the scalar reference bit for bit.
#include "lib/kernels_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cmath>

#define LLMTK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

LLMTK_AVX512 inline float Reduce(__m512 acc) {
  const __m256 r8 = _mm256_add_ps(_mm512_castps512_ps256(acc),
                                  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
  const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}

LLMTK_AVX512 inline __m512 LoadF16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

LLMTK_AVX512 inline __m512 LoadF32x16(const float* p) { return _mm512_loadu_ps(p); }
LLMTK_AVX512 inline float Id(float v) { return v; }
LLMTK_AVX512 inline float H1(uint16_t v) { return _cvtsh_ss(v); }

// ggml's order (see kernels_scalar.cc).
template <typename T, __m512 (*Load16)(const T*), float (*Load1)(T), bool kDoubleTail>
LLMTK_AVX512 float DotGgmlOrder(int64_t n, const void* w, const void* a) {
  const T* x = static_cast<const T*>(w);
  const T* y = static_cast<const T*>(a);
  if (n % 16 == 0) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) acc = _mm512_fmadd_ps(Load16(x + i), Load16(y + i), acc);
    return Reduce(acc);
  }
  const int64_t np = n & ~int64_t{63};
  __m512 acc[4];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t i = 0; i < np; i += 64)
    for (int j = 0; j < 4; ++j) acc[j] = _mm512_fmadd_ps(Load16(x + i + 16 * j), Load16(y + i + 16 * j), acc[j]);
  const float head = Reduce(_mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[1], acc[3])));
  if constexpr (kDoubleTail) {
    double s = head;
    for (int64_t i = np; i < n; ++i) s += static_cast<double>(Load1(x[i]) * Load1(y[i]));
    return static_cast<float>(s);
  } else {
    float s = head;
    for (int64_t i = np; i < n; ++i) s = std::fma(Load1(x[i]), Load1(y[i]), s);
    return s;
  }
}
LLMTK_AVX512 float DotF32(int64_t n, const void* w, const void* a) {
  return DotGgmlOrder<float, LoadF32x16, Id, false>(n, w, a);
}
LLMTK_AVX512 float DotF16(int64_t n, const void* w, const void* a) {
  return DotGgmlOrder<uint16_t, LoadF16x16, H1, true>(n, w, a);
}

KernelTable MakeTable() {
  KernelTable t;
  t.vec_dot[static_cast<int>(DType::kF32)] = DotF32;
  t.vec_dot[static_cast<int>(DType::kF16)] = DotF16;
  return t;
}

}  // namespace

const KernelTable& Avx512Table() {
  static const KernelTable table = MakeTable();
  return table;
}

}  // namespace llmtk::kernels_internal

#else

namespace llmtk::kernels_internal {
const KernelTable& Avx512Table() {
  static const KernelTable table;
  return table;
}
}  // namespace llmtk::kernels_internal

#endif
