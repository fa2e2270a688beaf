// Q4_K and Q6_K dot products with AVX-512 VNNI, for one token or four.
//
// Two 32-value groups per 512-bit register; VPMADDUBSW then VPDPWSSD (pair
// sums times the group's scale, added) gives each 32-bit lane exactly the
// integer the AVX2 kernel's maddubs, madd and add give it, and the upper
// half folds onto the lower lane for lane. So the eight lane sums, and every
// float step after them, are the AVX2 kernel's (and the scalar reference's).
// The four- and eight-token forms decode each super-block once for all
// their activation rows (prompt processing); the eight-row wrappers let
// MatMul prefetch the next rows during a matrix-vector product.
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstring>

#define LLMTK_KQ __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

constexpr int QKK = 256;

LLMTK_KQ inline __m256i FoldHalves(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}
LLMTK_KQ inline __m256 FmaLanes(float d, __m256i lanes, __m256 acc) {
  return _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(lanes), acc);
}
// ggml's hsum_float_8.
LLMTK_KQ inline float Hsum8(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

template <int T>
LLMTK_KQ void DotQ4K(int64_t n, const void* w, const void* a, size_t astride, float* out) {
  const auto* x = static_cast<const BlockQ4K*>(w);
  const BlockQ8K* y[T];
  for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8K*>(static_cast<const uint8_t*>(a) + t * astride);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  // Scale 2k of the eight, widened to int16, over lanes 0-15; 2k+1 above.
  __m512i pick[4];
  for (int k = 0; k < 4; ++k)
    pick[k] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(static_cast<int16_t>(2 * k))),
                                 _mm256_set1_epi16(static_cast<int16_t>(2 * k + 1)), 1);
  // The mins' four float lanes per token; for an even token count, two
  // tokens share a 256-bit register (token 2p in lanes 0-3, 2p+1 in 4-7).
  // (With an odd count, one token per register, in lanes 0-3.)
  constexpr int M = T % 2 == 0 ? T / 2 : T;
  __m256 acc[T], acc_m[M];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (auto& v : acc_m) v = _mm256_setzero_ps();
  const __m512i even_lanes = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  for (int64_t b = 0; b < n / QKK; ++b) {
    const float xd = _cvtsh_ss(x[b].d), xdmin = _cvtsh_ss(x[b].dmin);
    // The eight 6-bit scales and mins (ggml's utmp shuffle), kept in
    // registers: built in memory they cost a failed store forward each.
    uint32_t s0, s1, s2;
    std::memcpy(&s0, x[b].scales, 4);
    std::memcpy(&s1, x[b].scales + 4, 4);
    std::memcpy(&s2, x[b].scales + 8, 4);
    const uint32_t sc_lo = s0 & 0x3f3f3f3fu;
    const uint32_t sc_hi = (s2 & 0x0f0f0f0fu) | (((s0 >> 6) & 0x03030303u) << 4);
    const uint32_t mn_lo32 = s1 & 0x3f3f3f3fu;
    const uint32_t mn_hi32 = ((s2 >> 4) & 0x0f0f0f0fu) | (((s1 >> 6) & 0x03030303u) << 4);
    const __m128i mn = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(mn_hi32), static_cast<int>(mn_lo32)));
    const __m128i mn_lo = _mm_unpacklo_epi16(mn, mn), mn_hi = _mm_unpackhi_epi16(mn, mn);
    const __m512i sc16 = _mm512_castsi128_si512(
        _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(sc_hi), static_cast<int>(sc_lo))));
    __m512i q[4], sc[4];
    for (int k = 0; k < 4; ++k) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * k));
      q[k] = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(raw), _mm256_srli_epi16(raw, 4), 1), m4);
      sc[k] = _mm512_permutexvar_epi16(pick[k], sc16);
    }
    // mins[k] = mn[2k] * (bsums[4k] + bsums[4k+1]) + mn[2k+1] *
    // (bsums[4k+2] + bsums[4k+3]), exact in 32 bits.
    if constexpr (T % 2 == 0) {
      // Two tokens at once: VPMADDWD gives mn[j] * (bsums[2j] + bsums[2j+1])
      // in lane j of each token's half; adjacent lanes are added and the
      // even ones gathered. (-y.d) * dmin and y.d * -dmin are the same float.
      const __m512i mn_dup = _mm512_broadcast_i64x4(_mm256_set_m128i(mn_hi, mn_lo));
      const __m256 neg_xdmin = _mm256_set1_ps(-xdmin);
      for (int p = 0; p < T / 2; ++p) {
        const BlockQ8K& y0 = y[2 * p][b];
        const BlockQ8K& y1 = y[2 * p + 1][b];
        const __m512i bs = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y0.bsums))),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y1.bsums)), 1);
        const __m512i v = _mm512_madd_epi16(bs, mn_dup);
        const __m512i pairs = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_CDAB));
        const __m256i mins = _mm512_castsi512_si256(_mm512_permutexvar_epi32(even_lanes, pairs));
        const __m256 dmin = _mm256_mul_ps(_mm256_set_m128(_mm_set1_ps(y1.d), _mm_set1_ps(y0.d)), neg_xdmin);
        acc_m[p] = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(mins), acc_m[p]);
      }
    } else {
      for (int t = 0; t < T; ++t) {
        const BlockQ8K& yb = y[t][b];
        const __m128i bs_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(yb.bsums));
        const __m128i bs_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(yb.bsums + 8));
        const __m128i mins = _mm_hadd_epi32(_mm_madd_epi16(bs_lo, mn_lo), _mm_madd_epi16(bs_hi, mn_hi));
        acc_m[t] = _mm256_castps128_ps256(
            _mm_fmadd_ps(_mm_set1_ps(-yb.d * xdmin), _mm_cvtepi32_ps(mins), _mm256_castps256_ps128(acc_m[t])));
      }
    }
    for (int t = 0; t < T; ++t) {
      const BlockQ8K& yb = y[t][b];
      // Two chains of VPDPWSSD (integer sums: the split changes nothing).
      __m512i s01 = _mm512_setzero_si512(), s23 = _mm512_setzero_si512();
      s01 = _mm512_dpwssd_epi32(s01, _mm512_maddubs_epi16(q[0], _mm512_loadu_si512(yb.qs)), sc[0]);
      s23 = _mm512_dpwssd_epi32(s23, _mm512_maddubs_epi16(q[2], _mm512_loadu_si512(yb.qs + 128)), sc[2]);
      s01 = _mm512_dpwssd_epi32(s01, _mm512_maddubs_epi16(q[1], _mm512_loadu_si512(yb.qs + 64)), sc[1]);
      s23 = _mm512_dpwssd_epi32(s23, _mm512_maddubs_epi16(q[3], _mm512_loadu_si512(yb.qs + 192)), sc[3]);
      acc[t] = FmaLanes(yb.d * xd, FoldHalves(_mm512_add_epi32(s01, s23)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    alignas(32) float am[8];
    _mm256_store_ps(am, acc_m[T % 2 == 0 ? t / 2 : t]);
    const float* m = am + (T % 2 == 0 ? 4 * (t % 2) : 0);
    const float m0 = m[0] + m[2], m1 = m[1] + m[3];
    out[t] = Hsum8(acc[t]) + (m0 + m1);
  }
}

// One Q6_K super-block unpacked: values 0..63 (the -32 comes later) and
// the sixteen-value groups' scales as int16 pairs.
struct Q6KConsts {
  __m512i m4, m30, shl01, shr23, pick[2];
  LLMTK_KQ Q6KConsts() {
    m4 = _mm512_set1_epi8(0x0F);
    m30 = _mm512_set1_epi8(0x30);
    // High bits: groups 0 and 1 take qh << 4 and qh << 2, groups 2 and 3
    // take qh and qh >> 2 (one shift count per 256-bit half).
    shl01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    shr23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    // Sixteen-value groups' scales, eight int16 lanes each: 4k..4k+3.
    for (int k = 0; k < 2; ++k) {
      const int64_t base = 0x0004000400040004LL * k;
      pick[k] = _mm512_set_epi64(0x0003000300030003LL + base, 0x0003000300030003LL + base, 0x0002000200020002LL + base,
                                 0x0002000200020002LL + base, 0x0001000100010001LL + base, 0x0001000100010001LL + base,
                                 base, base);
    }
  }
};

LLMTK_KQ inline void DecodeQ6K(const Q6KConsts& c, const BlockQ6K& x, __m512i u[4], __m512i sc[4]) {
  for (int half = 0; half < 2; ++half) {
    const __m512i l = _mm512_loadu_si512(x.ql + 64 * half);
    const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * half)));
    const __m512i sc16 =
        _mm512_castsi128_si512(_mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x.scales + 8 * half))));
    u[2 * half] = _mm512_or_si512(_mm512_and_si512(l, c.m4), _mm512_and_si512(_mm512_sllv_epi16(h, c.shl01), c.m30));
    u[2 * half + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), c.m4),
                                      _mm512_and_si512(_mm512_srlv_epi16(h, c.shr23), c.m30));
    sc[2 * half] = _mm512_permutexvar_epi16(c.pick[0], sc16);
    sc[2 * half + 1] = _mm512_permutexvar_epi16(c.pick[1], sc16);
  }
}

