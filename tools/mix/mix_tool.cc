#include "tools/mix/mix_tool.h"

#include <cstdio>

#include "tools/common/cli.h"

namespace llmtk {

absl::Status PrintMixReport(const MixReport& report, bool json, bool quiet) {
  if (json) RETURN_IF_ERROR(WriteStdout(report.manifest_json));
  if (!quiet) std::fputs(report.summary.c_str(), stderr);
  return absl::OkStatus();
}

}  // namespace llmtk
