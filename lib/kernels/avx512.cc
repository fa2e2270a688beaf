

// AVX-512 kernels (float types; quantized types use the AVX2 ones). One
// 16-lane accumulator is exactly the canonical 16 partial sums, reduced in the
// canonical order, so results equal the scalar reference bit for bit.
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
// GCC 12's AVX-512 headers build vectors from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports inside every caller: a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstring>

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

// ggml's order (see kernels/scalar.cc).
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
// other lengths take the single-row kernel per row. A matrix-vector product
// (`prefetch` given: memory bound) goes two rows at a time instead: one
// core streams two rows plus the prefetched next group from DRAM ~15%
// faster than eight interleaved rows, and two chains still outrun memory.
// From cache (prompts, attention) eight chains hide the fma latency.
template <typename T, __m512 (*Load16)(const T*), float (*Single)(int64_t, const void*, const void*)>
LLMTK_AVX512 void DotX8(int64_t n, const void* w, size_t stride, const void* a, float out[8], const void* prefetch) {
  const auto* base = static_cast<const uint8_t*>(w);
  if (n % 16 != 0) {
    for (int r = 0; r < 8; ++r) out[r] = Single(n, base + r * stride, a);
    return;
  }
  const T* y = static_cast<const T*>(a);
  __m512 acc[8];
  for (auto& v : acc) v = _mm512_setzero_ps();
  if (prefetch != nullptr) {
    const SpanPrefetcher pf(prefetch, 8 * stride, 4 * (n / 16));
    for (int g = 0; g < 8; g += 2)
      for (int64_t i = 0; i < n; i += 16) {
        pf.Step((g / 2) * (n / 16) + i / 16);
        const __m512 yv = Load16(y + i);
        for (int r = g; r < g + 2; ++r)
          acc[r] = _mm512_fmadd_ps(Load16(reinterpret_cast<const T*>(base + r * stride) + i), yv, acc[r]);
      }
  } else {
    for (int64_t i = 0; i < n; i += 16) {
      const __m512 yv = Load16(y + i);
      for (int r = 0; r < 8; ++r)
        acc[r] = _mm512_fmadd_ps(Load16(reinterpret_cast<const T*>(base + r * stride) + i), yv, acc[r]);
    }
  }
  for (int r = 0; r < 8; ++r) out[r] = Reduce(acc[r]);
}
LLMTK_AVX512 void DotF32x8(int64_t n, const void* w, size_t stride, const void* a, float out[8],
                           const void* prefetch) {
  DotX8<float, LoadF32x16, DotF32>(n, w, stride, a, out, prefetch);
}
LLMTK_AVX512 void DotF16x8(int64_t n, const void* w, size_t stride, const void* a, float out[8],
                           const void* prefetch) {
  DotX8<uint16_t, LoadF16x16, DotF16>(n, w, stride, a, out, prefetch);
}

// Attention's P·V: the same fma per element, sixteen elements at a time; the
// lane reduction is ReduceCanonical16's tree applied to whole vectors.
template <typename T, __m512 (*Load16)(const T*), float (*Load1)(T)>
LLMTK_AVX512 void Axpy(float w, const void* row, float* lane, int64_t n) {
  const auto* v = static_cast<const T*>(row);
  const __m512 wv = _mm512_set1_ps(w);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(lane + i, _mm512_fmadd_ps(wv, Load16(v + i), _mm512_loadu_ps(lane + i)));
  for (; i < n; ++i) lane[i] = std::fma(w, Load1(v[i]), lane[i]);
}
LLMTK_AVX512 void AxpyF32(float w, const void* row, float* lane, int64_t n) {
  Axpy<float, LoadF32x16, Id>(w, row, lane, n);
}
LLMTK_AVX512 void AxpyF16(float w, const void* row, float* lane, int64_t n) {
  Axpy<uint16_t, LoadF16x16, H1>(w, row, lane, n);
}

// All of a head's P·V in one call: Axpy per position, inlined (a call per
// position was most of the cost at head width 64). Holding the sixteen
// lanes in registers and streaming positions past them per 16-column slice
// measured 4% faster at width 64 but 20% slower at width 128 with a 8 KB
// cache row stride (every slice pass re-reads rows that alias in L1).
template <typename T, __m512 (*Load16)(const T*), float (*Load1)(T)>
LLMTK_AVX512 void Accumulate(const float* w, const void* rows, size_t stride, int64_t count, float* lanes,
                             int64_t n) {
  const auto* base = static_cast<const uint8_t*>(rows);
  for (int64_t p = 0; p < count; ++p) Axpy<T, Load16, Load1>(w[p], base + p * stride, lanes + (p % 16) * n, n);
}