// One block's lane sums against y; `off` holds maddubs(32, y) per 64 bytes.
LLMTK_KQ inline __m512i SumQ6K(const __m512i u[4], const __m512i sc[4], const BlockQ8K& y, const __m512i off[4]) {
  __m512i sumi = _mm512_setzero_si512();
  for (int k = 0; k < 4; ++k) {
    const __m512i yv = _mm512_loadu_si512(y.qs + 64 * k);
    sumi = _mm512_dpwssd_epi32(sumi, _mm512_sub_epi16(_mm512_maddubs_epi16(u[k], yv), off[k]), sc[k]);
  }
  return sumi;
}

LLMTK_KQ void Rows8Q6K(int64_t n, const void* w, size_t stride, const void* a, float out[8], const void* prefetch);

template <int T>
LLMTK_KQ void DotQ6K(int64_t n, const void* w, const void* a, size_t astride, float* out) {
  const auto* x = static_cast<const BlockQ6K*>(w);
  const BlockQ8K* y[T];
  for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8K*>(static_cast<const uint8_t*>(a) + t * astride);
  const Q6KConsts c;
  const __m512i m32 = _mm512_set1_epi8(32);
  __m256 acc[T];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    __m512i u[4], sc[4];
    DecodeQ6K(c, x[b], u, sc);
    const float xd = _cvtsh_ss(x[b].d);
    for (int t = 0; t < T; ++t) {
      __m512i off[4];
      for (int k = 0; k < 4; ++k) off[k] = _mm512_maddubs_epi16(m32, _mm512_loadu_si512(y[t][b].qs + 64 * k));
      acc[t] = FmaLanes(y[t][b].d * xd, FoldHalves(SumQ6K(u, sc, y[t][b], off)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = Hsum8(acc[t]);
}

// R rows against one token whose offset products `m32y` are given.
template <int R>
LLMTK_KQ void DotQ6KRows(int64_t n, const uint8_t* w, size_t stride, const BlockQ8K* y, const __m512i* m32y,
                         float* out, const SpanPrefetcher& pf, int64_t step0) {
  const Q6KConsts c;
  __m256 acc[R];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / QKK; ++b) {
    pf.Step(step0 + b);
    for (int r = 0; r < R; ++r) {
      const BlockQ6K& x = reinterpret_cast<const BlockQ6K*>(w + r * stride)[b];
      __m512i u[4], sc[4];
      DecodeQ6K(c, x, u, sc);
      acc[r] = FmaLanes(y[b].d * _cvtsh_ss(x.d), FoldHalves(SumQ6K(u, sc, y[b], m32y + 4 * b)), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = Hsum8(acc[r]);
}

// The same decode with GFNI (affine byte transforms move qh's bits, for
// both halves of ql at once, and swap nibbles, where shifts need a mask
// after them) and all sixteen scales widened at once: per super-block 8 + 5
// vector operations where DecodeQ6K takes 18 + 6.
// Same values, so the same lane sums and bits.
#define LLMTK_KQG __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,gfni")))

// A GF(2) byte matrix: output bit i is input bit src[i] (-1: zero).
constexpr uint64_t BitMatrix(const int (&src)[8]) {
  uint64_t m = 0;
  for (int i = 0; i < 8; ++i)
    if (src[i] >= 0) m |= uint64_t{1} << (8 * (7 - i) + src[i]);
  return m;
}

struct Q6KConstsG {
  __m512i m4, m4hi, swap, hbits, pick[4];
  LLMTK_KQG Q6KConstsG() {
    m4 = _mm512_set1_epi8(0x0F);
    m4hi = _mm512_set1_epi8(static_cast<char>(0xF0));
    // qh's two bits for u[2 * half] (groups 0 and 1: bits 0-1, 2-3) to
    // bits 4-5 and those for u[2 * half + 1] (groups 2 and 3: bits 4-5,
    // 6-7) to bits 0-1, zero elsewhere; one matrix per 256-bit half.
    auto two = [](int g0, int g2) {
      return static_cast<int64_t>(BitMatrix({g2, g2 + 1, -1, -1, g0, g0 + 1, -1, -1}));
    };
    const int64_t lo = two(0, 4), hi = two(2, 6);
    hbits = _mm512_set_epi64(hi, hi, hi, hi, lo, lo, lo, lo);
    // Nibbles swapped, bits 2-3 (zero here) dropped: (z >> 4) | (z & 3) << 4.
    swap = _mm512_set1_epi64(static_cast<int64_t>(BitMatrix({4, 5, 6, 7, 0, 1, -1, -1})));
    // u[k] takes scales 4k..4k+3, eight int16 lanes each.
    for (int k = 0; k < 4; ++k) {
      const int64_t base = 0x0004000400040004LL * k;
      pick[k] = _mm512_set_epi64(0x0003000300030003LL + base, 0x0003000300030003LL + base, 0x0002000200020002LL + base,
                                 0x0002000200020002LL + base, 0x0001000100010001LL + base, 0x0001000100010001LL + base,
                                 base, base);
    }
  }
};

LLMTK_KQG inline void DecodeQ6KG(const Q6KConstsG& c, const BlockQ6K& x, __m512i u[4], __m512i sc[4]) {
  const __m512i sc16 = _mm512_castsi256_si512(
      _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales))));
  for (int half = 0; half < 2; ++half) {
    const __m512i l = _mm512_loadu_si512(x.ql + 64 * half);
    const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * half)));
    const __m512i hb = _mm512_gf2p8affine_epi64_epi8(h, c.hbits, 0);
    // 0xE4: C ? A : B, bit by bit. u[2 * half]: l's low nibble, hb's bits 4-7.
    u[2 * half] = _mm512_ternarylogic_epi32(l, hb, c.m4, 0xE4);
    // u[2 * half + 1]: l's high nibble over hb's bits 0-3, then swapped.
    u[2 * half + 1] = _mm512_gf2p8affine_epi64_epi8(_mm512_ternarylogic_epi32(l, hb, c.m4hi, 0xE4), c.swap, 0);
  }
  // Scale in the low half of each dword, zero in the high (SumQ6KG).
  for (int k = 0; k < 4; ++k) sc[k] = _mm512_maskz_permutexvar_epi16(0x55555555, c.pick[k], sc16);
}

