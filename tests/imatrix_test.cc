// The importance matrix: computed over stories260K against llama-imatrix's
// own .dat files (llama.cpp c392e50, testdata/quant/imatrix), merged as
// llama-imatrix --in-file merges, written and read in both forms, and
// corrupt files refused with messages that say what is wrong.
#include "lib/eval/imatrix.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/formats/gguf.h"
#include "lib/formats/imatrix_file.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/model/vocab.h"

namespace llmtk {
namespace {

const std::string kDir = LLMTK_TESTDATA "/quant/imatrix/";

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "_" + name)).string();
}

std::string Slurp(const std::string& path) {
  auto s = ReadFileToString(path);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

void Spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// The entry names of a .dat in file order.
std::vector<std::string> DatNames(const std::string& bytes) {
  std::vector<std::string> names;
  size_t o = 0;
  auto i32 = [&]() {
    int32_t v;
    std::memcpy(&v, bytes.data() + o, 4);
    o += 4;
    return v;
  };
  const int32_t n = i32();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t len = i32();
    names.push_back(bytes.substr(o, static_cast<size_t>(len)));
    o += static_cast<size_t>(len);
    i32();
    o += 4 * static_cast<size_t>(i32());
  }
  return names;
}

// Runs the collector as `llmtk-quant imatrix` does over stories_selfgen.txt.
std::string Compute(int n_ctx, int chunks) {
  auto model = Model::Load(LLMTK_TESTDATA "/run/stories260K-hf-f32.gguf");
  EXPECT_TRUE(model.ok()) << model.status();
  auto vocab = Vocab::FromGguf((*model)->gguf());
  EXPECT_TRUE(vocab.ok());
  std::string text = Slurp(LLMTK_TESTDATA "/ppl/stories_selfgen.txt");
  text.pop_back();  // llama.cpp's -f drops the final newline
  auto tokens = vocab->Encode(text, true, false);
  EXPECT_TRUE(tokens.ok());
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.max_batch = n_ctx;
  so.threads = 1;
  auto session = Session::Create(**model, so);
  EXPECT_TRUE(session.ok());
  ImatrixOptions o;
  o.n_ctx = n_ctx;
  o.n_batch = n_ctx;
  o.max_chunks = chunks;
  o.bos = vocab->bos();
  Imatrix m;
  m.prompt_file = "selfgen.txt";  // the name llama-imatrix was given
  EXPECT_TRUE(CollectImatrix(**session, *tokens, o, &m).ok());
  return SerializeImatrixDat(m);
}

void ExpectCloseToReference(const std::string& ours, const std::string& ref_name) {
  const std::string ref = Slurp(kDir + ref_name);
  EXPECT_EQ(DatNames(ours), DatNames(ref));  // llama-imatrix's entry order
  ASSERT_EQ(ours.size(), ref.size());
  // Same layout and counts: every byte outside the values agrees; values
  // within 1e-5 relative (ggml's and our float sums differ in the last bits).
  const std::string path = TempPath("ours.dat");
  Spit(path, ours);
  auto a = ReadImatrixWeights(path);
  auto b = ReadImatrixWeights(kDir + ref_name);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->chunks, b->chunks);
  EXPECT_EQ(a->datasets, b->datasets);
  ASSERT_EQ(a->values.size(), b->values.size());
  double worst = 0;
  for (const auto& [name, want] : b->values) {
    const std::vector<float>& got = a->values.at(name);
    ASSERT_EQ(got.size(), want.size()) << name;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(got[i] / want[i] - 1.0));
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_GT(worst, 0);  // the comparison sees real, independently computed numbers
  std::filesystem::remove(path);
}

TEST(Imatrix, EqualsLlamaImatrixOnStories260K) {
  ExpectCloseToReference(Compute(64, -1), "s260-c64.dat");
}

TEST(Imatrix, ChunksLimitAsLlamaImatrix) {
  ExpectCloseToReference(Compute(128, 3), "s260-c128-3.dat");
}

TEST(Imatrix, TooShortTextIsRefusedWithLlamaImatrixAdvice) {
  auto model = Model::Load(LLMTK_TESTDATA "/run/stories260K-hf-f32.gguf");
  ASSERT_TRUE(model.ok());
  SessionOptions so;
  so.n_ctx = 64;
  so.max_batch = 64;
  auto session = Session::Create(**model, so);
  ASSERT_TRUE(session.ok());
  std::vector<int32_t> tokens(100, 5);
  ImatrixOptions o;
  o.n_ctx = 64;
  o.n_batch = 64;
  Imatrix m;
  const absl::Status s = CollectImatrix(**session, tokens, o, &m);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "you need at least 128 tokens for a context of 64 tokens; the text tokenizes to only 100 tokens (use a "
            "longer text or a smaller --ctx)");
}

