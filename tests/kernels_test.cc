#include "lib/kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "lib/kernels/internal.h"
#include "lib/ggml/quant.h"

namespace llmtk {
namespace {

using namespace kernels_internal;

const DType kWeightTypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0,   DType::kQ4_0,
                              DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kIQ4_NL, DType::kQ2_K,
                              DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_XS,
                              DType::kIQ2_XXS, DType::kIQ3_XXS, DType::kIQ3_S,
                              DType::kIQ2_XS, DType::kIQ2_S, DType::kIQ1_S, DType::kIQ1_M};

// Offsets of the fp16 fields in each block (random bytes there could be NaN).
std::vector<int> HalfOffsets(DType t) {
  switch (t) {
    case DType::kQ4_0: case DType::kQ5_0: case DType::kQ8_0: case DType::kIQ4_NL: case DType::kIQ4_XS: case DType::kIQ2_XXS:
    case DType::kIQ3_XXS: case DType::kIQ3_S: case DType::kIQ2_XS: case DType::kIQ2_S: case DType::kIQ1_S: return {0};
    case DType::kQ4_1: case DType::kQ5_1: return {0, 2};
    case DType::kQ2_K: return {80, 82};
    case DType::kQ3_K: return {108};
    case DType::kQ4_K: case DType::kQ5_K: return {0, 2};
    case DType::kQ6_K: return {208};
    default: return {};
  }
}

std::vector<uint8_t> RandomWeights(DType t, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> w(RowBytes(t, n));
  std::normal_distribution<float> g(0.f, 1.f);
  std::uniform_real_distribution<float> u(0.001f, 0.05f);
  if (t == DType::kF32 || t == DType::kF16 || t == DType::kBF16) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = g(rng);
      if (t == DType::kF32) std::memcpy(&w[i * 4], &v, 4);
      const uint16_t h = t == DType::kF16 ? Fp32ToFp16(v) : Fp32ToBf16(v);
      if (t != DType::kF32) std::memcpy(&w[i * 2], &h, 2);
    }
    return w;
  }
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  const int bb = BlockBytes(t);
  for (size_t b = 0; b < w.size(); b += bb)
    for (int off : HalfOffsets(t)) {
      const uint16_t h = Fp32ToFp16(u(rng));
      std::memcpy(&w[b + off], &h, 2);
    }
  if (t == DType::kIQ1_M) {  // its fp16 is the top nibbles of the 4 scale words
    for (size_t b = 0; b < w.size(); b += bb) {
      const uint16_t h = Fp32ToFp16(u(rng));
      for (int k = 0; k < 4; ++k) {
        uint16_t sc;
        std::memcpy(&sc, &w[b + 48 + 2 * k], 2);
        sc = static_cast<uint16_t>((sc & 0x0fff) | (((h >> 4 * k) & 0xf) << 12));
        std::memcpy(&w[b + 48 + 2 * k], &sc, 2);
      }
    }
  }
  return w;
}

std::vector<float> RandomActivations(int64_t n, std::mt19937& rng) {
  std::vector<float> x(n);
  std::normal_distribution<float> g(0.f, 1.f);
  for (auto& v : x) v = g(rng);
  if (n > 3) x[3] = 0.f;  // an exact zero and a large outlier
  if (n > 5) x[5] = 40.f;
  return x;
}

// Decodes an activation row back to floats.
std::vector<float> DecodeActivations(DType at, const void* p, int64_t n) {
  std::vector<float> out(n);
  if (at == DType::kQ8_1) {
    const auto* b = static_cast<const BlockQ8_1*>(p);
    for (int64_t i = 0; i < n; ++i) out[i] = b[i / 32].qs[i % 32] * Fp16ToFp32(b[i / 32].d);
  } else if (at == DType::kQ8_K) {
    const auto* b = static_cast<const BlockQ8K*>(p);
    for (int64_t i = 0; i < n; ++i) out[i] = b[i / 256].qs[i % 256] * b[i / 256].d;
  } else {
    DequantizeRow(at, p, out.data(), n);
  }
  return out;
}

