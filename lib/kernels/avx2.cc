// AVX2 kernels. Compiled with target attributes so a portable build still
// contains them; dispatch (kernels/kernels.cc) only calls them on CPUs that have
// AVX2+FMA+F16C. Each returns exactly what its scalar reference returns:
// integer block sums are exact, and float accumulation follows the same order.
#include "lib/ggml/iq_grids.h"
#include "lib/kernels/internal.h"
#include "lib/kernels/iq1.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <array>
#include <cmath>
#include <cstring>

#define LLMTK_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

LLMTK_AVX2 inline int HsumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// The canonical reduction of 16 partial sums held as lanes 0-7 and 8-15.
LLMTK_AVX2 inline float ReduceCanonical(__m256 lo, __m256 hi) {
  const __m256 r8 = _mm256_add_ps(lo, hi);
  const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}

LLMTK_AVX2 inline __m256 LoadF16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

LLMTK_AVX2 inline __m256 LoadF32x8(const float* p) { return _mm256_loadu_ps(p); }

// ggml's order (see kernels/scalar.cc): 16 lanes as two 8-lane halves.
template <typename T, __m256 (*Load8)(const T*), float (*Load1)(T), bool kDoubleTail>
LLMTK_AVX2 float DotGgmlOrder(int64_t n, const void* w, const void* a) {
  const T* x = static_cast<const T*>(w);
  const T* y = static_cast<const T*>(a);
  if (n % 16 == 0) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
      lo = _mm256_fmadd_ps(Load8(x + i), Load8(y + i), lo);
      hi = _mm256_fmadd_ps(Load8(x + i + 8), Load8(y + i + 8), hi);
    }
    return ReduceCanonical(lo, hi);
  }
  const int64_t np = n & ~int64_t{63};
  __m256 acc[8];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t i = 0; i < np; i += 64)
    for (int k = 0; k < 8; ++k) acc[k] = _mm256_fmadd_ps(Load8(x + i + 8 * k), Load8(y + i + 8 * k), acc[k]);
  // acc[2j] / acc[2j+1] are lanes 0-7 / 8-15 of ggml's accumulator j.
  const __m256 lo = _mm256_add_ps(_mm256_add_ps(acc[0], acc[4]), _mm256_add_ps(acc[2], acc[6]));
  const __m256 hi = _mm256_add_ps(_mm256_add_ps(acc[1], acc[5]), _mm256_add_ps(acc[3], acc[7]));
  const float head = ReduceCanonical(lo, hi);
  if constexpr (kDoubleTail) {
    double s = head;
    for (int64_t i = np; i < n; ++i) s += static_cast<double>(Load1(x[i]) * Load1(y[i]));
    return static_cast<float>(s);
  } else {
    return GgmlF32Tail(head, np, n, [&](int64_t i) { return std::pair(Load1(x[i]), Load1(y[i])); });
  }
}
LLMTK_AVX2 inline float Id(float v) { return v; }
LLMTK_AVX2 inline float H1(uint16_t v) { return _cvtsh_ss(v); }
LLMTK_AVX2 float DotF32(int64_t n, const void* w, const void* a) {
  return DotGgmlOrder<float, LoadF32x8, Id, false>(n, w, a);
}
LLMTK_AVX2 float DotF16(int64_t n, const void* w, const void* a) {
  return DotGgmlOrder<uint16_t, LoadF16x8, H1, true>(n, w, a);
}

// Sum of signed-int8 products over 32 lanes, as 8 int32 lanes.
LLMTK_AVX2 inline __m256i MulSumI8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}
// Sum of unsigned-int8 (< 128) times signed-int8 products, as 8 int32 lanes.
LLMTK_AVX2 inline __m256i MulSumU8(__m256i ux, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ux, y), _mm256_set1_epi16(1));
}

// 16 packed bytes -> 32 nibbles: low nibbles in bytes 0-15, high in 16-31.
LLMTK_AVX2 inline __m256i Nibbles32(const uint8_t* p) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0xFF where the bit is set.
LLMTK_AVX2 inline __m256i BitsToBytes(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                         0x0101010101010101, 0x0000000000000000);
  __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

