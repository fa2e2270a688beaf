// Q4_0 x Q8_0 on sixteen weight rows at once, with AVX-512 VNNI.
//
// The eight-row kernel (kernels/avx512.cc) multiplies one row per half
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
// One token (generation) goes eight blocks at a time: the 144 bytes a row
// holds for them, scales included, are transposed whole (36 words) and met
// by an activation row laid out to match (Q4_0Chunk), so no word needs
// realigning and the scales come out of the same transposes. That halves
// the shuffles per block, which bound this kernel (in cache 35 -> ~50 GB/s
// of weights on one Zen 4 core). Prompts (4 or 8 tokens per call) and the
// blocks past the last whole chunk go one block at a time.
//
// Rows are loaded 16 bytes at a time, four rows per register through
// masked broadcasts (a load and a blend, no shuffle), then one 4x4
// transpose within each 128-bit lane leaves lane L holding row L.
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstddef>

#include "lib/kernels/avx512_load.h"

#define LLMTK_VNNI16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

constexpr int QK = 32;

struct Rows16 {
  __m512i lo[4], hi[4];  // nibbles of words j: lane L = row L
  __m512 d;              // the rows' scales
};

LLMTK_VNNI16 inline void LoadRows16(const uint8_t* blk, size_t stride, Rows16* r) {
  const uint8_t* qs = blk + offsetof(BlockQ4_0, qs);
  // a[i]: rows i, 4 + i, 8 + i, 12 + i, one per 128-bit chunk, so that the
  // unpacks leave lane L holding row L.
  const size_t s4 = 4 * stride;
  const __m512i a0 = Four(qs, s4), a1 = Four(qs + stride, s4);
  const __m512i a2 = Four(qs + 2 * stride, s4), a3 = Four(qs + 3 * stride, s4);
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
  const __m512i s0 = _mm512_unpacklo_epi32(Four(blk, s4), Four(blk + stride, s4));
  const __m512i s2 = _mm512_unpacklo_epi32(Four(blk + 2 * stride, s4), Four(blk + 3 * stride, s4));
  r->d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_unpacklo_epi64(s0, s2)));
}

// The sixteen rows' exact block sums against activation block y. The
// nibbles are used unsigned: aux.bias (-8 times y's sum) takes 8 * sum off.
LLMTK_VNNI16 inline __m512i Sums16(const Rows16& r, const BlockQ8_0& y, const Q8Aux& aux) {
  __m512i lo = Bcast32(&aux.bias), hi = _mm512_setzero_si512();
  for (int j = 0; j < 4; ++j) {
    lo = _mm512_dpbusd_epi32(lo, r.lo[j], Bcast32(y.qs + 4 * j));
    hi = _mm512_dpbusd_epi32(hi, r.hi[j], Bcast32(y.qs + 16 + 4 * j));
  }
  return _mm512_add_epi32(lo, hi);
}

LLMTK_VNNI16 inline void Store16(__m512 acc, float* out) { _mm512_storeu_ps(out, acc); }


// Sixteen rows' 16 bytes from p, transposed: t[k] lane L = row L's word k.
LLMTK_VNNI16 inline void LoadTransposed16x4(const uint8_t* p, size_t stride, __m512i t[4]) {
  const size_t s4 = 4 * stride;
  const __m512i a[4] = {Four(p, s4), Four(p + stride, s4), Four(p + 2 * stride, s4), Four(p + 3 * stride, s4)};
  Transpose4(a, t);
}

// Eight blocks of sixteen rows (144 bytes each) against one Q4_0Chunk.
// Word k of the chunk belongs to block kFirst[i] <= k < kFirst[i + 1];
// block i's scale is the low (even i) or high half of word kScale[i].
constexpr int kFirst[9] = {0, 5, 9, 14, 18, 23, 27, 32, 36};
constexpr int kScale[8] = {0, 4, 9, 13, 18, 22, 27, 31};