std::vector<int64_t> Lengths(DType t) {
  const int be = BlockElems(t);
  if (be == 1) return {1, 7, 15, 16, 17, 31, 33, 64, 100, 172, 1000};
  return {be, 2 * be, 3 * be, 7 * be, 16 * be};
}

TEST(Kernels, EveryIsaMatchesTheScalarReferenceBitForBit) {
  std::mt19937 rng(1234);
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512})
    if (IsaAvailable(isa)) isas.push_back(isa);
  if (isas.empty()) GTEST_SKIP() << "no SIMD variant on this CPU";
  for (DType t : kWeightTypes) {
    const DType at = VecDotType(t);
    for (int64_t n : Lengths(t)) {
      for (int rep = 0; rep < 4; ++rep) {
        const auto w = RandomWeights(t, n, rng);
        const auto x = RandomActivations(n, rng);
        std::vector<uint8_t> a_ref(RowBytes(at, n)), a(RowBytes(at, n));
        QuantizeActivationRow(at, x.data(), n, a_ref.data(), Isa::kScalar);
        const float ref = VecDot(t, n, w.data(), a_ref.data(), Isa::kScalar);
        for (Isa isa : isas) {
          QuantizeActivationRow(at, x.data(), n, a.data(), isa);
          ASSERT_EQ(a, a_ref) << DTypeName(t) << " n=" << n << " " << IsaName(isa);
          const float got = VecDot(t, n, w.data(), a.data(), isa);
          ASSERT_EQ(std::memcmp(&got, &ref, 4), 0)
              << DTypeName(t) << " n=" << n << " " << IsaName(isa) << ": " << got << " vs " << ref;
        }
      }
    }
  }
}

// ggml_vec_dot_f32's leftovers as the reference build computes them: groups
// of 8 with each product rounded to float before it is added, the last n % 8
// with fma. a*a = 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11, so after adding
// -(1 + 2^-11) a rounded product leaves 0 and an fma leaves 2^-24.
TEST(Kernels, F32LeftoversRoundGroupsOfEightAndFuseTheRest) {
  const float a = 1.0f + std::ldexp(1.0f, -12), c = -(1.0f + std::ldexp(1.0f, -11));
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    // n = 9: elements 0..7 are one rounded group, element 8 is fused.
    std::vector<float> w(9, 0.f), x(9, 0.f);
    w[0] = c, x[0] = 1.f, w[1] = a, x[1] = a;
    EXPECT_EQ(VecDot(DType::kF32, 9, w.data(), x.data(), isa), 0.f) << IsaName(isa);
    w.assign(9, 0.f), x.assign(9, 0.f);
    w[0] = c, x[0] = 1.f, w[8] = a, x[8] = a;
    EXPECT_EQ(VecDot(DType::kF32, 9, w.data(), x.data(), isa), std::ldexp(1.0f, -24)) << IsaName(isa);
  }
}

TEST(Kernels, DotEqualsDotOfDecodedRows) {
  std::mt19937 rng(99);
  for (DType t : kWeightTypes) {
    const DType at = VecDotType(t);
    for (int64_t n : Lengths(t)) {
      const auto w = RandomWeights(t, n, rng);
      const auto x = RandomActivations(n, rng);
      std::vector<uint8_t> a(RowBytes(at, n));
      QuantizeActivationRow(at, x.data(), n, a.data(), Isa::kScalar);
      std::vector<float> wf(n);
      DequantizeRow(t, w.data(), wf.data(), n);
      const auto af = DecodeActivations(at, a.data(), n);
      double expect = 0, mag = 0;
      for (int64_t i = 0; i < n; ++i) {
        expect += static_cast<double>(wf[i]) * af[i];
        mag += std::fabs(static_cast<double>(wf[i]) * af[i]);
      }
      const float got = VecDot(t, n, w.data(), a.data(), Isa::kScalar);
      // Q8_1 keeps its block sum as fp16, which the decoded rows do not see.
      const double rel = at == DType::kQ8_1 ? 1e-4 : 1e-5;
      EXPECT_NEAR(got, expect, rel * mag + 1e-6) << DTypeName(t) << " n=" << n;
    }
  }
}

