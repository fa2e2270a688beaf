// Q4_K x Q8_K on sixteen weight rows, four at a time, one row per 128-bit
// lane, with AVX-512 VNNI.
//
// The one-row kernel (kernels/avx512_kquant.cc) keeps two 32-value groups
// per register and folds them into its eight lanes after every super-block.
// Here a register holds four rows, 16 bytes each (loaded by masked
// broadcasts: a load and a blend each, no shuffle), so dword i of row r's
// lane is the row's qs word 4h + i of a 32-byte group, which is exactly
// the reference's lane 4h + i. Activation bytes are the same for every row:
// a 128-bit broadcast straight from the Q8_K block. VPMADDUBSW gives each
// lane two pair sums (at most 3,840 in magnitude), VPDPWSSD adds both
// times the lane's sub-block scale (in both halves of the dword), so each
// dword ends as the reference's integer lane, and
// the scales and mins are unpacked for four rows at once inside their
// lanes. The float steps are the reference's per row:
// acc[k] = fma(d, lane[k], acc[k]) per super-block, the mins the same in four
// lanes, then hsum_float_8 and (m0 + m1) per row at the end; the results
// are the scalar reference's bit for bit.
//
// One token decodes each super-block for one activation row (generation);
// four and eight decode it once for all of them (prompts).
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstddef>

#include "lib/kernels/avx512_load.h"

#define LLMTK_Q4K16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

constexpr int QKK = 256;

// One super-block of four rows, decoded.
struct Quad {
  __m512i lo[4][2], hi[4][2];  // [group j][half h]: nibbles of qs 32j + 16h..
  __m512i sc[8];               // sub-block s's scale in both halves of each dword
  __m512i mn;                  // dword k: mins 2k and 2k+1 as int16
  __m512 d, dmin;              // the rows' scales, in all four dwords of a lane
};

// The four rows' scales, mins, d and dmin from their first 16 bytes (Decode
// and DecodeG alike).
LLMTK_Q4K16 inline void DecodeScales(const uint8_t* blk, size_t stride, Quad* q) {
  // Lane r's dwords: [d | dmin, s0, s1, s2] (ggml's 12 packed scale bytes).
  const __m512i head = Four(blk, stride);
  // Dwords [sc_lo, mn_lo, sc_hi, mn_hi] per lane (ggml's utmp shuffle):
  // sc_lo = s0 & 0x3f.., mn_lo = s1 & 0x3f..,
  // sc_hi = (s2 & 0x0f..) | ((s0 >> 6) & 0x03..) << 4,
  // mn_hi = ((s2 >> 4) & 0x0f..) | ((s1 >> 6) & 0x03..) << 4.
  const __m512i p = _mm512_shuffle_epi32(head, _MM_PERM_CBCB);  // [s0, s1, s0, s1]
  const __m512i s2 = _mm512_shuffle_epi32(head, _MM_PERM_DDDD);
  const __m512i lo_part = _mm512_and_si512(p, _mm512_set1_epi32(0x3f3f3f3f));
  const __m512i hi_part = _mm512_or_si512(
      _mm512_and_si512(_mm512_srli_epi32(p, 2), _mm512_set1_epi32(0x30303030)),
      _mm512_and_si512(_mm512_srlv_epi32(s2, _mm512_set4_epi32(4, 0, 0, 0)), _mm512_set1_epi32(0x0f0f0f0f)));
  const __m512i v = _mm512_mask_blend_epi32(0xCCCC, lo_part, hi_part);
  for (int s = 0; s < 8; ++s) {
    const char b = static_cast<char>(s < 4 ? s : 8 + s - 4);
    const int pick = static_cast<int>(0x80008000u | static_cast<uint32_t>(b & 0xff) << 16 | (b & 0xff));
    q->sc[s] = _mm512_shuffle_epi8(v, _mm512_set1_epi32(pick));
  }
  // Dword k: (m[2k], m[2k+1]) from mn_lo (bytes 4-7) and mn_hi (12-15).
  q->mn = _mm512_shuffle_epi8(v, _mm512_set4_epi32(static_cast<int>(0x800F800E), static_cast<int>(0x800D800C),
                                                   static_cast<int>(0x80078006), static_cast<int>(0x80058004)));
  // d and dmin: halves 0 and 1 of each lane, copied to the lane's four
  // dwords and widened.
  const __m512i pick_d = _mm512_set_epi16(
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 24, 24, 24, 16, 16, 16, 16, 8, 8, 8, 8, 0, 0, 0, 0);
  q->d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(pick_d, head)));
  q->dmin = _mm512_cvtph_ps(
      _mm512_castsi512_si256(_mm512_permutexvar_epi16(_mm512_add_epi16(pick_d, _mm512_set1_epi16(1)), head)));
}