// The scaled scores' maximum: max is exact in any order (NaN-free scores).
LLMTK_AVX512 float ScaleMaxAvx512(float* s, int64_t n, float scale) {
  const __m512 sc = _mm512_set1_ps(scale);
  __m512 mx = _mm512_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(s + i), sc);
    _mm512_storeu_ps(s + i, v);
    mx = _mm512_max_ps(mx, v);
  }
  float m = _mm512_reduce_max_ps(mx);
  for (; i < n; ++i) {
    s[i] *= scale;
    m = std::max(m, s[i]);
  }
  return m;
}

// VCVTPS2PH rounds to nearest even, as Fp32ToFp16 does.
LLMTK_AVX512 void ScaleRoundAvx512(float* s, int64_t n, float inv, bool f16) {
  const __m512 iv = _mm512_set1_ps(inv);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(s + i), iv);
    if (f16) v = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    _mm512_storeu_ps(s + i, v);
  }
  for (; i < n; ++i) {
    s[i] *= inv;
    if (f16) s[i] = _cvtsh_ss(_cvtss_sh(s[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
}

LLMTK_AVX512 void ReduceLanes16(const float* lanes, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 r8[8], r4[4];
    for (int l = 0; l < 8; ++l) r8[l] = _mm512_add_ps(_mm512_loadu_ps(lanes + l * n + i), _mm512_loadu_ps(lanes + (l + 8) * n + i));
    for (int l = 0; l < 4; ++l) r4[l] = _mm512_add_ps(r8[l], r8[l + 4]);
    _mm512_storeu_ps(out + i, _mm512_add_ps(_mm512_add_ps(r4[0], r4[2]), _mm512_add_ps(r4[1], r4[3])));
  }
  for (; i < n; ++i) {
    float acc[16];
    for (int k = 0; k < 16; ++k) acc[k] = lanes[k * n + i];
    out[i] = ReduceCanonical16(acc);
  }
}

// VNNI forms of the eight-row Q4_0 and Q8_0 kernels (kernels/avx2.cc): one
// VPDPBUSD replaces maddubs+madd; the integer sums, and so the results, are
// the same.
#define LLMTK_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

LLMTK_VNNI inline __m256i LoadQ(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
LLMTK_VNNI inline float Hsum8Vnni(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// Q4_0 on 512-bit vectors, two rows per register. The nibbles are used
// unsigned and the offset of 8 is taken out as 8 * sum(y) per lane, seeded
// into VPDPBUSD's accumulator: the same exact integer per block and row as
// (q - 8) * y, in fewer instructions than the sign trick. Lanes end in the
// row order kRowOrder (what the hadd tree produces); the scales are gathered
// in that order and the results put back at the end.
constexpr int kRowOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

// Block b's nibbles of rows (2p, 2p+1) for p < 4: low nibbles of both rows in
// the lower 256 bits, high nibbles above.
LLMTK_VNNI inline void Q4_0Rows(const uint8_t* blk, size_t stride, __m512i q[4]) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int p = 0; p < 4; ++p) {
    const uint8_t* r0 = blk + 2 * p * stride + offsetof(BlockQ4_0, qs);
    const __m256i raw = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r0))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + stride)), 1);
    q[p] = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(raw), _mm256_srli_epi16(raw, 4), 1), m4);
  }
}

// The eight rows' fp16 scales of block `blk`, in kRowOrder: one load per
// row (the scale is its first word) and an unpack tree, which costs half the
// instructions of inserting the words one by one.
LLMTK_VNNI inline __m128i Q4_0Scales(const uint8_t* blk, size_t stride) {
  auto row = [&](int r) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + r * stride)); };
  const __m128i d02 = _mm_unpacklo_epi16(row(0), row(2)), d46 = _mm_unpacklo_epi16(row(4), row(6));
  const __m128i d13 = _mm_unpacklo_epi16(row(1), row(3)), d57 = _mm_unpacklo_epi16(row(5), row(7));
  return _mm_unpacklo_epi64(_mm_unpacklo_epi32(d02, d46), _mm_unpacklo_epi32(d13, d57));
}

// The eight rows' exact integer sums against activation block y, kRowOrder.
LLMTK_VNNI inline __m256i Q4_0Sums(const __m512i q[4], const BlockQ8_0& y) {
  // y as [first 16, first 16, last 16, last 16] bytes, matching q's layout.
  const __m512i y2 = _mm512_castsi256_si512(LoadQ(y.qs));
  const __m512i yz = _mm512_shuffle_i64x2(y2, y2, _MM_SHUFFLE(1, 1, 0, 0));
  const __m512i corr =
      _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(8), yz));
  __m256i s[4];
  for (int p = 0; p < 4; ++p) {
    const __m512i v = _mm512_dpbusd_epi32(corr, q[p], yz);
    s[p] = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  }
  return _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
}

