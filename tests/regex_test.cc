// regex: PCRE2 with Oniguruma's meaning (HF tokenizers' engine) for the
// constructs where the two differ, and the match walk Split relies on.
#include "lib/base/regex.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace llmtk {
namespace {

std::vector<std::string> Matches(std::string_view pattern, std::string_view text) {
  auto re = Regex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << re.status();
  std::vector<std::pair<size_t, size_t>> m;
  EXPECT_TRUE((*re)->FindAll(text, &m).ok());
  std::vector<std::string> out;
  for (auto [b, e] : m) out.emplace_back(text.substr(b, e - b));
  return out;
}

TEST(RegexTest, RewritesOnlyWhatDiffers) {
  EXPECT_EQ(OnigurumaCompatible("\\s+(?!\\S)"), "(?:(?!\\x{180E})\\s)+(?!(?:\\x{180E}|\\S))");
  EXPECT_EQ(OnigurumaCompatible(" ?[^\\s\\p{L}\\p{N}]+"), " ?(?:\\x{180E}|[^\\s\\p{L}\\p{N}])+");
  EXPECT_EQ(OnigurumaCompatible("[\\s\\p{P}]"), "(?:(?!\\x{180E})[\\s\\p{P}])");
  EXPECT_EQ(OnigurumaCompatible("\\p{Han}+|\\P{Latin}|[\\p{Hiragana}a-z]"),
            "\\p{sc:Han}+|\\P{sc:Latin}|[\\p{sc:Hiragana}a-z]");
  EXPECT_EQ(OnigurumaCompatible("\\p{L}\\p{Lu}\\p{N}{1,3}[]a][^]b]\\\\s"), "\\p{L}\\p{Lu}\\p{N}{1,3}[]a][^]b]\\\\s");
}

TEST(RegexTest, MongolianVowelSeparatorIsNotSpace) {
  // U+180E is a format character: Oniguruma's \s does not match it.
  const std::string mvs = "\xE1\xA0\x8E";
  EXPECT_EQ(Matches("\\s+", " " + mvs + " "), (std::vector<std::string>{" ", " "}));
  EXPECT_EQ(Matches("[^\\s\\p{L}]+", " " + mvs + "a"), (std::vector<std::string>{mvs}));
  EXPECT_EQ(Matches("\\S+", "a" + mvs + " b"), (std::vector<std::string>{"a" + mvs, "b"}));
  // Real spaces still are: NBSP, ideographic space, NEL, line separator.
  EXPECT_EQ(Matches("\\s+", "a\xC2\xA0\xE3\x80\x80\xC2\x85\xE2\x80\xA8" "b"),
            (std::vector<std::string>{"\xC2\xA0\xE3\x80\x80\xC2\x85\xE2\x80\xA8"}));
}

TEST(RegexTest, ScriptMeansScriptNotExtensions) {
  // U+3001 IDEOGRAPHIC COMMA: Script=Common, Script_Extensions include Han.
  EXPECT_EQ(Matches("\\p{Han}+", "\xE4\xB8\xAD\xE3\x80\x81\xE6\x96\x87"),
            (std::vector<std::string>{"\xE4\xB8\xAD", "\xE6\x96\x87"}));
}

TEST(RegexTest, EmptyMatchesAdvanceByCharacter) {
  EXPECT_EQ(Matches("x*", "\xC3\xA9x\xC3\xA9"), (std::vector<std::string>{"x"}));
}

TEST(RegexTest, BadPatternIsDataLoss) {
  auto re = Regex::Compile("[a-");
  EXPECT_EQ(re.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(re.status().message(), "regex pattern \"[a-\" does not compile at offset 3: missing terminating ] for character class");
}

}  // namespace
}  // namespace llmtk
