// IQ3_S: its grid and search tables against their definitions, its
// quantizer against llama-quantize c392e50, its decoder against the dot
// kernel's reading of the same blocks.
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/formats/gguf.h"
#include "lib/formats/imatrix_file.h"
#include "lib/ggml/iq_grids.h"
#include "lib/ggml/iq_search.h"
#include "lib/ggml/quant.h"
#include "lib/kernels/kernels.h"

namespace llmtk {
namespace {

// ggml-common.h's iq3s_grid (SHA-256 of its 512 uint32 from c392e50, by
// scripts/reference/iq3s_tables_sha.py):
// distinct points of 4 levels 0..7, level l as byte 2l+1.
TEST(QuantIq3s, GridFollowsItsDefinition) {
  const uint32_t* grid = IQ3SGrid();
  std::string bytes(reinterpret_cast<const char*>(grid), kIQ3SGridSize * sizeof(uint32_t));
  EXPECT_EQ(Sha256Hex(bytes), "bd1af4945a1717c65610b0284e4628b9a1ba3b306fae3a06f6e5f597356e349f");
  std::set<uint32_t> seen(grid, grid + kIQ3SGridSize);
  EXPECT_EQ(seen.size(), 512u);
  for (int j = 0; j < kIQ3SGridSize; ++j) {
    for (int i = 0; i < 4; ++i) {
      const int l = (kIQ3SGridCodes[j] >> 3 * i) & 7;
      EXPECT_EQ(static_cast<int>((grid[j] >> 8 * i) & 0xff), 2 * l + 1) << j;
    }
  }
}

// iq3xs_init_impl(512)'s map and neighbour lists (points at the three
// smallest distances): SHA-256 of both as an independent Python rendering
// of ggml's procedure computed them (scripts/reference/iq3s_tables_sha.py;
// 28317 uint16 neighbour entries).
TEST(QuantIq3s, SearchTablesFollowGgmlsProcedure) {
  const quant_kernels::IqGridSearch<uint32_t, 4, 3, kIQ3SGridSize, 4096, 3> s(kIQ3SGridCodes);
  ASSERT_EQ(s.neighbours.size(), 28317u);
  EXPECT_EQ(Sha256Hex(std::string(reinterpret_cast<const char*>(s.neighbours.data()), s.neighbours.size() * 2)),
            "662208b0d2ce2fa3346c5fb672db4be13bc06f87c78775acfc435550935b5d89");
  std::vector<int32_t> map(s.map.begin(), s.map.end());
  EXPECT_EQ(Sha256Hex(std::string(reinterpret_cast<const char*>(map.data()), map.size() * 4)),
            "53eb24b689961eea61a0a46257a182ac58fe414a9d52163e67ee4a9fc5322659");
}

// blk.0.attn_k.weight of random-llama-256 as llama-quantize --pure IQ3_S
// wrote it, with llama-imatrix's matrix (iq3_s) and without (iq3_s-no-imatrix).
class Iq3sReference : public ::testing::Test {
 protected:
  void SetUp() override {
    auto in = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
    auto ref = GgufFile::Open(LLMTK_TESTDATA "/quant/imatrix/iq3s-attn_k.gguf");
    ASSERT_TRUE(in.ok() && ref.ok());
    in_ = std::move(*in);
    ref_ = std::move(*ref);
    input_ = in_->FindTensor("input");
    ASSERT_NE(input_, nullptr);
    x_.resize(static_cast<size_t>(input_->n_elements));
    std::memcpy(x_.data(), input_->data, input_->n_bytes);
  }
  std::unique_ptr<GgufFile> in_, ref_;
  const GgufTensor* input_ = nullptr;
  std::vector<float> x_;
};

TEST_F(Iq3sReference, WithImatrixBytesEqualLlamaQuantize) {
  auto im = ReadImatrixWeights(LLMTK_TESTDATA "/quant/imatrix/r256-c128.dat");
  ASSERT_TRUE(im.ok()) << im.status();
  const std::vector<float>& w = im->values.at("blk.0.attn_k.weight");
  const GgufTensor* want = ref_->FindTensor("iq3_s");
  ASSERT_NE(want, nullptr);
  ASSERT_EQ(want->type, GgmlType::kIQ3_S);
  const int64_t n = input_->dims[0];
  const size_t rb = want->n_bytes / static_cast<size_t>(input_->rows());
  std::vector<uint8_t> got(want->n_bytes), plain(want->n_bytes);
  for (int64_t r = 0; r < input_->rows(); ++r) {
    QuantizeRowWeighted(GgmlType::kIQ3_S, x_.data() + r * n, got.data() + r * rb, n, w.data());
    QuantizeRow(GgmlType::kIQ3_S, x_.data() + r * n, plain.data() + r * rb, n);
  }
  EXPECT_EQ(Sha256Hex(std::string(got.begin(), got.end())),
            Sha256Hex(std::string(reinterpret_cast<const char*>(want->data), want->n_bytes)));
  EXPECT_NE(std::memcmp(plain.data(), want->data, want->n_bytes), 0);  // the imatrix mattered
}

TEST_F(Iq3sReference, WithoutImatrixBytesEqualLlamaQuantize) {
  const GgufTensor* want = ref_->FindTensor("iq3_s-no-imatrix");
  ASSERT_NE(want, nullptr);
  std::vector<uint8_t> got(want->n_bytes);
  ASSERT_TRUE(QuantizeRows(GgmlType::kIQ3_S, x_.data(), got.data(), input_->rows(), input_->dims[0]).ok());
  EXPECT_EQ(Sha256Hex(std::string(got.begin(), got.end())),
            Sha256Hex(std::string(reinterpret_cast<const char*>(want->data), want->n_bytes)));
}

// ggml skips an all-zero 32-block without advancing its index and sign
// pointers, so the next block's indices and signs land in the zero block's
// slots (and the last slots stay zero). Reproduced, it decodes as ggml
// decodes it: the zero block reads the next one's points at scale 2*0+1.
TEST(QuantIq3s, ZeroBlockShiftsTheFollowingBlocksAsGgmlDoes) {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = i < 32 ? 0.f : 0.01f * static_cast<float>((i * 37) % 23 - 11);
  BlockIQ3_S b;
  QuantizeRow(GgmlType::kIQ3_S, x.data(), &b, 256);
  // Block 1's indices are stored first; the last block's slots are empty.
  for (int k = 0; k < 8; ++k) EXPECT_EQ(b.qs[56 + k], 0) << k;
  for (int k = 0; k < 4; ++k) EXPECT_EQ(b.signs[28 + k], 0) << k;
  EXPECT_EQ(b.qh[0], 0);
  EXPECT_EQ(b.scales[0] & 0xf, 0);
  BlockIQ3_S again;
  std::vector<float> shifted(x.begin() + 32, x.end());
  shifted.resize(256, 0.f);
  QuantizeRow(GgmlType::kIQ3_S, shifted.data(), &again, 256);
  // Without the zero block in front, the same 7 blocks sit in slots 0..6.
  EXPECT_EQ(std::memcmp(b.qs, again.qs, 56), 0);
  EXPECT_EQ(std::memcmp(b.signs, again.signs, 28), 0);
}

// The decoder and the Q8_K dot kernel read the same bits: the dot of a
// block with a one-hot Q8_K row (value 1 at e, scale 1) is value e of the
// decoded block (both products are exact: an fp16 d times 2s+1 <= 31 times
// a grid byte <= 15 fits a float's mantissa).
TEST(QuantIq3s, DecoderAgreesWithTheDotKernel) {
  std::vector<float> x(512);
  for (int i = 0; i < 512; ++i) x[i] = static_cast<float>((i * 7919) % 101 - 50) / 37.f;
  std::vector<BlockIQ3_S> q(2);
  QuantizeRow(GgmlType::kIQ3_S, x.data(), q.data(), 512);
  std::vector<float> y(512);
  DequantizeRow(GgmlType::kIQ3_S, q.data(), y.data(), 512);
  std::vector<BlockQ8_K> a(2);
  for (int e = 0; e < 512; e += 13) {
    std::memset(a.data(), 0, a.size() * sizeof(BlockQ8_K));
    a[0].d = a[1].d = 1.f;
    a[e / 256].qs[e % 256] = 1;
    const float dot = VecDot(DType::kIQ3_S, 512, q.data(), a.data(), Isa::kScalar);
    EXPECT_EQ(dot, y[e]) << e;
  }
}

}  // namespace
}  // namespace llmtk
