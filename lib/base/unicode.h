// base/unicode: UTF-8 decoding and validation, character classes, normalization.
//
// Character data (general categories, NFC/NFKC, case mapping) comes from
// utf8proc, a maintained library, not from hand-made tables.
//
// Thread-safety: stateless; safe from any thread.
#ifndef LLMTK_LIB_BASE_UNICODE_H_
#define LLMTK_LIB_BASE_UNICODE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace llmtk {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr int32_t kInvalidUtf8 = -1;

// Decodes the code point starting at s[*pos] and advances *pos past it.
// An invalid or truncated sequence returns kInvalidUtf8 and advances *pos by
// the length of its maximal invalid subpart (at least 1), as WHATWG/Rust's
// from_utf8_lossy do, so replacing each with U+FFFD matches them.
int32_t DecodeUtf8(std::string_view s, size_t* pos);

// Appends the UTF-8 encoding of `cp` (which must be a valid scalar value).
void AppendUtf8(std::string* out, char32_t cp);

// True if `s` is valid UTF-8; otherwise sets *error_offset (if given) to the
// byte offset of the first invalid sequence.
bool IsValidUtf8(std::string_view s, size_t* error_offset = nullptr);

// `s` with every maximal invalid subpart replaced by U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view s);

enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };

// Normalizes valid UTF-8 text; invalid UTF-8 is a DataLoss error.
absl::StatusOr<std::string> Normalize(std::string_view s, NormalForm form);

// Unicode general category, as utf8proc's UTF8PROC_CATEGORY_* values
// (Lu=1, Ll=2, Lt=3, Lm=4, Lo=5, Mn=6, Mc=7, Me=8, Nd=9, Nl=10, No=11,
// Pc..Po=12..18, Sm..So=19..22, Zs=23, Zl=24, Zp=25, Cc..Co=26..29, Cn=0).
int GeneralCategory(char32_t cp);
bool IsLetter(char32_t cp);       // \p{L}
bool IsNumber(char32_t cp);       // \p{N}
bool IsPunctuation(char32_t cp);  // \p{P}
bool IsSymbol(char32_t cp);       // \p{S}
bool IsMark(char32_t cp);         // \p{M}
// Unicode White_Space property (what regex \s matches with UCP).
bool IsWhitespace(char32_t cp);
// Python's str.isspace (and so `\s` in Python's re on str): White_Space
// plus the separators U+001C..U+001F. lm-evaluation-harness strips and
// splits with it.
inline bool IsPythonSpace(char32_t cp) { return IsWhitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

// Code points in UTF-8 text, as Python's len() counts the decoded string:
// every byte that is not a continuation byte starts one (so a stray
// continuation byte counts for nothing).
inline size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
// Scripts written without spaces between words: Han, Hiragana, Katakana,
// Thai, Lao, Khmer, Myanmar, Tibetan (and their extensions). Hangul is not:
// Korean separates words by spaces.
bool IsNoSpaceScript(char32_t cp);

char32_t ToLower(char32_t cp);
// Lowercases every code point (simple mapping); invalid bytes are kept.
std::string ToLower(std::string_view s);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_UNICODE_H_