LLMTK_AVX2 inline __m256i LoadY(const int8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// ggml's hsum_float_8: lanes (l, l+4), then (0, 2) and (1, 3), then the two.
LLMTK_AVX2 inline float Hsum8(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

LLMTK_AVX2 inline __m256 Fma(float d, __m256i lanes, __m256 acc) {
  return _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(lanes), acc);
}

LLMTK_AVX2 float DotQ8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b)
    acc = Fma(_cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), MulSumI8(LoadY(x[b].qs), LoadY(y[b].qs)), acc);
  return Hsum8(acc);
}

// Repacked-Q4_0 order: one integer sum per block (see kernels/scalar.cc).
LLMTK_AVX2 float DotQ4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i q = _mm256_sub_epi8(Nibbles32(x[b].qs), _mm256_set1_epi8(8));
    const int sumi = HsumI32(MulSumI8(q, LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
  }
  return s;
}

// Eight Q4_0 rows at once: each row's per-block integer sum is reduced with
// the others in one hadd tree, and the eight fma chains run in one vector,
// lane r doing exactly row r's scalar sequence.
LLMTK_AVX2 void DotQ4_0x8(int64_t n, const void* w, size_t stride, const void* a, float out[8],
                      const void* prefetch) {
  const SpanPrefetcher pf(prefetch, 8 * stride, n / QK);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const uint8_t* base = static_cast<const uint8_t*>(w);
  const __m256i off = _mm256_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    pf.Step(b);
    const __m256i yv = LoadY(y[b].qs);
    __m256i v[8];
    alignas(16) uint16_t dh[8];
    for (int r = 0; r < 8; ++r) {
      const auto* x = reinterpret_cast<const BlockQ4_0*>(base + r * stride) + b;
      dh[r] = x->d;
      v[r] = MulSumI8(_mm256_sub_epi8(Nibbles32(x->qs), off), yv);
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

// Eight Q8_0 rows sharing each activation block; every row keeps its own
// 8-lane accumulator, so each result is the single-row kernel's.
LLMTK_AVX2 void DotQ8_0x8(int64_t n, const void* w, size_t stride, const void* a, float out[8],
                      const void* prefetch) {
  const SpanPrefetcher pf(prefetch, 8 * stride, n / QK);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const uint8_t* base = static_cast<const uint8_t*>(w);
  __m256 acc[8];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    pf.Step(b);
    const __m256i yv = LoadY(y[b].qs);
    const float dy = _cvtsh_ss(y[b].d);
    for (int r = 0; r < 8; ++r) {
      const auto* x = reinterpret_cast<const BlockQ8_0*>(base + r * stride) + b;
      acc[r] = Fma(_cvtsh_ss(x->d) * dy, MulSumI8(LoadY(x->qs), yv), acc[r]);
    }
  }
  for (int r = 0; r < 8; ++r) out[r] = Hsum8(acc[r]);
}

LLMTK_AVX2 float DotQ4_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float summs = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    summs = std::fma(_cvtsh_ss(x[b].m), _cvtsh_ss(y[b].s), summs);
    acc = Fma(_cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), MulSumU8(Nibbles32(x[b].qs), LoadY(y[b].qs)), acc);
  }
  return Hsum8(acc) + summs;
}

LLMTK_AVX2 float DotQ5_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i hi = _mm256_and_si256(BitsToBytes(x[b].qh), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_sub_epi8(_mm256_or_si256(Nibbles32(x[b].qs), hi), _mm256_set1_epi8(16));
    acc = Fma(_cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), MulSumI8(q, LoadY(y[b].qs)), acc);
  }
  return Hsum8(acc);
}

LLMTK_AVX2 float DotQ5_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float summs = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    summs = std::fma(_cvtsh_ss(x[b].m), _cvtsh_ss(y[b].s), summs);
    const __m256i hi = _mm256_and_si256(BitsToBytes(x[b].qh), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_or_si256(Nibbles32(x[b].qs), hi);
    acc = Fma(_cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), MulSumU8(q, LoadY(y[b].qs)), acc);
  }
  return Hsum8(acc) + summs;
}

LLMTK_AVX2 float DotIQ4NL(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const __m128i table128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4NLValues));
  const __m256i table = _mm256_set_m128i(table128, table128);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i q = _mm256_shuffle_epi8(table, Nibbles32(x[b].qs));
    const int sumi = HsumI32(MulSumI8(q, LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
  }
  return s;
}

