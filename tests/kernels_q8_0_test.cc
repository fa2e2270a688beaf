// The sixteen-row, sixteen-token Q8_0 prompt kernel (kernels/avx512_q8_0.cc)
// against the scalar reference, bit for bit: the kernel alone, and through
// MatMul on shapes whose rows and tokens are not multiples of sixteen.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lib/kernels/internal.h"
#include "lib/kernels/kernels.h"

namespace llmtk {
namespace {

using namespace kernels_internal;

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Random blocks of `t` (scales in [0.001, 0.05], either sign for Q8_0);
// `extreme` fills the Q8_0 values with -128 and 127 only.
std::vector<uint8_t> RandomRow(DType t, int64_t n, std::mt19937& rng, bool extreme = false) {
  std::vector<uint8_t> w(RowBytes(t, n));
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> u(0.001f, 0.05f);
  for (size_t b = 0; b < w.size(); b += BlockBytes(t)) {
    const float d = (t == DType::kQ8_0 && rng() % 2 != 0) ? -u(rng) : u(rng);
    const uint16_t h = Fp32ToFp16(d);
    std::memcpy(&w[b], &h, 2);
    if (extreme)
      for (int j = 0; j < 32; ++j) w[b + 2 + j] = rng() % 2 != 0 ? 0x80 : 0x7F;
  }
  return w;
}

std::vector<uint8_t> Activations(int64_t rows, int64_t n, std::mt19937& rng, bool extreme = false) {
  std::vector<float> x(rows * n);
  std::normal_distribution<float> g(0.f, 1.f);
  for (auto& v : x) v = extreme ? (rng() % 2 != 0 ? 1.f : -1.f) : g(rng);
  if (x.size() > 5) x[5] = 40.f;  // an outlier and an exact zero
  if (x.size() > 3) x[3] = 0.f;
  std::vector<uint8_t> out(rows * RowBytes(DType::kQ8_0, n));
  EncodeActivations(DType::kQ8_0, x.data(), rows, n, out.data());
  return out;
}

TEST(KernelsQ8_0, SixteenBySixteenEqualsTheScalarReference) {
  const KernelTable& kt = Avx512Table();
  const int ti = static_cast<int>(DType::kQ8_0);
  if (!IsaAvailable(Isa::kAvx512) || kt.vec_dot16x16[ti] == nullptr) GTEST_SKIP() << "no AVX-512 VNNI here";
  std::mt19937 rng(11);
  // Runs of sixteen blocks (kRun) whole, ragged and several.
  for (int64_t nb : {1, 2, 15, 16, 17, 33, 64, 176})
    for (bool extreme : {false, true}) {
      SCOPED_TRACE("blocks=" + std::to_string(nb) + " extreme=" + std::to_string(extreme));
      const int64_t n = 32 * nb;
      const size_t ws = RowBytes(DType::kQ8_0, n);
      std::vector<uint8_t> w;
      for (int r = 0; r < 16; ++r) {
        const auto row = RandomRow(DType::kQ8_0, n, rng, extreme);
        w.insert(w.end(), row.begin(), row.end());
      }
      // Raw activation bytes too (values -128..127, scales of either sign):
      // the kernel must not assume the quantizer's range.
      std::vector<uint8_t> a = extreme ? Activations(16, n, rng, true) : std::vector<uint8_t>();
      if (!extreme)
        for (int t = 0; t < 16; ++t) {
          const auto row = RandomRow(DType::kQ8_0, n, rng);
          a.insert(a.end(), row.begin(), row.end());
        }
      std::vector<Q8_0x16Block> packed(nb);
      PackQ8_0x16(a.data(), ws, nb, packed.data());
      std::vector<uint8_t> dec_buf(nb * kt.decoded16_bytes[ti] + 64);
      void* dec = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(dec_buf.data()) + 63) & ~uintptr_t{63});
      kt.decode16[ti](n, w.data(), ws, dec);
      alignas(64) float out[256];
      kt.vec_dot16x16[ti](n, dec, packed.data(), a.data(), ws, out);
      for (int t = 0; t < 16; ++t)
        for (int r = 0; r < 16; ++r)
          ASSERT_EQ(Bits(out[16 * t + r]), Bits(VecDot(DType::kQ8_0, n, w.data() + r * ws, a.data() + t * ws, Isa::kScalar)))
              << "row " << r << " token " << t;
    }
}

// MatMul against the scalar VecDot element by element, one thread and
// several chunkings.
void CheckMatMul(DType t, int64_t rows, int64_t cols, int64_t ntok, std::mt19937& rng) {
  SCOPED_TRACE(std::string(DTypeName(t)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
               " tokens=" + std::to_string(ntok));
  std::vector<uint8_t> w;
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = RandomRow(t, cols, rng);
    w.insert(w.end(), row.begin(), row.end());
  }
  const auto a = Activations(ntok, cols, rng);
  const size_t as = RowBytes(DType::kQ8_0, cols);
  const EncodedActivations enc{a.data(), ntok, as};
  const WeightMatrix wm{t, rows, cols, w.data()};
  std::vector<float> y1(ntok * rows), y2(ntok * rows);
  MatMul(wm, enc, y1.data(), rows, nullptr, Isa::kAvx512);
  ParallelFor reversed = [](size_t n, const std::function<void(size_t)>& fn) {
    for (size_t i = n; i-- > 0;) fn(i);
  };
  MatMul(wm, enc, y2.data(), rows, reversed, Isa::kAvx512);
  const size_t ws = RowBytes(t, cols);
  for (int64_t tok = 0; tok < ntok; ++tok)
    for (int64_t r = 0; r < rows; ++r) {
      const float ref = VecDot(t, cols, w.data() + r * ws, a.data() + tok * as, Isa::kScalar);
      ASSERT_EQ(Bits(y1[tok * rows + r]), Bits(ref)) << "row " << r << " token " << tok;
      ASSERT_EQ(Bits(y2[tok * rows + r]), Bits(ref)) << "row " << r << " token " << tok << " (reversed chunks)";
    }
}

TEST(KernelsQ8_0, MatMulPromptsEqualTheScalarReference) {
  if (!IsaAvailable(Isa::kAvx512)) GTEST_SKIP() << "no AVX-512 here";
  std::mt19937 rng(5);
  // Rows: whole groups of sixteen, then leftovers of eight and of fewer;
  // tokens: whole tiles of sixteen, and leftovers the eight-row kernels take.
  // IQ4_NL and Q5_0 multiply the same Q8_0 activations through their own
  // kernels.
  for (DType t : {DType::kQ8_0, DType::kIQ4_NL, DType::kQ5_0})
    for (int64_t cols : {32, 352, 2048})
      for (int64_t rows : {16, 29, 45, 64})
        for (int64_t ntok : {16, 17, 31, 32, 45, 64}) CheckMatMul(t, rows, cols, ntok, rng);
}

}  // namespace
}  // namespace llmtk
