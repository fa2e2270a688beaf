#include "lib/filter/rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/io.h"
#include "lib/base/unicode.h"

namespace llmtk {

namespace {

// Gopher (Rae et al. 2021, appendix A), the thresholds datatrove's
// GopherQualityFilter and GopherRepetitionFilter use; dolma's tagger gives the
// median word length where the paper bounds the mean (3..10).
constexpr std::string_view kGopherRules = R"(
{"name": "gopher_word_count", "attribute": "gopher_v1__word_count", "min": 50, "max": 100000, "unless_script": "cjk"}
{"name": "gopher_word_length", "attribute": "gopher_v1__median_word_length", "min": 3, "max": 10, "unless_script": "cjk"}
{"name": "gopher_symbol_ratio", "attribute": "gopher_v1__symbol_to_word_ratio", "max": 0.1, "unless_script": "cjk"}
{"name": "gopher_bullet_lines", "attribute": "gopher_v1__fraction_of_lines_starting_with_bullet_point", "max": 0.9}
{"name": "gopher_ellipsis_lines", "attribute": "gopher_v1__fraction_of_lines_ending_with_ellipsis", "max": 0.3}
{"name": "gopher_alpha_words", "attribute": "gopher_v1__fraction_of_words_with_alpha_character", "min": 0.8, "unless_script": "cjk"}
{"name": "gopher_stop_words", "attribute": "gopher_v1__required_word_count", "min": 2, "unless_script": "cjk"}
{"name": "gopher_dup_lines", "attribute": "gopher_v1__fraction_of_duplicate_lines", "max": 0.3}
{"name": "gopher_dup_line_chars", "attribute": "gopher_v1__fraction_of_characters_in_duplicate_lines", "max": 0.2, "unless_script": "cjk"}
{"name": "gopher_top_2gram", "attribute": "gopher_v1__fraction_of_characters_in_most_common_2grams", "max": 0.2, "unless_script": "cjk"}
{"name": "gopher_top_3gram", "attribute": "gopher_v1__fraction_of_characters_in_most_common_3grams", "max": 0.18, "unless_script": "cjk"}
{"name": "gopher_top_4gram", "attribute": "gopher_v1__fraction_of_characters_in_most_common_4grams", "max": 0.16, "unless_script": "cjk"}
{"name": "gopher_dup_5grams", "attribute": "gopher_v1__fraction_of_characters_in_duplicate_5grams", "max": 0.15, "unless_script": "cjk"}
{"name": "gopher_dup_6grams", "attribute": "gopher_v1__fraction_of_characters_in_duplicate_6grams", "max": 0.14, "unless_script": "cjk"}
{"name": "gopher_dup_7grams", "attribute": "gopher_v1__fraction_of_characters_in_duplicate_7grams", "max": 0.13, "unless_script": "cjk"}
{"name": "gopher_dup_8grams", "attribute": "gopher_v1__fraction_of_characters_in_duplicate_8grams", "max": 0.12, "unless_script": "cjk"}
{"name": "gopher_dup_9grams", "attribute": "gopher_v1__fraction_of_characters_in_duplicate_9grams", "max": 0.11, "unless_script": "cjk"}
{"name": "gopher_dup_10grams", "attribute": "gopher_v1__fraction_of_characters_in_duplicate_10grams", "max": 0.10, "unless_script": "cjk"}
)";

// C4's document-level rules (Raffel et al. 2020): bad words, "lorem ipsum",
// curly braces. (C4's line-level rules remove lines, not documents; their
// spans are in the tags.)
constexpr std::string_view kC4Rules = R"(
{"name": "c4_bad_words", "attribute": "c4_v1__has_naughty_word", "max": 0}
{"name": "c4_lorem_ipsum", "attribute": "c4_v1__has_lorem_ipsum", "max": 0}
{"name": "c4_curly_brace", "attribute": "c4_v1__has_curly_brace", "max": 0}
)";

// FineWeb (datatrove FineWebQualityFilter defaults): drop when
// line_punct_ratio <= 0.12, short_line_ratio >= 0.67, char_dup_ratio >= 0.01.
// The first two count ASCII end punctuation and 30-character lines, which
// mean nothing for Chinese and Japanese lines, hence unless_script.
constexpr std::string_view kFineWebRules = R"(
{"name": "fineweb_line_punct_ratio", "attribute": "fineweb_v1__line_punct_ratio", "above": 0.12, "unless_script": "cjk"}
{"name": "fineweb_short_line_ratio", "attribute": "fineweb_v1__short_line_ratio", "below": 0.67, "unless_script": "cjk"}
{"name": "fineweb_char_dup_ratio", "attribute": "fineweb_v1__char_dup_ratio", "below": 0.01}
)";