TEST(Kernels, ActivationEncodingsFollowGgml) {
  // Q8_0: scale amax/127, values round(x*127/amax) with ties to even.
  std::vector<float> x(32, 0.f);
  x[0] = 127.f;
  x[1] = 0.5f;   // tie: rounds to 0
  x[2] = 1.5f;   // tie: rounds to 2
  x[3] = -2.5f;  // tie: rounds to -2
  BlockQ8_0 b;
  QuantizeActivationRow(DType::kQ8_0, x.data(), 32, &b, Isa::kScalar);
  EXPECT_EQ(Fp16ToFp32(b.d), 1.f);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 0);
  EXPECT_EQ(b.qs[2], 2);
  EXPECT_EQ(b.qs[3], -2);
  // Q8_K: the signed extreme maps to -127 (scale negative), clamped at 127.
  std::vector<float> k(256, 0.f);
  k[0] = 2.f;
  k[1] = -1.f;
  BlockQ8K q;
  QuantizeActivationRow(DType::kQ8_K, k.data(), 256, &q, Isa::kScalar);
  EXPECT_EQ(q.qs[0], -127);
  EXPECT_EQ(q.qs[1], 64);  // -127/2 * -1 = 63.5 -> 64 (ties to even)
  EXPECT_FLOAT_EQ(q.d, -2.f / 127.f);
  EXPECT_EQ(q.bsums[0], -63);
}

TEST(Kernels, HalfConversionsRoundToNearestEven) {
  EXPECT_EQ(Fp32ToFp16(1.f), 0x3C00);
  EXPECT_EQ(Fp32ToFp16(65504.f), 0x7BFF);
  EXPECT_EQ(Fp32ToFp16(65520.f), 0x7C00);
  EXPECT_EQ(Fp32ToFp16(1.f + 1.f / 2048), 0x3C00);  // tie to even
  EXPECT_EQ(Fp32ToFp16(1.f + 3.f / 2048), 0x3C02);
  EXPECT_EQ(Fp32ToFp16(5.9604645e-8f), 0x0001);  // smallest subnormal
  EXPECT_EQ(Fp32ToFp16(2.9802322e-8f), 0x0000);  // half of it: tie to even
  EXPECT_EQ(Fp32ToBf16(1.f + 1.f / 256), 0x3F80);
  EXPECT_EQ(Fp32ToBf16(1.f + 3.f / 256), 0x3F82);
  for (uint32_t h = 0; h < 0x7C00; ++h) {  // every finite half round-trips
    ASSERT_EQ(Fp32ToFp16(Fp16ToFp32(static_cast<uint16_t>(h))), h);
    ASSERT_EQ(Fp32ToFp16(Fp16ToFp32(static_cast<uint16_t>(h | 0x8000))), h | 0x8000);
  }
}

TEST(Kernels, AttentionLaneKernelsMatchTheScalarReference) {
  std::mt19937 rng(11);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    for (int64_t n : {1, 15, 16, 64, 80, 128, 131}) {
      const auto v = RandomActivations(n, rng);
      std::vector<uint16_t> v16(n);
      for (int64_t i = 0; i < n; ++i) v16[i] = Fp32ToFp16(v[i]);
      auto lanes = RandomActivations(16 * n, rng);
      for (DType t : {DType::kF32, DType::kF16}) {
        const void* row = t == DType::kF32 ? static_cast<const void*>(v.data()) : v16.data();
        std::vector<float> want(lanes.begin(), lanes.begin() + n), got = want;
        AxpyRow(t, 0.3183f, row, want.data(), n, Isa::kScalar);
        AxpyRow(t, 0.3183f, row, got.data(), n, isa);
        ASSERT_EQ(got, want) << IsaName(isa) << " " << DTypeName(t) << " n=" << n;
      }
      std::vector<float> want(n), got(n);
      ReduceLanes16(lanes.data(), n, want.data(), Isa::kScalar);
      ReduceLanes16(lanes.data(), n, got.data(), isa);
      ASSERT_EQ(got, want) << IsaName(isa) << " n=" << n;
      // The reference is the canonical tree: lane 0+8 first, not a running sum.
      float acc[16];
      for (int k = 0; k < 16; ++k) acc[k] = lanes[k * n];
      const float r0 = ((acc[0] + acc[8]) + (acc[4] + acc[12])) + ((acc[2] + acc[10]) + (acc[6] + acc[14]));
      const float r1 = ((acc[1] + acc[9]) + (acc[5] + acc[13])) + ((acc[3] + acc[11]) + (acc[7] + acc[15]));
      ASSERT_EQ(want[0], r0 + r1);
    }
  }
}

