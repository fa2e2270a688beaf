#include "lib/formats/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "lib/formats/gguf.h"

namespace llmtk {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid());
}

// llama.cpp's gguf writer and ours lay files out identically, so rewriting
// its output gives the same bytes; rewriting ours again must too.
TEST(GgufWriter, RewriteIsByteIdentical) {
  const std::string in = LLMTK_TESTDATA "/quant/stories260K-hf-q8_0.gguf";
  auto f = GgufFile::Open(in);
  ASSERT_TRUE(f.ok()) << f.status();
  const std::string p1 = TempPath("rw1.gguf"), p2 = TempPath("rw2.gguf");
  ASSERT_TRUE(RewriteGguf(**f, p1).ok());
  auto g = GgufFile::Open(p1);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(RewriteGguf(**g, p2).ok());
  const std::string a = ReadAll(in), b = ReadAll(p1), c = ReadAll(p2);
  EXPECT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(b == c);
  std::remove(p1.c_str());
  std::remove(p2.c_str());
}

TEST(GgufWriter, WritesEveryValueTypeAndReadsItBack) {
  GgufMetadata md;
  md.SetString("general.architecture", "llama");
  md.SetU32("llama.block_count", 2);
  md.SetI32("i", -5);
  md.SetU64("big", 1ull << 40);
  md.SetF32("eps", 1e-5f);
  md.SetBool("flag", true);
  md.SetStringArray("toks", {"a", "", "\xe6\x97\xa5"});
  md.SetF32Array("scores", {0.5f, -1.0f});
  md.SetI32Array("types", {1, 2, 3});
  md.SetU32("llama.block_count", 3);  // moves to the end, as ggml does
  md.SetU32("general.alignment", 64);
  std::vector<GgufTensorSpec> specs = {{"w", GgmlType::kQ8_0, {64, 3}}, {"n", GgmlType::kF32, {5}}};
  const std::string p = TempPath("values.gguf");
  ASSERT_TRUE(WriteGguf(p, md, specs, [](size_t i, uint8_t* out, size_t n) {
                std::memset(out, static_cast<int>(i + 1), n);
                return absl::OkStatus();
              }).ok());
  auto f = GgufFile::Open(p);
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& g = **f;
  EXPECT_EQ(*g.GetU32("llama.block_count"), 3u);
  EXPECT_EQ(g.metadata()[g.metadata().size() - 2].key, "llama.block_count");
  EXPECT_EQ(*g.GetI32("i"), -5);
  EXPECT_EQ(*g.GetU64("big"), 1ull << 40);
  EXPECT_EQ(*g.GetF32("eps"), 1e-5f);
  EXPECT_TRUE(*g.GetBool("flag"));
  EXPECT_EQ(*g.GetStringArray("toks"), (std::vector<std::string_view>{"a", "", "\xe6\x97\xa5"}));
  EXPECT_EQ(*g.GetI32Array("types"), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(g.alignment(), 64u);
  EXPECT_EQ(g.data_offset() % 64, 0u);
  ASSERT_EQ(g.tensors().size(), 2u);
  EXPECT_EQ(g.tensors()[0].n_bytes, 3u * 2 * 34);
  EXPECT_EQ(g.tensors()[1].offset, 256u);  // 204 bytes padded to 64
  EXPECT_EQ(g.tensors()[1].data[0], 2);
  EXPECT_EQ(*GgufFileSize(md, specs), g.file_size());
  std::remove(p.c_str());
}

TEST(GgufWriter, RejectsBadSpecsAndLeavesNoFile) {
  GgufMetadata md;
  const std::string p = TempPath("bad.gguf");
  auto s = WriteGguf(p, md, {{"w", GgmlType::kQ4_K, {100, 2}}}, [](size_t, uint8_t*, size_t) {
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "tensor 'w': row length 100 does not split into q4_K blocks");
  s = WriteGguf(p, md, {{"w", GgmlType::kF32, {4}}}, [](size_t, uint8_t*, size_t) {
    return absl::DataLossError("boom");
  });
  EXPECT_EQ(s.message(), "boom");
  EXPECT_FALSE(std::ifstream(p).good());
}

}  // namespace
}  // namespace llmtk
