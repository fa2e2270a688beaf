// Q4_K x Q8_K prompts (sixteen weight rows by sixteen tokens) with AVX-512
// VNNI and VBMI2.
//
// The reference keeps, per row and super-block, eight int32 lanes: lane k
// sums, over the eight sub-blocks s, sc_s times the four products at
// positions 4k..4k+3 of s. Four products are one VPDPBUSD lane, so with
// row r in lane r (as in kernels/avx512_q4_0.cc) a VPDPBUSD against token
// word (s, k) broadcast from memory gives sixteen rows' P(s, k), each at
// most 4 * 15 * 128 = 7680 in magnitude, and what remains is the exact
// multiply by the row's 6-bit scale. VPDPWSSD does two of those per lane
// when the lane holds two P as int16: P(s+1, k) goes into the high half by
// VPSHLDD, which also puts 8192 in the low half, and the VPDPBUSD of P(s, k)
// adds onto that without a borrow (8192 + P is in [512, 15872]). VPDPWSSD
// against (sc_s, sc_s+1) then adds sc_s * (P + 8192) + sc_s+1 * P', and the
// lane's accumulator starts at -8192 * (sc_0 + sc_2 + sc_4 + sc_6). So a
// lane costs 8 VPDPBUSD, 4 VPDPWSSD and 4 VPSHLDD for 32 products per row,
// where the four-token kernel (kernels/avx512_q4_k.cc) spends 8 VPMADDUBSW
// and 8 VPDPWSSD, and every activation word is a {1to16} memory operand.
//
// The float steps are the reference's per row: acc[k] = fma(y.d * x.d,
// lane[k], acc[k]) per super-block, the mins the same in four lanes with
// (0 - y.d) * x.dmin, then hsum_float_8 and (m0 + m2) + (m1 + m3); all of
// them elementwise over the sixteen rows, so the results are the scalar
// reference's bit for bit.
//
// Lane k of all the super-blocks goes before lane k + 1, so that sixteen
// tokens' float accumulators stay in registers with the lane's eight
// weight registers.
//
// Where AMX-INT8 is there (and Linux grants its tile data) a tile variant
// below takes the products instead; MatMul gets one of the two through
// AddQ4Kx16PromptVnni, the tests both. On the Xeon (AMX) of the helpers'
// machine, gemm_bench Q4_K at 512 tokens went from 18-21% of the VPDPBUSD
// peak (the four/eight-token kernel) to 26-28% with this kernel and 29-33%
// with the tile one; alone on cached data they ran at ~35% and ~45%. Zen 4
// has no AMX and runs 512-bit operations on more (half-width) pipes, so its
// figures will differ.
#include <algorithm>
#include <cstring>

#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>

#include "lib/kernels/avx512_load.h"

#define LLMTK_Q4KPP __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi2,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

constexpr int QKK = 256;

// One super-block of sixteen rows, decoded once per prompt.
struct alignas(64) DecodedQ4K {
  uint8_t q[8][8][64];  // [k][s]: row r's nibbles 4k..4k+3 of sub-block s in dword r
  int32_t sc[4][16];    // pair p: sc_2p | sc_2p+1 << 16
  int32_t bias[16];     // -8192 * (sc_0 + sc_2 + sc_4 + sc_6)
  int32_t mn[4][16];    // k: m_2k | m_2k+1 << 16
  float d[16], dmin[16];
};

// One super-block of sixteen Q8_K activation rows.
struct alignas(64) Q8Kx16Block {
  int32_t q[8][16][8];  // [k][t][s]: token t's values 32s + 4k..+3
  int32_t bsum[4][16];  // [k][t]: (bsums[4k] + bsums[4k+1]) | (bsums[4k+2] + bsums[4k+3]) << 16
  float d[16];
  float nd[16];  // 0 - d, the reference's own negation (-0 for 0 would differ)
};


