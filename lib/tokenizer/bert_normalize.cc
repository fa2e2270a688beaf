#include "lib/tokenizer/bert_normalize.h"

#include <utf8proc.h>

#include <algorithm>

#include "lib/base/unicode.h"

namespace llmtk {
namespace {

struct CodePointRange {
  char32_t first, last;
};

#include "lib/tokenizer/hf_char_classes.inc"

template <size_t N>
bool InRanges(const CodePointRange (&table)[N], char32_t cp) {
  auto it = std::upper_bound(std::begin(table), std::end(table), cp,
                             [](char32_t c, const CodePointRange& r) { return c < r.first; });
  return it != std::begin(table) && cp <= std::prev(it)->last;
}

template <typename Keep>
std::string Filter(std::string_view s, Keep keep) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t b = i;
    int32_t cp = DecodeUtf8(s, &i);
    if (cp < 0 || keep(static_cast<char32_t>(cp))) out.append(s.data() + b, i - b);
  }
  return out;
}

}  // namespace

bool IsHfWhitespace(char32_t cp) { return IsWhitespace(cp); }

bool IsBertRemoved(char32_t cp) { return InRanges(kHfRemovedByCleanText, cp); }

bool IsHfPunctuation(char32_t cp) {
  if (cp < 0x80) return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
                        (cp >= 0x7B && cp <= 0x7E);
  return InRanges(kHfPunctuation, cp);
}

bool IsHfNonSpacingMark(char32_t cp) { return InRanges(kHfNonSpacingMark, cp); }
bool IsHfCombiningMark(char32_t cp) { return InRanges(kHfCombiningMark, cp); }

bool IsRustWordChar(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == '_';
  const int c = GeneralCategory(cp);
  if ((c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ND) || c == UTF8PROC_CATEGORY_NL ||
      c == UTF8PROC_CATEGORY_PC || cp == 0x200C || cp == 0x200D)
    return true;
  // Other_Alphabetic symbols (PropList.txt): circled and squared Latin letters.
  return (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169) ||
         (cp >= 0x1F170 && cp <= 0x1F189);
}

bool IsBertChineseChar(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::string HfLowercase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t b = i;
    int32_t cp = DecodeUtf8(s, &i);
    if (cp < 0) {
      out.append(s.data() + b, i - b);
    } else if (cp == 0x130) {
      // SpecialCasing.txt's one unconditional lowercase mapping to two characters.
      out += "i\xCC\x87";
    } else {
      AppendUtf8(&out, ToLower(static_cast<char32_t>(cp)));
    }
  }
  return out;
}

std::string DropCombiningMarks(std::string_view s) {
  return Filter(s, [](char32_t cp) { return !IsHfCombiningMark(cp); });
}

absl::Status BertNormalize(std::string_view in, const BertNormalizerOptions& o, std::string* out) {
  // What each ASCII character becomes, or -1: dropped by clean_text (those
  // stay in the runs the reference takes, as removing one joins its neighbours).
  int16_t ascii[128];
  for (int c = 0; c < 128; ++c) {
    const char32_t cp = static_cast<char32_t>(c);
    if (o.clean_text && IsBertRemoved(cp)) {
      ascii[c] = -1;
    } else if (o.clean_text && IsHfWhitespace(cp)) {
      ascii[c] = ' ';
    } else {
      ascii[c] = static_cast<int16_t>(o.lowercase ? ToLower(cp) : cp);
    }
  }
  auto settled = [&](char ch) {
    const unsigned char c = static_cast<unsigned char>(ch);
    return c < 0x80 && ascii[c] >= 0;
  };
  out->clear();
  out->reserve(in.size() + 8);
  thread_local std::string run;
  size_t i = 0;
  while (i < in.size()) {
    if (settled(in[i])) {
      out->push_back(static_cast<char>(ascii[static_cast<unsigned char>(in[i])]));
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < in.size() && !settled(in[j])) ++j;
    RETURN_IF_ERROR(BertNormalizeReference(in.substr(i, j - i), o, &run));
    out->append(run);
    i = j;
  }
  return absl::OkStatus();
}

absl::Status BertNormalizeReference(std::string_view in, const BertNormalizerOptions& o, std::string* out) {
  std::string cur;
  cur.reserve(in.size() + 8);
  size_t i = 0;
  while (i < in.size()) {
    size_t b = i;
    int32_t cp = DecodeUtf8(in, &i);
    if (cp < 0) return absl::DataLossError("BertNormalizer: invalid UTF-8");
    char32_t c = static_cast<char32_t>(cp);
    if (o.clean_text) {
      if (IsBertRemoved(c)) continue;
      if (IsHfWhitespace(c)) {
        cur.push_back(' ');
        continue;
      }
    }
    if (o.handle_chinese_chars && IsBertChineseChar(c)) {
      cur.push_back(' ');
      cur.append(in.data() + b, i - b);
      cur.push_back(' ');
      continue;
    }
    cur.append(in.data() + b, i - b);
  }
  if (o.strip_accents) {
    ASSIGN_OR_RETURN(cur, Normalize(cur, NormalForm::kNFD));
    cur = Filter(cur, [](char32_t cp) { return !IsHfNonSpacingMark(cp); });
  }
  if (o.lowercase) cur = HfLowercase(cur);
  *out = std::move(cur);
  return absl::OkStatus();
}

std::string LlamaWpmPreprocess(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    int32_t cp0 = DecodeUtf8(s, &i);
    if (cp0 < 0) continue;
    char32_t cp = static_cast<char32_t>(cp0);
    if (cp >= 0xC0) {
      utf8proc_int32_t d[8];
      int last = 0;
      utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), d, 8, UTF8PROC_DECOMPOSE, &last);
      if (n > 0) cp = static_cast<char32_t>(d[0]);
    }
    if (IsWhitespace(cp)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    const int c = GeneralCategory(cp);
    if (cp == 0 || cp == 0xFFFD || (c >= UTF8PROC_CATEGORY_CC && c <= UTF8PROC_CATEGORY_CO))
      continue;
    const bool alone = IsPunctuation(cp) || (cp < 0x7F && IsSymbol(cp)) || IsBertChineseChar(cp);
    if (alone && !out.empty() && out.back() != ' ') out.push_back(' ');
    AppendUtf8(&out, ToLower(cp));
    if (alone) out.push_back(' ');
  }
  return out;
}

}  // namespace llmtk
