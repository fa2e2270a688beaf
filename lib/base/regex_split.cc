#include "lib/base/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <atomic>
#include <string>

namespace llmtk {
namespace {

constexpr uint8_t kL = 1, kN = 2, kS = 4, kNl = 8;
constexpr uint32_t kBlocks = 0x110000 >> 8;

// The three classes as PCRE2 compiles them for Regex (UTF + UCP, \s with
// the U+180E rewrite), anchored: one character is the whole subject.
struct ClassCodes {
  pcre2_code* letter = nullptr;
  pcre2_code* number = nullptr;
  pcre2_code* space = nullptr;
  bool ok() const { return letter && number && space; }
};

const ClassCodes& Codes() {
  static const ClassCodes codes = [] {
    auto compile = [](const std::string& p) {
      int err = 0;
      PCRE2_SIZE off = 0;
      return pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(), PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED,
                           &err, &off, nullptr);
    };
    ClassCodes c;
    c.letter = compile("\\p{L}");
    c.number = compile("\\p{N}");
    // \s as OnigurumaCompatible (base/regex.h) rewrites it: not U+180E.
    c.space = compile("(?:(?!\\x{180E})\\s)");
    return c;
  }();
  return codes;
}

std::atomic<const uint8_t*> g_blocks[kBlocks];

// Classes of the 256 code points of block `hi`, asked of PCRE2 once.
// Surrogates are no characters (PCRE2 refuses them): class 0.
const uint8_t* ComputeBlock(uint32_t hi) {
  const ClassCodes& codes = Codes();
  auto* cls = new uint8_t[256]();
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  for (uint32_t lo = 0; lo < 256; ++lo) {
    const uint32_t cp = hi << 8 | lo;
    unsigned char buf[4];
    size_t n;
    if (cp < 0x80) {
      buf[0] = static_cast<unsigned char>(cp);
      n = 1;
    } else if (cp < 0x800) {
      buf[0] = static_cast<unsigned char>(0xC0 | cp >> 6);
      buf[1] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
      n = 2;
    } else if (cp < 0x10000) {
      buf[0] = static_cast<unsigned char>(0xE0 | cp >> 12);
      buf[1] = static_cast<unsigned char>(0x80 | (cp >> 6 & 0x3F));
      buf[2] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
      n = 3;
    } else {
      buf[0] = static_cast<unsigned char>(0xF0 | cp >> 18);
      buf[1] = static_cast<unsigned char>(0x80 | (cp >> 12 & 0x3F));
      buf[2] = static_cast<unsigned char>(0x80 | (cp >> 6 & 0x3F));
      buf[3] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
      n = 4;
    }
    auto hit = [&](pcre2_code* code) { return pcre2_match(code, buf, n, 0, 0, md, nullptr) > 0; };
    uint8_t c = 0;
    if (hit(codes.letter)) c |= kL;
    if (hit(codes.number)) c |= kN;
    if (hit(codes.space)) c |= kS;
    if (cp == '\r' || cp == '\n') c |= kNl;
    cls[lo] = c;
  }
  pcre2_match_data_free(md);
  const uint8_t* expected = nullptr;
  if (!g_blocks[hi].compare_exchange_strong(expected, cls, std::memory_order_acq_rel, std::memory_order_acquire)) {
    delete[] cls;  // another thread filled it first: the same answers
    return expected;
  }
  return cls;
}

inline const uint8_t* Block(uint32_t hi) {
  const uint8_t* b = g_blocks[hi].load(std::memory_order_acquire);
  return b != nullptr ? b : ComputeBlock(hi);
}

// Walks valid UTF-8 by character class.
struct Scanner {
  const unsigned char* s;
  size_t n;
  const uint8_t* ascii;  // block 0

