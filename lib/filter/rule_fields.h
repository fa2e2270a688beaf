// filter/rule_fields: the one definition of a rule's fields, shared by the
// JSON Lines and the YAML rule-file parsers so that both accept the same
// schema and word their errors alike ("FILE:LINE: what is wrong").
#ifndef LLMTK_LIB_FILTER_RULE_FIELDS_H_
#define LLMTK_LIB_FILTER_RULE_FIELDS_H_

#include <cstddef>
#include <string_view>

#include "lib/base/status.h"
#include "lib/filter/rules.h"
#include "simdjson.h"

namespace llmtk {

// Sets the field `key` of `rule` from a JSON value; errors name `name`:`line`.
absl::Status ApplyRuleField(std::string_view key, simdjson::dom::element value, std::string_view name, size_t line,
                            Rule* rule);
// Checks a complete rule (attribute, a bound) and appends it to `set`.
absl::Status AddRule(Rule rule, std::string_view name, size_t line, RuleSet* set);

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_RULE_FIELDS_H_