TEST(Kernels, SoftmaxAndSwiGluMatchTheScalarReference) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> wide(-120.f, 120.f);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    for (int64_t n : {1, 7, 16, 17, 100, 5632}) {
      std::vector<float> x(n), up(n);
      for (auto& v : x) v = wide(rng);
      for (auto& v : up) v = wide(rng) / 60;
      // Beyond ggml_v_expf's range (|n| > 192): exactly 0 and +inf.
      x[0] = -300.f;
      if (n > 1) x[1] = 300.f;
      std::vector<float> a = x, b = x;
      const double want = SoftmaxExp(a.data(), n, 2.5f, Isa::kScalar);
      const double got = SoftmaxExp(b.data(), n, 2.5f, isa);
      ASSERT_EQ(a, b) << IsaName(isa) << " n=" << n;
      ASSERT_EQ(got, want) << IsaName(isa) << " n=" << n;
      EXPECT_EQ(a[0], 0.f);
      a = x, b = x;
      SwiGlu(a.data(), up.data(), n, Isa::kScalar);
      SwiGlu(b.data(), up.data(), n, isa);
      ASSERT_EQ(a, b) << IsaName(isa) << " n=" << n;
    }
  }
  // The reference itself: ggml_v_expf is within 1.5 ulp of exp on its range.
  for (float v : {-87.f, -10.f, -1.f, 0.f, 0.5f, 1.f, 10.f, 88.f})
    EXPECT_NEAR(kernels_internal::GgmlExpf(v) / std::exp(v), 1.0, 2e-7) << v;
  EXPECT_EQ(kernels_internal::GgmlExpf(0.f), 1.f);
}

TEST(Kernels, RowLoopsEqualTheirSingleRowKernels) {
  std::mt19937 rng(17);
  const int64_t n = 64, count = 37;
  const size_t stride = 3 * n * sizeof(uint16_t);  // rows of a wider cache
  std::vector<uint16_t> rows(count * stride / 2);
  for (auto& v : rows) v = Fp32ToFp16(std::uniform_real_distribution<float>(-2, 2)(rng));
  std::vector<uint16_t> x(n);
  for (auto& v : x) v = Fp32ToFp16(std::uniform_real_distribution<float>(-2, 2)(rng));
  std::vector<float> dots(count);
  DotRows(DType::kF16, n, rows.data(), stride, count, x.data(), dots.data());
  auto row = [&](int64_t p) { return reinterpret_cast<const uint8_t*>(rows.data()) + p * stride; };
  for (int64_t p = 0; p < count; ++p) ASSERT_EQ(dots[p], VecDot(DType::kF16, n, row(p), x.data(), Isa::kScalar));
  std::vector<float> lanes(16 * n, 0.f), want(16 * n, 0.f);
  AccumulateRows(DType::kF16, dots.data(), rows.data(), stride, count, lanes.data(), n);
  for (int64_t p = 0; p < count; ++p) AxpyRow(DType::kF16, dots[p], row(p), want.data() + (p % 16) * n, n, Isa::kScalar);
  EXPECT_EQ(lanes, want);
}

