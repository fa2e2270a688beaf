// K-quant super-block formats (Q2_K..Q6_K) and IQ4_NL: scalar references
// in ggml's exact operation order (ggml-quants.c, non-imatrix paths).
// Expressions keep ggml's association, e.g. `w * x * l` is (w * x) * l.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "lib/ggml/quant.h"
#include "lib/ggml/quant_k.h"

namespace llmtk::quant_kernels {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// make_qx_quants with rmse_type 1 and no importance weights (w = x^2):
// signed levels in [-nmax, nmax) stored offset by nmax; returns the scale.
float MakeQxQuants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = NearestInt(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = NearestInt(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = NearestInt(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// make_q3_quants with do_rmse: iterative per-element refinement.
float MakeQ3Quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = NearestInt(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        int new_l = NearestInt(x[i] * sl2 / slx);
        new_l = std::max(-nmax, std::min(nmax - 1, new_l));
        if (new_l != L[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// make_qkx2_quants: asymmetric levels [0, nmax] with a (negated) min; a
// scan over candidate scales keeps the least weighted error.
float MakeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                     uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = NearestInt(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = NearestInt(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// Scale and min j (6 bits each) of a Q4_K/Q5_K block.
inline void GetScaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Packs 8 6-bit scales and mins the way Q4_K/Q5_K store them.
void PackScalesMinsK4(const float* scales, const float* mins, float max_scale, float max_min, uint8_t* out) {
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t ls = static_cast<uint8_t>(NearestInt(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(NearestInt(inv_min * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    if (j < 4) {
      out[j] = ls;
      out[j + 4] = lm;
    } else {
      out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      out[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
}


#if defined(__AVX2__)
// ---- lane-parallel kernels ----
// The reference sums each sub-block's terms sequentially, so SIMD across the
// elements of one sub-block would reorder float additions. Instead each of
// the 8 AVX2 lanes runs one whole sub-block: every lane performs exactly the
// scalar operation sequence, so results are bit-identical.

inline __m256i NearestIntV(__m256 v) {
  const __m256i i = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
  return _mm256_sub_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

inline __m256 Blend(__m256 a, __m256 b, __m256 mask) { return _mm256_blendv_ps(a, b, mask); }

inline bool AllFiniteV(const float* x, int n) {
  const __m256 inf = _mm256_set1_ps(INFINITY);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 bad = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) {
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), inf, _CMP_NLT_UQ));
  }
  return _mm256_movemask_ps(bad) == 0;
}

// MakeQkx2Quants for 8 sub-blocks of n values at once (x and weights hold
// the 8 sub-blocks one after another; L likewise).
void MakeQkx2Quants8(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                     float* scale_out, float rmin, float rdelta, int nstep, bool use_mad) {
  alignas(32) float xt[32 * 8], wt[32 * 8];
  alignas(32) int32_t lt[32 * 8], laux[32 * 8];
  for (int i = 0; i < n; ++i) {
    for (int lane = 0; lane < 8; ++lane) {
      xt[i * 8 + lane] = x[lane * n + i];
      wt[i * 8 + lane] = weights[lane * n + i];
    }
  }
  const __m256 zero = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i vzero = _mm256_setzero_si256(), vnmax = _mm256_set1_epi32(nmax);
  __m256 min = _mm256_load_ps(xt), max = min;
  __m256 sum_w = _mm256_load_ps(wt);
  __m256 sum_x = _mm256_mul_ps(sum_w, min);
  for (int i = 1; i < n; ++i) {
    const __m256 xi = _mm256_load_ps(xt + i * 8), wi = _mm256_load_ps(wt + i * 8);
    min = Blend(min, xi, _mm256_cmp_ps(xi, min, _CMP_LT_OQ));
    max = Blend(max, xi, _mm256_cmp_ps(xi, max, _CMP_GT_OQ));
    sum_w = _mm256_add_ps(sum_w, wi);
    sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wi, xi));
  }
  min = Blend(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
  const __m256 min0 = min;
  const __m256 flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);
  const __m256 range = _mm256_sub_ps(max, min);
  __m256 iscale = _mm256_div_ps(_mm256_set1_ps(static_cast<float>(nmax)), range);
  __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
  __m256 best_error = zero;
  auto error_term = [&](__m256 s, __m256 m, __m256 lf, __m256 xi, __m256 wi) {
    __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(s, lf), m), xi);
    diff = use_mad ? _mm256_andnot_ps(sign, diff) : _mm256_mul_ps(diff, diff);
    return _mm256_mul_ps(wi, diff);
  };
  for (int i = 0; i < n; ++i) {
    const __m256 xi = _mm256_load_ps(xt + i * 8), wi = _mm256_load_ps(wt + i * 8);
    __m256i l = NearestIntV(_mm256_mul_ps(iscale, _mm256_sub_ps(xi, min)));
    l = _mm256_max_epi32(vzero, _mm256_min_epi32(vnmax, l));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lt + i * 8), l);
    best_error = _mm256_add_ps(best_error, error_term(scale, min, _mm256_cvtepi32_ps(l), xi, wi));
  }
  for (int is = 0; is <= nstep; ++is) {
    const float num = rmin + rdelta * is + nmax;
    // `min` may have moved in an earlier step; the reference divides by the
    // current range.
    iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(max, min));
    __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 xi = _mm256_load_ps(xt + i * 8), wi = _mm256_load_ps(wt + i * 8);
      __m256i l = NearestIntV(_mm256_mul_ps(iscale, _mm256_sub_ps(xi, min)));
      l = _mm256_max_epi32(vzero, _mm256_min_epi32(vnmax, l));
      _mm256_store_si256(reinterpret_cast<__m256i*>(laux + i * 8), l);
      const __m256 lf = _mm256_cvtepi32_ps(l);
      const __m256 wl = _mm256_mul_ps(wi, lf);
      sum_l = _mm256_add_ps(sum_l, wl);
      sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, lf));
      sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, xi));
    }
    const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
    const __m256 dpos = _mm256_cmp_ps(D, zero, _CMP_GT_OQ);
    if (_mm256_movemask_ps(dpos) == 0) continue;
    __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
    __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
    const __m256 mpos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
    this_min = Blend(this_min, zero, mpos);
    this_scale = Blend(this_scale, _mm256_div_ps(sum_xl, sum_l2), mpos);
    __m256 cur_error = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 xi = _mm256_load_ps(xt + i * 8), wi = _mm256_load_ps(wt + i * 8);
      const __m256 lf = _mm256_cvtepi32_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(laux + i * 8)));
      cur_error = _mm256_add_ps(cur_error, error_term(this_scale, this_min, lf, xi, wi));
    }
    const __m256 upd = _mm256_and_ps(dpos, _mm256_cmp_ps(cur_error, best_error, _CMP_LT_OQ));
    if (_mm256_movemask_ps(upd) == 0) continue;
    const __m256i updi = _mm256_castps_si256(upd);
    for (int i = 0; i < n; ++i) {
      __m256i* p = reinterpret_cast<__m256i*>(lt + i * 8);
      _mm256_store_si256(p, _mm256_blendv_epi8(_mm256_load_si256(p),
                                               _mm256_load_si256(reinterpret_cast<const __m256i*>(laux + i * 8)), updi));
    }
    best_error = Blend(best_error, cur_error, upd);
    scale = Blend(scale, this_scale, upd);
    min = Blend(min, this_min, upd);
  }
  // Flat sub-blocks return early in the reference: L = 0, scale 0, min kept.
  min = Blend(min, min0, flat);
  scale = Blend(scale, zero, flat);
  alignas(32) float mins[8], scales[8];
  _mm256_store_ps(mins, _mm256_xor_ps(min, sign));
  _mm256_store_ps(scales, scale);
  const int flat_mask = _mm256_movemask_ps(flat);
  for (int lane = 0; lane < 8; ++lane) {
    the_min[lane] = mins[lane];
    scale_out[lane] = scales[lane];
    const bool is_flat = (flat_mask >> lane) & 1;
    for (int i = 0; i < n; ++i) L[lane * n + i] = is_flat ? 0 : static_cast<uint8_t>(lt[i * 8 + lane]);
  }
}

