// base/names: suggestions for misspelled names — a flag's value, a
// subcommand, a recipe key — so an error can say "did you mean ...?".
#ifndef LLMTK_LIB_BASE_NAMES_H_
#define LLMTK_LIB_BASE_NAMES_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace llmtk {

// Edit distance counting an adjacent transposition as one edit ("sing" is
// one from "sign").
size_t EditDistance(std::string_view a, std::string_view b);
// The name in `names` nearest to `s` when near enough to be a misspelling of
// it (at most max(1, |s|/3) edits, ties to the first), else "".
std::string NearestName(std::string_view s, const std::vector<std::string>& names);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_NAMES_H_
