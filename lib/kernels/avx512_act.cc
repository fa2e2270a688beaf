// AVX-512 forms of the activation kernels (softmax's exponentials, SwiGLU).
// llama.cpp computes these with ggml_v_expf on sixteen lanes; the scalar
// references (kernels/scalar.cc) replay it lane by lane, and these run it
// as written, so both give the same bits. VSCALEFPS is ldexp for the
// integral exponents that reach it (both round a subnormal result once).
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstring>

#define LLMTK_AVX512F __attribute__((target("avx512f,avx512vl,avx2,fma")))

namespace llmtk::kernels_internal {
namespace {

LLMTK_AVX512F inline __m512 VExpf(__m512 x) {
  const __m512 r = _mm512_set1_ps(0x1.8p23f);
  const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
  const __m512 n = _mm512_sub_ps(z, r);
  const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                    _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
  const __m512 u = _mm512_mul_ps(b, b);
  const __m512 j = _mm512_fmadd_ps(
      _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                      _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
      u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
  const __m512 res = _mm512_scalef_ps(j, n);
  if (big == 0) return res;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 alt =
      _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, zero, _CMP_LE_OQ), _mm512_set1_ps(INFINITY), zero);
  return _mm512_mask_blend_ps(big, res, alt);
}

// ReduceCanonical16 on a register.
LLMTK_AVX512F inline float Reduce16(__m512 v) {
  const __m256 r8 =
      _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}

LLMTK_AVX512F double SoftmaxExpAvx512(float* s, int64_t n, float mx) {
  const __m512 m = _mm512_set1_ps(mx);
  double sum = 0;
  for (int64_t p = 0; p < n; p += 16) {
    const __mmask16 live = n - p >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - p)) - 1);
    const __m512 e = _mm512_maskz_mov_ps(live, VExpf(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, s + p), m)));
    _mm512_mask_storeu_ps(s + p, live, e);
    sum += static_cast<double>(Reduce16(e));
  }
  return sum;
}

LLMTK_AVX512F void SwiGluAvx512(float* gate, const float* up, int64_t n) {
  const int64_t vec_end = n - n % 16;
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < vec_end; i += 16) {
    const __m512 x = _mm512_loadu_ps(gate + i);
    const __m512 e = VExpf(_mm512_sub_ps(_mm512_setzero_ps(), x));
    _mm512_storeu_ps(gate + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(up + i)));
  }
  for (int64_t i = vec_end; i < n; ++i) gate[i] = (gate[i] / (1.0f + std::exp(-gate[i]))) * up[i];
}

// Q8_0 / Q8_1 activation encoding (QuantizeQ8Legacy in kernels/scalar.cc):
// the maximum is order-free, x * (127 / amax) is the same product, and
// VCVTPS2DQ rounds half to even like nearbyint.
template <bool kSum>
LLMTK_AVX512F void QuantizeQ8Avx512(const float* x, int64_t n, void* out) {
  constexpr size_t kBytes = kSum ? sizeof(BlockQ8_1) : sizeof(BlockQ8_0);
  auto* base = static_cast<uint8_t*>(out);
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
    const float d = amax / 127.f;
    const __m512 id = _mm512_set1_ps(amax != 0.f ? 127.f / amax : 0.f);
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id));
    uint8_t* blk = base + b * kBytes;
    const uint16_t dh = Fp32ToFp16(d);
    std::memcpy(blk, &dh, 2);
    int8_t* qs = reinterpret_cast<int8_t*>(blk + (kSum ? 4 : 2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtepi32_epi8(q1));
    if constexpr (kSum) {
      const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
      const uint16_t sh = Fp32ToFp16(d * static_cast<float>(sum));
      std::memcpy(blk + 2, &sh, 2);
    }
  }
}

}  // namespace

void AddActivationsAvx512(KernelTable* t) {
  t->softmax_exp = SoftmaxExpAvx512;
  t->swiglu = SwiGluAvx512;
  t->quantize[static_cast<int>(GgmlType::kQ8_0)] = QuantizeQ8Avx512<false>;
  t->quantize[static_cast<int>(GgmlType::kQ8_1)] = QuantizeQ8Avx512<true>;
}

}  // namespace llmtk::kernels_internal

#endif
