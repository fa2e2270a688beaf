// tools/eval/generate_mode: llmtk-eval's generative tasks (--generate) —
// each JSONL item's prompt, after the few-shot prefix, completed by the
// model until a stop string, its answer extracted and matched against the
// gold one (lib/eval/generation_task.h, lib/eval/answer_match.h).
//
// Thread-safety: one call at a time per Runner.
#ifndef LLMTK_TOOLS_EVAL_GENERATE_MODE_H_
#define LLMTK_TOOLS_EVAL_GENERATE_MODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/status.h"
#include "lib/eval/answer_match.h"
#include "lib/eval/generation_task.h"
#include "lib/model/runner.h"
#include "tools/eval/eval_tool.h"

namespace llmtk {

// What the generative options of a run resolve to, once for all files.
struct GenerateSetup {
  GenerationTaskOptions task;
  std::unique_ptr<AnswerMatcher> matcher;
};

// InvalidArgument for a template with {answer} (the model writes the
// answer), a bad pattern (named with its flag) or bad sampling values;
// reads the --dev file's first --shots items.
absl::StatusOr<GenerateSetup> MakeGenerateSetup(const EvalToolOptions& o);

struct GenerateFileReport {
  std::string path;
  uint64_t items = 0, available = 0;
  std::vector<double> scores;  // 1 correct, 0 not, per item
  uint64_t invalid = 0;        // items whose completion the pattern did not match
  double seconds = 0;
};

// Runs one --generate file; `items` (may be null) gets one JSON line per item.
absl::StatusOr<GenerateFileReport> RunGenerateFile(const EvalToolOptions& o, const GenerateSetup& setup,
                                                   const std::string& path, Runner& runner, OutputFile* items);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_EVAL_GENERATE_MODE_H_
