// Scalar reference dot products of IQ2_XS and IQ2_S rows with Q8_K
// activations, in the arithmetic of ggml's AVX2 kernels (which its AVX-512
// builds run too): per super-block 8 int32 lanes, lane k summing elements
// 4k..4k+3 of every 32-block (grid byte times the signed Q8_K value, the
// sign flip wrapping -128 as _mm256_sign_epi8 does) times 2*scale+1 of the
// element's half-block, one FMA per lane with d_x*d_y, and 1/8 of ggml's
// hsum_float_8 of the lanes at the end.
#include <cmath>
#include <cstring>

#include "lib/ggml/iq2s_format.h"
#include "lib/ggml/iq_grids.h"
#include "lib/kernels/internal.h"

namespace llmtk::kernels_internal {
namespace {

float Hsum8(const float a[8]) {
  float r4[4];
  for (int l = 0; l < 4; ++l) r4[l] = a[l + 4] + a[l];
  const float r0 = r4[0] + r4[2], r1 = r4[1] + r4[3];
  return r0 + r1;
}

// `Group(b, g)` gives group g (of 8 values) of super-block b as its grid
// point and sign byte; `Scale(b, h)` half-block h's 4-bit scale.
template <typename Block, typename Group, typename Scale>
float DotIq2Lanes(int64_t n, const void* w, const void* a, Group group, Scale scale) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    int lanes[8] = {};
    for (int g = 0; g < QKK / 8; ++g) {
      const auto [point, signs] = group(x[b], g);
      const int ls = 2 * scale(x[b], g / 2) + 1;
      const int8_t* q8 = y[b].qs + 8 * g;
      for (int e = 0; e < 8; ++e) {
        const int q = (signs >> e) & 1 ? static_cast<int8_t>(-q8[e]) : q8[e];
        lanes[(8 * g + e) % 32 / 4] += ls * (static_cast<int>((point >> 8 * e) & 0xff) * q);
      }
    }
    const float d = Fp16ToFp32(x[b].d) * y[b].d;
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  return 0.125f * Hsum8(acc);
}

struct GroupBits {
  uint64_t point;
  uint8_t signs;
};

}  // namespace

float DotIQ2XSScalar(int64_t n, const void* w, const void* a) {
  const uint64_t* grid = IQ2XSGrid();
  return DotIq2Lanes<BlockIQ2_XS>(
      n, w, a,
      [grid](const BlockIQ2_XS& b, int g) { return GroupBits{grid[b.qs[g] & 511], IQ2Signs(b.qs[g] >> 9)}; },
      [](const BlockIQ2_XS& b, int h) { return (b.scales[h / 2] >> 4 * (h % 2)) & 0xf; });
}

float DotIQ2SScalar(int64_t n, const void* w, const void* a) {
  const uint64_t* grid = IQ2SGrid();
  return DotIq2Lanes<BlockIQ2_S>(
      n, w, a,
      [grid](const BlockIQ2_S& b, int g) {
        const int high = (b.qh[g / 4] >> 2 * (g % 4)) & 3;
        return GroupBits{grid[b.qs[g] | high << 8], b.qs[QKK / 8 + g]};
      },
      [](const BlockIQ2_S& b, int h) { return (b.scales[h / 2] >> 4 * (h % 2)) & 0xf; });
}

}  // namespace llmtk::kernels_internal
