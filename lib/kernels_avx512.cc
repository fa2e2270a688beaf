// AVX-512 kernels (float types; quantized types use the AVX2 ones). One
// 16-lane accumulator is exactly the canonical 16 partial sums, reduced in the
// canonical order, so results equal the scalar reference bit for bit.
#include "lib/kernels_internal.h"

#if defined(__x86_64__)
// GCC 12's AVX-512 headers build vectors from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports inside every caller: a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
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
    return GgmlF32Tail(head, np, n, [&](int64_t i) { return std::pair(Load1(x[i]), Load1(y[i])); });
  }
}
LLMTK_AVX512 float DotF32(int64_t n, const void* w, const void* a) {
  return DotGgmlOrder<float, LoadF32x16, Id, false>(n, w, a);
}
LLMTK_AVX512 float DotF16(int64_t n, const void* w, const void* a) {
  return DotGgmlOrder<uint16_t, LoadF16x16, H1, true>(n, w, a);
}

// Eight rows at once for lengths that are multiples of 16 (the tinyBLAS
// order: each row one 16-lane accumulator, so eight independent chains);
// other lengths take the single-row kernel per row.
template <typename T, __m512 (*Load16)(const T*), float (*Single)(int64_t, const void*, const void*)>
LLMTK_AVX512 void DotX8(int64_t n, const void* w, size_t stride, const void* a, float out[8]) {
  const auto* base = static_cast<const uint8_t*>(w);
  if (n % 16 != 0) {
    for (int r = 0; r < 8; ++r) out[r] = Single(n, base + r * stride, a);
    return;
  }
  const T* y = static_cast<const T*>(a);
  __m512 acc[8];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __m512 yv = Load16(y + i);
    for (int r = 0; r < 8; ++r)
      acc[r] = _mm512_fmadd_ps(Load16(reinterpret_cast<const T*>(base + r * stride) + i), yv, acc[r]);
  }
  for (int r = 0; r < 8; ++r) out[r] = Reduce(acc[r]);
}
LLMTK_AVX512 void DotF32x8(int64_t n, const void* w, size_t stride, const void* a, float out[8]) {
  DotX8<float, LoadF32x16, DotF32>(n, w, stride, a, out);
}
LLMTK_AVX512 void DotF16x8(int64_t n, const void* w, size_t stride, const void* a, float out[8]) {
  DotX8<uint16_t, LoadF16x16, DotF16>(n, w, stride, a, out);
}

// VNNI forms of the eight-row Q4_0 and Q8_0 kernels (kernels_avx2.cc): one
// VPDPBUSD replaces maddubs+madd; the integer sums, and so the results, are
// the same.
#define LLMTK_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

LLMTK_VNNI inline __m256i MulSumI8Vnni(__m256i x, __m256i y) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}
LLMTK_VNNI inline __m256i LoadQ(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
LLMTK_VNNI inline float Hsum8Vnni(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

LLMTK_VNNI void DotQ4_0x8Vnni(int64_t n, const void* w, size_t stride, const void* a, float out[8]) {
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const uint8_t* base = static_cast<const uint8_t*>(w);
  const __m256i off = _mm256_set1_epi8(8), m4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i yv = LoadQ(y[b].qs);
    __m256i v[8];
    alignas(16) uint16_t dh[8];
    for (int r = 0; r < 8; ++r) {
      const auto* x = reinterpret_cast<const BlockQ4_0*>(base + r * stride) + b;
      dh[r] = x->d;
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->qs));
      const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), m4);
      v[r] = MulSumI8Vnni(_mm256_sub_epi8(q, off), yv);
    }
    const __m256i h0123 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i h4567 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(dh))),
                                   _mm256_set1_ps(_cvtsh_ss(y[b].d)));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), d, acc);
  }
  _mm256_storeu_ps(out, acc);
}

LLMTK_VNNI void DotQ8_0x8Vnni(int64_t n, const void* w, size_t stride, const void* a, float out[8]) {
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const uint8_t* base = static_cast<const uint8_t*>(w);
  __m256 acc[8];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i yv = LoadQ(y[b].qs);
    const float dy = _cvtsh_ss(y[b].d);
    for (int r = 0; r < 8; ++r) {
      const auto* x = reinterpret_cast<const BlockQ8_0*>(base + r * stride) + b;
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x->d) * dy),
                               _mm256_cvtepi32_ps(MulSumI8Vnni(LoadQ(x->qs), yv)), acc[r]);
    }
  }
  for (int r = 0; r < 8; ++r) out[r] = Hsum8Vnni(acc[r]);
}

KernelTable MakeTable() {
  KernelTable t;
  t.vec_dot[static_cast<int>(DType::kF32)] = DotF32;
  t.vec_dot[static_cast<int>(DType::kF16)] = DotF16;
  t.vec_dot8[static_cast<int>(DType::kF32)] = DotF32x8;
  t.vec_dot8[static_cast<int>(DType::kF16)] = DotF16x8;
  if (__builtin_cpu_supports("avx512vnni")) {
    t.vec_dot8[static_cast<int>(DType::kQ4_0)] = DotQ4_0x8Vnni;
    t.vec_dot8[static_cast<int>(DType::kQ8_0)] = DotQ8_0x8Vnni;
  }
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
