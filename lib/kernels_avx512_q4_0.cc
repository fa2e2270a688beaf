// Q4_0 x Q8_0 on sixteen weight rows at once, with AVX-512 VNNI.
//
// The eight-row kernel (kernels_avx512.cc) multiplies one row per half
// register and must add each row's lanes horizontally after every block.
// Here a 4x4 transpose of 32-bit words puts row r's bytes 4j..4j+3 in lane r
// of register V_j, so VPDPBUSD against activation word j broadcast to every
// lane adds straight into the row's own lane: sixteen rows' block sums come
// out of eight VPDPBUSD with no horizontal work (llama.cpp gets the same by
// repacking the weights at load; we keep them mapped as they are on disk).
// The integer per row and block is exact, and the float step is the
// reference's s = fma(float(sumi), d_x * d_y, s), so the results are the
// scalar reference's bit for bit.
//
// The transpose leaves lane L holding row kRow16[L]; scales are transposed
// the same way and results put back in row order at the end.
#include "lib/kernels_internal.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstddef>

#define LLMTK_VNNI16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

constexpr int QK = 32;
constexpr int kRow16[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};

struct Rows16 {
  __m512i lo[4], hi[4];  // nibbles of words j: lane L = row kRow16[L]
  __m512 d;              // the rows' scales
};

LLMTK_VNNI16 inline __m512i Four(const uint8_t* p, size_t stride) {
  __m512i a = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  a = _mm512_inserti32x4(a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + stride)), 1);
  a = _mm512_inserti32x4(a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * stride)), 2);
  return _mm512_inserti32x4(a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 3 * stride)), 3);
}

LLMTK_VNNI16 inline void LoadRows16(const uint8_t* blk, size_t stride, Rows16* r) {
  const uint8_t* qs = blk + offsetof(BlockQ4_0, qs);
  // a[i]: rows 4i..4i+3, one per 128-bit chunk.
  const __m512i a0 = Four(qs, stride), a1 = Four(qs + 4 * stride, stride);
  const __m512i a2 = Four(qs + 8 * stride, stride), a3 = Four(qs + 12 * stride, stride);
  const __m512i u0 = _mm512_unpacklo_epi32(a0, a1), u1 = _mm512_unpackhi_epi32(a0, a1);
  const __m512i u2 = _mm512_unpacklo_epi32(a2, a3), u3 = _mm512_unpackhi_epi32(a2, a3);
  const __m512i v[4] = {_mm512_unpacklo_epi64(u0, u2), _mm512_unpackhi_epi64(u0, u2), _mm512_unpacklo_epi64(u1, u3),
                        _mm512_unpackhi_epi64(u1, u3)};
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int j = 0; j < 4; ++j) {
    r->lo[j] = _mm512_and_si512(v[j], m4);
    r->hi[j] = _mm512_and_si512(_mm512_srli_epi16(v[j], 4), m4);
  }
  // The scales: the same transpose of each row's first word (a gather is
  // several times slower here).
  const __m512i s0 = _mm512_unpacklo_epi32(Four(blk, stride), Four(blk + 4 * stride, stride));
  const __m512i s2 = _mm512_unpacklo_epi32(Four(blk + 8 * stride, stride), Four(blk + 12 * stride, stride));
  r->d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_unpacklo_epi64(s0, s2)));
}

// The sixteen rows' exact block sums against activation block y, whose
// values add up to ysum. The nibbles are used unsigned: 8 * ysum comes out.
LLMTK_VNNI16 inline __m512i Sums16(const Rows16& r, const BlockQ8_0& y, int ysum) {
  __m512i lo = _mm512_set1_epi32(-8 * ysum), hi = _mm512_setzero_si512();
  int32_t words[8];
  __builtin_memcpy(words, y.qs, sizeof(words));
  for (int j = 0; j < 4; ++j) {
    lo = _mm512_dpbusd_epi32(lo, r.lo[j], _mm512_set1_epi32(words[j]));
    hi = _mm512_dpbusd_epi32(hi, r.hi[j], _mm512_set1_epi32(words[4 + j]));
  }
  return _mm512_add_epi32(lo, hi);
}

LLMTK_VNNI16 inline void Store16(__m512 acc, float* out) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  for (int l = 0; l < 16; ++l) out[kRow16[l]] = lanes[l];
}

LLMTK_VNNI16 void DotQ4_0x16(int64_t n, const void* w, size_t stride, const void* a, const int32_t* ysum,
                             float out[16], const void* prefetch) {
  const SpanPrefetcher pf(prefetch, 16 * stride, n / QK);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const auto* base = static_cast<const uint8_t*>(w);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    pf.Step(b);
    Rows16 r;
    LoadRows16(base + b * sizeof(BlockQ4_0), stride, &r);
    const __m512 d = _mm512_mul_ps(r.d, _mm512_set1_ps(_cvtsh_ss(y[b].d)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Sums16(r, y[b], ysum[b])), d, acc);
  }
  Store16(acc, out);
}

// T tokens (4 or 8): each block's transposes are paid once for all of them.
template <int T>
LLMTK_VNNI16 void DotQ4_0x16xT(int64_t n, const void* w, size_t stride, const void* a, size_t astride,
                               const int32_t* ysum, size_t ysum_stride, float* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  const BlockQ8_0* y[T];
  for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + t * astride);
  __m512 acc[T];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    Rows16 r;
    LoadRows16(base + b * sizeof(BlockQ4_0), stride, &r);
    for (int t = 0; t < T; ++t) {
      const __m512 d = _mm512_mul_ps(r.d, _mm512_set1_ps(_cvtsh_ss(y[t][b].d)));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Sums16(r, y[t][b], ysum[t * ysum_stride + b])), d, acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) Store16(acc[t], out + 16 * t);
}

}  // namespace

void AddQ4_0x16Vnni(KernelTable* t) {
  t->vec_dot16[static_cast<int>(GgmlType::kQ4_0)] = DotQ4_0x16;
  t->vec_dot16x4[static_cast<int>(GgmlType::kQ4_0)] = DotQ4_0x16xT<4>;
  t->vec_dot16x8[static_cast<int>(GgmlType::kQ4_0)] = DotQ4_0x16xT<8>;
}

}  // namespace llmtk::kernels_internal

#endif
