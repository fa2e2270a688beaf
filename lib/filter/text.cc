#include "lib/filter/text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <xxhash.h>

#include "lib/base/unicode.h"

namespace llmtk {

size_t WordHash::operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }

bool IsPythonAlpha(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return IsLetter(cp);
}

namespace {
// Decodes one code point at *pos; an invalid byte is one code point of its own
// (U+FFFD), as the reader only hands valid UTF-8 here anyway.
inline char32_t Next(std::string_view s, size_t* pos) {
  const unsigned char c = static_cast<unsigned char>(s[*pos]);
  if (c < 0x80) {
    ++*pos;
    return c;
  }
  const int32_t cp = DecodeUtf8(s, pos);
  return cp < 0 ? 0xFFFD : static_cast<char32_t>(cp);
}
}  // namespace

void SplitWords(std::string_view s, std::vector<Word>* out) {
  out->clear();
  size_t pos = 0, start = 0;
  uint32_t chars = 0;
  bool in_word = false;
  while (pos < s.size()) {
    const size_t at = pos;
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    bool space;
    if (c < 0x80) {
      ++pos;
      space = IsPythonSpaceAscii(c);
    } else {
      space = IsPythonSpace(Next(s, &pos));
    }
    if (space) {
      if (in_word) out->push_back({s.substr(start, at - start), chars});
      in_word = false;
    } else {
      if (!in_word) {
        in_word = true;
        start = at;
        chars = 0;
      }
      ++chars;
    }
  }
  if (in_word) out->push_back({s.substr(start), chars});
}

void SplitLines(std::string_view s, std::vector<std::string_view>* out) {
  out->clear();
  size_t start = 0;
  while (true) {
    const size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) break;
    out->push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  out->push_back(s.substr(start));
}

std::string_view StripPython(std::string_view s) {
  // ASCII ends (the common case) need no decoding.
  while (!s.empty() && static_cast<unsigned char>(s.front()) < 0x80 && IsPythonSpaceAscii(s.front())) s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) < 0x80 && IsPythonSpaceAscii(s.back())) s.remove_suffix(1);
  if (s.empty() || (static_cast<unsigned char>(s.front()) < 0x80 && static_cast<unsigned char>(s.back()) < 0x80))
    return s;
  size_t pos = 0, begin = s.size();
  while (pos < s.size()) {
    const size_t at = pos;
    if (!IsPythonSpace(Next(s, &pos))) {
      begin = at;
      break;
    }
  }
  if (begin == s.size()) return s.substr(s.size());
  size_t end = begin;
  pos = begin;
  while (pos < s.size()) {
    if (!IsPythonSpace(Next(s, &pos))) end = pos;
  }
  return s.substr(begin, end - begin);
}

namespace {
// Cased and Case_Ignorable, close enough for the Final_Sigma context: letters
// with case, and marks/format characters/modifier letters/apostrophes.
bool IsCased(char32_t cp) {
  const int c = GeneralCategory(cp);
  return c == 1 || c == 2 || c == 3;
}
bool IsCaseIgnorable(char32_t cp) {
  const int c = GeneralCategory(cp);
  return c == 6 || c == 8 || c == 4 || c == 28 /* Cf */ || c == 21 /* Sk */ || cp == '\'' || cp == 0x2019 ||
         cp == '.' || cp == ':' || cp == 0xB7;
}
}  // namespace

std::string LowerPython(std::string_view s) {
  std::string out;
  LowerPython(s, &out);
  return out;
}

void LowerPython(std::string_view s, std::string* out_ptr) {
  std::string& out = *out_ptr;
  out.clear();
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c));
      ++pos;
      continue;
    }
    const size_t at = pos;
    const char32_t cp = Next(s, &pos);
    if (cp == 0x130) {
      out += "i\xCC\x87";
    } else if (cp == 0x3A3) {
      // Final_Sigma: preceded by a cased letter (skipping case-ignorables)
      // and not followed by one.
      bool before = false, after = false;
      {
        size_t p = at;
        while (p > 0) {
          size_t q = p - 1;
          while (q > 0 && (static_cast<unsigned char>(s[q]) & 0xC0) == 0x80) --q;
          size_t r = q;
          const char32_t b = Next(s, &r);
          p = q;
          if (IsCaseIgnorable(b)) continue;
          before = IsCased(b);
          break;
        }
      }
      if (before) {
        size_t p = pos;
        while (p < s.size()) {
          const char32_t a = Next(s, &p);
          if (IsCaseIgnorable(a)) continue;
          after = IsCased(a);
          break;
        }
      }
      AppendUtf8(&out, before && !after ? 0x3C2 : 0x3C3);
    } else {
      AppendUtf8(&out, ToLower(cp));
    }
  }
}

double PythonRound5Reference(double x) {
  if (!std::isfinite(x)) return x;
  // Integers (counts) and values already with 5 decimals or fewer need no
  // rounding; the general path prints the exact value rounded to 5 decimals
  // (glibc rounds the exact binary value, ties to even) and reads it back.
  if (x == std::floor(x) && std::fabs(x) < 9007199254740992.0) return x;
  char buf[400];
  std::snprintf(buf, sizeof(buf), "%.5f", x);
  return std::strtod(buf, nullptr);
}

double PythonRound5(double x) {
  // y = x * 1e5 is off the exact product by at most half an ulp (< 1.2e-7
  // below 1e9). Unless y lies that close to a rounding boundary (a .5), its
  // nearest integer k is the exact product's, and k / 1e5 (both exact, one
  // correctly rounded division) is the double nearest to the decimal k·10⁻⁵:
  // what strtod makes of the printed value. Near a boundary, and for huge or
  // non-finite values, the reference decides.
  const double y = x * 1e5;
  if (!(std::fabs(y) < 1e9)) return PythonRound5Reference(x);
  const double k = std::nearbyint(y);
  if (std::fabs(std::fabs(y - k) - 0.5) < 1e-6) return PythonRound5Reference(x);
  if (k == 0) return std::signbit(x) ? -0.0 : 0.0;
  return k / 1e5;
}

}  // namespace llmtk
