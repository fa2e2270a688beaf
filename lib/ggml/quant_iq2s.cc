// IQ2_XS (2.31 bits per weight) and IQ2_S (2.56): each group of 8 values is
// a point of a 512- or 1024-point grid (iq2s_format.h) with its signs, each
// half-block of 16 has a 4-bit scale. IQ2_XS stores 7 signs (the 8th makes
// the count of negatives even) beside a 9-bit index; IQ2_S a whole sign byte
// and a 10-bit index. ggml-quants.c's quantize_row_iq2_xs_impl (importance
// weights required) and quantize_row_iq2_s_impl (weights optional), and
// their dequantize_row_*, in ggml's operation order, no FMA contraction.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lib/ggml/iq2s_format.h"
#include "lib/ggml/iq_grids.h"
#include "lib/ggml/iq_search.h"
#include "lib/ggml/quant.h"
#include "lib/ggml/quant_k.h"

namespace llmtk::quant_kernels {
namespace {

constexpr int kMaxQ = 3;

// iq2xs_init_impl's tables: patterns up to 0b1010...10 (levels 0..2); an
// off-grid IQ2_S pattern lists only the points at the nearest distance.
using Iq2XsSearch = IqGridSearch<uint64_t, 8, 2, kIQ2XSGridSize, 43692>;
using Iq2SSearch = IqGridSearch<uint64_t, 8, 2, kIQ2SGridSize, 43692, 1>;

const Iq2XsSearch& XsSearch() {
  static const Iq2XsSearch s(kIQ2XSGridCodes);
  return s;
}

const Iq2SSearch& SSearch() {
  static const Iq2SSearch s(kIQ2SGridCodes);
  return s;
}

// The map key of levels L[0..7].
uint16_t Pattern(const int8_t* L) {
  uint16_t u = 0;
  for (int i = 0; i < 8; ++i) u = static_cast<uint16_t>(u | (L[i] << 2 * i));
  return u;
}

// Levels of 8 values at inverse scale id, clamped to the grid's 0..2.
void Levels(const float* xval, float id, int8_t* L) {
  for (int i = 0; i < 8; ++i) {
    const int l = NearestInt(0.5f * (id * xval[i] - 1));
    L[i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
  }
}

// Puts L (8 levels) on the grid: unchanged when it is a point, else the
// best listed neighbour at `scale`. Returns whether it was on the grid.
template <typename Search>
bool OnGrid(const Search& s, const float* xval, const float* waux, float scale, int8_t* L) {
  const int u = Pattern(L);
  if (s.map[u] >= 0) return true;
  s.BestNeighbour(u, xval, waux, scale, L);
  return false;
}

// The scale search both types share for one half-block of 16 magnitudes
// (xval, max its largest): 19 trial scales around max/5, the best by
// weighted fit, then the off-grid groups requantized at that scale. Leaves
// the levels in L, which keeps its old contents when no trial fits (as
// ggml's does).
template <typename Search>
float FitHalfBlock(const Search& s, const float* xval, const float* weight, const float* waux, float max, int8_t* L) {
  int8_t Laux[16];
  bool on_grid[2] = {true, true}, on_grid_aux[2];
  float best = 0;
  float scale = max / (2 * kMaxQ - 1);
  for (int is = -9; is <= 9; ++is) {
    const float id = (2 * kMaxQ - 1 + is * 0.1f) / max;
    const float this_scale = 1 / id;
    for (int k = 0; k < 2; ++k) {
      Levels(xval + 8 * k, id, Laux + 8 * k);
      on_grid_aux[k] = OnGrid(s, xval + 8 * k, waux + 8 * k, this_scale, Laux + 8 * k);
    }
    float sumqx = 0, sumq2 = 0;
    for (int i = 0; i < 16; ++i) {
      const float w = weight[i];
      const float q = 2 * Laux[i] + 1;
      sumqx += w * xval[i] * q;
      sumq2 += w * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      scale = sumqx / sumq2;
      best = scale * sumqx;
      std::memcpy(L, Laux, 16);
      on_grid[0] = on_grid_aux[0];
      on_grid[1] = on_grid_aux[1];
    }
  }
  if ((!on_grid[0] || !on_grid[1]) && scale > 0) {
    const float id = 1 / scale;
    for (int k = 0; k < 2; ++k) {
      if (on_grid[k]) continue;
      Levels(xval + 8 * k, id, L + 8 * k);
      OnGrid(s, xval + 8 * k, waux + 8 * k, scale, L + 8 * k);
    }
    float sumqx = 0, sumq2 = 0;
    for (int i = 0; i < 16; ++i) {
      const float w = weight[i];
      const float q = 2 * L[i] + 1;
      sumqx += w * xval[i] * q;
      sumq2 += w * q * q;
    }
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  return scale;
}

// The block's fp16 scale d = max_scale/31 and each half-block's 4-bit
// multiple of it.
void PackScales(const float* scales, float max_scale, uint8_t* out) {
  const float d = max_scale / 31;
  const float id = 1 / d;
  for (int ib = 0; ib < kQK_K / 16; ++ib) {
    const int l = std::max(0, std::min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
    if (ib % 2 == 0) {
      out[ib / 2] = static_cast<uint8_t>(l);
    } else {
      out[ib / 2] = static_cast<uint8_t>(out[ib / 2] | (l << 4));
    }
  }
}

}  // namespace

void QuantizeIQ2_XS(const float* x, BlockIQ2_XS* y, int64_t n, const float* quant_weights) {
  const Iq2XsSearch& s = XsSearch();
  float scales[kQK_K / 16], weight[16], xval[16], waux[16];
  int8_t L[16] = {};
  uint8_t block_signs[2];
  uint16_t q2[kQK_K / 8];
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    y[ibl].d = Fp32ToFp16(0.f);
    std::memset(q2, 0, sizeof(q2));
    std::memset(y[ibl].scales, 0, sizeof(y[ibl].scales));
    float max_scale = 0;
    const float* xbl = x + kQK_K * ibl;
    float sumx2 = 0;
    for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
    const float sigma2 = sumx2 / kQK_K;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float* xb = xbl + 16 * ib;
      const float* qw = quant_weights + kQK_K * ibl + 16 * ib;
      for (int i = 0; i < 16; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      for (int i = 0; i < 16; ++i) waux[i] = std::sqrt(weight[i]);
      for (int k = 0; k < 2; ++k) {
        block_signs[k] = EvenSignMagnitudes(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      }
      float max = xval[0];
      for (int i = 1; i < 16; ++i) max = std::max(max, xval[i]);
      if (max < 1e-15f) {
        scales[ib] = 0;
        std::memset(L, 0, 16);
        continue;
      }
      float scale = FitHalfBlock(s, xval, weight, waux, max, L);
      if (scale < 0) {
        // ggml: "should never happen"; the scale is stored unsigned.
        scale = -scale;
        for (int k = 0; k < 2; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
      }
      for (int k = 0; k < 2; ++k) {
        // Every L here came from a grid point (ggml aborts otherwise).
        const int grid_index = s.map[Pattern(L + 8 * k)];
        q2[2 * ib + k] = static_cast<uint16_t>(grid_index | (block_signs[k] << 9));
      }
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    if (!max_scale) {
      std::memset(y[ibl].qs, 0, sizeof(y[ibl].qs));
      continue;
    }
    y[ibl].d = Fp32ToFp16(max_scale / 31);
    PackScales(scales, max_scale, y[ibl].scales);
    std::memcpy(y[ibl].qs, q2, sizeof(q2));
  }
}

void QuantizeIQ2_S(const float* x, BlockIQ2_S* y, int64_t n, const float* quant_weights) {
  const Iq2SSearch& s = SSearch();
  float scales[kQK_K / 16], weight[16], xval[16], waux[16];
  int8_t L[16] = {};
  uint8_t block_signs[2];
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    BlockIQ2_S& b = y[ibl];
    std::memset(&b, 0, sizeof(b));
    b.d = Fp32ToFp16(0.f);
    float max_scale = 0;
    const float* xbl = x + kQK_K * ibl;
    float sumx2 = 0;
    for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
    const float sigma2 = 2 * sumx2 / kQK_K;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float* xb = xbl + 16 * ib;
      if (quant_weights) {
        const float* qw = quant_weights + kQK_K * ibl + 16 * ib;
        for (int i = 0; i < 16; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      } else {
        for (int i = 0; i < 16; ++i) weight[i] = 0.25f * sigma2 + xb[i] * xb[i];
      }
      for (int i = 0; i < 16; ++i) waux[i] = std::sqrt(weight[i]);
      for (int k = 0; k < 2; ++k) {
        uint8_t sg = 0;
        for (int i = 0; i < 8; ++i) {
          if (xb[8 * k + i] >= 0) {
            xval[8 * k + i] = xb[8 * k + i];
          } else {
            xval[8 * k + i] = -xb[8 * k + i];
            sg = static_cast<uint8_t>(sg | (1 << i));
          }
        }
        block_signs[k] = sg;
      }
      float max = xval[0];
      for (int i = 1; i < 16; ++i) max = std::max(max, xval[i]);
      if (max < 1e-8f) {
        scales[ib] = 0;
        continue;
      }
      float scale = FitHalfBlock(s, xval, weight, waux, max, L);
      if (scale < 0) {
        scale = -scale;
        for (int k = 0; k < 2; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k]);
      }
      for (int k = 0; k < 2; ++k) {
        const int grid_index = s.map[Pattern(L + 8 * k)];
        const int i8 = 2 * ib + k;
        b.qs[i8] = static_cast<uint8_t>(grid_index & 255);
        b.qh[i8 / 4] = static_cast<uint8_t>(b.qh[i8 / 4] | ((grid_index >> 8) << 2 * (i8 % 4)));
        b.qs[kQK_K / 8 + i8] = block_signs[k];
      }
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    if (!max_scale) continue;
    // ggml stores d a little smaller than the scales were fitted to.
    b.d = Fp32ToFp16(max_scale / 31 * 0.9875f);
    PackScales(scales, max_scale, b.scales);
  }
}

void DequantizeIQ2_XS(const BlockIQ2_XS* x, float* y, int64_t k) {
  const uint64_t* grid = IQ2XSGrid();
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const float db[2] = {d * (0.5f + (x[i].scales[ib32] & 0xf)) * 0.25f, d * (0.5f + (x[i].scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const uint16_t q = x[i].qs[4 * ib32 + l];
        const uint64_t g = grid[q & 511];
        const uint8_t signs = IQ2Signs(q >> 9);
        for (int j = 0; j < 8; ++j) {
          y[j] = db[l / 2] * static_cast<float>((g >> 8 * j) & 0xff) * ((signs >> j) & 1 ? -1.f : 1.f);
        }
        y += 8;
      }
    }
  }
}

void DequantizeIQ2_S(const BlockIQ2_S* x, float* y, int64_t k) {
  const uint64_t* grid = IQ2SGrid();
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* signs = x[i].qs + kQK_K / 8;
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const float db[2] = {d * (0.5f + (x[i].scales[ib32] & 0xf)) * 0.25f, d * (0.5f + (x[i].scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const uint64_t g = grid[qs[l] | ((x[i].qh[ib32] << (8 - 2 * l)) & 0x300)];
        for (int j = 0; j < 8; ++j) {
          y[j] = db[l / 2] * static_cast<float>((g >> 8 * j) & 0xff) * ((signs[l] >> j) & 1 ? -1.f : 1.f);
        }
        y += 8;
      }
      qs += 4;
      signs += 4;
    }
  }
}

}  // namespace llmtk::quant_kernels