// One block's lane sums against y, two operations per 64 values where
// SumQ6K takes three: VPDPBUSD adds each dword's four products u * y to
// `neg_off` (-32 times the four activations' sum), giving the dword the
// four products (u - 32) * y, at most 16,384 in magnitude; VPDPWSSD then
// multiplies its low half by the scale in the low half of `scz` (zero in
// the high half, so the sign half contributes nothing). Each dword is
// SumQ6K's, exactly.
LLMTK_KQG inline __m512i SumQ6KG(const __m512i u[4], const __m512i scz[4], const BlockQ8K& y,
                                 const __m512i neg_off[4]) {
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
  for (int k = 0; k < 4; k += 2) {
    s0 = _mm512_dpwssd_epi32(s0, _mm512_dpbusd_epi32(neg_off[k], u[k], _mm512_loadu_si512(y.qs + 64 * k)), scz[k]);
    s1 = _mm512_dpwssd_epi32(
        s1, _mm512_dpbusd_epi32(neg_off[k + 1], u[k + 1], _mm512_loadu_si512(y.qs + 64 * k + 64)), scz[k + 1]);
  }
  return _mm512_add_epi32(s0, s1);
}

LLMTK_KQG inline float Hsum8G(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// Rows8Q6K's rows with DecodeQ6KG.
LLMTK_KQG void Rows8Q6KG(int64_t n, const void* w, size_t stride, const void* a, float out[8], const void* prefetch) {
  const int64_t nb = n / QKK;
  if (nb > 64) return Rows8Q6K(n, w, stride, a, out, prefetch);
  __m512i neg_off[4 * 64];
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m512i m32 = _mm512_set1_epi8(32);
  for (int64_t b = 0; b < nb; ++b)
    for (int k = 0; k < 4; ++k)
      neg_off[4 * b + k] = _mm512_sub_epi32(
          _mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), m32, _mm512_loadu_si512(y[b].qs + 64 * k)));
  const SpanPrefetcher pf(prefetch, 8 * stride, 8 * nb);
  const Q6KConstsG c;
  // Two rows at a time, row 2p's eight float lanes in the low half of one
  // register and row 2p + 1's in the high half: the fold of each row's
  // halves, the conversion and the fma serve both rows.
  for (int p = 0; p < 4; ++p) {
    const auto* x0 = reinterpret_cast<const BlockQ6K*>(static_cast<const uint8_t*>(w) + 2 * p * stride);
    const auto* x1 = reinterpret_cast<const BlockQ6K*>(static_cast<const uint8_t*>(w) + (2 * p + 1) * stride);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      pf.Step(2 * p * nb + 2 * b);
      pf.Step(2 * p * nb + 2 * b + 1);
      __m512i u[4], sc[4];
      DecodeQ6KG(c, x0[b], u, sc);
      const __m512i s0 = SumQ6KG(u, sc, y[b], neg_off + 4 * b);
      DecodeQ6KG(c, x1[b], u, sc);
      const __m512i s1 = SumQ6KG(u, sc, y[b], neg_off + 4 * b);
      // [row 0 lanes 0-7, row 1 lanes 0-7]: each row's halves added.
      const __m512i lanes = _mm512_add_epi32(_mm512_shuffle_i64x2(s0, s1, 0x44), _mm512_shuffle_i64x2(s0, s1, 0xEE));
      const __m512 d = _mm512_insertf32x8(_mm512_set1_ps(y[b].d * _cvtsh_ss(x0[b].d)),
                                          _mm256_set1_ps(y[b].d * _cvtsh_ss(x1[b].d)), 1);
      acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(lanes), acc);
    }
    out[2 * p] = Hsum8G(_mm512_castps512_ps256(acc));
    out[2 * p + 1] = Hsum8G(_mm512_extractf32x8_ps(acc, 1));
  }
}