LLMTK_VNNI16 inline __m512 Chunk16(const uint8_t* p, size_t stride, const Q4_0Chunk& c, __m512 acc) {
  // Each 16-byte piece is loaded when a block first needs it, so that the
  // live words fit the 32 registers.
  __m512i t[36];
  const __m512i m0f = _mm512_set1_epi8(0x0F), mf0 = _mm512_set1_epi8(static_cast<char>(0xF0));
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
#pragma GCC unroll 3
    for (int q = (kFirst[i] + 3) / 4; q <= (kFirst[i + 1] - 1) / 4; ++q) LoadTransposed16x4(p + 16 * q, stride, t + 4 * q);
    // The high nibbles are taken in place (16 times their value): the sum
    // is exact in 32 bits and shifts back exactly.
    __m512i lo = _mm512_set1_epi32(c.bias[i]), hi = _mm512_setzero_si512();
#pragma GCC unroll 5
    for (int k = kFirst[i]; k < kFirst[i + 1]; ++k) {
      lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(t[k], m0f), _mm512_set1_epi32(c.lo[k]));
      hi = _mm512_dpbusd_epi32(hi, _mm512_and_si512(t[k], mf0), _mm512_set1_epi32(c.hi[k]));
    }
    const __m512i sumi = _mm512_add_epi32(lo, _mm512_srai_epi32(hi, 4));
    const __m512i dw = i % 2 == 0 ? t[kScale[i]] : _mm512_srli_epi32(t[kScale[i]], 16);
    const __m512 d = _mm512_mul_ps(_mm512_cvtph_ps(_mm512_cvtepi32_epi16(dw)), _mm512_set1_ps(c.dy[i]));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), d, acc);
  }
  return acc;
}

LLMTK_VNNI16 void DotQ4_0x16(int64_t n, const void* w, size_t stride, const void* a, const Q8Aux* aux,
                             const void* chunks, float out[16], const void* prefetch) {
  const int64_t nb = n / QK, nc = chunks != nullptr ? nb / 8 : 0;
  const SpanPrefetcher pf(prefetch, 16 * stride, nc + (nb - 8 * nc));
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const auto* base = static_cast<const uint8_t*>(w);
  const auto* ch = static_cast<const Q4_0Chunk*>(chunks);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t c = 0; c < nc; ++c) {
    pf.Step(c);
    acc = Chunk16(base + c * 8 * sizeof(BlockQ4_0), stride, ch[c], acc);
  }
  for (int64_t b = 8 * nc; b < nb; ++b) {
    pf.Step(nc + b - 8 * nc);
    Rows16 r;
    LoadRows16(base + b * sizeof(BlockQ4_0), stride, &r);
    const __m512 d = _mm512_mul_ps(r.d, _mm512_set1_ps(aux[b].d));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Sums16(r, y[b], aux[b])), d, acc);
  }
  Store16(acc, out);
}

// T tokens (4 or 8): each block's transposes are paid once for all of them.
template <int T>
LLMTK_VNNI16 void DotQ4_0x16xT(int64_t n, const void* w, size_t stride, const void* a, size_t astride,
                               const Q8Aux* aux, size_t aux_stride, float* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  const BlockQ8_0* y[T];
  for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + t * astride);
  __m512 acc[T];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    Rows16 r;
    LoadRows16(base + b * sizeof(BlockQ4_0), stride, &r);
    // Unrolled, so that the accumulators stay in registers (a loop kept
    // them in memory: a store and a reload in every token's chain).
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const Q8Aux& x = aux[t * aux_stride + b];
      const __m512 d = _mm512_mul_ps(r.d, _mm512_set1_ps(x.d));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Sums16(r, y[t][b], x)), d, acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) Store16(acc[t], out + 16 * t);
}

