// llmtk-tok train --model unigram: SentencePiece's Unigram trainer
// (lib/tokenizer/train/unigram_trainer.h), writing a .model and/or the
// tokenizer.json `llmtk-tok convert` makes from it.
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/common/cli.h"
#include "tools/tok/tok_tool.h"

namespace llmtk {

absl::Status RunUnigramTrain(TrainToolOptions t) {
  // Flags of the BPE trainer that mean nothing here are refused, not ignored.
  for (const char* flag : {"--min-frequency", "--special-tokens", "--pre-tokenizer", "--style", "--gguf"}) {
    for (const std::string& g : t.given) {
      if (g == flag) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, " is a BPE option; --model unigram has SentencePiece's <unk>, <s>, </s> as ids 0-2 and splits "
                  "words at spaces (see llmtk-tok train --help)"));
      }
    }
  }
  if (absl::EndsWithIgnoreCase(t.output, ".gguf")) {
    return absl::InvalidArgumentError("--model unigram writes a SentencePiece .model or a tokenizer.json, not a GGUF");
  }
  RETURN_IF_ERROR(RequireInputOrPipe(t.inputs));
  if (t.inputs.empty()) t.inputs = {"-"};
  UnigramTrainerOptions& u = t.unigram;
  u.vocab_size = t.opts.vocab_size;
  u.character_coverage = t.opts.character_coverage;
  if (t.opts.max_token_length > 0) u.max_piece_length = t.opts.max_token_length;
  u.max_words = t.opts.max_words;
  u.threads = t.opts.threads;
  u.show_progress = t.opts.show_progress;
  std::string json_out = t.output, spm_out = t.spm_model;
  if (absl::EndsWithIgnoreCase(t.output, ".model")) {
    if (!spm_out.empty()) {
      return absl::InvalidArgumentError("-o names a .model already; --spm-model is for -o tokenizer.json");
    }
    spm_out = t.output;
    json_out.clear();
  }
  UnigramTrainReport r;
  ASSIGN_OR_RETURN(SentencePieceModel model, TrainUnigram(t.inputs, t.reader, u, &r));
  RETURN_IF_ERROR(WriteUnigramOutputs(model, json_out, spm_out));
  if (t.json) return WriteStdout(FormatUnigramReport(r, t.output, true));
  if (!t.quiet) {
    std::string line = "llmtk-tok: " + FormatUnigramReport(r, t.output, false);
    std::fputs(line.c_str(), stderr);
  }
  return absl::OkStatus();
}

}  // namespace llmtk
