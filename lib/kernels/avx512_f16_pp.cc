// F16 x F16 for prompts: sixteen weight rows converted to float once per
// batch, sixteen tokens once per product, then a register-tiled product.
//
// The order to keep (kernels/avx512.cc DotF16, i.e. llama.cpp's tinyBLAS
// for F16): for a length that is a multiple of 16, each (row, token) has one
// 16-lane float accumulator, acc = fma(w[16s..], y[16s..], acc) for step
// s = 0, 1, ..., then the canonical reduction (l, l+8), (l, l+4), (l, l+2),
// (0, 1). F16 -> F32 is exact, so converting ahead changes nothing; only
// the fma sequence per lane and the reduction tree must stay.
//
// The old path converts nine vectors per eight fmas (eight rows against one
// token). Here both sides are already float: a 4-row by 6-token tile keeps
// 24 accumulators in registers and each step is 10 loads and 24 fmas (the
// sixteen tokens go 6 + 6 + 4; 4 x 6 measured ~4% over 4 x 4 tiles).
// The columns go in chunks of kChunk steps so that the chunk's sixteen rows
// and sixteen tokens stay in L1 while its twelve tiles pass over them; the
// accumulators (16 x 16 x 16 floats) wait in memory between chunks, which
// only stores and reloads each lane's running sum (same fma order).
//
// The reduction is the canonical tree applied to sixteen rows at once by
// shuffles (each add is the reference's add of the same two values), so one
// token's sixteen results come out in one register.
//
// Lengths that are not a multiple of 16 follow DotF16's other order (four
// accumulators over 64-column steps, then a tail summed in double); MatMul
// still hands them here, so that order is kept too, one pair at a time.
#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define LLMTK_F16PP __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

// Steps of 16 columns per chunk: the chunk's sixteen weight rows and sixteen
// tokens (16 KB each) and the accumulators (16 KB) make the 48 KB L1 of the
// Sapphire Rapids class Xeon here. 8 and 32 measured the same within noise.
constexpr int64_t kChunk = 16;

// Layout of both the decoded rows and the packed tokens, for n columns:
// n / 16 full steps of [16 rows or tokens][16 floats] (1 KB each), then the
// n % 16 leftover columns as [16][n % 16]. That is exactly 64 bytes per
// column (decoded16_bytes / packed16_bytes for BlockElems 1).
LLMTK_F16PP void ToFloat16x(int64_t n, const uint8_t* rows, size_t stride, float* out) {
  const int64_t steps = n / 16, rem = n % 16;
  for (int64_t s = 0; s < steps; ++s)
    for (int r = 0; r < 16; ++r) {
      const auto* p = reinterpret_cast<const uint16_t*>(rows + r * stride) + 16 * s;
      _mm512_store_ps(out + 256 * s + 16 * r, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
    }
  float* tail = out + 256 * steps;
  for (int r = 0; r < 16; ++r) {
    const auto* p = reinterpret_cast<const uint16_t*>(rows + r * stride) + 16 * steps;
    for (int64_t l = 0; l < rem; ++l) tail[r * rem + l] = _cvtsh_ss(p[l]);
  }
}

LLMTK_F16PP void Decode(int64_t n, const void* w, size_t stride, void* out) {
  ToFloat16x(n, static_cast<const uint8_t*>(w), stride, static_cast<float*>(out));
}

LLMTK_F16PP void Pack(const uint8_t* a, size_t astride, int64_t blocks, void* out) {
  ToFloat16x(blocks, a, astride, static_cast<float*>(out));
}

// Element k of row (or token) r in the layout above.
inline float At(const float* p, int64_t n, int r, int64_t k) {
  const int64_t steps = n / 16;
  return k < 16 * steps ? p[256 * (k / 16) + 16 * r + k % 16] : p[256 * steps + r * (n % 16) + (k - 16 * steps)];
}

// The same reduction as kernels/avx512.cc's Reduce.
LLMTK_F16PP inline float Reduce(__m512 acc) {
  const __m256 r8 = _mm256_add_ps(_mm512_castps512_ps256(acc),
                                  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
  const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}

// DotF16 for n % 16 != 0 (DotGgmlOrder with the double tail), one pair.
LLMTK_F16PP float DotOddLength(int64_t n, const float* w, int r, const float* x, int t) {
  const int64_t np = n & ~int64_t{63};
  __m512 acc[4];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t s = 0; s < np / 16; s += 4)
    for (int j = 0; j < 4; ++j)
      acc[j] = _mm512_fmadd_ps(_mm512_load_ps(w + 256 * (s + j) + 16 * r), _mm512_load_ps(x + 256 * (s + j) + 16 * t),
                               acc[j]);
  double sum = Reduce(_mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[1], acc[3])));
  for (int64_t k = np; k < n; ++k) sum += static_cast<double>(At(w, n, r, k) * At(x, n, t, k));
  return static_cast<float>(sum);
}

