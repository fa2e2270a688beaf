// IQ1_S and IQ1_M against llama.cpp c392e50: the grid and the search tables
// ggml builds for it, llama-quantize --imatrix's bytes, and ggml's
// dequantization (SHA-256 of dequantize_row_iq1_s/_m's floats on those
// bytes, taken from libggml-base of the peer build).
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/convert/model_source.h"
#include "lib/convert/quant_recipe.h"
#include "lib/convert/quantize_model.h"
#include "lib/convert/random_model.h"
#include "lib/formats/gguf.h"
#include "lib/formats/imatrix_file.h"
#include "lib/ggml/iq1_grid.h"
#include "lib/ggml/quant.h"
#include "lib/ggml/quant_k.h"

namespace llmtk {
namespace {

template <typename T>
std::string Sha(const T* p, size_t n) {
  return Sha256Hex(std::string(reinterpret_cast<const char*>(p), n * sizeof(T)));
}

// iq1s_grid of ggml-common.h (its SHA-256 as uint64 little-endian): 2048
// distinct points of 8 values in {-1, 0, 1}, value i = level i of the code
// minus 1.
TEST(QuantIq1, GridFollowsItsDefinition) {
  const uint64_t* grid = IQ1SGrid();
  EXPECT_EQ(Sha(grid, kIQ1SGridSize), "07540ffc1aeaf6ad4d97e96b0fcc765aae39671d4ae4a27bbd0e796fde167c6a");
  std::set<uint64_t> seen(grid, grid + kIQ1SGridSize);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kIQ1SGridSize));
  for (int j = 0; j < kIQ1SGridSize; ++j) {
    for (int i = 0; i < 8; ++i) {
      const int level = (kIQ1SGridCodes[j] >> 2 * i) & 3;
      ASSERT_LE(level, 2) << j;
      EXPECT_EQ(static_cast<int8_t>(grid[j] >> 8 * i), level - 1) << j;
    }
  }
}

// iq2xs_init_impl(GGML_TYPE_IQ1_S)'s kmap_q2xs (43692 int32) and
// kneighbors_q2xs (1375339 uint16), dumped from the peer build.
TEST(QuantIq1, SearchTablesEqualGgmls) {
  const std::vector<int>& map = quant_kernels::IQ1SearchMap();
  const std::vector<uint16_t>& nb = quant_kernels::IQ1SearchNeighbours();
  ASSERT_EQ(map.size(), 43692u);
  ASSERT_EQ(nb.size(), 1375339u);
  EXPECT_EQ(Sha(map.data(), map.size()), "732ed77320813d3250cbecd7235db1a2d0a661ee4b54fa2a0b5d1cd4e08c5ef0");
  EXPECT_EQ(Sha(nb.data(), nb.size()), "9a5d4a8807610d7ecdb328c531a60a6e10a202801f9290a6ed17daf3b9a4b054");
}

struct Iq1Case {
  const char* tensor;
  GgmlType type;
  const char* dequantized_sha;
};

class Iq1Reference : public ::testing::TestWithParam<Iq1Case> {};

// blk.0.attn_k.weight of random-llama-256 through llama-quantize --pure
// --imatrix r256-c128.dat (testdata/quant/imatrix/imatrix-attn_k-iq1.gguf).
TEST_P(Iq1Reference, BytesEqualLlamaQuantizeAndDequantizeAsGgml) {
  const Iq1Case& c = GetParam();
  auto in_file = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
  auto ref_file = GgufFile::Open(LLMTK_TESTDATA "/quant/imatrix/imatrix-attn_k-iq1.gguf");
  ASSERT_TRUE(in_file.ok() && ref_file.ok());
  auto im = ReadImatrixWeights(LLMTK_TESTDATA "/quant/imatrix/r256-c128.dat");
  ASSERT_TRUE(im.ok()) << im.status();
  const std::vector<float>& w = im->values.at("blk.0.attn_k.weight");
  const GgufTensor* in = (*in_file)->FindTensor("input");
  const GgufTensor* want = (*ref_file)->FindTensor(c.tensor);
  ASSERT_NE(want, nullptr);
  ASSERT_EQ(want->type, c.type);
  const int64_t n = in->dims[0];
  std::vector<float> x(static_cast<size_t>(in->n_elements));
  std::memcpy(x.data(), in->data, in->n_bytes);
  const size_t rb = want->n_bytes / static_cast<size_t>(in->rows());
  std::vector<uint8_t> got(want->n_bytes);
  for (int64_t r = 0; r < in->rows(); ++r) {
    QuantizeRowWeighted(c.type, x.data() + r * n, got.data() + r * rb, n, w.data());
  }
  const size_t bs = TypeInfo(c.type).type_size;
  size_t n_bad = 0, first_bad = SIZE_MAX;
  for (size_t b = 0; b < want->n_bytes / bs; ++b) {
    if (std::memcmp(got.data() + b * bs, want->data + b * bs, bs) != 0 && n_bad++ == 0) first_bad = b;
  }
  EXPECT_EQ(n_bad, 0u) << "first differing block " << first_bad << " of " << want->n_bytes / bs;
  std::vector<float> y(static_cast<size_t>(in->n_elements));
  ASSERT_TRUE(DequantizeRows(c.type, want->data, y.data(), in->rows(), n).ok());
  EXPECT_EQ(Sha(y.data(), y.size()), c.dequantized_sha);
}