// MakeQxQuants (rmse_type 1, w = x^2) for 8 sub-blocks of n values at once.
void MakeQxQuants8(int n, int nmax, const float* x, int8_t* L, float* scale_out) {
  alignas(32) float xt[16 * 8];
  alignas(32) int32_t lt[16 * 8], laux[16 * 8];
  for (int i = 0; i < n; ++i) {
    for (int lane = 0; lane < 8; ++lane) xt[i * 8 + lane] = x[lane * n + i];
  }
  const __m256 zero = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i lo = _mm256_set1_epi32(-nmax), hi = _mm256_set1_epi32(nmax - 1);
  __m256 amax = zero, max = zero;
  for (int i = 0; i < n; ++i) {
    const __m256 xi = _mm256_load_ps(xt + i * 8);
    const __m256 ax = _mm256_andnot_ps(sign, xi);
    const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
    amax = Blend(amax, ax, gt);
    max = Blend(max, xi, gt);
  }
  const __m256 tiny = _mm256_cmp_ps(amax, _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
  // One pass at inverse scale `iscale`: levels into `dst`, sums returned.
  auto pass = [&](__m256 iscale, int32_t* dst, __m256* sumlx, __m256* suml2) {
    *sumlx = zero;
    *suml2 = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 xi = _mm256_load_ps(xt + i * 8);
      __m256i l = NearestIntV(_mm256_mul_ps(iscale, xi));
      l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, l));
      _mm256_store_si256(reinterpret_cast<__m256i*>(dst + i * 8), l);
      const __m256 lf = _mm256_cvtepi32_ps(l);
      const __m256 w = _mm256_mul_ps(xi, xi);
      *sumlx = _mm256_add_ps(*sumlx, _mm256_mul_ps(_mm256_mul_ps(w, xi), lf));
      *suml2 = _mm256_add_ps(*suml2, _mm256_mul_ps(_mm256_mul_ps(w, lf), lf));
    }
  };
  __m256 sumlx, suml2;
  pass(_mm256_div_ps(_mm256_set1_ps(static_cast<float>(-nmax)), max), lt, &sumlx, &suml2);
  __m256 scale = Blend(_mm256_div_ps(sumlx, suml2), zero, _mm256_cmp_ps(suml2, zero, _CMP_EQ_OQ));
  __m256 best = _mm256_mul_ps(scale, sumlx);
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float num = -(nmax + 0.1f * is);
    pass(_mm256_div_ps(_mm256_set1_ps(num), max), laux, &sumlx, &suml2);
    const __m256 upd = _mm256_and_ps(
        _mm256_cmp_ps(suml2, zero, _CMP_GT_OQ),
        _mm256_cmp_ps(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2), _CMP_GT_OQ));
    if (_mm256_movemask_ps(upd) == 0) continue;
    const __m256i updi = _mm256_castps_si256(upd);
    for (int i = 0; i < n; ++i) {
      __m256i* p = reinterpret_cast<__m256i*>(lt + i * 8);
      _mm256_store_si256(p, _mm256_blendv_epi8(_mm256_load_si256(p),
                                               _mm256_load_si256(reinterpret_cast<const __m256i*>(laux + i * 8)), updi));
    }
    const __m256 new_scale = _mm256_div_ps(sumlx, suml2);
    scale = Blend(scale, new_scale, upd);
    best = Blend(best, _mm256_mul_ps(new_scale, sumlx), upd);
  }
  scale = Blend(scale, zero, tiny);
  alignas(32) float scales[8];
  _mm256_store_ps(scales, scale);
  const int tiny_mask = _mm256_movemask_ps(tiny);
  for (int lane = 0; lane < 8; ++lane) {
    scale_out[lane] = scales[lane];
    const bool is_tiny = (tiny_mask >> lane) & 1;
    for (int i = 0; i < n; ++i) L[lane * n + i] = is_tiny ? 0 : static_cast<int8_t>(lt[i * 8 + lane] + nmax);
  }
}