LLMTK_VNNI inline void StoreRowOrder(__m256 acc, float* out) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  for (int i = 0; i < 8; ++i) out[kRowOrder[i]] = lanes[i];
}

LLMTK_VNNI void DotQ4_0x8Vnni(int64_t n, const void* w, size_t stride, const void* a, float out[8],
                              const void* prefetch) {
  const SpanPrefetcher pf(prefetch, 8 * stride, n / QK);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const uint8_t* base = static_cast<const uint8_t*>(w);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    pf.Step(b);
    const uint8_t* blk = base + b * sizeof(BlockQ4_0);
    __m512i q[4];
    Q4_0Rows(blk, stride, q);
    const __m256i sums = Q4_0Sums(q, y[b]);
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(Q4_0Scales(blk, stride)), _mm256_set1_ps(_cvtsh_ss(y[b].d)));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), d, acc);
  }
  StoreRowOrder(acc, out);
}

// Four tokens: each block's rows are decoded once.
LLMTK_VNNI void DotQ4_0x8x4Vnni(int64_t n, const void* w, size_t stride, const void* a, size_t astride,
                                float out[32]) {
  const uint8_t* base = static_cast<const uint8_t*>(w);
  const BlockQ8_0* y[4];
  for (int t = 0; t < 4; ++t) y[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + t * astride);
  __m256 acc[4];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    const uint8_t* blk = base + b * sizeof(BlockQ4_0);
    __m512i q[4];
    Q4_0Rows(blk, stride, q);
    const __m256 dx = _mm256_cvtph_ps(Q4_0Scales(blk, stride));
    for (int t = 0; t < 4; ++t) {
      const __m256i sums = Q4_0Sums(q, y[t][b]);
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(_cvtsh_ss(y[t][b].d)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), d, acc[t]);
    }
  }
  for (int t = 0; t < 4; ++t) StoreRowOrder(acc[t], out + 8 * t);
}

// Q8_0, one token, eight rows: two rows per 512-bit register (row 2p in the
// lower half, 2p + 1 in the upper), each half the eight lanes of the 256-bit
// sign-trick kernel (kernels/avx2.cc DotQ8_0x8) with half its vector
// instructions per block, and the eight rows' scale words converted in one
// go. Weights go unsigned as x + 128, and -128 * sum(y) per lane,
// computed once per block for all eight rows, is seeded into VPDPBUSD: each
// lane gets the exact integer of the sign trick, then the same float
// products and sums, so the results are bit for bit the same.
LLMTK_VNNI void DotQ8_0x8Zmm(int64_t n, const void* w, size_t stride, const void* a, float out[8],
                             const void* prefetch) {
  const SpanPrefetcher pf(prefetch, 8 * stride, n / QK);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const uint8_t* base = static_cast<const uint8_t*>(w);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  // Scales come in kRowOrder {0,2,4,6,1,3,5,7}: rows 2p and 2p + 1 sit at p and 4 + p.
  __m512i pick[4];
  for (int p = 0; p < 4; ++p)
    pick[p] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(p)), _mm256_set1_epi32(4 + p), 1);
  __m512 acc[4];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    pf.Step(b);
    const uint8_t* blk = base + b * sizeof(BlockQ8_0);
    const __m512i yz = _mm512_broadcast_i64x4(LoadQ(y[b].qs));
    const __m512i corr = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, yz));
    const __m512 d = _mm512_castps256_ps512(
        _mm256_mul_ps(_mm256_cvtph_ps(Q4_0Scales(blk, stride)), _mm256_set1_ps(_cvtsh_ss(y[b].d))));
    for (int p = 0; p < 4; ++p) {
      const uint8_t* r0 = blk + 2 * p * stride + offsetof(BlockQ8_0, qs);
      const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(LoadQ(reinterpret_cast<const int8_t*>(r0))),
                                           LoadQ(reinterpret_cast<const int8_t*>(r0 + stride)), 1);
      const __m512i v = _mm512_dpbusd_epi32(corr, _mm512_xor_si512(x, flip), yz);
      acc[p] = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick[p], d), _mm512_cvtepi32_ps(v), acc[p]);
    }
  }
  for (int p = 0; p < 4; ++p) {
    out[2 * p] = Hsum8Vnni(_mm512_castps512_ps256(acc[p]));
    out[2 * p + 1] = Hsum8Vnni(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[p]), 1)));
  }
}

