// Q6_K x Q8_K for prompts: sixteen weight rows decoded once per batch, then
// multiplied by sixteen packed tokens at a time, with AVX-512 VNNI.
//
// The reference (and ggml's AVX2 kernel, which ours match bit for bit)
// keeps eight integer lanes per row and super-block: lane k sums elements
// 32g + 4k .. 32g + 4k + 3 of the eight 32-value groups g, each times its
// 16-value group's scale, and each lane goes into its own float
// accumulator, acc[k] = fma(y.d * x.d, float(lane k), acc[k]), with
// hsum_float_8 at the end. So every four products carry a scale of their
// own before they may be added to anything else: VPDPBUSD on the 6-bit
// values would need a second instruction per four products to apply it
// (and more for the -32 offset). Instead Decode stores every weight
// already scaled, (q - 32) * scale as int16 (at most 32 * 128 in
// magnitude), and the activations are packed as int16 pairs: one VPDPWSSD
// adds two scaled products per 32-bit lane, offset included, exactly, and
// nothing else per product is left. (On this Zen 4 core every 512-bit
// vector instruction takes one of the same two slots per cycle, VPDPWSSD
// at VPDPBUSD's rate, so that is at most half of VPDPBUSD's multiply-adds.)
//
// Register layout: 32-bit lane (c, i) = 4c + i holds token 4p + c against
// row 4q + i, so sixteen accumulators cover the 16 x 16 tile. A row quad's
// pairs are a 128-bit broadcast load (the same four rows in every chunk);
// a token quad's pair j is one VPSHUFD of a 64-byte line holding its four
// tokens' pairs 4jg .. 4jg + 3 (chunk c = token 4p + c), reused for the
// four row quads. Per 16 VPDPWSSD that is 4 shuffles and 5 loads, where a
// {1to16} broadcast operand per VPDPWSSD (rows in lanes, one token at a
// time) measured 29% of the VPDPBUSD peak against this layout's 31-32%,
// and one side stored four times over (full loads, no shuffles) 29% for
// the weights and 12% for the activations: the copies stream from L2 and
// L3 instead.
// The 128 float accumulators (8 lanes x 16 registers) live in memory.
//
// The integer lanes are exact, and the float steps are the reference's per
// row and token, so the results are the scalar reference's bit for bit.
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstring>

#define LLMTK_Q6K16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

constexpr int QKK = 256;

// One super-block of sixteen rows: w[k][j] lane r = row r's int16 pair j
// of lane k, j = 2g + h: elements 32g + 4k + 2h and + 1, low half first.
struct DecodedQ6K {
  __m512i w[8][16];
  float xd[16];  // the rows' scales
};

// One super-block of sixteen tokens: v[k][jg][p][c][jj] = token 4p + c's
// int16 pair 4jg + jj of lane k (the same pairs as above).
struct PackedQ8K {
  int32_t v[8][4][4][4][4];
  float d[16];
};
static_assert(sizeof(DecodedQ6K) % 64 == 0 && sizeof(PackedQ8K) % 64 == 0);

// ScaledRow's constants, built once per Decode (GCC rebuilt them per row).
struct RowConsts {
  __m512i m4, m30, m32, shl01, shr23, pick[8];
  LLMTK_Q6K16 RowConsts() {
    m4 = _mm512_set1_epi8(0x0F);
    m30 = _mm512_set1_epi8(0x30);
    m32 = _mm512_set1_epi8(32);
    // Per 128-value half: its first 64 values take qh << 4 and qh << 2 (one
    // shift count per 256-bit half), the next 64 qh and qh >> 2.
    shl01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    shr23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    // Values 32m .. 32m + 31 take scales 2m (the low 16) and 2m + 1.
    for (int m = 0; m < 8; ++m)
      pick[m] = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(2 * m)),
                                   _mm256_set1_epi16(static_cast<int16_t>(2 * m + 1)), 1);
  }
};

