// llmtk-tok train --model wordpiece: the BPE options that mean something for
// HF's WordPieceTrainer passed on, the others refused rather than ignored.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/tokenizer/train/wordpiece_trainer.h"
#include "tools/common/cli.h"
#include "tools/tok/tok_tool.h"

namespace llmtk {

absl::Status RunTrainWordPiece(const TrainToolOptions& t) {
  if (t.gguf) {
    return absl::InvalidArgumentError(
        "--model wordpiece writes tokenizer.json only (--gguf / a .gguf output name: a GGUF bert vocabulary "
        "comes with a converted model)");
  }
  if (t.style != "byte-level") return absl::InvalidArgumentError("--style is a BPE option; not with --model wordpiece");
  if (t.opts.pre_tokenizer != "llama3") {
    return absl::InvalidArgumentError(
        "--pre-tokenizer is a BPE option: --model wordpiece splits as BERT's BertPreTokenizer");
  }
  if (t.opts.max_token_length != 0) {
    return absl::InvalidArgumentError("--max-token-length is a BPE option; not with --model wordpiece");
  }
  WordPieceTrainerOptions o;
  o.vocab_size = t.opts.vocab_size;
  o.min_frequency = t.opts.min_frequency;
  if (!t.opts.special_tokens.empty()) o.special_tokens = t.opts.special_tokens;
  o.limit_alphabet = t.limit_alphabet;
  o.lowercase = !t.cased;
  o.max_words = t.opts.max_words;
  o.threads = t.opts.threads;
  o.show_progress = t.opts.show_progress;
  if (!t.continuation_order.empty()) {
    ASSIGN_OR_RETURN(o.continuation_order, ReadContinuationOrder(t.continuation_order));
  }
  ASSIGN_OR_RETURN(BpeTrainReport r, TrainWordPiece(t.inputs, t.reader, o, t.output));
  if (t.json) return WriteStdout(FormatTrainReport(r, t.output, true));
  if (!t.quiet) {
    std::string line = "llmtk-tok: WordPiece " + FormatTrainReport(r, t.output, false);
    std::fputs(line.c_str(), stderr);
  }
  return absl::OkStatus();
}

}  // namespace llmtk
