// GGUF "t5" vocabularies (llama.cpp's UGM tokenizer) against llama.cpp
// c392e50's llama-tokenize. testdata/tok/uni-t5.gguf.zst is the
// vocabulary-only GGUF T5's converter would write for tok/spm/uni.model
// (spm_train Unigram whose precompiled charsmap carries toy rules: full-width
// Latin, ﬁ, ① ...), made by scripts/reference/spm-t5-gguf.py;
// tok/uni-t5.ids holds llama-tokenize's ids for each line of
// tok/spm/lines.jsonl (scripts/ugm-compare --golden).
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/tokenizer/llama_ugm.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

const std::string kTok = std::string(LLMTK_TESTDATA) + "/tok/";

std::unique_ptr<Tokenizer> Load() {
  auto t = Tokenizer::Load(kTok + "uni-t5.gguf.zst");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

TEST(LlamaUgm, IdsEqualLlamaTokenizeOnEveryLine) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  auto golden = ReadFileToString(kTok + "uni-t5.ids");
  ASSERT_TRUE(golden.ok()) << golden.status();
  std::vector<std::string> want = absl::StrSplit(*golden, '\n');
  auto reader = DocumentReader::Open({kTok + "spm/lines.jsonl"}, {});
  ASSERT_TRUE(reader.ok()) << reader.status();
  Document doc;
  size_t n = 0;
  while (*(*reader)->Next(&doc)) {
    ASSERT_LT(n, want.size());
    std::vector<uint32_t> ids;
    ASSERT_TRUE(tok->Encode(doc.text, false, &ids).ok());
    EXPECT_EQ(absl::StrJoin(ids, " "), want[n]) << "line " << n + 1 << ": " << doc.text;
    ++n;
  }
  EXPECT_EQ(n, 55u);
}

TEST(LlamaUgm, EosAfterTheTextAsLlamaCppAddsIt) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  std::vector<uint32_t> plain, special;
  ASSERT_TRUE(tok->Encode("Hello world", false, &plain).ok());
  ASSERT_TRUE(tok->Encode("Hello world", true, &special).ok());
  plain.push_back(*tok->TokenToId("</s>"));
  EXPECT_EQ(special, plain);
}

TEST(LlamaUgm, NormalizationMergesSpacesAndMapsCharacters) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  const auto* m = dynamic_cast<const LlamaUgmModel*>(&tok->model());
  ASSERT_NE(m, nullptr);
  // remove_extra_whitespaces: one "▁" before each run of text, none after;
  // the charsmap's rules (full-width Latin to ASCII); an invalid byte is U+FFFD.
  EXPECT_EQ(m->Normalize("  Ａb  c "), "\xE2\x96\x81" "Ab" "\xE2\x96\x81" "c");
  EXPECT_EQ(m->Normalize("a\xFF"), "\xE2\x96\x81" "a\xEF\xBF\xBD");
  EXPECT_EQ(m->Normalize("   "), "");
}

}  // namespace
}  // namespace llmtk
