#include "tools/eval/generate_mode.h"

#include <unistd.h>

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/progress.h"

namespace llmtk {

absl::StatusOr<GenerateSetup> MakeGenerateSetup(const EvalToolOptions& o) {
  GenerateSetup s;
  if (!o.template_text.empty()) {
    if (absl::StrContains(o.template_text, "{answer}")) {
      return absl::InvalidArgumentError(
          "--template for --generate has no {answer}: the model writes the answer (the prompt ends where "
          "generation starts)");
    }
    s.task.template_text = o.template_text;
  }
  if (o.max_tokens < 1) return absl::InvalidArgumentError(absl::StrCat("--max-tokens must be >= 1, got ", o.max_tokens));
  RETURN_IF_ERROR(ValidateSamplingParams(o.sampling));
  s.task.generate.max_tokens = o.max_tokens;
  s.task.generate.sampling = o.sampling;
  // lm-evaluation-harness's default for a generate_until task: stop at the
  // few-shot delimiter.
  s.task.generate.stop = o.until.empty() ? std::vector<std::string>{s.task.fewshot_delimiter} : o.until;
  if (!o.dev_path.empty() && o.shots > 0) {
    ASSIGN_OR_RETURN(std::vector<GenerationItem> dev, ReadGenerationItems(o.dev_path));
    if (dev.size() < static_cast<size_t>(o.shots)) {
      return absl::InvalidArgumentError(absl::StrCat("--shots ", o.shots, " but ", o.dev_path, " has ", dev.size(),
                                                     " items"));
    }
    dev.resize(static_cast<size_t>(o.shots));
    s.task.shots = std::move(dev);
  } else if (o.shots > 0) {
    return absl::InvalidArgumentError("--shots needs --dev FILE (the few-shot examples)");
  }
  ASSIGN_OR_RETURN(s.matcher, AnswerMatcher::Create(o.match));
  return s;
}

absl::StatusOr<GenerateFileReport> RunGenerateFile(const EvalToolOptions& o, const GenerateSetup& setup,
                                                   const std::string& path, Runner& runner, OutputFile* items) {
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::vector<GenerationItem> list, ReadGenerationItems(path));
  GenerateFileReport rep;
  rep.path = path;
  rep.available = list.size();
  if (o.limit > 0 && list.size() > static_cast<size_t>(o.limit)) list.resize(static_cast<size_t>(o.limit));
  rep.items = list.size();
  Progress progress("llmtk-eval", o.progress || (!o.quiet && !o.json && isatty(2)), "items");
  progress.SetTotalItems(static_cast<int64_t>(list.size()));
  ASSIGN_OR_RETURN(GenerationSummary summary,
                   RunGenerationTask(runner, list, path, setup.task, *setup.matcher,
                                     [&](const GenerationRecord& r) -> absl::Status {
                                       rep.scores.push_back(r.correct ? 1 : 0);
                                       if (items != nullptr) RETURN_IF_ERROR(items->Write(GenerationRecordJson(r) + "\n"));
                                       progress.Add(1);
                                       return absl::OkStatus();
                                     }));
  progress.Finish();
  rep.invalid = summary.invalid;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace llmtk