LLMTK_Q4K16 inline void Decode(const uint8_t* blk, size_t stride, Quad* q) {
  DecodeScales(blk, stride, q);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int j = 0; j < 4; ++j)
    for (int h = 0; h < 2; ++h) {
      const __m512i raw = Four(blk + offsetof(BlockQ4K, qs) + 32 * j + 16 * h, stride);
      q->lo[j][h] = _mm512_and_si512(raw, m4);
      q->hi[j][h] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
    }
}

// Decode with GFNI: each quad's sixteen bytes per row come from 32-byte
// loads of two rows at a time put into one register (an insert each),
// then a 128-bit-lane transpose (shuffles), eight operations per four
// registers where Four() takes twelve blends; the high nibbles with one
// affine byte transform (a shift needs a mask after it). Same values as
// Decode.
#define LLMTK_Q4K16G __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c,gfni")))

LLMTK_Q4K16G inline __m512i Two32(const uint8_t* p, const uint8_t* q) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)), 1);
}

LLMTK_Q4K16G inline void DecodeG(const uint8_t* blk, size_t stride, Quad* q) {
  DecodeScales(blk, stride, q);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  // Output bit i is input bit i + 4, bits 4-7 zero.
  const __m512i nib_hi = _mm512_set1_epi64(0x1020408000000000LL);
  const uint8_t* qs = blk + offsetof(BlockQ4K, qs);
  for (int j2 = 0; j2 < 2; ++j2) {
    // t[k]: rows 2(k/2), 2(k/2)+1's bytes 64 j2 + 32 (k%2) .. +31, a row per 256 bits.
    const uint8_t* b = qs + 64 * j2;
    const __m512i t0 = Two32(b, b + stride), t1 = Two32(b + 32, b + stride + 32);
    const __m512i t2 = Two32(b + 2 * stride, b + 3 * stride), t3 = Two32(b + 2 * stride + 32, b + 3 * stride + 32);
    // [lane 0 of t0, lane 0 of t2 halves] ...: group 2 j2 + k/2, half k%2.
    const __m512i raw[4] = {_mm512_shuffle_i64x2(t0, t2, 0x88), _mm512_shuffle_i64x2(t0, t2, 0xDD),
                            _mm512_shuffle_i64x2(t1, t3, 0x88), _mm512_shuffle_i64x2(t1, t3, 0xDD)};
    for (int k = 0; k < 4; ++k) {
      const int j = 2 * j2 + k / 2, h = k % 2;
      q->lo[j][h] = _mm512_and_si512(raw[k], m4);
      q->hi[j][h] = _mm512_gf2p8affine_epi64_epi8(raw[k], nib_hi, 0);
    }
  }
}

struct Acc {
  __m512 a[2];  // lanes 0-3 and 4-7 of each row
  __m512 m;     // the mins' four lanes
};

// The Q8_K block's bsums in pairs: dword k = (bsums[4k] + bsums[4k+1],
// bsums[4k+2] + bsums[4k+3]) as int16, what the mins' lanes multiply.
LLMTK_Q4K16 inline __m128i BsumPairs(const BlockQ8K& y) {
  const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
  const __m256i pairs = _mm256_madd_epi16(bs, _mm256_set1_epi16(1));
  return _mm_packs_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
}

// One token's block: VPMADDUBSW gives each dword two pair sums (at most
// 3,840 each), VPDPWSSD adds both times the sub-block scale.
LLMTK_Q4K16 inline void Token(const Quad& q, const BlockQ8K& y, const __m128i* bsum_pairs, Acc* acc) {
  __m512i lanes[2];
  for (int h = 0; h < 2; ++h) {
    // Two chains of VPDPWSSD per half (integer sums: the split changes nothing).
    __m512i s = _mm512_setzero_si512(), t = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(q.lo[j][h], Bcast16(y.qs + 64 * j + 16 * h)), q.sc[2 * j]);
      t = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(q.hi[j][h], Bcast16(y.qs + 64 * j + 32 + 16 * h)),
                              q.sc[2 * j + 1]);
    }
    lanes[h] = _mm512_add_epi32(s, t);
  }
  const __m512i mins = _mm512_madd_epi16(q.mn, Bcast16(bsum_pairs));
  const __m512 yd = _mm512_set1_ps(y.d);
  const __m512 d = _mm512_mul_ps(yd, q.d);
  for (int h = 0; h < 2; ++h) acc->a[h] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(lanes[h]), acc->a[h]);
  const __m512 dmin = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), yd), q.dmin);
  acc->m = _mm512_fmadd_ps(dmin, _mm512_cvtepi32_ps(mins), acc->m);
}

