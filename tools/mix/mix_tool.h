// tools/mix/mix_tool: what llmtk-mix prints about a run — the manifest on
// stdout with --json (the data goes to the output directory, so stdout is
// free), and the summary on stderr unless --quiet.
#ifndef LLMTK_TOOLS_MIX_MIX_TOOL_H_
#define LLMTK_TOOLS_MIX_MIX_TOOL_H_

#include "lib/base/status.h"
#include "lib/mix/mixer.h"

namespace llmtk {

absl::Status PrintMixReport(const MixReport& report, bool json, bool quiet);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_MIX_MIX_TOOL_H_
