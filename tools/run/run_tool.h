// tools/run/run_tool: what llmtk-run does — one prompt streamed, a JSONL batch
// generated or scored, or a llama-bench style timing — with its options as the
// flags set them (tools/run/main.cc).
#ifndef LLMTK_TOOLS_RUN_RUN_TOOL_H_
#define LLMTK_TOOLS_RUN_RUN_TOOL_H_

#include <functional>
#include <string>
#include <string_view>

#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/model/runner.h"

namespace llmtk {

// Everything `llmtk-run` does, selected by the options.
struct RunToolOptions {
  std::string model_path;
  std::string prompt;       // -p
  std::string prompt_file;  // -f
  std::string batch_path;   // --batch (JSONL with "prompt", optional "completion")
  std::string output = "-";
  bool score = false;       // --score: log-likelihood of each line's "completion"
  bool timings = false;     // --timings on stderr
  bool echo_prompt = false; // print the prompt before the completion
  bool quiet = false;
  bool json = false;
  // --chat: prompts go through the model's chat template (or --chat-template
  // FILE) as a user message after an optional --system message; --batch
  // lines give "messages" (or a "prompt", or a text line, as one user
  // message). --render-only prints the rendered prompts instead of running
  // the model: the text for -p/-f, one JSON line per --batch line with
  // "prompt" set to it.
  bool chat = false;
  std::string system;
  std::string chat_template_path;
  bool render_only = false;
  // --bench: time a synthetic prompt of bench_pp tokens, then bench_tg
  // generated tokens (no tokenizer needed), like llama-bench: after one
  // warm-up pass over the weights, bench_reps runs, medians reported.
  // Generation starts from an empty cache, as llama-bench's tg test does,
  // or after bench_depth cached tokens (its -d).
  bool bench = false;
  int bench_pp = 512;
  int bench_tg = 128;
  int bench_depth = 0;
  int bench_reps = 3;
  // --batch input: the prompt's key (default "prompt"), bad-line policy.
  DocumentReaderOptions reader = [] {
    DocumentReaderOptions r;
    r.text_key = "prompt";
    return r;
  }();
  GenerateOptions generate;
  SessionOptions session;
};

// Runs the tool; writes data to `out` (stdout in the tool) and diagnostics
// to `err`.
absl::Status RunTool(const RunToolOptions& opts, const std::function<absl::Status(std::string_view)>& out,
                     const std::function<void(std::string_view)>& err);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_RUN_RUN_TOOL_H_