// P·V over a head in one call, every ISA, F16 and F32 caches, ragged
// widths and position counts, onto lanes that already hold sums.
TEST(Kernels, AccumulateRowsEqualsAxpyInOrder) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> u(-2, 2);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    for (DType t : {DType::kF16, DType::kF32})
      for (int64_t n : {64, 70, 8})
        for (int64_t count : {1, 15, 16, 37}) {
          const size_t es = t == DType::kF16 ? 2 : 4, stride = 2 * n * es;
          std::vector<uint8_t> rows(count * stride);
          for (size_t i = 0; i + es <= rows.size(); i += es) {
            const float v = u(rng);
            if (t == DType::kF16) {
              const uint16_t h = Fp32ToFp16(v);
              std::memcpy(&rows[i], &h, 2);
            } else {
              std::memcpy(&rows[i], &v, 4);
            }
          }
          std::vector<float> w(count), lanes(16 * n), want;
          for (auto& v : w) v = u(rng);
          for (auto& v : lanes) v = u(rng);
          want = lanes;
          AccumulateRows(t, w.data(), rows.data(), stride, count, lanes.data(), n, isa);
          for (int64_t p = 0; p < count; ++p)
            AxpyRow(t, w[p], rows.data() + p * stride, want.data() + (p % 16) * n, n, Isa::kScalar);
          ASSERT_EQ(lanes, want) << IsaName(isa) << " " << DTypeName(t) << " n=" << n << " count=" << count;
        }
  }
}

TEST(Kernels, ScaleMaxAndScaleRoundEqualTheScalarReference) {
  std::mt19937 rng(29);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    for (int64_t n : {0, 1, 15, 16, 37, 600}) {
      // Scores of every magnitude, probabilities down to F16's subnormals.
      std::vector<float> s(n);
      for (auto& v : s) v = std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng), static_cast<int>(rng() % 40) - 30);
      auto a = s, b = s;
      const float ma = ScaleMax(a.data(), n, 0.125f, isa), mb = ScaleMax(b.data(), n, 0.125f, Isa::kScalar);
      EXPECT_EQ(ma, mb) << n;
      EXPECT_EQ(a, b) << n;
      if (n == 0) {
        EXPECT_EQ(ma, -INFINITY);
      }
      for (bool f16 : {false, true}) {
        auto c = s, d = s;
        for (auto& v : c) v = std::fabs(v);
        d = c;
        ScaleRound(c.data(), n, 0.37f, f16, isa);
        ScaleRound(d.data(), n, 0.37f, f16, Isa::kScalar);
        ASSERT_EQ(c, d) << IsaName(isa) << " n=" << n << " f16=" << f16;
      }
    }
  }
}

// One MatMul against VecDot's scalar reference, element by element, and
// against itself under other chunkings.
void CheckMatMul(Isa isa, DType t, int64_t rows, int64_t cols, int64_t ntok, std::mt19937& rng) {
  SCOPED_TRACE(std::string(IsaName(isa)) + " " + std::string(DTypeName(t)) + " " + std::to_string(rows) + "x" +
               std::to_string(cols) + " tokens=" + std::to_string(ntok));
  std::vector<uint8_t> w;
  for (int64_t r = 0; r < rows; ++r) {
    auto row = RandomWeights(t, cols, rng);
    w.insert(w.end(), row.begin(), row.end());
  }
  const auto x = RandomActivations(cols * ntok, rng);
  std::vector<uint8_t> buf(ntok * RowBytes(VecDotType(t), cols));
  const EncodedActivations a = EncodeActivations(t, x.data(), ntok, cols, buf.data());
  const WeightMatrix wm{t, rows, cols, w.data()};
  std::vector<float> y1(ntok * rows), y2(ntok * rows), y3(ntok * rows);
  MatMul(wm, a, y1.data(), rows, nullptr, isa);
  ParallelFor reversed = [](size_t n, const std::function<void(size_t)>& fn) {
    for (size_t i = n; i-- > 0;) fn(i);
  };
  MatMul(wm, a, y2.data(), rows, reversed, isa);
  EXPECT_EQ(y1, y2);
  MatMul(wm, a, y3.data(), rows, reversed, isa, /*threads=*/2);  // long matrix-vector chunks
  EXPECT_EQ(y1, y3);
  const size_t ws = RowBytes(t, cols);
  for (int64_t tok = 0; tok < ntok; ++tok)
    for (int64_t r = 0; r < rows; ++r)
      ASSERT_EQ(y1[tok * rows + r],
                VecDot(t, cols, w.data() + r * ws, static_cast<const uint8_t*>(a.data) + tok * a.stride, Isa::kScalar))
          << "row " << r << " token " << tok;
}

