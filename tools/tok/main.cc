// llmtk-tok: tokenizers for data pipelines.
//   llmtk-tok train --vocab-size N -o tokenizer.json [inputs]
//
// The `tok` branch owns this file (encode, decode, inspect, stats); the train
// subcommand lives in the clearly separated block below so that it can be
// moved into tok's main unchanged.
#include <cstdio>
#include <string>
#include <vector>

#include "lib/bpe_trainer.h"
#include "lib/cli.h"

namespace {

// ---- train subcommand (branch `train`) -------------------------------------
struct TrainCommand {
  CLI::App* app = nullptr;
  llmtk::CommonOptions common;
  llmtk::DocumentReaderOptions reader;
  llmtk::BpeTrainerOptions opts;
  std::vector<std::string> inputs;
  std::string output;
  bool gguf = false;
  std::string style = "byte-level";
};

void AddTrainCommand(llmtk::Tool& tool, TrainCommand* t) {
  t->app = tool.app().add_subcommand(
      "train", "train a BPE tokenizer (HF tokenizer.json or GGUF vocabulary) on JSONL or text");
  CLI::App* s = t->app;
  s->add_option("inputs", t->inputs, "JSONL or text files, directories, or - (stdin)")
      ->default_val(std::vector<std::string>{"-"});
  s->add_option("-o,--output", t->output, "output tokenizer.json (or .gguf with --gguf)")
      ->required();
  s->add_option("--vocab-size", t->opts.vocab_size,
                "vocabulary size: special tokens + 256 bytes + merges")
      ->capture_default_str();
  s->add_option("--min-frequency", t->opts.min_frequency,
                "stop when the most frequent pair occurs fewer times")
      ->capture_default_str();
  s->add_option("--special-tokens", t->opts.special_tokens,
                "special tokens, ids 0.. in the order given (comma-separated or repeated)")
      ->delimiter(',');
  s->add_option("--max-token-length", t->opts.max_token_length,
                "longest token in bytes (0: unlimited)")
      ->capture_default_str();
  s->add_option("--max-words", t->opts.max_words,
                "keep at most this many distinct words, pruning the rarest (0: unlimited)")
      ->capture_default_str();
  s->add_option("--pre-tokenizer", t->opts.pre_tokenizer,
                "llama3, gpt2, qwen2, cjk (llama3 with Han/kana runs in 1-2 character words), "
                "or a regex")
      ->capture_default_str();
  s->add_option("--style", t->style,
                "byte-level (GPT-2/Llama 3) or sentencepiece (Llama 2: \u2581 and byte fallback)")
      ->check(CLI::IsMember({"byte-level", "sentencepiece"}))
      ->capture_default_str();
  s->add_option("--character-coverage", t->opts.character_coverage,
                "sentencepiece style: share of characters the alphabet covers; the rest use "
                "byte fallback")
      ->capture_default_str();
  s->add_flag("--gguf", t->gguf, "write a vocabulary-only GGUF (tokenizer.ggml.* keys)");
  tool.AddReaderFlags(&t->reader, s);
  tool.AddCommonFlags(&t->common, s);
}

absl::Status RunTrainCommand(TrainCommand& t) {
  t.opts.threads = t.common.Threads();
  t.opts.style = t.style == "sentencepiece" ? llmtk::BpeStyle::kSentencePiece
                                            : llmtk::BpeStyle::kByteLevel;
  t.opts.show_progress = t.common.ShowProgress();
  ASSIGN_OR_RETURN(llmtk::BpeTrainReport r,
                   llmtk::TrainBpe(t.inputs, t.reader, t.opts, t.output, t.gguf));
  if (t.common.json) {
    llmtk::JsonWriter j;
    j.BeginObject();
    j.Key("output").String(t.output);
    j.Key("documents").Uint(r.documents);
    j.Key("bytes").Uint(r.bytes);
    j.Key("word_occurrences").Uint(r.word_occurrences);
    j.Key("distinct_words").Uint(r.distinct_words);
    j.Key("pruned_words").Uint(r.pruned_words);
    j.Key("replaced_utf8_docs").Uint(r.replaced_utf8_docs);
    j.Key("invalid_utf8_words").Uint(r.invalid_utf8_words);
    j.Key("vocab_size").Int(r.vocab_size);
    j.Key("merges").Int(r.merges);
    j.Key("alphabet_size").Int(r.alphabet_size);
    j.Key("character_coverage").Double(r.character_coverage);
    j.Key("train_bytes_per_token").Double(r.train_bytes_per_token);
    j.Key("count_seconds").Double(r.count_seconds);
    j.Key("merge_seconds").Double(r.merge_seconds);
    j.EndObject();
    std::string s = j.Take() + "\n";
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0) {
      return llmtk::BrokenPipeError();
    }
  } else if (!t.common.quiet) {
    std::fprintf(stderr,
                 "llmtk-tok: trained %d tokens (%d merges) on %llu documents, %s, %llu distinct "
                 "words; %.2f bytes/token on the training words; %.1f s counting, %.1f s "
                 "merging\n",
                 r.vocab_size, r.merges, static_cast<unsigned long long>(r.documents),
                 llmtk::HumanBytes(static_cast<double>(r.bytes)).c_str(),
                 static_cast<unsigned long long>(r.distinct_words), r.train_bytes_per_token,
                 r.count_seconds, r.merge_seconds);
  }
  return absl::OkStatus();
}
// ---- end of train subcommand ------------------------------------------------

}  // namespace

int main(int argc, char** argv) {
  llmtk::Tool tool("tok", "Tokenizers for data pipelines: train BPE vocabularies.",
                   "llmtk-tok train --vocab-size 32000 -o tokenizer.json corpus.jsonl.zst");
  TrainCommand train;
  AddTrainCommand(tool, &train);
  tool.app().require_subcommand(1, 1);
  return tool.Run(argc, argv, [&]() -> absl::Status {
    if (train.app->parsed()) return RunTrainCommand(train);
    return absl::InvalidArgumentError("no subcommand given");
  });
}
