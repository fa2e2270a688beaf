// Scalar reference kernels: activation encoders, dot products, row decoders.
// These define the results; the SIMD variants must match them bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "lib/kernels/kernels.h"
#include "lib/ggml/iq_grids.h"
#include "lib/kernels/internal.h"
#include "lib/kernels/iq1.h"

namespace llmtk {

namespace kernels_internal {
namespace {

inline float H(uint16_t h) { return Fp16ToFp32(h); }

// ---- activation encoders ----

void QuantizeF32(const float* x, int64_t n, void* out) { std::memcpy(out, x, n * 4); }

void QuantizeF16(const float* x, int64_t n, void* out) {
  auto* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

void QuantizeBF16(const float* x, int64_t n, void* out) {
  auto* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(x[i]);
}

// Q8_0/Q8_1 follow ggml's x86 encoders: scale 127/amax, round half to even.
template <typename Block>
void QuantizeQ8Legacy(const float* x, int64_t n, void* out, bool with_sum) {
  auto* y = static_cast<Block*>(out);
  for (int64_t b = 0; b < n / QK; ++b, x += QK) {
    float amax = 0;
    for (int j = 0; j < QK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    int sum = 0;
    for (int j = 0; j < QK; ++j) {
      const int q = static_cast<int>(std::nearbyint(x[j] * id));
      y[b].qs[j] = static_cast<int8_t>(q);
      sum += q;
    }
    y[b].d = Fp32ToFp16(d);
    if constexpr (sizeof(Block) == sizeof(BlockQ8_1)) {
      if (with_sum) reinterpret_cast<BlockQ8_1*>(&y[b])->s = Fp32ToFp16(d * static_cast<float>(sum));
    }
  }
}

void QuantizeQ8_0(const float* x, int64_t n, void* out) { QuantizeQ8Legacy<BlockQ8_0>(x, n, out, false); }
void QuantizeQ8_1(const float* x, int64_t n, void* out) { QuantizeQ8Legacy<BlockQ8_1>(x, n, out, true); }

void QuantizeQ8K(const float* x, int64_t n, void* out) {
  auto* y = static_cast<BlockQ8K*>(out);
  for (int64_t b = 0; b < n / QKK; ++b, x += QKK) {
    float max = 0, amax = 0;
    for (int j = 0; j < QKK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.f) {
      std::memset(&y[b], 0, sizeof(BlockQ8K));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < QKK; ++j) {
      const int v = static_cast<int>(std::nearbyint(iscale * x[j]));
      y[b].qs[j] = static_cast<int8_t>(v > 127 ? 127 : v);
    }
    for (int g = 0; g < QKK / 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += y[b].qs[g * 16 + j];
      y[b].bsums[g] = static_cast<int16_t>(s);
    }
    y[b].d = 1.f / iscale;
  }
}

// ---- float dot products ----
// ggml's order on an AVX-512 CPU. A length that is a multiple of 16 goes
// through llamafile's tinyBLAS: 16 lanes (element i in lane i % 16) with fma,
// then the canonical reduction. Any other length goes through ggml_vec_dot_*:
// 64-element steps into 4 x 16 lanes, lanes folded (0+2, 1+3, then 0+1) and
// reduced; the leftover elements are added one by one, in float for F32 (see
// GgmlF32Tail) and in double for F16/BF16 (whose products are exact in float).

template <float (*Load)(const void*, int64_t), bool kDoubleTail>
float DotGgmlOrder(int64_t n, const void* w, const void* a) {
  if (n % 16 == 0) {
    float acc[16] = {};
    for (int64_t i = 0; i < n; i += 16)
      for (int l = 0; l < 16; ++l) acc[l] = std::fma(Load(w, i + l), Load(a, i + l), acc[l]);
    return ReduceCanonical16(acc);
  }
  const int64_t np = n & ~int64_t{63};
  float acc[4][16] = {};
  for (int64_t i = 0; i < np; i += 64)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 16; ++l)
        acc[j][l] = std::fma(Load(w, i + 16 * j + l), Load(a, i + 16 * j + l), acc[j][l]);
  float folded[16];
  for (int l = 0; l < 16; ++l) folded[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
  const float head = ReduceCanonical16(folded);
  if constexpr (kDoubleTail) {
    double s = head;
    for (int64_t i = np; i < n; ++i) s += static_cast<double>(Load(w, i) * Load(a, i));
    return static_cast<float>(s);
  } else {
    return GgmlF32Tail(head, np, n, [&](int64_t i) { return std::pair(Load(w, i), Load(a, i)); });
  }
}
// BF16 as llama.cpp computes it on AVX512-BF16 CPUs: VDPBF16PS adds, per
// 16 lanes, the odd then the even product of each element pair (fp32,
// round to nearest). Lengths that are a multiple of 32 go through tinyBLAS
// (one accumulator, canonical reduction); others through ggml_vec_dot_bf16
// (two accumulators over 64-element steps, each reduced into a double, the
// rest added in double).
inline void DpBf16(float acc[16], const uint16_t* x, const uint16_t* y) {
  for (int j = 0; j < 16; ++j) {
    acc[j] = std::fma(Bf16ToFp32(x[2 * j + 1]), Bf16ToFp32(y[2 * j + 1]), acc[j]);
    acc[j] = std::fma(Bf16ToFp32(x[2 * j]), Bf16ToFp32(y[2 * j]), acc[j]);
  }
}

float DotBF16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  if (n % 32 == 0) {
    float acc[16] = {};
    for (int64_t i = 0; i < n; i += 32) DpBf16(acc, x + i, y + i);
    return ReduceCanonical16(acc);
  }
  float c1[16] = {}, c2[16] = {};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    DpBf16(c1, x + i, y + i);
    DpBf16(c2, x + i + 32, y + i + 32);
  }
  double s = static_cast<double>(ReduceCanonical16(c1));
  s += static_cast<double>(ReduceCanonical16(c2));
  for (; i < n; ++i) s += static_cast<double>(Bf16ToFp32(x[i]) * Bf16ToFp32(y[i]));
  return static_cast<float>(s);
}

float LoadF32(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
float LoadF16(const void* p, int64_t i) { return H(static_cast<const uint16_t*>(p)[i]); }

// ---- quantized dot products ----
// The order of ggml's x86 (AVX2) kernels, which llama.cpp's CPU backend runs:
// each block's integer products are summed into 8 lanes, lane k holding the
// elements whose offset within their 32-element group is 4k..4k+3; each lane
// is scaled and accumulated in float with fma; the 8 lanes are reduced at the
// end (Hsum8). Q4_0 follows the repacked Q4_0 kernel instead: one integer sum
// per block.

inline float Hsum8(const float a[8]) {
  float r4[4];
  for (int l = 0; l < 4; ++l) r4[l] = a[l + 4] + a[l];
  const float r0 = r4[0] + r4[2], r1 = r4[1] + r4[3];
  return r0 + r1;
}

// Lane sums of scale[e] * v[e] * q8[e] over `n` elements.
inline void LaneSums(const int* v, const int* scale, const int8_t* q8, int n, int lanes[8]) {
  for (int k = 0; k < 8; ++k) lanes[k] = 0;
  for (int e = 0; e < n; ++e) lanes[(e % 32) / 4] += scale[e] * v[e] * q8[e];
}

template <typename Block, typename Act, int (*Value)(const Block&, int), bool kMin>
float DotLegacyLanes(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const Act*>(a);
  static const int kOnes[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  float acc[8] = {};
  float summs = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int v[QK], lanes[8];
    for (int j = 0; j < QK; ++j) v[j] = Value(x[b], j);
    LaneSums(v, kOnes, y[b].qs, QK, lanes);
    const float d = H(x[b].d) * H(y[b].d);
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
    if constexpr (kMin) summs = std::fma(H(x[b].m), H(y[b].s), summs);
  }
  return Hsum8(acc) + summs;
}

inline int Q5Value(const uint8_t* qs, const uint8_t* qh4, int j) {
  uint32_t qh;
  std::memcpy(&qh, qh4, 4);
  const int lo = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
  return lo | static_cast<int>((qh >> j) & 1) << 4;
}

inline int Nibble(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4); }
int ValQ8_0(const BlockQ8_0& b, int j) { return b.qs[j]; }
int ValQ4_1(const BlockQ4_1& b, int j) { return Nibble(b.qs, j); }
int ValQ5_0(const BlockQ5_0& b, int j) { return Q5Value(b.qs, b.qh, j) - 16; }
int ValQ5_1(const BlockQ5_1& b, int j) { return Q5Value(b.qs, b.qh, j); }

float DotQ4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK / 2; ++j) {
      sumi += ((x[b].qs[j] & 0xF) - 8) * y[b].qs[j];
      sumi += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + QK / 2];
    }
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
  }
  return s;
}

