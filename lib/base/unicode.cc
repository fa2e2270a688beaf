#include "lib/base/unicode.h"

#include <cstdlib>
#include <memory>

#include <utf8proc.h>

namespace llmtk {

int32_t DecodeUtf8(std::string_view s, size_t* pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = *pos, n = s.size();
  unsigned char c = p[i];
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  int len;
  char32_t cp;
  // Bounds of the second byte follow the Unicode "well-formed" table, which
  // is what makes the maximal-subpart rule agree with from_utf8_lossy.
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2; cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3; cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4; cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *pos = i + 1;
    return kInvalidUtf8;
  }
  size_t j = i + 1;
  for (int k = 1; k < len; ++k, ++j) {
    if (j >= n) { *pos = j; return kInvalidUtf8; }
    unsigned char b = p[j];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) {
      *pos = j;
      return kInvalidUtf8;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *pos = j;
  return static_cast<int32_t>(cp);
}

void AppendUtf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsValidUtf8(std::string_view s, size_t* error_offset) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII runs dominate real text; skip them 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= s.size()) break;
    size_t start = i;
    if (DecodeUtf8(s, &i) == kInvalidUtf8) {
      if (error_offset) *error_offset = start;
      return false;
    }
  }
  return true;
}

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    if (DecodeUtf8(s, &i) == kInvalidUtf8) {
      AppendUtf8(&out, kReplacementChar);
    } else {
      out.append(s.data() + start, i - start);
    }
  }
  return out;
}

absl::StatusOr<std::string> Normalize(std::string_view s, NormalForm form) {
  size_t bad;
  if (!IsValidUtf8(s, &bad)) {
    return absl::DataLossError(absl::StrCat("invalid UTF-8 at byte ", bad, ", cannot normalize"));
  }
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalForm::kNFC: options |= UTF8PROC_COMPOSE; break;
    case NormalForm::kNFD: options |= UTF8PROC_DECOMPOSE; break;
    case NormalForm::kNFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case NormalForm::kNFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  // Pure ASCII is invariant under every normal form.
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) { ascii = false; break; }
  }
  if (ascii) return std::string(s);
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    static_cast<utf8proc_ssize_t>(s.size()), &out,
                                    static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> holder(out, &std::free);
  if (n < 0) {
    return absl::DataLossError(absl::StrCat("cannot normalize text: ", utf8proc_errmsg(n)));
  }
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

int GeneralCategory(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool IsLetter(char32_t cp) {
  int c = GeneralCategory(cp);
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}
bool IsMark(char32_t cp) {
  int c = GeneralCategory(cp);
  return c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME;
}
bool IsNumber(char32_t cp) {
  int c = GeneralCategory(cp);
  return c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO;
}
bool IsPunctuation(char32_t cp) {
  int c = GeneralCategory(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}
bool IsSymbol(char32_t cp) {
  int c = GeneralCategory(cp);
  return c >= UTF8PROC_CATEGORY_SM && c <= UTF8PROC_CATEGORY_SO;
}

bool IsWhitespace(char32_t cp) {
  // The White_Space property list (PropList.txt); categories alone miss
  // the C0 controls \t..\r and U+0085.
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool IsNoSpaceScript(char32_t cp) {
  return (cp >= 0x0E00 && cp <= 0x0EFF) ||    // Thai, Lao
         (cp >= 0x0F00 && cp <= 0x0FFF) ||    // Tibetan
         (cp >= 0x1000 && cp <= 0x109F) ||    // Myanmar
         (cp >= 0x1780 && cp <= 0x17FF) ||    // Khmer
         (cp >= 0x19E0 && cp <= 0x19FF) ||    // Khmer symbols
         (cp >= 0x2E80 && cp <= 0x2FDF) ||    // CJK radicals, Kangxi
         (cp >= 0x3005 && cp <= 0x3007) ||    // 々〆〇
         (cp >= 0x3021 && cp <= 0x3029) ||    // Hangzhou numerals
         (cp >= 0x3031 && cp <= 0x3035) ||    // kana repeat marks
         (cp >= 0x3040 && cp <= 0x30FF) ||    // Hiragana, Katakana
         (cp >= 0x31F0 && cp <= 0x31FF) ||    // Katakana phonetic ext.
         (cp >= 0x3400 && cp <= 0x4DBF) ||    // CJK ext. A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||    // CJK unified
         (cp >= 0xA9E0 && cp <= 0xA9FF) ||    // Myanmar ext. B
         (cp >= 0xAA60 && cp <= 0xAA7F) ||    // Myanmar ext. A
         (cp >= 0xF900 && cp <= 0xFAFF) ||    // CJK compatibility
         (cp >= 0xFF66 && cp <= 0xFF9F) ||    // halfwidth Katakana
         (cp >= 0x1B000 && cp <= 0x1B16F) ||  // kana supplements
         (cp >= 0x20000 && cp <= 0x3134F);    // CJK ext. B..G
}

char32_t ToLower(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

std::string ToLower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    int32_t cp = DecodeUtf8(s, &i);
    if (cp == kInvalidUtf8) {
      out.append(s.data() + start, i - start);
    } else {
      AppendUtf8(&out, ToLower(static_cast<char32_t>(cp)));
    }
  }
  return out;
}

}  // namespace llmtk
