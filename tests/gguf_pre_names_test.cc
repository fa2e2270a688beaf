// Every tokenizer.ggml.pre name llama.cpp c392e50 knows (llama-vocab.cpp),
// each on llama.cpp's mpt vocabulary relabelled with it, against c392e50's
// llama-tokenize on the default-pre test inputs
// (testdata/tok/pre-names-mpt-vocab.out: "NAME<TAB>CASE<TAB>IDS", the cases
// joined by <|endoftext|> in one llama-tokenize run, --no-bos, split at
// that id). jina-v2-{de,es,code} are left out: llama.cpp refuses a
// vocabulary of theirs without a <mask> token.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_vocab.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

std::string Tok(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/tok/" + rel; }

TEST(GgufPreNames, EveryLlamaCppNameGivesLlamaTokenizeIds) {
  auto inp = ReadFileToString(Tok("ggml-vocab-default-pre.gguf.inp"));
  ASSERT_TRUE(inp.ok());
  std::vector<std::string> cases = absl::StrSplit(*inp, "\n__ggml_vocab_test__\n");
  if (!cases.empty() && cases.back().empty()) cases.pop_back();
  auto out = ReadFileToString(Tok("pre-names-mpt-vocab.out"));
  ASSERT_TRUE(out.ok());
  std::map<std::string, std::vector<std::string>> want;  // name -> ids per case
  for (absl::string_view line : absl::StrSplit(*out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    size_t i = 0;
    ASSERT_TRUE(absl::SimpleAtoi(f[1], &i));
    auto& v = want[f[0]];
    ASSERT_EQ(i, v.size());
    v.push_back(f[2]);
  }
  ASSERT_EQ(want.size(), 39u);
  auto bytes = ReadFileToString(Tok("ggml-vocab-mpt.gguf.zst"));
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::FromBuffer(*bytes, "mpt");
  ASSERT_TRUE(file.ok()) << file.status();
  int differ = 0;
  for (const auto& [name, ids_per_case] : want) {
    ASSERT_EQ(ids_per_case.size(), cases.size()) << name;
    GgufVocab v = ReadGgufVocab(**file);
    v.pre = name;
    auto tok = Tokenizer::FromGgufVocab(std::move(v), "mpt-" + name);
    ASSERT_TRUE(tok.ok()) << name << ": " << tok.status();
    for (size_t i = 0; i < cases.size(); ++i) {
      std::vector<uint32_t> ids;
      ASSERT_TRUE((*tok)->Encode(cases[i], /*add_special=*/false, &ids, /*parse_special=*/false).ok());
      std::string got;
      for (uint32_t id : ids) absl::StrAppend(&got, got.empty() ? "" : " ", id);
      if (got != ids_per_case[i]) {
        ++differ;
        ADD_FAILURE() << name << " case " << i << " [" << cases[i] << "]\n  want: " << ids_per_case[i]
                      << "\n  got:  " << got;
      }
    }
  }
  EXPECT_EQ(differ, 0);
}

TEST(GgufPreNames, UnknownNameIsUnimplemented) {
  auto bytes = ReadFileToString(Tok("ggml-vocab-mpt.gguf.zst"));
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::FromBuffer(*bytes, "mpt");
  ASSERT_TRUE(file.ok());
  GgufVocab v = ReadGgufVocab(**file);
  v.pre = "no-such-pre";
  auto tok = Tokenizer::FromGgufVocab(std::move(v), "mpt.gguf");
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(tok.status().message(), "mpt.gguf: tokenizer.ggml.pre \"no-such-pre\" is not a pre-tokenizer llmtk knows");
}

}  // namespace
}  // namespace llmtk