INSTANTIATE_TEST_SUITE_P(
    Types, Iq1Reference,
    ::testing::Values(
        Iq1Case{"iq1_s", GgmlType::kIQ1_S, "cb3d5fe2e211c4f92996a403ceb54a92526df5cd5ab773bc1c943a4249140593"},
        Iq1Case{"iq1_m", GgmlType::kIQ1_M, "3968fcf2a57812f1f8911d760b41841e6bfae80c85ac1b2fad295b24e2708adc"}));

// IQ1_M keeps its fp16 super-block scale in the top nibble of each of the
// four uint16 of `scales`, lowest nibble first.
TEST(QuantIq1, Iq1mScaleIsSpreadOverTheScaleNibbles) {
  BlockIQ1_M b{};
  const uint16_t sc[4] = {0xa123, 0xb456, 0xc789, 0xdabc};
  std::memcpy(b.scales, sc, sizeof(sc));
  EXPECT_EQ(IQ1MScale(b), 0xdcba);
}

// ggml asserts IQ1_S's importance weights; IQ1_M falls back to x^2 (what
// llama-quantize does for token_embd/output without an imatrix entry): the
// bytes of ggml's quantize_iq1_m(input, 128 rows, NULL) by their SHA-256.
TEST(QuantIq1, Iq1sNeedsImportanceWeightsIq1mWithoutThemIsGgmls) {
  auto in_file = GgufFile::Open(LLMTK_TESTDATA "/quant/pure-attn_k.gguf");
  ASSERT_TRUE(in_file.ok());
  const GgufTensor* in = (*in_file)->FindTensor("input");
  std::vector<float> x(static_cast<size_t>(in->n_elements));
  std::memcpy(x.data(), in->data, in->n_bytes);
  std::vector<uint8_t> out(static_cast<size_t>(in->rows()) * 56);
  const absl::Status s = QuantizeRows(GgmlType::kIQ1_S, x.data(), out.data(), in->rows(), in->dims[0]);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "iq1_s needs importance weights (QuantizeRowWeighted)");
  ASSERT_TRUE(QuantizeRows(GgmlType::kIQ1_M, x.data(), out.data(), in->rows(), in->dims[0]).ok());
  EXPECT_EQ(Sha(out.data(), out.size()), "0c5c08af311a85c2e9bb97cc11b5dd13dab0bf8b16af60460e129ea1b5f77463");
}

// The IQ1_S and IQ1_M file types' per-tensor recipe where it branches (16
// layers: ffn_down of the first two Q2_K; 4 query heads per KV head: attn_v
// Q4_K; attn_output IQ2_XXS; untied output Q5_K, token_embd Q2_K): the whole
// file equals llama-quantize --imatrix gqa16-c128.dat (llama-imatrix -c 128
// --chunks 4 of stories_selfgen.txt) of random-model's F32 file for
// testdata/configs/tiny-llama-gqa4-16l.config.json, by SHA-256.
TEST(QuantIq1, FileTypesEqualLlamaQuantizeOnA16LayerGqaModel) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("quant_iq1_" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  RandomModelOptions ro;
  ro.config = LLMTK_TESTDATA "/configs/tiny-llama-gqa4-16l.config.json";
  ro.vocab = LLMTK_TESTDATA "/run/stories260K-hf-f32.gguf";
  ASSERT_TRUE(WriteRandomModel(ro, dir + "/f32.gguf", "F32", 2).ok());
  auto src = OpenGgufSource(dir + "/f32.gguf");
  ASSERT_TRUE(src.ok()) << src.status();
  auto im = ReadImatrixWeights(LLMTK_TESTDATA "/quant/imatrix/gqa16-c128.dat");
  ASSERT_TRUE(im.ok()) << im.status();
  using TypeSha = std::pair<std::string, std::string>;
  for (const auto& [type, want] :
       {TypeSha{"IQ1_S", "6d4cf34f5b922e28852b2064490b02e71e70a187c513ef16530304c970e31223"},
        TypeSha{"IQ1_M", "5291e6b7b386fac4eac88304e99d75a6d4afa9a35e72c6c00ee1388770e206ad"}}) {
    QuantizeOptions qo;
    qo.target = *ParseQuantTarget(type, false);
    qo.target.has_imatrix = true;
    qo.imatrix = &*im;
    qo.imatrix_file = "gqa16-c128.dat";  // as llama-quantize recorded it
    qo.threads = 2;
    const std::string out = dir + "/" + type + ".gguf";
    auto r = QuantizeModel(*src, out, qo);
    ASSERT_TRUE(r.ok()) << r.status();
    std::ifstream f(out, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(Sha256Hex(bytes), want) << type;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmtk
