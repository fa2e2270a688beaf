// The YAML form of a rule file: a list of rule mappings with the fields of
// the JSON Lines form (filter/rule_fields). yaml-cpp (Debian libyaml-cpp-dev)
// parses it; its exceptions stay in this file. Each value is handed to the
// JSON field parser as the JSON it stands for — a plain scalar that reads as
// a number is a number, any other scalar a string, a list of scalars an array
// — so both forms accept exactly the same rules, and every error names the
// line of the field (or of the rule) it is about.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/base/json_writer.h"
#include "lib/filter/rule_fields.h"
#include "lib/filter/rules.h"

namespace llmtk {

namespace {

absl::Status YamlError(std::string_view name, const YAML::Mark& mark, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(name), ":", mark.line + 1, ": ", ToAbsl(what)));
}

// yaml-cpp puts an error found at the end of the text on the line after the
// last '\n'; the user's editor calls that the last line.
YAML::Mark ClampToLastLine(YAML::Mark mark, std::string_view text) {
  int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  if (!text.empty() && text.back() != '\n') ++lines;
  if (lines > 0 && mark.line >= lines) mark.line = lines - 1;
  return mark;
}

void ScalarJson(const YAML::Node& node, JsonWriter* w) {
  double v;
  // Tag "?" marks a plain (unquoted) scalar; a quoted "50" stays a string.
  if (node.Tag() == "?" && YAML::convert<double>::decode(node, v)) {
    w->Double(v);
  } else {
    w->String(node.Scalar());
  }
}

// The JSON text of a field's value, or an error for a nested mapping.
absl::StatusOr<std::string> ValueJson(const YAML::Node& value, std::string_view key, std::string_view name) {
  JsonWriter w;
  if (value.IsScalar()) {
    ScalarJson(value, &w);
  } else if (value.IsNull()) {
    w.Null();
  } else if (value.IsSequence()) {
    w.BeginArray();
    for (const YAML::Node& item : value) {
      if (!item.IsScalar())
        return YamlError(name, item.Mark(), absl::StrCat("\"", ToAbsl(key), "\" must be a list of plain values"));
      ScalarJson(item, &w);
    }
    w.EndArray();
  } else {
    return YamlError(name, value.Mark(), absl::StrCat("\"", ToAbsl(key), "\" must be a value or a list, not a mapping"));
  }
  return w.str();
}

absl::StatusOr<RuleSet> ParseDocument(const YAML::Node& root, std::string_view name) {
  RuleSet set;
  if (root.IsNull()) return set;
  if (!root.IsSequence())
    return YamlError(name, root.Mark(), "a YAML rule file is a list of rules, each starting with '- '");
  simdjson::dom::parser parser;
  for (const YAML::Node& item : root) {
    const size_t rule_line = item.Mark().line + 1;
    if (!item.IsMap())
      return YamlError(name, item.Mark(), "a rule must be a mapping (attribute: ..., min: ...)");
    Rule r;
    for (const auto& field : item) {
      if (!field.first.IsScalar()) return YamlError(name, field.first.Mark(), "a rule's field names are plain words");
      const std::string key = field.first.Scalar();
      ASSIGN_OR_RETURN(std::string json, ValueJson(field.second, key, name));
      simdjson::dom::element value;
      if (parser.parse(json).get(value))
        return YamlError(name, field.second.Mark(), absl::StrCat("\"", key, "\" has a value llmtk cannot read"));
      RETURN_IF_ERROR(ApplyRuleField(key, value, name, field.first.Mark().line + 1, &r));
    }
    RETURN_IF_ERROR(AddRule(std::move(r), name, rule_line, &set));
  }
  return set;
}

}  // namespace

absl::StatusOr<RuleSet> ParseYamlRules(std::string_view text, std::string_view name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return YamlError(name, ClampToLastLine(e.mark, text), absl::StrCat("not valid YAML (", e.msg, ")"));
  }
  try {
    return ParseDocument(root, name);
  } catch (const YAML::Exception& e) {
    return YamlError(name, e.mark, absl::StrCat("unreadable YAML (", e.msg, ")"));
  }
}

}  // namespace llmtk