// hsum_float_8 (lanes 4-7 onto 0-3, then (0 + 2) + (1 + 3)) and the mins'
// (0 + 2) + (1 + 3), as the reference closes each row; out[16 * t + r].
LLMTK_Q4KPP inline void CloseRows(const __m512 lanes[8][16], const __m512 mins[4][16], float* out) {
  for (int t = 0; t < 16; ++t) {
    __m512 r4[4];
    for (int k = 0; k < 4; ++k) r4[k] = _mm512_add_ps(lanes[4 + k][t], lanes[k][t]);
    const __m512 h = _mm512_add_ps(_mm512_add_ps(r4[0], r4[2]), _mm512_add_ps(r4[1], r4[3]));
    const __m512 m = _mm512_add_ps(_mm512_add_ps(mins[0][t], mins[2][t]), _mm512_add_ps(mins[1][t], mins[3][t]));
    _mm512_storeu_ps(out + 16 * t, _mm512_add_ps(h, m));
  }
}

LLMTK_Q4KPP void DecodeBlock(const uint8_t* blk, size_t stride, DecodedQ4K& o) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const size_t s4 = 4 * stride;
  for (int j = 0; j < 4; ++j)
    for (int h = 0; h < 2; ++h) {
      // Lane r of t[i]: row r's word 4h + i of the 32 bytes of sub-blocks
      // 2j (low nibbles) and 2j + 1 (high).
      const uint8_t* p = blk + offsetof(BlockQ4K, qs) + 32 * j + 16 * h;
      const __m512i a[4] = {Four(p, s4), Four(p + stride, s4), Four(p + 2 * stride, s4), Four(p + 3 * stride, s4)};
      __m512i t[4];
      Transpose4(a, t);
      for (int i = 0; i < 4; ++i) {
        _mm512_store_si512(o.q[4 * h + i][2 * j], _mm512_and_si512(t[i], m4));
        _mm512_store_si512(o.q[4 * h + i][2 * j + 1], _mm512_and_si512(_mm512_srli_epi16(t[i], 4), m4));
      }
    }
  for (int r = 0; r < 16; ++r) {
    const auto* x = reinterpret_cast<const BlockQ4K*>(blk + r * stride);
    uint8_t sc[8], m[8];
    for (int s = 0; s < 8; ++s) ScaleMinK4(s, x->scales, &sc[s], &m[s]);
    for (int p = 0; p < 4; ++p) {
      o.sc[p][r] = sc[2 * p] | sc[2 * p + 1] << 16;
      o.mn[p][r] = m[2 * p] | m[2 * p + 1] << 16;
    }
    o.bias[r] = -8192 * (sc[0] + sc[2] + sc[4] + sc[6]);
    o.d[r] = Fp16ToFp32(x->d);
    o.dmin[r] = Fp16ToFp32(x->dmin);
  }
}

LLMTK_Q4KPP void Decode(int64_t n, const void* w, size_t stride, void* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  auto* dec = static_cast<DecodedQ4K*>(out);
  for (int64_t b = 0; b < n / QKK; ++b) DecodeBlock(base + b * sizeof(BlockQ4K), stride, dec[b]);
}

void Pack(const uint8_t* a, size_t astride, int64_t blocks, void* out) {
  auto* o = static_cast<Q8Kx16Block*>(out);
  for (int t = 0; t < 16; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8K*>(a + t * astride);
    for (int64_t b = 0; b < blocks; ++b) {
      for (int k = 0; k < 8; ++k)
        for (int s = 0; s < 8; ++s) std::memcpy(&o[b].q[k][t][s], y[b].qs + 32 * s + 4 * k, 4);
      for (int k = 0; k < 4; ++k) {
        const int16_t* bs = y[b].bsums + 4 * k;
        const auto lo = static_cast<uint16_t>(bs[0] + bs[1]), hi = static_cast<uint16_t>(bs[2] + bs[3]);
        o[b].bsum[k][t] = static_cast<int32_t>(lo | static_cast<uint32_t>(hi) << 16);
      }
      o[b].d[t] = y[b].d;
      o[b].nd[t] = 0.0f - y[b].d;
    }
  }
}

