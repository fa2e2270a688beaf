// kernels/vec_dot_ggml: ggml's vec_dot order for float rows (the path
// llama.cpp c392e50's mul_mat takes for one activation row), its AVX2 and
// AVX-512 forms equal to the scalar reference bit for bit, MatMulGgml built
// of it, and one token's attention P·V in lanes equal to the vec_dot of the
// transposed V cache that ggml runs.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "lib/kernels/kernels.h"

namespace llmtk {
namespace {

const DType kFloatTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

std::vector<uint8_t> Row(DType t, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<uint8_t> out(RowBytes(t, n));
  for (int64_t i = 0; i < n; ++i) {
    const float v = g(rng);
    if (t == DType::kF32) std::memcpy(&out[i * 4], &v, 4);
    const uint16_t h = t == DType::kF16 ? Fp32ToFp16(v) : Fp32ToBf16(v);
    if (t != DType::kF32) std::memcpy(&out[i * 2], &h, 2);
  }
  return out;
}

std::vector<Isa> Isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
    if (IsaAvailable(isa)) v.push_back(isa);
  return v;
}

TEST(VecDotGgml, IsaFormsEqualTheScalarReference) {
  std::mt19937 rng(7);
  for (DType t : kFloatTypes) {
    for (int64_t n : {1, 7, 16, 32, 48, 63, 64, 65, 96, 100, 128, 130, 192, 256, 300, 1000, 3072}) {
      for (int rep = 0; rep < 4; ++rep) {
        const auto w = Row(t, n, rng), a = Row(t, n, rng);
        const float want = VecDotGgml(t, n, w.data(), a.data(), Isa::kScalar);
        for (Isa isa : Isas()) {
          const float got = VecDotGgml(t, n, w.data(), a.data(), isa);
          EXPECT_EQ(std::memcmp(&got, &want, 4), 0) << DTypeName(t) << " n=" << n << " " << IsaName(isa);
        }
      }
    }
  }
}

// For lengths tinyBLAS takes (multiples of 16, or 32 for BF16) the two
// orders differ: over random rows some products must round differently,
// or the one-token path would be indistinguishable from the batched one.
TEST(VecDotGgml, DiffersFromTheBatchedOrder) {
  std::mt19937 rng(11);
  for (DType t : kFloatTypes) {
    for (int64_t n : {64, 96, 256, 3072}) {
      int differ = 0;
      for (int rep = 0; rep < 50; ++rep) {
        const auto w = Row(t, n, rng), a = Row(t, n, rng);
        differ += VecDotGgml(t, n, w.data(), a.data()) != VecDot(t, n, w.data(), a.data());
      }
      EXPECT_GT(differ, 0) << DTypeName(t) << " n=" << n;
    }
  }
}

TEST(VecDotGgml, MulMatTakesVecDotWhereTinyBlasDeclines) {
  EXPECT_TRUE(MulMatTakesVecDot(DType::kF16, 4096, 1));
  EXPECT_TRUE(MulMatTakesVecDot(DType::kQ4_K, 4096, 1));
  EXPECT_FALSE(MulMatTakesVecDot(DType::kF16, 4096, 2));
  EXPECT_TRUE(MulMatTakesVecDot(DType::kF32, 4097, 8));
  EXPECT_TRUE(MulMatTakesVecDot(DType::kBF16, 6, 8));
  EXPECT_FALSE(MulMatTakesVecDot(DType::kQ8_0, 4097, 8));
}

TEST(VecDotGgml, MatMulGgmlIsVecDotGgmlPerElement) {
  std::mt19937 rng(3);
  const int64_t rows = 37, cols = 192;
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0}) {
    std::vector<uint8_t> w;
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> f(cols);
      std::normal_distribution<float> g(0.f, 1.f);
      for (float& v : f) v = g(rng);
      std::vector<uint8_t> row(RowBytes(t, cols));
      if (t == DType::kQ8_0) {
        QuantizeActivationRow(DType::kQ8_0, f.data(), cols, row.data());
      } else {
        row = Row(t, cols, rng);
      }
      w.insert(w.end(), row.begin(), row.end());
    }
    const WeightMatrix m{t, rows, cols, w.data()};
    for (int64_t tokens : {1, 3}) {
      std::vector<float> x(tokens * cols);
      std::normal_distribution<float> g(0.f, 1.f);
      for (float& v : x) v = g(rng);
      std::vector<uint8_t> buf(tokens * RowBytes(VecDotType(t), cols));
      const EncodedActivations a = EncodeActivations(t, x.data(), tokens, cols, buf.data());
      for (Isa isa : Isas()) {
        std::vector<float> y(tokens * rows, -1.f);
        MatMulGgml(m, a, y.data(), rows, nullptr, isa, 0);
        for (int64_t k = 0; k < tokens; ++k)
          for (int64_t r = 0; r < rows; ++r) {
            const float want = VecDotGgml(t, cols, w.data() + r * RowBytes(t, cols),
                                          static_cast<const uint8_t*>(a.data) + k * a.stride, Isa::kScalar);
            ASSERT_EQ(y[k * rows + r], want) << DTypeName(t) << " " << IsaName(isa) << " token " << k << " row " << r;
          }
      }
    }
  }
}