  // Class of the character at i; its byte length in *len.
  uint8_t At(size_t i, size_t* len) const {
    const unsigned c = s[i];
    if (c < 0x80) {
      *len = 1;
      return ascii[c];
    }
    uint32_t cp;
    size_t l;
    if (c < 0xE0) {
      l = 2;
      cp = c & 0x1F;
    } else if (c < 0xF0) {
      l = 3;
      cp = c & 0x0F;
    } else {
      l = 4;
      cp = c & 0x07;
    }
    if (i + l > n) {  // not valid UTF-8: never read past the text
      *len = n - i;
      return 0;
    }
    for (size_t k = 1; k < l; ++k) cp = cp << 6 | (s[i + k] & 0x3F);
    *len = l;
    if (cp >= 0x110000) return 0;
    return Block(cp >> 8)[cp & 0xFF];
  }
  uint8_t At(size_t i) const {
    size_t l;
    return At(i, &l);
  }
  // End of the run of characters from i whose class has a bit of `mask`.
  size_t Run(size_t i, uint8_t mask) const {
    while (i < n) {
      size_t l;
      if (!(At(i, &l) & mask)) break;
      i += l;
    }
    return i;
  }
  // End of the run of characters from i whose class has no bit of `mask`.
  size_t RunNot(size_t i, uint8_t mask) const {
    while (i < n) {
      size_t l;
      if (At(i, &l) & mask) break;
      i += l;
    }
    return i;
  }
  // 's 't 're 've 'm 'll 'd at i (s[i] == '\''): the match's byte length, or 0.
  size_t Contraction(size_t i, SplitPattern::Contractions mode) const {
    if (i + 1 >= n) return 0;
    auto fold = [&](unsigned char x) -> unsigned char {
      if (mode == SplitPattern::Contractions::kExact) return x;
      return x >= 'A' && x <= 'Z' ? static_cast<unsigned char>(x + 32) : x;
    };
    const unsigned char a = fold(s[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (mode == SplitPattern::Contractions::kCaseless && s[i + 1] == 0xC5 && i + 2 < n && s[i + 2] == 0xBF) {
      return 3;  // U+017F LATIN SMALL LETTER LONG S folds to s
    }
    if (i + 2 >= n) return 0;
    const unsigned char b = fold(s[i + 2]);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
  }
  // The whitespace alternatives at i (a \s character): with `newlines`,
  // \s*[\r\n]+ (up to the run's last \r or \n), then \s+(?!\S) (the run,
  // less its last character unless the text ends there), then \s+ if
  // `single` (else a lone space before a non-space is no match: returns i).
  size_t Whitespace(size_t i, bool newlines, bool single) const {
    size_t e = i, last = i, nl_end = 0;
    while (e < n) {
      size_t l;
      const uint8_t c = At(e, &l);
      if (!(c & kS)) break;
      if (c & kNl) nl_end = e + l;
      last = e;
      e += l;
    }
    if (newlines && nl_end != 0) return nl_end;
    if (e == n) return e;
    if (last > i) return last;
    return single ? e : i;
  }
};

// One match of Llama 3's pattern at i (every character starts one).
size_t MatchLlama3(const SplitPattern& p, const Scanner& sc, size_t i) {
  size_t len;
  const uint8_t c = sc.At(i, &len);
  const unsigned char b = sc.s[i];
  if (b == '\'') {
    if (size_t k = sc.Contraction(i, p.contractions)) return i + k;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c & kL) return sc.Run(i + len, kL);
  if (!(c & (kL | kN | kNl)) && i + len < sc.n) {
    size_t l2;
    if (sc.At(i + len, &l2) & kL) return sc.Run(i + len + l2, kL);
  }
  // \p{N}{1,max}
  if (c & kN) {
    size_t e = i + len;
    for (int k = 1; k < p.max_digits && e < sc.n; ++k) {
      size_t l;
      if (!(sc.At(e, &l) & kN)) break;
      e += l;
    }
    return e;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t start = i;
  if (b == ' ' && i + 1 < sc.n && !(sc.At(i + 1) & (kS | kL | kN))) start = i + 1;
  if (start != i || !(c & kS)) {
    size_t e = sc.RunNot(start, kS | kL | kN);
    while (e < sc.n && (sc.s[e] == '\r' || sc.s[e] == '\n')) ++e;
    return e;
  }
  return sc.Whitespace(i, /*newlines=*/true, /*single=*/true);
}

// One match of GPT-2's pattern at i, or i when none starts there.
size_t MatchGpt2(const SplitPattern& p, const Scanner& sc, size_t i) {
  size_t len;
  uint8_t c = sc.At(i, &len);
  const unsigned char b = sc.s[i];
  if (b == '\'') {
    if (size_t k = sc.Contraction(i, p.contractions)) return i + k;
  }
  size_t start = i;
  if (b == ' ' && i + 1 < sc.n) {
    // " ?" before a letter, digit or other character: the class that follows.
    size_t l2;
    const uint8_t next = sc.At(i + 1, &l2);
    if (!(next & kS)) {
      start = i + 1;
      c = next;
      len = l2;
    }
  }
  if (c & kL) return sc.Run(start + len, kL);
  if (c & kN) return sc.Run(start + len, kN);
  if (!(c & kS)) return sc.RunNot(start + len, kS | kL | kN);
  return sc.Whitespace(i, /*newlines=*/false, p.final_whitespace);
}

}  // namespace

SplitPattern DetectSplitPattern(std::string_view pattern) {
  using C = SplitPattern::Contractions;
  SplitPattern none;
  if (!Codes().ok()) return none;
  struct Known {
    std::string_view contractions;
    C mode;
  };
  static constexpr Known kLlamaContractions[] = {
      {"(?i:'s|'t|'re|'ve|'m|'ll|'d)", C::kCaseless},
      {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])", C::kAsciiCase},
  };
  for (const Known& k : kLlamaContractions) {
    for (int digits : {1, 3}) {
      std::string s(k.contractions);
      s += "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}";
      if (digits > 1) s += "{1," + std::to_string(digits) + "}";
      s += "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
      if (pattern == s) return SplitPattern{SplitPattern::Family::kLlama3, k.mode, static_cast<uint8_t>(digits), true};
    }
  }
  constexpr std::string_view kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
  if (pattern == kGpt2) return SplitPattern{SplitPattern::Family::kGpt2, C::kExact, 0, false};
  if (pattern.size() == kGpt2.size() + 4 && pattern.substr(0, kGpt2.size()) == kGpt2 &&
      pattern.substr(kGpt2.size()) == "|\\s+") {
    return SplitPattern{SplitPattern::Family::kGpt2, C::kExact, 0, true};
  }
  return none;
}

void SplitPatternFindAll(const SplitPattern& p, std::string_view text, std::vector<std::pair<size_t, size_t>>* out) {
  const Scanner sc{reinterpret_cast<const unsigned char*>(text.data()), text.size(), Block(0)};
  size_t i = 0;
  while (i < sc.n) {
    const size_t e = p.family == SplitPattern::Family::kLlama3 ? MatchLlama3(p, sc, i) : MatchGpt2(p, sc, i);
    if (e > i) {
      out->emplace_back(i, e);
      i = e;
    } else {
      size_t l;
      sc.At(i, &l);
      i += l;
    }
  }
}

uint8_t SplitCharClass(char32_t cp) {
  if (cp >= 0x110000) return 0;
  return Block(cp >> 8)[cp & 0xFF];
}

}  // namespace llmtk
