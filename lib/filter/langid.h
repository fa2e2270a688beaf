// filter/langid: language identification with CLD2 (Debian libcld2, tables
// built in), as attributes: per language CLD2 reports for the text (up to
// three), "cld2__cld2__<code>" with the share of the text's bytes in that
// language (CLD2's percent / 100), code as CLD2::LanguageCode gives it ("en",
// "zh", "zh-Hant", "un" for unknown).
//
// Thread-safety: CLD2 detection is thread-safe; Tag may be called from any
// number of threads.
#ifndef LLMTK_LIB_FILTER_LANGID_H_
#define LLMTK_LIB_FILTER_LANGID_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/filter/attributes.h"

namespace llmtk {

inline constexpr std::string_view kCld2Tagger = "cld2";

struct LanguageGuess {
  std::string code;  // CLD2::LanguageCode of the language
  int percent = 0;   // of the text's bytes
};

// CLD2's DetectLanguageSummary on plain text: the top languages (up to 3,
// those with a percent above 0; at least one, "un" when nothing is known)
// and whether CLD2 calls the result reliable.
std::vector<LanguageGuess> DetectLanguages(std::string_view text, bool* reliable = nullptr);

void TagLanguage(std::string_view text, Attributes* out);

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_LANGID_H_