// MakeQ3Quants (with its rmse refinement) for 8 sub-blocks of n values at
// once. Each lane refines its own levels in the reference's element order
// and stops when its own pass changes nothing, exactly as the scalar loop.
void MakeQ3Quants8(int n, int nmax, const float* x, int8_t* L, float* scale_out) {
  alignas(32) float xt[16 * 8];
  alignas(32) int32_t lt[16 * 8];
  for (int i = 0; i < n; ++i) {
    for (int lane = 0; lane < 8; ++lane) xt[i * 8 + lane] = x[lane * n + i];
  }
  const __m256 zero = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i lo = _mm256_set1_epi32(-nmax), hi = _mm256_set1_epi32(nmax - 1);
  __m256 amax = zero, max = zero;
  for (int i = 0; i < n; ++i) {
    const __m256 xi = _mm256_load_ps(xt + i * 8);
    const __m256 ax = _mm256_andnot_ps(sign, xi);
    const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
    amax = Blend(amax, ax, gt);
    max = Blend(max, xi, gt);
  }
  const __m256 tiny = _mm256_cmp_ps(amax, _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
  const __m256 iscale = _mm256_div_ps(_mm256_set1_ps(static_cast<float>(-nmax)), max);
  __m256 sumlx = zero, suml2 = zero;
  for (int i = 0; i < n; ++i) {
    const __m256 xi = _mm256_load_ps(xt + i * 8);
    __m256i l = NearestIntV(_mm256_mul_ps(iscale, xi));
    l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, l));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lt + i * 8), l);
    const __m256 lf = _mm256_cvtepi32_ps(l);
    const __m256 w = _mm256_mul_ps(xi, xi);
    sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w, xi), lf));
    suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, lf), lf));
  }
  __m256 active = _mm256_andnot_ps(tiny, _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
  for (int itry = 0; itry < 5 && _mm256_movemask_ps(active) != 0; ++itry) {
    __m256 changed = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 xi = _mm256_load_ps(xt + i * 8);
      const __m256 w = _mm256_mul_ps(xi, xi);
      __m256i* lp = reinterpret_cast<__m256i*>(lt + i * 8);
      const __m256i li = _mm256_load_si256(lp);
      const __m256 lf = _mm256_cvtepi32_ps(li);
      const __m256 wx = _mm256_mul_ps(w, xi);
      const __m256 slx = _mm256_sub_ps(sumlx, _mm256_mul_ps(wx, lf));
      const __m256 sl2 = _mm256_sub_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w, lf), lf));
      __m256i nl = NearestIntV(_mm256_div_ps(_mm256_mul_ps(xi, sl2), slx));
      nl = _mm256_max_epi32(lo, _mm256_min_epi32(hi, nl));
      const __m256 nlf = _mm256_cvtepi32_ps(nl);
      const __m256 slx2 = _mm256_add_ps(slx, _mm256_mul_ps(wx, nlf));
      const __m256 sl22 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(w, nlf), nlf));
      const __m256 differs = _mm256_castsi256_ps(
          _mm256_xor_si256(_mm256_cmpeq_epi32(nl, li), _mm256_set1_epi32(-1)));
      const __m256 better = _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(slx2, slx2), suml2),
                                          _mm256_mul_ps(_mm256_mul_ps(sumlx, sumlx), sl22), _CMP_GT_OQ);
      __m256 upd = _mm256_and_ps(active, _mm256_cmp_ps(slx, zero, _CMP_GT_OQ));
      upd = _mm256_and_ps(upd, differs);
      upd = _mm256_and_ps(upd, _mm256_and_ps(_mm256_cmp_ps(sl22, zero, _CMP_GT_OQ), better));
      if (_mm256_movemask_ps(upd) == 0) continue;
      _mm256_store_si256(lp, _mm256_blendv_epi8(li, nl, _mm256_castps_si256(upd)));
      sumlx = Blend(sumlx, slx2, upd);
      suml2 = Blend(suml2, sl22, upd);
      changed = _mm256_or_ps(changed, upd);
    }
    active = _mm256_and_ps(active, changed);
  }
  const __m256 scale =
      Blend(Blend(zero, _mm256_div_ps(sumlx, suml2), _mm256_cmp_ps(suml2, zero, _CMP_GT_OQ)), zero, tiny);
  alignas(32) float scales[8];
  _mm256_store_ps(scales, scale);
  const int tiny_mask = _mm256_movemask_ps(tiny);
  for (int lane = 0; lane < 8; ++lane) {
    scale_out[lane] = scales[lane];
    const bool is_tiny = (tiny_mask >> lane) & 1;
    for (int i = 0; i < n; ++i) L[lane * n + i] = is_tiny ? 0 : static_cast<int8_t>(lt[i * 8 + lane] + nmax);
  }
}
#endif  // __AVX2__