// RM rows against RN tokens over `len` steps from `w` and `x` (already at
// the chunk's first step and the tile's first row and token); acc[16 * t +
// r] is the (token, row) accumulator, zero when `first`.
template <int RM, int RN>
LLMTK_F16PP inline void Tile(const float* w, const float* x, int64_t len, __m512* acc, bool first) {
  __m512 c[RN][RM];  // [token][row]
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) c[j][i] = first ? _mm512_setzero_ps() : _mm512_load_ps(reinterpret_cast<float*>(&acc[16 * j + i]));
  for (int64_t s = 0; s < len; ++s) {
    const float* ws = w + 256 * s;
    const float* xs = x + 256 * s;
    __m512 wr[RM];
    for (int i = 0; i < RM; ++i) wr[i] = _mm512_load_ps(ws + 16 * i);
    for (int j = 0; j < RN; ++j) {
      const __m512 y = _mm512_load_ps(xs + 16 * j);
      for (int i = 0; i < RM; ++i) c[j][i] = _mm512_fmadd_ps(wr[i], y, c[j][i]);
    }
  }
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) _mm512_store_ps(reinterpret_cast<float*>(&acc[16 * j + i]), c[j][i]);
}

// Reduce() of v[0..15] into one register, lane r = Reduce(v[r]): the tree's
// levels across registers. Level by level, lane groups hold: (1) the r8
// halves of two registers, (2) the r4 quarters of four, (3) r2 pairs of
// eight, (4) all sixteen sums, lane 4q + s holding register 4s + q.
LLMTK_F16PP inline __m512 Reduce16(const __m512* v) {
  __m512 c[8], d[4], e[2];
  for (int i = 0; i < 8; ++i)
    c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                         _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
  for (int j = 0; j < 4; ++j)
    d[j] = _mm512_add_ps(_mm512_shuffle_f32x4(c[2 * j], c[2 * j + 1], 0x88),
                         _mm512_shuffle_f32x4(c[2 * j], c[2 * j + 1], 0xDD));
  for (int m = 0; m < 2; ++m)
    e[m] = _mm512_add_ps(_mm512_shuffle_ps(d[2 * m], d[2 * m + 1], 0x44), _mm512_shuffle_ps(d[2 * m], d[2 * m + 1], 0xEE));
  const __m512 f = _mm512_add_ps(_mm512_shuffle_ps(e[0], e[1], 0x88), _mm512_shuffle_ps(e[0], e[1], 0xDD));
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  return _mm512_permutexvar_ps(order, f);
}

LLMTK_F16PP void DotF16x16x16(int64_t n, const void* decoded, const void* packed, const void*, size_t, float* out) {
  const auto* w = static_cast<const float*>(decoded);
  const auto* x = static_cast<const float*>(packed);
  if (n % 16 != 0) {
    for (int t = 0; t < 16; ++t)
      for (int r = 0; r < 16; ++r) out[16 * t + r] = DotOddLength(n, w, r, x, t);
    return;
  }
  const int64_t steps = n / 16;
  alignas(64) __m512 acc[16 * 16];  // [token][row]
  if (steps == 0)
    for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t s0 = 0; s0 < steps; s0 += kChunk) {
    const int64_t len = std::min(kChunk, steps - s0);
    const float* wc = w + 256 * s0;
    const float* xc = x + 256 * s0;
    const bool first = s0 == 0;
    // Tokens 0-5, 6-11, 12-15 against row quads.
    for (int q = 0; q < 16; q += 4) {
      Tile<4, 6>(wc + 16 * q, xc, len, &acc[q], first);
      Tile<4, 6>(wc + 16 * q, xc + 16 * 6, len, &acc[16 * 6 + q], first);
      Tile<4, 4>(wc + 16 * q, xc + 16 * 12, len, &acc[16 * 12 + q], first);
    }
  }
  for (int t = 0; t < 16; ++t) _mm512_storeu_ps(out + 16 * t, Reduce16(&acc[16 * t]));
}

}  // namespace

void AddF16x16Prompt(KernelTable* t) {
  const int f16 = static_cast<int>(DType::kF16);
  t->vec_dot16x16[f16] = DotF16x16x16;
  t->decode16[f16] = Decode;
  t->decoded16_bytes[f16] = 64;
  t->pack16[f16] = Pack;
  t->packed16_bytes[f16] = 64;
  // 2048 columns: 64 rows (512 KB) per chunk; 5632: 32 rows (704 KB). Over
  // 2048 x 2048 by 512 tokens this measured 59% of the fma peak against 43%
  // at sixteen rows, and 32 rows beat 64 at 5632 columns (51% and 47%).
  t->decoded16_chunk_bytes[f16] = 768 << 10;
}

}  // namespace llmtk::kernels_internal

#endif