// acc + VPDPBUSD(u, the word at p in every lane), the broadcast folded into
// the instruction's memory operand ({1to16}). GCC emits a separate
// VPBROADCASTD for _mm512_set1_epi32 of a load, and on this Zen core
// VPDPBUSD with a separate broadcast per instruction ran at ~75% of its
// peak, with the folded one at ~90%.
LLMTK_VNNI16 inline __m512i DpbusdBcast(__m512i acc, __m512i u, const int32_t* p) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*p));
  return acc;
}

// Prompts: each sixteen-row group's blocks are transposed once for the
// whole batch (Decode), then met by sixteen packed tokens at a time, every
// activation value a broadcast memory operand of VPDPBUSD off one pointer.
// The accumulators (16), the decoded block (8) and its scales fill 25 of the
// 32 registers.
struct Decoded16 {
  __m512i lo[4], hi[4];
  __m512 d;
};

LLMTK_VNNI16 void Decode(int64_t n, const void* w, size_t stride, void* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  auto* dec = static_cast<Decoded16*>(out);
  for (int64_t b = 0; b < n / QK; ++b) {
    Rows16 r;
    LoadRows16(base + b * sizeof(BlockQ4_0), stride, &r);
    for (int j = 0; j < 4; ++j) {
      _mm512_store_si512(&dec[b].lo[j], r.lo[j]);
      _mm512_store_si512(&dec[b].hi[j], r.hi[j]);
    }
    _mm512_store_ps(&dec[b].d, r.d);
  }
}

LLMTK_VNNI16 void DotQ4_0x16x16(int64_t n, const void* decoded, const void* packed, const void*, size_t,
                                float* out) {
  const auto* dec = static_cast<const Decoded16*>(decoded);
  const auto* a = static_cast<const Q8x16Block*>(packed);
  __m512 acc[16];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / QK; ++b) {
    const Decoded16& r = dec[b];
    const Q8x16Block& y = a[b];
    // Two tokens at a time, two chains each (low and high nibbles), the
    // four interleaved: a single chain of eight per token left too few
    // independent VPDPBUSD in flight.
#pragma GCC unroll 8
    for (int t = 0; t < 16; t += 2) {
      __m512i s[4] = {_mm512_set1_epi32(y.bias[t]), _mm512_setzero_si512(), _mm512_set1_epi32(y.bias[t + 1]),
                      _mm512_setzero_si512()};
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        s[0] = DpbusdBcast(s[0], r.lo[j], &y.qs[t][j]);
        s[1] = DpbusdBcast(s[1], r.hi[j], &y.qs[t][4 + j]);
        s[2] = DpbusdBcast(s[2], r.lo[j], &y.qs[t + 1][j]);
        s[3] = DpbusdBcast(s[3], r.hi[j], &y.qs[t + 1][4 + j]);
      }
#pragma GCC unroll 2
      for (int k = 0; k < 2; ++k) {
        const __m512 d = _mm512_mul_ps(r.d, _mm512_set1_ps(y.d[t + k]));
        acc[t + k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s[2 * k], s[2 * k + 1])), d, acc[t + k]);
      }
    }
  }
  for (int t = 0; t < 16; ++t) Store16(acc[t], out + 16 * t);
}

}  // namespace

void AddQ4_0x16Vnni(KernelTable* t) {
  t->vec_dot16[static_cast<int>(GgmlType::kQ4_0)] = DotQ4_0x16;
  t->vec_dot16x4[static_cast<int>(GgmlType::kQ4_0)] = DotQ4_0x16xT<4>;
  t->vec_dot16x8[static_cast<int>(GgmlType::kQ4_0)] = DotQ4_0x16xT<8>;
  t->vec_dot16x16[static_cast<int>(GgmlType::kQ4_0)] = DotQ4_0x16x16;
  t->decode16[static_cast<int>(GgmlType::kQ4_0)] = Decode;
  t->decoded16_bytes[static_cast<int>(GgmlType::kQ4_0)] = sizeof(Decoded16);
}

}  // namespace llmtk::kernels_internal

#endif