// Shared by Q4_K and Q5_K: per-32 scales/mins, then requantize every value
// against the stored (fp16-rounded) scales.
void QuantizeK4Like(const float* x, int nmax, float rmin, float rdelta, int nstep, uint16_t* d_out,
                    uint16_t* dmin_out, uint8_t* scales_out, uint8_t* L, bool fast) {
  uint8_t Laux[32];
  float weights[32];
  float mins[kQK_K / 32];
  float scales[kQK_K / 32];
  float max_scale = 0, max_min = 0;
#if defined(__AVX2__)
  if (fast && AllFiniteV(x, kQK_K)) {
    float w8[kQK_K];
    for (int j = 0; j < kQK_K / 32; ++j) {
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) w8[32 * j + l] = av_x + std::fabs(x[32 * j + l]);
    }
    MakeQkx2Quants8(32, nmax, x, w8, L, mins, scales, rmin, rdelta, nstep, false);
    for (int j = 0; j < kQK_K / 32; ++j) {
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
  } else
#endif
  for (int j = 0; j < kQK_K / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = MakeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  PackScalesMinsK4(scales, mins, max_scale, max_min, scales_out);
  *d_out = Fp32ToFp16(max_scale / 63.f);
  *dmin_out = Fp32ToFp16(max_min / 63.f);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    GetScaleMinK4(j, scales_out, &sc, &m);
    const float d = Fp16ToFp32(*d_out) * sc;
    if (d == 0.0f) continue;
    const float dm = Fp16ToFp32(*dmin_out) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = NearestInt((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// best_index_int8: the level whose midpoints bracket x (x picks level i once
// it reaches the midpoint of levels i-1 and i; computed exactly as 2x).
inline int BestIndexInt8(int n, const int8_t* val, float x) {
  const float x2 = x + x;
  int idx = 0;
  for (int step = n >> 1; step > 0; step >>= 1) {
    const int j = idx + step;
    idx = (x2 >= static_cast<float>(val[j - 1] + val[j])) ? j : idx;
  }
  return idx;
}

}  // namespace

namespace {
void QuantizeQ2_KImpl(const float* x, BlockQ2_K* y, int64_t k, bool fast) {
  const int64_t nb = k / kQK_K;
  uint8_t L[kQK_K];
  uint8_t Laux[16];
  float weights[16];
  float mins[kQK_K / 16];
  float scales[kQK_K / 16];
  const float q4scale = 15.f;
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0, max_min = 0;
#if defined(__AVX2__)
    if (fast && AllFiniteV(x, kQK_K)) {
      float w16[kQK_K];
      for (int l = 0; l < kQK_K; ++l) w16[l] = std::fabs(x[l]);
      MakeQkx2Quants8(16, 3, x, w16, L, mins, scales, -0.5f, 0.1f, 15, true);
      MakeQkx2Quants8(16, 3, x + 128, w16 + 128, L + 128, mins + 8, scales + 8, -0.5f, 0.1f, 15, true);
      for (int j = 0; j < kQK_K / 16; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
      }
    } else
#endif
    for (int j = 0; j < kQK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = MakeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(NearestInt(iscale * scales[j]));
      y[i].d = Fp32ToFp16(max_scale / q4scale);
    } else {
      for (int j = 0; j < kQK_K / 16; ++j) y[i].scales[j] = 0;
      y[i].d = Fp32ToFp16(0.f);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < kQK_K / 16; ++j) {
        const int l = NearestInt(iscale * mins[j]);
        y[i].scales[j] = static_cast<uint8_t>(y[i].scales[j] | (l << 4));
      }
      y[i].dmin = Fp32ToFp16(max_min / q4scale);
    } else {
      y[i].dmin = Fp32ToFp16(0.f);
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = Fp16ToFp32(y[i].d) * (y[i].scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = Fp16ToFp32(y[i].dmin) * (y[i].scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = NearestInt((x[16 * j + ii] + dm) / d);
        L[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
      }
    }
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        y[i].qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                                  (L[j + l + 96] << 6));
      }
    }
  }
}
}  // namespace

