// regex_split: the hand-written split scanners against PCRE2 (the
// reference), on every code point in the contexts the patterns distinguish,
// on random strings over the characters where they differ, and on the
// tokenizer test texts.
#include "lib/base/regex_split.h"

#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/regex.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

// Every pattern that gets a scanner, as tokenizer files and our loaders spell them.
const char* const kPatterns[] = {
    // Llama 3 (tokenizer.json, tiktoken)
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    // Qwen2 (tokenizer.json)
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    // Llama 3 and Qwen2 as llama.cpp writes them (GGUF vocabularies)
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    // GPT-2: HF's ByteLevel, and llama.cpp's (without the final \s+)
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
};

std::vector<std::unique_ptr<Regex>> CompileAll() {
  std::vector<std::unique_ptr<Regex>> out;
  for (const char* p : kPatterns) {
    auto re = Regex::Compile(p);
    EXPECT_TRUE(re.ok()) << re.status();
    EXPECT_TRUE((*re)->has_split_scanner()) << p;
    out.push_back(std::move(*re));
  }
  return out;
}

// Both walks of `text`; on a difference, the first differing match.
void ExpectSame(const Regex& re, std::string_view text, std::string_view what) {
  std::vector<std::pair<size_t, size_t>> fast, ref;
  ASSERT_TRUE(re.FindAll(text, &fast).ok());
  ASSERT_TRUE(re.FindAllReference(text, &ref).ok());
  if (fast == ref) return;
  size_t i = 0;
  while (i < fast.size() && i < ref.size() && fast[i] == ref[i]) ++i;
  auto show = [&](const std::vector<std::pair<size_t, size_t>>& m) {
    if (i >= m.size()) return std::string("(none)");
    return absl::StrCat("[", m[i].first, ", ", m[i].second, ") \"",
                        ToAbsl(text.substr(m[i].first, m[i].second - m[i].first)), "\"");
  };
  ADD_FAILURE() << what << ": pattern " << re.pattern() << "\nmatch " << i << ": scanner " << show(fast)
                << ", PCRE2 " << show(ref);
}

TEST(RegexSplitTest, DetectsOnlyTheKnownPatterns) {
  CompileAll();
  for (const char* p : {"\\s+", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s",
                        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,2}| ?[^\\s\\p{L}\\p{N}]+"
                        "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}) {
    auto re = Regex::Compile(p);
    ASSERT_TRUE(re.ok());
    EXPECT_FALSE((*re)->has_split_scanner()) << p;
  }
}

TEST(RegexSplitTest, Classes) {
  // regex_split.cc spells \s as this rewrite (it cannot include regex.h).
  EXPECT_EQ(OnigurumaCompatible("\\s"), "(?:(?!\\x{180E})\\s)");
  EXPECT_EQ(SplitCharClass('a'), 1);
  EXPECT_EQ(SplitCharClass('7'), 2);
  EXPECT_EQ(SplitCharClass(' '), 4);
  EXPECT_EQ(SplitCharClass('\n'), 4 | 8);
  EXPECT_EQ(SplitCharClass('\r'), 4 | 8);
  EXPECT_EQ(SplitCharClass('\t'), 4);
  EXPECT_EQ(SplitCharClass(0x85), 4);      // NEL
  EXPECT_EQ(SplitCharClass(0x180E), 0);    // Oniguruma: not a space
  EXPECT_EQ(SplitCharClass(0x3000), 4);    // ideographic space
  EXPECT_EQ(SplitCharClass(0x4E2D), 1);    // 中
  EXPECT_EQ(SplitCharClass(0x2167), 2);    // Ⅷ (Nl)
  EXPECT_EQ(SplitCharClass(0xBD), 2);      // ½ (No)
  EXPECT_EQ(SplitCharClass(0x301), 0);     // combining acute (Mn)
  EXPECT_EQ(SplitCharClass(0xD800), 0);    // surrogate: no character
  EXPECT_EQ(SplitCharClass(0x10FFFF), 0);
}

// Each code point beside the characters each alternative turns on: all of
// planes 0-2 and 14 (where the assigned characters are), every 61st above,
// through Llama 3's and GPT-2's patterns (the others share their classes).
TEST(RegexSplitTest, CodePointsInContext) {
  auto res = CompileAll();
  std::string text;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    if (cp >= 0x30000 && !(cp >= 0xE0000 && cp < 0xE1000) && cp % 61 != 0 && cp != 0x10FFFF) continue;
    std::string c;
    AppendUtf8(&c, cp);
    text += "a" + c + " " + c + "'" + c + "1" + c + c + "\n " + c + " \t" + c;
    if (text.size() > (1 << 16) || cp == 0x10FFFF) {
      for (size_t r : {size_t{0}, size_t{4}}) ExpectSame(*res[r], text, absl::StrCat("code points up to U+", absl::Hex(cp)));
      if (HasFailure()) return;
      text.clear();
    }
  }
}

TEST(RegexSplitTest, RandomStrings) {
  // The characters the patterns tell apart: letters (with long s and
  // contraction letters), digits of three kinds, marks, spaces of several
  // kinds (U+180E is none), newlines, apostrophes, punctuation, Han, emoji.
  const std::vector<std::string> alphabet = {
      "a", "s", "S", "t", "T", "r", "R", "e", "E", "v", "V", "m", "M", "l", "L", "d", "D", "k", "\xC5\xBF",
      "\xE2\x84\xAA", "\xC3\xA9", "1", "9", "\xC2\xBD", "\xE2\x85\xA7", "\xD9\xA3", "\xCC\x81", "\xE0\xA4\xBE", " ",
      "  ", "\t", "\xC2\xA0", "\xE3\x80\x80", "\xC2\x85", "\xE2\x80\xA8", "\xE1\xA0\x8E", "\n", "\r", "\r\n", "'",
      "'", "\xE2\x80\x99", ".", ",", "!", "-", "\"", "\xE4\xB8\xAD", "\xE6\x96\x87", "\xF0\x9F\x98\x80", "_", "$"};
  auto res = CompileAll();
  std::mt19937 rng(20261207);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 24);
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    for (const auto& re : res) ExpectSame(*re, s, absl::StrCat("random string ", i));
    if (HasFailure()) return;
  }
}

TEST(RegexSplitTest, TokenizerTestTexts) {
  auto res = CompileAll();
  const std::string dir = std::string(LLMTK_TESTDATA) + "/tok";
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".inp" && entry.path().filename() != "golden-docs.jsonl") continue;
    auto bytes = ReadFileToString(path);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    if (!IsValidUtf8(*bytes)) continue;  // the scanners, like PCRE2 here, take valid UTF-8 only
    ++files;
    for (const auto& re : res) {
      ExpectSame(*re, *bytes, path);
      const std::vector<std::string> pieces = absl::StrSplit(*bytes, "\n__ggml_vocab_test__\n");
      for (const std::string& piece : pieces) ExpectSame(*re, piece, path);
    }
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace llmtk
