// IQ2_XXS: 2.06 bits per weight. Each group of 8 values is a point of a
// 256-point grid (iq2_grid.h) with 7 stored signs (the 8th makes the sign
// count even); each block of 32 has a 4-bit scale. ggml-quants.c's
// quantize_row_iq2_xxs_impl (importance weights required) and
// dequantize_row_iq2_xxs, in ggml's operation order, no FMA contraction.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lib/ggml/iq_grids.h"
#include "lib/ggml/iq_search.h"
#include "lib/ggml/quant.h"
#include "lib/ggml/quant_k.h"

namespace llmtk::quant_kernels {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// ggml's iq2xs_init_impl(256) tables: patterns up to 0b1010...10 (levels 0..2).
using Iq2Search = IqGridSearch<uint64_t, 8, 2, kIQ2XXSGridSize, 43692>;

const Iq2Search& Search() {
  static const Iq2Search s(kIQ2XXSGridCodes);
  return s;
}

inline int8_t GridValue(uint64_t g, int i) { return static_cast<int8_t>(Iq2Search::Value(g, i)); }

// The grid index of levels L[0..7], or (off the grid) the best neighbour's,
// which then replaces L.
int GridIndex(const Iq2Search& s, const float* xval, const float* waux, float scale, int8_t* L) {
  uint16_t u = 0;
  for (int i = 0; i < 8; ++i) u = static_cast<uint16_t>(u | (L[i] << 2 * i));
  const int grid_index = s.map[u];
  if (grid_index >= 0) return grid_index;
  return s.BestNeighbour(u, xval, waux, scale, L);
}

}  // namespace

void QuantizeIQ2_XXS(const float* x, BlockIQ2_XXS* y, int64_t n, const float* quant_weights) {
  const Iq2Search& s = Search();
  constexpr int kMaxQ = 3;
  float scales[kQK_K / 32], weight[32], xval[32], waux[32];
  int8_t L[32], Laux[32];
  uint8_t block_signs[4];
  uint32_t q2[2 * (kQK_K / 32)];
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    y[ibl].d = Fp32ToFp16(0.f);
    std::memset(q2, 0, kQK_K / 4);
    float max_scale = 0;
    const float* xbl = x + kQK_K * ibl;
    float sumx2 = 0;
    for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
    const float sigma2 = sumx2 / kQK_K;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const float* xb = xbl + 32 * ib;
      const float* qw = quant_weights + kQK_K * ibl + 32 * ib;
      for (int i = 0; i < 32; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      for (int i = 0; i < 32; ++i) waux[i] = std::sqrt(weight[i]);
      for (int k = 0; k < 4; ++k) {
        block_signs[k] = EvenSignMagnitudes(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      }
      float max = xval[0];
      for (int i = 1; i < 32; ++i) max = std::max(max, xval[i]);
      if (max < kGroupMaxEps) {
        scales[ib] = 0;
        std::memset(L, 0, 32);
        continue;
      }
      float scale = MakeQpQuants(32, kMaxQ + 1, xval, reinterpret_cast<uint8_t*>(L), weight);
      const float eff_max = scale * kMaxQ;
      float best = 0;
      for (int is = -6; is <= 6; ++is) {
        const float id = (2 * kMaxQ - 1 + is * 0.1f) / eff_max;
        const float this_scale = 1 / id;
        for (int k = 0; k < 4; ++k) {
          for (int i = 0; i < 8; ++i) {
            const int l = NearestInt(0.5f * (id * xval[8 * k + i] - 1));
            Laux[8 * k + i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
          }
          GridIndex(s, xval + 8 * k, waux + 8 * k, this_scale, Laux + 8 * k);
        }
        float sumqx = 0, sumq2 = 0;
        for (int i = 0; i < 32; ++i) {
          const float w = weight[i];
          const float q = 2 * Laux[i] + 1;
          sumqx += w * xval[i] * q;
          sumq2 += w * q * q;
        }
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          scale = sumqx / sumq2;
          best = scale * sumqx;
          std::memcpy(L, Laux, 32);
        }
      }
      if (scale > 0) {
        const float id = 1 / scale;
        for (int k = 0; k < 4; ++k) {
          for (int i = 0; i < 8; ++i) {
            const int l = NearestInt(0.5f * (id * xval[8 * k + i] - 1));
            L[8 * k + i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
          }
          const int grid_index = GridIndex(s, xval + 8 * k, waux + 8 * k, scale, L + 8 * k);
          for (int i = 0; i < 8; ++i) L[8 * k + i] = static_cast<int8_t>((GridValue(s.grid[grid_index], i) - 1) / 2);
        }
        float sumqx = 0, sumq2 = 0;
        for (int i = 0; i < 32; ++i) {
          const float w = weight[i];
          const float q = 2 * L[i] + 1;
          sumqx += w * xval[i] * q;
          sumq2 += w * q * q;
        }
        if (sumq2 > 0) scale = sumqx / sumq2;
      }
      if (scale < 0) {
        // ggml: "should never happen"; the scale is stored unsigned.
        scale = -scale;
        for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
      }
      for (int k = 0; k < 4; ++k) {
        uint16_t u = 0;
        for (int i = 0; i < 8; ++i) u = static_cast<uint16_t>(u | (L[8 * k + i] << 2 * i));
        // Every L here came from a grid point (ggml aborts otherwise).
        const int grid_index = s.map[u];
        q2[2 * ib + 0] |= static_cast<uint32_t>(grid_index) << 8 * k;
        q2[2 * ib + 1] |= static_cast<uint32_t>(block_signs[k]) << 7 * k;
      }
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    if (!max_scale) {
      std::memset(y[ibl].qs, 0, kQK_K / 4);
      continue;
    }
    const float d = max_scale / 31;
    y[ibl].d = Fp32ToFp16(d);
    const float id = 1 / d;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const int l = std::max(0, std::min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
      q2[2 * ib + 1] |= static_cast<uint32_t>(l) << 28;
    }
    std::memcpy(y[ibl].qs, q2, kQK_K / 4);
  }
}

void DequantizeIQ2_XXS(const BlockIQ2_XXS* x, float* y, int64_t k) {
  const uint64_t* grid = IQ2XXSGrid();
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      uint32_t aux32[2];
      std::memcpy(aux32, x[i].qs + 4 * ib32, sizeof(aux32));
      const float db = d * (0.5f + (aux32[1] >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const uint64_t g = grid[(aux32[0] >> 8 * l) & 0xff];
        const uint8_t signs = IQ2Signs((aux32[1] >> 7 * l) & 127);
        for (int j = 0; j < 8; ++j) {
          y[j] = db * static_cast<float>((g >> 8 * j) & 0xff) * ((signs >> j) & 1 ? -1.f : 1.f);
        }
        y += 8;
      }
    }
  }
}

}  // namespace llmtk::quant_kernels
