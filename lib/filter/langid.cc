#include "lib/filter/langid.h"

#include <cld2/public/compact_lang_det.h>

#include <climits>

#include "lib/filter/text.h"

namespace llmtk {

std::vector<LanguageGuess> DetectLanguages(std::string_view text, bool* reliable) {
  CLD2::Language langs[3];
  int percents[3];
  int text_bytes = 0;
  bool is_reliable = false;
  const int len = static_cast<int>(std::min<size_t>(text.size(), INT_MAX));
  const CLD2::Language top =
      CLD2::DetectLanguageSummary(text.data(), len, /*is_plain_text=*/true, langs, percents, &text_bytes, &is_reliable);
  std::vector<LanguageGuess> out;
  for (int i = 0; i < 3; ++i)
    if (percents[i] > 0) out.push_back({CLD2::LanguageCode(langs[i]), percents[i]});
  if (out.empty()) out.push_back({CLD2::LanguageCode(top), 0});
  if (reliable) *reliable = is_reliable;
  return out;
}

void TagLanguage(std::string_view text, Attributes* out) {
  const uint64_t end = CodePoints(text);
  for (const LanguageGuess& g : DetectLanguages(text)) out->Add(kCld2Tagger, g.code, 0, end, g.percent / 100.0);
}

}  // namespace llmtk