// ggml_vec_dot_iq4_xs_q8_K's AVX2 form (its AVX-512 builds run it too): two
// 32-blocks per step, their scaled pair sums in separate int32 lanes.
LLMTK_AVX2 float DotIQ4XS(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m128i table128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4NLValues));
  const __m256i table = _mm256_set_m128i(table128, table128);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    const uint8_t* qs = x[b].qs;
    const int8_t* q8 = y[b].qs;
    uint16_t sh = x[b].scales_h;
    __m256i sumi1 = _mm256_setzero_si256(), sumi2 = _mm256_setzero_si256();
    for (int ib = 0; ib < QKK / 32; ib += 2) {
      const __m256i q4_1 = _mm256_shuffle_epi8(table, Nibbles32(qs));
      const __m256i q4_2 = _mm256_shuffle_epi8(table, Nibbles32(qs + 16));
      qs += 32;
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      const __m256i y2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
      q8 += 64;
      const __m256i p16_1 = _mm256_maddubs_epi16(_mm256_sign_epi8(q4_1, q4_1), _mm256_sign_epi8(y1, q4_1));
      const __m256i p16_2 = _mm256_maddubs_epi16(_mm256_sign_epi8(q4_2, q4_2), _mm256_sign_epi8(y2, q4_2));
      const int16_t ls1 = static_cast<int16_t>(((x[b].scales_l[ib / 2] & 0xf) | ((sh << 4) & 0x30)) - 32);
      const int16_t ls2 = static_cast<int16_t>(((x[b].scales_l[ib / 2] >> 4) | ((sh << 2) & 0x30)) - 32);
      sh >>= 4;
      sumi1 = _mm256_add_epi32(_mm256_madd_epi16(p16_1, _mm256_set1_epi16(ls1)), sumi1);
      sumi2 = _mm256_add_epi32(_mm256_madd_epi16(p16_2, _mm256_set1_epi16(ls2)), sumi2);
    }
    acc = Fma(_cvtsh_ss(x[b].d) * y[b].d, _mm256_add_epi32(sumi1, sumi2), acc);
  }
  return Hsum8(acc);
}

// Four 7-bit sign groups (bits 0..27 of v) as 32 bytes of +1/-1 (0x01/0xff)
// for _mm256_sign_epi8, each group with its parity bit (ggml's
// keven_signs_q2xs).
LLMTK_AVX2 inline __m256i Iq2SignMasks(uint32_t v) {
  static const auto kSigns = [] {
    std::array<uint64_t, 128> t{};
    for (int i = 0; i < 128; ++i) {
      for (int j = 0; j < 8; ++j) t[i] |= static_cast<uint64_t>((IQ2Signs(i) >> j) & 1 ? 0xff : 0x01) << 8 * j;
    }
    return t;
  }();
  return _mm256_set_epi64x(static_cast<int64_t>(kSigns[(v >> 21) & 127]), static_cast<int64_t>(kSigns[(v >> 14) & 127]),
                           static_cast<int64_t>(kSigns[(v >> 7) & 127]), static_cast<int64_t>(kSigns[v & 127]));
}

