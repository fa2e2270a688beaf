// ggml/iq_grids: the IQ types' format data. IQ2_XXS -- the 256 points of its 8-value
// grid and the even-parity sign table -- for the codec (quant_iq2.cc) and
// the kernels.
//
// A grid point is 8 levels in 0..2, stored by ggml as 16 bits (2 per value,
// value i in bits 2i..2i+1; kgrid_2bit_256 in ggml-quants.c): the one table
// here is those 256 codes, the point set ggml chose (it follows no rule).
// Everything else is derived from it, as ggml defines it: the dequantized
// grid (iq2xxs_grid in ggml-common.h) holds level l as byte 8, 25 or 43; the
// quantizer's grid as 2l+1. A sign byte holds 7 stored sign bits and an 8th
// that makes their parity even (ksigns_iq2xs).
//
// Thread-safety: constant tables, built once on first use.
#ifndef LLMTK_LIB_GGML_IQ_GRIDS_H_
#define LLMTK_LIB_GGML_IQ_GRIDS_H_

#include <cstdint>

namespace llmtk {

inline constexpr int kIQ2XXSGridSize = 256;
extern const uint16_t kIQ2XXSGridCodes[kIQ2XXSGridSize];

// iq2xxs_grid: point j's 8 dequantization bytes (8, 25, 43) as one
// little-endian uint64.
const uint64_t* IQ2XXSGrid();

// ksigns_iq2xs[i]: i's 7 bits plus the parity bit 7.
constexpr uint8_t IQ2Signs(int i) {
  int bits = 0;
  for (int b = 0; b < 7; ++b) bits += (i >> b) & 1;
  return static_cast<uint8_t>(i | ((bits & 1) << 7));
}

// IQ3_XXS: 256 points of 4 levels in 0..7 (3 bits each, value i in bits
// 3i..3i+2; ggml's kgrid_256 in iq3xs_init_impl). Dequantized (iq3xxs_grid)
// level l is byte 8l+4, except level 7, which is 62.
inline constexpr int kIQ3XXSGridSize = 256;
extern const uint16_t kIQ3XXSGridCodes[kIQ3XXSGridSize];
// iq3xxs_grid: point j's 4 dequantization bytes as one little-endian uint32.
const uint32_t* IQ3XXSGrid();

// IQ3_S: 512 points of 4 levels in 0..7 (ggml's kgrid_512 in
// iq3xs_init_impl, coded as IQ3_XXS's). Dequantized (iq3s_grid) level l is
// byte 2l+1, the quantizer's own grid, so one table serves both.
inline constexpr int kIQ3SGridSize = 512;
extern const uint16_t kIQ3SGridCodes[kIQ3SGridSize];
// iq3s_grid: point j's 4 bytes 2l+1 as one little-endian uint32.
const uint32_t* IQ3SGrid();

}  // namespace llmtk

#endif  // LLMTK_LIB_GGML_IQ_GRIDS_H_
