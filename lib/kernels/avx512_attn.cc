// AVX-512 attention kernels for several queries against the same cache rows
// (the query heads of one grouped-query KV head). Each K row and V row is
// loaded and converted once for all of them; every dot product and every
// lane accumulation is still the single-query kernel's arithmetic
// (kernels/avx512.cc: DotX8 and Accumulate), so the results are the same
// bits. The plain references are DotRows / AccumulateRows per query
// (kernels/kernels.cc falls back to them).
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define LLMTK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

LLMTK_AVX512 inline __m512 LoadF16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
LLMTK_AVX512 inline __m512 LoadF32x16(const float* p) { return _mm512_loadu_ps(p); }

// Longest query a DotRowsMulti call converts onto its stack.
constexpr int64_t kMaxDim = 512;

// Reduce16's output lane L holds accumulator Perm(L) (an involution: it
// swaps lane bits 3 and 2, and 1 and 0).
constexpr int Perm(int l) { return ((l & 4) << 1) | ((l & 8) >> 1) | ((l & 1) << 1) | ((l & 2) >> 1); }

// Sixteen 16-lane sums reduced at once: output lane L = the canonical
// reduction of acc[Perm(L)], (l, l+8), (l, l+4), (l, l+2), (0, 1), the very
// additions of the one-vector Reduce, paired across vectors by shuffles
// (15 adds where sixteen separate reductions take 64 and 64 extracts).
LLMTK_AVX512 inline __m512 Reduce16(const __m512 acc[16]) {
  __m512 c[8], e[4], g[2];
  // c[i] = [acc[i]'s l + l+8 | acc[i+8]'s].
  for (int i = 0; i < 8; ++i)
    c[i] = _mm512_add_ps(_mm512_mask_blend_ps(0xFF00, acc[i], acc[i + 8]),
                         _mm512_shuffle_f32x4(acc[i], acc[i + 8], _MM_SHUFFLE(1, 0, 3, 2)));
  // e[i]: 128-bit chunks acc[i], acc[i+8], acc[i+4], acc[i+12], 4 sums each.
  for (int i = 0; i < 4; ++i)
    e[i] = _mm512_add_ps(_mm512_shuffle_f32x4(c[i], c[i + 4], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(c[i], c[i + 4], _MM_SHUFFLE(3, 1, 3, 1)));
  // g[i]: per chunk, two sums of e[i]'s accumulator, then two of e[i+2]'s.
  for (int i = 0; i < 2; ++i)
    g[i] = _mm512_add_ps(_mm512_mask_blend_ps(0xCCCC, e[i], e[i + 2]),
                         _mm512_shuffle_ps(e[i], e[i + 2], _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm512_add_ps(_mm512_shuffle_ps(g[0], g[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(g[0], g[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// Lane j * R + r of v (R = 16 / Q) to out[j * ostride + r].
template <int Q>
LLMTK_AVX512 inline void StoreScores(__m512 v, float* out, size_t ostride) {
  if constexpr (Q == 1) {
    _mm512_storeu_ps(out, v);
  } else if constexpr (Q == 2) {
    _mm256_storeu_ps(out, _mm512_castps512_ps256(v));
    _mm256_storeu_ps(out + ostride, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  } else if constexpr (Q == 4) {
    _mm_storeu_ps(out, _mm512_castps512_ps128(v));
    _mm_storeu_ps(out + ostride, _mm512_extractf32x4_ps(v, 1));
    _mm_storeu_ps(out + 2 * ostride, _mm512_extractf32x4_ps(v, 2));
    _mm_storeu_ps(out + 3 * ostride, _mm512_extractf32x4_ps(v, 3));
  } else {
    static_assert(Q == 8);
    const __m128 x[4] = {_mm512_castps512_ps128(v), _mm512_extractf32x4_ps(v, 1), _mm512_extractf32x4_ps(v, 2),
                         _mm512_extractf32x4_ps(v, 3)};
    for (int k = 0; k < 4; ++k) {
      _mm_storel_pi(reinterpret_cast<__m64*>(out + 2 * k * ostride), x[k]);
      _mm_storeh_pi(reinterpret_cast<__m64*>(out + (2 * k + 1) * ostride), x[k]);
    }
  }
}

// KQ of Q queries (qf: per 16 elements, the Q queries' 16 floats) against
// `count` rows, R = 16 / Q rows at a time: accumulator (j, r) is DotX8's
// one 16-lane chain for row r and query j, fma over the row in order.
template <typename T, __m512 (*Load16)(const T*), int Q>
LLMTK_AVX512 void DotQueries(int64_t n, const uint8_t* rows, size_t stride, int64_t count, const float* qf,
                             float* out, size_t ostride) {
  constexpr int R = 16 / Q;
  for (int64_t p = 0; p < count; p += R) {
    // The last block repeats the last row and keeps only the real ones.
    const T* row[R];
    for (int r = 0; r < R; ++r)
      row[r] = reinterpret_cast<const T*>(rows + std::min(p + r, count - 1) * stride);
    __m512 acc[16];
    for (auto& a : acc) a = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
      const float* q = qf + i * Q;
      for (int r = 0; r < R; ++r) {
        const __m512 k = Load16(row[r] + i);
        for (int j = 0; j < Q; ++j)
          acc[Perm(j * R + r)] = _mm512_fmadd_ps(k, _mm512_load_ps(q + 16 * j), acc[Perm(j * R + r)]);
      }
    }
    const __m512 v = Reduce16(acc);
    if (p + R <= count) {
      StoreScores<Q>(v, out + p, ostride);
    } else {
      alignas(64) float tmp[16];
      _mm512_store_ps(tmp, v);
      for (int j = 0; j < Q; ++j)
        for (int64_t r = 0; r < count - p; ++r) out[j * ostride + p + r] = tmp[j * R + r];
    }
  }
}

// The widest query block that fits the queries left: 8, 4, 2 or 1.
inline int Block(int left) { return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1; }

template <typename T, __m512 (*Load16)(const T*)>
LLMTK_AVX512 bool DotRowsMulti(int64_t n, const void* rows, size_t stride, int64_t count, const void* x,
                               size_t xstride, int nq, float* out, size_t ostride) {
  if (n % 16 != 0 || n > kMaxDim) return false;
  if (count <= 0) return true;
  alignas(64) float qf[8 * kMaxDim];
  const auto* r = static_cast<const uint8_t*>(rows);
  const auto* xb = static_cast<const uint8_t*>(x);
  for (int j0 = 0; j0 < nq;) {
    const int q = Block(nq - j0);
    for (int j = 0; j < q; ++j) {
      const T* xj = reinterpret_cast<const T*>(xb + (j0 + j) * xstride);
      for (int64_t i = 0; i < n; i += 16) _mm512_store_ps(qf + i * q + 16 * j, Load16(xj + i));
    }
    float* o = out + j0 * ostride;
    switch (q) {
      case 8: DotQueries<T, Load16, 8>(n, r, stride, count, qf, o, ostride); break;
      case 4: DotQueries<T, Load16, 4>(n, r, stride, count, qf, o, ostride); break;
      case 2: DotQueries<T, Load16, 2>(n, r, stride, count, qf, o, ostride); break;
      default: DotQueries<T, Load16, 1>(n, r, stride, count, qf, o, ostride); break;
    }
    j0 += q;
  }
  return true;
}

// P·V of Q queries over S 16-column slices from column col0: lane l's
// Q x S accumulators stay in registers while the positions p = l, l + 16,
// ... stream past (each row slice converted once for the Q queries); every
// accumulator sees Axpy's fma, in position order. `fresh`: the lanes start
// at zero (all sixteen written) instead of holding sums.
template <typename T, __m512 (*Load16)(const T*), int Q, int S>
LLMTK_AVX512 void AccumulateQueries(const float* w, size_t wstride, const uint8_t* rows, size_t stride,
                                    int64_t count, float* lanes, size_t lstride, int64_t n, int64_t col0,
                                    bool fresh) {
  const float* wj[Q];
  for (int j = 0; j < Q; ++j) wj[j] = w + j * wstride;
  const int64_t nl = fresh ? 16 : std::min<int64_t>(16, count);
  for (int64_t l = 0; l < nl; ++l) {
    __m512 acc[Q][S];
    for (int j = 0; j < Q; ++j)
      for (int s = 0; s < S; ++s)
        acc[j][s] = fresh ? _mm512_setzero_ps() : _mm512_loadu_ps(lanes + j * lstride + l * n + col0 + 16 * s);
    for (int64_t p = l; p < count; p += 16) {
      const T* row = reinterpret_cast<const T*>(rows + p * stride) + col0;
      __m512 v[S];
      for (int s = 0; s < S; ++s) v[s] = Load16(row + 16 * s);
      for (int j = 0; j < Q; ++j) {
        const __m512 wv = _mm512_set1_ps(wj[j][p]);
        for (int s = 0; s < S; ++s) acc[j][s] = _mm512_fmadd_ps(wv, v[s], acc[j][s]);
      }
    }
    for (int j = 0; j < Q; ++j)
      for (int s = 0; s < S; ++s) _mm512_storeu_ps(lanes + j * lstride + l * n + col0 + 16 * s, acc[j][s]);
  }
}

// Q queries over all n / 16 slices, S at a time (Q * S <= 16 accumulators).
template <typename T, __m512 (*Load16)(const T*), int Q>
LLMTK_AVX512 void AccumulateBlock(const float* w, size_t wstride, const uint8_t* rows, size_t stride,
                                  int64_t count, float* lanes, size_t lstride, int64_t n, bool fresh) {
  constexpr int kMaxS = 16 / Q;
  for (int64_t s0 = 0; s0 < n / 16;) {
    const int64_t left = n / 16 - s0;
    if (kMaxS >= 4 && left >= 4) {
      AccumulateQueries<T, Load16, Q, (kMaxS >= 4 ? 4 : 1)>(w, wstride, rows, stride, count, lanes, lstride, n,
                                                            16 * s0, fresh);
      s0 += kMaxS >= 4 ? 4 : 1;
    } else if (left >= 2) {
      AccumulateQueries<T, Load16, Q, 2>(w, wstride, rows, stride, count, lanes, lstride, n, 16 * s0, fresh);
      s0 += 2;
    } else {
      AccumulateQueries<T, Load16, Q, 1>(w, wstride, rows, stride, count, lanes, lstride, n, 16 * s0, fresh);
      s0 += 1;
    }
  }
}

template <typename T, __m512 (*Load16)(const T*)>
LLMTK_AVX512 bool AccumulateRowsMulti(const float* w, size_t wstride, const void* rows, size_t stride,
                                      int64_t count, float* lanes, size_t lstride, int64_t n, int nq, bool fresh) {
  if (n % 16 != 0) return false;
  const auto* r = static_cast<const uint8_t*>(rows);
  for (int j0 = 0; j0 < nq;) {
    const int q = Block(nq - j0);
    const float* wq = w + j0 * wstride;
    float* lq = lanes + j0 * lstride;
    switch (q) {
      case 8: AccumulateBlock<T, Load16, 8>(wq, wstride, r, stride, count, lq, lstride, n, fresh); break;
      case 4: AccumulateBlock<T, Load16, 4>(wq, wstride, r, stride, count, lq, lstride, n, fresh); break;
      case 2: AccumulateBlock<T, Load16, 2>(wq, wstride, r, stride, count, lq, lstride, n, fresh); break;
      default: AccumulateBlock<T, Load16, 1>(wq, wstride, r, stride, count, lq, lstride, n, fresh); break;
    }
    j0 += q;
  }
  return true;
}

}  // namespace

void AddAttentionAvx512(KernelTable* t) {
  t->dot_rows_multi[static_cast<int>(DType::kF32)] = DotRowsMulti<float, LoadF32x16>;
  t->dot_rows_multi[static_cast<int>(DType::kF16)] = DotRowsMulti<uint16_t, LoadF16x16>;
  t->accumulate_multi[static_cast<int>(DType::kF32)] = AccumulateRowsMulti<float, LoadF32x16>;
  t->accumulate_multi[static_cast<int>(DType::kF16)] = AccumulateRowsMulti<uint16_t, LoadF16x16>;
}

}  // namespace llmtk::kernels_internal

#endif  // defined(__x86_64__)