// Row x's 256 values times their scales, (q - 32) * scale, as int16 in
// element order: out[m] holds elements 32m .. 32m + 31.
LLMTK_Q6K16 inline void ScaledRow(const RowConsts& c, const BlockQ6K& x, __m512i out[8]) {
  const __m512i sc16 =
      _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales))));
  for (int half = 0; half < 2; ++half) {
    const __m512i l = _mm512_loadu_si512(x.ql + 64 * half);
    const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * half)));
    const __m512i u[2] = {
        _mm512_or_si512(_mm512_and_si512(l, c.m4), _mm512_and_si512(_mm512_sllv_epi16(h, c.shl01), c.m30)),
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), c.m4),
                        _mm512_and_si512(_mm512_srlv_epi16(h, c.shr23), c.m30))};
    for (int j = 0; j < 2; ++j) {
      const __m512i s = _mm512_sub_epi8(u[j], c.m32);  // elements 64 * (2 * half + j) ..
      for (int i = 0; i < 2; ++i) {
        const int m = 4 * half + 2 * j + i;
        const __m512i v = _mm512_cvtepi8_epi16(i == 0 ? _mm512_castsi512_si256(s) : _mm512_extracti64x4_epi64(s, 1));
        out[m] = _mm512_mullo_epi16(v, _mm512_permutexvar_epi16(c.pick[m], sc16));
      }
    }
  }
}

// 16x16 transpose of 32-bit words: out[j] lane i = in[i] lane j.
LLMTK_Q6K16 inline void Transpose16(const __m512i in[16], __m512i out[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(in[2 * i], in[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(in[2 * i], in[2 * i + 1]);
  }
  // u[4i + m], 128-bit chunk L: rows 4i .. 4i + 3 of column 4L + m.
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x44), v1 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xEE);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x44);
    const __m512i v3 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xEE);
    out[m] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    out[4 + m] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    out[8 + m] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    out[12 + m] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
}

LLMTK_Q6K16 void Decode(int64_t n, const void* w, size_t stride, void* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  auto* dec = static_cast<DecodedQ6K*>(out);
  const RowConsts c;
  for (int64_t b = 0; b < n / QKK; ++b) {
    // The rows in element order, then each group g (32 values, 16 pairs)
    // of all sixteen transposed: its pair 2k + h is lane k's pair 2g + h.
    alignas(64) __m512i rows[16][8];
    for (int r = 0; r < 16; ++r) {
      const BlockQ6K& x = reinterpret_cast<const BlockQ6K*>(base + r * stride)[b];
      ScaledRow(c, x, rows[r]);
      dec[b].xd[r] = _cvtsh_ss(x.d);
    }
    for (int g = 0; g < 8; ++g) {
      __m512i in[16], tr[16];
      for (int r = 0; r < 16; ++r) in[r] = rows[r][g];
      Transpose16(in, tr);
      for (int j = 0; j < 16; ++j) _mm512_store_si512(&dec[b].w[j / 2][2 * g + j % 2], tr[j]);
    }
  }
}