constexpr std::string_view kTaggers[] = {"gopher_v1", "c4_v1", "fineweb_v1", "cld2", "fasttext"};

bool LooksLikeYamlRules(std::string_view path, std::string_view text) {
  if (path.ends_with(".yaml") || path.ends_with(".yml")) return true;
  if (path.ends_with(".json") || path.ends_with(".jsonl")) return false;
  // By content: JSON Lines rule files start (after blank and '#' lines) with '{'.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') return line[first] != '{';
    pos = eol + 1;
  }
  return false;
}

}  // namespace

std::string TaggerOfAttribute(std::string_view attribute) {
  for (std::string_view t : kTaggers) {
    if (attribute.size() > t.size() + 2 && attribute.substr(0, t.size()) == t &&
        attribute.substr(t.size(), 2) == "__")
      return std::string(t);
  }
  return "";
}


absl::StatusOr<RuleSet> LoadRules(std::string_view spec) {
  auto preset = [](std::string_view s) -> std::string_view {
    if (s == "gopher") return kGopherRules;
    if (s == "c4") return kC4Rules;
    if (s == "fineweb") return kFineWebRules;
    return {};
  };
  std::vector<std::string_view> names;
  for (absl::string_view n : absl::StrSplit(ToAbsl(spec), ',')) names.push_back(ToStd(n));
  bool all_presets = true;
  for (std::string_view n : names) all_presets &= !preset(n).empty();
  if (all_presets) {
    RuleSet set;
    for (std::string_view n : names) {
      ASSIGN_OR_RETURN(RuleSet one, ParseRules(preset(n), absl::StrCat("<preset ", ToAbsl(n), ">")));
      for (Rule& r : one.rules) set.rules.push_back(std::move(r));
      set.needs_language |= one.needs_language;
      for (std::string& t : one.taggers)
        if (std::find(set.taggers.begin(), set.taggers.end(), t) == set.taggers.end()) set.taggers.push_back(t);
    }
    return set;
  }
  auto text = ReadFileToString(spec);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status()))
      return absl::InvalidArgumentError(absl::StrCat("--rules '", ToAbsl(spec), "' is neither a rule file nor a preset (",
                                                     "gopher, c4, fineweb", ")"));
    return text.status();
  }
  if (LooksLikeYamlRules(spec, *text)) return ParseYamlRules(*text, spec);
  return ParseRules(*text, spec);
}

bool IsMostlyCjk(std::string_view text) {
  size_t pos = 0, letters = 0, cjk = 0;
  while (pos < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80) {
      letters += ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
      ++pos;
      continue;
    }
    const int32_t cp = DecodeUtf8(text, &pos);
    if (cp < 0) continue;
    if (IsNoSpaceScript(static_cast<char32_t>(cp))) {
      ++cjk;
      ++letters;
    } else if (IsLetter(static_cast<char32_t>(cp))) {
      ++letters;
    }
  }
  return letters > 0 && 2 * cjk > letters;
}

double RuleValue(const Rule& rule, const Attributes& attrs, uint64_t text_chars) {
  const Attribute* a = attrs.Find(rule.attribute);
  if (a == nullptr || a->spans.empty()) return 0.0;
  switch (rule.of) {
    case Rule::Of::kScore:
      return a->spans.front().score;
    case Rule::Of::kSpans:
      return static_cast<double>(a->spans.size());
    case Rule::Of::kFraction: {
      uint64_t covered = 0;
      for (const Span& s : a->spans) covered += s.end - s.start;
      return text_chars == 0 ? 0.0 : static_cast<double>(covered) / static_cast<double>(text_chars);
    }
  }
  return 0.0;
}

bool RulePasses(const Rule& rule, double v) {
  if (rule.min && !(v >= *rule.min)) return false;
  if (rule.max && !(v <= *rule.max)) return false;
  if (rule.above && !(v > *rule.above)) return false;
  if (rule.below && !(v < *rule.below)) return false;
  return true;
}

}  // namespace llmtk
