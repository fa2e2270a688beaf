#include "lib/base/unicode.h"

#include "gtest/gtest.h"

namespace llmtk {
namespace {

TEST(Unicode, DecodeValid) {
  std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x99\x82";  // a é 中 🙂
  size_t i = 0;
  EXPECT_EQ(DecodeUtf8(s, &i), 'a');
  EXPECT_EQ(DecodeUtf8(s, &i), 0xE9);
  EXPECT_EQ(DecodeUtf8(s, &i), 0x4E2D);
  EXPECT_EQ(DecodeUtf8(s, &i), 0x1F642);
  EXPECT_EQ(i, s.size());
}

TEST(Unicode, MaximalSubpartReplacement) {
  // The W3C/Unicode test cases that from_utf8_lossy follows.
  EXPECT_EQ(ReplaceInvalidUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ReplaceInvalidUtf8("\xE4\xB8"), "\xEF\xBF\xBD");  // truncated: one U+FFFD
  EXPECT_EQ(ReplaceInvalidUtf8("\xE4\xB8x"), "\xEF\xBF\xBDx");
  EXPECT_EQ(ReplaceInvalidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(ReplaceInvalidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(ReplaceInvalidUtf8("\xF4\x90\x80\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // above U+10FFFF
  EXPECT_EQ(ReplaceInvalidUtf8("\xF0\x9F\x99"), "\xEF\xBF\xBD");
}

TEST(Unicode, Validate) {
  size_t off = 99;
  EXPECT_TRUE(IsValidUtf8("plain ascii text that is longer than eight bytes", &off));
  EXPECT_EQ(off, 99u);
  EXPECT_FALSE(IsValidUtf8("0123456789\xC3(", &off));
  EXPECT_EQ(off, 10u);
}

TEST(Unicode, AppendUtf8RoundTrip) {
  for (char32_t cp : {0x41u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    AppendUtf8(&s, cp);
    size_t i = 0;
    EXPECT_EQ(DecodeUtf8(s, &i), static_cast<int32_t>(cp));
    EXPECT_EQ(i, s.size());
  }
}

TEST(Unicode, Normalize) {
  EXPECT_EQ(Normalize("e\xCC\x81", NormalForm::kNFC).value(), "\xC3\xA9");
  EXPECT_EQ(Normalize("\xC3\xA9", NormalForm::kNFD).value(), "e\xCC\x81");
  EXPECT_EQ(Normalize("\xEF\xBC\xA1\xE2\x91\xA0", NormalForm::kNFKC).value(), "A1");  // Ａ①
  EXPECT_EQ(Normalize("\xEF\xAC\x81", NormalForm::kNFC).value(), "\xEF\xAC\x81");     // ﬁ kept by NFC
  EXPECT_EQ(Normalize("\xEF\xAC\x81", NormalForm::kNFKC).value(), "fi");
  EXPECT_EQ(Normalize("ab\xFF", NormalForm::kNFC).status(),
            absl::DataLossError("invalid UTF-8 at byte 2, cannot normalize"));
}

TEST(Unicode, Categories) {
  EXPECT_TRUE(IsLetter(U'a'));
  EXPECT_TRUE(IsLetter(U'中'));
  EXPECT_FALSE(IsLetter(U'1'));
  EXPECT_TRUE(IsNumber(U'٣'));  // Arabic-indic digit
  EXPECT_TRUE(IsNumber(U'Ⅻ'));  // Nl
  EXPECT_TRUE(IsPunctuation(U'，'));
  EXPECT_TRUE(IsSymbol(U'€'));
  EXPECT_TRUE(IsMark(0x0301));
  EXPECT_TRUE(IsWhitespace(U'\t'));
  EXPECT_TRUE(IsWhitespace(0x3000));
  EXPECT_TRUE(IsWhitespace(0x85));
  EXPECT_FALSE(IsWhitespace(0x200B));  // zero-width space is not White_Space
  EXPECT_EQ(GeneralCategory(U'A'), 1);
}

TEST(Unicode, NoSpaceScripts) {
  EXPECT_TRUE(IsNoSpaceScript(U'中'));
  EXPECT_TRUE(IsNoSpaceScript(U'の'));
  EXPECT_TRUE(IsNoSpaceScript(U'カ'));
  EXPECT_TRUE(IsNoSpaceScript(0x0E01));  // Thai ko kai
  EXPECT_TRUE(IsNoSpaceScript(0x20000));
  EXPECT_FALSE(IsNoSpaceScript(U'한'));
  EXPECT_FALSE(IsNoSpaceScript(U'a'));
  EXPECT_FALSE(IsNoSpaceScript(U'，'));
}

TEST(Unicode, Lowercase) {
  EXPECT_EQ(ToLower("HeLLo ÀÉ ΣΑΣ \xFF"), "hello àé σασ \xFF");
}

}  // namespace
}  // namespace llmtk
