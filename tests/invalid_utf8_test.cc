// Text that is not valid UTF-8 (issue #20): GGUF vocabularies tokenize it as
// llama.cpp c392e50 does, through both the library (Tokenizer::FromGguf,
// llmtk-tok) and the runner's vocabulary (Vocab::FromGguf, llmtk-run and
// llmtk-ppl); tokenizer.json files refuse it, as HF tokenizers does.
//
// testdata/tok/invalid-utf8.inp: crafted cases (stray continuation bytes,
// sequences truncated mid-text and at the end, overlong forms, surrogates,
// 5/6-byte and FE/FF leads, Latin-1 text, special-token text around a bad
// byte) and 13 heldout documents with four random bytes each replaced by
// 0x80..0xFF. The .out files: llama-tokenize c392e50 --ids --no-bos
// --no-escape per case (control tokens parsed, its default).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/formats/gguf.h"
#include "lib/model/vocab.h"
#include "lib/tokenizer/invalid_utf8.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

std::string Tok(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/tok/" + rel; }

std::vector<std::string> Split(const std::string& path, const char* sep) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<std::string> out = absl::StrSplit(*text, sep);
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::string Join(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) absl::StrAppend(&s, " ", id);
  return s;
}

class InvalidUtf8Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidUtf8Golden, SameIdsAsLlamaTokenize) {
  const std::vector<std::string> in = Split(Tok("invalid-utf8.inp"), "\n__ggml_vocab_test__\n");
  const std::vector<std::string> want = Split(Tok("invalid-utf8-" + GetParam() + ".out"), "\n");
  ASSERT_EQ(in.size(), 41u);
  ASSERT_EQ(in.size(), want.size());
  auto bytes = ReadFileToString(Tok("ggml-vocab-" + GetParam() + ".gguf.zst"));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto file = GgufFile::FromBuffer(*bytes, GetParam());
  ASSERT_TRUE(file.ok()) << file.status();
  auto tok = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_TRUE((*tok)->TakesInvalidUtf8());
  auto vocab = Vocab::FromGguf(**file);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  int differ = 0, invalid = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    invalid += CountInvalidUtf8Bytes(in[i]) > 0;
    std::vector<uint32_t> ids;
    absl::Status s = (*tok)->Encode(in[i], /*add_special=*/false, &ids, /*parse_special=*/true);
    ASSERT_TRUE(s.ok()) << i << ": " << s;
    auto run = vocab->Encode(in[i], /*add_special=*/false, /*parse_special=*/true);
    ASSERT_TRUE(run.ok()) << run.status();
    const std::vector<uint32_t> run_ids(run->begin(), run->end());
    if (Join(ids) != want[i] || Join(run_ids) != want[i]) {
      ++differ;
      ADD_FAILURE() << GetParam() << " case " << i << "\n  want:" << want[i] << "\n  tok: " << Join(ids)
                    << "\n  run: " << Join(run_ids);
    }
  }
  EXPECT_EQ(differ, 0);
  EXPECT_EQ(invalid, 41);
}

// llama-spm: SentencePiece (raw bytes, byte fallback); mpt: GPT-2's regex
// (llama.cpp's own splitter); falcon and deepseek-llm: regex lists through
// llama.cpp's std::regex path (category-collapsed and wide-character);
// bert-bge: WPM, whose preprocessing drops the U+FFFD of bad bytes, NUL
// (overlong C0 80) and surrogates from words.
INSTANTIATE_TEST_SUITE_P(Vocabs, InvalidUtf8Golden,
                         ::testing::Values("llama-spm", "mpt", "falcon", "deepseek-llm", "bert-bge"));

TEST(InvalidUtf8, CountsBytesOutsideWellFormedSequences) {
  size_t first = 99;
  EXPECT_EQ(CountInvalidUtf8Bytes("ok \xE2\x82\xAC", &first), 0u);
  EXPECT_EQ(first, 99u);
  EXPECT_EQ(CountInvalidUtf8Bytes("ab\x80" "c\xE4\xB8", &first), 3u);
  EXPECT_EQ(first, 2u);
  EXPECT_EQ(CountInvalidUtf8Bytes("\xC0\x80\xED\xA0\x80"), 5u);  // overlong NUL, surrogate
}

// llama.cpp's decoder: one U+FFFD per failing byte; overlong forms and
// surrogates decode to their values.
TEST(InvalidUtf8, LlamaCppCodepoints) {
  std::string bytes, regex;
  bool surrogates = true;
  ASSERT_TRUE(LlamaCppCodepointBytes("a\xE4\xB8z", 0, &bytes, &regex, &surrogates).ok());
  EXPECT_EQ(bytes, "a\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_EQ(regex, bytes);
  EXPECT_FALSE(surrogates);
  ASSERT_TRUE(LlamaCppCodepointBytes("\xC0\x80|\xE0\x81\x81|\xF8\x88", 0, &bytes, &regex, &surrogates).ok());
  EXPECT_EQ(bytes, std::string("\0|A|\xEF\xBF\xBD\xEF\xBF\xBD", 10));
  ASSERT_TRUE(LlamaCppCodepointBytes("x\xED\xA0\x80", 0, &bytes, &regex, &surrogates).ok());
  EXPECT_EQ(bytes, "x\xED\xA0\x80");
  EXPECT_EQ(regex, "x\xEE\x80\x80");
  EXPECT_TRUE(surrogates);
}

// llama-tokenize c392e50 aborts on these ("invalid codepoint"): refused.
TEST(InvalidUtf8, PastU10FFFFIsRefusedAsLlamaCppAborts) {
  auto bytes = ReadFileToString(Tok("ggml-vocab-mpt.gguf.zst"));
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::FromBuffer(*bytes, "mpt");
  ASSERT_TRUE(file.ok());
  auto tok = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tok.ok());
  std::vector<uint32_t> ids;
  absl::Status s = (*tok)->Encode("ok <|endoftext|>a\xF4\x90\x80\x80", false, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "invalid UTF-8 at byte 17 of the text: F4 90 80 80 decodes, as llama.cpp reads it, to U+110000, past "
            "U+10FFFF; llama.cpp (c392e50) aborts on it (\"invalid codepoint\"), so there are no ids to match: "
            "remove or replace those bytes");
  // SentencePiece keeps the bytes: llama-tokenize gives these.
  auto spm_bytes = ReadFileToString(Tok("ggml-vocab-llama-spm.gguf.zst"));
  ASSERT_TRUE(spm_bytes.ok());
  auto spm_file = GgufFile::FromBuffer(*spm_bytes, "llama-spm");
  ASSERT_TRUE(spm_file.ok());
  auto spm = Tokenizer::FromGguf(**spm_file);
  ASSERT_TRUE(spm.ok());
  ids.clear();
  ASSERT_TRUE((*spm)->Encode("a\xF5\x80\x80\x80" "b", false, &ids).ok());
  EXPECT_EQ(ids, (std::vector<uint32_t>{263, 248, 131, 131, 131, 29890}));
}

TEST(InvalidUtf8, TokenizerJsonRefusesNamingTheOffset) {
  auto tok = Tokenizer::Load(Tok("stories260K-tokenizer.json"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_FALSE((*tok)->TakesInvalidUtf8());
  std::vector<uint32_t> ids;
  absl::Status s = (*tok)->Encode("once\xFF", false, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "invalid UTF-8 at byte 4 of the text (0xFF): HF tokenizers takes only valid strings and refuses it too; "
            "repair the text (e.g. --invalid-utf8=replace) or use the model's GGUF vocabulary, which tokenizes it "
            "as llama.cpp does");
}

}  // namespace
}  // namespace llmtk