// acc + VPDPBUSD(u, the word at p in every lane), the broadcast folded into
// the instruction (GCC emits a separate VPBROADCASTD for set1 of a load).
LLMTK_Q4KPP inline __m512i DpbusdBcast(__m512i acc, __m512i u, const int32_t* p) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*p));
  return acc;
}
LLMTK_Q4KPP inline __m512i DpwssdBcast(__m512i acc, __m512i u, const int32_t* p) {
  asm("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*p));
  return acc;
}

// Super-blocks per pass: their y.d * x.d (and the mins' (0 - y.d) * x.dmin)
// are taken once for the eight lanes, in a 32 KiB stack buffer.
constexpr int64_t kSpan = 16;

LLMTK_Q4KPP void Dot(int64_t n, const void* decoded, const void* packed, const void*, size_t, float* out) {
  const int64_t nb = n / QKK;
  const auto* dec = static_cast<const DecodedQ4K*>(decoded);
  const auto* act = static_cast<const Q8Kx16Block*>(packed);
  __m512 lanes[8][16], mins[4][16];
  for (auto& l : lanes)
    for (auto& v : l) v = _mm512_setzero_ps();
  for (auto& l : mins)
    for (auto& v : l) v = _mm512_setzero_ps();
  const __m512i lo8192 = _mm512_set1_epi32(8192 << 16);
  __m512 dd[kSpan][16], dm[kSpan][16];
  for (int64_t b0 = 0; b0 < nb; b0 += kSpan) {
    const int64_t span = std::min(kSpan, nb - b0);
    for (int64_t i = 0; i < span; ++i) {
      const __m512 xd = _mm512_load_ps(dec[b0 + i].d), xdmin = _mm512_load_ps(dec[b0 + i].dmin);
      for (int t = 0; t < 16; ++t) {
        dd[i][t] = _mm512_mul_ps(_mm512_set1_ps(act[b0 + i].d[t]), xd);
        dm[i][t] = _mm512_mul_ps(_mm512_set1_ps(act[b0 + i].nd[t]), xdmin);
      }
    }
    for (int k = 0; k < 8; ++k) {
      __m512 acc[16];
      for (int t = 0; t < 16; ++t) acc[t] = lanes[k][t];
      for (int64_t i = 0; i < span; ++i) {
        const DecodedQ4K& w = dec[b0 + i];
        const Q8Kx16Block& y = act[b0 + i];
        __m512i q[8];
        for (int s = 0; s < 8; ++s) q[s] = _mm512_load_si512(w.q[k][s]);
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) {
          const int32_t* a = y.q[k][t];
          __m512i l = _mm512_load_si512(w.bias);
#pragma GCC unroll 4
          for (int p = 0; p < 4; ++p) {
            __m512i x = DpbusdBcast(_mm512_setzero_si512(), q[2 * p + 1], a + 2 * p + 1);
            x = _mm512_shldi_epi32(x, lo8192, 16);
            x = DpbusdBcast(x, q[2 * p], a + 2 * p);
            l = _mm512_dpwssd_epi32(l, x, _mm512_load_si512(w.sc[p]));
          }
          acc[t] = _mm512_fmadd_ps(dd[i][t], _mm512_cvtepi32_ps(l), acc[t]);
        }
      }
      for (int t = 0; t < 16; ++t) lanes[k][t] = acc[t];
    }
    for (int k = 0; k < 4; ++k) {
      __m512 acc[16];
      for (int t = 0; t < 16; ++t) acc[t] = mins[k][t];
      for (int64_t i = 0; i < span; ++i) {
        const __m512i mn = _mm512_load_si512(dec[b0 + i].mn[k]);
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) {
          const __m512i prod = DpwssdBcast(_mm512_setzero_si512(), mn, &act[b0 + i].bsum[k][t]);
          acc[t] = _mm512_fmadd_ps(dm[i][t], _mm512_cvtepi32_ps(prod), acc[t]);
        }
      }
      for (int t = 0; t < 16; ++t) mins[k][t] = acc[t];
    }
  }
  CloseRows(lanes, mins, out);
}

