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
LLMTK_AVX512 inline __m512 LoadBF16x16(const uint16_t* p) {
  const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

LLMTK_AVX512 float DotF32(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc);
  float s = Reduce(acc);
  for (; i < n; ++i) s = std::fma(x[i], y[i], s);
  return s;
}

LLMTK_AVX512 float DotF16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(LoadF16x16(x + i), LoadF16x16(y + i), acc);
  float s = Reduce(acc);
  for (; i < n; ++i) s = std::fma(_cvtsh_ss(x[i]), _cvtsh_ss(y[i]), s);
  return s;
}

LLMTK_AVX512 float DotBF16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(LoadBF16x16(x + i), LoadBF16x16(y + i), acc);
  float s = Reduce(acc);
  for (; i < n; ++i) s = std::fma(Bf16ToFp32(x[i]), Bf16ToFp32(y[i]), s);
  return s;
}

KernelTable MakeTable() {
  KernelTable t;
  t.vec_dot[static_cast<int>(DType::kF32)] = DotF32;
  t.vec_dot[static_cast<int>(DType::kF16)] = DotF16;
  t.vec_dot[static_cast<int>(DType::kBF16)] = DotBF16;
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
