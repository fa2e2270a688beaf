// VecDotGgml: one weight row times one activation row the way ggml's own
// vec_dot kernels add it, never tinyBLAS's order. llama.cpp's mul_mat_id
// (the experts of a mixture) calls vec_dot row by row, so F32/F16/BF16
// expert weights round as ggml_vec_dot_f32/f16/bf16 do on an AVX-512 CPU:
// 64-element steps into 4 x 16 lanes (BF16: two 32-element accumulators),
// folded, reduced, then the leftovers. Quantized types already follow
// vec_dot in VecDot.
//
// llama.cpp's mul_mat takes the same path whenever llamafile_sgemm declines:
// for one activation row (generation steps, the last layer's feed-forward
// when one position's logits are wanted, attention's KQ and P·V of a
// one-token batch) and, for float weights, a row count not divisible by 4.
// MatMulGgml, DotRowsGgml and the P·V steps below are those products.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"
#include "lib/kernels/vec_dot_ggml.h"

namespace llmtk {
namespace {

using kernels_internal::GgmlF32Tail;
using kernels_internal::ReduceCanonical16;

template <bool kF16>
float DotFloatSteps(int64_t n, const void* w, const void* a) {
  auto load = [](const void* p, int64_t i) {
    if constexpr (kF16) {
      return Fp16ToFp32(static_cast<const uint16_t*>(p)[i]);
    } else {
      return static_cast<const float*>(p)[i];
    }
  };
  const int64_t np = n & ~int64_t{63};
  float acc[4][16] = {};
  for (int64_t i = 0; i < np; i += 64)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 16; ++l)
        acc[j][l] = std::fma(load(w, i + 16 * j + l), load(a, i + 16 * j + l), acc[j][l]);
  float folded[16];
  for (int l = 0; l < 16; ++l) folded[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
  const float head = ReduceCanonical16(folded);
  if constexpr (kF16) {
    double s = head;
    for (int64_t i = np; i < n; ++i) s += static_cast<double>(load(w, i) * load(a, i));
    return static_cast<float>(s);
  } else {
    return GgmlF32Tail(head, np, n, [&](int64_t i) { return std::pair(load(w, i), load(a, i)); });
  }
}

// ggml_vec_dot_bf16 with AVX512-BF16: VDPBF16PS into two accumulators over
// 64-element steps, each reduced into a double, the rest added in double.
float DotBf16Steps(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  auto dp = [](float acc[16], const uint16_t* p, const uint16_t* q) {
    for (int j = 0; j < 16; ++j) {
      acc[j] = std::fma(Bf16ToFp32(p[2 * j + 1]), Bf16ToFp32(q[2 * j + 1]), acc[j]);
      acc[j] = std::fma(Bf16ToFp32(p[2 * j]), Bf16ToFp32(q[2 * j]), acc[j]);
    }
  };
  float c1[16] = {}, c2[16] = {};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    dp(c1, x + i, y + i);
    dp(c2, x + i + 32, y + i + 32);
  }
  double s = static_cast<double>(ReduceCanonical16(c1));
  s += static_cast<double>(ReduceCanonical16(c2));
  for (; i < n; ++i) s += static_cast<double>(Bf16ToFp32(x[i]) * Bf16ToFp32(y[i]));
  return static_cast<float>(s);
}

}  // namespace

double SoftmaxExpTail(float* s, int64_t n, float mx) {
  double sum = 0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float grp[16];
    for (int l = 0; l < 16; ++l) grp[l] = s[i + l] = kernels_internal::GgmlExpf(s[i + l] - mx);
    sum += static_cast<double>(ReduceCanonical16(grp));
  }
  for (; i < n; ++i) {
    s[i] = std::exp(s[i] - mx);
    sum += static_cast<double>(s[i]);
  }
  return sum;
}

namespace {

using GgmlDotFn = kernels_internal::GgmlDotFn;

// The float kernel for `w` on `isa` (BF16: the scalar reference on every
// ISA, as VecDot's BF16); null for quantized types, whose VecDot already
// is ggml's vec_dot.
GgmlDotFn FloatDot(DType w, Isa isa) {
  if (w == DType::kBF16) return DotBf16Steps;
  if (w != DType::kF32 && w != DType::kF16) return nullptr;
  const bool f16 = w == DType::kF16;
  GgmlDotFn f = nullptr;
  if (isa == Isa::kAvx512) f = f16 ? kernels_internal::GgmlDotF16Avx512() : kernels_internal::GgmlDotF32Avx512();
  if (isa == Isa::kAvx2) f = f16 ? kernels_internal::GgmlDotF16Avx2() : kernels_internal::GgmlDotF32Avx2();
  if (f != nullptr) return f;
  return f16 ? DotFloatSteps<true> : DotFloatSteps<false>;
}

}  // namespace