// With AMX-INT8 (where the OS grants it) the products go to the tile unit:
// per super-block and lane k, TDPBSUD multiplies the sixteen tokens' 32
// values of lane k (Q8Kx16Block's q[k], a 16 x 32-byte tile) by the sixteen
// rows' nibbles of the same positions, taken times the sub-block scale
// beforehand. A nibble times a 6-bit scale needs 10 bits, so the scale is
// split, sc = 16 * h + l, into two byte tiles (at most 15 * 15 and 15 * 3):
// lane k = C_l + 16 * C_h, both exact int32 tiles of token rows by weight
// columns, i.e. the reference's integer lane for sixteen rows per token
// row. The float steps are the VNNI kernel's.
//
// Timed alone, the tile loads and stores (three loads and two 16-row stores
// per lane) cost more than the TDPBSUD, and the vector steps about as much
// again; issuing super-block b + 1's tiles before b's vector work, or the
// tiles of two super-blocks before the vector work of both, was slower.
struct alignas(64) DecodedQ4KAmx {
  uint8_t wl[8][8][64];  // [k][s]: B tile of lane k, row s: row r's nibbles 4k..4k+3 times (sc_s & 15)
  uint8_t wh[8][8][64];  // the same times (sc_s >> 4)
  int32_t mn[4][16];
  float d[16], dmin[16];
};

#define LLMTK_Q4KAMX \
  __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi2,avx2,fma,f16c")))

// Bytes times f (the same in both 16-bit halves of a dword) where every
// product fits a byte: `even` and `odd` hold the even and odd bytes in the
// low halves of 16-bit words.
LLMTK_Q4KAMX inline __m512i TimesBytes(__m512i even, __m512i odd, __m512i f) {
  return _mm512_or_si512(_mm512_mullo_epi16(even, f), _mm512_slli_epi16(_mm512_mullo_epi16(odd, f), 8));
}

LLMTK_Q4KAMX void DecodeAmx(int64_t n, const void* w, size_t stride, void* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  auto* dec = static_cast<DecodedQ4KAmx*>(out);
  const __m512i lo_bytes = _mm512_set1_epi32(0x00FF00FF);
  for (int64_t b = 0; b < n / QKK; ++b) {
    DecodedQ4K tmp;
    DecodeBlock(base + b * sizeof(BlockQ4K), stride, tmp);
    DecodedQ4KAmx& o = dec[b];
    for (int s = 0; s < 8; ++s) {
      // Row r's scale in both 16-bit halves of dword r: the products (at
      // most 225) stay in the low byte of each 16-bit multiply.
      const __m512i sc = _mm512_and_si512(_mm512_srli_epi32(_mm512_load_si512(tmp.sc[s / 2]), 16 * (s % 2)),
                                          _mm512_set1_epi32(0xFFFF));
      const __m512i l = _mm512_and_si512(sc, _mm512_set1_epi32(15)), h = _mm512_srli_epi32(sc, 4);
      const __m512i l2 = _mm512_or_si512(l, _mm512_slli_epi32(l, 16)), h2 = _mm512_or_si512(h, _mm512_slli_epi32(h, 16));
      for (int k = 0; k < 8; ++k) {
        const __m512i v = _mm512_load_si512(tmp.q[k][s]);
        const __m512i even = _mm512_and_si512(v, lo_bytes), odd = _mm512_srli_epi16(v, 8);
        _mm512_store_si512(o.wl[k][s], TimesBytes(even, odd, l2));
        _mm512_store_si512(o.wh[k][s], TimesBytes(even, odd, h2));
      }
    }
    std::memcpy(o.mn, tmp.mn, sizeof(o.mn));
    std::memcpy(o.d, tmp.d, sizeof(o.d));
    std::memcpy(o.dmin, tmp.dmin, sizeof(o.dmin));
  }
}

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

