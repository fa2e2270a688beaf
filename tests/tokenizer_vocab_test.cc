// llama.cpp's tokenizer test vectors (generated with HF tokenizers) against
// our GGUF vocabulary loader: every case must give identical ids.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

const std::string kDir = std::string(LLMTK_TESTDATA) + "/tok/";

std::vector<std::string> Inputs(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, "\n__ggml_vocab_test__\n");
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::string Join(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

class GgmlVocabTest : public ::testing::TestWithParam<std::string> {};

void CheckVectors(const std::string& tokenizer, const std::string& base, const std::string& name) {
  auto tok = Tokenizer::Load(tokenizer);
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto inp = ReadFileToString(base + ".inp");
  auto out = ReadFileToString(base + ".out");
  ASSERT_TRUE(inp.ok() && out.ok());
  std::vector<std::string> inputs = Inputs(*inp);
  std::vector<std::string> expected = absl::StrSplit(*out, '\n');
  if (!expected.empty() && expected.back().empty()) expected.pop_back();
  ASSERT_EQ(inputs.size(), expected.size());
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<uint32_t> ids;
    ASSERT_TRUE((*tok)->Encode(inputs[i], /*add_special=*/false, &ids).ok());
    // The .out files write each id with a leading space.
    std::string want = expected[i];
    while (!want.empty() && want.back() == ' ') want.pop_back();
    if (Join(ids) != want) {
      ++failures;
      ADD_FAILURE() << name << " case " << i << " [" << inputs[i] << "]\n  want:" << want << "\n  got: " << Join(ids);
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST_P(GgmlVocabTest, MatchesEveryCase) {
  const std::string base = kDir + "ggml-vocab-" + GetParam() + ".gguf";
  CheckVectors(base + ".zst", base, GetParam());
}

// llama.cpp's llama-bpe vectors are Llama 3's: run them on its tokenizer.json.
TEST(GgmlVocabVectors, LlamaBpeWithLlama3TokenizerJson) {
  CheckVectors(kDir + "llama3-tokenizer.json.zst", kDir + "ggml-vocab-llama-bpe.gguf", "llama-bpe");
}

// The gpt-2 vectors on GPT-2's tokenizer.json (the same vocabulary as
// ggml-vocab-gpt-2.gguf, which is left out of testdata to save space;
// scripts/tok-compare-vocab checks that file from ../shared).
TEST(GgmlVocabVectors, Gpt2WithGpt2TokenizerJson) {
  CheckVectors(kDir + "../quant/gpt2-tokenizer.json.zst", kDir + "ggml-vocab-gpt-2.gguf", "gpt-2");
}

INSTANTIATE_TEST_SUITE_P(Vocabs, GgmlVocabTest,
                         // default-pre: tokenizer.ggml.pre "default" (llama.cpp's default regexes), a
                         // 600-token vocabulary llmtk-tok train made, ids from llama-tokenize (c392e50).
                         ::testing::Values("llama-spm", "phi-3", "deepseek-coder", "deepseek-llm", "falcon", "starcoder", "mpt",
                                           "default-pre", "bert-bge"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace llmtk