// Loads through inline assembly, which the compiler can neither hoist nor
// merge: with intrinsics GCC kept the sixteen d products live in registers
// across the loops and moved the operands through the stack instead.
LLMTK_Q6K16 inline __m512i Line(const void* p) {
  __m512i v;
  asm("vmovdqa64 %1, %0" : "=v"(v) : "m"(*static_cast<const __m512i*>(p)));
  return v;
}
LLMTK_Q6K16 inline __m512i Bcast128(const void* p) {
  __m512i v;
  asm("vbroadcasti32x4 %1, %0" : "=v"(v) : "m"(*static_cast<const __m128i*>(p)));
  return v;
}
LLMTK_Q6K16 inline __m512 LoadPs(const __m512* p) {
  __m512 v;
  asm("vmovaps %1, %0" : "=v"(v) : "m"(*p));
  return v;
}
LLMTK_Q6K16 inline __m512i Dpwssd(__m512i acc, __m512i a, __m512i b) {
  asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// Dword jj of each 128-bit chunk, in all four.
template <int JJ>
LLMTK_Q6K16 inline __m512i Spread(__m512i v) {
  return _mm512_shuffle_epi32(v, static_cast<_MM_PERM_ENUM>(JJ * 0x55));
}

LLMTK_Q6K16 void DotQ6Kx16x16(int64_t n, const void* decoded, const void* packed, const void*, size_t, float* out) {
  const auto* dec = static_cast<const DecodedQ6K*>(decoded);
  const auto* pk = static_cast<const PackedQ8K*>(packed);
  alignas(64) __m512 acc[8][4][4];  // [k][q][p]
  for (auto& a : acc)
    for (auto& b : a)
      for (auto& v : b) v = _mm512_setzero_ps();
  const __m512i chunk_of = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  for (int64_t b = 0; b < n / QKK; ++b) {
    const DecodedQ6K& x = dec[b];
    const PackedQ8K& y = pk[b];
    // d = y.d * x.d per token and row, as the reference rounds it.
    alignas(64) __m512 d[4][4];
    for (int q = 0; q < 4; ++q)
      for (int p = 0; p < 4; ++p)
        d[q][p] = _mm512_mul_ps(_mm512_permutexvar_ps(chunk_of, _mm512_castps128_ps512(_mm_loadu_ps(y.d + 4 * p))),
                                _mm512_broadcast_f32x4(_mm_loadu_ps(x.xd + 4 * q)));
    for (int k = 0; k < 8; ++k) {
      __m512i s[4][4];
      for (auto& a : s)
        for (auto& v : a) v = _mm512_setzero_si512();
      for (int jg = 0; jg < 4; ++jg) {
        __m512i line[4];
        for (int p = 0; p < 4; ++p) line[p] = Line(y.v[k][jg][p]);
#pragma GCC unroll 4
        for (int jj = 0; jj < 4; ++jj) {
          const int32_t* wj = reinterpret_cast<const int32_t*>(&x.w[k][4 * jg + jj]);
          __m512i wq[4], ap[4];
          for (int q = 0; q < 4; ++q) wq[q] = Bcast128(wj + 4 * q);
          for (int p = 0; p < 4; ++p)
            ap[p] = jj == 0   ? Spread<0>(line[p])
                    : jj == 1 ? Spread<1>(line[p])
                    : jj == 2 ? Spread<2>(line[p])
                              : Spread<3>(line[p]);
          for (int q = 0; q < 4; ++q)
            for (int p = 0; p < 4; ++p) s[q][p] = Dpwssd(s[q][p], wq[q], ap[p]);
        }
      }
      for (int q = 0; q < 4; ++q)
        for (int p = 0; p < 4; ++p)
          acc[k][q][p] = _mm512_fmadd_ps(LoadPs(&d[q][p]), _mm512_cvtepi32_ps(s[q][p]), acc[k][q][p]);
    }
  }
  // hsum_float_8 per lane; chunk c of register (q, p) is token 4p + c's
  // rows 4q .. 4q + 3.
  for (int q = 0; q < 4; ++q)
    for (int p = 0; p < 4; ++p) {
      const auto& a = acc;
      const __m512 r0 = _mm512_add_ps(_mm512_add_ps(a[4][q][p], a[0][q][p]), _mm512_add_ps(a[6][q][p], a[2][q][p]));
      const __m512 r1 = _mm512_add_ps(_mm512_add_ps(a[5][q][p], a[1][q][p]), _mm512_add_ps(a[7][q][p], a[3][q][p]));
      const __m512 sum = _mm512_add_ps(r0, r1);
      _mm_storeu_ps(out + 16 * (4 * p) + 4 * q, _mm512_castps512_ps128(sum));
      _mm_storeu_ps(out + 16 * (4 * p + 1) + 4 * q, _mm512_extractf32x4_ps(sum, 1));
      _mm_storeu_ps(out + 16 * (4 * p + 2) + 4 * q, _mm512_extractf32x4_ps(sum, 2));
      _mm_storeu_ps(out + 16 * (4 * p + 3) + 4 * q, _mm512_extractf32x4_ps(sum, 3));
    }
}

// Once per product and sixteen tokens (MatMul), so plain code.
void Pack(const uint8_t* a, size_t astride, int64_t blocks, void* out) {
  const int64_t n = blocks * QKK;
  auto* pk = static_cast<PackedQ8K*>(out);
  for (int t = 0; t < 16; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8K*>(a + t * astride);
    for (int64_t b = 0; b < n / QKK; ++b) {
      alignas(64) int16_t wide[QKK];
      for (int e = 0; e < QKK; ++e) wide[e] = y[b].qs[e];
      // Pairs 4jg .. 4jg + 3 of lane k (j = 2g + h: elements 32g + 4k + 2h
      // and + 1) are elements 64jg + 4k .. + 3 and 64jg + 32 + 4k .. + 3.
      for (int k = 0; k < 8; ++k)
        for (int jg = 0; jg < 4; ++jg) {
          int32_t* o = pk[b].v[k][jg][t / 4][t % 4];
          std::memcpy(o, &wide[64 * jg + 4 * k], 8);
          std::memcpy(o + 2, &wide[64 * jg + 32 + 4 * k], 8);
        }
      pk[b].d[t] = y[b].d;
    }
  }
}

}  // namespace

void AddQ6Kx16Vnni(KernelTable* t) {
  const int q6 = static_cast<int>(GgmlType::kQ6_K);
  t->vec_dot16x16[q6] = DotQ6Kx16x16;
  t->decode16[q6] = Decode;
  t->decoded16_bytes[q6] = sizeof(DecodedQ6K);
  t->pack16[q6] = Pack;
  t->packed16_bytes[q6] = sizeof(PackedQ8K);
}

}  // namespace llmtk::kernels_internal

#endif