float VecDotGgml(DType w, int64_t n, const void* wrow, const void* arow, Isa isa) {
  const GgmlDotFn f = FloatDot(w, isa);
  return f != nullptr ? f(n, wrow, arow) : VecDot(w, n, wrow, arow, isa);
}
float VecDotGgml(DType w, int64_t n, const void* wrow, const void* arow) {
  return VecDotGgml(w, n, wrow, arow, BestIsa());
}

bool MulMatTakesVecDot(DType w, int64_t weight_rows, int64_t tokens) {
  if (tokens < 2) return true;
  const bool is_float = w == DType::kF32 || w == DType::kF16 || w == DType::kBF16;
  return is_float && weight_rows % 4 != 0;
}

void MatMulGgml(const WeightMatrix& w, const EncodedActivations& a, float* y, int64_t ldy, const ParallelFor& pfor,
                Isa isa, int threads) {
  const GgmlDotFn f = FloatDot(w.type, isa);
  if (f == nullptr) {
    MatMul(w, a, y, ldy, pfor, isa, threads);
    return;
  }
  const size_t wstride = RowBytes(w.type, w.cols);
  const auto* wdata = static_cast<const uint8_t*>(w.data);
  const auto* adata = static_cast<const uint8_t*>(a.data);
  // Long runs of rows per chunk: one row streams from memory at a time, and
  // the hardware prefetcher follows a single stream.
  const int64_t per = threads > 0 ? std::max<int64_t>(16, (w.rows + 4 * threads - 1) / (4 * threads)) : 64;
  const int64_t nchunks = (w.rows + per - 1) / per;
  auto body = [&](size_t c) {
    const int64_t r1 = std::min(w.rows, static_cast<int64_t>(c + 1) * per);
    for (int64_t t = 0; t < a.n; ++t)
      for (int64_t r = static_cast<int64_t>(c) * per; r < r1; ++r)
        y[t * ldy + r] = f(w.cols, wdata + r * wstride, adata + t * a.stride);
  };
  if (pfor && nchunks > 1) {
    pfor(static_cast<size_t>(nchunks), body);
  } else {
    for (int64_t c = 0; c < nchunks; ++c) body(c);
  }
}

void DotRowsGgml(DType t, int64_t n, const void* rows, size_t stride, int64_t count, const void* x, float* out,
                 Isa isa) {
  const GgmlDotFn f = FloatDot(t, isa);
  if (f == nullptr) return DotRows(t, n, rows, stride, count, x, out, isa);
  const auto* r = static_cast<const uint8_t*>(rows);
  for (int64_t p = 0; p < count; ++p) out[p] = f(n, r + p * stride, x);
}

void AccumulateRows64(DType t, const float* w, const void* rows, size_t stride, int64_t count, int64_t cell0,
                      float* lanes, int64_t n, Isa isa) {
  const auto* r = static_cast<const uint8_t*>(rows);
  for (int64_t p = 0; p < count; ++p) AxpyRow(t, w[p], r + p * stride, lanes + ((cell0 + p) % 64) * n, n, isa);
}

void ReduceLanes64(float* lanes, int64_t n, float* out, Isa isa) {
  // Lane l of accumulator j is lanes[16 * j + l]; GGML_F32_VEC_REDUCE folds
  // accumulator 2 into 0 and 3 into 1, then 1 into 0.
  for (int64_t l = 0; l < 16; ++l) {
    float* a0 = lanes + l * n;
    const float* a1 = lanes + (16 + l) * n;
    const float* a2 = lanes + (32 + l) * n;
    const float* a3 = lanes + (48 + l) * n;
    for (int64_t i = 0; i < n; ++i) a0[i] = (a0[i] + a2[i]) + (a1[i] + a3[i]);
  }
  ReduceLanes16(lanes, n, out, isa);
}

void AddRowsTail(DType t, const float* w, const void* rows, size_t stride, int64_t count, double* acc, int64_t n) {
  const auto* r = static_cast<const uint8_t*>(rows);
  for (int64_t p = 0; p < count; ++p) {
    if (t == DType::kF16) {
      const auto* v = reinterpret_cast<const uint16_t*>(r + p * stride);
      for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<double>(Fp16ToFp32(v[i]) * w[p]);
    } else {
      // ggml_vec_dot_f32's leftovers: whole groups of 8 (n_kv - np always
      // is), each product rounded to float, then added in float.
      const auto* v = reinterpret_cast<const float*>(r + p * stride);
      for (int64_t i = 0; i < n; ++i) {
        volatile float prod = v[i] * w[p];
        acc[i] = static_cast<float>(static_cast<float>(acc[i]) + prod);
      }
    }
  }
}

}  // namespace llmtk