float DotIQ4NL(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK; ++j) sumi += kIQ4NLValues[Nibble(x[b].qs, j)] * y[b].qs[j];
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
  }
  return s;
}

// K-quant super-blocks unpacked to per-element values and scales.
void UnpackQ2K(const BlockQ2K& x, int v[QKK], int sc[QKK]) {
  for (int e = 0; e < QKK; ++e) {
    const int half = e / 128, shift = 2 * ((e % 128) / 32), l = e % 32;
    v[e] = (x.qs[32 * half + l] >> shift) & 3;
    sc[e] = x.scales[half * 8 + shift + l / 16] & 0xF;
  }
}
void UnpackQ3K(const BlockQ3K& x, int v[QKK], int sc[QKK]) {
  int8_t scales[16];
  UnpackQ3KScales(x.scales, scales);
  for (int e = 0; e < QKK; ++e) {
    const int half = e / 128, pass = e / 32, shift = 2 * (pass % 4), l = e % 32;
    v[e] = ((x.qs[32 * half + l] >> shift) & 3) - (((x.hmask[l] >> pass) & 1) ? 0 : 4);
    sc[e] = scales[2 * pass + l / 16];
  }
}
void UnpackQ45K(const uint8_t* scales, const uint8_t* qs, const uint8_t* qh, int v[QKK], int sc[QKK]) {
  for (int e = 0; e < QKK; ++e) {
    const int sub = e / 32, l = e % 32;
    const uint8_t byte = qs[32 * (sub / 2) + l];
    v[e] = (sub & 1) ? (byte >> 4) : (byte & 0xF);
    if (qh != nullptr) v[e] |= ((qh[l] >> sub) & 1) << 4;
    uint8_t s, m;
    ScaleMinK4(sub, scales, &s, &m);
    sc[e] = s;
  }
}
void UnpackQ6K(const BlockQ6K& x, int v[QKK], int sc[QKK]) {
  for (int e = 0; e < QKK; ++e) {
    const int half = e / 128, quarter = (e % 128) / 32, l = e % 32;
    const uint8_t lo = x.ql[64 * half + l + ((quarter & 1) ? 32 : 0)];
    const int low4 = quarter < 2 ? (lo & 0xF) : (lo >> 4);
    v[e] = (low4 | ((x.qh[32 * half + l] >> (2 * quarter)) & 3) << 4) - 32;
    sc[e] = x.scales[8 * half + 2 * quarter + l / 16];
  }
}

