// The sixteen-row, sixteen-token F16 prompt kernel (kernels/avx512_f16_pp.cc)
// against the scalar reference, bit for bit: directly (lengths that are and
// are not multiples of 16 and of its column chunk), and through MatMul with
// row and token counts that leave remainders and chunks of several row
// groups. BF16, which has no such kernel, is checked to be unaffected.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

namespace llmtk {
namespace {

using namespace kernels_internal;

constexpr int kF16 = static_cast<int>(DType::kF16);

bool HaveKernel() { return IsaAvailable(Isa::kAvx512) && Avx512Table().vec_dot16x16[kF16] != nullptr; }

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Normal values of both signs and a wide range of magnitudes (products and
// sums then round often), with exact zeros, F16 subnormals and the largest
// finite F16 now and then.
std::vector<uint16_t> HalfRows(int64_t rows, int64_t n, std::mt19937& rng) {
  std::vector<uint16_t> v(rows * n);
  std::normal_distribution<float> g(0.f, 1.f);
  std::uniform_int_distribution<int> e(-6, 6);
  for (auto& h : v) {
    const int kind = static_cast<int>(rng() % 64);
    h = kind == 0   ? uint16_t{0}
        : kind == 1 ? static_cast<uint16_t>(rng() % 0x400 | (rng() & 1) << 15)  // subnormal
        : kind == 2 ? uint16_t{0x7BFF}
                    : Fp32ToFp16(std::ldexp(g(rng), e(rng)));
  }
  return v;
}

uint8_t* Align64(std::vector<uint8_t>& v) {
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t{63});
}

TEST(KernelsF16Prompt, SixteenBySixteenMatchesTheScalarReferenceBitForBit) {
  if (!HaveKernel()) GTEST_SKIP() << "no AVX-512";
  const KernelTable& kt = Avx512Table();
  std::mt19937 rng(71);
  // 16 and 48: one short chunk; 1040: 65 steps, a chunk and a leftover
  // step; 2064: several chunks; the rest not multiples of 16 (DotF16's
  // other order: 64-column steps and a double tail), 7 and 63 without any
  // 64-column step.
  for (int64_t n : {16, 48, 1040, 2064, 7, 63, 100, 200, 1000}) {
    // Twice the rows and tokens, every other one used: strides wider than
    // the rows, as in a matrix with more columns.
    const auto w = HalfRows(32, n, rng);
    const auto a = HalfRows(32, n, rng);
    const size_t stride = 2 * n * sizeof(uint16_t);
    std::vector<uint8_t> dec(n * kt.decoded16_bytes[kF16] + 64), pk(n * kt.packed16_bytes[kF16] + 64);
    kt.decode16[kF16](n, w.data(), stride, Align64(dec));
    kt.pack16[kF16](reinterpret_cast<const uint8_t*>(a.data()), stride, n, Align64(pk));
    alignas(64) float out[256];
    kt.vec_dot16x16[kF16](n, Align64(dec), Align64(pk), nullptr, 0, out);
    for (int t = 0; t < 16; ++t)
      for (int r = 0; r < 16; ++r) {
        const float ref = VecDot(DType::kF16, n, &w[2 * r * n], &a[2 * t * n], Isa::kScalar);
        ASSERT_EQ(Bits(out[16 * t + r]), Bits(ref)) << "n=" << n << " row " << r << " token " << t;
      }
  }
}

TEST(KernelsF16Prompt, MatMulMatchesTheScalarReferenceWithRemainders) {
  std::mt19937 rng(72);
  const ParallelFor reversed = [](size_t n, const std::function<void(size_t)>& fn) {
    for (size_t i = n; i-- > 0;) fn(i);
  };
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (!IsaAvailable(isa)) continue;
    // Rows: one group of sixteen, chunks of several groups with eight- and
    // one-row leftovers (the 48- and 100-column chunks hold four groups, the
    // 4112-column ones two). Tokens: whole sixteen-token tiles, leftovers, fewer
    // than sixteen.
    for (int64_t cols : {48, 4112, 100})
      for (int64_t rows : {16, 57, 137})
        for (int64_t ntok : {16, 45, 9}) {
          SCOPED_TRACE(std::string(IsaName(isa)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                       " tokens=" + std::to_string(ntok));
          const auto w = HalfRows(rows, cols, rng);
          const auto x = HalfRows(ntok, cols, rng);
          const EncodedActivations a{x.data(), ntok, static_cast<size_t>(cols) * 2};
          const WeightMatrix wm{DType::kF16, rows, cols, w.data()};
          std::vector<float> y1(ntok * rows), y2(ntok * rows);
          MatMul(wm, a, y1.data(), rows, nullptr, isa);
          MatMul(wm, a, y2.data(), rows, reversed, isa, 2);  // fewer row groups per chunk
          for (int64_t t = 0; t < ntok; ++t)
            for (int64_t r = 0; r < rows; ++r) {
              const float ref = VecDot(DType::kF16, cols, &w[r * cols], &x[t * cols], Isa::kScalar);
              ASSERT_EQ(Bits(y1[t * rows + r]), Bits(ref)) << "row " << r << " token " << t;
              ASSERT_EQ(Bits(y2[t * rows + r]), Bits(ref)) << "row " << r << " token " << t << " (threaded)";
            }
        }
  }
}

TEST(KernelsF16Prompt, Bf16HasNoPromptKernelAndMatchesTheScalarReference) {
  EXPECT_EQ(Avx512Table().vec_dot16x16[static_cast<int>(DType::kBF16)], nullptr);
  std::mt19937 rng(73);
  const int64_t rows = 37, cols = 256, ntok = 21;
  std::vector<uint16_t> w(rows * cols), x(ntok * cols);
  std::normal_distribution<float> g(0.f, 1.f);
  for (auto& v : w) v = Fp32ToBf16(g(rng));
  for (auto& v : x) v = Fp32ToBf16(g(rng));
  const EncodedActivations a{x.data(), ntok, static_cast<size_t>(cols) * 2};
  std::vector<float> y(ntok * rows);
  MatMul({DType::kBF16, rows, cols, w.data()}, a, y.data(), rows);
  for (int64_t t = 0; t < ntok; ++t)
    for (int64_t r = 0; r < rows; ++r)
      ASSERT_EQ(Bits(y[t * rows + r]), Bits(VecDot(DType::kBF16, cols, &w[r * cols], &x[t * cols], Isa::kScalar)))
          << "row " << r << " token " << t;
}

}  // namespace
}  // namespace llmtk
