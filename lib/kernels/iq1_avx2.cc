// AVX2 forms of the IQ1_S / IQ1_M dot products: ggml's AVX2 kernels, two
// 32-value blocks per step; same bits as the scalar references (iq1.h).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "lib/ggml/iq1_grid.h"
#include "lib/kernels/internal.h"
#include "lib/kernels/iq1.h"

#define LLMTK_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

LLMTK_AVX2 inline float Hsum8(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// Signed bytes times signed bytes, adjacent pairs summed to int16 (ggml's
// mul_add_epi8; x in {-1, 0, 1}, so nothing saturates).
LLMTK_AVX2 inline __m256i MulAdd(__m256i x, __m256i y) {
  return _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

LLMTK_AVX2 inline __m256i Points(const uint64_t* grid, int i0, int i1, int i2, int i3) {
  return _mm256_set_epi64x(static_cast<int64_t>(grid[i3]), static_cast<int64_t>(grid[i2]),
                           static_cast<int64_t>(grid[i1]), static_cast<int64_t>(grid[i0]));
}

// IQ1_M's odd scales 2l+1 as int16 lanes: the 3 bits of s at `lo` for the
// first 16 values of a 32, at `hi` for the last 16.
LLMTK_AVX2 inline __m256i OddScales(uint16_t s, int lo, int hi) {
  const __m256i v = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s >> hi)),
                                     _mm_set1_epi16(static_cast<int16_t>(s >> lo)));
  return _mm256_add_epi16(_mm256_slli_epi16(_mm256_and_si256(v, _mm256_set1_epi16(7)), 1), _mm256_set1_epi16(1));
}

}  // namespace

LLMTK_AVX2 float DotIQ1SAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_S*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ1SGrid();
  __m256 acc = _mm256_setzero_ps();
  float acc_shift = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const int8_t* q8 = y[b].qs;
    const uint8_t* qs = x[b].qs;
    const uint16_t* qh = x[b].qh;
    __m256i sumi = _mm256_setzero_si256();
    int shift = 0;
    for (int ib = 0; ib < kQK_K / 32; ib += 2) {
      const __m256i g1 = Points(grid, qs[0] | ((qh[ib] << 8) & 0x700), qs[1] | ((qh[ib] << 5) & 0x700),
                                qs[2] | ((qh[ib] << 2) & 0x700), qs[3] | ((qh[ib] >> 1) & 0x700));
      const __m256i g2 = Points(grid, qs[4] | ((qh[ib + 1] << 8) & 0x700), qs[5] | ((qh[ib + 1] << 5) & 0x700),
                                qs[6] | ((qh[ib + 1] << 2) & 0x700), qs[7] | ((qh[ib + 1] >> 1) & 0x700));
      qs += 8;
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      const __m256i y2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
      q8 += 64;
      const int16_t ls1 = static_cast<int16_t>(2 * ((qh[ib] >> 12) & 7) + 1);
      const int16_t ls2 = static_cast<int16_t>(2 * ((qh[ib + 1] >> 12) & 7) + 1);
      const __m256i p1 = _mm256_madd_epi16(MulAdd(g1, y1), _mm256_set1_epi16(ls1));
      const __m256i p2 = _mm256_madd_epi16(MulAdd(g2, y2), _mm256_set1_epi16(ls2));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p1, p2));
      shift += (y[b].bsums[2 * ib] + y[b].bsums[2 * ib + 1]) * (qh[ib] & 0x8000 ? -1 : 1) * ls1 +
               (y[b].bsums[2 * ib + 2] + y[b].bsums[2 * ib + 3]) * (qh[ib + 1] & 0x8000 ? -1 : 1) * ls2;
    }
    const float d = y[b].d * _cvtsh_ss(x[b].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    acc_shift = std::fma(d, static_cast<float>(shift), acc_shift);
  }
  return Hsum8(acc) + kIQ1Delta * acc_shift;
}

// +1 or -1 in each byte of an 8-value group, by its qh shift bit (a
// function, not a lambda: a lambda would not carry the target attribute,
// which builds without -march=native need).
LLMTK_AVX2 inline __m256i IQ1MDeltas(const uint8_t* qh) {
  auto d = [](int bit) { return static_cast<int64_t>(bit ? 0xffffffffffffffffULL : 0x0101010101010101ULL); };
  return _mm256_set_epi64x(d(qh[1] & 0x80), d(qh[1] & 0x08), d(qh[0] & 0x80), d(qh[0] & 0x08));
}

LLMTK_AVX2 float DotIQ1MAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_M*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ1SGrid();
  auto deltas = [](const uint8_t* qh) { return IQ1MDeltas(qh); };
  __m256 acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const int8_t* q8 = y[b].qs;
    const uint8_t* qs = x[b].qs;
    const uint8_t* qh = x[b].qh;
    uint16_t sc[4];
    std::memcpy(sc, x[b].scales, sizeof(sc));
    __m256i sumi1 = _mm256_setzero_si256(), sumi2 = _mm256_setzero_si256();
    for (int ib = 0; ib < kQK_K / 32; ib += 2) {
      const __m256i g1 = Points(grid, qs[0] | ((qh[0] << 8) & 0x700), qs[1] | ((qh[0] << 4) & 0x700),
                                qs[2] | ((qh[1] << 8) & 0x700), qs[3] | ((qh[1] << 4) & 0x700));
      const __m256i g2 = Points(grid, qs[4] | ((qh[2] << 8) & 0x700), qs[5] | ((qh[2] << 4) & 0x700),
                                qs[6] | ((qh[3] << 8) & 0x700), qs[7] | ((qh[3] << 4) & 0x700));
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      const __m256i y2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
      q8 += 64;
      const __m256i dot1 = MulAdd(g1, y1), dot2 = MulAdd(g2, y2);
      const __m256i dot3 = MulAdd(deltas(qh), y1), dot4 = MulAdd(deltas(qh + 2), y2);
      const uint16_t s = sc[ib / 2];
      const __m256i scale1 = OddScales(s, 0, 3), scale2 = OddScales(s, 6, 9);
      const __m256i p1 = _mm256_madd_epi16(dot1, scale1), p2 = _mm256_madd_epi16(dot2, scale2);
      const __m256i p3 = _mm256_madd_epi16(dot3, scale1), p4 = _mm256_madd_epi16(dot4, scale2);
      sumi1 = _mm256_add_epi32(sumi1, _mm256_add_epi32(p1, p2));
      sumi2 = _mm256_add_epi32(sumi2, _mm256_add_epi32(p3, p4));
      qs += 8;
      qh += 4;
    }
    const __m256 d = _mm256_set1_ps(y[b].d * _cvtsh_ss(IQ1MScale(x[b])));
    acc1 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi1), acc1);
    acc2 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi2), acc2);
  }
  return Hsum8(acc1) + kIQ1Delta * Hsum8(acc2);
}

}  // namespace llmtk::kernels_internal

#endif  // defined(__x86_64__)
