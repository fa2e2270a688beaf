// IQ1_S (1.56 bits per weight) and IQ1_M (1.75): each group of 8 values is
// a point of the 2048-point ternary grid (iq1_grid.h), shifted by +-1/8
// (one shift sign per 32 values in IQ1_S, per 8 in IQ1_M) and scaled per
// block (32 values in IQ1_S, 16 in IQ1_M) by an odd 3-bit multiple of the
// super-block scale. ggml-quants.c's quantize_row_iq1_s_impl /
// quantize_row_iq1_m_impl and dequantize_row_iq1_s/_m, in ggml's operation
// order, no FMA contraction.
//
// The search is not IQ2's: with three levels per value the best levels for a
// block follow from two split points in the values' sorted order, so ggml
// scores every split (and both shift signs) exactly, then moves each group
// that is off the grid to the listed neighbour nearest at that scale.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "lib/ggml/iq1_grid.h"
#include "lib/ggml/iq_search.h"
#include "lib/ggml/quant.h"
#include "lib/ggml/quant_k.h"

namespace llmtk::quant_kernels {
namespace {

constexpr float kGroupMaxEpsS = 1e-12f;
constexpr float kGroupMaxEpsM = 1e-7f;

// ggml's iq2xs_init_impl for the 1-bit types: 2-bit patterns, 2048 points,
// neighbours at the 3 smallest distances.
using Iq1Search = IqGridSearch<uint64_t, 8, 2, kIQ1SGridSize, 43692, 3>;

const Iq1Search& Search() {
  static const Iq1Search s(kIQ1SGridCodes);
  return s;
}

// The quantizer's level values for a positive (x_p) or negative (x_m) shift.
constexpr float kShiftPlus[3] = {-1 + kIQ1Delta, kIQ1Delta, 1 + kIQ1Delta};
constexpr float kShiftMinus[3] = {-1 - kIQ1Delta, -kIQ1Delta, 1 - kIQ1Delta};

// Level (0..2) of value i of grid point g.
inline int Level(uint64_t g, int i) { return (Iq1Search::Value(g, i) - 1) / 2; }

// iq1_find_best_neighbour2: the listed neighbour of off-grid levels `pattern`
// nearest (weighted) to xval at `scale` with level values xg; its levels
// into L.
int BestNeighbour(const Iq1Search& s, int pattern, const float* xval, const float* weight, float scale,
                  const float* xg, int8_t* L) {
  const uint16_t* nb = s.neighbours.data() - s.map[pattern] - 1;
  float best = FLT_MAX;
  int grid_index = -1;
  for (int j = 1; j <= nb[0]; ++j) {
    const uint64_t g = s.grid[nb[j]];
    float d2 = 0;
    for (int i = 0; i < 8; ++i) {
      const float q = xg[Level(g, i)];
      const float diff = scale * q - xval[i];
      d2 += weight[i] * diff * diff;
    }
    if (d2 < best) {
      best = d2;
      grid_index = nb[j];
    }
  }
  // Every listed distance is finite, so a neighbour was found (ggml falls
  // back to the whole grid, which cannot happen for finite input).
  for (int i = 0; i < 8; ++i) L[i] = static_cast<int8_t>(Level(s.grid[grid_index], i));
  return grid_index;
}

// The grid index of levels L[0..7], or the best neighbour's (replacing L).
int GridIndex(const Iq1Search& s, const float* xb, const float* weight, float scale, const float* xg, int8_t* L,
              bool* on_grid) {
  uint16_t u = 0;
  for (int j = 0; j < 8; ++j) u = static_cast<uint16_t>(u | (L[j] << 2 * j));
  const int grid_index = s.map[u];
  if (grid_index >= 0) return grid_index;
  *on_grid = false;
  return BestNeighbour(s, u, xb, weight, scale, xg, L);
}

// The block's values in ascending order as ggml's qsort leaves them (glibc's
// merge sort: stable), as indices.
void SortedOrder(const float* xb, int n, int* idx) {
  for (int j = 0; j < n; ++j) idx[j] = j;
  std::stable_sort(idx, idx + n, [xb](int a, int b) { return xb[a] < xb[b]; });
}

void SuperBlockSigma2(const float* xbl, float* sigma2) {
  float sumx2 = 0;
  for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
  *sigma2 = 2 * sumx2 / kQK_K;
}

}  // namespace

void QuantizeIQ1_S(const float* x, BlockIQ1_S* y, int64_t n, const float* quant_weights) {
  constexpr int kBlock = 32;
  const Iq1Search& s = Search();
  float scales[kQK_K / kBlock], weight[kBlock], sumx[kBlock + 1], sumw[kBlock + 1];
  int idx[kBlock];
  int8_t L[kBlock];
  uint16_t index[kBlock / 8];
  // ggml leaves a block whose values are all below kGroupMaxEpsS without a
  // shift of its own: it keeps the previous super-block's.
  int8_t shifts[kQK_K / kBlock] = {};
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    BlockIQ1_S& out = y[ibl];
    out.d = Fp32ToFp16(0.f);
    std::memset(out.qs, 0, sizeof(out.qs));
    std::memset(out.qh, 0, sizeof(out.qh));
    float max_scale = 0;
    const float* xbl = x + kQK_K * ibl;
    float sigma2;
    SuperBlockSigma2(xbl, &sigma2);
    for (int ib = 0; ib < kQK_K / kBlock; ++ib) {
      const float* xb = xbl + kBlock * ib;
      const float* qw = quant_weights + kQK_K * ibl + kBlock * ib;
      for (int i = 0; i < kBlock; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      float max = std::fabs(xb[0]);
      for (int i = 1; i < kBlock; ++i) max = std::max(max, std::fabs(xb[i]));
      if (max < kGroupMaxEpsS) {
        scales[ib] = 0;
        continue;
      }
      // Levels 0, 1, 2 for the values below i1, between, and from i2 on (in
      // sorted order): prefix sums make each split's optimal scale and
      // score cost O(1).
      SortedOrder(xb, kBlock, idx);
      sumx[0] = sumw[0] = 0;
      for (int j = 0; j < kBlock; ++j) {
        const int i = idx[j];
        sumx[j + 1] = sumx[j] + weight[i] * xb[i];
        sumw[j + 1] = sumw[j] + weight[i];
      }
      float best_score = -FLT_MIN, scale = max;
      int besti1 = -1, besti2 = -1, best_shift = 0;
      for (int i1 = 0; i1 <= kBlock; ++i1) {
        for (int i2 = i1; i2 <= kBlock; ++i2) {
          for (int shift : {1, -1}) {
            const float* xs = shift == 1 ? kShiftPlus : kShiftMinus;
            const float sumqx =
                (sumx[i1] - sumx[0]) * xs[0] + (sumx[i2] - sumx[i1]) * xs[1] + (sumx[kBlock] - sumx[i2]) * xs[2];
            const float sumq2 = (sumw[i1] - sumw[0]) * xs[0] * xs[0] + (sumw[i2] - sumw[i1]) * xs[1] * xs[1] +
                                (sumw[kBlock] - sumw[i2]) * xs[2] * xs[2];
            if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
              scale = sumqx / sumq2;
              best_score = scale * sumqx;
              besti1 = i1;
              besti2 = i2;
              best_shift = shift;
            }
          }
        }
      }
      for (int j = 0; j < besti1; ++j) L[idx[j]] = 0;
      for (int j = besti1; j < besti2; ++j) L[idx[j]] = 1;
      for (int j = besti2; j < kBlock; ++j) L[idx[j]] = 2;
      if (scale < 0) {
        for (int j = 0; j < kBlock; ++j) L[j] = static_cast<int8_t>(2 - L[j]);
        scale = -scale;
        best_shift = -best_shift;
      }
      bool all_on_grid = true;
      const float* xx = best_shift == 1 ? kShiftPlus : kShiftMinus;
      for (int k = 0; k < kBlock / 8; ++k) {
        index[k] = static_cast<uint16_t>(
            GridIndex(s, xb + 8 * k, weight + 8 * k, scale, xx, L + 8 * k, &all_on_grid));
      }
      if (!all_on_grid) {
        float sumqx = 0, sumq2 = 0;
        for (int k = 0; k < kBlock / 8; ++k) {
          for (int j = 0; j < 8; ++j) {
            const float w = weight[8 * k + j];
            const float q = xx[Level(s.grid[index[k]], j)];
            sumqx += w * q * xb[8 * k + j];
            sumq2 += w * q * q;
          }
        }
        if (sumqx > 0 && sumq2 > 0) scale = sumqx / sumq2;
      }
      uint16_t h = 0;
      for (int k = 0; k < kBlock / 8; ++k) {
        out.qs[(kBlock / 8) * ib + k] = static_cast<uint8_t>(index[k] & 255);
        h = static_cast<uint16_t>(h | ((index[k] >> 8) << 3 * k));
      }
      out.qh[ib] = h;
      scales[ib] = scale;
      shifts[ib] = static_cast<int8_t>(best_shift);
      max_scale = std::max(max_scale, scale);
    }
    if (!max_scale) continue;
    const float d = max_scale / 15;
    out.d = Fp32ToFp16(d * 1.125f);  // ggml's fudge factor
    const float id = 1 / d;
    for (int ib = 0; ib < kQK_K / kBlock; ++ib) {
      int l = std::max(0, std::min(7, NearestInt(0.5f * (id * scales[ib] - 1))));
      if (shifts[ib] == -1) l |= 8;
      out.qh[ib] = static_cast<uint16_t>(out.qh[ib] | (l << 12));
    }
  }
}

