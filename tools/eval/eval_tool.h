// tools/eval/eval_tool: what `llmtk-eval` does — benchmark evaluation of a
// GGUF model: multiple-choice log-likelihood tasks from JSONL (prompt
// template, few-shot from a dev file) and llama.cpp's three task files
// (--hellaswag, --winogrande, --multiple-choice, scored exactly as
// llama-perplexity scores them), with the options the flags set
// (tools/eval/main.cc).
//
// The model is loaded once for all task files of a run; results do not
// depend on --threads (the Session's arithmetic does not).
//
// Thread-safety: one call at a time.
#ifndef LLMTK_TOOLS_EVAL_EVAL_TOOL_H_
#define LLMTK_TOOLS_EVAL_EVAL_TOOL_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/eval/answer_match.h"
#include "lib/model/sampling.h"

namespace llmtk {

struct EvalToolOptions {
  std::string model_path;
  // Multiple-choice JSONL task files (`question` or `context`, `choices`,
  // `answer`; optional `subject`, `category`).
  std::vector<std::string> task_paths;
  std::string template_text;  // --template (empty: the default)
  std::string description;    // --description: before the shots ({subject} filled)
  std::string dev_path;       // --dev: few-shot examples, in file order
  int shots = 0;              // --shots K
  int64_t limit = 0;          // --limit: first N items of each JSONL file (0: all)
  // llama.cpp's task files.
  std::string hellaswag, winogrande, multiple_choice;
  int64_t tasks = -1;  // --tasks N (-1: llama-perplexity's default per format; 0: all)
  // Generative tasks (--generate, tools/eval/generate_mode.h): JSONL items
  // (`prompt` or `question`, `answer` or `target`) completed by the model;
  // --template, --dev, --shots and --limit apply to them too.
  std::vector<std::string> generate_paths;
  std::vector<std::string> until;  // stop strings (none: "\n\n", lm-evaluation-harness's default)
  int max_tokens = 256;            // lm-evaluation-harness's max_gen_toks
  AnswerMatchOptions match;        // --extract, --ignore, --ignore-case, ...
  SamplingParams sampling = [] {   // greedy unless asked
    SamplingParams p;
    p.temperature = 0;
    return p;
  }();
  // --chat: JSONL and --generate prompts go through the chat template (the
  // model's, or --chat-template FILE) as one user message after --system,
  // with the generation prompt; choices follow it with no delimiter, as in
  // lm-evaluation-harness's --apply_chat_template.
  bool chat = false;
  std::string system;
  std::string chat_template_path;
  // Model and runtime.
  int n_ctx = 512;  // llama-perplexity's -c default; tasks are batched into it
  int max_batch = 512;
  bool kv_f32 = false;
  int threads = 0;
  // Output.
  std::string items_path;  // --items: one JSON line per item
  bool per_task = false;   // --per-task: llama-perplexity's per-task lines on stdout
  bool json = false;
  bool progress = false;
  bool quiet = false;
};

// `out` receives the data (stdout in the tool), `err` diagnostics.
absl::Status RunEvalTool(const EvalToolOptions& opts, const std::function<absl::Status(std::string_view)>& out,
                         const std::function<void(std::string_view)>& err);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_EVAL_EVAL_TOOL_H_
