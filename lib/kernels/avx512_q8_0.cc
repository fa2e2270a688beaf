// Q8_0 x Q8_0 prompts on sixteen weight rows and sixteen tokens, with
// AVX-512 VNNI: the Q8_0 form of the packed kernel in kernels/avx512_q4_0.cc.
//
// Sixteen rows' blocks are decoded once per batch (Decode): a 4x4 transpose
// of 32-bit words leaves row r's word j in lane r of register W_j, so
// VPDPBUSD against token word j broadcast from memory ({1to16}) gives the
// sixteen rows' sums of that word in their own lanes. The weights are signed
// and VPDPBUSD's register operand is unsigned: they are stored as x + 128
// (XOR 0x80), and each word's chain starts at -128 times the token word's
// sum, packed once per product (Q8_0x16Block), which leaves the exact
// integer.
//
// Unlike Q4_0's, the reference's float step for Q8_0 (scalar.cc
// DotLegacyLanes, ggml's AVX2 Q8_0 dot) keeps eight float lanes per row,
// lane k adding fma(d_x * d_y, float(sum of word k), lane) every block, and
// reduces them only at the end (Hsum8). So each word's integer is converted
// and accumulated on its own: every VPDPBUSD is followed by a conversion and
// an FMA, and on this Zen 4 the three share the vector pipes (about two
// 512-bit operations a cycle, whichever: loops of independent VPDPBUSD +
// VFMADD231PS ran at 51% of the VPDPBUSD peak, with a VCVTDQ2PS each at
// 34%), which caps the kernel at a third of the peak however it is
// arranged (Q4_0 has one conversion and FMA per eight VPDPBUSD). Results
// are the scalar reference's bit for bit. gemm_bench Q8_0 (2048 x 2048 and
// 2048 x 5632, 512 tokens, a busy machine): 12% of the peak with the
// eight-row kernels, 20-22% with this one.
//
// The loop runs two tokens at a time over a run of blocks: their sixteen
// lane accumulators, the block's eight weight words and its scales fill the
// registers. The run is short enough (kRun blocks, 9 KiB decoded) that the
// eight passes over it find the weights in L1; the accumulators wait in
// memory between runs.
#include <cstring>

#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

namespace llmtk::kernels_internal {

void PackQ8_0x16(const uint8_t* a, size_t astride, int64_t blocks, Q8_0x16Block* out) {
  for (int t = 0; t < 16; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8_0*>(a + t * astride);
    for (int64_t b = 0; b < blocks; ++b) {
      std::memcpy(out[b].qs[t], y[b].qs, 32);
      for (int k = 0; k < 8; ++k)
        out[b].corr[t][k] = -128 * (y[b].qs[4 * k] + y[b].qs[4 * k + 1] + y[b].qs[4 * k + 2] + y[b].qs[4 * k + 3]);
      out[b].d[t] = Fp16ToFp32(y[b].d);
    }
  }
}

}  // namespace llmtk::kernels_internal

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "lib/kernels/avx512_load.h"

#define LLMTK_VNNI16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

constexpr int QK = 32;
constexpr int64_t kRun = 16;  // blocks per run (16 * 576 bytes decoded)
constexpr int kAhead = 1;     // passes that prefetches run ahead (1-4 measured alike)

struct Decoded16 {
  __m512i w[8];  // word j of the sixteen rows, + 128 per byte
  __m512 d;      // the rows' scales
};


// Sixteen rows' 16 bytes from p, transposed: t[k] lane L = row L's word k.
// (Four() puts rows i, 4 + i, 8 + i, 12 + i in the four 128-bit chunks of
// its register i, so the transpose leaves lane L holding row L.)
LLMTK_VNNI16 inline void LoadTransposed16x4(const uint8_t* p, size_t stride, __m512i t[4]) {
  const size_t s4 = 4 * stride;
  const __m512i a[4] = {Four(p, s4), Four(p + stride, s4), Four(p + 2 * stride, s4), Four(p + 3 * stride, s4)};
  Transpose4(a, t);
}

LLMTK_VNNI16 void Decode(int64_t n, const void* w, size_t stride, void* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  auto* dec = static_cast<Decoded16*>(out);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < n / QK; ++b) {
    const uint8_t* blk = base + b * sizeof(BlockQ8_0);
    // Bytes 0-15 (the scale and values 0-13) and 18-33 (values 16-31)
    // would need realigning; the values' own 16-byte halves are read.
    __m512i t[8];
    LoadTransposed16x4(blk + offsetof(BlockQ8_0, qs), stride, t);
    LoadTransposed16x4(blk + offsetof(BlockQ8_0, qs) + 16, stride, t + 4);
    for (int j = 0; j < 8; ++j) _mm512_store_si512(&dec[b].w[j], _mm512_xor_si512(t[j], flip));
    // The scales: the same transpose of each row's first word.
    const size_t s4 = 4 * stride;
    const __m512i s0 = _mm512_unpacklo_epi32(Four(blk, s4), Four(blk + stride, s4));
    const __m512i s2 = _mm512_unpacklo_epi32(Four(blk + 2 * stride, s4), Four(blk + 3 * stride, s4));
    _mm512_store_ps(&dec[b].d, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_unpacklo_epi64(s0, s2))));
  }
}

