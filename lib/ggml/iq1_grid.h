// ggml/iq1_grid: IQ1_S/IQ1_M's format data -- the 2048 points of the 8-value
// ternary grid both types index with 11 bits, for the codecs (quant_iq1.cc)
// and the kernels.
//
// A point is 8 levels in 0..2, coded as 16 bits (2 per value, value i in
// bits 2i..2i+1; kgrid_1bit_2048 in ggml-quants.c): those codes are the one
// table here (ggml's choice of 2048 of the 3^8 patterns; it follows no rule).
// The dequantization grid (iq1s_grid in ggml-common.h) holds level l as the
// int8 l-1, so a point is 8 values in {-1, 0, 1}; the stored shift
// (kIQ1Delta, sign per 32 or 8 values) moves them off zero.
//
// Thread-safety: constant tables, built once on first use.
#ifndef LLMTK_LIB_GGML_IQ1_GRID_H_
#define LLMTK_LIB_GGML_IQ1_GRID_H_

#include <cstdint>
#include <cstring>

#include "lib/ggml/types.h"

namespace llmtk {

inline constexpr int kIQ1SGridSize = 2048;
extern const uint16_t kIQ1SGridCodes[kIQ1SGridSize];

// IQ1S_DELTA / IQ1M_DELTA (both 0.125).
inline constexpr float kIQ1Delta = 0.125f;

// iq1s_grid: point j's 8 int8 values (-1, 0, 1) as one little-endian uint64.
const uint64_t* IQ1SGrid();

// IQ1_M's fp16 super-block scale, spread by ggml over the top nibbles of the
// four uint16 of `scales` (lowest nibble first).
inline uint16_t IQ1MScale(const BlockIQ1_M& b) {
  uint16_t sc[4];
  std::memcpy(sc, b.scales, sizeof(sc));
  return static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
}

}  // namespace llmtk

#endif  // LLMTK_LIB_GGML_IQ1_GRID_H_
