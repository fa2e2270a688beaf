// ggml/iq2s_format: the IQ2_XS and IQ2_S blocks (as ggml-common.h lays them
// out) and their 512-point and 1024-point 8-value grids, for the codecs
// (quant_iq2s.cc) and the kernels (kernels/iq2s_*.cc).
//
// As IQ2_XXS's (iq_grids.h): a point is 8 levels in 0..2 stored by ggml as a
// 16-bit code (value i in bits 2i..2i+1; kgrid_2bit_512 / kgrid_2bit_1024
// of iq2xs_init_impl in ggml-quants.c). The codes are the one table here,
// the point sets ggml chose; the dequantized grids (iq2xs_grid, iq2s_grid in
// ggml-common.h) are derived from them, level l as byte 8, 25 or 43. Signs
// are IQ2_XXS's too: IQ2_XS stores 7 bits and even parity (IQ2Signs), IQ2_S
// a whole byte per 8 values.
//
// Thread-safety: constant tables, built once on first use.
#ifndef LLMTK_LIB_GGML_IQ2S_FORMAT_H_
#define LLMTK_LIB_GGML_IQ2S_FORMAT_H_

#include <cstdint>

#include "lib/ggml/types.h"

namespace llmtk {

// 8 groups of 32, each two halves of 16 with a 4-bit scale (scales[g],
// low nibble first); per 8 values a uint16 of a 9-bit grid index and 7 sign
// bits (the 8th makes their count even).
struct BlockIQ2_XS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
  uint8_t scales[kQK_K / 32];
};
// As IQ2_XS with a 10-bit grid index per 8 values (low 8 bits in qs[0..31],
// 2 high bits in qh, four per byte) and a whole sign byte (qs[32..63]).
struct BlockIQ2_S {
  uint16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ2_XS) == 74);
static_assert(sizeof(BlockIQ2_S) == 82);

inline constexpr int kIQ2XSGridSize = 512;
extern const uint16_t kIQ2XSGridCodes[kIQ2XSGridSize];
// iq2xs_grid: point j's 8 dequantization bytes as one little-endian uint64.
const uint64_t* IQ2XSGrid();

inline constexpr int kIQ2SGridSize = 1024;
extern const uint16_t kIQ2SGridCodes[kIQ2SGridSize];
// iq2s_grid: likewise for IQ2_S's 1024 points.
const uint64_t* IQ2SGrid();

}  // namespace llmtk

#endif  // LLMTK_LIB_GGML_IQ2S_FORMAT_H_
