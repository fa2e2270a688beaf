// The JSON Lines rule-file parser and the field definitions both rule-file
// forms share (filter/rule_fields.h).
#include "lib/filter/rule_fields.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/io.h"

namespace llmtk {

namespace {

absl::Status RuleError(std::string_view name, size_t line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(name), ":", line, ": ", ToAbsl(what)));
}

}  // namespace

absl::Status ApplyRuleField(std::string_view key, simdjson::dom::element value, std::string_view name, size_t line_no,
                            Rule* rule) {
  Rule& r = *rule;
  auto number = [&](std::optional<double>* out) -> absl::Status {
    double v;
    if (value.get_double().get(v)) {
      int64_t i;
      if (value.get_int64().get(i)) return RuleError(name, line_no, absl::StrCat("\"", ToAbsl(key), "\" must be a number"));
      v = static_cast<double>(i);
    }
    *out = v;
    return absl::OkStatus();
  };
  auto string = [&](std::string* out) -> absl::Status {
    std::string_view s;
    if (value.get_string().get(s)) return RuleError(name, line_no, absl::StrCat("\"", ToAbsl(key), "\" must be a string"));
    *out = std::string(s);
    return absl::OkStatus();
  };
  if (key == "name") return string(&r.name);
  if (key == "attribute") return string(&r.attribute);
  if (key == "min") return number(&r.min);
  if (key == "max") return number(&r.max);
  if (key == "above") return number(&r.above);
  if (key == "below") return number(&r.below);
  if (key == "of") {
    std::string of;
    RETURN_IF_ERROR(string(&of));
    if (of == "score") r.of = Rule::Of::kScore;
    else if (of == "spans") r.of = Rule::Of::kSpans;
    else if (of == "fraction") r.of = Rule::Of::kFraction;
    else return RuleError(name, line_no, absl::StrCat("\"of\": '", of, "' is not one of score, spans, fraction"));
    return absl::OkStatus();
  }
  if (key == "unless_script") {
    std::string s;
    RETURN_IF_ERROR(string(&s));
    if (s != "cjk") return RuleError(name, line_no, absl::StrCat("\"unless_script\": '", s, "' is not cjk"));
    r.unless_cjk = true;
    return absl::OkStatus();
  }
  if (key == "languages") {
    simdjson::dom::array arr;
    if (value.get_array().get(arr)) return RuleError(name, line_no, "\"languages\" must be a list of language codes");
    for (auto v : arr) {
      std::string_view s;
      if (v.get_string().get(s)) return RuleError(name, line_no, "\"languages\" must be a list of language codes");
      r.languages.emplace_back(s);
    }
    return absl::OkStatus();
  }
  return RuleError(name, line_no,
                   absl::StrCat("unknown field \"", ToAbsl(key),
                                "\" (a rule has attribute, of, min, max, above, below, name, languages, "
                                "unless_script)"));
}

absl::Status AddRule(Rule r, std::string_view name, size_t line_no, RuleSet* set) {
  if (r.attribute.empty()) return RuleError(name, line_no, "a rule needs \"attribute\"");
  const std::string tagger = TaggerOfAttribute(r.attribute);
  if (tagger.empty())
    return RuleError(name, line_no,
                     absl::StrCat("attribute '", r.attribute, "' belongs to no tagger (",
                                  "gopher_v1, c4_v1, fineweb_v1, cld2, fasttext", ")"));
  if (!r.min && !r.max && !r.above && !r.below)
    return RuleError(name, line_no, "a rule needs a bound: min, max, above or below");
  if (r.name.empty()) r.name = r.attribute;
  auto add_tagger = [&](const std::string& t) {
    if (std::find(set->taggers.begin(), set->taggers.end(), t) == set->taggers.end()) set->taggers.push_back(t);
  };
  add_tagger(tagger);
  set->needs_language |= !r.languages.empty();
  set->rules.push_back(std::move(r));
  return absl::OkStatus();
}

absl::StatusOr<RuleSet> ParseRules(std::string_view text, std::string_view name) {
  RuleSet set;
  simdjson::dom::parser parser;
  size_t line_no = 0;
  for (absl::string_view absl_line : absl::StrSplit(ToAbsl(text), '\n')) {
    std::string_view line = ToStd(absl_line);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    simdjson::dom::element doc;
    if (auto err = parser.parse(line.data(), line.size()).get(doc))
      return RuleError(name, line_no, absl::StrCat("not a JSON object (", simdjson::error_message(err),
                                                   "); a JSON rule file holds one rule object a line"));
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return RuleError(name, line_no, "a rule must be a JSON object");
    Rule r;
    for (auto [key, value] : obj) RETURN_IF_ERROR(ApplyRuleField(key, value, name, line_no, &r));
    RETURN_IF_ERROR(AddRule(std::move(r), name, line_no, &set));
  }
  return set;
}

}  // namespace llmtk