// seed + VPDPBUSD(u, the word at p in every lane), the broadcast folded
// into the instruction's memory operand (GCC would emit a VPBROADCASTD).
LLMTK_VNNI16 inline __m512i DpbusdBcast(__m512i acc, __m512i u, const int32_t* p) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*p));
  return acc;
}

// v * the float at p in every lane, broadcast from memory.
LLMTK_VNNI16 inline __m512 MulBcast(__m512 v, const float* p) {
  __m512 r;
  asm("vmulps %2%{1to16%}, %1, %0" : "=v"(r) : "v"(v), "m"(*p));
  return r;
}

LLMTK_VNNI16 void DotQ8_0x16x16(int64_t n, const void* decoded, const void* packed, const void*, size_t,
                                float* out) {
  const auto* dec = static_cast<const Decoded16*>(decoded);
  const auto* y = static_cast<const Q8_0x16Block*>(packed);
  const int64_t nb = n / QK;
  // Lane k of token t between runs: acc_mem[t][k].
  alignas(64) float acc_mem[16][8][16];
  // A pass reads two lines per block (its tokens' words and corrections)
  // that no pass before it touched; a prompt's packed tokens outgrow L2
  // (1088 bytes a block per sixteen tokens), and the hardware prefetcher
  // does not follow these strides in time (the kernel alone: 24% of the
  // VPDPBUSD peak with them in L2, 18% from L3, 22% with these prefetches).
  // So each pass prefetches the next one's lines, the last pass those of the
  // next run's first.
  const auto prefetch_pass = [y](int64_t b, int t) {
    __builtin_prefetch(y[b].qs[t]);
    __builtin_prefetch(y[b].corr[t]);
    if (t == 0) __builtin_prefetch(y[b].d);
  };
  for (int q = 0; q < kAhead; ++q)
    for (int64_t b = q / 8 * kRun; b < std::min(nb, q / 8 * kRun + kRun); ++b) prefetch_pass(b, 2 * (q % 8));
  for (int64_t b0 = 0; b0 < nb; b0 += kRun) {
    const int64_t b1 = std::min(nb, b0 + kRun);
    for (int t = 0; t < 16; t += 2) {
      // Every loop over registers unrolled, or GCC keeps the arrays in memory.
      __m512 acc[2][8];
#pragma GCC unroll 2
      for (int k = 0; k < 2; ++k)
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j)
          acc[k][j] = b0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(acc_mem[t + k][j]);
      for (int64_t b = b0; b < b1; ++b) {
        {
          const int q = t / 2 + kAhead;
          const int64_t pb = b + q / 8 * kRun;
          if (pb < nb) prefetch_pass(pb, 2 * (q % 8));
        }
        const Decoded16& r = dec[b];
        const Q8_0x16Block& x = y[b];
        __m512i w[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) w[j] = _mm512_load_si512(&r.w[j]);
        const __m512 dx = _mm512_load_ps(&r.d);
#pragma GCC unroll 2
        for (int k = 0; k < 2; ++k) {
          const __m512 d = MulBcast(dx, &x.d[t + k]);
#pragma GCC unroll 8
          for (int j = 0; j < 8; ++j) {
            const __m512i s = DpbusdBcast(Bcast32(&x.corr[t + k][j]), w[j], &x.qs[t + k][j]);
            acc[k][j] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[k][j]);
          }
        }
      }
      if (b1 < nb) {
#pragma GCC unroll 2
        for (int k = 0; k < 2; ++k)
#pragma GCC unroll 8
          for (int j = 0; j < 8; ++j) _mm512_store_ps(acc_mem[t + k][j], acc[k][j]);
        continue;
      }
      // Hsum8's tree, lane by lane: (l, l + 4), then (0, 2) and (1, 3).
#pragma GCC unroll 2
      for (int k = 0; k < 2; ++k) {
        const __m512 r0 = _mm512_add_ps(_mm512_add_ps(acc[k][4], acc[k][0]), _mm512_add_ps(acc[k][6], acc[k][2]));
        const __m512 r1 = _mm512_add_ps(_mm512_add_ps(acc[k][5], acc[k][1]), _mm512_add_ps(acc[k][7], acc[k][3]));
        _mm512_storeu_ps(out + 16 * (t + k), _mm512_add_ps(r0, r1));
      }
    }
  }
  if (nb == 0)
    for (int i = 0; i < 256; ++i) out[i] = 0.f;
}

}  // namespace

void AddQ8_0x16Vnni(KernelTable* t) {
  t->vec_dot16x16[static_cast<int>(GgmlType::kQ8_0)] = DotQ8_0x16x16;
  t->decode16[static_cast<int>(GgmlType::kQ8_0)] = Decode;
  t->decoded16_bytes[static_cast<int>(GgmlType::kQ8_0)] = sizeof(Decoded16);
}

}  // namespace llmtk::kernels_internal

#endif
