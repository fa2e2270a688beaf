// IQ3_XXS: 3.06 bits per weight. Each group of 4 values is a point of a
// 256-point grid (iq_grids.h), 8 values share 7 stored signs (even parity),
// each block of 32 has a 4-bit scale. ggml-quants.c's
// quantize_row_iq3_xxs_impl (weights from the imatrix, or x^2 without one)
// and dequantize_row_iq3_xxs, in ggml's operation order, no FMA contraction.
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

constexpr float kGroupMaxEps = 1e-8f;  // GROUP_MAX_EPS_IQ3_XXS

// ggml's iq3xs_init_impl(256) tables.
using Iq3Search = IqGridSearch<uint32_t, 4, 3, kIQ3XXSGridSize, 4096>;

const Iq3Search& Search() {
  static const Iq3Search s(kIQ3XXSGridCodes);
  return s;
}

inline int GridValue(uint32_t g, int i) { return Iq3Search::Value(g, i); }

uint16_t Pattern(const int8_t* L) {
  uint16_t u = 0;
  for (int i = 0; i < 4; ++i) u = static_cast<uint16_t>(u | (L[i] << 3 * i));
  return u;
}

}  // namespace

void QuantizeIQ3_XXS(const float* x, BlockIQ3_XXS* y, int64_t n, const float* quant_weights) {
  const Iq3Search& s = Search();
  constexpr int kMaxQ = 8;
  float scales[kQK_K / 32], weight[32], xval[32], waux[32];
  int8_t L[32], Laux[32];
  bool is_on_grid[8] = {}, is_on_grid_aux[8];
  uint8_t block_signs[8];
  uint8_t q3[3 * (kQK_K / 8) + kQK_K / 32];
  uint8_t* sas_bytes = q3 + kQK_K / 4;  // the 8 uint32 scales-and-signs words
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    y[ibl].d = Fp32ToFp16(0.f);
    std::memset(q3, 0, 3 * kQK_K / 8 + kQK_K / 32);
    uint32_t sas[kQK_K / 32] = {};
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
        block_signs[k] = EvenSignMagnitudes(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      }
      float max = xval[0];
      for (int i = 1; i < 32; ++i) max = std::max(max, xval[i]);
      if (max < kGroupMaxEps) {
        scales[ib] = 0;
        std::memset(L, 0, 32);
        continue;
      }
      float best = 0;
      float scale = max / (2 * kMaxQ - 1);
      for (int is = -15; is <= 15; ++is) {
        const float id = (2 * kMaxQ - 1 + is * 0.2f) / max;
        const float this_scale = 1 / id;
        for (int k = 0; k < 8; ++k) {
          for (int i = 0; i < 4; ++i) {
            const int l = NearestInt(0.5f * (id * xval[4 * k + i] - 1));
            Laux[4 * k + i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
          }
          const uint16_t u = Pattern(Laux + 4 * k);
          is_on_grid_aux[k] = s.map[u] >= 0;
          if (!is_on_grid_aux[k]) {
            s.BestNeighbour(u, xval + 4 * k, waux + 4 * k, this_scale, Laux + 4 * k);
          }
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
          std::copy(is_on_grid_aux, is_on_grid_aux + 8, is_on_grid);
        }
      }
      int n_not_ongrid = 0;
      for (int k = 0; k < 8; ++k) n_not_ongrid += !is_on_grid[k];
      if (n_not_ongrid > 0 && scale > 0) {
        const float id = 1 / scale;
        for (int k = 0; k < 8; ++k) {
          if (is_on_grid[k]) continue;
          int8_t l4[4];
          for (int i = 0; i < 4; ++i) {
            const int l = NearestInt(0.5f * (id * xval[4 * k + i] - 1));
            l4[i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
          }
          const uint16_t u = Pattern(l4);
          int grid_index = s.map[u];
          if (grid_index < 0) {
            grid_index = s.BestNeighbour(u, xval + 4 * k, waux + 4 * k, scale, L + 4 * k);
          }
          for (int i = 0; i < 4; ++i) L[4 * k + i] = static_cast<int8_t>((GridValue(s.grid[grid_index], i) - 1) / 2);
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
        scale = -scale;
        for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
      }
      for (int k = 0; k < 8; ++k) q3[8 * ib + k] = static_cast<uint8_t>(s.map[Pattern(L + 4 * k)]);
      sas[ib] = static_cast<uint32_t>(block_signs[0]) | (static_cast<uint32_t>(block_signs[1]) << 7) |
                (static_cast<uint32_t>(block_signs[2]) << 14) | (static_cast<uint32_t>(block_signs[3]) << 21);
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    if (!max_scale) {
      std::memset(y[ibl].qs, 0, sizeof(y[ibl].qs));
      continue;
    }
    const float d = max_scale / 31;
    y[ibl].d = Fp32ToFp16(d * 1.0125f);  // ggml's fudge factor
    const float id = 1 / d;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const int l = std::max(0, std::min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
      sas[ib] |= static_cast<uint32_t>(l) << 28;
    }
    std::memcpy(sas_bytes, sas, sizeof(sas));
    std::memcpy(y[ibl].qs, q3, sizeof(y[ibl].qs));
  }
}

void DequantizeIQ3_XXS(const BlockIQ3_XXS* x, float* y, int64_t k) {
  const uint32_t* grid = IQ3XXSGrid();
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* scales_and_signs = qs + kQK_K / 4;
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      uint32_t aux32;
      std::memcpy(&aux32, scales_and_signs + 4 * ib32, sizeof(aux32));
      const float db = d * (0.5f + (aux32 >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = IQ2Signs((aux32 >> 7 * l) & 127);
        const uint32_t g1 = grid[qs[2 * l + 0]], g2 = grid[qs[2 * l + 1]];
        for (int j = 0; j < 4; ++j) {
          y[j + 0] = db * static_cast<float>(GridValue(g1, j)) * ((signs >> j) & 1 ? -1.f : 1.f);
          y[j + 4] = db * static_cast<float>(GridValue(g2, j)) * ((signs >> (j + 4)) & 1 ? -1.f : 1.f);
        }
        y += 8;
      }
      qs += 8;
    }
  }
}

}  // namespace llmtk::quant_kernels
