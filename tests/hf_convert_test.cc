#include "lib/hf_convert.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "lib/hf_convert_tokenizer.h"
#include "lib/quantize_model.h"

namespace llmtk {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// HF checkpoint -> Q8_0 GGUF must be byte-identical to llama.cpp's
// convert_hf_to_gguf.py --outtype q8_0: metadata (tokenizer included),
// tensor order, un-permuted q/k rows, Q8_0 blocks and F16 fallbacks.
TEST(HfConvert, Stories260KQ8_0IsByteIdenticalToConvertHfToGguf) {
  auto src = OpenHfSource(LLMTK_TESTDATA "/quant/stories260K");
  ASSERT_TRUE(src.ok()) << src.status();
  QuantizeOptions o;
  o.target = *ParseQuantTarget("Q8_0", false);
  o.threads = 2;
  const std::string out = ::testing::TempDir() + "/hf-q8_0-" + std::to_string(::getpid()) + ".gguf";
  auto r = QuantizeModel(*src, out, o);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string want = ReadAll(LLMTK_TESTDATA "/quant/stories260K-hf-q8_0.gguf");
  const std::string got = ReadAll(out);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  std::remove(out.c_str());
}

TEST(HfConvert, UnpermutesRotaryRows) {
  // 2 heads of 4 rows: HF [h0: r0 r1 i0 i1][h1: ...] -> GGUF [r0 i0 r1 i1] per head.
  const uint8_t src[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  uint8_t dst[8];
  UnpermuteRotaryRows(src, dst, 8, 1, 2);
  EXPECT_EQ(std::vector<uint8_t>(dst, dst + 8), (std::vector<uint8_t>{0, 2, 1, 3, 4, 6, 5, 7}));
}

TEST(HfConvert, ErrorsNameTheProblem) {
  auto missing = OpenHfSource(LLMTK_TESTDATA "/quant");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(missing.status().message()),
            std::string(LLMTK_TESTDATA) + "/quant/config.json: cannot read (is this a Hugging Face model directory?)");
  auto sp = ParseSentencePieceModel(std::string("\x0a\x05\x0a\x09", 4), "t.model");
  EXPECT_EQ(sp.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::string(sp.status().message()), "t.model: malformed SentencePiece model at byte 0 (truncated piece)");
}

TEST(HfConvert, ParsesSentencePieceModel) {
  auto sp = ParseSentencePieceModel(ReadAll(LLMTK_TESTDATA "/quant/stories260K/tokenizer.model"), "tokenizer.model");
  ASSERT_TRUE(sp.ok()) << sp.status();
  ASSERT_EQ(sp->size(), 512u);
  EXPECT_EQ((*sp)[0].piece, "<unk>");
  EXPECT_EQ((*sp)[0].type, 2);
  EXPECT_EQ((*sp)[1].type, 3);
  EXPECT_EQ((*sp)[3].piece, "<0x00>");
  EXPECT_EQ((*sp)[3].type, 6);
  EXPECT_EQ((*sp)[511].score, -252.0f);
}

}  // namespace
}  // namespace llmtk