float DotQ2K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    const float d = y[b].d * H(x[b].d);
    const float dmin = -y[b].d * H(x[b].dmin);
    for (int k = 0; k < 8; ++k) {
      const int prod = (x[b].scales[2 * k] >> 4) * y[b].bsums[2 * k] + (x[b].scales[2 * k + 1] >> 4) * y[b].bsums[2 * k + 1];
      acc[k] = std::fma(dmin, static_cast<float>(prod), acc[k]);
    }
    int v[QKK], sc[QKK], lanes[8];
    UnpackQ2K(x[b], v, sc);
    LaneSums(v, sc, y[b].qs, QKK, lanes);
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return Hsum8(acc);
}

float DotQ3K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    const float d = y[b].d * H(x[b].d);
    int v[QKK], sc[QKK], lanes[8];
    UnpackQ3K(x[b], v, sc);
    LaneSums(v, sc, y[b].qs, QKK, lanes);
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return Hsum8(acc);
}

// Sum over the 8 sub-blocks of min * (sum of its 32 activations), split into
// ggml's 4 lanes (2 sub-blocks each).
inline void MinLanes(const uint8_t* scales, const int16_t* bsums, int out[4]) {
  for (int k = 0; k < 4; ++k) {
    uint8_t s0, m0, s1, m1;
    ScaleMinK4(2 * k, scales, &s0, &m0);
    ScaleMinK4(2 * k + 1, scales, &s1, &m1);
    out[k] = m0 * (bsums[4 * k] + bsums[4 * k + 1]) + m1 * (bsums[4 * k + 2] + bsums[4 * k + 3]);
  }
}