LLMTK_Q4KAMX void DotAmx(int64_t n, const void* decoded, const void* packed, const void*, size_t, float* out) {
  const int64_t nb = n / QKK;
  const auto* dec = static_cast<const DecodedQ4KAmx*>(decoded);
  const auto* act = static_cast<const Q8Kx16Block*>(packed);
  // Tile 0: lane k's activations (16 tokens x 32 bytes); 1 and 2: its
  // weights times l and h (8 sub-blocks x 16 rows x 4 bytes); 3 and 4: C_l
  // and C_h (16 tokens x 16 rows).
  TileConfig cfg;
  cfg.rows[0] = 16, cfg.colsb[0] = 32;
  for (int i : {1, 2}) cfg.rows[i] = 8, cfg.colsb[i] = 64;
  for (int i : {3, 4}) cfg.rows[i] = 16, cfg.colsb[i] = 64;
  _tile_loadconfig(&cfg);
  alignas(64) int32_t cl[8][16][16], ch[8][16][16];
  __m512 lanes[8][16], mins[4][16];
  for (auto& l : lanes)
    for (auto& v : l) v = _mm512_setzero_ps();
  for (auto& l : mins)
    for (auto& v : l) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const DecodedQ4KAmx& w = dec[b];
    const Q8Kx16Block& y = act[b];
    for (int k = 0; k < 8; ++k) {
      _tile_loadd(0, y.q[k], 32);
      _tile_loadd(1, w.wl[k], 64);
      _tile_loadd(2, w.wh[k], 64);
      _tile_zero(3);
      _tile_zero(4);
      _tile_dpbsud(3, 0, 1);
      _tile_dpbsud(4, 0, 2);
      _tile_stored(3, cl[k], 64);
      _tile_stored(4, ch[k], 64);
    }
    const __m512 xd = _mm512_load_ps(w.d), xdmin = _mm512_load_ps(w.dmin);
    for (int t = 0; t < 16; ++t) {
      const __m512 d = _mm512_mul_ps(_mm512_set1_ps(y.d[t]), xd);
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const __m512i l = _mm512_add_epi32(_mm512_load_si512(cl[k][t]), _mm512_slli_epi32(_mm512_load_si512(ch[k][t]), 4));
        lanes[k][t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(l), lanes[k][t]);
      }
      const __m512 dmin = _mm512_mul_ps(_mm512_set1_ps(y.nd[t]), xdmin);
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m512i prod = DpwssdBcast(_mm512_setzero_si512(), _mm512_load_si512(w.mn[k]), &y.bsum[k][t]);
        mins[k][t] = _mm512_fmadd_ps(dmin, _mm512_cvtepi32_ps(prod), mins[k][t]);
      }
    }
  }
  _tile_release();
  CloseRows(lanes, mins, out);
}

// AMX-INT8 present and its tile data granted to this process (Linux asks
// for it once per process; without it the first tile instruction faults).
bool AmxUsable() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25))) return false;
  constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
}

}  // namespace

Q4KPromptKernels Q4KPromptVnniKernels() {
  if (!__builtin_cpu_supports("avx512vbmi2")) return {};
  return {Decode, Dot, Pack, sizeof(DecodedQ4K), sizeof(Q8Kx16Block)};
}

Q4KPromptKernels Q4KPromptAmxKernels() {
  static const bool usable = __builtin_cpu_supports("avx512vbmi2") && AmxUsable();
  if (!usable) return {};
  return {DecodeAmx, DotAmx, Pack, sizeof(DecodedQ4KAmx), sizeof(Q8Kx16Block)};
}

void AddQ4Kx16PromptVnni(KernelTable* t) {
  // LLMTK_AMX=0 keeps the VNNI kernel (comparisons, machines where tile
  // state in every context switch is unwanted).
  const char* env = std::getenv("LLMTK_AMX");
  Q4KPromptKernels k = env != nullptr && env[0] == '0' ? Q4KPromptKernels{} : Q4KPromptAmxKernels();
  if (k.dot == nullptr) k = Q4KPromptVnniKernels();
  if (k.dot == nullptr) return;
  const int q4 = static_cast<int>(GgmlType::kQ4_K);
  t->vec_dot16x16[q4] = k.dot;
  t->decode16[q4] = k.decode;
  t->decoded16_bytes[q4] = k.decoded_bytes;
  t->pack16[q4] = k.pack;
  t->packed16_bytes[q4] = k.packed_bytes;
}

}  // namespace llmtk::kernels_internal

#else

namespace llmtk::kernels_internal {
Q4KPromptKernels Q4KPromptVnniKernels() { return {}; }
Q4KPromptKernels Q4KPromptAmxKernels() { return {}; }
void AddQ4Kx16PromptVnni(KernelTable*) {}
}  // namespace llmtk::kernels_internal

#endif
