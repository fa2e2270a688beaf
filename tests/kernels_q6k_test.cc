// The sixteen-row, sixteen-token Q6_K prompt kernel (kernels/avx512_q6_k.cc)
// against the scalar reference, bit for bit: directly, with extreme values,
// and through MatMul with row and token counts that leave remainders.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

namespace llmtk {
namespace {

using namespace kernels_internal;

constexpr int kQ6 = static_cast<int>(DType::kQ6_K);

bool HaveKernel() {
  return IsaAvailable(Isa::kAvx512) && Avx512Table().vec_dot16x16[kQ6] != nullptr;
}

// Random bytes everywhere (scales of every sign, -128 included) but a small
// positive fp16 d. `extreme`: every 6-bit value 0 or 63 and every scale
// -128 or 127, the largest products there are.
std::vector<uint8_t> Q6Rows(int64_t rows, int64_t n, std::mt19937& rng, bool extreme) {
  std::vector<uint8_t> w(rows * RowBytes(DType::kQ6_K, n));
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  auto* blk = reinterpret_cast<BlockQ6K*>(w.data());
  for (size_t i = 0; i < w.size() / sizeof(BlockQ6K); ++i) {
    if (extreme) {
      const bool hi = rng() & 1;
      std::memset(blk[i].ql, hi ? 0xFF : 0x00, sizeof(blk[i].ql));
      std::memset(blk[i].qh, hi ? 0xFF : 0x00, sizeof(blk[i].qh));
      for (auto& s : blk[i].scales) s = (rng() & 1) ? 127 : -128;
    }
    blk[i].d = Fp32ToFp16(std::uniform_real_distribution<float>(0.001f, 0.05f)(rng));
  }
  return w;
}

// Q8_K rows of random bytes (-128 included; `extreme`: only -128 and 127)
// and random d. Q6_K's dot does not read bsums.
std::vector<uint8_t> Q8KRows(int64_t rows, int64_t n, std::mt19937& rng, bool extreme) {
  std::vector<uint8_t> a(rows * RowBytes(DType::kQ8_K, n));
  for (auto& b : a) b = static_cast<uint8_t>(rng());
  auto* blk = reinterpret_cast<BlockQ8K*>(a.data());
  for (size_t i = 0; i < a.size() / sizeof(BlockQ8K); ++i) {
    blk[i].d = std::uniform_real_distribution<float>(0.001f, 0.1f)(rng);
    if (extreme)
      for (auto& q : blk[i].qs) q = (rng() & 1) ? 127 : -128;
  }
  return a;
}

TEST(KernelsQ6K, SixteenBySixteenMatchesTheScalarReferenceBitForBit) {
  if (!HaveKernel()) GTEST_SKIP() << "no AVX-512 VNNI";
  const KernelTable& kt = Avx512Table();
  std::mt19937 rng(61);
  for (bool extreme : {false, true})
    for (int64_t n : {256, 512, 11 * 256}) {
      const int64_t nb = n / 256;
      const size_t ws = RowBytes(DType::kQ6_K, n), as = RowBytes(DType::kQ8_K, n);
      // Wider strides than the rows, as in a matrix with more columns.
      const auto w = Q6Rows(16 * 2, n, rng, extreme);
      const auto a = Q8KRows(16 * 2, n, rng, extreme);
      std::vector<uint8_t> dec(nb * kt.decoded16_bytes[kQ6] + 64), pk(nb * kt.packed16_bytes[kQ6] + 64);
      auto align = [](std::vector<uint8_t>& v) {
        return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t{63});
      };
      kt.decode16[kQ6](n, w.data(), 2 * ws, align(dec));
      kt.pack16[kQ6](a.data(), 2 * as, n / 256, align(pk));
      alignas(64) float out[256];
      kt.vec_dot16x16[kQ6](n, align(dec), align(pk), nullptr, 0, out);
      for (int t = 0; t < 16; ++t)
        for (int r = 0; r < 16; ++r)
          ASSERT_EQ(out[16 * t + r], VecDot(DType::kQ6_K, n, w.data() + 2 * r * ws, a.data() + 2 * t * as, Isa::kScalar))
              << "n=" << n << " extreme=" << extreme << " row " << r << " token " << t;
    }
}

TEST(KernelsQ6K, MatMulMatchesTheScalarReferenceWithRemainders) {
  std::mt19937 rng(62);
  const ParallelFor reversed = [](size_t n, const std::function<void(size_t)>& fn) {
    for (size_t i = n; i-- > 0;) fn(i);
  };
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (!IsaAvailable(isa)) continue;
    // Rows: one group of sixteen, groups with eight- and one-row leftovers.
    // Tokens: whole sixteen-token tiles, tiles with leftovers, fewer than 16.
    for (int64_t rows : {16, 41, 57})
      for (int64_t cols : {256, 3 * 256})
        for (int64_t ntok : {16, 32, 45, 70, 9}) {
          SCOPED_TRACE(std::string(IsaName(isa)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                       " tokens=" + std::to_string(ntok));
          const auto w = Q6Rows(rows, cols, rng, false);
          const auto a8 = Q8KRows(ntok, cols, rng, false);
          const EncodedActivations a{a8.data(), ntok, RowBytes(DType::kQ8_K, cols)};
          const WeightMatrix wm{DType::kQ6_K, rows, cols, w.data()};
          std::vector<float> y1(ntok * rows), y2(ntok * rows);
          MatMul(wm, a, y1.data(), rows, nullptr, isa);
          MatMul(wm, a, y2.data(), rows, reversed, isa);
          ASSERT_EQ(y1, y2);
          const size_t ws = RowBytes(DType::kQ6_K, cols);
          for (int64_t t = 0; t < ntok; ++t)
            for (int64_t r = 0; r < rows; ++r)
              ASSERT_EQ(y1[t * rows + r], VecDot(DType::kQ6_K, cols, w.data() + r * ws, a8.data() + t * a.stride,
                                                 Isa::kScalar))
                  << "row " << r << " token " << t;
        }
  }
}

// One token (generation): the eight-row kernels, GFNI-decoded where the CPU
// has GFNI (up to 64 super-blocks; 70 takes the other decode), at random
// and at extreme values, with eight- and one-row leftovers.
TEST(KernelsQ6K, OneTokenMatchesTheScalarReferenceBitForBit) {
  std::mt19937 rng(63);
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (!IsaAvailable(isa)) continue;
    for (bool extreme : {false, true})
      for (int64_t rows : {8, 16, 43})
        for (int64_t nb : {1, 3, 64, 70}) {
          const int64_t cols = nb * 256;
          SCOPED_TRACE(std::string(IsaName(isa)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                       (extreme ? " extreme" : ""));
          const auto w = Q6Rows(rows, cols, rng, extreme);
          const auto a8 = Q8KRows(1, cols, rng, extreme);
          const EncodedActivations a{a8.data(), 1, RowBytes(DType::kQ8_K, cols)};
          std::vector<float> y(rows);
          MatMul({DType::kQ6_K, rows, cols, w.data()}, a, y.data(), rows, nullptr, isa);
          const size_t ws = RowBytes(DType::kQ6_K, cols);
          for (int64_t r = 0; r < rows; ++r)
            ASSERT_EQ(y[r], VecDot(DType::kQ6_K, cols, w.data() + r * ws, a8.data(), Isa::kScalar)) << "row " << r;
        }
  }
}

}  // namespace
}  // namespace llmtk