float DotQ4K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float acc[8] = {}, acc_m[4] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    const float d = y[b].d * H(x[b].d);
    const float dmin = -y[b].d * H(x[b].dmin);
    int mins[4];
    MinLanes(x[b].scales, y[b].bsums, mins);
    for (int k = 0; k < 4; ++k) acc_m[k] = std::fma(dmin, static_cast<float>(mins[k]), acc_m[k]);
    int v[QKK], sc[QKK], lanes[8];
    UnpackQ45K(x[b].scales, x[b].qs, nullptr, v, sc);
    LaneSums(v, sc, y[b].qs, QKK, lanes);
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  const float m0 = acc_m[0] + acc_m[2], m1 = acc_m[1] + acc_m[3];
  return Hsum8(acc) + (m0 + m1);
}

float DotQ5K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float acc[8] = {};
  float summs = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    const float d = y[b].d * H(x[b].d);
    const float dmin = -y[b].d * H(x[b].dmin);
    int mins[4];
    MinLanes(x[b].scales, y[b].bsums, mins);
    summs = std::fma(dmin, static_cast<float>(mins[0] + mins[1] + mins[2] + mins[3]), summs);
    int v[QKK], sc[QKK], lanes[8];
    UnpackQ45K(x[b].scales, x[b].qs, x[b].qh, v, sc);
    LaneSums(v, sc, y[b].qs, QKK, lanes);
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return Hsum8(acc) + summs;
}

float DotQ6K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    const float d = y[b].d * H(x[b].d);
    int v[QKK], sc[QKK], lanes[8];
    UnpackQ6K(x[b], v, sc);
    LaneSums(v, sc, y[b].qs, QKK, lanes);
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return Hsum8(acc);
}

// ggml's AVX2 IQ4_XS kernel (also what its AVX-512 builds run): per
// super-block 8 int32 lanes, lane k summing elements 4k..4k+3 of every
// 32-block times the block's scale, then one FMA per lane. Its products go
// through _mm256_sign_epi8, which would turn a Q8_K value of -128 facing a
// negative weight into -128 again (not +128); ggml's Q8_K stays within
// +-127, but the wrap is kept so any bytes give the SIMD kernel's result.
float DotIQ4XS(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    int lanes[8] = {};
    for (int ib = 0; ib < QKK / 32; ++ib) {
      const int ls = (((x[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x[b].scales_h >> 2 * ib) & 3) << 4)) - 32;
      const uint8_t* qs = x[b].qs + 16 * ib;
      const int8_t* q8 = y[b].qs + 32 * ib;
      for (int e = 0; e < 32; ++e) {
        const int v = kIQ4NLValues[e < 16 ? qs[e] & 0xf : qs[e - 16] >> 4];
        const int q = v < 0 ? static_cast<int8_t>(-q8[e]) : q8[e];
        lanes[e / 4] += ls * ((v < 0 ? -v : v) * q);
      }
    }
    const float d = H(x[b].d) * y[b].d;
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return Hsum8(acc);
}

