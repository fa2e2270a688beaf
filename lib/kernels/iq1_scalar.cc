// Scalar references of the IQ1_S / IQ1_M dot products (see iq1.h).
#include <cmath>
#include <cstring>

#include "lib/ggml/iq1_grid.h"
#include "lib/kernels/internal.h"
#include "lib/kernels/iq1.h"

namespace llmtk::kernels_internal {
namespace {

constexpr int kQK = kQK_K;

// ggml's hsum_float_8: halves added, then pairs, then the last two.
float Hsum8(const float a[8]) {
  float r4[4];
  for (int l = 0; l < 4; ++l) r4[l] = a[l + 4] + a[l];
  return (r4[0] + r4[2]) + (r4[1] + r4[3]);
}

inline int GridValue(uint64_t g, int e) { return static_cast<int8_t>(g >> 8 * e); }

}  // namespace

// Per block: the grid values' lane sums times each 32's odd scale, and in
// one integer the shift: the Q8_K 16-sums of each 32, signed, times its scale.
float DotIQ1SScalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_S*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ1SGrid();
  float acc[8] = {};
  float acc_shift = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int lanes[8] = {};
    int shift = 0;
    for (int ib = 0; ib < kQK / 32; ++ib) {
      const uint16_t qh = x[b].qh[ib];
      const int ls = 2 * ((qh >> 12) & 7) + 1;
      const int8_t* q8 = y[b].qs + 32 * ib;
      for (int e = 0; e < 32; ++e) {
        const uint64_t g = grid[x[b].qs[4 * ib + e / 8] | (((qh >> 3 * (e / 8)) & 7) << 8)];
        lanes[e / 4] += ls * (GridValue(g, e % 8) * q8[e]);
      }
      shift += (y[b].bsums[2 * ib] + y[b].bsums[2 * ib + 1]) * (qh & 0x8000 ? -1 : 1) * ls;
    }
    const float d = y[b].d * Fp16ToFp32(x[b].d);
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
    acc_shift = std::fma(d, static_cast<float>(shift), acc_shift);
  }
  return Hsum8(acc) + kIQ1Delta * acc_shift;
}

// As IQ1_S with a scale per 16 values and a shift sign per 8; the shift's
// lane sums (the Q8_K values, signed, times the scale) get their own 8 lanes.
float DotIQ1MScalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_M*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint64_t* grid = IQ1SGrid();
  float acc[8] = {}, acc_shift[8] = {};
  for (int64_t b = 0; b < n / kQK; ++b) {
    uint16_t sc[4];
    std::memcpy(sc, x[b].scales, sizeof(sc));
    int lanes[8] = {}, shift[8] = {};
    for (int ib = 0; ib < kQK / 32; ++ib) {
      const int8_t* q8 = y[b].qs + 32 * ib;
      for (int e = 0; e < 32; ++e) {
        const int l = e / 8;
        const int nibble = (x[b].qh[2 * ib + l / 2] >> 4 * (l % 2)) & 0xf;
        const uint64_t g = grid[x[b].qs[4 * ib + l] | ((nibble & 7) << 8)];
        const int ls = 2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3 * (e / 16))) & 7) + 1;
        lanes[e / 4] += ls * (GridValue(g, e % 8) * q8[e]);
        shift[e / 4] += ls * (nibble & 8 ? -q8[e] : q8[e]);
      }
    }
    const float d = y[b].d * Fp16ToFp32(IQ1MScale(x[b]));
    for (int k = 0; k < 8; ++k) {
      acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
      acc_shift[k] = std::fma(d, static_cast<float>(shift[k]), acc_shift[k]);
    }
  }
  return Hsum8(acc) + kIQ1Delta * Hsum8(acc_shift);
}

}  // namespace llmtk::kernels_internal