TEST(Kernels, MatMulEqualsVecDotWhateverTheThreads) {
  std::mt19937 rng(7);
  // 37 rows: multi-row kernels (groups of 8) and the single-row tail; 301:
  // several matrix-vector chunks; one token (the prefetching matrix-vector
  // path), five (four-token kernels and a leftover), thirteen (eight, four,
  // one), 21 and 37 (sixteen-token tiles with leftovers); every ISA here. Eleven blocks: Q4_0's eight-block
  // chunks and a ragged tail.
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    for (DType t : {DType::kF16, DType::kF32, DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
      const int64_t be = BlockElems(t);
      for (int64_t cols : {be == 1 ? int64_t{100} : 2 * be, be == 1 ? int64_t{64} : 3 * be, 4096 / be * be,
                           be == 1 ? int64_t{352} : 11 * be})
        for (int64_t rows : {37, 301})
          for (int64_t ntok : {1, 5, 13, 21, 37}) CheckMatMul(isa, t, rows, cols, ntok, rng);
    }
  }
}

// Fills Q8_K activation blocks: all -128, all 127, alternating, or random,
// by block, with bsums to match.
void ExtremeQ8K(std::vector<BlockQ8K>& act, int64_t nb, std::mt19937& rng) {
  std::uniform_real_distribution<float> ud(0.001f, 0.02f);
  for (size_t j = 0; j < act.size(); ++j) {
    BlockQ8K& y = act[j];
    const int64_t t = static_cast<int64_t>(j) / nb, b = static_cast<int64_t>(j) % nb;
    y.d = (t + b) % 7 == 0 ? 0.f : ud(rng);
    const int kind = static_cast<int>((t + 2 * b) % 4);
    for (int i = 0; i < QKK; ++i) {
      const int v = kind == 0 ? -128 : kind == 1 ? 127 : kind == 2 ? (i % 2 == 0 ? -128 : 127)
                                                                    : static_cast<int>(rng() % 256) - 128;
      y.qs[i] = static_cast<int8_t>(v);
    }
    for (int g = 0; g < QKK / 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y.qs[16 * g + i];
      y.bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

// Q4_K weight rows with every nibble 15 and every scale and min 63 in some
// super-blocks.
std::vector<uint8_t> ExtremeQ4K(int64_t rows, int64_t cols, std::mt19937& rng) {
  std::vector<uint8_t> w;
  for (int64_t r = 0; r < rows; ++r) {
    auto row = RandomWeights(DType::kQ4_K, cols, rng);
    auto* blk = reinterpret_cast<BlockQ4K*>(row.data());
    for (int64_t b = 0; b < cols / QKK; ++b) {
      if ((r + b) % 3 == 0) std::memset(blk[b].qs, 0xFF, sizeof(blk[b].qs));
      if ((r + b) % 2 == 0) std::memset(blk[b].scales, 0xFF, sizeof(blk[b].scales));
    }
    w.insert(w.end(), row.begin(), row.end());
  }
  return w;
}

// Both of Q4_K's sixteen-by-sixteen prompt kernels, called directly (MatMul
// uses one of them per machine), against the scalar VecDot bit for bit.
TEST(Kernels, Q4KPromptKernelsEqualScalar) {
  std::mt19937 rng(29);
  const int64_t cols = 5 * QKK, nb = cols / QKK;
  const auto w = ExtremeQ4K(16, cols, rng);
  std::vector<BlockQ8K> act(16 * nb);
  ExtremeQ8K(act, nb, rng);
  const size_t ws = RowBytes(DType::kQ4_K, cols);
  for (const auto& [name, k] : {std::pair{"vnni", Q4KPromptVnniKernels()}, std::pair{"amx", Q4KPromptAmxKernels()}}) {
    if (k.dot == nullptr) continue;
    std::vector<uint8_t> dec(nb * k.decoded_bytes + 64), packed(nb * k.packed_bytes + 64);
    auto align = [](std::vector<uint8_t>& v) {
      return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t{63});
    };
    k.decode(cols, w.data(), ws, align(dec));
    k.pack(reinterpret_cast<const uint8_t*>(act.data()), nb * sizeof(BlockQ8K), nb, align(packed));
    alignas(64) float out[256];
    k.dot(cols, align(dec), align(packed), nullptr, 0, out);
    for (int t = 0; t < 16; ++t)
      for (int r = 0; r < 16; ++r) {
        const float ref = VecDot(DType::kQ4_K, cols, w.data() + r * ws, &act[t * nb], Isa::kScalar);
        uint32_t got_bits, ref_bits;
        std::memcpy(&got_bits, &out[16 * t + r], 4);
        std::memcpy(&ref_bits, &ref, 4);
        ASSERT_EQ(got_bits, ref_bits) << name << " row " << r << " token " << t;
      }
  }
}

// Q4_K prompts' packed sixteen-by-sixteen kernel (kernels/avx512_q4_k_pp.cc)
// at its integer extremes: every nibble 15 and every scale and min 63 in
// some super-blocks, Q8_K values of -128 and 127 in others (each lane's
// four products then reach 7680 in magnitude, its int16 packing's bound),
// and random ones besides; 35 rows and 53 tokens leave rows and tokens to
// the other kernels too.
TEST(Kernels, Q4KPromptKernelEqualsScalarAtExtremes) {
  std::mt19937 rng(23);
  const int64_t rows = 35, cols = 6 * QKK, ntok = 53, nb = cols / QKK;
  const auto w = ExtremeQ4K(rows, cols, rng);
  std::vector<BlockQ8K> act(ntok * nb);
  ExtremeQ8K(act, nb, rng);
  const EncodedActivations a{act.data(), ntok, nb * sizeof(BlockQ8K)};
  const WeightMatrix wm{DType::kQ4_K, rows, cols, w.data()};
  const size_t ws = RowBytes(DType::kQ4_K, cols);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaAvailable(isa)) continue;
    std::vector<float> y(ntok * rows);
    MatMul(wm, a, y.data(), rows, nullptr, isa);
    for (int64_t t = 0; t < ntok; ++t)
      for (int64_t r = 0; r < rows; ++r) {
        const float ref = VecDot(DType::kQ4_K, cols, w.data() + r * ws, &act[t * nb], Isa::kScalar);
        uint32_t got_bits, ref_bits;
        std::memcpy(&got_bits, &y[t * rows + r], 4);
        std::memcpy(&ref_bits, &ref, 4);
        ASSERT_EQ(got_bits, ref_bits) << IsaName(isa) << " row " << r << " token " << t;
      }
  }
}