void QuantizeQ2_KRef(const float* x, BlockQ2_K* y, int64_t k) { QuantizeQ2_KImpl(x, y, k, false); }
void QuantizeQ2_KFast(const float* x, BlockQ2_K* y, int64_t k) { QuantizeQ2_KImpl(x, y, k, true); }

namespace {
void QuantizeQ3_KImpl(const float* x, BlockQ3_K* y, int64_t k, bool fast) {
  const int64_t nb = k / kQK_K;
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0, amax = 0;
#if defined(__AVX2__)
    if (fast && AllFiniteV(x, kQK_K)) {
      MakeQ3Quants8(16, 4, x, L, scales);
      MakeQ3Quants8(16, 4, x + 128, L + 128, scales + 8);
    } else
#endif
    for (int j = 0; j < kQK_K / 16; ++j) scales[j] = MakeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    std::memset(y[i].scales, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) {
        int8_t l = static_cast<int8_t>(NearestInt(iscale * scales[j]));
        l = static_cast<int8_t>(std::max<int>(-32, std::min<int>(31, l)) + 32);
        if (j < 8) {
          y[i].scales[j] = l & 0xF;
        } else {
          y[i].scales[j - 8] = static_cast<uint8_t>(y[i].scales[j - 8] | ((l & 0xF) << 4));
        }
        l = static_cast<int8_t>(l >> 4);
        y[i].scales[j % 4 + 8] = static_cast<uint8_t>(y[i].scales[j % 4 + 8] | (l << (2 * (j / 4))));
      }
      y[i].d = Fp32ToFp16(1 / iscale);
    } else {
      y[i].d = Fp32ToFp16(0.f);
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sc = j < 8 ? y[i].scales[j] & 0xF : y[i].scales[j - 8] >> 4;
      sc = (sc | (((y[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
      const float d = Fp16ToFp32(y[i].d) * sc;
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = NearestInt(x[16 * j + ii] / d);
        l = std::max(-4, std::min(3, l));
        L[16 * j + ii] = static_cast<int8_t>(l + 4);
      }
    }
    std::memset(y[i].hmask, 0, kQK_K / 8);
    // High bit of quants 0..31 goes to bit 0 of hmask[0..31], 32..63 to bit 1, ...
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < kQK_K; ++j) {
      if (L[j] > 3) {
        y[i].hmask[m] |= hm;
        L[j] = static_cast<int8_t>(L[j] - 4);
      }
      if (++m == kQK_K / 8) {
        m = 0;
        hm = static_cast<uint8_t>(hm << 1);
      }
    }
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        y[i].qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                                  (L[j + l + 96] << 6));
      }
    }
  }
}
}  // namespace

