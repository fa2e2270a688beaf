// tools/vram/vram_tool: the llmtk-vram request (model + scenario + GPU +
// solver + output style) and its rendering as a table, an explained table
// (each line's formula with numbers) or JSON.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef LLMTK_TOOLS_VRAM_VRAM_TOOL_H_
#define LLMTK_TOOLS_VRAM_VRAM_TOOL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "lib/vram/estimate.h"
#include "lib/vram/fit.h"

namespace llmtk {

struct VramRequest {
  std::string model;        // config.json, directory, or GGUF
  int64_t params = 0;       // instead of a model: model states only (ZeRO-paper style)
  Scenario scenario;
  std::string gpu_name;     // from --gpu, for the report
  SolveFor solve = SolveFor::kNone;
  bool explain = false;
  bool json = false;
};

// Loads the model, estimates, checks the fit and solves; returns the text
// for stdout.
absl::StatusOr<std::string> RunVramRequest(const VramRequest& r);

// Rendering, exposed for tests.
std::string RenderTable(const std::string& model_name, const MemoryEstimate& e,
                        const Scenario& s, const std::string& gpu_name, bool explain);
std::string RenderJson(const std::string& model_name, const MemoryEstimate& e,
                       const Scenario& s, const std::string& gpu_name);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_VRAM_VRAM_TOOL_H_