template <void (*F)(int64_t, const void*, const void*, size_t, float*)>
LLMTK_KQ float One(int64_t n, const void* w, const void* a) {
  float r;
  F(n, w, a, 0, &r);
  return r;
}

// Eight rows one after another, each prefetching an eighth of the next
// eight rows (`prefetch`) before it starts.
template <void (*F)(int64_t, const void*, const void*, size_t, float*)>
LLMTK_KQ void Rows8(int64_t n, const void* w, size_t stride, const void* a, float out[8], const void* prefetch) {
  const SpanPrefetcher pf(prefetch, 8 * stride, 8);
  for (int r = 0; r < 8; ++r) {
    pf.Step(r);
    F(n, static_cast<const uint8_t*>(w) + r * stride, a, 0, out + r);
  }
}

// Rows8 for Q6_K: the activations' offset products once for the eight
// rows, then one row at a time (two or four rows interleaved measured no
// better here).
LLMTK_KQ void Rows8Q6K(int64_t n, const void* w, size_t stride, const void* a, float out[8], const void* prefetch) {
  const int64_t nb = n / QKK;
  if (nb > 64) return Rows8<DotQ6K<1>>(n, w, stride, a, out, prefetch);
  __m512i m32y[4 * 64];
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m512i m32 = _mm512_set1_epi8(32);
  for (int64_t b = 0; b < nb; ++b)
    for (int k = 0; k < 4; ++k) m32y[4 * b + k] = _mm512_maddubs_epi16(m32, _mm512_loadu_si512(y[b].qs + 64 * k));
  const SpanPrefetcher pf(prefetch, 8 * stride, 8 * nb);
  for (int r = 0; r < 8; ++r)
    DotQ6KRows<1>(n, static_cast<const uint8_t*>(w) + r * stride, stride, y, m32y, out + r, pf, r * nb);
}