void QuantizeIQ1_M(const float* x, BlockIQ1_M* y, int64_t n, const float* quant_weights) {
  constexpr int kBlock = 16;
  const Iq1Search& s = Search();
  // Shift pair k (first 8 values, last 8): 0 = (+,+), 1 = (+,-), 2 = (-,+),
  // 3 = (-,-); the qh nibble bit 3 marks a negative shift.
  constexpr uint8_t kMasks[4] = {0x00, 0x80, 0x08, 0x88};
  auto shift_values = [](int k, int half) {
    const bool plus = half == 0 ? k < 2 : k % 2 == 0;
    return plus ? kShiftPlus : kShiftMinus;
  };
  float scales[kQK_K / kBlock], weight[kBlock], sumqx[4], sumq2[4];
  int idx[kBlock];
  int8_t L[kBlock];
  uint16_t index[kBlock / 8];
  int8_t shifts[kQK_K / kBlock] = {};  // as IQ1_S: stale for all-tiny blocks
  auto block_weights = [&](const float* xb, const float* qw, float sigma2) {
    if (qw != nullptr) {
      for (int i = 0; i < kBlock; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
    } else {
      for (int i = 0; i < kBlock; ++i) weight[i] = xb[i] * xb[i];
    }
  };
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    BlockIQ1_M& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    float max_scale = 0;
    const float* xbl = x + kQK_K * ibl;
    float sigma2;
    SuperBlockSigma2(xbl, &sigma2);
    auto qw_of = [&](int ib) { return quant_weights ? quant_weights + kQK_K * ibl + kBlock * ib : nullptr; };
    for (int ib = 0; ib < kQK_K / kBlock; ++ib) {
      const float* xb = xbl + kBlock * ib;
      block_weights(xb, qw_of(ib), sigma2);
      float max = std::fabs(xb[0]);
      for (int i = 1; i < kBlock; ++i) max = std::max(max, std::fabs(xb[i]));
      if (max < kGroupMaxEpsM) {
        scales[ib] = 0;
        continue;
      }
      // As IQ1_S, but each half has its own shift sign: ggml sums every
      // split's four sign pairs from scratch.
      SortedOrder(xb, kBlock, idx);
      float best_score = -FLT_MIN, scale = max;
      int besti1 = -1, besti2 = -1, best_k = -1;
      for (int i1 = 0; i1 <= kBlock; ++i1) {
        for (int i2 = i1; i2 <= kBlock; ++i2) {
          std::fill(sumqx, sumqx + 4, 0.f);
          std::fill(sumq2, sumq2 + 4, 0.f);
          for (int j = 0; j < kBlock; ++j) {
            const int i = idx[j];
            const int level = j < i1 ? 0 : j < i2 ? 1 : 2;
            const int half = i < kBlock / 2 ? 0 : 1;
            for (int k = 0; k < 4; ++k) {
              const float xs = shift_values(k, half)[level];
              sumqx[k] += weight[i] * xs * xb[i];
              sumq2[k] += weight[i] * xs * xs;
            }
          }
          for (int k = 0; k < 4; ++k) {
            if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > best_score * sumq2[k]) {
              scale = sumqx[k] / sumq2[k];
              best_score = scale * sumqx[k];
              besti1 = i1;
              besti2 = i2;
              best_k = k;
            }
          }
        }
      }
      for (int j = 0; j < besti1; ++j) L[idx[j]] = 0;
      for (int j = besti1; j < besti2; ++j) L[idx[j]] = 1;
      for (int j = besti2; j < kBlock; ++j) L[idx[j]] = 2;
      if (scale < 0) {
        for (int j = 0; j < kBlock; ++j) L[j] = static_cast<int8_t>(2 - L[j]);
        scale = -scale;
        best_k = 3 - best_k;
      }
      bool all_on_grid = true;
      for (int k = 0; k < kBlock / 8; ++k) {
        index[k] = static_cast<uint16_t>(
            GridIndex(s, xb + 8 * k, weight + 8 * k, scale, shift_values(best_k, k), L + 8 * k, &all_on_grid));
      }
      if (!all_on_grid) {
        float sqx = 0, sq2 = 0;
        for (int k = 0; k < kBlock / 8; ++k) {
          const float* xx = shift_values(best_k, k);
          for (int j = 0; j < 8; ++j) {
            const float w = weight[8 * k + j];
            const float q = xx[Level(s.grid[index[k]], j)];
            sqx += w * q * xb[8 * k + j];
            sq2 += w * q * q;
          }
        }
        if (sqx > 0 && sq2 > 0) scale = sqx / sq2;
      }
      out.qs[2 * ib + 0] = static_cast<uint8_t>(index[0] & 255);
      out.qs[2 * ib + 1] = static_cast<uint8_t>(index[1] & 255);
      out.qh[ib] = static_cast<uint8_t>((index[0] >> 8) | ((index[1] >> 8) << 4));
      scales[ib] = scale;
      shifts[ib] = static_cast<int8_t>(best_k);
      max_scale = std::max(max_scale, scale);
    }
    if (!max_scale) continue;
    uint16_t sc[4] = {};
    float d = max_scale / 15;
    const float id = 1 / d;
    // The block scales fixed, the super-block scale is refitted to them.
    float sqx = 0, sq2 = 0;
    for (int ib = 0; ib < kQK_K / kBlock; ++ib) {
      const int l = std::max(0, std::min(7, NearestInt(0.5f * (id * scales[ib] - 1))));
      sc[ib / 4] = static_cast<uint16_t>(sc[ib / 4] | (l << 3 * (ib % 4)));
      out.qh[ib] = static_cast<uint8_t>(out.qh[ib] | kMasks[shifts[ib]]);
      const float* xb = xbl + kBlock * ib;
      block_weights(xb, qw_of(ib), sigma2);
      for (int k = 0; k < kBlock / 8; ++k) {
        const float* xx = shift_values(shifts[ib], k);
        const uint64_t g = s.grid[out.qs[2 * ib + k] + ((out.qh[ib] << (8 - 4 * k)) & 0x700)];
        for (int j = 0; j < 8; ++j) {
          const float w = weight[8 * k + j];
          const float q = xx[Level(g, j)] * static_cast<float>(2 * l + 1);
          sqx += w * q * xb[8 * k + j];
          sq2 += w * q * q;
        }
      }
    }
    if (sq2 > 0) d = sqx / sq2;
    const uint16_t h = Fp32ToFp16(d * 1.1125f);  // ggml's fudge factor
    sc[0] = static_cast<uint16_t>(sc[0] | ((h & 0x000f) << 12));
    sc[1] = static_cast<uint16_t>(sc[1] | ((h & 0x00f0) << 8));
    sc[2] = static_cast<uint16_t>(sc[2] | ((h & 0x0f00) << 4));
    sc[3] = static_cast<uint16_t>(sc[3] | (h & 0xf000));
    std::memcpy(out.scales, sc, sizeof(sc));
  }
}