// ggml computes a one-token P·V as mul_mat(V transposed, probabilities):
// output i is vec_dot over n_kv cells of V's column i with the (F16 for an
// F16 cache) probabilities, zero past the used cells. The lanes, the fold
// and the tail must give those bits, however the cells come in runs.
TEST(VecDotGgml, PvLanesEqualVecDotOfTheTransposedCache) {
  std::mt19937 rng(5);
  const int64_t hd = 24;
  for (DType t : {DType::kF16, DType::kF32}) {
    const size_t elem = t == DType::kF16 ? 2 : 4;
    for (int64_t used : {1, 20, 32, 33, 64, 65, 100, 128, 150, 200}) {
      const int64_t n_kv = std::max<int64_t>(32, (used + 31) / 32 * 32);
      const int64_t np = n_kv & ~int64_t{63};
      const auto v = Row(t, used * hd, rng);  // cell p's row at p * hd
      std::vector<float> p(used);
      std::uniform_real_distribution<float> u(0.f, 1.f);
      for (float& x : p) x = t == DType::kF16 ? Fp16ToFp32(Fp32ToFp16(u(rng))) : u(rng);
      // ggml's operands: column i of V over n_kv cells, the probabilities.
      std::vector<float> want(hd);
      for (int64_t i = 0; i < hd; ++i) {
        std::vector<uint8_t> col(n_kv * elem, 0), prob(n_kv * elem, 0);
        for (int64_t c = 0; c < used; ++c) {
          std::memcpy(&col[c * elem], &v[(c * hd + i) * elem], elem);
          if (t == DType::kF16) {
            const uint16_t h = Fp32ToFp16(p[c]);
            std::memcpy(&prob[c * elem], &h, 2);
          } else {
            std::memcpy(&prob[c * elem], &p[c], 4);
          }
        }
        want[i] = VecDotGgml(t, n_kv, col.data(), prob.data(), Isa::kScalar);
      }
      for (Isa isa : Isas()) {
        // Two runs, as a ring cache wraps, split at an arbitrary cell.
        const int64_t split = std::min(np, used), cut = split / 3;
        std::vector<float> lanes(64 * hd, 0.f), out(hd);
        const size_t row = hd * elem;
        AccumulateRows64(t, p.data(), v.data(), row, cut, 0, lanes.data(), hd, isa);
        AccumulateRows64(t, p.data() + cut, v.data() + cut * row, row, split - cut, cut, lanes.data(), hd, isa);
        ReduceLanes64(lanes.data(), hd, out.data(), isa);
        std::vector<double> acc(out.begin(), out.end());
        AddRowsTail(t, p.data() + split, v.data() + split * row, row, used - split, acc.data(), hd);
        for (int64_t i = 0; i < hd; ++i)
          ASSERT_EQ(static_cast<float>(acc[i]), want[i])
              << DTypeName(t) << " used=" << used << " " << IsaName(isa) << " i=" << i;
      }
    }
  }
}

}  // namespace
}  // namespace llmtk