// ggml_vec_dot_iq2_xxs_q8_K's AVX2 form: grid bytes times Q8_K values whose
// signs the stored sign bits flip, two 32-blocks per step.
LLMTK_AVX2 float DotIQ2XXS(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ2_XXS*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ2XXSGrid();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    const uint16_t* q2 = x[b].qs;
    const int8_t* q8 = y[b].qs;
    __m256i sumi1 = _mm256_setzero_si256(), sumi2 = _mm256_setzero_si256();
    for (int ib = 0; ib < QKK / 32; ib += 2) {
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      const __m256i y2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
      q8 += 64;
      uint32_t aux32[4];
      std::memcpy(aux32, q2, sizeof(aux32));
      q2 += 8;
      const uint8_t* aux8 = reinterpret_cast<const uint8_t*>(aux32);
      const __m256i g1 = _mm256_set_epi64x(static_cast<int64_t>(grid[aux8[3]]), static_cast<int64_t>(grid[aux8[2]]),
                                           static_cast<int64_t>(grid[aux8[1]]), static_cast<int64_t>(grid[aux8[0]]));
      const __m256i g2 = _mm256_set_epi64x(static_cast<int64_t>(grid[aux8[11]]), static_cast<int64_t>(grid[aux8[10]]),
                                           static_cast<int64_t>(grid[aux8[9]]), static_cast<int64_t>(grid[aux8[8]]));
      const __m256i dot1 = _mm256_maddubs_epi16(g1, _mm256_sign_epi8(y1, Iq2SignMasks(aux32[1])));
      const __m256i dot2 = _mm256_maddubs_epi16(g2, _mm256_sign_epi8(y2, Iq2SignMasks(aux32[3])));
      const int16_t ls1 = static_cast<int16_t>(2 * (aux32[1] >> 28) + 1);
      const int16_t ls2 = static_cast<int16_t>(2 * (aux32[3] >> 28) + 1);
      sumi1 = _mm256_add_epi32(sumi1, _mm256_madd_epi16(dot1, _mm256_set1_epi16(ls1)));
      sumi2 = _mm256_add_epi32(sumi2, _mm256_madd_epi16(dot2, _mm256_set1_epi16(ls2)));
    }
    acc = Fma(_cvtsh_ss(x[b].d) * y[b].d, _mm256_add_epi32(sumi1, sumi2), acc);
  }
  return 0.125f * Hsum8(acc);
}

// Eight grid points by index (a function of its own: a lambda would not
// carry the target attribute, which builds without -march=native need).
LLMTK_AVX2 inline __m256i IQ3XXSPoints(const uint32_t* grid, const uint8_t* q) {
  return _mm256_set_epi32(static_cast<int>(grid[q[7]]), static_cast<int>(grid[q[6]]), static_cast<int>(grid[q[5]]),
                          static_cast<int>(grid[q[4]]), static_cast<int>(grid[q[3]]), static_cast<int>(grid[q[2]]),
                          static_cast<int>(grid[q[1]]), static_cast<int>(grid[q[0]]));
}

// ggml_vec_dot_iq3_xxs_q8_K's AVX2 form.
LLMTK_AVX2 float DotIQ3XXS(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ3_XXS*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint32_t* grid = IQ3XXSGrid();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    const uint8_t* q3 = x[b].qs;
    const uint8_t* gas = x[b].qs + QKK / 4;
    const int8_t* q8 = y[b].qs;
    __m256i sumi1 = _mm256_setzero_si256(), sumi2 = _mm256_setzero_si256();
    auto points = [grid](const uint8_t* q) { return IQ3XXSPoints(grid, q); };
    for (int ib = 0; ib < QKK / 32; ib += 2) {
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      const __m256i y2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
      q8 += 64;
      const __m256i g1 = points(q3), g2 = points(q3 + 8);
      q3 += 16;
      uint32_t aux32[2];
      std::memcpy(aux32, gas, sizeof(aux32));
      gas += 8;
      const __m256i dot1 = _mm256_maddubs_epi16(g1, _mm256_sign_epi8(y1, Iq2SignMasks(aux32[0])));
      const __m256i dot2 = _mm256_maddubs_epi16(g2, _mm256_sign_epi8(y2, Iq2SignMasks(aux32[1])));
      const int16_t ls1 = static_cast<int16_t>(2 * (aux32[0] >> 28) + 1);
      const int16_t ls2 = static_cast<int16_t>(2 * (aux32[1] >> 28) + 1);
      sumi1 = _mm256_add_epi32(sumi1, _mm256_madd_epi16(dot1, _mm256_set1_epi16(ls1)));
      sumi2 = _mm256_add_epi32(sumi2, _mm256_madd_epi16(dot2, _mm256_set1_epi16(ls2)));
    }
    acc = Fma(_cvtsh_ss(x[b].d) * y[b].d, _mm256_add_epi32(sumi1, sumi2), acc);
  }
  return 0.25f * Hsum8(acc);
}

// Scale vector for two consecutive 16-element groups: int16 lanes 0-7 get
// `a` (the first 16 bytes' pair sums), lanes 8-15 get `b`.
LLMTK_AVX2 inline __m256i Scales2(int a, int b) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(b)), _mm_set1_epi16(static_cast<int16_t>(a)));
}
// Per-lane sums of scale * (ux . y) for 32 unsigned values against 32 int8.
LLMTK_AVX2 inline __m256i ScaledDot(__m256i ux, __m256i y, __m256i scales16) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ux, y), scales16);
}

