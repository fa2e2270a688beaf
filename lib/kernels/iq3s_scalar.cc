// IQ3_S against Q8_K, the scalar reference: the arithmetic of ggml's AVX2
// ggml_vec_dot_iq3_s_q8_K (its AVX-512 builds run it too). Per super-block
// 8 int32 lanes, lane k summing grid point k of every 32-block (4 grid bytes
// times the signed Q8_K values) times the block's 2s+1; one FMA per lane;
// the 8 lanes reduced at the end as scalar.cc's Hsum8.
#include <cmath>
#include <cstring>

#include "lib/ggml/iq_grids.h"
#include "lib/kernels/internal.h"

namespace llmtk::kernels_internal {

float DotIQ3SScalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ3_S*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const uint32_t* grid = IQ3SGrid();
  float acc[8] = {};
  for (int64_t b = 0; b < n / QKK; ++b) {
    int lanes[8] = {};
    for (int ib = 0; ib < QKK / 32; ++ib) {
      const int ls = 2 * ((x[b].scales[ib / 2] >> 4 * (ib % 2)) & 0xf) + 1;
      const uint8_t* qs = x[b].qs + 8 * ib;
      const uint8_t* signs = x[b].signs + 4 * ib;
      const int8_t* q8 = y[b].qs + 32 * ib;
      for (int e = 0; e < 32; ++e) {
        const int index = qs[e / 4] | (((x[b].qh[ib] >> (e / 4)) & 1) << 8);
        const int g = static_cast<int>((grid[index] >> 8 * (e % 4)) & 0xff);
        // The SIMD kernel negates by xor and subtract: -128 stays -128.
        const int q = (signs[e / 8] >> (e % 8)) & 1 ? static_cast<int8_t>(-q8[e]) : q8[e];
        lanes[e / 4] += ls * (g * q);
      }
    }
    const float d = Fp16ToFp32(x[b].d) * y[b].d;
    for (int k = 0; k < 8; ++k) acc[k] = std::fma(d, static_cast<float>(lanes[k]), acc[k]);
  }
  float r4[4];
  for (int l = 0; l < 4; ++l) r4[l] = acc[l + 4] + acc[l];
  return (r4[0] + r4[2]) + (r4[1] + r4[3]);
}

}  // namespace llmtk::kernels_internal
