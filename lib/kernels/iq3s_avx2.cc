// IQ3_S against Q8_K in ggml's AVX2 form (ggml_vec_dot_iq3_s_q8_K): grid
// points gathered by index, signs expanded to byte masks and applied to the
// Q8_K values by xor and subtract, maddubs then madd by 2s+1. Equal to
// DotIQ3SScalar bit for bit (kernels_test).
#include "lib/ggml/iq_grids.h"
#include "lib/kernels/internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#define LLMTK_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

// Byte j of the result is 0xff where sign bit j of the 32-bit word is set.
LLMTK_AVX2 inline __m256i SignMask(uint32_t bits) {
  const __m256i shuffle = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3,
                                           3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
  const __m256i spread = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuffle), bit);
  return _mm256_cmpeq_epi8(spread, bit);
}

// The 8 grid points of one 32-block: index bytes q plus their 9th bits qh.
LLMTK_AVX2 inline __m256i Points(const uint32_t* grid, const uint8_t* q, int qh) {
  int g[8];
  for (int k = 0; k < 8; ++k) g[k] = static_cast<int>(grid[q[k] | (((qh >> k) & 1) << 8)]);
  return _mm256_setr_epi32(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
}

}  // namespace

LLMTK_AVX2 float DotIQ3SAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ3_S*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint32_t* grid = IQ3SGrid();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    const uint8_t* qs = x[b].qs;
    const uint8_t* signs = x[b].signs;
    const int8_t* q8 = y[b].qs;
    __m256i sumi1 = _mm256_setzero_si256(), sumi2 = _mm256_setzero_si256();
    for (int ib = 0; ib < QKK / 32; ib += 2) {
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      const __m256i y2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
      q8 += 64;
      const __m256i g1 = Points(grid, qs, x[b].qh[ib]), g2 = Points(grid, qs + 8, x[b].qh[ib + 1]);
      qs += 16;
      uint32_t s[2];
      std::memcpy(s, signs, sizeof(s));
      signs += 8;
      const __m256i m1 = SignMask(s[0]), m2 = SignMask(s[1]);
      const __m256i ys1 = _mm256_sub_epi8(_mm256_xor_si256(m1, y1), m1);
      const __m256i ys2 = _mm256_sub_epi8(_mm256_xor_si256(m2, y2), m2);
      const int16_t ls1 = static_cast<int16_t>(2 * (x[b].scales[ib / 2] & 0xf) + 1);
      const int16_t ls2 = static_cast<int16_t>(2 * (x[b].scales[ib / 2] >> 4) + 1);
      sumi1 = _mm256_add_epi32(sumi1, _mm256_madd_epi16(_mm256_maddubs_epi16(g1, ys1), _mm256_set1_epi16(ls1)));
      sumi2 = _mm256_add_epi32(sumi2, _mm256_madd_epi16(_mm256_maddubs_epi16(g2, ys2), _mm256_set1_epi16(ls2)));
    }
    const float d = _cvtsh_ss(x[b].d) * y[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(sumi1, sumi2)), acc);
  }
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(acc, 1), _mm256_castps256_ps128(acc));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

}  // namespace llmtk::kernels_internal

#endif
