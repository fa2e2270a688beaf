// ggml/iq_search: the search tables ggml's iq2xs_init_impl and
// iq3xs_init_impl build for the grid quantizers, and their nearest-point
// search (iq2_find_best_neighbour, iq3_find_best_neighbour). One template
// serves IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M (8 values of 2 bits per
// pattern, uint64 grid points), IQ3_XXS and IQ3_S (4 values of 3 bits,
// uint32 points): they differ only in those widths, the grid size and how many
// distinct distances a neighbour list spans (ggml's nwant), and their
// quantizers must make the same choices as ggml's.
//
// Include it after the file's FMA-contraction pragma: the distance sums
// must round as ggml's do.
//
// Thread-safety: a built IqGridSearch is immutable.
#ifndef LLMTK_LIB_GGML_IQ_SEARCH_H_
#define LLMTK_LIB_GGML_IQ_SEARCH_H_

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <vector>

namespace llmtk::quant_kernels {

// kDims values of kBits bits make a pattern; a grid point holds each value
// as the odd level 2l+1 in one byte. `map` takes a pattern to its grid index,
// or, off the grid, to -(offset into `neighbours` + 1), where a count is
// followed by the grid points at the kWant smallest squared distances (ties
// included), ordered by distance then index.
// kMapSize: one past the largest pattern a quantizer looks up; kWant:
// ggml's nwant (1 for IQ2_S, 2 for IQ2_XXS, IQ2_XS and IQ3_XXS, 3 for IQ1_S,
// IQ1_M and IQ3_S).
template <typename Point, int kDims, int kBits, int kGridSize, int kMapSize, int kWant = 2>
struct IqGridSearch {
  Point grid[kGridSize];
  std::vector<int> map;
  std::vector<uint16_t> neighbours;

  explicit IqGridSearch(const uint16_t* codes) : map(kMapSize, -1) {
    constexpr int kMask = (1 << kBits) - 1;
    for (int k = 0; k < kGridSize; ++k) {
      Point g = 0;
      for (int i = 0; i < kDims; ++i) g |= static_cast<Point>(2 * ((codes[k] >> kBits * i) & kMask) + 1) << 8 * i;
      grid[k] = g;
      map[codes[k]] = k;
    }
    // ggml sorts all points by (distance, index) for every pattern; taking
    // the kWant smallest distinct distances and then each one's points in
    // index order lists the same neighbours without the sort (which, for
    // IQ1's 2048 points, would take seconds).
    std::vector<int> dist2(kGridSize);
    for (int i = 0; i < kMapSize; ++i) {
      if (map[i] >= 0) continue;
      int pos[kDims];
      for (int k = 0; k < kDims; ++k) pos[k] = 2 * ((i >> kBits * k) & kMask) + 1;
      int nearest[kWant] = {};
      int nhave = 0;
      for (int j = 0; j < kGridSize; ++j) {
        int d2 = 0;
        for (int k = 0; k < kDims; ++k) {
          const int pg = Value(grid[j], k);
          d2 += (pg - pos[k]) * (pg - pos[k]);
        }
        dist2[j] = d2;
        if (nhave == kWant && d2 >= nearest[kWant - 1]) continue;
        int at = 0;
        while (at < nhave && nearest[at] < d2) ++at;
        if (at < nhave && nearest[at] == d2) continue;
        for (int m = std::min(nhave, kWant - 1); m > at; --m) nearest[m] = nearest[m - 1];
        nearest[at] = d2;
        nhave = std::min(nhave + 1, kWant);
      }
      map[i] = -static_cast<int>(neighbours.size() + 1);
      const size_t start = neighbours.size();
      neighbours.push_back(0);
      for (int w = 0; w < nhave; ++w) {
        for (int j = 0; j < kGridSize; ++j) {
          if (dist2[j] == nearest[w]) neighbours.push_back(static_cast<uint16_t>(j));
        }
      }
      neighbours[start] = static_cast<uint16_t>(neighbours.size() - start - 1);
    }
  }

  static int Value(Point g, int i) { return static_cast<int>((g >> 8 * i) & 0xff); }

  // The listed neighbour of off-grid `pattern` nearest (weighted) to xval at
  // `scale`; its levels into L.
  int BestNeighbour(int pattern, const float* xval, const float* weight, float scale, int8_t* L) const {
    const uint16_t* nb = neighbours.data() - map[pattern] - 1;
    const int num_neighbors = nb[0];
    float best_d2 = FLT_MAX;
    int grid_index = -1;
    for (int j = 1; j <= num_neighbors; ++j) {
      const Point g = grid[nb[j]];
      float d2 = 0;
      for (int i = 0; i < kDims; ++i) {
        const float q = static_cast<float>(Value(g, i));
        const float diff = scale * q - xval[i];
        d2 += weight[i] * diff * diff;
      }
      if (d2 < best_d2) {
        best_d2 = d2;
        grid_index = nb[j];
      }
    }
    for (int i = 0; i < kDims; ++i) L[i] = static_cast<int8_t>((Value(grid[grid_index], i) - 1) / 2);
    return grid_index;
  }
};

// The sign step of the quantizers whose grids store 7 sign bits per 8
// values (IQ2_XXS, IQ2_XS, IQ3_XXS): the 8 magnitudes of `x` go to `mag`,
// and an odd count of negatives flips the value that costs least
// (w * x^2, first of equals), as only even counts are stored. Returns the
// 7 stored sign bits.
inline uint8_t EvenSignMagnitudes(const float* x, const float* w, float* mag) {
  int nflip = 0;
  uint8_t sg = 0;
  for (int i = 0; i < 8; ++i) {
    if (x[i] >= 0) {
      mag[i] = x[i];
    } else {
      mag[i] = -x[i];
      ++nflip;
      sg = static_cast<uint8_t>(sg | (1 << i));
    }
  }
  if (nflip % 2) {
    int imin = 0;
    float min = w[0] * x[0] * x[0];
    for (int i = 1; i < 8; ++i) {
      const float ax = w[i] * x[i] * x[i];
      if (ax < min) {
        min = ax;
        imin = i;
      }
    }
    mag[imin] = -mag[imin];
    sg = static_cast<uint8_t>(sg ^ (1 << imin));
  }
  return sg & 127;
}

}  // namespace llmtk::quant_kernels

#endif  // LLMTK_LIB_GGML_IQ_SEARCH_H_
