// IQ3_S: 3.44 bits per weight. Each group of 4 values is a point of a
// 512-point grid (iq_grids.h; 8 bits in qs, the 9th in qh), every value has
// its own sign bit, each block of 32 a 4-bit odd scale 2s+1. ggml-quants.c's
// quantize_row_iq3_s_impl (weights from the imatrix, or x^2 without one) and
// dequantize_row_iq3_s, in ggml's operation order, no FMA contraction.
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

// ggml's iq3xs_init_impl(512) tables: three distances of neighbours.
using Iq3sSearch = IqGridSearch<uint32_t, 4, 3, kIQ3SGridSize, 4096, 3>;

const Iq3sSearch& Search() {
  static const Iq3sSearch s(kIQ3SGridCodes);
  return s;
}

uint16_t Pattern(const int8_t* L) {
  uint16_t u = 0;
  for (int i = 0; i < 4; ++i) u = static_cast<uint16_t>(u | (L[i] << 3 * i));
  return u;
}

// Levels 0..7 of the 4 values at inverse scale id (before the grid).
uint16_t RawPattern(const float* xval, float id, int8_t* L) {
  constexpr int kMaxQ = 8;
  for (int i = 0; i < 4; ++i) {
    const int l = NearestInt(0.5f * (id * xval[i] - 1));
    L[i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
  }
  return Pattern(L);
}

// ggml's weighted least-squares scale of the 32 levels: sumqx, sumq2.
void Sums(const float* weight, const float* xval, const int8_t* L, float* sumqx, float* sumq2) {
  float qx = 0, q2 = 0;
  for (int i = 0; i < 32; ++i) {
    const float w = weight[i];
    const float q = 2 * L[i] + 1;
    qx += w * xval[i] * q;
    q2 += w * q * q;
  }
  *sumqx = qx;
  *sumq2 = q2;
}

}  // namespace

void QuantizeIQ3_S(const float* x, BlockIQ3_S* y, int64_t n, const float* quant_weights) {
  const Iq3sSearch& s = Search();
  constexpr int kMaxQ = 8;
  float scales[kQK_K / 32], weight[32], xval[32], waux[32];
  int8_t L[32] = {}, Laux[32];
  bool is_on_grid[8], is_on_grid_aux[8];
  uint8_t block_signs[4];
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    std::memset(&y[ibl], 0, sizeof(BlockIQ3_S));
    // ggml advances these only past a block it stores: after an all-zero
    // block the next block's indices and signs land in its slots.
    uint8_t* qs = y[ibl].qs;
    uint8_t* signs = y[ibl].signs;
    float max_scale = 0;
    const float* xbl = x + kQK_K * ibl;
    float sumx2 = 0;
    for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
    const float sigma2 = 2 * sumx2 / kQK_K;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const float* xb = xbl + 32 * ib;
      if (quant_weights) {
        const float* qw = quant_weights + kQK_K * ibl + 32 * ib;
        for (int i = 0; i < 32; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      } else {
        for (int i = 0; i < 32; ++i) weight[i] = xb[i] * xb[i];
      }
      for (int i = 0; i < 32; ++i) waux[i] = std::sqrt(weight[i]);
      for (int k = 0; k < 4; ++k) {
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
      for (int i = 1; i < 32; ++i) max = std::max(max, xval[i]);
      if (!max) {
        scales[ib] = 0;
        continue;
      }
      float best = 0;
      float scale = max / (2 * kMaxQ - 1);
      std::fill(is_on_grid, is_on_grid + 8, false);
      for (int is = -9; is <= 9; ++is) {
        const float id = (2 * kMaxQ - 1 + is * 0.2f) / max;
        const float this_scale = 1 / id;
        for (int k = 0; k < 8; ++k) {
          const uint16_t u = RawPattern(xval + 4 * k, id, Laux + 4 * k);
          is_on_grid_aux[k] = s.map[u] >= 0;
          if (!is_on_grid_aux[k]) s.BestNeighbour(u, xval + 4 * k, waux + 4 * k, this_scale, Laux + 4 * k);
        }
        float sumqx, sumq2;
        Sums(weight, xval, Laux, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          scale = sumqx / sumq2;
          best = scale * sumqx;
          std::memcpy(L, Laux, 32);
          std::copy(is_on_grid_aux, is_on_grid_aux + 8, is_on_grid);
        }
      }
      int n_not_ongrid = 0;
      for (int k = 0; k < 8; ++k) n_not_ongrid += !is_on_grid[k];
      if (n_not_ongrid > 0 && scale > 0) {
        // Unlike IQ3_XXS, ggml re-places every group here, on-grid ones too.
        const float id = 1 / scale;
        for (int k = 0; k < 8; ++k) {
          int8_t l4[4];
          const uint16_t u = RawPattern(xval + 4 * k, id, l4);
          int grid_index = s.map[u];
          if (grid_index < 0) grid_index = s.BestNeighbour(u, xval + 4 * k, waux + 4 * k, scale, L + 4 * k);
          for (int i = 0; i < 4; ++i) {
            L[4 * k + i] = static_cast<int8_t>((Iq3sSearch::Value(s.grid[grid_index], i) - 1) / 2);
          }
        }
        float sumqx, sumq2;
        Sums(weight, xval, L, &sumqx, &sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
      }
      if (scale < 0) {
        scale = -scale;
        for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k]);
      }
      for (int k = 0; k < 8; ++k) {
        // Every L here came from the grid, so the map has it.
        const int grid_index = s.map[Pattern(L + 4 * k)];
        qs[k] = static_cast<uint8_t>(grid_index & 255);
        y[ibl].qh[ib] = static_cast<uint8_t>(y[ibl].qh[ib] | ((grid_index >> 8) << k));
      }
      qs += 8;
      std::memcpy(signs, block_signs, 4);
      signs += 4;
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    if (!max_scale) continue;
    const float d = max_scale / 31;
    y[ibl].d = Fp32ToFp16(d * 1.033f);  // ggml's fudge factor
    const float id = 1 / d;
    for (int ib = 0; ib < kQK_K / 32; ib += 2) {
      const int l1 = std::max(0, std::min(15, NearestInt(0.5f * (id * scales[ib + 0] - 1))));
      const int l2 = std::max(0, std::min(15, NearestInt(0.5f * (id * scales[ib + 1] - 1))));
      y[ibl].scales[ib / 2] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
  }
}

void DequantizeIQ3_S(const BlockIQ3_S* x, float* y, int64_t k) {
  const uint32_t* grid = IQ3SGrid();
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const int s4 = (x[i].scales[ib32 / 2] >> 4 * (ib32 % 2)) & 0xf;
      const float db = d * static_cast<float>(1 + 2 * s4);
      const uint8_t* qs = x[i].qs + 8 * ib32;
      const uint8_t* signs = x[i].signs + 4 * ib32;
      const int qh = x[i].qh[ib32];
      for (int l = 0; l < 8; ++l) {
        const uint32_t g = grid[qs[l] | (((qh >> l) & 1) << 8)];
        for (int j = 0; j < 4; ++j) {
          const float v = static_cast<float>((g >> 8 * j) & 0xff);
          y[4 * l + j] = db * v * ((signs[l / 2] >> (4 * (l % 2) + j)) & 1 ? -1.f : 1.f);
        }
      }
      y += 32;
    }
  }
}

}  // namespace llmtk::quant_kernels
