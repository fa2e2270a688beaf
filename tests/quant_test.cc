#include "lib/ggml/quant.h"

#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/formats/gguf.h"
#include "lib/formats/imatrix_file.h"
#include "lib/ggml/iq_grids.h"
#include "lib/base/sha256.h"
#include "lib/ggml/quant_k.h"

namespace llmtk {
namespace {

// One 256x128 F32 tensor of random-llama-256 and llama-quantize --pure's
// encodings of it (one tensor per type, named after the type).
class PureReference : public ::testing::TestWithParam<std::string> {};

TEST_P(PureReference, BytesEqualLlamaQuantize) {
  auto f = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufTensor* in = (*f)->FindTensor("input");
  const GgufTensor* want = (*f)->FindTensor(GetParam());
  ASSERT_NE(in, nullptr);
  ASSERT_NE(want, nullptr);
  std::vector<float> x(static_cast<size_t>(in->n_elements));
  std::memcpy(x.data(), in->data, in->n_bytes);
  std::vector<uint8_t> got(want->n_bytes), ref(want->n_bytes);
  ASSERT_TRUE(QuantizeRows(want->type, x.data(), got.data(), in->rows(), in->dims[0]).ok());
  for (int64_t r = 0; r < in->rows(); ++r) {
    const size_t rb = want->n_bytes / static_cast<size_t>(in->rows());
    QuantizeRowReference(want->type, x.data() + r * in->dims[0], ref.data() + r * rb, in->dims[0]);
  }
  const size_t bs = TypeInfo(want->type).type_size;
  size_t first_bad = SIZE_MAX, n_bad = 0;
  for (size_t b = 0; b < want->n_bytes / bs; ++b) {
    if (std::memcmp(got.data() + b * bs, want->data + b * bs, bs) != 0) {
      ++n_bad;
      if (first_bad == SIZE_MAX) first_bad = b;
    }
  }
  EXPECT_EQ(n_bad, 0u) << "first differing block " << first_bad;
  EXPECT_EQ(std::memcmp(ref.data(), want->data, want->n_bytes), 0) << "scalar reference differs";
}

INSTANTIATE_TEST_SUITE_P(AllTypes, PureReference,
                         ::testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k",
                                           "q4_k", "q5_k", "q6_k"));

// The same tensor quantized by llama-quantize --pure --imatrix with
// llama-imatrix's matrix of random-llama-256 (testdata/quant/imatrix): the
// weighted quantizers (and IQ4_XS) must give its bytes.
class WeightedReference : public ::testing::TestWithParam<std::string> {};

TEST_P(WeightedReference, BytesEqualLlamaQuantizeImatrix) {
  auto in_file = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
  auto ref_file = GgufFile::Open(LLMTK_TESTDATA "/quant/imatrix/imatrix-attn_k.gguf");
  ASSERT_TRUE(in_file.ok() && ref_file.ok());
  auto im = ReadImatrixWeights(LLMTK_TESTDATA "/quant/imatrix/r256-c128.dat");
  ASSERT_TRUE(im.ok()) << im.status();
  const std::vector<float>& w = im->values.at("blk.0.attn_k.weight");
  const GgufTensor* in = (*in_file)->FindTensor("input");
  const GgufTensor* want = (*ref_file)->FindTensor(GetParam());
  ASSERT_NE(want, nullptr);
  const int64_t n = in->dims[0];
  ASSERT_EQ(w.size(), static_cast<size_t>(n));
  std::vector<float> x(static_cast<size_t>(in->n_elements));
  std::memcpy(x.data(), in->data, in->n_bytes);
  const size_t rb = want->n_bytes / static_cast<size_t>(in->rows());
  std::vector<uint8_t> got(want->n_bytes), plain(want->n_bytes);
  for (int64_t r = 0; r < in->rows(); ++r) {
    QuantizeRowWeighted(want->type, x.data() + r * n, got.data() + r * rb, n, w.data());
    if (!RequiresImportance(want->type)) QuantizeRow(want->type, x.data() + r * n, plain.data() + r * rb, n);
  }
  EXPECT_TRUE(std::memcmp(got.data(), want->data, want->n_bytes) == 0);
  // The imatrix changes the result (the test sees the weighted path).
  if (!RequiresImportance(want->type)) {
    EXPECT_NE(std::memcmp(plain.data(), want->data, want->n_bytes), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(AllWeightedTypes, WeightedReference,
                         ::testing::Values("q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k",
                                           "iq4_nl", "iq4_xs", "iq2_xxs", "iq3_xxs"));

// IQ3_XXS also quantizes without an imatrix (weights x^2), as llama-quantize
// --pure IQ3_XXS does.
TEST(Quant, Iq3XxsWithoutImatrixEqualsLlamaQuantize) {
  auto in_file = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
  auto ref_file = GgufFile::Open(LLMTK_TESTDATA "/quant/imatrix/imatrix-attn_k.gguf");
  ASSERT_TRUE(in_file.ok() && ref_file.ok());
  const GgufTensor* in = (*in_file)->FindTensor("input");
  const GgufTensor* want = (*ref_file)->FindTensor("iq3_xxs-no-imatrix");
  ASSERT_NE(want, nullptr);
  std::vector<float> x(static_cast<size_t>(in->n_elements));
  std::memcpy(x.data(), in->data, in->n_bytes);
  std::vector<uint8_t> got(want->n_bytes);
  ASSERT_TRUE(QuantizeRows(GgmlType::kIQ3_XXS, x.data(), got.data(), in->rows(), in->dims[0]).ok());
  EXPECT_TRUE(std::memcmp(got.data(), want->data, want->n_bytes) == 0);
}

// IQ2_XXS's format data against its definitions: the dequantization grid
// built from the 256 level codes is ggml-common.h's iq2xxs_grid (its SHA-256
// taken from llama.cpp c392e50), every point is 8 levels of {8, 25, 43},
// distinct; a sign byte is its 7 stored bits plus even parity.
TEST(Quant, Iq2GridAndSignsFollowTheirDefinitions) {
  const uint64_t* grid = IQ2XXSGrid();
  std::string bytes(reinterpret_cast<const char*>(grid), kIQ2XXSGridSize * sizeof(uint64_t));
  EXPECT_EQ(Sha256Hex(bytes), "05826b5d3e472a3a78f196be62ac78acf81df0f909626e12ab9fa2a5d490dd54");
  std::set<uint64_t> seen;
  for (int j = 0; j < kIQ2XXSGridSize; ++j) {
    for (int i = 0; i < 8; ++i) {
      const int b = static_cast<int>((grid[j] >> 8 * i) & 0xff);
      EXPECT_TRUE(b == 8 || b == 25 || b == 43) << j;
      EXPECT_LE((kIQ2XXSGridCodes[j] >> 2 * i) & 3, 2) << j;
    }
    seen.insert(grid[j]);
  }
  EXPECT_EQ(seen.size(), 256u);
  for (int i = 0; i < 128; ++i) {
    EXPECT_EQ(IQ2Signs(i) & 127, i);
    EXPECT_EQ(__builtin_popcount(IQ2Signs(i)) % 2, 0) << i;
  }
  EXPECT_EQ(IQ2Signs(1), 129);
  EXPECT_EQ(IQ2Signs(3), 3);
}

// IQ3_XXS's grid: ggml-common.h's iq3xxs_grid (SHA-256 from c392e50), 256
// distinct points of 4 levels 0..7, level l as byte 8l+4 (62 for 7).
TEST(Quant, Iq3GridFollowsItsDefinition) {
  const uint32_t* grid = IQ3XXSGrid();
  std::string bytes(reinterpret_cast<const char*>(grid), kIQ3XXSGridSize * sizeof(uint32_t));
  EXPECT_EQ(Sha256Hex(bytes), "46e35f5a997efdee6c99ce57854c8a0d4f0ff8ca57e5e8a60c0793ea580acf5d");
  std::set<uint32_t> seen(grid, grid + kIQ3XXSGridSize);
  EXPECT_EQ(seen.size(), 256u);
  for (int j = 0; j < kIQ3XXSGridSize; ++j) {
    for (int i = 0; i < 4; ++i) {
      const int l = (kIQ3XXSGridCodes[j] >> 3 * i) & 7;
      EXPECT_EQ(static_cast<int>((grid[j] >> 8 * i) & 0xff), l == 7 ? 62 : 8 * l + 4) << j;
    }
  }
}

TEST(Quant, Iq2XxsNeedsImportanceWeights) {
  std::vector<float> x(256, 1.f);
  std::vector<uint8_t> out(66);
  const absl::Status s = QuantizeRows(GgmlType::kIQ2_XXS, x.data(), out.data(), 1, 256);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "iq2_xxs needs importance weights (QuantizeRowWeighted)");
}

TEST(Quant, OnlyGgmlsWeightedTypesTakeAnImatrix) {
  for (GgmlType t : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ2_K,
                     GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kIQ4_NL,
                     GgmlType::kIQ4_XS}) {
    EXPECT_TRUE(HasWeightedQuantizer(t)) << GgmlTypeName(t);
  }
  for (GgmlType t : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0}) {
    EXPECT_FALSE(HasWeightedQuantizer(t)) << GgmlTypeName(t);
  }
}

// ggml's test-quantize-fns: quantize -> dequantize of 0.1 + 2 cos(i) stays
// within a per-format RMSE bound (sqrt(sum d^2) / n).
float RoundTripError(GgmlType type, const std::vector<float>& x) {
  std::vector<uint8_t> q(*GgmlRowSize(type, static_cast<int64_t>(x.size())));
  std::vector<float> y(x.size());
  QuantizeRow(type, x.data(), q.data(), static_cast<int64_t>(x.size()));
  DequantizeRow(type, q.data(), y.data(), static_cast<int64_t>(x.size()));
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
  return static_cast<float>(std::sqrt(sum) / x.size());
}

TEST(Quant, RoundTripErrorWithinGgmlBounds) {
  std::vector<float> x(32 * 128);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f + 2 * std::cos(static_cast<float>(i));
  struct Bound {
    GgmlType type;
    float max_error;
  };
  const Bound bounds[] = {{GgmlType::kF16, 0.002f},  {GgmlType::kBF16, 0.002f}, {GgmlType::kQ4_0, 0.002f},
                          {GgmlType::kQ4_1, 0.002f}, {GgmlType::kQ5_0, 0.002f}, {GgmlType::kQ5_1, 0.002f},
                          {GgmlType::kQ8_0, 0.002f}, {GgmlType::kQ2_K, 0.0075f}, {GgmlType::kQ3_K, 0.0040f},
                          {GgmlType::kQ4_K, 0.002f}, {GgmlType::kQ5_K, 0.002f}, {GgmlType::kQ6_K, 0.002f},
                          {GgmlType::kIQ4_NL, 0.002f}, {GgmlType::kIQ4_XS, 0.002f}};
  for (const Bound& b : bounds) {
    const float err = RoundTripError(b.type, x);
    EXPECT_LT(err, b.max_error) << GgmlTypeName(b.type);
    EXPECT_GT(err, 0.0f) << GgmlTypeName(b.type);  // lossy formats really are lossy here
  }
  EXPECT_EQ(RoundTripError(GgmlType::kF32, x), 0.0f);
}

// Optimized kernels against the scalar references on hostile blocks: ties,
// zeros, denormals, huge values, NaN/inf and random heavy tails.
TEST(Quant, FastKernelsEqualReference) {
  std::mt19937 rng(42);
  std::student_t_distribution<float> heavy(2.0f);
  std::vector<float> x(32 * 64);
  for (auto& v : x) v = heavy(rng);
  for (int j = 0; j < 32; ++j) x[j] = 0.0f;                       // all-zero block
  for (int j = 32; j < 64; ++j) x[j] = (j % 2 ? 1.0f : -1.0f) * 127.0f;  // exact levels
  for (int j = 64; j < 96; ++j) x[j] = static_cast<float>(j - 80) * 0.5f;  // .5 ties
  x[100] = 1e-40f;
  x[130] = 3e38f;
  x[170] = NAN;
  x[200] = -INFINITY;
  for (int j = 224; j < 256; ++j) x[j] = -2.0f;  // max magnitude shared, negative
  x[230] = 2.0f;
  for (GgmlType t : {GgmlType::kQ8_0, GgmlType::kF16, GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K,
                     GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    const size_t bytes = *GgmlRowSize(t, static_cast<int64_t>(x.size()));
    std::vector<uint8_t> fast(bytes), ref(bytes);
    QuantizeRow(t, x.data(), fast.data(), static_cast<int64_t>(x.size()));
    QuantizeRowReference(t, x.data(), ref.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(fast, ref) << GgmlTypeName(t);
  }
}

// The lane-parallel K-quant kernels on finite data with every special case
// a sub-block can hit: constant (flat), all-negative, zero, tiny, huge.
TEST(Quant, KQuantFastKernelsEqualReference) {
  std::mt19937 rng(3);
  std::student_t_distribution<float> heavy(1.5f);
  std::vector<float> x(256 * 24);
  for (size_t i = 0; i < x.size(); ++i) x[i] = heavy(rng) * (i / 256 % 3 == 0 ? 1e-3f : 1.0f);
  for (int j = 0; j < 32; ++j) x[j] = 0.25f;           // flat positive (min clamps to 0)
  for (int j = 32; j < 64; ++j) x[j] = -0.75f;         // flat negative
  for (int j = 64; j < 96; ++j) x[j] = 0.0f;           // zero
  for (int j = 96; j < 112; ++j) x[j] = 1e-30f * j;    // tiny
  for (int j = 300; j < 316; ++j) x[j] = 1e30f;        // huge, constant
  for (int j = 512; j < 768; ++j) x[j] = std::fabs(x[j]) + 1.0f;  // strictly positive block
  for (GgmlType t : {GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    const size_t bytes = *GgmlRowSize(t, static_cast<int64_t>(x.size()));
    std::vector<uint8_t> fast(bytes), ref(bytes);
    QuantizeRow(t, x.data(), fast.data(), static_cast<int64_t>(x.size()));
    QuantizeRowReference(t, x.data(), ref.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(fast, ref) << GgmlTypeName(t);
  }
}

TEST(Quant, KnownBlocks) {
  // Q8_0 of 0..31: d = 31/127, q = round(i * 127 / 31).
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i);
  BlockQ8_0 b;
  QuantizeRow(GgmlType::kQ8_0, x, &b, 32);
  EXPECT_EQ(b.d, Fp32ToFp16(31.0f / 127));
  EXPECT_EQ(b.qs[0], 0);
  EXPECT_EQ(b.qs[31], 127);
  EXPECT_EQ(b.qs[15], 61);  // 15 * 4.0967... = 61.45
  // IQ4_NL of an all-zero block: d = 0 and every index the level nearest 0.
  float z[32] = {};
  BlockIQ4_NL n;
  QuantizeRow(GgmlType::kIQ4_NL, z, &n, 32);
  EXPECT_EQ(n.d, 0);
  for (uint8_t q : n.qs) EXPECT_EQ(q, 0x88);
  EXPECT_EQ(NearestInt(2.5f), 2);
  EXPECT_EQ(NearestInt(3.5f), 4);
  EXPECT_EQ(NearestInt(-2.5f), -2);
  EXPECT_EQ(NearestInt(-0.7f), -1);
}

TEST(Quant, CheckedWrappersReportErrors) {
  float x[64] = {};
  uint8_t out[256];
  auto s = QuantizeRows(GgmlType::kQ4_K, x, out, 1, 64);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "rows of 64 values do not split into q4_K blocks of 256");
  s = QuantizeRows(GgmlType::kTQ2_0, x, out, 1, 256);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(s.message(), "quantizing to type tq2_0 is not supported");
  EXPECT_TRUE(DequantizeRows(GgmlType::kQ8_0, out, x, 1, 32).ok());
}

}  // namespace
}  // namespace llmtk