// Q4_K's one-token sixteen-row kernel (GFNI-decoded where the CPU has GFNI)
// at the same extremes: rows in sixteens, eights and ones, one to 70
// super-blocks (past 64 the bsum pairs are not hoisted).
TEST(Kernels, Q4KOneTokenEqualsScalarAtExtremes) {
  std::mt19937 rng(24);
  for (int64_t rows : {16, 35, 53})
    for (int64_t nb : {1, 6, 64, 70}) {
      const int64_t cols = nb * QKK;
      const auto w = ExtremeQ4K(rows, cols, rng);
      std::vector<BlockQ8K> act(nb);
      ExtremeQ8K(act, nb, rng);
      const EncodedActivations a{act.data(), 1, nb * sizeof(BlockQ8K)};
      const size_t ws = RowBytes(DType::kQ4_K, cols);
      for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
        if (!IsaAvailable(isa)) continue;
        std::vector<float> y(rows);
        MatMul({DType::kQ4_K, rows, cols, w.data()}, a, y.data(), rows, nullptr, isa);
        for (int64_t r = 0; r < rows; ++r) {
          const float ref = VecDot(DType::kQ4_K, cols, w.data() + r * ws, act.data(), Isa::kScalar);
          uint32_t got_bits, ref_bits;
          std::memcpy(&got_bits, &y[r], 4);
          std::memcpy(&ref_bits, &ref, 4);
          ASSERT_EQ(got_bits, ref_bits) << IsaName(isa) << " " << rows << "x" << cols << " row " << r;
        }
      }
    }
}

}  // namespace
}  // namespace llmtk
