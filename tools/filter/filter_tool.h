// tools/filter/filter_tool: what llmtk-filter prints about a run — the
// summary on stderr, or the --json report where the house rule puts it.
#ifndef LLMTK_TOOLS_FILTER_FILTER_TOOL_H_
#define LLMTK_TOOLS_FILTER_FILTER_TOOL_H_

#include <string>

#include "lib/base/status.h"
#include "lib/filter/filter.h"
#include "tools/common/cli.h"

namespace llmtk {

struct FilterToolOptions {
  FilterOptions run;
  CommonOptions common;
  std::string taggers = "gopher,c4";
  std::string shard = "0/1";
};

// Runs the command (tag or filter) and prints its report.
absl::Status RunFilterTool(FilterToolOptions& o);

std::string FormatFilterSummary(const FilterOptions& o, const FilterReport& r);
std::string FormatFilterJson(const FilterOptions& o, const FilterReport& r);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_FILTER_FILTER_TOOL_H_
