// eval/mc_items: multiple-choice benchmark items from JSONL, their prompts
// (a template, few-shot examples from a dev file) and their scoring by
// log-likelihood, as lm-evaluation-harness scores `multiple_choice` tasks.
//
// An item is one JSON object a line: `question` (or `context`), `choices`
// (an array of strings), `answer` (0-based index, or a letter "A".."Z"),
// optional `subject` and `category` (strings) for breakdowns.
//
// The template (--template) has placeholders {question}, {context},
// {subject}, {choices} (the choices as lettered lines "A. ..."), and
// {answer}, where the scored answer goes: the letter when the template shows
// {choices} (MMLU's style: " A" after "Answer:"), else the choice's text
// (HellaSwag/ARC style). Text after {answer} is not used. Defaults:
// "{question}\n{choices}\nAnswer: {answer}" for items with a question,
// "{context} {answer}" for items with a context. `{{` and `}}` are literal
// braces.
//
// Few-shot (lm-evaluation-harness's MMLU): the first K examples of the dev
// file, in file order, of the item's subject when both carry subjects,
// rendered with their gold answer and joined by a blank line, before the
// item; an optional description (with {subject}, underscores shown as
// spaces) goes first.
//
// Scoring: the prompt and each choice are split into tokens as
// EncodeScorePair does (lm-evaluation-harness's _encode_pair); the prompt
// is evaluated once per item, its cached tokens kept across items as far as
// they agree (the few-shot prefix is evaluated once), and each choice is
// evaluated after it (Session::Truncate back to the prompt). Log-likelihoods
// are the runner's log-softmax summed in double, so each choice scores
// exactly what `llmtk-run --score` gives the same prompt and completion.
//
// Thread-safety: one call at a time per Session.
#ifndef LLMTK_LIB_EVAL_MC_ITEMS_H_
#define LLMTK_LIB_EVAL_MC_ITEMS_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/eval/choice_metrics.h"
#include "lib/model/session.h"
#include "lib/model/vocab.h"

namespace llmtk {

struct McItem {
  std::string question;  // or the context
  bool is_context = false;
  std::vector<std::string> choices;
  int answer = -1;
  std::string subject, category;
  std::string where;  // FILE:LINE
};

// Reads every item of a JSONL file (`limit` > 0: the first `limit`).
// DataLoss naming FILE:LINE for a line that is not such an item.
absl::StatusOr<std::vector<McItem>> ReadMcItems(const std::string& path, int64_t limit = 0);

struct McPromptOptions {
  std::string template_text;  // empty: the default for the item
  std::string description;    // before the shots; {subject} filled
  int shots = 0;
};

class McPrompter {
 public:
  // InvalidArgument for an unknown placeholder or a template without {answer}.
  static absl::StatusOr<McPrompter> Create(const McPromptOptions& o, std::vector<McItem> dev);
  // The prompt before the answer, and each choice's answer text.
  struct Rendered {
    std::string prompt;
    std::vector<std::string> answers;  // what is scored (the prompt's trailing space joins it)
  };
  absl::StatusOr<Rendered> Render(const McItem& item) const;

 private:
  absl::StatusOr<std::string> Fill(const std::string& tmpl, const McItem& item, bool* has_choices) const;
  McPromptOptions o_;
  std::vector<McItem> dev_;
};

struct McItemResult {
  std::vector<ChoiceScore> choices;
  ChoicePredictions pred;
  int pred_per_token = -1;
  int prompt_tokens = 0;
  int reused_tokens = 0;  // prompt tokens already in the cache
};

// Scores one item's rendered prompt and answers with `session`, reusing the
// cached prompt prefix. Errors name item.where.
absl::StatusOr<McItemResult> ScoreMcItem(const McItem& item, const McPrompter::Rendered& r, const Vocab& vocab,
                                         Session& session, std::vector<int32_t>* cached);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_MC_ITEMS_H_