// The reference's closing sums for lane r of `acc`.
LLMTK_Q4K16 inline void Finish(const Acc& acc, float out[4]) {
  alignas(64) float a0[16], a1[16], m[16];
  _mm512_store_ps(a0, acc.a[0]);
  _mm512_store_ps(a1, acc.a[1]);
  _mm512_store_ps(m, acc.m);
  for (int r = 0; r < 4; ++r) {
    const float* l = a0 + 4 * r;  // lanes 0-3
    const float* u = a1 + 4 * r;  // lanes 4-7
    float r4[4];
    for (int k = 0; k < 4; ++k) r4[k] = u[k] + l[k];
    const float h = (r4[0] + r4[2]) + (r4[1] + r4[3]);
    const float* mm = m + 4 * r;
    out[r] = h + ((mm[0] + mm[2]) + (mm[1] + mm[3]));
  }
}

// The bsum pairs of T activation rows, once for the four quads, when a row
// has at most kMaxPre super-blocks (longer ones recompute them per quad).
constexpr int64_t kMaxPre = 64;
template <int T>
LLMTK_Q4K16 inline bool HoistBsumPairs(int64_t nb, const BlockQ8K* const (&y)[T], __m128i (&pre)[T][kMaxPre]) {
  if (nb > kMaxPre) return false;
  for (int t = 0; t < T; ++t)
    for (int64_t b = 0; b < nb; ++b) pre[t][b] = BsumPairs(y[t][b]);
  return true;
}

// Sixteen rows against T activation rows: out[16 * t + r].
template <int T>
LLMTK_Q4K16 void Rows16(int64_t n, const void* w, size_t stride, const void* a, size_t astride, float* out,
                        const void* prefetch) {
  const int64_t nb = n / QKK;
  const SpanPrefetcher pf(prefetch, 16 * stride, 4 * nb);
  const BlockQ8K* y[T];
  for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8K*>(static_cast<const uint8_t*>(a) + t * astride);
  __m128i pre[T][kMaxPre];
  const bool hoist = HoistBsumPairs<T>(nb, y, pre);
  for (int quad = 0; quad < 4; ++quad) {
    const auto* base = static_cast<const uint8_t*>(w) + 4 * quad * stride;
    Acc acc[T];
    for (auto& v : acc) v = {{_mm512_setzero_ps(), _mm512_setzero_ps()}, _mm512_setzero_ps()};
    for (int64_t b = 0; b < nb; ++b) {
      pf.Step(quad * nb + b);
      Quad q;
      Decode(base + b * sizeof(BlockQ4K), stride, &q);
      for (int t = 0; t < T; ++t) {
        __m128i here;
        if (!hoist) here = BsumPairs(y[t][b]);
        Token(q, y[t][b], hoist ? &pre[t][b] : &here, &acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) Finish(acc[t], out + 16 * t + 4 * quad);
  }
}

LLMTK_Q4K16 void DotQ4Kx16(int64_t n, const void* w, size_t stride, const void* a, const Q8Aux*, const void*,
                           float out[16], const void* prefetch) {
  Rows16<1>(n, w, stride, a, 0, out, prefetch);
}

// Finish for all four rows at once: the same additions in the same order
// (a float sum does not depend on its operands' order, only on the
// grouping), lane r * 4 of each step holding row r's.
LLMTK_Q4K16G inline void FinishG(const Acc& acc, float out[4]) {
  const __m512 r4 = _mm512_add_ps(acc.a[1], acc.a[0]);
  // Lane k + (k + 2): (r4[0] + r4[2]) and (r4[1] + r4[3]), then their sum.
  const __m512 t = _mm512_add_ps(r4, _mm512_permute_ps(r4, _MM_SHUFFLE(1, 0, 3, 2)));
  const __m512 h = _mm512_add_ps(t, _mm512_permute_ps(t, _MM_SHUFFLE(2, 3, 0, 1)));
  const __m512 mt = _mm512_add_ps(acc.m, _mm512_permute_ps(acc.m, _MM_SHUFFLE(1, 0, 3, 2)));
  const __m512 m = _mm512_add_ps(mt, _mm512_permute_ps(mt, _MM_SHUFFLE(2, 3, 0, 1)));
  const __m512 o = _mm512_add_ps(h, m);
  _mm_storeu_ps(out, _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0,
                                                                                     0, 0, 0, 0, 0), o)));
}

