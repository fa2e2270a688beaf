#include "lib/base/names.h"

#include <algorithm>

namespace llmtk {

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions.
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string NearestName(std::string_view s, const std::vector<std::string>& names) {
  const size_t limit = std::max<size_t>(1, s.size() / 3);
  std::string best;
  size_t best_d = limit + 1;
  for (const std::string& name : names) {
    const size_t dist = EditDistance(s, name);
    if (dist < best_d) best_d = dist, best = name;
  }
  return best;
}

}  // namespace llmtk
