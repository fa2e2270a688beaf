// eval/llamacpp_score: scoring llama.cpp's task files (eval/llamacpp_tasks.h)
// with a model, computing what `llama-perplexity --hellaswag`,
// `--winogrande` and `--multiple-choice` compute at llama.cpp c392e50:
//
// - Tokens: each choice is `context + " " + choice` (HellaSwag, multiple
//   choice) or `before + choice + after` (Winogrande), tokenized whole with
//   BOS, special-token text read as text; the common prefix of a task's
//   sequences is evaluated once, then each choice's remaining tokens after
//   it (Session::Truncate back to the prefix for every choice).
// - Log-probabilities in llama.cpp's arithmetic: the first choice token from
//   its `softmax` (float exps, double sum, float log), the others from its
//   `compute_logprobs` (float max, float sum of expf, float log); HellaSwag
//   sums in double, the others in float; means per token; the first maximum
//   wins. Winogrande scores only the tokens after the choice word when both
//   have more than 3 of them, skips each sentence's last token, and (as
//   llama.cpp's FIXME says) takes the second choice's first logits from the
//   first choice's last token when it does not skip the choice word.
// - The same logits to the bit: llama.cpp evaluates several sequences in one
//   batch in one KV cache, a task's choices side by side after its shared
//   prefix, and the attention sums run in lanes by cache cell; the scorer
//   places each choice at the cells llama.cpp gives it (Session::SetNextCell)
//   as llama-perplexity batches them into its -c (as many tasks as fit, up
//   to 32 HellaSwag or multiple-choice tasks' worth of sequences, 128
//   Winogrande tasks).
//
// Thread-safety: one Scorer call at a time (it drives one Session).
#ifndef LLMTK_LIB_EVAL_LLAMACPP_SCORE_H_
#define LLMTK_LIB_EVAL_LLAMACPP_SCORE_H_

#include <functional>
#include <string>
#include <vector>

#include "lib/eval/choice_metrics.h"
#include "lib/eval/llamacpp_tasks.h"
#include "lib/model/session.h"
#include "lib/model/vocab.h"

namespace llmtk {

struct LlamaCppTaskResult {
  std::vector<ChoiceScore> choices;  // per_token: the figure llama.cpp compares
  int pred = -1;                     // llama.cpp's pick
  int gold = -1;                     // the first correct choice (-1: none)
  bool correct = false;              // labels[pred] == 1
  int prefix_tokens = 0;             // the shared prefix, BOS included
};

struct LlamaCppScoreOptions {
  int n_ctx = 512;  // llama-perplexity's -c: tasks are batched into it
};

// Called after each task with its index in the run and its result.
using LlamaCppTaskFn = std::function<absl::Status(size_t index, const LlamaCppTaskResult& r)>;

// Scores `tasks` in order. The Session must have n_ctx >= opts.n_ctx.
// FailedPrecondition when a task does not fit in n_ctx (as llama.cpp) or its
// choices tokenize identically; errors name the task's `where`.
absl::Status ScoreLlamaCppTasks(LlamaCppFormat f, const std::vector<LlamaCppTask>& tasks, const Vocab& vocab,
                                Session& session, const LlamaCppScoreOptions& opts, const LlamaCppTaskFn& on_task);

// llama.cpp's printed lines for a run, kept as it prints them: the per-task
// table (stdout there) and the final figures (stderr there).
class LlamaCppReport {
 public:
  explicit LlamaCppReport(LlamaCppFormat f, size_t n_tasks, bool random_selection)
      : f_(f), n_tasks_(n_tasks), random_(random_selection) {}
  // The line llama.cpp prints after task `index`.
  std::string TaskLine(size_t index, const LlamaCppTaskResult& r);
  std::string Header() const;
  // Its closing lines ("Final ..." where llama.cpp prints them).
  std::string Final() const;

 private:
  LlamaCppFormat f_;
  size_t n_tasks_;
  bool random_;
  int n_done_ = 0, n_correct_ = 0, n_answers_ = 0;
};

// The figures of llama.cpp's log-probabilities, exposed for tests.
// softmax() then std::log of one probability (first choice token).
float LlamaCppFirstLogprob(const float* logits, int n_vocab, int32_t tok);
// compute_logprobs() for one position.
float LlamaCppTokenLogprob(const float* logits, int n_vocab, int32_t tok);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_LLAMACPP_SCORE_H_