void QuantizeQ3_KRef(const float* x, BlockQ3_K* y, int64_t k) { QuantizeQ3_KImpl(x, y, k, false); }
void QuantizeQ3_KFast(const float* x, BlockQ3_K* y, int64_t k) { QuantizeQ3_KImpl(x, y, k, true); }

namespace {
void QuantizeQ4_KImpl(const float* x, BlockQ4_K* y, int64_t k, bool fast) {
  const int64_t nb = k / kQK_K;
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    QuantizeK4Like(x, 15, -1.f, 0.1f, 20, &y[i].d, &y[i].dmin, y[i].scales, L, fast);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
      q += 32;
    }
  }
}
}  // namespace

void QuantizeQ4_KRef(const float* x, BlockQ4_K* y, int64_t k) { QuantizeQ4_KImpl(x, y, k, false); }
void QuantizeQ4_KFast(const float* x, BlockQ4_K* y, int64_t k) { QuantizeQ4_KImpl(x, y, k, true); }

namespace {
void QuantizeQ5_KImpl(const float* x, BlockQ5_K* y, int64_t k, bool fast) {
  const int64_t nb = k / kQK_K;
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    QuantizeK4Like(x, 31, -0.5f, 0.1f, 15, &y[i].d, &y[i].dmin, y[i].scales, L, fast);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK_K; n += 64) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        int l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
      ql += 32;
    }
  }
}
}  // namespace