// Rows16<1> with DecodeG.
LLMTK_Q4K16G void DotQ4Kx16G(int64_t n, const void* w, size_t stride, const void* a, const Q8Aux*, const void*,
                             float out[16], const void* prefetch) {
  const int64_t nb = n / QKK;
  const SpanPrefetcher pf(prefetch, 16 * stride, 4 * nb);
  const BlockQ8K* const y[1] = {static_cast<const BlockQ8K*>(a)};
  __m128i pre[1][kMaxPre];
  const bool hoist = HoistBsumPairs<1>(nb, y, pre);
  for (int quad = 0; quad < 4; ++quad) {
    const auto* base = static_cast<const uint8_t*>(w) + 4 * quad * stride;
    Acc acc = {{_mm512_setzero_ps(), _mm512_setzero_ps()}, _mm512_setzero_ps()};
    for (int64_t b = 0; b < nb; ++b) {
      pf.Step(quad * nb + b);
      Quad q;
      DecodeG(base + b * sizeof(BlockQ4K), stride, &q);
      __m128i here;
      if (!hoist) here = BsumPairs(y[0][b]);
      Token(q, y[0][b], hoist ? &pre[0][b] : &here, &acc);
    }
    FinishG(acc, out + 4 * quad);
  }
}

template <int T>
LLMTK_Q4K16 void DotQ4Kx16xT(int64_t n, const void* w, size_t stride, const void* a, size_t astride, const Q8Aux*,
                             size_t, float* out) {
  Rows16<T>(n, w, stride, a, astride, out, nullptr);
}

// Prompts: each quad's super-blocks decoded once for the whole batch
// (DecodeRows16, layout [quad][block]), then met by T tokens at a time
// straight from memory; the same Token and Finish steps, so the same bits.
LLMTK_Q4K16 void DecodeRows16(int64_t n, const void* w, size_t stride, void* out) {
  const int64_t nb = n / QKK;
  auto* q = static_cast<Quad*>(out);
  for (int quad = 0; quad < 4; ++quad)
    for (int64_t b = 0; b < nb; ++b)
      Decode(static_cast<const uint8_t*>(w) + 4 * quad * stride + b * sizeof(BlockQ4K), stride, &q[quad * nb + b]);
}

template <int T>
LLMTK_Q4K16 void DecodedRows16(int64_t nb, const Quad* dec, const uint8_t* a, size_t astride, float* out) {
  const BlockQ8K* y[T];
  for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8K*>(a + t * astride);
  __m128i pre[T][kMaxPre];
  const bool hoist = HoistBsumPairs<T>(nb, y, pre);
  for (int quad = 0; quad < 4; ++quad) {
    Acc acc[T];
    for (auto& v : acc) v = {{_mm512_setzero_ps(), _mm512_setzero_ps()}, _mm512_setzero_ps()};
    for (int64_t b = 0; b < nb; ++b) {
      const Quad& q = dec[quad * nb + b];
      for (int t = 0; t < T; ++t) {
        __m128i here;
        if (!hoist) here = BsumPairs(y[t][b]);
        Token(q, y[t][b], hoist ? &pre[t][b] : &here, &acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) Finish(acc[t], out + 16 * t + 4 * quad);
  }
}

LLMTK_Q4K16 void DotQ4Kx16x16(int64_t n, const void* decoded, const void*, const void* a, size_t astride,
                              float* out) {
  const auto* dec = static_cast<const Quad*>(decoded);
  const auto* act = static_cast<const uint8_t*>(a);
  for (int g = 0; g < 16; g += 8) DecodedRows16<8>(n / QKK, dec, act + g * astride, astride, out + 16 * g);
}

}  // namespace

void AddQ4Kx16Vnni(KernelTable* t) {
  const int q4 = static_cast<int>(GgmlType::kQ4_K);
  t->vec_dot16[q4] = __builtin_cpu_supports("gfni") ? DotQ4Kx16G : DotQ4Kx16;
  t->vec_dot16x4[q4] = DotQ4Kx16xT<4>;
  t->vec_dot16x8[q4] = DotQ4Kx16xT<8>;
  t->vec_dot16x16[q4] = DotQ4Kx16x16;
  t->decode16[q4] = DecodeRows16;
  t->decoded16_bytes[q4] = 4 * sizeof(Quad);
}

}  // namespace llmtk::kernels_internal

#endif