LLMTK_AVX2 float DotQ2K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    const float d = y[b].d * _cvtsh_ss(x[b].d);
    const float dmin = -y[b].d * _cvtsh_ss(x[b].dmin);
    const __m128i sm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    const __m256i mins = _mm256_cvtepi8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), _mm_set1_epi8(0xF)));
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums));
    acc = Fma(dmin, _mm256_madd_epi16(mins, bsums), acc);
    __m256i sumi = _mm256_setzero_si256();
    const int8_t* q8 = y[b].qs;
    for (int half = 0; half < 2; ++half) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * half));
      for (int shift = 0; shift < 8; shift += 2, q8 += 32) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(raw, shift), m3);
        const uint8_t* sc = x[b].scales + half * 8 + shift;
        sumi = _mm256_add_epi32(sumi, ScaledDot(q, LoadY(q8), Scales2(sc[0] & 0xF, sc[1] & 0xF)));
      }
    }
    acc = Fma(d, sumi, acc);
  }
  return Hsum8(acc);
}

LLMTK_AVX2 float DotQ3K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    int8_t sc[16];
    UnpackQ3KScales(x[b].scales, sc);
    // Value = low2 - 4 * (high bit clear): two unsigned products, subtracted.
    const __m256i not_hm = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].hmask)),
                                            _mm256_set1_epi8(-1));
    __m256i sumi = _mm256_setzero_si256();
    const int8_t* q8 = y[b].qs;
    int pass = 0;
    for (int half = 0; half < 2; ++half) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * half));
      for (int shift = 0; shift < 8; shift += 2, ++pass, q8 += 32) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(raw, shift), m3);
        const __m256i h4 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(not_hm, pass), one), 2);
        const __m256i yv = LoadY(q8);
        const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(lo, yv), _mm256_maddubs_epi16(h4, yv));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p16, Scales2(sc[2 * pass], sc[2 * pass + 1])));
      }
    }
    acc = Fma(y[b].d * _cvtsh_ss(x[b].d), sumi, acc);
  }
  return Hsum8(acc);
}

template <bool kFive>
LLMTK_AVX2 float DotQ45K(int64_t n, const void* w, const void* a) {
  const auto* y = static_cast<const BlockQ8K*>(a);
  const size_t bytes = kFive ? sizeof(BlockQ5K) : sizeof(BlockQ4K);
  const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float acc_m[4] = {};
  float summs = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    const uint8_t* blk = static_cast<const uint8_t*>(w) + b * bytes;
    const auto* x4 = reinterpret_cast<const BlockQ4K*>(blk);
    const auto* x5 = reinterpret_cast<const BlockQ5K*>(blk);
    const uint8_t* scales = kFive ? x5->scales : x4->scales;
    const uint8_t* qs = kFive ? x5->qs : x4->qs;
    const uint16_t dh = kFive ? x5->d : x4->d, dminh = kFive ? x5->dmin : x4->dmin;
    const float d = y[b].d * _cvtsh_ss(dh);
    const float dmin = -y[b].d * _cvtsh_ss(dminh);
    // The 8 scales and 8 mins, unpacked at once (bytes 0-7, 8-15).
    uint32_t utmp[4];
    std::memcpy(utmp, scales, 12);
    utmp[3] = ((utmp[2] >> 4) & 0x0f0f0f0fu) | (((utmp[1] >> 6) & 0x03030303u) << 4);
    const uint32_t uaux = utmp[1] & 0x3f3f3f3fu;
    utmp[1] = (utmp[2] & 0x0f0f0f0fu) | (((utmp[0] >> 6) & 0x03030303u) << 4);
    utmp[2] = uaux;
    utmp[0] &= 0x3f3f3f3fu;
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    const uint8_t* mn = sc + 8;
    int mins[4];
    for (int k = 0; k < 4; ++k)
      mins[k] = mn[2 * k] * (y[b].bsums[4 * k] + y[b].bsums[4 * k + 1]) +
                mn[2 * k + 1] * (y[b].bsums[4 * k + 2] + y[b].bsums[4 * k + 3]);
    if constexpr (kFive) {
      summs = std::fma(dmin, static_cast<float>(mins[0] + mins[1] + mins[2] + mins[3]), summs);
    } else {
      for (int k = 0; k < 4; ++k) acc_m[k] = std::fma(dmin, static_cast<float>(mins[k]), acc_m[k]);
    }
    __m256i qh;
    if constexpr (kFive) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x5->qh));
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 8; j += 2) {
      const int sc0 = sc[j], sc1 = sc[j + 1];
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 16 * j));
      __m256i q0 = _mm256_and_si256(raw, m4);
      __m256i q1 = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      if constexpr (kFive) {
        q0 = _mm256_or_si256(q0, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, j), one), 4));
        q1 = _mm256_or_si256(q1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, j + 1), one), 4));
      }
      sumi = _mm256_add_epi32(sumi, ScaledDot(q0, LoadY(y[b].qs + 32 * j), _mm256_set1_epi16(sc0)));
      sumi = _mm256_add_epi32(sumi, ScaledDot(q1, LoadY(y[b].qs + 32 * j + 32), _mm256_set1_epi16(sc1)));
    }
    acc = Fma(d, sumi, acc);
  }
  if constexpr (kFive) return Hsum8(acc) + summs;
  const float m0 = acc_m[0] + acc_m[2], m1 = acc_m[1] + acc_m[3];
  return Hsum8(acc) + (m0 + m1);
}