void QuantizeQ5_KRef(const float* x, BlockQ5_K* y, int64_t k) { QuantizeQ5_KImpl(x, y, k, false); }
void QuantizeQ5_KFast(const float* x, BlockQ5_K* y, int64_t k) { QuantizeQ5_KImpl(x, y, k, true); }

namespace {
void QuantizeQ6_KImpl(const float* x, BlockQ6_K* y, int64_t k, bool fast) {
  const int64_t nb = k / kQK_K;
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0, max_abs_scale = 0;
#if defined(__AVX2__)
    if (fast && AllFiniteV(x, kQK_K)) {
      MakeQxQuants8(16, 32, x, L, scales);
      MakeQxQuants8(16, 32, x + 128, L + 128, scales + 8);
      for (int ib = 0; ib < kQK_K / 16; ++ib) {
        const float abs_scale = std::fabs(scales[ib]);
        if (abs_scale > max_abs_scale) {
          max_abs_scale = abs_scale;
          max_scale = scales[ib];
        }
      }
    } else
#endif
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      y[i].d = Fp32ToFp16(0.f);
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = Fp32ToFp16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      y[i].scales[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = Fp16ToFp32(y[i].d) * y[i].scales[j];
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = NearestInt(x[16 * j + ii] / d);
        l = std::max(-32, std::min(31, l));
        L[16 * j + ii] = static_cast<int8_t>(l + 32);
      }
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l] & 0xF;
        const uint8_t q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF;
        const uint8_t q4 = L[j + l + 96] & 0xF;
        ql[l] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                     ((L[j + l + 96] >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
  }
}
}  // namespace

void QuantizeQ6_KRef(const float* x, BlockQ6_K* y, int64_t k) { QuantizeQ6_KImpl(x, y, k, false); }
void QuantizeQ6_KFast(const float* x, BlockQ6_K* y, int64_t k) { QuantizeQ6_KImpl(x, y, k, true); }

// quantize_iq4_nl without importance weights (ntry 7, w = x^2): what
// llama-quantize writes; ggml's quantize_row_iq4_nl_ref (ntry -1) differs.
void QuantizeIQ4_NLRef(const float* x, BlockIQ4_NL* y, int64_t k) {
  const int64_t nb = k / kQK4_NL;
  constexpr int ntry = 7;
  const int8_t* values = kIQ4NLValues;
  uint8_t L[kQK4_NL];
  float weight[kQK4_NL];
  for (int64_t ib = 0; ib < nb; ++ib, x += kQK4_NL) {
    std::memset(y[ib].qs, 0, sizeof(y[ib].qs));
    for (int j = 0; j < kQK4_NL; ++j) weight[j] = x[j] * x[j];
    float amax = 0, max = 0;
    for (int j = 0; j < kQK4_NL; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    float scale;
    if (amax < kGroupMaxEps) {
      scale = 0;
    } else {
      float d = -max / values[0];
      float id = 1 / d;
      float sumqx = 0, sumq2 = 0;
      for (int j = 0; j < kQK4_NL; ++j) {
        const float al = id * x[j];
        const int l = BestIndexInt8(16, values, al);
        const float q = values[l];
        const float w = weight[j];
        sumqx += w * q * x[j];
        sumq2 += w * q * q;
      }
      d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
      float best = d * sumqx;
      for (int itry = -ntry; itry <= ntry; ++itry) {
        id = (itry + values[0]) / max;
        sumqx = sumq2 = 0;
        for (int j = 0; j < kQK4_NL; ++j) {
          const float al = id * x[j];
          const int l = BestIndexInt8(16, values, al);
          const float q = values[l];
          const float w = weight[j];
          sumqx += w * q * x[j];
          sumq2 += w * q * q;
        }
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          d = sumqx / sumq2;
          best = d * sumqx;
        }
      }
      scale = d;
    }
    y[ib].d = Fp32ToFp16(scale);
    const float id = scale != 0.0f ? 1 / scale : 0;
    for (int j = 0; j < kQK4_NL; ++j) L[j] = static_cast<uint8_t>(BestIndexInt8(16, values, id * x[j]));
    for (int j = 0; j < 16; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[16 + j] << 4));
  }
}

