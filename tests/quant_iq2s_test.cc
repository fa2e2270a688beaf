// IQ2_XS and IQ2_S: format data against their definitions, quantized bytes
// against llama.cpp c392e50, and the dequantizers.
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/formats/gguf.h"
#include "lib/formats/imatrix_file.h"
#include "lib/ggml/iq2s_format.h"
#include "lib/ggml/iq_grids.h"
#include "lib/ggml/iq_search.h"
#include "lib/ggml/quant.h"

namespace llmtk {
namespace {

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

// The dequantization grids built from the level codes are ggml-common.h's
// iq2xs_grid and iq2s_grid (SHA-256 of the tables in llama.cpp c392e50):
// distinct points of 8 bytes out of {8, 25, 43}.
TEST(QuantIq2s, GridsAreGgmlCommonsTables) {
  struct Case {
    const uint64_t* grid;
    const uint16_t* codes;
    int size;
    const char* sha;
  };
  for (const Case& c : {Case{IQ2XSGrid(), kIQ2XSGridCodes, kIQ2XSGridSize,
                             "06e47aaca60b4dc1d9b5a3f34540437058a6b142b4d7a59d5ded769b4d1bf1de"},
                        Case{IQ2SGrid(), kIQ2SGridCodes, kIQ2SGridSize,
                             "e1aa1473412b0552c2174c30ef22ab4073f6a181b85a17056e8249bd2932fd88"}}) {
    EXPECT_EQ(Sha256Hex(Bytes(c.grid, c.size * sizeof(uint64_t))), c.sha) << c.size;
    std::set<uint64_t> seen(c.grid, c.grid + c.size);
    EXPECT_EQ(seen.size(), static_cast<size_t>(c.size));
    for (int j = 0; j < c.size; ++j) {
      for (int i = 0; i < 8; ++i) {
        const int l = (c.codes[j] >> 2 * i) & 3;
        ASSERT_LE(l, 2) << j;
        EXPECT_EQ(static_cast<int>((c.grid[j] >> 8 * i) & 0xff), l == 0 ? 8 : l == 1 ? 25 : 43) << j;
      }
    }
  }
}

// The quantizers' search tables (lib/ggml/iq_search.h, instantiated as
// quant_iq2.cc and quant_iq2s.cc do) are iq2xs_init_impl's, byte for byte:
// the SHA-256 of map and neighbour lists as scripts/reference/iq2_neighbours.c
// computes them with ggml's qsort (nwant 2 for IQ2_XXS and IQ2_XS, 1 for IQ2_S).
template <int kSize, int kWant>
std::string SearchSha(const uint16_t* codes) {
  const quant_kernels::IqGridSearch<uint64_t, 8, 2, kSize, 43692, kWant> s(codes);
  return Sha256Hex(Bytes(s.map.data(), s.map.size() * sizeof(int)) +
                   Bytes(s.neighbours.data(), s.neighbours.size() * sizeof(uint16_t)));
}

TEST(QuantIq2s, SearchTablesAreIq2xsInitImpls) {
  EXPECT_EQ((SearchSha<kIQ2XXSGridSize, 2>(kIQ2XXSGridCodes)),
            "247e30da383dc36a3aee32e5e002ee32ba5369eed4e88eecd407f34f9471d3c0");
  EXPECT_EQ((SearchSha<kIQ2XSGridSize, 2>(kIQ2XSGridCodes)),
            "4b9200750451be8853e815498cc397e587ae1d27f78ead4aaffc61e33cd401b7");
  EXPECT_EQ((SearchSha<kIQ2SGridSize, 1>(kIQ2SGridCodes)),
            "dd86d0ef8fce59cbfb70df1bbb6a36876459502556019662377a29bd006f5618");
}

// blk.0.attn_k.weight of random-llama-256 (256x128 F32) quantized with
// llama-imatrix's matrix, against llama-quantize --pure --imatrix's tensors
// (file types IQ2_XS and IQ2_M: llama.cpp's IQ2_S file type is IQ2_XS
// tensors, its IQ2_M IQ2_S ones).
class Iq2sReference : public ::testing::TestWithParam<std::string> {};

TEST_P(Iq2sReference, BytesEqualLlamaQuantizeImatrix) {
  auto in_file = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
  auto ref_file = GgufFile::Open(LLMTK_TESTDATA "/quant/imatrix/iq2s-attn_k.gguf");
  ASSERT_TRUE(in_file.ok() && ref_file.ok());
  auto im = ReadImatrixWeights(LLMTK_TESTDATA "/quant/imatrix/r256-c128.dat");
  ASSERT_TRUE(im.ok()) << im.status();
  const std::vector<float>& w = im->values.at("blk.0.attn_k.weight");
  const GgufTensor* in = (*in_file)->FindTensor("input");
  const GgufTensor* want = (*ref_file)->FindTensor(GetParam());
  ASSERT_NE(want, nullptr);
  ASSERT_EQ(GgmlTypeName(want->type), GetParam());
  const int64_t n = in->dims[0];
  ASSERT_EQ(w.size(), static_cast<size_t>(n));
  std::vector<float> x(static_cast<size_t>(in->n_elements));
  std::memcpy(x.data(), in->data, in->n_bytes);
  const size_t rb = want->n_bytes / static_cast<size_t>(in->rows());
  std::vector<uint8_t> got(want->n_bytes);
  for (int64_t r = 0; r < in->rows(); ++r) {
    QuantizeRowWeighted(want->type, x.data() + r * n, got.data() + r * rb, n, w.data());
  }
  const size_t bs = TypeInfo(want->type).type_size;
  size_t n_bad = 0, first_bad = SIZE_MAX;
  for (size_t b = 0; b < want->n_bytes / bs; ++b) {
    if (std::memcmp(got.data() + b * bs, want->data + b * bs, bs) != 0 && n_bad++ == 0) first_bad = b;
  }
  EXPECT_EQ(n_bad, 0u) << "first differing block " << first_bad;
}

INSTANTIATE_TEST_SUITE_P(Types, Iq2sReference, ::testing::Values("iq2_xs", "iq2_s"));

// IQ2_S without weights (sigma^2/4 + x^2), a path llama-quantize never takes:
// against ggml_quantize_chunk of the same tensor with no imatrix
// (scripts/reference/ggml_quantize_rows.c), and not the weighted bytes.
TEST(QuantIq2s, Iq2SWithoutImatrixEqualsGgml) {
  auto in_file = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
  ASSERT_TRUE(in_file.ok());
  const GgufTensor* in = (*in_file)->FindTensor("input");
  std::ifstream f(LLMTK_TESTDATA "/quant/imatrix/iq2_s-no-imatrix-attn_k.bin", std::ios::binary);
  const std::string want((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_EQ(want.size(), 128u * 82);
  std::vector<float> x(static_cast<size_t>(in->n_elements));
  std::memcpy(x.data(), in->data, in->n_bytes);
  std::string got(want.size(), '\0');
  ASSERT_TRUE(QuantizeRows(GgmlType::kIQ2_S, x.data(), got.data(), in->rows(), in->dims[0]).ok());
  EXPECT_TRUE(got == want);
  auto ref_file = GgufFile::Open(LLMTK_TESTDATA "/quant/imatrix/iq2s-attn_k.gguf");
  ASSERT_TRUE(ref_file.ok());
  const GgufTensor* weighted = (*ref_file)->FindTensor("iq2_s");
  ASSERT_EQ(weighted->n_bytes, got.size());
  EXPECT_NE(std::memcmp(weighted->data, got.data(), got.size()), 0);
}

TEST(QuantIq2s, Iq2XsNeedsImportanceWeightsIq2SDoesNot) {
  std::vector<float> x(256, 1.f);
  std::vector<uint8_t> out(82);
  const absl::Status s = QuantizeRows(GgmlType::kIQ2_XS, x.data(), out.data(), 1, 256);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "iq2_xs needs importance weights (QuantizeRowWeighted)");
  EXPECT_TRUE(RequiresImportance(GgmlType::kIQ2_XS));
  EXPECT_FALSE(RequiresImportance(GgmlType::kIQ2_S));
  EXPECT_TRUE(QuantizeRows(GgmlType::kIQ2_S, x.data(), out.data(), 1, 256).ok());
  EXPECT_TRUE(HasWeightedQuantizer(GgmlType::kIQ2_XS));
  EXPECT_TRUE(HasWeightedQuantizer(GgmlType::kIQ2_S));
}

// Hand-made blocks decode as dequantize_row_iq2_xs / _s define: d times
// (0.5 + 4-bit scale) / 4 times the grid byte, negated where the sign bit
// is set (IQ2_XS: 7 stored bits, the 8th for even parity).
TEST(QuantIq2s, DequantizeKnownBlocks) {
  BlockIQ2_XS xs{};
  xs.d = Fp32ToFp16(2.0f);
  xs.scales[0] = 0x31;                          // half 0: 1, half 1: 3
  xs.qs[0] = static_cast<uint16_t>(5 | (1 << 9));  // point 5, value 0 negative (and 7, for parity)
  xs.qs[2] = static_cast<uint16_t>(511);        // last point, no signs
  std::vector<float> y(256);
  DequantizeRow(GgmlType::kIQ2_XS, &xs, y.data(), 256);
  const uint64_t g5 = IQ2XSGrid()[5], g511 = IQ2XSGrid()[511];
  const float db0 = 2.0f * 1.5f * 0.25f, db1 = 2.0f * 3.5f * 0.25f;
  EXPECT_EQ(y[0], -db0 * static_cast<float>(g5 & 0xff));
  EXPECT_EQ(y[1], db0 * static_cast<float>((g5 >> 8) & 0xff));
  EXPECT_EQ(y[7], -db0 * static_cast<float>((g5 >> 56) & 0xff));
  EXPECT_EQ(y[16], db1 * static_cast<float>(g511 & 0xff));
  EXPECT_EQ(y[40], 0.5f * 0.25f * 2.0f * 8);  // group of 32 #1, scale 0, point 0
  BlockIQ2_S s{};
  s.d = Fp32ToFp16(1.0f);
  s.scales[1] = 0x20;             // block 1: half 0 scale 0, half 1 scale 2
  s.qs[4 + 3] = 0x34;             // block 1, group 3: low index bits
  s.qh[1] = 3 << 6;               // its high bits: index 0x334
  s.qs[32 + 4 + 3] = 0x81;        // its signs: values 0 and 7
  DequantizeRow(GgmlType::kIQ2_S, &s, y.data(), 256);
  const uint64_t g = IQ2SGrid()[0x334];
  const float db = 2.5f * 0.25f;
  EXPECT_EQ(y[56], -db * static_cast<float>(g & 0xff));
  EXPECT_EQ(y[57], db * static_cast<float>((g >> 8) & 0xff));
  EXPECT_EQ(y[63], -db * static_cast<float>((g >> 56) & 0xff));
}

// test-quantize-fns' bound for the 2-bit types on 0.1 + 2 cos(i) (IQ2_S
// without weights, IQ2_XS and IQ2_S with flat ones).
TEST(QuantIq2s, RoundTripErrorWithinGgmlBound) {
  std::vector<float> x(256 * 16), ones(x.size(), 1.f), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f + 2 * std::cos(static_cast<float>(i));
  for (GgmlType t : {GgmlType::kIQ2_XS, GgmlType::kIQ2_S}) {
    for (bool weighted : {false, true}) {
      if (!weighted && t == GgmlType::kIQ2_XS) continue;
      std::vector<uint8_t> q(*GgmlRowSize(t, static_cast<int64_t>(x.size())));
      QuantizeRowWeighted(t, x.data(), q.data(), static_cast<int64_t>(x.size()), weighted ? ones.data() : nullptr);
      DequantizeRow(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
      double sum = 0;
      for (size_t i = 0; i < x.size(); ++i) sum += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      const double err = std::sqrt(sum) / x.size();
      EXPECT_LT(err, 0.0075) << GgmlTypeName(t) << weighted;
      EXPECT_GT(err, 0.0) << GgmlTypeName(t) << weighted;
    }
  }
}

}  // namespace
}  // namespace llmtk