// ggml's AVX2 IQ2_XXS kernel (its AVX-512 builds run it too): per
// super-block 8 int32 lanes, lane k summing elements 4k..4k+3 of every
// 32-block (grid byte times the signed Q8_K value) times 2*scale+1, one FMA
// per lane, and 1/8 of the sum at the end.
float DotIQ2XXS(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ2_XXS*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ2XXSGrid();
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    int lanes[8] = {};
    for (int ib = 0; ib < QKK / 32; ++ib) {
      uint32_t aux32[2];
      std::memcpy(aux32, x[b].qs + 4 * ib, sizeof(aux32));
      const int ls = 2 * static_cast<int>(aux32[1] >> 28) + 1;
      const int8_t* q8 = y[b].qs + 32 * ib;
      for (int e = 0; e < 32; ++e) {
        const int g = static_cast<int>((grid[(aux32[0] >> 8 * (e / 8)) & 0xff] >> 8 * (e % 8)) & 0xff);
        const bool neg = (IQ2Signs((aux32[1] >> 7 * (e / 8)) & 127) >> (e % 8)) & 1;
        const int q = neg ? static_cast<int8_t>(-q8[e]) : q8[e];
        lanes[e / 4] += ls * (g * q);
      }
    }
    const float d = H(x[b].d) * y[b].d;
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return 0.125f * Hsum8(acc);
}

// ggml's AVX2 IQ3_XXS kernel: as IQ2_XXS with 4-byte grid points, the
// scale and signs in the uint32 after the grid indices, and 1/4 at the end.
float DotIQ3XXS(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ3_XXS*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint32_t* grid = IQ3XXSGrid();
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    int lanes[8] = {};
    for (int ib = 0; ib < QKK / 32; ++ib) {
      uint32_t sas;
      std::memcpy(&sas, x[b].qs + QKK / 4 + 4 * ib, sizeof(sas));
      const int ls = 2 * static_cast<int>(sas >> 28) + 1;
      const uint8_t* q3 = x[b].qs + 8 * ib;
      const int8_t* q8 = y[b].qs + 32 * ib;
      for (int e = 0; e < 32; ++e) {
        const int g = static_cast<int>((grid[q3[e / 4]] >> 8 * (e % 4)) & 0xff);
        const bool neg = (IQ2Signs((sas >> 7 * (e / 8)) & 127) >> (e % 8)) & 1;
        const int q = neg ? static_cast<int8_t>(-q8[e]) : q8[e];
        lanes[e / 4] += ls * (g * q);
      }
    }
    const float d = H(x[b].d) * y[b].d;
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return 0.25f * Hsum8(acc);
}

void AxpyF32(float w, const void* row, float* lane, int64_t n) {
  const auto* v = static_cast<const float*>(row);
  for (int64_t i = 0; i < n; ++i) lane[i] = std::fma(w, v[i], lane[i]);
}

void AxpyF16(float w, const void* row, float* lane, int64_t n) {
  const auto* v = static_cast<const uint16_t*>(row);
  for (int64_t i = 0; i < n; ++i) lane[i] = std::fma(w, H(v[i]), lane[i]);
}

void ReduceLanes16Scalar(const float* lanes, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    float acc[16];
    for (int k = 0; k < 16; ++k) acc[k] = lanes[k * n + i];
    out[i] = ReduceCanonical16(acc);
  }
}

template <AxpyFn kAxpy>
void AccumulateScalar(const float* w, const void* rows, size_t stride, int64_t count, float* lanes, int64_t n) {
  const auto* r = static_cast<const uint8_t*>(rows);
  for (int64_t p = 0; p < count; ++p) kAxpy(w[p], r + p * stride, lanes + (p % 16) * n, n);
}

float ScaleMaxScalar(float* s, int64_t n, float scale) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    s[i] *= scale;
    mx = std::max(mx, s[i]);
  }
  return mx;
}

void ScaleRoundScalar(float* s, int64_t n, float inv, bool f16) {
  for (int64_t i = 0; i < n; ++i) {
    s[i] *= inv;
    if (f16) s[i] = Fp16ToFp32(Fp32ToFp16(s[i]));
  }
}

double SoftmaxExpScalar(float* s, int64_t n, float mx) {
  double sum = 0;
  for (int64_t p0 = 0; p0 < n; p0 += 16) {
    float grp[16] = {};
    for (int64_t p = p0; p < std::min(p0 + 16, n); ++p) grp[p - p0] = s[p] = GgmlExpf(s[p] - mx);
    sum += static_cast<double>(ReduceCanonical16(grp));
  }
  return sum;
}