void DequantizeQ2_K(const BlockQ2_K* x, float* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const float min = Fp16ToFp32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int n = 0; n < kQK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        uint8_t sc = x[i].scales[is++];
        float dl = d * (sc & 0xF), ml = min * (sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l] >> shift) & 3) - ml;
        sc = x[i].scales[is++];
        dl = d * (sc & 0xF);
        ml = min * (sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l + 16] >> shift) & 3) - ml;
        shift += 2;
      }
      q += 32;
    }
  }
}

void DequantizeQ3_K(const BlockQ3_K* x, float* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float d_all = Fp16ToFp32(x[i].d);
    int8_t scales[16];
    for (int j = 0; j < 16; ++j) {
      const int lo = j < 8 ? x[i].scales[j] & 0xF : x[i].scales[j - 8] >> 4;
      const int hi = (x[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3;
      scales[j] = static_cast<int8_t>((lo | (hi << 4)) - 32);
    }
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    uint8_t m = 1;
    int is = 0;
    for (int n = 0; n < kQK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        float dl = d_all * scales[is++];
        for (int l = 0; l < 16; ++l) *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
        dl = d_all * scales[is++];
        for (int l = 0; l < 16; ++l) *y++ = dl * (((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
        shift += 2;
        m = static_cast<uint8_t>(m << 1);
      }
      q += 32;
    }
  }
}

void DequantizeQ4_K(const BlockQ4_K* x, float* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* q = x[i].qs;
    const float d = Fp16ToFp32(x[i].d);
    const float min = Fp16ToFp32(x[i].dmin);
    int is = 0;
    for (int j = 0; j < kQK_K; j += 64) {
      uint8_t sc, m;
      GetScaleMinK4(is, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      GetScaleMinK4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

void DequantizeQ5_K(const BlockQ5_K* x, float* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const float d = Fp16ToFp32(x[i].d);
    const float min = Fp16ToFp32(x[i].dmin);
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQK_K; j += 64) {
      uint8_t sc, m;
      GetScaleMinK4(is, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      GetScaleMinK4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      ql += 32;
      is += 2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void DequantizeQ6_K(const BlockQ6_K* x, float* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n = 0; n < kQK_K; n += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void DequantizeQ8_K(const BlockQ8_K* x, float* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    for (int j = 0; j < kQK_K; ++j) *y++ = x[i].d * x[i].qs[j];
  }
}

void DequantizeIQ4_NL(const BlockIQ4_NL* x, float* y, int64_t k) {
  const int64_t nb = k / kQK4_NL;
  for (int64_t i = 0; i < nb; ++i, y += kQK4_NL) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK4_NL / 2; ++j) {
      y[j] = d * kIQ4NLValues[x[i].qs[j] & 0xf];
      y[j + kQK4_NL / 2] = d * kIQ4NLValues[x[i].qs[j] >> 4];
    }
  }
}

void DequantizeIQ4_XS(const BlockIQ4_XS* x, float* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* qs = x[i].qs;
    const float d = Fp16ToFp32(x[i].d);
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const int ls = ((x[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x[i].scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * (ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j + 0] = dl * kIQ4NLValues[qs[j] & 0xf];
        y[j + 16] = dl * kIQ4NLValues[qs[j] >> 4];
      }
      y += 32;
      qs += 16;
    }
  }
}

}  // namespace llmtk::quant_kernels