template <int T, void (*F)(int64_t, const void*, const void*, size_t, float*)>
LLMTK_KQ void Rows8xT(int64_t n, const void* w, size_t stride, const void* a, size_t astride, float* out) {
  for (int r = 0; r < 8; ++r) {
    float o[T];
    F(n, static_cast<const uint8_t*>(w) + r * stride, a, astride, o);
    for (int t = 0; t < T; ++t) out[8 * t + r] = o[t];
  }
}

}  // namespace

void AddKQuantsVnni(KernelTable* t) {
  const int q4 = static_cast<int>(GgmlType::kQ4_K), q6 = static_cast<int>(GgmlType::kQ6_K);
  t->vec_dot[q4] = One<DotQ4K<1>>;
  t->vec_dot[q6] = One<DotQ6K<1>>;
  t->vec_dot8[q4] = Rows8<DotQ4K<1>>;
  t->vec_dot8[q6] = __builtin_cpu_supports("gfni") && __builtin_cpu_supports("avx512dq") ? Rows8Q6KG : Rows8Q6K;
  t->vec_dot8x4[q4] = Rows8xT<4, DotQ4K<4>>;
  t->vec_dot8x4[q6] = Rows8xT<4, DotQ6K<4>>;
  t->vec_dot8x8[q4] = Rows8xT<8, DotQ4K<8>>;
  t->vec_dot8x8[q6] = Rows8xT<8, DotQ6K<8>>;
}

}  // namespace llmtk::kernels_internal

#endif
