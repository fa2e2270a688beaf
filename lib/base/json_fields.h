// base/json_fields: setting top-level fields of a JSON object line, appended
// to the caller's buffer (SetJsonFields in base/jsonl returns a fresh string;
// writers of many lines use this and copy nothing twice). Defined in
// jsonl.cc beside SetJsonFields, which shares its member scanner.
#ifndef LLMTK_LIB_BASE_JSON_FIELDS_H_
#define LLMTK_LIB_BASE_JSON_FIELDS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "lib/base/status.h"

namespace llmtk {

// (key, already-serialized JSON value)
using JsonField = std::pair<std::string_view, std::string_view>;

// Appends the JSON object `raw` with `fields[0..n)` set (n <= 64): existing
// top-level keys of the same name are replaced in place, new ones appended
// before the closing brace; other bytes are kept. On error `out` is unchanged.
absl::Status AppendJsonWithFields(std::string_view raw, const JsonField* fields, size_t n, std::string* out);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_JSON_FIELDS_H_
