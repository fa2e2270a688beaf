// AVX2 IQ2_XS and IQ2_S dot products with Q8_K activations, in the
// arithmetic of ggml_vec_dot_iq2_xs_q8_K / ggml_vec_dot_iq2_s_q8_K's AVX2
// forms: per 32-block, grid bytes times the sign-flipped Q8_K values
// (_mm256_maddubs_epi16), times each half-block's 2*scale+1
// (_mm256_madd_epi16) into 8 int32 lanes, one FMA per super-block. The
// scalar references are in iq2s_scalar.cc; the sums are exact integers, so
// the lanes are the same however the steps are grouped.
#if defined(__x86_64__)
#include <immintrin.h>

#include <array>
#include <cstring>

#include "lib/ggml/iq2s_format.h"
#include "lib/ggml/iq_grids.h"
#include "lib/kernels/internal.h"

#define LLMTK_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

// Sign byte s as 8 bytes of +1/-1 (0x01/0xff) for _mm256_sign_epi8.
constexpr std::array<uint64_t, 256> kSignBytes = [] {
  std::array<uint64_t, 256> t{};
  for (int s = 0; s < 256; ++s) {
    for (int j = 0; j < 8; ++j) t[s] |= static_cast<uint64_t>((s >> j) & 1 ? 0xff : 0x01) << 8 * j;
  }
  return t;
}();

LLMTK_AVX2 inline float Hsum8(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

LLMTK_AVX2 inline __m256i Set4(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  return _mm256_set_epi64x(static_cast<int64_t>(d), static_cast<int64_t>(c), static_cast<int64_t>(b),
                           static_cast<int64_t>(a));
}

// One 32-block: points p, sign bytes s (4 each), 4-bit half-block scales
// lo/hi, Q8_K values q8.
LLMTK_AVX2 inline __m256i Block32(const uint64_t p[4], const uint8_t s[4], int lo, int hi, const int8_t* q8) {
  const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
  const __m256i signs = Set4(kSignBytes[s[0]], kSignBytes[s[1]], kSignBytes[s[2]], kSignBytes[s[3]]);
  const __m256i dot = _mm256_maddubs_epi16(Set4(p[0], p[1], p[2], p[3]), _mm256_sign_epi8(y, signs));
  const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(2 * hi + 1)),
                                      _mm_set1_epi16(static_cast<int16_t>(2 * lo + 1)));
  return _mm256_madd_epi16(dot, sc);
}

}  // namespace

LLMTK_AVX2 float DotIQ2XSAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ2_XS*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ2XSGrid();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    __m256i sumi = _mm256_setzero_si256();
    for (int ib = 0; ib < QKK / 32; ++ib) {
      const uint16_t* q2 = x[b].qs + 4 * ib;
      uint64_t p[4];
      uint8_t s[4];
      for (int l = 0; l < 4; ++l) {
        p[l] = grid[q2[l] & 511];
        s[l] = IQ2Signs(q2[l] >> 9);
      }
      const int sc = x[b].scales[ib];
      sumi = _mm256_add_epi32(sumi, Block32(p, s, sc & 0xf, sc >> 4, y[b].qs + 32 * ib));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[b].d) * y[b].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return 0.125f * Hsum8(acc);
}

LLMTK_AVX2 float DotIQ2SAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ2_S*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ2SGrid();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    __m256i sumi = _mm256_setzero_si256();
    for (int ib = 0; ib < QKK / 32; ++ib) {
      const uint8_t* qs = x[b].qs + 4 * ib;
      const int qh = x[b].qh[ib];
      const uint64_t p[4] = {grid[qs[0] | ((qh << 8) & 0x300)], grid[qs[1] | ((qh << 6) & 0x300)],
                             grid[qs[2] | ((qh << 4) & 0x300)], grid[qs[3] | ((qh << 2) & 0x300)]};
      const int sc = x[b].scales[ib];
      sumi = _mm256_add_epi32(sumi, Block32(p, x[b].qs + QKK / 8 + 4 * ib, sc & 0xf, sc >> 4, y[b].qs + 32 * ib));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[b].d) * y[b].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return 0.125f * Hsum8(acc);
}

}  // namespace llmtk::kernels_internal

#endif  // __x86_64__