void DequantizeIQ1_S(const BlockIQ1_S* x, float* y, int64_t k) {
  const uint64_t* grid = IQ1SGrid();
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const uint16_t qh = x[i].qh[ib];
      const float dl = d * static_cast<float>(2 * ((qh >> 12) & 7) + 1);
      const float delta = qh & 0x8000 ? -kIQ1Delta : kIQ1Delta;
      for (int l = 0; l < 4; ++l) {
        const uint64_t g = grid[x[i].qs[4 * ib + l] | (((qh >> 3 * l) & 7) << 8)];
        for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(static_cast<int8_t>(g >> 8 * j)) + delta);
        y += 8;
      }
    }
  }
}

void DequantizeIQ1_M(const BlockIQ1_M* x, float* y, int64_t k) {
  const uint64_t* grid = IQ1SGrid();
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    uint16_t sc[4];
    std::memcpy(sc, x[i].scales, sizeof(sc));
    const float d = Fp16ToFp32(IQ1MScale(x[i]));
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const float dl[2] = {d * static_cast<float>(2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 7) + 1),
                           d * static_cast<float>(2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 7) + 1)};
      const uint8_t* qs = x[i].qs + 4 * ib;
      const uint8_t* qh = x[i].qh + 2 * ib;
      for (int l = 0; l < 4; ++l) {
        // Group l: high index bits and shift sign in nibble l%2 of qh[l/2].
        const int nibble = (qh[l / 2] >> 4 * (l % 2)) & 0xf;
        const uint64_t g = grid[qs[l] | ((nibble & 7) << 8)];
        const float delta = nibble & 8 ? -kIQ1Delta : kIQ1Delta;
        for (int j = 0; j < 8; ++j) {
          y[j] = dl[l / 2] * (static_cast<float>(static_cast<int8_t>(g >> 8 * j)) + delta);
        }
        y += 8;
      }
    }
  }
}

const std::vector<int>& IQ1SearchMap() { return Search().map; }
const std::vector<uint16_t>& IQ1SearchNeighbours() { return Search().neighbours; }

}  // namespace llmtk::quant_kernels
