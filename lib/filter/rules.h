// filter/rules: keep-or-drop rules over a document's attributes, from a rule
// file or the built-in presets gopher, c4 and fineweb.
//
// A rule file is JSON Lines: one rule object a line (blank lines and lines
// starting with '#' are ignored), so that every error names file:line:
//   {"name": "gopher_word_count", "attribute": "gopher_v1__word_count", "min": 50, "max": 100000}
// or YAML (filter/rules_yaml): a list of the same objects, one mapping per
// rule. A file named *.yaml/*.yml is YAML, *.json/*.jsonl JSON Lines; any
// other name is JSON Lines when its first line that is not blank or a comment
// starts with '{', else YAML.
// Fields: "attribute" (required; the full dolma key or its short form
// "<tagger>__<type>"); "of": "score" (default: the first span's score, 0 when
// the document has no such span), "spans" (their number) or "fraction" (the
// share of the text's code points they cover); bounds "min"/"max" (the value
// must be >= / <=) and "above"/"below" (> / <); "name" (default: the
// attribute); "languages": ["zh", ...] applies the rule only to documents
// whose top language (fastText's with --fasttext, else CLD2's) is one of them (per-language thresholds: one rule
// per language); "unless_script": "cjk" skips the rule for documents written
// mostly (over half their letters) in scripts without spaces between words
// (Han, Kana, Thai, ...), where word counts mean nothing.
// A document is dropped by the first rule it fails, in file order.
//
// Thread-safety: a RuleSet is immutable once loaded.
#ifndef LLMTK_LIB_FILTER_RULES_H_
#define LLMTK_LIB_FILTER_RULES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/filter/attributes.h"

namespace llmtk {

struct Rule {
  enum class Of { kScore, kSpans, kFraction };
  std::string name, attribute;
  Of of = Of::kScore;
  std::optional<double> min, max, above, below;
  std::vector<std::string> languages;
  bool unless_cjk = false;
};

struct RuleSet {
  std::vector<Rule> rules;
  // The taggers the rules read ("gopher_v1", "c4_v1", "fineweb_v1", "cld2",
  // "fasttext").
  std::vector<std::string> taggers;
  // Whether a rule has "languages", so that the run must identify languages.
  bool needs_language = false;
};

// The built-in presets' names.
inline constexpr std::string_view kPresets[] = {"gopher", "c4", "fineweb"};

// `spec`: a preset name, several joined by ',' ("gopher,c4,fineweb"), or a
// rule file. Errors name file:line and what is wrong.
absl::StatusOr<RuleSet> LoadRules(std::string_view spec);
// Parses JSON Lines rule-file text; `name` is used in error messages.
absl::StatusOr<RuleSet> ParseRules(std::string_view text, std::string_view name);
// Parses YAML rule-file text (filter/rules_yaml.cc).
absl::StatusOr<RuleSet> ParseYamlRules(std::string_view text, std::string_view name);

// The tagger an attribute key belongs to, or "" when it names none.
std::string TaggerOfAttribute(std::string_view attribute);

// Whether the text is mostly (over half its letters) in no-space scripts.
bool IsMostlyCjk(std::string_view text);

// The value a rule tests.
double RuleValue(const Rule& rule, const Attributes& attrs, uint64_t text_chars);
// Whether `value` passes the rule's bounds.
bool RulePasses(const Rule& rule, double value);

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_RULES_H_
