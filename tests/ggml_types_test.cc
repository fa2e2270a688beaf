#include "lib/ggml/types.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace llmtk {
namespace {

TEST(GgmlTypes, IdsNamesAndSizesMatchGgml) {
  struct Row {
    uint32_t id;
    const char* name;
    int64_t block;
    size_t bytes;
  };
  const Row rows[] = {{0, "f32", 1, 4},       {1, "f16", 1, 2},       {2, "q4_0", 32, 18},  {3, "q4_1", 32, 20},
                      {6, "q5_0", 32, 22},    {7, "q5_1", 32, 24},    {8, "q8_0", 32, 34},  {9, "q8_1", 32, 36},
                      {10, "q2_K", 256, 84},  {11, "q3_K", 256, 110}, {12, "q4_K", 256, 144}, {13, "q5_K", 256, 176},
                      {14, "q6_K", 256, 210}, {15, "q8_K", 256, 292}, {20, "iq4_nl", 32, 18}, {23, "iq4_xs", 256, 136},
                      {30, "bf16", 1, 2},     {39, "mxfp4", 32, 17},  {41, "q1_0", 128, 18}};
  for (const Row& r : rows) {
    auto info = GetGgmlTypeInfo(r.id);
    ASSERT_TRUE(info.has_value()) << r.id;
    EXPECT_EQ(static_cast<uint32_t>(info->type), r.id);
    EXPECT_EQ(info->name, r.name);
    EXPECT_EQ(info->block_size, r.block) << r.name;
    EXPECT_EQ(info->type_size, r.bytes) << r.name;
    EXPECT_EQ(ParseGgmlType(r.name), info->type);
  }
  for (uint32_t removed : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u}) {
    EXPECT_FALSE(GetGgmlTypeInfo(removed).has_value()) << removed;
  }
  EXPECT_EQ(ParseGgmlType("Q4_K"), GgmlType::kQ4_K);
  EXPECT_EQ(ParseGgmlType("IQ4_NL"), GgmlType::kIQ4_NL);
  EXPECT_FALSE(ParseGgmlType("q4_k_m").has_value());
  EXPECT_EQ(GgmlRowSize(GgmlType::kQ4_K, 512), 288u);
  EXPECT_FALSE(GgmlRowSize(GgmlType::kQ4_K, 172).has_value());
  EXPECT_EQ(GgmlRowSize(GgmlType::kF16, 172), 344u);
}

TEST(GgmlTypes, Fp16KnownValues) {
  EXPECT_EQ(Fp32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(1.0f), 0x3c00);
  EXPECT_EQ(Fp32ToFp16(-2.0f), 0xc000);
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(65519.99f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7c00);  // ties to even -> infinity
  EXPECT_EQ(Fp32ToFp16(1e10f), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_EQ(Fp32ToFp16(-std::numeric_limits<float>::quiet_NaN()), 0xfe00);
  EXPECT_EQ(Fp32ToFp16(5.9604644775390625e-8f), 0x0001);   // smallest subnormal
  EXPECT_EQ(Fp32ToFp16(2.98023223876953125e-8f), 0x0000);  // half of it: tie to even
  EXPECT_EQ(Fp32ToFp16(2.9802326e-8f), 0x0001);            // just above the tie
  EXPECT_EQ(Fp32ToFp16(6.103515625e-5f), 0x0400);          // smallest normal
  EXPECT_EQ(Fp32ToFp16(1.0009765625f), 0x3c01);
  EXPECT_EQ(Fp32ToFp16(1.00048828125f), 0x3c00);  // tie -> even
  EXPECT_EQ(Fp32ToFp16(1.00146484375f), 0x3c02);  // tie -> even (up)
}

TEST(GgmlTypes, Fp16RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    const bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    if (nan) {
      EXPECT_TRUE(std::isnan(f));
      EXPECT_EQ(Fp32ToFp16(f), (h & 0x8000) | 0x7e00);
    } else {
      ASSERT_EQ(Fp32ToFp16(f), h) << h;
    }
  }
}

#if defined(__F16C__)
// The hardware converter rounds to nearest even too; it is an independent
// reference for every non-NaN float we sample.
TEST(GgmlTypes, Fp16MatchesHardwareOnRandomBits) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) {
    const uint32_t bits = rng();
    const float f = BitsFloat(bits);
    if (std::isnan(f)) continue;
    const uint16_t hw = static_cast<uint16_t>(_cvtss_sh(f, 0));
    ASSERT_EQ(Fp32ToFp16(f), hw) << std::hex << bits;
  }
}
#endif

TEST(GgmlTypes, RowConversionsEqualScalar) {
  std::mt19937 rng(11);
  std::vector<float> x(1003);
  for (auto& v : x) v = BitsFloat(rng());
  x[5] = std::numeric_limits<float>::quiet_NaN();
  x[17] = BitsFloat(0x7f800001);  // signalling NaN
  std::vector<uint16_t> h(x.size());
  Fp32ToFp16Row(x.data(), h.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(h[i], Fp32ToFp16(x[i])) << i;
  std::vector<float> y(x.size());
  Fp16ToFp32Row(h.data(), y.data(), static_cast<int64_t>(h.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(FloatBits(y[i]), FloatBits(Fp16ToFp32(h[i]))) << i;
  Fp32ToBf16Row(x.data(), h.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(h[i], Fp32ToBf16(x[i])) << i;
}

TEST(GgmlTypes, Bf16MatchesGgml) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x3f808000)), 0x3f80);  // tie -> even
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x3f818000)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x3f808001)), 0x3f81);
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x00000001)), 0x0000);  // subnormals round, no flush
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x00008000)), 0x0000);
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x00018000)), 0x0002);
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x7f7fffff)), 0x7f80);  // max float rounds to inf
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0x7f800001)), 0x7fc0);  // sNaN forced quiet
  EXPECT_EQ(Fp32ToBf16(BitsFloat(0xffc12345)), 0xffc1);
  EXPECT_EQ(Bf16ToFp32(0xc040), -3.0f);
}

}  // namespace
}  // namespace llmtk
