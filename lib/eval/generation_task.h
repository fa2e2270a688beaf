// eval/generation_task: generative evaluation (GSM8K-style) — each item's
// prompt, after a few-shot prefix, is completed by the model until a stop
// string, the answer is extracted and compared with the gold answer
// (eval/answer_match.h), and the exact-match rate is reported with its
// standard error.
//
// Items are JSONL, one object a line: the prompt under "prompt" (or
// "question", or "context"), the gold answer under "answer" (or "target"),
// a string or a number as written. An item with "choices" (strings) and an
// integer "answer" is multiple choice by generation: its gold answer is the
// letter (0 → "A"), and the template's {choices} lists them as "A. first"
// lines. Blank lines are skipped.
//
// The prompt, as lm-evaluation-harness builds it: for each few-shot example
// (the first K items of a dev file, in file order) its rendered template,
// the target delimiter (" ") and its gold answer, then the few-shot
// delimiter ("\n\n"); then the item's rendered template. The template's
// {prompt} (also spelled {question}) is the item's prompt; {choices} as
// above. Generation is greedy unless sampling is asked for; a sampled item
// draws from seed + its 0-based index, so each item's completion is the
// same whichever items run with it and with any thread count.
//
// Thread-safety: one call at a time per Runner.
#ifndef LLMTK_LIB_EVAL_GENERATION_TASK_H_
#define LLMTK_LIB_EVAL_GENERATION_TASK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/eval/answer_match.h"
#include "lib/model/chat_prompt.h"
#include "lib/model/runner.h"

namespace llmtk {

struct GenerationItem {
  std::string prompt;
  std::string gold;
  std::vector<std::string> choices;  // empty unless multiple choice
  uint64_t line = 0;                 // 1-based line in its file
};

// All items of a JSONL file (zstd and "-" as every input). A malformed line,
// a missing field or an answer index outside the choices is DataLoss naming
// file:line.
absl::StatusOr<std::vector<GenerationItem>> ReadGenerationItems(const std::string& path);

struct GenerationTaskOptions {
  std::string template_text = "{prompt}";
  std::vector<GenerationItem> shots;  // few-shot examples, in order
  std::string target_delimiter = " ";
  std::string fewshot_delimiter = "\n\n";
  GenerateOptions generate;  // stop strings, max tokens, sampling
  // Chat mode (may be null): the whole prompt, few-shot prefix included, is
  // one user message (after `system` when not empty), rendered through the
  // chat template with the generation prompt -- lm-evaluation-harness's
  // --apply_chat_template without --fewshot_as_multiturn.
  const ChatPrompter* chat = nullptr;
  std::string system;
};

// The prompt as the model reads it: `prompt` itself, or in chat mode its
// render (trailing whitespace of `prompt` dropped, as lm-evaluation-harness's
// contexts end before the target delimiter).
absl::StatusOr<std::string> ChatOrPlainPrompt(const ChatPrompter* chat, const std::string& system,
                                              std::string_view prompt);

// The template with {prompt}/{question} and {choices} filled in.
std::string RenderGenerationTemplate(const std::string& template_text, const GenerationItem& item);
// The whole prompt for `item` (few-shot prefix included).
std::string BuildGenerationPrompt(const GenerationTaskOptions& opts, const GenerationItem& item);

struct GenerationRecord {
  uint64_t index = 0;  // 0-based item number
  std::string source;  // file:line
  std::string prompt, completion, extracted, gold;  // prompt: as rendered (chat mode: the chat text)
  bool correct = false;
  int prompt_tokens = 0, completion_tokens = 0;
  std::string finish_reason;
};

// One JSON object (no newline): index, source, prompt, completion,
// extracted, gold, correct, prompt_tokens, completion_tokens, finish_reason.
std::string GenerationRecordJson(const GenerationRecord& r);

struct GenerationSummary {
  uint64_t items = 0, correct = 0;
  uint64_t invalid = 0;  // no match of the extraction pattern
  double exact_match = 0;
  // lm-evaluation-harness's mean_stderr (eval/choice_metrics.h), for 0/1
  // scores sqrt(p (1 - p) / (n - 1)); undefined below two items.
  std::optional<double> exact_match_stderr;
};

// The summary of a list of outcomes (correct or not), as RunGenerationTask
// reports it.
GenerationSummary SummarizeGeneration(const std::vector<bool>& correct, uint64_t invalid);

// Runs every item. `on_record` (may be null) gets each record in item order;
// its error stops the run. An item's error (prompt past the context, ...)
// is returned naming `source`:line.
absl::StatusOr<GenerationSummary> RunGenerationTask(Runner& runner, const std::vector<GenerationItem>& items,
                                                    const std::string& source, const GenerationTaskOptions& opts,
                                                    const AnswerMatcher& matcher,
                                                    const std::function<absl::Status(const GenerationRecord&)>& on_record);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_GENERATION_TASK_H_