LLMTK_AVX2 float DotQ6K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30), m32 = _mm256_set1_epi8(32);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    __m256i sumi = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * half));
      const __m256i u[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30)),
          _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_and_si256(_mm256_srli_epi16(h, 2), m30)),
      };
      const int8_t* sc = x[b].scales + 8 * half;
      const int8_t* q8 = y[b].qs + 128 * half;
      for (int k = 0; k < 4; ++k) {
        const __m256i yv = LoadY(q8 + 32 * k);
        const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(u[k], yv), _mm256_maddubs_epi16(m32, yv));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p16, Scales2(sc[2 * k], sc[2 * k + 1])));
      }
    }
    acc = Fma(y[b].d * _cvtsh_ss(x[b].d), sumi, acc);
  }
  return Hsum8(acc);
}

LLMTK_AVX2 void QuantizeF16(const float* x, int64_t n, void* out) {
  auto* y = static_cast<uint16_t*>(out);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

KernelTable MakeTable() {
  KernelTable t;
  auto set = [&](DType w, VecDotFn f) { t.vec_dot[static_cast<int>(w)] = f; };
  set(DType::kF32, DotF32);
  set(DType::kF16, DotF16);
  set(DType::kQ8_0, DotQ8_0);
  set(DType::kQ4_0, DotQ4_0);
  set(DType::kQ4_1, DotQ4_1);
  set(DType::kQ5_0, DotQ5_0);
  set(DType::kQ5_1, DotQ5_1);
  set(DType::kIQ4_NL, DotIQ4NL);
  set(DType::kIQ4_XS, DotIQ4XS);
  set(DType::kIQ2_XXS, DotIQ2XXS);
  set(DType::kIQ3_XXS, DotIQ3XXS);
  set(DType::kIQ2_XS, DotIQ2XSAvx2);
  set(DType::kIQ2_S, DotIQ2SAvx2);
  set(DType::kIQ1_S, DotIQ1SAvx2);
  set(DType::kIQ1_M, DotIQ1MAvx2);
  set(DType::kIQ3_S, DotIQ3SAvx2);
  set(DType::kQ2_K, DotQ2K);
  set(DType::kQ3_K, DotQ3K);
  set(DType::kQ4_K, DotQ45K<false>);
  set(DType::kQ5_K, DotQ45K<true>);
  set(DType::kQ6_K, DotQ6K);
  t.quantize[static_cast<int>(DType::kF16)] = QuantizeF16;
  t.vec_dot8[static_cast<int>(DType::kQ4_0)] = DotQ4_0x8;
  t.vec_dot8[static_cast<int>(DType::kQ8_0)] = DotQ8_0x8;
  return t;
}

}  // namespace

const KernelTable& Avx2Table() {
  static const KernelTable table = MakeTable();
  return table;
}

}  // namespace llmtk::kernels_internal

#else  // not x86-64

namespace llmtk::kernels_internal {
const KernelTable& Avx2Table() {
  static const KernelTable table;
  return table;
}
}  // namespace llmtk::kernels_internal

#endif
