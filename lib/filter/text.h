// filter/text: the text primitives the quality taggers are defined by, with
// Python's meaning, since the reference taggers (dolma, datatrove) are Python:
// str.split() on Python's whitespace set, len() in code points, str.lower()
// (full mapping), str.strip(), and round(x, 5).
//
// Thread-safety: every function is thread-safe.
#ifndef LLMTK_LIB_FILTER_TEXT_H_
#define LLMTK_LIB_FILTER_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/unicode.h"

namespace llmtk {

// Python's str.isspace() on an ASCII byte (IsPythonSpace in base/unicode.h
// for any code point).
inline bool IsPythonSpaceAscii(unsigned char c) { return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20); }

// Python's str.isalpha() for one code point: general category L*.
bool IsPythonAlpha(char32_t cp);


// One word of str.split(): its bytes and its length in code points.
struct Word {
  std::string_view text;
  uint32_t chars = 0;
};

// Python's s.split() with no argument: runs of Python whitespace separate
// words; no empty words.
void SplitWords(std::string_view s, std::vector<Word>* out);

// Words and lines hashed with XXH3 rather than the standard library's byte
// hash (which Debian's Abseil falls back to); transparent, so a set of
// std::string is searched with string_views. What the taggers count never
// depends on the hash.
struct WordHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const;
};

// Python's s.split("\n"): always at least one (possibly empty) piece.
void SplitLines(std::string_view s, std::vector<std::string_view>* out);

// Python's s.strip(): Python whitespace off both ends.
std::string_view StripPython(std::string_view s);

// Python's s.lower(): the full lowercase mapping (U+0130 becomes "i" U+0307),
// Final_Sigma context for U+03A3 included.
std::string LowerPython(std::string_view s);
// The same into *out (cleared first), reusing its storage.
void LowerPython(std::string_view s, std::string* out);

// Python's round(x, 5): the double nearest to the exact binary value of x
// rounded to 5 decimals, exact ties to even (correct rounding, as CPython's
// dtoa-based float.__round__).
double PythonRound5(double x);
// The printf/strtod definition PythonRound5 is checked against (test).
double PythonRound5Reference(double x);

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_TEXT_H_
