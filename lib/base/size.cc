#include "lib/base/size.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"

namespace llmtk {

SizeError ParseSize(std::string_view text, absl::Span<const SizeUnit> units, std::string_view separators,
                    double* value) {
  const std::string str(text);  // strtod needs a terminating NUL
  const char* begin = str.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || !(v >= 0) || !std::isfinite(v)) return SizeError::kNumber;
  std::string_view rest(end);
  while (!rest.empty() && separators.find(rest.front()) != std::string_view::npos) rest.remove_prefix(1);
  std::string suffix(rest);
  absl::AsciiStrToLower(&suffix);
  for (const SizeUnit& u : units) {
    if (suffix == u.suffix) {
      *value = v * u.scale;
      return SizeError::kNone;
    }
  }
  return SizeError::kUnit;
}

}  // namespace llmtk
