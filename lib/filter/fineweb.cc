#include "lib/filter/fineweb.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "lib/filter/text.h"

namespace llmtk {

void TagFineWeb(std::string_view text, Attributes* out) {
  thread_local std::vector<std::string_view> lines;
  thread_local absl::flat_hash_set<std::string_view, WordHash> seen;
  seen.clear();
  SplitLines(text, &lines);
  uint64_t punct = 0, short_lines = 0, dup_chars = 0;
  for (std::string_view line : lines) {
    const char last = line.empty() ? '\0' : line.back();
    if (last == '.' || last == '\'' || last == '"' || last == '!' || last == '?') ++punct;
    const uint64_t chars = CodePoints(line);
    if (chars <= 30) ++short_lines;
    if (StripPython(line).empty()) continue;
    if (!seen.insert(line).second) dup_chars += chars;
  }
  const uint64_t end = CodePoints(text);
  const uint64_t body = end - (lines.size() - 1);  // the text without its "\n"
  const double n = static_cast<double>(lines.size());
  out->Add(kFineWebTagger, "line_punct_ratio", 0, end, punct / n);
  out->Add(kFineWebTagger, "short_line_ratio", 0, end, short_lines / n);
  out->Add(kFineWebTagger, "char_dup_ratio", 0, end, body == 0 ? 0.0 : static_cast<double>(dup_chars) / body);
}

}  // namespace llmtk
