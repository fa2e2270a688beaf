#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "tools/common/cli.h"
#include "tools/tok/tok_tool.h"

namespace llmtk {

absl::Status RunTrain(TrainToolOptions t) {
  if (t.model != "wordpiece" && (t.limit_alphabet != 0 || t.cased || !t.continuation_order.empty())) {
    return absl::InvalidArgumentError("--limit-alphabet, --cased and --continuation-order are --model wordpiece options");
  }
  if (t.model == "unigram") return RunUnigramTrain(std::move(t));
  const bool grid_given = std::find(t.given.begin(), t.given.end(), "--score-grid-bits") != t.given.end();
  if (!t.spm_model.empty() || t.unigram.byte_fallback || t.unigram.split_digits || grid_given) {
    return absl::InvalidArgumentError(
        "--spm-model, --byte-fallback, --split-digits and --score-grid-bits are --model unigram options");
  }
  // A .gguf name is a GGUF vocabulary: never JSON under a GGUF name.
  if (absl::EndsWithIgnoreCase(t.output, ".gguf")) t.gguf = true;
  RETURN_IF_ERROR(RequireInputOrPipe(t.inputs));
  if (t.inputs.empty()) t.inputs = {"-"};
  if (t.model == "wordpiece") return RunTrainWordPiece(t);
  t.opts.style = t.style == "sentencepiece" ? BpeStyle::kSentencePiece : BpeStyle::kByteLevel;
  ASSIGN_OR_RETURN(BpeTrainReport r, TrainBpe(t.inputs, t.reader, t.opts, t.output, t.gguf));
  if (t.json) return WriteStdout(FormatTrainReport(r, t.output, true));
  if (!t.quiet) {
    std::string line = "llmtk-tok: " + FormatTrainReport(r, t.output, false);
    std::fputs(line.c_str(), stderr);
  }
  return absl::OkStatus();
}

}  // namespace llmtk
