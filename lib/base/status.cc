#include "lib/base/status.h"

namespace llmtk {

absl::Status Annotate(const absl::Status& s, std::string_view where) {
  if (s.ok() || where.empty()) return s;
  return absl::Status(s.code(), absl::StrCat(s.message(), ", ", ToAbsl(where)));
}

}  // namespace llmtk
