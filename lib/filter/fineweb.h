// filter/fineweb: the three FineWeb quality statistics as datatrove's
// FineWebQualityFilter computes them (pipeline/filters/fineweb_quality_filter.py,
// commit 05194d39): over text.split("\n"), the share of lines ending in one of
// . ' " ! ? (line_punct_ratio), the share of lines of at most 30 code points
// (short_line_ratio), and the characters of repeated non-blank lines (every
// occurrence after the first) over the characters of the text without its
// "\n" (char_dup_ratio; 0 for a text of newlines only, where datatrove would
// divide by zero). Written as fineweb_v1 attributes (an llmtk name: dolma has
// no such tagger).
//
// Thread-safety: Tag is thread-safe.
#ifndef LLMTK_LIB_FILTER_FINEWEB_H_
#define LLMTK_LIB_FILTER_FINEWEB_H_

#include <string_view>

#include "lib/filter/attributes.h"

namespace llmtk {

inline constexpr std::string_view kFineWebTagger = "fineweb_v1";

void TagFineWeb(std::string_view text, Attributes* out);

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_FINEWEB_H_
