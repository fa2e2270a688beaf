// tools/dedup/dedup_tool: what llmtk-dedup prints about a run — the
// three-line summary on stderr, or the --json report where the house rule
// puts it (base/io.h WriteJsonReport).
#ifndef LLMTK_TOOLS_DEDUP_DEDUP_TOOL_H_
#define LLMTK_TOOLS_DEDUP_DEDUP_TOOL_H_

#include <string>

#include "lib/base/status.h"
#include "lib/dedup/dedup.h"

namespace llmtk {

// Writes the summary to stderr unless quiet, or the JSON report where
// WriteJsonReport (lib/base/io.h) puts it.
absl::Status PrintDedupReport(const DedupOptions& opts, const DedupReport& r);

// The human summary and the JSON report of a run.
std::string FormatDedupSummary(const DedupOptions& opts, const DedupReport& r);
std::string FormatDedupJson(const DedupOptions& opts, const DedupReport& r);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_DEDUP_DEDUP_TOOL_H_
