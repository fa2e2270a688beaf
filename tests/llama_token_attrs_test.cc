// Which GGUF tokens llama.cpp c392e50's loader makes control by name
// (lib/tokenizer/llama_token_attrs), seen through encoding: without special
// parsing a control token is spelled out as text and a user-defined one is
// matched. testdata/tok/token-attrs-N.gguf and token-attrs.txt
// (scripts/reference/llama-token-attrs-golden): vocabularies with several
// end-of-turn and fill-in-the-middle names per group, where llama.cpp marks
// only the first one its unordered_map iterates to, and llama-tokenize's
// ids for a probe text with every name.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/formats/gguf_vocab.h"
#include "lib/tokenizer/llama_token_attrs.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

std::vector<uint32_t> ParseIds(const std::string& line) {
  std::vector<uint32_t> ids;
  for (absl::string_view x : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    uint32_t id;
    EXPECT_TRUE(absl::SimpleAtoi(x, &id)) << x;
    ids.push_back(id);
  }
  return ids;
}

TEST(LlamaTokenAttrs, EncodeAsLlamaTokenize) {
  const std::string dir = std::string(LLMTK_TESTDATA) + "/tok/";
  auto golden = ReadFileToString(dir + "token-attrs.txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  std::vector<std::string> lines = absl::StrSplit(*golden, '\n');
  lines.pop_back();  // after the last newline
  ASSERT_EQ(lines.size(), 1u + 4 * 3);
  const std::string& probe = lines[0];
  int spelled_differently = 0;
  for (size_t i = 1; i < lines.size(); i += 3) {
    auto tok = Tokenizer::Load(dir + "token-attrs-" + lines[i] + ".gguf");
    ASSERT_TRUE(tok.ok()) << tok.status();
    std::vector<uint32_t> plain, special;
    ASSERT_TRUE((*tok)->Encode(probe, false, &plain, /*parse_special=*/false).ok());
    ASSERT_TRUE((*tok)->Encode(probe, false, &special, /*parse_special=*/true).ok());
    EXPECT_EQ(plain, ParseIds(lines[i + 1])) << "vocabulary " << lines[i] << ", no special parsing";
    EXPECT_EQ(special, ParseIds(lines[i + 2])) << "vocabulary " << lines[i] << ", special parsing";
    spelled_differently += plain != special;
  }
  EXPECT_EQ(spelled_differently, 4);
}

// Marking every name of a group, as llmtk did before, differs from the
// goldens: in the first vocabulary "<PRE>" and "<|fim_prefix|>" stay
// user-defined and only "<fim-prefix>" (first in llama.cpp's map order)
// becomes control.
TEST(LlamaTokenAttrs, OnlyTheFirstNameOfAGroup) {
  std::vector<std::string> tokens = {"a", "<PRE>", "<|fim_prefix|>", "<fim-prefix>", "<|end|>", "<EOT>"};
  const std::vector<int32_t> types(tokens.size(), kGgufTokenUserDefined);
  const LlamaTokenAttrs a = ComputeLlamaTokenAttrs(tokens, types, {});
  int control = 0;
  for (size_t i = 1; i <= 3; ++i) control += a.attrs[i] == LlamaTokenAttr::kControl;
  EXPECT_EQ(control, 1);
  EXPECT_EQ(a.attrs[4], LlamaTokenAttr::kControl);  // end-of-generation names: always
  EXPECT_EQ(a.attrs[5], LlamaTokenAttr::kControl);
  // The FIM prefix id given: none of its names by name; the end of turn by
  // name is one of <|end|>, <EOT> (both end generation anyway).
  LlamaSpecialIds ids;
  ids.fim_pre = 1;
  ids.eos = 0;
  const LlamaTokenAttrs b = ComputeLlamaTokenAttrs(tokens, types, ids);
  for (size_t i = 1; i <= 3; ++i) EXPECT_EQ(b.attrs[i], LlamaTokenAttr::kUserDefined) << i;
  EXPECT_EQ(b.eog, (std::vector<uint32_t>{0, 4, 5}));
}

}  // namespace
}  // namespace llmtk
