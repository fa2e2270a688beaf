// VecDotGgml: one weight row times one activation row the way ggml's own
// vec_dot kernels add it, never tinyBLAS's order. llama.cpp's mul_mat_id
// (the experts of a mixture) calls vec_dot row by row, so F32/F16/BF16
// expert weights round as ggml_vec_dot_f32/f16/bf16 do on an AVX-512 CPU:
// 64-element steps into 4 x 16 lanes (BF16: two 32-element accumulators),
// folded, reduced, then the leftovers. Quantized types already follow
// vec_dot in VecDot.
#include <cmath>
#include <cstdint>

#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

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

float VecDotGgml(DType w, int64_t n, const void* wrow, const void* arow) {
  switch (w) {
    case DType::kF32: return DotFloatSteps<false>(n, wrow, arow);
    case DType::kF16: return DotFloatSteps<true>(n, wrow, arow);
    case DType::kBF16: return DotBf16Steps(n, wrow, arow);
    default: return VecDot(w, n, wrow, arow);
  }
}

}  // namespace llmtk