// Q8_0, four rows by 2P tokens (called twice for eight rows, so that the
// accumulators fit the registers). Weights are made unsigned (x + 128) once
// for all the tokens, and 128 * sum(y) per lane is seeded into VPDPBUSD:
// the exact integers of the sign-trick kernel.
template <int P>  // token pairs
LLMTK_VNNI void DotQ8_0x4xT(int64_t n, const uint8_t* w, size_t stride, const uint8_t* a, size_t astride,
                            float* out) {
  // Two tokens per 512-bit register: a row's bytes in both halves, tokens
  // t and t + 1 in the lower and upper half; each half is the single-row
  // kernel's eight lanes for its token.
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc[P][4];
  for (auto& pair : acc)
    for (auto& v : pair) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    __m512i u[4];
    __m512 dx[4];
    for (int r = 0; r < 4; ++r) {
      const auto* x = reinterpret_cast<const BlockQ8_0*>(w + r * stride) + b;
      u[r] = _mm512_xor_si512(_mm512_broadcast_i64x4(LoadQ(x->qs)), flip);
      dx[r] = _mm512_set1_ps(_cvtsh_ss(x->d));
    }
    for (int p = 0; p < P; ++p) {
      const auto* y0 = reinterpret_cast<const BlockQ8_0*>(a + 2 * p * astride) + b;
      const auto* y1 = reinterpret_cast<const BlockQ8_0*>(a + (2 * p + 1) * astride) + b;
      const __m512i yv = _mm512_inserti64x4(_mm512_castsi256_si512(LoadQ(y0->qs)), LoadQ(y1->qs), 1);
      const __m512i corr =
          _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, yv));
      const __m512 dy = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(_cvtsh_ss(y0->d))),
                                                             _mm256_castps_pd(_mm256_set1_ps(_cvtsh_ss(y1->d))), 1));
      for (int r = 0; r < 4; ++r)
        acc[p][r] = _mm512_fmadd_ps(_mm512_mul_ps(dx[r], dy), _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(corr, u[r], yv)),
                                    acc[p][r]);
    }
  }
  for (int p = 0; p < P; ++p)
    for (int r = 0; r < 4; ++r) {
      out[8 * (2 * p) + r] = Hsum8Vnni(_mm512_castps512_ps256(acc[p][r]));
      out[8 * (2 * p + 1) + r] = Hsum8Vnni(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[p][r]), 1)));
    }
}

// Eight rows as two runs of four, for 2P tokens.
template <int P>
LLMTK_VNNI void DotQ8_0x8xT(int64_t n, const void* w, size_t stride, const void* a, size_t astride, float* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  const auto* act = static_cast<const uint8_t*>(a);
  DotQ8_0x4xT<P>(n, base, stride, act, astride, out);
  DotQ8_0x4xT<P>(n, base + 4 * stride, stride, act, astride, out + 4);
}

KernelTable MakeTable() {
  KernelTable t;
  t.vec_dot[static_cast<int>(DType::kF32)] = DotF32;
  t.vec_dot[static_cast<int>(DType::kF16)] = DotF16;
  t.vec_dot8[static_cast<int>(DType::kF32)] = DotF32x8;
  t.vec_dot8[static_cast<int>(DType::kF16)] = DotF16x8;
  t.axpy[static_cast<int>(DType::kF32)] = AxpyF32;
  t.axpy[static_cast<int>(DType::kF16)] = AxpyF16;
  t.accumulate[static_cast<int>(DType::kF32)] = Accumulate<float, LoadF32x16, Id>;
  t.accumulate[static_cast<int>(DType::kF16)] = Accumulate<uint16_t, LoadF16x16, H1>;
  t.scale_max = ScaleMaxAvx512;
  t.scale_round = ScaleRoundAvx512;
  t.reduce_lanes16 = ReduceLanes16;
  AddActivationsAvx512(&t);
  AddAttentionAvx512(&t);
  AddF16x16Prompt(&t);
  if (__builtin_cpu_supports("avx512vnni")) {
    t.vec_dot8[static_cast<int>(DType::kQ4_0)] = DotQ4_0x8Vnni;
    t.vec_dot8[static_cast<int>(DType::kQ8_0)] = DotQ8_0x8Zmm;
    AddKQuantsVnni(&t);
    t.vec_dot8x4[static_cast<int>(DType::kQ4_0)] = DotQ4_0x8x4Vnni;
    AddQ4_0x16Vnni(&t);
    AddQ4Kx16Vnni(&t);
    AddQ4Kx16PromptVnni(&t);
    AddQ6Kx16Vnni(&t);
    AddQ8_0x16Vnni(&t);
    t.vec_dot8x4[static_cast<int>(DType::kQ8_0)] = DotQ8_0x8xT<2>;
    t.vec_dot8x8[static_cast<int>(DType::kQ8_0)] = DotQ8_0x8xT<4>;
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