void SwiGluScalar(float* gate, const float* up, int64_t n) {
  const int64_t vec_end = n - n % 16;
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    const float e = i < vec_end ? GgmlExpf(0.0f - x) : std::exp(-x);
    gate[i] = (x / (1.0f + e)) * up[i];
  }
}

KernelTable MakeScalarTable() {
  KernelTable t;
  auto set = [&](DType w, VecDotFn f) { t.vec_dot[static_cast<int>(w)] = f; };
  set(DType::kF32, DotGgmlOrder<LoadF32, false>);
  set(DType::kF16, DotGgmlOrder<LoadF16, true>);
  set(DType::kBF16, DotBF16);
  set(DType::kQ8_0, DotLegacyLanes<BlockQ8_0, BlockQ8_0, ValQ8_0, false>);
  set(DType::kQ4_0, DotQ4_0);
  set(DType::kQ4_1, DotLegacyLanes<BlockQ4_1, BlockQ8_1, ValQ4_1, true>);
  set(DType::kQ5_0, DotLegacyLanes<BlockQ5_0, BlockQ8_0, ValQ5_0, false>);
  set(DType::kQ5_1, DotLegacyLanes<BlockQ5_1, BlockQ8_1, ValQ5_1, true>);
  set(DType::kIQ4_NL, DotIQ4NL);
  set(DType::kIQ4_XS, DotIQ4XS);
  set(DType::kIQ2_XXS, DotIQ2XXS);
  set(DType::kIQ3_XXS, DotIQ3XXS);
  set(DType::kIQ2_XS, DotIQ2XSScalar);
  set(DType::kIQ2_S, DotIQ2SScalar);
  set(DType::kIQ1_S, DotIQ1SScalar);
  set(DType::kIQ1_M, DotIQ1MScalar);
  set(DType::kIQ3_S, DotIQ3SScalar);
  set(DType::kQ2_K, DotQ2K);
  set(DType::kQ3_K, DotQ3K);
  set(DType::kQ4_K, DotQ4K);
  set(DType::kQ5_K, DotQ5K);
  set(DType::kQ6_K, DotQ6K);
  auto q = [&](DType a, QuantizeFn f) { t.quantize[static_cast<int>(a)] = f; };
  q(DType::kF32, QuantizeF32);
  q(DType::kF16, QuantizeF16);
  q(DType::kBF16, QuantizeBF16);
  q(DType::kQ8_0, QuantizeQ8_0);
  q(DType::kQ8_1, QuantizeQ8_1);
  q(DType::kQ8_K, QuantizeQ8K);
  t.axpy[static_cast<int>(DType::kF32)] = AxpyF32;
  t.axpy[static_cast<int>(DType::kF16)] = AxpyF16;
  t.accumulate[static_cast<int>(DType::kF32)] = AccumulateScalar<AxpyF32>;
  t.accumulate[static_cast<int>(DType::kF16)] = AccumulateScalar<AxpyF16>;
  t.scale_max = ScaleMaxScalar;
  t.scale_round = ScaleRoundScalar;
  t.reduce_lanes16 = ReduceLanes16Scalar;
  t.softmax_exp = SoftmaxExpScalar;
  t.swiglu = SwiGluScalar;
  return t;
}

}  // namespace

float GgmlExpf(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  if (std::fabs(n) > 192) return n <= 0 ? 0.f : INFINITY;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, std::fma(0x1.ffffecp-1f, b, 1.0f));
  return std::ldexp(j, static_cast<int>(n));
}

float ReduceCanonical16(const float acc[16]) {
  float r8[8], r4[4];
  for (int l = 0; l < 8; ++l) r8[l] = acc[l] + acc[l + 8];
  for (int l = 0; l < 4; ++l) r4[l] = r8[l] + r8[l + 4];
  const float r0 = r4[0] + r4[2], r1 = r4[1] + r4[3];
  return r0 + r1;
}

const KernelTable& ScalarTable() {
  static const KernelTable table = MakeScalarTable();
  return table;
}

}  // namespace kernels_internal

}  // namespace llmtk