TEST(Imatrix, CombineIsByteIdenticalToLlamaImatrixInFile) {
  Imatrix m;
  ASSERT_TRUE(LoadImatrix(kDir + "s260-c64.dat", 512, &m).ok());
  ASSERT_TRUE(LoadImatrix(kDir + "s260-c128-3.dat", 512, &m).ok());
  // (EXPECT_TRUE: a mismatch would print 12 KB of bytes.)
  EXPECT_TRUE(SerializeImatrixDat(m) == Slurp(kDir + "s260-combined.dat"));
}

TEST(Imatrix, GgufFormRoundTrip) {
  Imatrix m;
  ASSERT_TRUE(LoadImatrix(kDir + "s260-c64.dat", 64, &m).ok());
  const std::string path = TempPath("im.gguf");
  ASSERT_TRUE(WriteImatrixGguf(m, 64, path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*(*f)->GetString("general.type"), "imatrix");
  EXPECT_EQ(*(*f)->GetU32("imatrix.chunk_size"), 64u);
  ASSERT_EQ((*f)->tensors().size(), 70u);  // 35 matrices: in_sum2 and counts
  EXPECT_EQ((*f)->tensors()[0].name, "blk.0.attn_k.weight.in_sum2");
  EXPECT_EQ((*f)->tensors()[1].name, "blk.0.attn_k.weight.counts");
  // A loaded .dat holds means times ncall; the GGUF form holds activation
  // sums and counts, scaled by the chunk size as llama.cpp converts them.
  const auto* counts = reinterpret_cast<const float*>((*f)->tensors()[1].data);
  EXPECT_EQ(counts[0], 98.0f * 64);
  auto a = ReadImatrixWeights(path);
  auto b = ReadImatrixWeights(kDir + "s260-c64.dat");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(a->values.size(), b->values.size());
  for (const auto& [name, want] : b->values) {
    const std::vector<float>& got = a->values.at(name);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6 * std::fabs(want[i])) << name;
  }
  // Read back as --in-file, it is the same statistics again.
  Imatrix back;
  ASSERT_TRUE(LoadImatrix(path, 64, &back).ok());
  EXPECT_EQ(back.stats.at("blk.2.ffn_down.weight").ncall, 98);
  EXPECT_EQ(back.last_call, 98);
  std::filesystem::remove(path);
}

absl::Status LoadBytes(const std::string& bytes) {
  const std::string path = TempPath("bad.dat");
  Spit(path, bytes);
  Imatrix m;
  absl::Status s = LoadImatrix(path, 512, &m);
  auto w = ReadImatrixWeights(path);
  EXPECT_EQ(s.message(), w.status().message());  // both readers say the same
  std::filesystem::remove(path);
  return s;
}

std::string Without(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : s;
}

TEST(Imatrix, CorruptFilesAreRefusedClearly) {
  const std::string good = Slurp(kDir + "s260-c64.dat");
  const std::string p = TempPath("bad.dat") + ": ";
  absl::Status s = LoadBytes(good.substr(0, 5000));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Without(std::string(s.message()), p),
            "truncated imatrix file: entry 15 of 35 ('blk.0.ffn_up.weight')'s values needs 256 bytes at offset 4938 "
            "but the file has 5000 bytes; recompute it with llmtk-quant imatrix");
  // ncall of the first entry set to 0.
  std::string zero = good;
  int32_t first_len;
  std::memcpy(&first_len, zero.data() + 4, 4);
  std::memset(zero.data() + 8 + first_len, 0, 4);
  s = LoadBytes(zero);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Without(std::string(s.message()), p),
            "entry 1 of 35 ('" + DatNames(good)[0] +
                "') has a count (ncall) of 0 at offset " + std::to_string(8 + first_len) +
                ": its values cannot be averaged; recompute the imatrix with text that reaches this matrix");
  // Not an imatrix at all: a text file.
  s = LoadBytes("hello world, this is text\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Without(std::string(s.message()), p),
            "entry 1 of 1819043176 has a name length of 1870078063 at offset 4; not an imatrix file, or a corrupt "
            "one; give a file written by llmtk-quant imatrix or llama-imatrix");
}

}  // namespace
}  // namespace llmtk
